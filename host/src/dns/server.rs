//! An authoritative DNS server for one [`Zone`] on 127.0.0.1, UDP and TCP on the same port,
//! with live-adjustable [`Faults`] (drops, delays, truncation, error codes) for tests and the
//! offline demo.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::DNSClass;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, timeout};

use super::zone::Zone;
use super::{lock, normalize};

/// UDP queries answered at once; more are dropped.
const MAX_UDP_IN_FLIGHT: usize = 1024;
/// TCP connections served at once; more are closed.
const MAX_TCP_CONNECTIONS: usize = 128;
/// A TCP connection idle this long is closed.
const TCP_IDLE: Duration = Duration::from_secs(10);
/// UDP payload the server advertises and never exceeds.
const MAX_UDP_PAYLOAD: u16 = 4096;
/// Pause after a failed accept or receive (e.g. out of file descriptors).
const ERROR_PAUSE: Duration = Duration::from_millis(50);
/// Ephemeral ports tried for a port free for both UDP and TCP.
const BIND_ATTEMPTS: usize = 16;

/// A fault for the names at and under one zone; it replaces the global faults for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneFault {
    /// Never reply (UDP or TCP).
    Drop,
    /// Reply SERVFAIL.
    ServFail,
    /// Reply REFUSED.
    Refused,
    /// Reply normally after this delay (instead of the global delay).
    Delay(Duration),
}

/// Faults applied by a [`ZoneServer`]; clones share state, so tests can change them while
/// the server runs.
#[derive(Clone, Default)]
pub struct Faults(Arc<FaultState>);

#[derive(Default)]
struct FaultState {
    delay_micros: AtomicU64,
    drop_first_udp: AtomicU32,
    drop_all_udp: AtomicBool,
    refuse_tcp: AtomicBool,
    servfail: AtomicBool,
    truncate_udp: AtomicBool,
    zones: Mutex<HashMap<String, ZoneFault>>,
}

/// What to do with one query.
enum Action {
    Drop,
    Answer,
    Truncate,
    Rcode(ResponseCode),
}

impl Faults {
    /// Delays every reply (UDP and TCP) by `delay`; replies are delayed concurrently.
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.0.delay_micros.store(micros, Ordering::Relaxed);
    }

    /// Drops the next `n` UDP queries.
    pub fn drop_first_udp(&self, n: u32) {
        self.0.drop_first_udp.store(n, Ordering::Relaxed);
    }

    /// Drops every UDP query while `on`.
    pub fn drop_all_udp(&self, on: bool) {
        self.0.drop_all_udp.store(on, Ordering::Relaxed);
    }

    /// Read once by [`ZoneServer::start`]: if set, the TCP port is reserved but not listening,
    /// so TCP connections are refused.
    pub fn refuse_tcp(&self, on: bool) {
        self.0.refuse_tcp.store(on, Ordering::Relaxed);
    }

    /// Answers SERVFAIL to everything while `on`.
    pub fn servfail(&self, on: bool) {
        self.0.servfail.store(on, Ordering::Relaxed);
    }

    /// Answers UDP queries with the TC bit and no records while `on`.
    pub fn truncate_udp(&self, on: bool) {
        self.0.truncate_udp.store(on, Ordering::Relaxed);
    }

    /// Sets (or with `None` clears) the fault for `zone` and the names under it.
    pub fn set_zone_fault(&self, zone: &str, fault: Option<ZoneFault>) {
        let mut zones = lock(&self.0.zones);
        match fault {
            Some(fault) => zones.insert(normalize(zone), fault),
            None => zones.remove(&normalize(zone)),
        };
    }

    /// The fault of the closest zone enclosing `name` (normalized).
    fn zone_fault(&self, name: &str) -> Option<ZoneFault> {
        let zones = lock(&self.0.zones);
        let mut suffix = name;
        loop {
            if let Some(fault) = zones.get(suffix) {
                return Some(*fault);
            }
            suffix = suffix.split_once('.')?.1;
        }
    }

    /// How long to wait and what to do for a query for `name`.
    fn plan(&self, name: &str, udp: bool) -> (Duration, Action) {
        let state = &self.0;
        let mut delay = Duration::from_micros(state.delay_micros.load(Ordering::Relaxed));
        match self.zone_fault(name) {
            Some(ZoneFault::Drop) => return (delay, Action::Drop),
            Some(ZoneFault::ServFail) => return (delay, Action::Rcode(ResponseCode::ServFail)),
            Some(ZoneFault::Refused) => return (delay, Action::Rcode(ResponseCode::Refused)),
            Some(ZoneFault::Delay(zone_delay)) => delay = zone_delay,
            None => {}
        }
        let drop_first = || {
            state
                .drop_first_udp
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
        };
        let action = if udp && (state.drop_all_udp.load(Ordering::Relaxed) || drop_first()) {
            Action::Drop
        } else if state.servfail.load(Ordering::Relaxed) {
            Action::Rcode(ResponseCode::ServFail)
        } else if udp && state.truncate_udp.load(Ordering::Relaxed) {
            Action::Truncate
        } else {
            Action::Answer
        };
        (delay, action)
    }
}

/// A running server; its tasks stop when it is dropped.
pub struct ZoneServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    /// With `refuse_tcp`: the bound, non-listening TCP socket that keeps the port refusing.
    _reserved_tcp: Option<TcpSocket>,
}

struct Shared {
    zone: Zone,
    faults: Faults,
    queries: AtomicU64,
}

