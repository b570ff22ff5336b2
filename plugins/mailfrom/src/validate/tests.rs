//! Whole validations against scripted DNS answers and callout results.

use std::net::IpAddr;

use antispam_sdk::IpAddress;
use antispam_sdk::bindings::smtp::Reply;
use antispam_sdk::dns::{MxRecord, RecordData};

use super::*;
use crate::lines::Line::{Normal, Verbose};

/// A scripted DNS answer.
type Answer = Result<Vec<RecordData>, DnsError>;

/// Scripted host: names not listed are NXDOMAIN, addresses not listed refuse connections.
#[derive(Default)]
struct Fake {
    dns: Vec<(&'static str, RecordType, Answer)>,
    servers: Vec<(&'static str, CalloutResult)>,
    asked: Vec<String>,
    callouts: Vec<Callout>,
    lines: Vec<Line>,
}

impl Host for Fake {
    fn resolve(&mut self, queries: &[Query]) -> Vec<Lookup> {
        queries
            .iter()
            .map(|q| {
                self.asked
                    .push(format!("{} {:?}", q.name, q.record_type).replace("RecordType::", ""));
                let answer = self
                    .dns
                    .iter()
                    .find(|(name, rt, _)| *name == q.name && *rt == q.record_type)
                    .map_or(Err(DnsError::Nxdomain), |(_, _, answer)| answer.clone());
                Lookup { answer, retries: 0 }
            })
            .collect()
    }

    fn probe(&mut self, callout: &Callout) -> CalloutResult {
        self.callouts.push(callout.clone());
        let ip = IpAddr::from(&callout.address).to_string();
        self.servers.iter().find(|(addr, _)| *addr == ip).map_or(
            CalloutResult::ConnectFailed("connection refused".into()),
            |(_, r)| r.clone(),
        )
    }

    fn log(&mut self, line: Line) {
        self.lines.push(line);
    }
}

impl Fake {
    fn mx(mut self, name: &'static str, records: &[(u16, &str)]) -> Self {
        let records = records
            .iter()
            .map(|&(preference, exchange)| {
                RecordData::Mx(MxRecord {
                    preference,
                    exchange: exchange.into(),
                })
            })
            .collect();
        self.dns.push((name, RecordType::Mx, Ok(records)));
        self
    }

    fn a(mut self, name: &'static str, ips: &[&str]) -> Self {
        let records = ips
            .iter()
            .map(|ip| RecordData::A(ip.parse::<IpAddr>().unwrap().into()))
            .collect();
        self.dns.push((name, RecordType::A, Ok(records)));
        self
    }

    fn error(mut self, name: &'static str, rt: RecordType, error: DnsError) -> Self {
        self.dns.push((name, rt, Err(error)));
        self
    }

    fn server(mut self, ip: &'static str, result: CalloutResult) -> Self {
        self.servers.push((ip, result));
        self
    }

    fn probed(&self) -> Vec<String> {
        self.callouts
            .iter()
            .map(|c| IpAddr::from(&c.address).to_string())
            .collect()
    }

    fn normal_lines(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Normal(s) => Some(s.as_str()),
                Verbose(_) => None,
            })
            .collect()
    }
}

const CONFIG: Config = Config {
    port: 2525,
    helo_name: None,
    max_mx: 5,
    detect_catch_all: false,
};

fn session(mail_from: Option<&str>) -> Session {
    Session {
        message_id: "9faa2ad600b2e541".into(),
        domain: "example.net".into(),
        client_ip: IpAddress::Ipv4((192, 0, 2, 99)),
        helo: Some("client.example.org".into()),
        mail_from: mail_from.map(str::to_string),
        recipients: vec!["user@example.net".into()],
    }
}

fn rcpt(code: u16, text: &str) -> CalloutResult {
    CalloutResult::Rcpt(Reply {
        code,
        text: text.into(),
    })
}

fn run(fake: &mut Fake, mail_from: &str) -> Outcome {
    validate(fake, &CONFIG, &session(Some(mail_from)))
}

const VALIDATING: &str =
    "VALIDATION: (MAIL FROM) example.net validating MAIL FROM address joe@example.com";
const C06: &str = "VALIDATION: (MAIL FROM) example.net FAILED to resolve MX/A record for mail server joe@example.com";

#[test]
fn missing_mail_from_fails_without_network() {
    let mut fake = Fake::default();
    let outcome = validate(&mut fake, &CONFIG, &session(None));
    assert_eq!(outcome, Outcome::Failed("no MAIL FROM sent".into()));
    assert_eq!(
        fake.lines,
        [Normal("VALIDATION (MAIL FROM) no MAIL FROM sent".into())]
    );
    assert!(fake.asked.is_empty());
}

