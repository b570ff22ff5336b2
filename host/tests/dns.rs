//! The resolver against the zone server (and a few raw UDP responders) on 127.0.0.1.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use antispam_host::dns::{
    DnsError, Faults, Lookup, Query, RecordData, RecordType, Resolver, ResolverConfig, Transport,
    Zone, ZoneFault, ZoneServer,
};
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record};
use tokio::net::UdpSocket;

const ZONE: &str = r#"
$TTL 300
@       IN SOA ns hostmaster ( 1 3600 600 86400 60 )
ns      IN A 127.0.0.1
www     IN A 192.0.2.10
        IN A 192.0.2.11
www     IN AAAA 2001:db8::10
@       IN MX 10 mail
@       IN MX 20 backup.example.org.
null    IN MX 0 .
@       IN TXT "v=spf1 " "ip4:192.0.2.0/24 " "-all"
alias   IN CNAME alias2
alias2  IN CNAME www
big     IN TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        IN TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        IN TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        IN TXT "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
$ORIGIN 2.0.192.in-addr.arpa.
@       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
10      IN PTR www.example.test.
$ORIGIN bl.test.
@       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
2.0.0.127 IN A 127.0.0.2
$ORIGIN other.test.
@       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
www     IN A 192.0.2.20
"#;

async fn start_server(faults: Faults) -> ZoneServer {
    let zone = Zone::parse(ZONE, "example.test").expect("test zone parses");
    ZoneServer::start(zone, faults)
        .await
        .expect("server starts")
}

fn config(server: &ZoneServer) -> ResolverConfig {
    ResolverConfig {
        servers: vec![server.addr()],
        timeout: Duration::from_millis(100),
        retries: 2,
        tcp_timeout: Duration::from_secs(2),
        ..ResolverConfig::default()
    }
}

fn query(name: &str, record_type: RecordType) -> Query {
    Query {
        name: name.to_string(),
        record_type,
        server: None,
        transport: Transport::Udp,
    }
}

fn a(ip: [u8; 4]) -> RecordData {
    RecordData::A(Ipv4Addr::from(ip))
}

#[tokio::test]
async fn answers_every_record_type() {
    let server = start_server(Faults::default()).await;
    let resolver = Resolver::new(config(&server));
    let answer = |name: &str, record_type| {
        let resolver = resolver.clone();
        let query = query(name, record_type);
        async move { resolver.resolve(&query).await.answer }
    };
    assert_eq!(
        answer("www.example.test", RecordType::A).await,
        Ok(vec![a([192, 0, 2, 10]), a([192, 0, 2, 11])])
    );
    assert_eq!(
        answer("WWW.Example.TEST.", RecordType::Aaaa).await,
        Ok(vec![RecordData::Aaaa(
            "2001:db8::10".parse::<Ipv6Addr>().unwrap()
        )])
    );
    let mut mx = answer("example.test", RecordType::Mx).await.unwrap();
    mx.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        mx,
        vec![
            RecordData::Mx {
                preference: 10,
                exchange: "mail.example.test".to_string()
            },
            RecordData::Mx {
                preference: 20,
                exchange: "backup.example.org".to_string()
            },
        ]
    );
    assert_eq!(
        answer("null.example.test", RecordType::Mx).await,
        Ok(vec![RecordData::Mx {
            preference: 0,
            exchange: ".".to_string()
        }])
    );
    assert_eq!(
        answer("example.test", RecordType::Txt).await,
        Ok(vec![RecordData::Txt(
            "v=spf1 ip4:192.0.2.0/24 -all".to_string()
        )])
    );
    assert_eq!(
        answer("10.2.0.192.in-addr.arpa", RecordType::Ptr).await,
        Ok(vec![RecordData::Ptr("www.example.test".to_string())])
    );
    assert_eq!(
        answer("2.0.0.127.bl.test", RecordType::A).await,
        Ok(vec![a([127, 0, 0, 2])])
    );
}

