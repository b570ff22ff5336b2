//! One exchange with one server: UDP with re-sends and TCP fallback on truncation, or TCP.
//! Replies are checked against the question (ID, name, type, class) and turned into records.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType as WireType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout, timeout_at};

use super::cache::cache_ttl;
use super::{DnsError, RecordData, RecordType, ResolverConfig};

/// CNAME hops followed inside one answer section.
const MAX_CNAME_HOPS: usize = 8;

/// Where a query goes when it names its own server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ServerSpec {
    /// An address (port 53 unless given).
    Addr(SocketAddr),
    /// A host name (lower case) to resolve first, and the port.
    Host(String, u16),
}

impl ServerSpec {
    /// Parses `"192.0.2.1"`, `"192.0.2.1:5353"`, `"::1"`, `"[::1]:53"`, `"ns.example"` or
    /// `"ns.example:5353"`.
    pub(crate) fn parse(text: &str) -> Result<Self, DnsError> {
        let text = text.trim();
        let invalid = || DnsError::ConnectionFailed(format!("invalid DNS server {text:?}"));
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(Self::Addr(addr));
        }
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Self::Addr(SocketAddr::new(ip, 53)));
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| invalid())?),
            None => (text, 53),
        };
        let host = host.trim_end_matches('.');
        let valid = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if !valid {
            return Err(invalid());
        }
        Ok(Self::Host(host.to_ascii_lowercase(), port))
    }
}

/// A question ready to be sent.
pub(crate) struct Question {
    name: Name,
    record_type: WireType,
}

impl Question {
    /// Checks that `name` is a valid DNS name.
    pub(crate) fn new(name: &str, record_type: RecordType) -> Result<Self, DnsError> {
        let mut parsed = Name::from_ascii(name)
            .map_err(|e| DnsError::BadReply(format!("invalid query name {name:?}: {e}")))?;
        parsed.set_fqdn(true);
        let record_type = match record_type {
            RecordType::A => WireType::A,
            RecordType::Aaaa => WireType::AAAA,
            RecordType::Mx => WireType::MX,
            RecordType::Txt => WireType::TXT,
            RecordType::Ptr => WireType::PTR,
        };
        Ok(Self {
            name: parsed,
            record_type,
        })
    }

    /// The query message with this ID, recursion desired, advertising `payload` bytes (EDNS).
    fn encode(&self, id: u16, payload: usize) -> Result<Vec<u8>, DnsError> {
        let mut edns = Edns::new();
        edns.set_max_payload(payload.clamp(512, 4096) as u16);
        let mut message = Message::new();
        message
            .set_id(id)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(self.name.clone(), self.record_type))
            .set_edns(edns);
        message
            .to_vec()
            .map_err(|e| DnsError::BadReply(format!("cannot encode query: {e}")))
    }
}

/// The result of one exchange.
pub(crate) struct Outcome {
    /// The records, or why there are none.
    pub(crate) answer: Result<Vec<RecordData>, DnsError>,
    /// UDP re-sends after timeouts.
    pub(crate) retries: u32,
    /// How long the answer may be cached; `None` if it must not be.
    pub(crate) ttl: Option<Duration>,
}

impl Outcome {
    /// A failure that is never cached.
    pub(crate) fn failed(error: DnsError) -> Self {
        Self {
            answer: Err(error),
            retries: 0,
            ttl: None,
        }
    }
}

/// How a received reply relates to the query.
enum Check {
    /// It answers the query.
    Accept(Message),
    /// It is not a reply to this query (wrong ID, question or direction).
    Mismatch(String),
    /// It is the reply, but unusable.
    Reject(DnsError),
}

/// What one UDP attempt produced.
enum Attempt {
    Reply(Message),
    TimedOut,
    Failed(DnsError),
}

/// One server and the resolver's settings and counter.
pub(crate) struct Exchange<'a> {
    pub(crate) config: &'a ResolverConfig,
    pub(crate) sent: &'a AtomicU64,
    pub(crate) server: SocketAddr,
}