#[test]
fn null_sender_is_never_called_out() {
    let mut fake = Fake::default();
    assert_eq!(run(&mut fake, ""), Outcome::NullSender);
    assert_eq!(
        fake.lines,
        [Verbose(
            "VALIDATION: (MAIL FROM) example.net null sender <>, no validation needed".into()
        )]
    );
    assert!(fake.asked.is_empty() && fake.callouts.is_empty());
}

#[test]
fn mx_hosts_are_tried_by_preference_and_the_domain_a_is_never_used() {
    let mut fake = Fake::default()
        .mx(
            "example.com",
            &[
                (10, "a.example.com"),
                (10, "b.example.com"),
                (5, "c.example.com"),
            ],
        )
        .a("example.com", &["192.0.2.100"])
        .a("a.example.com", &["192.0.2.1"])
        .a("b.example.com", &["192.0.2.2"])
        .a("c.example.com", &["192.0.2.3"])
        .server("192.0.2.2", rcpt(250, "ok"));
    assert_eq!(run(&mut fake, "joe@example.com"), Outcome::Verified);
    assert_eq!(fake.asked[0], "example.com Mx");
    assert!(!fake.asked.iter().any(|q| q.starts_with("example.com A")));
    let probed = fake.probed();
    assert_eq!(probed[0], "192.0.2.3");
    assert!(!probed.contains(&"192.0.2.100".to_string()));
    assert_eq!(probed.last().unwrap(), "192.0.2.2");
    assert_eq!(
        fake.lines.last().unwrap(),
        &Verbose("validation: (mail from) example.net SUCEEDED for user joe@example.com.".into())
    );
    assert_eq!(
        fake.normal_lines()[0],
        "VALIDATION: (MAIL FROM) example.net FAILED to connect to c.example.com[192.0.2.3]"
    );
}

#[test]
fn callout_carries_settings_and_the_sender_as_given() {
    let mut fake = Fake::default()
        .mx("example.com", &[(0, "mx.example.com")])
        .a("mx.example.com", &["192.0.2.1"]);
    let config = Config {
        helo_name: Some("probe.example.net".into()),
        detect_catch_all: true,
        ..CONFIG
    };
    validate(&mut fake, &config, &session(Some("Joe@Example.com")));
    let callout = &fake.callouts[0];
    assert_eq!(
        (
            callout.port,
            callout.helo_name.as_str(),
            callout.catch_all_probe
        ),
        (2525, "probe.example.net", true)
    );
    assert_eq!(callout.recipient, "Joe@Example.com");
    validate(&mut fake, &CONFIG, &session(Some("joe@example.com")));
    assert_eq!(fake.callouts[1].helo_name, "example.net");
    assert!(!fake.callouts[1].catch_all_probe);
}

#[test]
fn no_mx_uses_the_domain_itself() {
    let mut fake = Fake::default()
        .error("example.com", RecordType::Mx, DnsError::Nodata)
        .a("example.com", &["192.0.2.7"])
        .server("192.0.2.7", rcpt(251, "will forward"));
    assert_eq!(run(&mut fake, "joe@example.com"), Outcome::Verified);
    assert_eq!(
        fake.asked,
        ["example.com Mx", "example.com A", "example.com Aaaa"]
    );
    assert_eq!(fake.probed(), ["192.0.2.7"]);
}

#[test]
fn unresolvable_senders_fail_with_c06() {
    let null_mx = Fake::default().mx("example.com", &[(0, ".")]);
    let nxdomain = Fake::default();
    let no_address = Fake::default()
        .mx("example.com", &[(10, "gone.example.com")])
        .error("gone.example.com", RecordType::A, DnsError::Nodata)
        .error("gone.example.com", RecordType::Aaaa, DnsError::Nodata);
    for (mut fake, mail_from) in [
        (null_mx, "joe@example.com"),
        (nxdomain, "joe@example.com"),
        (no_address, "joe@example.com"),
        (Fake::default(), "joe"),
    ] {
        assert!(matches!(run(&mut fake, mail_from), Outcome::Failed(_)));
        assert!(fake.callouts.is_empty());
        if mail_from == "joe" {
            assert!(fake.asked.is_empty());
        } else {
            assert_eq!(fake.lines, [Verbose(VALIDATING.into()), Normal(C06.into())]);
        }
    }
}