#[tokio::test]
async fn nxdomain_nodata_and_cname_chains() {
    let server = start_server(Faults::default()).await;
    let resolver = Resolver::new(config(&server));
    let lookup = |name: &str, record_type| {
        let resolver = resolver.clone();
        let query = query(name, record_type);
        async move { resolver.resolve(&query).await.answer }
    };
    assert_eq!(
        lookup("nothing.example.test", RecordType::A).await,
        Err(DnsError::NxDomain)
    );
    assert_eq!(
        lookup("3.0.0.127.bl.test", RecordType::A).await,
        Err(DnsError::NxDomain)
    );
    assert_eq!(
        lookup("www.example.test", RecordType::Txt).await,
        Err(DnsError::NoData)
    );
    // An empty non-terminal exists (RFC 8020): NODATA, not NXDOMAIN.
    assert_eq!(
        lookup("0.0.127.bl.test", RecordType::A).await,
        Err(DnsError::NoData)
    );
    assert_eq!(
        lookup("alias.example.test", RecordType::A).await,
        Ok(vec![a([192, 0, 2, 10]), a([192, 0, 2, 11])])
    );
    assert_eq!(
        lookup("alias.example.test", RecordType::Mx).await,
        Err(DnsError::NoData)
    );
}

#[tokio::test]
async fn dropped_udp_queries_are_resent() {
    let faults = Faults::default();
    faults.drop_first_udp(2);
    let server = start_server(faults).await;
    let resolver = Resolver::new(config(&server));
    let lookup = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert_eq!(lookup.retries, 2);
    assert_eq!(lookup.answer.map(|r| r.len()), Ok(2));
    assert_eq!(server.queries(), 3);
    assert_eq!(resolver.stats().queries_sent, 3);
}

#[tokio::test]
async fn all_udp_dropped_times_out_after_the_configured_retries() {
    let faults = Faults::default();
    faults.drop_all_udp(true);
    let server = start_server(faults).await;
    let config = ResolverConfig {
        retries: 3,
        ..config(&server)
    };
    let resolver = Resolver::new(config);
    let lookup = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert_eq!(
        lookup,
        Lookup {
            answer: Err(DnsError::Timeout),
            retries: 3
        }
    );
    assert_eq!(server.queries(), 4);
    // Timeouts are not cached.
    let again = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert_eq!(again.answer, Err(DnsError::Timeout));
    assert_eq!(server.queries(), 8);
}

#[tokio::test]
async fn tcp_queries_and_refused_connections() {
    let server = start_server(Faults::default()).await;
    let resolver = Resolver::new(config(&server));
    let tcp = Query {
        transport: Transport::Tcp,
        ..query("www.example.test", RecordType::A)
    };
    let lookup = resolver.resolve(&tcp).await;
    assert_eq!(lookup.answer.map(|r| r.len()), Ok(2));
    assert_eq!(lookup.retries, 0);

    let faults = Faults::default();
    faults.refuse_tcp(true);
    let refusing = start_server(faults).await;
    let resolver = Resolver::new(config(&refusing));
    let lookup = resolver.resolve(&tcp).await;
    assert!(
        matches!(lookup.answer, Err(DnsError::ConnectionFailed(_))),
        "{lookup:?}"
    );
    // UDP on the same server still works.
    let udp = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert!(udp.answer.is_ok());
}

#[tokio::test]
async fn servfail_and_refused_are_server_failures_and_not_cached() {
    let faults = Faults::default();
    faults.servfail(true);
    let server = start_server(faults.clone()).await;
    let resolver = Resolver::new(config(&server));
    let www = query("www.example.test", RecordType::A);
    assert_eq!(
        resolver.resolve(&www).await.answer,
        Err(DnsError::ServerFailure("SERVFAIL".to_string()))
    );
    faults.servfail(false);
    assert!(resolver.resolve(&www).await.answer.is_ok());

    faults.set_zone_fault("other.test", Some(ZoneFault::Refused));
    assert_eq!(
        resolver
            .resolve(&query("www.other.test", RecordType::A))
            .await
            .answer,
        Err(DnsError::ServerFailure("REFUSED".to_string()))
    );
    assert!(
        resolver
            .resolve(&query("ns.example.test", RecordType::A))
            .await
            .answer
            .is_ok()
    );
}

#[tokio::test]
async fn truncated_udp_reply_falls_back_to_tcp() {
    let faults = Faults::default();
    faults.truncate_udp(true);
    let server = start_server(faults).await;
    let resolver = Resolver::new(config(&server));
    let lookup = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert_eq!(lookup.answer.map(|r| r.len()), Ok(2));
    assert_eq!(lookup.retries, 0);
    assert_eq!(server.queries(), 2, "one UDP query, one TCP query");
}