impl Exchange<'_> {
    /// UDP with up to `config.retries` re-sends after timeouts; a truncated reply is retried
    /// over TCP.
    pub(crate) async fn udp(&self, question: &Question) -> Outcome {
        let mut retries = 0;
        loop {
            let outcome = match self.udp_attempt(question).await {
                Attempt::Reply(reply) if reply.truncated() => self.tcp(question).await,
                Attempt::Reply(reply) => interpret(question, &reply),
                Attempt::Failed(error) => Outcome::failed(error),
                Attempt::TimedOut if retries < self.config.retries => {
                    retries += 1;
                    continue;
                }
                Attempt::TimedOut => Outcome::failed(DnsError::Timeout),
            };
            return Outcome { retries, ..outcome };
        }
    }

    /// One TCP exchange, connect included, bounded by `config.tcp_timeout`.
    pub(crate) async fn tcp(&self, question: &Question) -> Outcome {
        match timeout(self.config.tcp_timeout, self.tcp_exchange(question)).await {
            Ok(Ok(reply)) => interpret(question, &reply),
            Ok(Err(error)) => Outcome::failed(error),
            Err(_) => Outcome::failed(DnsError::Timeout),
        }
    }

    /// Sends the query from a fresh socket on a random port and waits `config.timeout` for a
    /// matching reply, ignoring datagrams that do not match.
    async fn udp_attempt(&self, question: &Question) -> Attempt {
        let local: IpAddr = match self.server {
            SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let failed = |e: std::io::Error| {
            Attempt::Failed(DnsError::ConnectionFailed(format!("{}: {e}", self.server)))
        };
        let socket = match UdpSocket::bind((local, 0)).await {
            Ok(socket) => socket,
            Err(e) => return failed(e),
        };
        // Connecting filters datagrams from other addresses and reports ICMP errors.
        if let Err(e) = socket.connect(self.server).await {
            return failed(e);
        }
        let id: u16 = rand::random();
        let packet = match question.encode(id, self.config.max_reply_bytes) {
            Ok(packet) => packet,
            Err(error) => return Attempt::Failed(error),
        };
        if let Err(e) = socket.send(&packet).await {
            return failed(e);
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.config.timeout;
        // One byte more than allowed, so that an oversized datagram shows as such.
        let mut buffer = vec![0; self.config.max_reply_bytes.min(65_535) + 1];
        loop {
            let len = match timeout_at(deadline, socket.recv(&mut buffer)).await {
                Err(_) => return Attempt::TimedOut,
                Ok(Err(e)) => return failed(e),
                Ok(Ok(len)) => len,
            };
            match check(&buffer[..len], id, question, self.config.max_reply_bytes) {
                Check::Accept(reply) => return Attempt::Reply(reply),
                Check::Mismatch(_) => continue,
                Check::Reject(error) => return Attempt::Failed(error),
            }
        }
    }

    /// Connects, sends the length-prefixed query and reads the length-prefixed reply.
    async fn tcp_exchange(&self, question: &Question) -> Result<Message, DnsError> {
        let failed =
            |e: std::io::Error| DnsError::ConnectionFailed(format!("{}: {e}", self.server));
        let mut stream = TcpStream::connect(self.server).await.map_err(failed)?;
        let id: u16 = rand::random();
        let packet = question.encode(id, self.config.max_reply_bytes)?;
        let mut framed = Vec::with_capacity(packet.len() + 2);
        framed.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        framed.extend_from_slice(&packet);
        stream.write_all(&framed).await.map_err(failed)?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut prefix = [0; 2];
        stream.read_exact(&mut prefix).await.map_err(failed)?;
        // The 2-byte length bounds a TCP reply to 65535 bytes.
        let mut reply = vec![0; usize::from(u16::from_be_bytes(prefix))];
        stream.read_exact(&mut reply).await.map_err(failed)?;
        match check(&reply, id, question, usize::from(u16::MAX)) {
            Check::Accept(reply) => Ok(reply),
            Check::Mismatch(reason) => Err(DnsError::BadReply(reason)),
            Check::Reject(error) => Err(error),
        }
    }
}

/// Decides whether `bytes` is the reply to query `id` for `question`.
fn check(bytes: &[u8], id: u16, question: &Question, max: usize) -> Check {
    let Some(reply_id) = bytes.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
        return Check::Mismatch("reply shorter than a header".to_string());
    };
    if reply_id != id {
        return Check::Mismatch(format!("reply ID {reply_id} is not query ID {id}"));
    }
    if bytes.len() > max {
        return Check::Reject(DnsError::BadReply(format!("reply larger than {max} bytes")));
    }
    let reply = match Message::from_vec(bytes) {
        Ok(reply) => reply,
        Err(e) => return Check::Reject(DnsError::BadReply(format!("malformed reply: {e}"))),
    };
    if reply.message_type() != MessageType::Response {
        return Check::Mismatch("message is a query, not a reply".to_string());
    }
    let matches = match reply.queries() {
        [asked] => {
            asked.name() == &question.name
                && asked.query_type() == question.record_type
                && asked.query_class() == DNSClass::IN
        }
        _ => false,
    };
    if !matches {
        return Check::Mismatch("reply is for another question".to_string());
    }
    Check::Accept(reply)
}