#[test]
fn dns_trouble_is_inconclusive() {
    let servfail = Fake::default().error(
        "example.com",
        RecordType::Mx,
        DnsError::ServerFailure("SERVFAIL".into()),
    );
    let timeout = Fake::default()
        .mx("example.com", &[(10, "mx.example.com")])
        .error("mx.example.com", RecordType::A, DnsError::Timeout);
    for mut fake in [servfail, timeout] {
        assert!(matches!(
            run(&mut fake, "joe@example.com"),
            Outcome::Inconclusive(_)
        ));
        assert!(fake.normal_lines().is_empty());
        assert!(
            matches!(&fake.lines[1], Verbose(l) if l.contains("no usable answer from DNS server"))
        );
        assert!(fake.callouts.is_empty());
    }
}

#[test]
fn unreachable_servers_are_inconclusive_after_trying_each_address() {
    let mut fake = Fake::default()
        .mx(
            "example.com",
            &[(10, "mx1.example.com"), (20, "mx2.example.com")],
        )
        .a("mx1.example.com", &["192.0.2.1", "192.0.2.2"])
        .a("mx2.example.com", &["192.0.2.3"]);
    assert!(matches!(
        run(&mut fake, "joe@example.com"),
        Outcome::Inconclusive(_)
    ));
    assert_eq!(fake.probed(), ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    assert_eq!(fake.normal_lines().len(), 3);

    let mut limited = Fake::default()
        .mx(
            "example.com",
            &[(10, "mx1.example.com"), (20, "mx2.example.com")],
        )
        .a("mx1.example.com", &["192.0.2.1", "192.0.2.2"])
        .a("mx2.example.com", &["192.0.2.3"]);
    validate(
        &mut limited,
        &Config {
            max_mx: 1,
            ..CONFIG
        },
        &session(Some("joe@example.com")),
    );
    assert_eq!(limited.probed(), ["192.0.2.1"]);
    assert_eq!(
        limited.asked,
        [
            "example.com Mx",
            "mx1.example.com A",
            "mx1.example.com Aaaa"
        ]
    );
}

#[test]
fn an_address_the_host_refuses_moves_on_to_the_next() {
    let mut fake = Fake::default()
        .mx("example.com", &[(10, "mx.example.com")])
        .a("mx.example.com", &["10.0.0.1", "192.0.2.2"])
        .server("10.0.0.1", CalloutResult::Refused("private-use".into()))
        .server("192.0.2.2", rcpt(250, "ok"));
    assert_eq!(run(&mut fake, "joe@example.com"), Outcome::Verified);
    assert_eq!(fake.probed(), ["10.0.0.1", "192.0.2.2"]);
    assert!(
        fake.normal_lines().is_empty(),
        "a refusal by the host is not C07"
    );

    let mut all_refused = Fake::default()
        .mx("example.com", &[(10, "mx.example.com")])
        .a("mx.example.com", &["10.0.0.1"])
        .server("10.0.0.1", CalloutResult::Refused("private-use".into()));
    assert_eq!(
        run(&mut all_refused, "joe@example.com"),
        Outcome::Inconclusive(
            "no callout reached any of 1 mail server address(es); last: mx.example.com[10.0.0.1]: private-use".into()
        )
    );
}

#[test]
fn first_definite_answer_ends_the_callouts() {
    let mut fake = Fake::default()
        .mx("example.com", &[(10, "mx.example.com")])
        .a("mx.example.com", &["192.0.2.1", "192.0.2.2"])
        .server("192.0.2.1", rcpt(550, "5.1.1 user unknown"))
        .server("192.0.2.2", rcpt(250, "ok"));
    assert!(matches!(
        run(&mut fake, "joe@example.com"),
        Outcome::Failed(_)
    ));
    assert_eq!(fake.probed(), ["192.0.2.1"]);
    assert_eq!(
        fake.normal_lines(),
        ["VALIDATION:(MAIL FROM) <joe@example.com> user does not exist on remote system"]
    );
}

#[test]
fn broken_dialogue_is_inconclusive_and_not_retried() {
    let mut fake = Fake::default()
        .mx("example.com", &[(10, "mx.example.com")])
        .a("mx.example.com", &["192.0.2.1", "192.0.2.2"])
        .server(
            "192.0.2.1",
            CalloutResult::DialogueFailed("garbage reply".into()),
        );
    assert!(matches!(
        run(&mut fake, "joe@example.com"),
        Outcome::Inconclusive(_)
    ));
    assert_eq!(fake.probed(), ["192.0.2.1"]);
}

#[test]
fn unverifiable_addresses_are_inconclusive_without_network() {
    let mut fake = Fake::default();
    assert!(matches!(
        run(&mut fake, "joe@[192.0.2.1]"),
        Outcome::Inconclusive(_)
    ));
    assert!(fake.asked.is_empty());
    assert!(
        matches!(&fake.lines[1], Verbose(l) if l.contains("cannot validate MAIL FROM address joe@[192.0.2.1]"))
    );
}