#[tokio::test]
async fn answers_are_cached_positive_and_negative() {
    let server = start_server(Faults::default()).await;
    let resolver = Resolver::new(config(&server));
    for name in ["www.example.test", "nothing.example.test"] {
        let first = resolver.resolve(&query(name, RecordType::A)).await;
        let sent = server.queries();
        let second = resolver
            .resolve(&query(&name.to_uppercase(), RecordType::A))
            .await;
        assert_eq!(first, second);
        assert_eq!(
            server.queries(),
            sent,
            "{name}: no packet for the cached answer"
        );
    }
    // NODATA too.
    let nodata = query("www.example.test", RecordType::Mx);
    resolver.resolve(&nodata).await;
    let sent = server.queries();
    assert_eq!(
        resolver.resolve(&nodata).await.answer,
        Err(DnsError::NoData)
    );
    assert_eq!(server.queries(), sent);
    assert_eq!(resolver.stats().cache_hits, 3);
    // Another server is another cache entry.
    let direct = Query {
        server: Some(server.addr().to_string()),
        ..query("www.example.test", RecordType::A)
    };
    resolver.resolve(&direct).await;
    assert_eq!(server.queries(), sent + 1);
}

#[tokio::test]
async fn cached_answer_reports_no_retries() {
    let faults = Faults::default();
    faults.drop_first_udp(1);
    let server = start_server(faults).await;
    let resolver = Resolver::new(config(&server));
    let www = query("www.example.test", RecordType::A);
    assert_eq!(resolver.resolve(&www).await.retries, 1);
    let cached = resolver.resolve(&www).await;
    assert_eq!(cached.retries, 0);
    assert!(cached.answer.is_ok());
}

/// A UDP responder that answers each query with the datagrams `replies` makes from it.
async fn raw_responder(replies: impl Fn(&Message) -> Vec<Vec<u8>> + Send + 'static) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = vec![0; 4096];
        while let Ok((len, peer)) = socket.recv_from(&mut buffer).await {
            let Ok(request) = Message::from_vec(&buffer[..len]) else {
                continue;
            };
            for reply in replies(&request) {
                socket.send_to(&reply, peer).await.unwrap();
            }
        }
    });
    addr
}

/// A NOERROR reply to `request` with one A record (and optionally another ID).
fn reply_to(request: &Message, id: u16, ip: [u8; 4]) -> Vec<u8> {
    let mut reply = Message::new();
    reply
        .set_id(id)
        .set_message_type(MessageType::Response)
        .add_queries(request.queries().iter().cloned());
    let name = request.queries()[0].name().clone();
    reply.add_answer(Record::from_rdata(
        name,
        60,
        RData::A(Ipv4Addr::from(ip).into()),
    ));
    reply.to_vec().unwrap()
}

fn raw_config(addr: SocketAddr) -> ResolverConfig {
    ResolverConfig {
        servers: vec![addr],
        timeout: Duration::from_millis(300),
        retries: 1,
        ..ResolverConfig::default()
    }
}

#[tokio::test]
async fn spoofed_replies_are_ignored() {
    let addr = raw_responder(|request| {
        let id = request.id();
        let mut other_question = request.clone();
        other_question.queries_mut()[0].set_name("evil.test.".parse().unwrap());
        vec![
            reply_to(request, id.wrapping_add(1), [6, 6, 6, 6]),
            reply_to(&other_question, id, [6, 6, 6, 7]),
            b"\x00".to_vec(),
            request.to_vec().unwrap(),
            reply_to(request, id, [192, 0, 2, 1]),
        ]
    })
    .await;
    let resolver = Resolver::new(raw_config(addr));
    let lookup = resolver.resolve(&query("victim.test", RecordType::A)).await;
    assert_eq!(
        lookup,
        Lookup {
            answer: Ok(vec![a([192, 0, 2, 1])]),
            retries: 0
        }
    );
}

