//! DNS for the host: a caching stub resolver that asks real servers over UDP or TCP on the
//! checks' behalf, and a small authoritative server (with fault injection) for tests and the
//! offline demo.
//!
//! * [`Resolver`] answers [`Query`]s: it checks zone suspensions, then its cache, then asks the
//!   query's server (or the configured default servers in order) and caches positive and
//!   negative answers by their TTL. A lookup that finds the same question already on the
//!   wire (from another session, say) waits for that answer instead of sending it again.
//! * [`ZoneServer`] serves a [`Zone`] parsed from an RFC 1035 master file over UDP and TCP on
//!   one port, with [`Faults`] to drop, delay, truncate or fail replies.

mod cache;
mod client;
mod server;
mod zone;

pub use server::{Faults, ZoneFault, ZoneServer};
pub use zone::Zone;

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use cache::{Cache, CacheKey};
use client::{Outcome, Question, ServerSpec};

/// Record types a check may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Mail exchanger.
    Mx,
    /// Text.
    Txt,
    /// Domain name pointer (reverse lookups).
    Ptr,
}

/// How a query travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP, re-sent after each timeout; a truncated reply is retried over TCP.
    Udp,
    /// TCP, one attempt bounded by the TCP timeout.
    Tcp,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    /// The name to look up, without a trailing dot.
    pub name: String,
    /// The record type wanted.
    pub record_type: RecordType,
    /// `None` asks the default servers; otherwise `"192.0.2.1"` (port 53), `"127.0.0.1:5353"`,
    /// `"[::1]:53"`, or a host name (optionally with `:port`) that is first resolved to its
    /// A records through the default servers.
    pub server: Option<String>,
    /// UDP (with retries) or TCP.
    pub transport: Transport,
}

/// One answer record of the type asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RecordData {
    /// An A record.
    A(Ipv4Addr),
    /// An AAAA record.
    Aaaa(Ipv6Addr),
    /// A mail exchanger; `exchange` has no trailing dot and is `"."` for a null MX.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The exchange host.
        exchange: String,
    },
    /// A TXT record, its strings joined.
    Txt(String),
    /// A PTR record, without a trailing dot.
    Ptr(String),
}

/// Why a lookup produced no records.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The name does not exist.
    #[error("NXDOMAIN")]
    NxDomain,
    /// The name exists but has no record of the type asked for.
    #[error("no data")]
    NoData,
    /// No answer arrived in time.
    #[error("timeout")]
    Timeout,
    /// The server could not be reached.
    #[error("connection failed: {0}")]
    ConnectionFailed(String),
    /// The server answered SERVFAIL, REFUSED or another error code (named in the string).
    #[error("server failure: {0}")]
    ServerFailure(String),
    /// The reply was malformed or oversized, or the query name was not a valid DNS name.
    #[error("bad reply: {0}")]
    BadReply(String),
    /// The zone is suspended; no query was sent.
    #[error("zone suspended")]
    Suspended,
}

/// The outcome of one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The records, or why there are none.
    pub answer: Result<Vec<RecordData>, DnsError>,
    /// How many times the UDP query was re-sent after a timeout (0 for cached answers).
    pub retries: u32,
}

/// Resolver settings.
#[derive(Clone, Debug)]
pub struct ResolverConfig {
    /// Default servers, tried in order (the next one on timeout or failure).
    pub servers: Vec<SocketAddr>,
    /// Wait for each UDP attempt.
    pub timeout: Duration,
    /// UDP re-sends after a timeout.
    pub retries: u32,
    /// Bound on a TCP exchange, connect included.
    pub tcp_timeout: Duration,
    /// Largest UDP reply accepted (also the EDNS payload size advertised, within 512..=4096);
    /// a bigger datagram is rejected as `BadReply`. TCP replies may use all 65535 bytes
    /// their length prefix allows.
    pub max_reply_bytes: usize,
    /// Most answers kept in the cache (0 disables caching).
    pub cache_entries: usize,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            timeout: Duration::from_secs(2),
            retries: 2,
            tcp_timeout: Duration::from_secs(5),
            max_reply_bytes: 4096,
            cache_entries: 10_000,
        }
    }
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResolverStats {
    /// Query packets sent (UDP datagrams and TCP queries).
    pub queries_sent: u64,
    /// Lookups answered from the cache.
    pub cache_hits: u64,
    /// Lookups that waited for the answer to an identical query already in flight.
    pub joined: u64,
}

/// A caching stub resolver; cheap to clone (clones share cache, suspensions and counters).
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

