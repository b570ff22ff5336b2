//! What a component's store holds, and the host side of the imports: log, dns and smtp.

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::Limits;
use super::bindings::{dns, log, smtp, types};
use crate::dns as host_dns;
use crate::log::Level;
use crate::smtp::{CalloutResult, Callouts};

/// Most queries one `dns.resolve` batch may carry.
const MAX_BATCH: usize = 64;

/// The shared network services the host offers to connection checks.
#[derive(Clone)]
pub struct Services {
    /// The DNS resolver (cache and suspended zones shared by every check).
    pub dns: host_dns::Resolver,
    /// The SMTP callout client (its result cache outlives single messages).
    pub callouts: Callouts,
}

/// The data of one component instance's store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limits: StoreLimits,
    pub(super) stderr: MemoryOutputPipe,
    services: Services,
    max_lines: usize,
    max_line_len: usize,
    verbose: bool,
    /// Log lines emitted during the current call.
    pub(super) log: Vec<(Level, String)>,
    dropped_lines: usize,
    /// Addresses this check resolved (A/AAAA) during the current call: the only ones it may
    /// make a callout to.
    resolved: HashSet<IpAddr>,
    /// When the current call started, and how long it has waited on host I/O since.
    call_start: Instant,
    host_wait: Duration,
    /// Microseconds the current call spent yielded to the executor after epoch ticks: queued
    /// behind other tasks, not running.
    yield_wait: Arc<AtomicU64>,
    cpu_budget: Duration,
}

impl HostState {
    /// A store with no filesystem, sockets, environment or arguments: WASI is linked only
    /// because Rust guests import it; stderr is captured (bounded) for panic messages.
    pub(super) fn new(services: Services, limits: &Limits) -> Self {
        let stderr = MemoryOutputPipe::new(limits.max_stderr_bytes);
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .instances(8)
                .memories(4)
                .tables(8)
                .trap_on_grow_failure(true)
                .build(),
            stderr,
            services,
            max_lines: limits.max_log_lines,
            max_line_len: limits.max_line_len,
            verbose: limits.verbose,
            log: Vec::new(),
            dropped_lines: 0,
            resolved: HashSet::new(),
            call_start: Instant::now(),
            host_wait: Duration::ZERO,
            yield_wait: Arc::new(AtomicU64::new(0)),
            cpu_budget: limits.cpu,
        }
    }

    /// Resets the per-call state before a call into the component.
    pub(super) fn begin_call(&mut self) {
        self.log.clear();
        self.dropped_lines = 0;
        self.resolved.clear();
        self.call_start = Instant::now();
        self.host_wait = Duration::ZERO;
        self.yield_wait.store(0, Ordering::Relaxed);
    }

    /// Takes the call's log lines, noting any that were dropped at the bound.
    pub(super) fn take_log(&mut self) -> Vec<(Level, String)> {
        let mut lines = std::mem::take(&mut self.log);
        if self.dropped_lines > 0 {
            let note = format!(
                "ERROR: {} further log lines dropped at the bound",
                self.dropped_lines
            );
            lines.push((Level::Normal, note));
        }
        lines
    }

    /// True while the call has used no more than its CPU budget: time inside the component,
    /// not counting waits on host I/O (DNS, callouts) nor waits for a worker thread after
    /// yielding at an epoch tick.
    pub(super) fn within_cpu_budget(&self) -> bool {
        let yielded = Duration::from_micros(self.yield_wait.load(Ordering::Relaxed));
        let waited = self.host_wait + yielded;
        self.call_start.elapsed().saturating_sub(waited) <= self.cpu_budget
    }

    /// A yield to the executor that adds the time until the call is polled again to the
    /// call's `yield_wait`.
    pub(super) fn timed_yield(&self) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let yield_wait = self.yield_wait.clone();
        Box::pin(async move {
            let start = Instant::now();
            tokio::task::yield_now().await;
            let waited = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            yield_wait.fetch_add(waited, Ordering::Relaxed);
        })
    }

    async fn waiting<F: std::future::Future>(&mut self, fut: F) -> F::Output {
        let start = Instant::now();
        let out = fut.await;
        self.host_wait += start.elapsed();
        out
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

impl log::Host for HostState {
    async fn verbose_enabled(&mut self) -> wasmtime::Result<bool> {
        Ok(self.verbose)
    }

    async fn emit(&mut self, level: log::Level, line: String) -> wasmtime::Result<()> {
        if self.log.len() >= self.max_lines {
            self.dropped_lines += 1;
            return Ok(());
        }
        let mut line: String = line.chars().filter(|c| !c.is_control()).collect();
        if line.len() > self.max_line_len {
            let mut cut = self.max_line_len;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
        }
        let level = match level {
            log::Level::Normal => Level::Normal,
            log::Level::Verbose => Level::Verbose,
        };
        self.log.push((level, line));
        Ok(())
    }
}

impl dns::Host for HostState {
    async fn resolve(&mut self, queries: Vec<dns::Query>) -> wasmtime::Result<Vec<dns::Lookup>> {
        if queries.len() > MAX_BATCH {
            let err =
                dns::DnsError::BadReply(format!("more than {MAX_BATCH} queries in one batch"));
            let failed = dns::Lookup {
                answer: Err(err),
                retries: 0,
            };
            return Ok(vec![failed; queries.len()]);
        }
        let queries: Vec<host_dns::Query> = queries.into_iter().map(query_from_wit).collect();
        let resolver = self.services.dns.clone();
        let lookups = self.waiting(resolver.resolve_all(&queries)).await;
        let mut out = Vec::with_capacity(lookups.len());
        for lookup in lookups {
            if let Ok(records) = &lookup.answer {
                self.resolved.extend(records.iter().filter_map(|r| match r {
                    host_dns::RecordData::A(a) => Some(IpAddr::V4(*a)),
                    host_dns::RecordData::Aaaa(a) => Some(IpAddr::V6(*a)),
                    _ => None,
                }));
            }
            out.push(lookup_to_wit(lookup));
        }
        Ok(out)
    }

    async fn suspend(&mut self, zone: String, seconds: u32) -> wasmtime::Result<()> {
        self.services
            .dns
            .suspend(&zone, Duration::from_secs(u64::from(seconds)));
        Ok(())
    }
}

impl smtp::Host for HostState {
    async fn probe(&mut self, request: smtp::Callout) -> wasmtime::Result<smtp::CalloutResult> {
        let ip = ip_from_wit(&request.address);
        if !self.resolved.contains(&ip) {
            let why = format!("{ip} was not resolved by this check; callout refused");
            return Ok(smtp::CalloutResult::Refused(why));
        }
        let callouts = self.services.callouts.clone();
        let addr = SocketAddr::new(ip, request.port);
        let result = self
            .waiting(callouts.probe(crate::smtp::Request {
                addr,
                helo_name: &request.helo_name,
                recipient: &request.recipient,
                catch_all_probe: request.catch_all_probe,
            }))
            .await;
        Ok(callout_to_wit(result))
    }
}

/// The WIT address as a std address.
pub fn ip_from_wit(ip: &types::IpAddress) -> IpAddr {
    match *ip {
        types::IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
        types::IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
    }
}

/// A std address as the WIT address.
pub fn ip_to_wit(ip: IpAddr) -> types::IpAddress {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            types::IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.segments();
            types::IpAddress::Ipv6((a, b, c, d, e, f, g, h))
        }
    }
}