#[tokio::test]
async fn oversized_and_malformed_replies_are_rejected() {
    let addr = raw_responder(|request| {
        let mut reply = Message::new();
        reply
            .set_id(request.id())
            .set_message_type(MessageType::Response)
            .add_queries(request.queries().iter().cloned());
        let name = request.queries()[0].name().clone();
        let text = "x".repeat(200);
        for _ in 0..5 {
            let txt = TXT::new(vec![text.clone()]);
            reply.add_answer(Record::from_rdata(name.clone(), 60, RData::TXT(txt)));
        }
        vec![reply.to_vec().unwrap()]
    })
    .await;
    let resolver = Resolver::new(ResolverConfig {
        max_reply_bytes: 512,
        ..raw_config(addr)
    });
    let lookup = resolver.resolve(&query("big.test", RecordType::Txt)).await;
    assert!(
        matches!(lookup.answer, Err(DnsError::BadReply(_))),
        "{lookup:?}"
    );

    let garbage = raw_responder(|request| {
        let mut bytes = request.id().to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0xff]);
        vec![bytes]
    })
    .await;
    let resolver = Resolver::new(raw_config(garbage));
    let lookup = resolver
        .resolve(&query("garbage.test", RecordType::A))
        .await;
    assert!(
        matches!(lookup.answer, Err(DnsError::BadReply(_))),
        "{lookup:?}"
    );
}

#[tokio::test]
async fn answer_too_big_for_udp_comes_over_tcp() {
    let server = start_server(Faults::default()).await;
    let resolver = Resolver::new(ResolverConfig {
        max_reply_bytes: 512,
        ..config(&server)
    });
    // The client advertises 512 bytes, so the server truncates the ~850-byte answer over UDP
    // and the client asks again over TCP, where the 512-byte bound does not apply.
    let lookup = resolver
        .resolve(&query("big.example.test", RecordType::Txt))
        .await;
    assert_eq!(lookup.answer.map(|r| r.len()), Ok(4));
    assert_eq!(server.queries(), 2);
}

#[tokio::test]
async fn suspended_zones_send_nothing() {
    let server = start_server(Faults::default()).await;
    let resolver = Resolver::new(config(&server));
    resolver.suspend("BL.test.", Duration::from_secs(60));
    for name in ["bl.test", "2.0.0.127.bl.test", "X.Y.BL.TEST"] {
        let lookup = resolver.resolve(&query(name, RecordType::A)).await;
        assert_eq!(lookup.answer, Err(DnsError::Suspended), "{name}");
    }
    assert_eq!(server.queries(), 0);
    for name in ["www.other.test", "notbl.test"] {
        let lookup = resolver.resolve(&query(name, RecordType::A)).await;
        assert_ne!(lookup.answer, Err(DnsError::Suspended), "{name}");
    }
    assert_eq!(server.queries(), 2);
    resolver.suspend("bl.test", Duration::ZERO);
    let lookup = resolver
        .resolve(&query("2.0.0.127.bl.test", RecordType::A))
        .await;
    assert!(lookup.answer.is_ok(), "suspension expired");
}

/// A server that answers after 200 ms, and a resolver that waits up to 2 s for it.
async fn slow_server() -> (ZoneServer, Resolver) {
    let faults = Faults::default();
    faults.set_delay(Duration::from_millis(200));
    let server = start_server(faults).await;
    let resolver = Resolver::new(ResolverConfig {
        timeout: Duration::from_secs(2),
        ..config(&server)
    });
    (server, resolver)
}

#[tokio::test]
async fn batch_runs_concurrently_and_sends_duplicates_once() {
    let (server, resolver) = slow_server().await;
    let mut queries: Vec<Query> = (0..9)
        .map(|i| query(&format!("{i}.nothing.example.test"), RecordType::A))
        .collect();
    queries.push(query("www.example.test", RecordType::A));
    queries.push(query("WWW.example.test.", RecordType::A));
    let started = Instant::now();
    let lookups = resolver.resolve_all(&queries).await;
    println!(
        "11 queries with a 200 ms delay took {:?}",
        started.elapsed()
    );
    assert_eq!(lookups.len(), 11);
    for lookup in &lookups[..9] {
        assert_eq!(lookup.answer, Err(DnsError::NxDomain));
    }
    assert_eq!(lookups[9], lookups[10]);
    assert!(lookups[9].answer.is_ok());
    assert_eq!(server.queries(), 10, "the duplicate was sent once");
}