struct Inner {
    config: ResolverConfig,
    cache: Mutex<Cache>,
    suspended: Mutex<HashMap<String, Instant>>,
    /// Questions on the wire, with the channel their answer will be published on.
    in_flight: Mutex<HashMap<Flight, watch::Sender<Option<Lookup>>>>,
    queries_sent: AtomicU64,
    cache_hits: AtomicU64,
    joined: AtomicU64,
}

/// What makes two lookups the same question on the wire.
type Flight = (CacheKey, Transport);

/// Suspensions longer than this are shortened to it (keeps `Instant` arithmetic in range).
const MAX_SUSPENSION: Duration = Duration::from_secs(10 * 365 * 86_400);

impl Resolver {
    /// A resolver with an empty cache.
    pub fn new(config: ResolverConfig) -> Resolver {
        let cache = Mutex::new(Cache::new(config.cache_entries));
        Resolver {
            inner: Arc::new(Inner {
                config,
                cache,
                suspended: Mutex::new(HashMap::new()),
                in_flight: Mutex::new(HashMap::new()),
                queries_sent: AtomicU64::new(0),
                cache_hits: AtomicU64::new(0),
                joined: AtomicU64::new(0),
            }),
        }
    }

    /// Answers one query: suspension check, cache, then the network.
    pub async fn resolve(&self, query: &Query) -> Lookup {
        self.resolve_boxed(query).await
    }

    /// Answers all queries concurrently, in order; identical queries are sent once.
    pub async fn resolve_all(&self, queries: &[Query]) -> Vec<Lookup> {
        let mut unique: Vec<&Query> = Vec::new();
        let mut seen: HashMap<(String, RecordType, Option<&str>, Transport), usize> =
            HashMap::new();
        let slots: Vec<usize> = queries
            .iter()
            .map(|query| {
                let key = (
                    normalize(&query.name),
                    query.record_type,
                    query.server.as_deref(),
                    query.transport,
                );
                *seen.entry(key).or_insert_with(|| {
                    unique.push(query);
                    unique.len() - 1
                })
            })
            .collect();
        let lookups = futures::future::join_all(unique.iter().map(|q| self.resolve(q))).await;
        slots
            .into_iter()
            .map(|slot| lookups[slot].clone())
            .collect()
    }

    /// Makes queries for `zone` and every name under it fail with `Suspended`, without
    /// network traffic, for `for_`.
    pub fn suspend(&self, zone: &str, for_: Duration) {
        let now = Instant::now();
        let mut suspended = lock(&self.inner.suspended);
        suspended.retain(|_, until| *until > now);
        suspended.insert(normalize(zone), now + for_.min(MAX_SUSPENSION));
    }

    /// Current counters.
    pub fn stats(&self) -> ResolverStats {
        ResolverStats {
            queries_sent: self.inner.queries_sent.load(Ordering::Relaxed),
            cache_hits: self.inner.cache_hits.load(Ordering::Relaxed),
            joined: self.inner.joined.load(Ordering::Relaxed),
        }
    }