/// Turns a reply into records or an error, following CNAMEs from the question name.
fn interpret(question: &Question, reply: &Message) -> Outcome {
    match reply.response_code() {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return negative(DnsError::NxDomain, reply),
        code => return Outcome::failed(DnsError::ServerFailure(rcode_name(code))),
    }
    let mut target = &question.name;
    let mut ttl = u32::MAX;
    for _ in 0..MAX_CNAME_HOPS {
        let cname = reply
            .answers()
            .iter()
            .find_map(|record| match record.data() {
                RData::CNAME(cname) if record.name() == target => Some((record.ttl(), &cname.0)),
                _ => None,
            });
        let Some((cname_ttl, next)) = cname else {
            break;
        };
        ttl = ttl.min(cname_ttl);
        target = next;
    }
    let mut records = Vec::new();
    for record in reply.answers() {
        if record.name() != target || record.dns_class() != DNSClass::IN {
            continue;
        }
        if let Some(data) = convert(record.data(), question.record_type) {
            ttl = ttl.min(record.ttl());
            records.push(data);
        }
    }
    if records.is_empty() {
        return negative(DnsError::NoData, reply);
    }
    Outcome {
        answer: Ok(records),
        retries: 0,
        ttl: cache_ttl(ttl),
    }
}

/// A negative answer, cacheable for min(SOA TTL, SOA MINIMUM) if the authority has an SOA.
fn negative(error: DnsError, reply: &Message) -> Outcome {
    let ttl = reply
        .name_servers()
        .iter()
        .find_map(|record| match record.data() {
            RData::SOA(soa) => Some(record.ttl().min(soa.minimum())),
            _ => None,
        })
        .and_then(cache_ttl);
    Outcome {
        answer: Err(error),
        retries: 0,
        ttl,
    }
}

/// The record, if it is of the wanted type.
fn convert(data: &RData, wanted: WireType) -> Option<RecordData> {
    let record = match data {
        RData::A(a) => RecordData::A(a.0),
        RData::AAAA(aaaa) => RecordData::Aaaa(aaaa.0),
        RData::MX(mx) => RecordData::Mx {
            preference: mx.preference(),
            exchange: display_name(mx.exchange()),
        },
        RData::TXT(txt) => RecordData::Txt(
            txt.txt_data()
                .iter()
                .map(|part| String::from_utf8_lossy(part))
                .collect(),
        ),
        RData::PTR(ptr) => RecordData::Ptr(display_name(&ptr.0)),
        _ => return None,
    };
    (data.record_type() == wanted).then_some(record)
}

/// A name without its trailing dot; the root stays `"."`.
fn display_name(name: &Name) -> String {
    let text = name.to_ascii();
    match text.trim_end_matches('.') {
        "" => ".".to_string(),
        trimmed => trimmed.to_string(),
    }
}