#[tokio::test]
async fn lookups_of_a_question_in_flight_wait_for_its_answer() {
    let (server, resolver) = slow_server().await;
    // Two sessions' resolvers (clones share the cache and the questions in flight).
    let (first, second) = (resolver.clone(), resolver.clone());
    let www = query("www.example.test", RecordType::A);
    let (a, b) = tokio::join!(first.resolve(&www), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        second
            .resolve(&query("WWW.Example.Test.", RecordType::A))
            .await
    });
    assert_eq!(a, b);
    assert!(a.answer.is_ok());
    assert_eq!(server.queries(), 1, "the second lookup sent nothing");
    assert_eq!(resolver.stats().joined, 1);
    assert_eq!(resolver.stats().cache_hits, 0);
    // Other questions are not held up by it: a different type goes out on its own.
    let (mx, txt) = (
        query("example.test", RecordType::Mx),
        query("example.test", RecordType::Txt),
    );
    let (mx, txt) = tokio::join!(resolver.resolve(&mx), resolver.resolve(&txt));
    assert!(mx.answer.is_ok() && txt.answer.is_ok());
    assert_eq!(server.queries(), 3);
    assert_eq!(resolver.stats().joined, 1);
}

#[tokio::test]
async fn a_lookup_waiting_for_an_abandoned_one_asks_itself() {
    let (server, resolver) = slow_server().await;
    let www = query("www.example.test", RecordType::A);
    let (abandoned, waiting) = tokio::join!(
        tokio::time::timeout(Duration::from_millis(60), resolver.resolve(&www)),
        async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            resolver.resolve(&www).await
        }
    );
    assert!(
        abandoned.is_err(),
        "the first lookup was cut off by its caller"
    );
    assert_eq!(waiting.answer.map(|r| r.len()), Ok(2));
    assert_eq!(
        server.queries(),
        2,
        "the waiting lookup sent the question again"
    );
    assert_eq!(resolver.stats().joined, 1);
}

#[tokio::test]
async fn default_servers_are_tried_in_order() {
    let dead = Faults::default();
    dead.drop_all_udp(true);
    let dead = start_server(dead).await;
    let live = start_server(Faults::default()).await;
    let resolver = Resolver::new(ResolverConfig {
        servers: vec![dead.addr(), live.addr()],
        ..config(&live)
    });
    let lookup = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert_eq!(lookup.retries, 2);
    assert_eq!(lookup.answer.map(|r| r.len()), Ok(2));
    assert_eq!((dead.queries(), live.queries()), (3, 1));
}

#[tokio::test]
async fn server_given_by_host_name_is_resolved_first() {
    let default = start_server(Faults::default()).await;
    let faults = Faults::default();
    faults.set_zone_fault("www.other.test", Some(ZoneFault::ServFail));
    let named = start_server(faults).await;
    let resolver = Resolver::new(config(&default));
    let via_name = Query {
        server: Some(format!("ns.example.test:{}", named.addr().port())),
        ..query("www.other.test", RecordType::A)
    };
    // Only `named` SERVFAILs this name, so the answer shows which server was asked.
    assert_eq!(
        resolver.resolve(&via_name).await.answer,
        Err(DnsError::ServerFailure("SERVFAIL".to_string()))
    );
    assert_eq!(named.queries(), 1);
    let unknown = Query {
        server: Some("nowhere.example.test".to_string()),
        ..query("www.other.test", RecordType::A)
    };
    assert!(matches!(
        resolver.resolve(&unknown).await.answer,
        Err(DnsError::ConnectionFailed(_))
    ));
    let invalid = Query {
        server: Some("not a server".to_string()),
        ..query("www.other.test", RecordType::A)
    };
    assert!(matches!(
        resolver.resolve(&invalid).await.answer,
        Err(DnsError::ConnectionFailed(_))
    ));
}

#[tokio::test]
async fn server_survives_malformed_queries() {
    let server = start_server(Faults::default()).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for junk in [&b""[..], b"\x12", &[0xff; 12], &[0x55; 300]] {
        socket.send_to(junk, server.addr()).await.unwrap();
    }
    let resolver = Resolver::new(config(&server));
    let lookup = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert_eq!(lookup.answer.map(|r| r.len()), Ok(2));
    assert_eq!(lookup.retries, 0);
}

#[tokio::test]
async fn no_configured_server_is_a_connection_failure() {
    let resolver = Resolver::new(ResolverConfig::default());
    let lookup = resolver
        .resolve(&query("www.example.test", RecordType::A))
        .await;
    assert!(matches!(lookup.answer, Err(DnsError::ConnectionFailed(_))));
}