impl ZoneServer {
    /// Binds UDP and TCP on one ephemeral port of 127.0.0.1 and starts serving.
    pub async fn start(zone: Zone, faults: Faults) -> io::Result<ZoneServer> {
        let refuse_tcp = faults.0.refuse_tcp.load(Ordering::Relaxed);
        let shared = Arc::new(Shared {
            zone,
            faults,
            queries: AtomicU64::new(0),
        });
        let mut last_error = None;
        for _ in 0..BIND_ATTEMPTS {
            let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let addr = udp.local_addr()?;
            let tcp = TcpSocket::new_v4()?;
            if let Err(error) = tcp.bind(addr) {
                last_error = Some(error);
                continue;
            }
            let (listener, reserved) = if refuse_tcp {
                (None, Some(tcp))
            } else {
                (Some(tcp.listen(1024)?), None)
            };
            let mut tasks = vec![tokio::spawn(serve_udp(Arc::new(udp), shared.clone()))];
            tasks.extend(listener.map(|l| tokio::spawn(serve_tcp(l, shared.clone()))));
            return Ok(ZoneServer {
                addr,
                shared,
                tasks,
                _reserved_tcp: reserved,
            });
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no port free for UDP and TCP")))
    }

    /// The address, the same port for UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queries received so far (UDP datagrams and TCP messages, dropped ones included).
    pub fn queries(&self) -> u64 {
        self.shared.queries.load(Ordering::Relaxed)
    }
}

impl Drop for ZoneServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Receives datagrams and answers each on its own task (so delays overlap).
async fn serve_udp(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut in_flight = JoinSet::new();
    let mut buffer = vec![0; 65_535];
    loop {
        tokio::select! {
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            received = socket.recv_from(&mut buffer) => {
                let Ok((len, peer)) = received else {
                    sleep(ERROR_PAUSE).await;
                    continue;
                };
                shared.queries.fetch_add(1, Ordering::Relaxed);
                if in_flight.len() >= MAX_UDP_IN_FLIGHT {
                    continue;
                }
                let (socket, shared) = (socket.clone(), shared.clone());
                let packet = buffer[..len].to_vec();
                in_flight.spawn(async move {
                    if let Some(reply) = shared.respond(&packet, true).await {
                        // A lost reply is what UDP allows; the client retries.
                        let _ = socket.send_to(&reply, peer).await;
                    }
                });
            }
        }
    }
}

/// Accepts connections and serves each on its own task.
async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    sleep(ERROR_PAUSE).await;
                    continue;
                };
                if connections.len() < MAX_TCP_CONNECTIONS {
                    connections.spawn(serve_connection(stream, shared.clone()));
                }
            }
        }
    }
}

/// Answers length-prefixed queries on one connection until it closes or idles.
async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    loop {
        let mut prefix = [0; 2];
        if !matches!(
            timeout(TCP_IDLE, stream.read_exact(&mut prefix)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let mut packet = vec![0; usize::from(u16::from_be_bytes(prefix))];
        if !matches!(
            timeout(TCP_IDLE, stream.read_exact(&mut packet)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        shared.queries.fetch_add(1, Ordering::Relaxed);
        let Some(reply) = shared.respond(&packet, false).await else {
            continue;
        };
        let Ok(len) = u16::try_from(reply.len()) else {
            continue;
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

impl Shared {
    /// The reply bytes for one query packet, or `None` to stay silent (unparsable packet,
    /// a reply rather than a query, or a drop fault).
    async fn respond(&self, packet: &[u8], udp: bool) -> Option<Vec<u8>> {
        let request = Message::from_vec(packet).ok()?;
        if request.message_type() != MessageType::Query {
            return None;
        }
        let name = request
            .query()
            .map(|q| normalize(&q.name().to_ascii()))
            .unwrap_or_default();
        let (delay, action) = self.faults.plan(&name, udp);
        if let Action::Drop = action {
            return None;
        }
        if !delay.is_zero() {
            sleep(delay).await;
        }
        let truncate = matches!(action, Action::Truncate);
        let response = self.response(&request, action);
        let encoded = response.to_vec().ok().or_else(|| {
            let error = Message::error_msg(request.id(), request.op_code(), ResponseCode::ServFail);
            error.to_vec().ok()
        })?;
        let limit = usize::from(request.max_payload().min(MAX_UDP_PAYLOAD));
        if udp && (truncate || encoded.len() > limit) {
            return response.truncate().to_vec().ok();
        }
        Some(encoded)
    }

    /// The response message for a parsed query.
    fn response(&self, request: &Message, action: Action) -> Message {
        let mut response = Message::new();
        response
            .set_id(request.id())
            .set_message_type(MessageType::Response)
            .set_op_code(request.op_code())
            .set_recursion_desired(request.recursion_desired())
            .add_queries(request.queries().iter().cloned());
        if request.extensions().is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(MAX_UDP_PAYLOAD);
            response.set_edns(edns);
        }
        let question = match request.queries() {
            _ if request.op_code() != OpCode::Query => {
                response.set_response_code(ResponseCode::NotImp);
                return response;
            }
            [question] => question,
            _ => {
                response.set_response_code(ResponseCode::FormErr);
                return response;
            }
        };
        if let Action::Rcode(code) = action {
            response.set_response_code(code);
        } else if question.query_class() != DNSClass::IN {
            response.set_response_code(ResponseCode::Refused);
        } else {
            let answer = self.zone.answer(question.name(), question.query_type());
            response
                .set_authoritative(true)
                .set_response_code(answer.rcode)
                .add_answers(answer.answers)
                .add_name_servers(answer.authority);
        }
        response
    }
}