fn query_from_wit(q: dns::Query) -> host_dns::Query {
    host_dns::Query {
        name: q.name,
        record_type: match q.record_type {
            dns::RecordType::A => host_dns::RecordType::A,
            dns::RecordType::Aaaa => host_dns::RecordType::Aaaa,
            dns::RecordType::Mx => host_dns::RecordType::Mx,
            dns::RecordType::Txt => host_dns::RecordType::Txt,
            dns::RecordType::Ptr => host_dns::RecordType::Ptr,
        },
        server: q.server,
        transport: match q.transport {
            dns::Transport::Udp => host_dns::Transport::Udp,
            dns::Transport::Tcp => host_dns::Transport::Tcp,
        },
    }
}

fn lookup_to_wit(lookup: host_dns::Lookup) -> dns::Lookup {
    let answer = match lookup.answer {
        Ok(records) => Ok(records
            .into_iter()
            .map(|r| match r {
                host_dns::RecordData::A(a) => dns::RecordData::A(ip_to_wit(a.into())),
                host_dns::RecordData::Aaaa(a) => dns::RecordData::Aaaa(ip_to_wit(a.into())),
                host_dns::RecordData::Mx {
                    preference,
                    exchange,
                } => dns::RecordData::Mx(dns::MxRecord {
                    preference,
                    exchange,
                }),
                host_dns::RecordData::Txt(t) => dns::RecordData::Txt(t),
                host_dns::RecordData::Ptr(p) => dns::RecordData::Ptr(p),
            })
            .collect()),
        Err(e) => Err(match e {
            host_dns::DnsError::NxDomain => dns::DnsError::Nxdomain,
            host_dns::DnsError::NoData => dns::DnsError::Nodata,
            host_dns::DnsError::Timeout => dns::DnsError::Timeout,
            host_dns::DnsError::ConnectionFailed(m) => dns::DnsError::ConnectionFailed(m),
            host_dns::DnsError::ServerFailure(m) => dns::DnsError::ServerFailure(m),
            host_dns::DnsError::BadReply(m) => dns::DnsError::BadReply(m),
            host_dns::DnsError::Suspended => dns::DnsError::Suspended,
        }),
    };
    dns::Lookup {
        answer,
        retries: lookup.retries,
    }
}

fn callout_to_wit(result: CalloutResult) -> smtp::CalloutResult {
    let reply = |r: crate::smtp::Reply| smtp::Reply {
        code: r.code,
        text: r.text,
    };
    match result {
        CalloutResult::ConnectFailed(m) => smtp::CalloutResult::ConnectFailed(m),
        CalloutResult::GreetingRejected(r) => smtp::CalloutResult::GreetingRejected(reply(r)),
        CalloutResult::HeloRejected(r) => smtp::CalloutResult::HeloRejected(reply(r)),
        CalloutResult::MailRejected(r) => smtp::CalloutResult::MailRejected(reply(r)),
        CalloutResult::Rcpt(r) => smtp::CalloutResult::Rcpt(reply(r)),
        CalloutResult::AcceptsAny(r) => smtp::CalloutResult::AcceptsAny(reply(r)),
        CalloutResult::DialogueFailed(m) => smtp::CalloutResult::DialogueFailed(m),
        CalloutResult::Refused(m) => smtp::CalloutResult::Refused(m),
    }
}