/// The conventional mnemonic of an error response code.
fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::FormErr => "FORMERR".to_string(),
        ResponseCode::ServFail => "SERVFAIL".to_string(),
        ResponseCode::NotImp => "NOTIMP".to_string(),
        ResponseCode::Refused => "REFUSED".to_string(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_specs() {
        let addr = |s: &str| ServerSpec::Addr(s.parse().unwrap());
        assert_eq!(ServerSpec::parse("192.0.2.1"), Ok(addr("192.0.2.1:53")));
        assert_eq!(
            ServerSpec::parse("127.0.0.1:5353"),
            Ok(addr("127.0.0.1:5353"))
        );
        assert_eq!(ServerSpec::parse("[::1]:53"), Ok(addr("[::1]:53")));
        assert_eq!(ServerSpec::parse("::1"), Ok(addr("[::1]:53")));
        assert_eq!(ServerSpec::parse("[::1]"), Ok(addr("[::1]:53")));
        assert_eq!(
            ServerSpec::parse("NS1.Example.:5353"),
            Ok(ServerSpec::Host("ns1.example".to_string(), 5353))
        );
        assert_eq!(
            ServerSpec::parse("ns1.example"),
            Ok(ServerSpec::Host("ns1.example".to_string(), 53))
        );
        for bad in ["", "ns1.example:port", "a b", "1.2.3.4:99999", ":53"] {
            assert!(
                matches!(ServerSpec::parse(bad), Err(DnsError::ConnectionFailed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn invalid_query_names_are_rejected_before_sending() {
        let long_label = "a".repeat(64);
        assert!(matches!(
            Question::new(&format!("{long_label}.example"), RecordType::A),
            Err(DnsError::BadReply(_))
        ));
        assert!(Question::new("a..example", RecordType::A).is_err());
    }

    /// A reply to `example.test A`: a CNAME to `x.example.test`, its address and a TXT record.
    fn valid_reply() -> Vec<u8> {
        use hickory_proto::rr::Record;
        use hickory_proto::rr::rdata::{A, CNAME, TXT};
        let name = Name::from_ascii("example.test.").unwrap();
        let target = Name::from_ascii("x.example.test.").unwrap();
        let mut reply = Message::new();
        reply.set_id(7).set_message_type(MessageType::Response);
        reply.add_query(Query::query(name.clone(), WireType::A));
        reply.add_answer(Record::from_rdata(
            name,
            60,
            RData::CNAME(CNAME(target.clone())),
        ));
        reply.add_answer(Record::from_rdata(
            target.clone(),
            60,
            RData::A(A::new(127, 0, 0, 2)),
        ));
        reply.add_answer(Record::from_rdata(
            target,
            60,
            RData::TXT(TXT::new(vec!["listed".into()])),
        ));
        reply.to_vec().unwrap()
    }

    #[test]
    fn a_valid_reply_is_accepted() {
        let question = Question::new("example.test", RecordType::A).unwrap();
        let Check::Accept(reply) = check(&valid_reply(), 7, &question, 4096) else {
            panic!("the valid reply was refused")
        };
        let outcome = interpret(&question, &reply);
        assert_eq!(
            outcome.answer,
            Ok(vec![RecordData::A(Ipv4Addr::new(127, 0, 0, 2))])
        );
        assert_eq!(outcome.ttl, Some(Duration::from_secs(60)));
    }

    proptest::proptest! {
        /// Reply bytes made up, or a valid reply with bytes overwritten (the ID kept): each is
        /// accepted and interpreted, or refused, and nothing panics.
        #[test]
        fn garbage_never_panics(
            made_up in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            edits in proptest::collection::vec(
                proptest::prelude::any::<(proptest::sample::Index, u8)>(), 1..6),
            mutate_valid in proptest::prelude::any::<bool>(),
        ) {
            let question = Question::new("example.test", RecordType::A).unwrap();
            let mut bytes = if mutate_valid { valid_reply() } else { made_up };
            if bytes.len() > 2 {
                for (at, byte) in edits {
                    let at = 2 + at.index(bytes.len() - 2);
                    bytes[at] = byte;
                }
            }
            if bytes.len() >= 2 {
                bytes[..2].copy_from_slice(&7u16.to_be_bytes());
            }
            if let Check::Accept(reply) = check(&bytes, 7, &question, 4096) {
                let _ = interpret(&question, &reply);
            }
        }
    }

    #[test]
    fn rcode_names() {
        assert_eq!(rcode_name(ResponseCode::ServFail), "SERVFAIL");
        assert_eq!(rcode_name(ResponseCode::Refused), "REFUSED");
        assert_eq!(rcode_name(ResponseCode::NotAuth), "RCODE9");
    }
}