    /// `resolve` behind a box: resolving a server's host name recurses into it.
    fn resolve_boxed<'a>(
        &'a self,
        query: &'a Query,
    ) -> Pin<Box<dyn Future<Output = Lookup> + Send + 'a>> {
        Box::pin(async move {
            let name = normalize(&query.name);
            if self.is_suspended(&name) {
                return failed(DnsError::Suspended);
            }
            let server = match query.server.as_deref().map(ServerSpec::parse).transpose() {
                Ok(server) => server,
                Err(error) => return failed(error),
            };
            let flight = (
                CacheKey::new(name, query.record_type, server.clone()),
                query.transport,
            );
            loop {
                if let Some(answer) = lock(&self.inner.cache).get(&flight.0, Instant::now()) {
                    self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return Lookup { answer, retries: 0 };
                }
                let mut answer = {
                    let mut in_flight = lock(&self.inner.in_flight);
                    match in_flight.get(&flight) {
                        Some(sender) => sender.subscribe(),
                        None => {
                            in_flight.insert(flight.clone(), watch::channel(None).0);
                            break;
                        }
                    }
                };
                self.inner.joined.fetch_add(1, Ordering::Relaxed);
                if let Ok(lookup) = answer.wait_for(Option::is_some).await
                    && let Some(lookup) = lookup.clone()
                {
                    return lookup;
                }
                // The lookup we waited for was abandoned: look again (and maybe send it).
            }
            let key = flight.0.clone();
            let guard = FlightGuard {
                in_flight: &self.inner.in_flight,
                flight: Some(flight),
            };
            let lookup = self.ask(query, server, key).await;
            guard.publish(&lookup);
            lookup
        })
    }

    /// Sends `query` (its server parsed as `server`) to the network and caches the answer
    /// under `key`.
    async fn ask(&self, query: &Query, server: Option<ServerSpec>, key: CacheKey) -> Lookup {
        let question = match Question::new(&query.name, query.record_type) {
            Ok(question) => question,
            Err(error) => return failed(error),
        };
        let servers = match server {
            None => self.inner.config.servers.clone(),
            Some(ServerSpec::Addr(addr)) => vec![addr],
            Some(ServerSpec::Host(host, port)) => match self.server_addresses(&host, port).await {
                Ok(servers) => servers,
                Err(error) => return failed(error),
            },
        };
        let outcome = self.exchange(&question, &servers, query.transport).await;
        if let Some(ttl) = outcome.ttl {
            let now = Instant::now();
            lock(&self.inner.cache).insert(key, outcome.answer.clone(), now + ttl, now);
        }
        Lookup {
            answer: outcome.answer,
            retries: outcome.retries,
        }
    }

    /// Whether `name` (normalized) is a suspended zone or under one.
    fn is_suspended(&self, name: &str) -> bool {
        let suspended = lock(&self.inner.suspended);
        if suspended.is_empty() {
            return false;
        }
        let now = Instant::now();
        let mut suffix = name;
        loop {
            if suspended.get(suffix).is_some_and(|until| *until > now) {
                return true;
            }
            match suffix.split_once('.') {
                Some((_, parent)) => suffix = parent,
                None => return false,
            }
        }
    }

    /// The addresses of a DNS server given by host name, via the default servers.
    async fn server_addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, DnsError> {
        let query = Query {
            name: host.to_string(),
            record_type: RecordType::A,
            server: None,
            transport: Transport::Udp,
        };
        let records = self.resolve_boxed(&query).await.answer.map_err(|error| {
            DnsError::ConnectionFailed(format!("cannot resolve DNS server {host}: {error}"))
        })?;
        Ok(records
            .into_iter()
            .filter_map(|record| match record {
                RecordData::A(ip) => Some(SocketAddr::from((ip, port))),
                _ => None,
            })
            .collect())
    }

    /// Asks the servers in order until one gives a definite answer.
    async fn exchange(
        &self,
        question: &Question,
        servers: &[SocketAddr],
        transport: Transport,
    ) -> Outcome {
        let mut retries = 0;
        let mut last = Outcome::failed(DnsError::ConnectionFailed(
            "no DNS server configured".to_string(),
        ));
        for &server in servers {
            let exchange = client::Exchange {
                config: &self.inner.config,
                sent: &self.inner.queries_sent,
                server,
            };
            let outcome = match transport {
                Transport::Udp => exchange.udp(question).await,
                Transport::Tcp => exchange.tcp(question).await,
            };
            retries += outcome.retries;
            let definite = matches!(
                outcome.answer,
                Ok(_) | Err(DnsError::NxDomain | DnsError::NoData)
            );
            last = outcome;
            if definite {
                break;
            }
        }
        Outcome { retries, ..last }
    }
}

/// The lookup that put a question on the wire: it publishes the answer to the lookups
/// waiting for it, or, dropped before it has one, withdraws the question so that they ask
/// again.
struct FlightGuard<'a> {
    in_flight: &'a Mutex<HashMap<Flight, watch::Sender<Option<Lookup>>>>,
    flight: Option<Flight>,
}

impl FlightGuard<'_> {
    /// Hands `lookup` to every lookup waiting for it.
    fn publish(mut self, lookup: &Lookup) {
        if let Some(sender) = self.withdraw() {
            sender.send_replace(Some(lookup.clone()));
        }
    }

    /// Removes the question from the in-flight table, returning its channel.
    fn withdraw(&mut self) -> Option<watch::Sender<Option<Lookup>>> {
        let flight = self.flight.take()?;
        lock(self.in_flight).remove(&flight)
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        // Dropping the sender wakes the waiting lookups with an error: they ask again.
        self.withdraw();
    }
}

/// A lookup that failed before any packet was sent.
fn failed(error: DnsError) -> Lookup {
    Lookup {
        answer: Err(error),
        retries: 0,
    }
}

/// Lower case, without a trailing dot.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Locks a mutex, ignoring poisoning (the guarded maps stay consistent at every step).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
