//! Whole-check tests: settings, a session and scripted DNS answers through [`crate::run`].

use std::net::IpAddr;

use antispam_sdk::dns::{DnsError, Lookup, Query, RecordData, RecordType};
use antispam_sdk::{Finding, Session, Verdict};
use regex_automata::meta::Regex;

use crate::answer::Answer;
use crate::lines::{Level, Line};
use crate::settings::{List, RawSettings};
use crate::{Report, run};

/// The seed patterns of the lines this check renders (log-messages.tsv).
const SEED_PATTERNS: [(&str, &str); 6] = [
    ("C01", r"BLACKLIST:.+ was found on list \(.+:.+:.+\)->"),
    (
        "C02",
        r"BLACKLIST:failed to connect to service \(.+:.+:.+\)",
    ),
    ("C17", r"BLACKLIST:connecting to service ?\(.+:.+:.+\)"),
    ("C18", r"BLACKLIST:retrying service \(.+:.+:.+\)"),
    ("C19", r"BLACKLIST:.+ was not found on list \(.+:.+:.+\)"),
    (
        "C20",
        r"BLACKLIST:received a reply from service \(.+:.+:.+\)",
    ),
];

/// The seed ids whose pattern matches `text`.
fn seed_ids(text: &str) -> Vec<&'static str> {
    SEED_PATTERNS
        .iter()
        .filter(|(_, pattern)| Regex::new(pattern).unwrap().is_match(text))
        .map(|(id, _)| *id)
        .collect()
}

fn lists(toml: &str) -> Vec<List> {
    antispam_sdk::Settings {
        domain: "example.test".into(),
        toml: toml.into(),
        files: vec![],
    }
    .parse::<RawSettings>()
    .unwrap()
    .validate()
    .unwrap()
}

fn session(ip: &str, helo: Option<&str>, from: Option<&str>) -> Session {
    Session {
        message_id: "8ca903a70134e863".into(),
        domain: "example.test".into(),
        client_ip: ip.parse::<IpAddr>().unwrap().into(),
        helo: helo.map(Into::into),
        mail_from: from.map(Into::into),
        recipients: vec!["user@example.test".into()],
    }
}

fn a(codes: &[&str]) -> Answer {
    Ok(codes
        .iter()
        .map(|c| RecordData::A(c.parse::<IpAddr>().unwrap().into()))
        .collect())
}

fn txt(text: &str) -> Answer {
    Ok(vec![RecordData::Txt(text.into())])
}

/// A DNS where each list zone answers by `answer(name, type)`; healthy test entries unless the
/// script says otherwise. Records every batch asked.
struct Dns<F> {
    answer: F,
    batches: Vec<Vec<String>>,
}

impl<F: Fn(&str, RecordType) -> (Answer, u32)> Dns<F> {
    fn new(answer: F) -> Self {
        Dns {
            answer,
            batches: Vec::new(),
        }
    }

    fn run(&mut self, lists: &[List], session: &Session) -> Report {
        run(lists, session, |queries: &[Query]| {
            self.batches.push(
                queries
                    .iter()
                    .map(|q| format!("{} {}", q.name, type_name(q.record_type)))
                    .collect(),
            );
            queries
                .iter()
                .map(|q| {
                    let (answer, retries) = (self.answer)(&q.name, q.record_type);
                    Lookup { answer, retries }
                })
                .collect()
        })
    }
}

fn type_name(record_type: RecordType) -> &'static str {
    match record_type {
        RecordType::A => "A",
        RecordType::Aaaa => "AAAA",
        RecordType::Mx => "MX",
        RecordType::Txt => "TXT",
        RecordType::Ptr => "PTR",
    }
}

/// Healthy test entries; `main` decides everything else.
fn healthy(name: &str, main: impl Fn(&str) -> Answer) -> Answer {
    if name.starts_with("2.0.0.127.") || name.starts_with("test.") {
        a(&["127.0.0.2"])
    } else if name.starts_with("1.0.0.127.") || name.starts_with("invalid.") {
        Err(DnsError::Nxdomain)
    } else {
        main(name)
    }
}

/// The verdict as one line: kind, reason and headers.
fn describe(verdict: &Verdict) -> String {
    let finding = |kind: &str, f: &Finding| {
        let headers = f
            .headers
            .iter()
            .map(|h| format!(" | {}: {}", h.name, h.value));
        format!("{kind}: {}{}", f.reason, headers.collect::<String>())
    };
    match verdict {
        Verdict::Pass => "pass".into(),
        Verdict::Fail(f) => finding("fail", f),
        Verdict::TrustedFail(f) => finding("trusted-fail", f),
        Verdict::Inconclusive(reason) => format!("inconclusive: {reason}"),
        Verdict::NotApplicable => "not-applicable".into(),
        Verdict::Error(reason) => format!("error: {reason}"),
    }
}

fn texts(report: &Report) -> Vec<String> {
    report
        .lines
        .iter()
        .map(|Line { level, text }| {
            format!(
                "{}: {text}",
                if *level == Level::Normal { "N" } else { "V" }
            )
        })
        .collect()
}

const TWO_LISTS: &str = r#"
[[lists]]
name = "spamhaus"
zone = "sbl.example"

[[lists]]
name = "local"
server = "127.0.0.1:5353"
zone = "local.example"
trusted = true
"#;

#[test]
fn listing_logs_found_with_txt_and_fails_with_a_header() {
    let lists = lists(TWO_LISTS);
    let mut dns = Dns::new(|name: &str, rt| {
        let answer = match rt {
            RecordType::Txt => txt("Listed by SBL, see https://example.test/sbl"),
            _ => healthy(name, |n| {
                if n.ends_with(".sbl.example") {
                    a(&["127.0.0.2"])
                } else {
                    Err(DnsError::Nxdomain)
                }
            }),
        };
        (answer, 0)
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report),
        [
            "V: BLACKLIST:connecting to service(spamhaus:*:sbl.example)",
            "V: BLACKLIST:received a reply from service (spamhaus:*:sbl.example)",
            "N: BLACKLIST:192.0.2.99 was found on list (spamhaus:*:sbl.example)->Listed by SBL, see https://example.test/sbl",
            "V: BLACKLIST:connecting to service(local:127.0.0.1:5353:local.example)",
            "V: BLACKLIST:received a reply from service (local:127.0.0.1:5353:local.example)",
            "V: BLACKLIST:192.0.2.99 was not found on list (local:127.0.0.1:5353:local.example)",
        ]
    );
    assert_eq!(
        describe(&report.verdict),
        "fail: 1 black list: spamhaus | X-IMAIL-SPAM-DNSBL: (spamhaus,8ca903a70134e863,192.0.2.99)"
    );
    assert!(report.suspensions.is_empty());
    assert_eq!(
        dns.batches.len(),
        2,
        "one A batch for all lists, one TXT batch"
    );
    assert_eq!(dns.batches[0].len(), 6);
    assert_eq!(dns.batches[1], ["99.2.0.192.sbl.example TXT"]);
}

#[test]
fn trusted_hit_is_a_trusted_fail_named_after_the_list() {
    let lists = lists(TWO_LISTS);
    let mut dns = Dns::new(|name: &str, rt| {
        let answer = match rt {
            RecordType::Txt => Err(DnsError::Nxdomain),
            _ => healthy(name, |_| a(&["127.0.0.2"])),
        };
        (answer, 0)
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        describe(&report.verdict),
        "trusted-fail: local | X-IMAIL-SPAM-DNSBL: (spamhaus,8ca903a70134e863,192.0.2.99) \
         | X-IMAIL-SPAM-DNSBL: (local,8ca903a70134e863,192.0.2.99)"
    );
    let lines = texts(&report);
    assert!(lines.contains(&"V: BLACKLIST:no TXT text for 99.2.0.192.local.example from list (local:127.0.0.1:5353:local.example): NXDOMAIN".into()));
    assert!(lines.contains(
        &"N: BLACKLIST:192.0.2.99 was found on list (local:127.0.0.1:5353:local.example)->".into()
    ));
}

#[test]
fn timeouts_log_retries_and_failed_to_connect_and_are_inconclusive() {
    let lists = lists(TWO_LISTS);
    let mut dns = Dns::new(|name: &str, _| {
        if name.ends_with(".sbl.example") {
            (Err(DnsError::Timeout), 2)
        } else {
            (healthy(name, |_| Err(DnsError::Nxdomain)), 0)
        }
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report)[..4],
        [
            "V: BLACKLIST:connecting to service(spamhaus:*:sbl.example)",
            "V: BLACKLIST:retrying service (spamhaus:*:sbl.example)",
            "V: BLACKLIST:retrying service (spamhaus:*:sbl.example)",
            "N: BLACKLIST:failed to connect to service (spamhaus:*:sbl.example)",
        ]
    );
    assert_eq!(
        describe(&report.verdict),
        "inconclusive: could not check 1 black list: spamhaus (no answer)"
    );
    assert_eq!(dns.batches.len(), 1, "no TXT batch without a hit");
}

#[test]
fn error_code_is_logged_suspends_the_zone_and_is_never_a_listing() {
    let lists = lists(TWO_LISTS);
    let mut dns = Dns::new(|name: &str, _| {
        if name.ends_with(".sbl.example") {
            (a(&["127.255.255.254"]), 0)
        } else {
            (healthy(name, |_| Err(DnsError::Nxdomain)), 0)
        }
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report)[..4],
        [
            "V: BLACKLIST:connecting to service(spamhaus:*:sbl.example)",
            "V: BLACKLIST:received a reply from service (spamhaus:*:sbl.example)",
            "N: BLACKLIST:service (spamhaus:*:sbl.example) answered 127.255.255.254 for 99.2.0.192.sbl.example, an error code and not a listing",
            "N: BLACKLIST:suspending zone sbl.example for 300 seconds",
        ]
    );
    assert_eq!(report.suspensions.len(), 1);
    assert_eq!(
        (
            report.suspensions[0].zone.as_str(),
            report.suspensions[0].seconds
        ),
        ("sbl.example", 300)
    );
    assert_eq!(
        describe(&report.verdict),
        "inconclusive: could not check 1 black list: spamhaus (error code 127.255.255.254)"
    );
}

#[test]
fn failed_self_test_suspends_and_says_which_test() {
    let lists =
        lists("[[lists]]\nname = \"dead\"\nzone = \"dead.example\"\nsuspend-seconds = 600\n");
    // A dead zone re-registered with a wildcard: everything is listed.
    let mut dns = Dns::new(|_: &str, _| (a(&["127.0.0.2"]), 0));
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report),
        [
            "V: BLACKLIST:connecting to service(dead:*:dead.example)",
            "V: BLACKLIST:received a reply from service (dead:*:dead.example)",
            "N: BLACKLIST:self-test of list (dead:*:dead.example) failed: 1.0.0.127.dead.example must not be listed but answered 127.0.0.2",
            "N: BLACKLIST:suspending zone dead.example for 600 seconds",
        ]
    );
    assert_eq!(
        describe(&report.verdict),
        "inconclusive: could not check 1 black list: dead (self-test failed)"
    );
    assert_eq!(
        dns.batches.len(),
        1,
        "a broken list's listing gets no TXT lookup"
    );
}

#[test]
fn suspended_zone_is_skipped_without_connecting() {
    let lists = lists(TWO_LISTS);
    let mut dns = Dns::new(|name: &str, _| {
        if name.ends_with(".sbl.example") {
            (Err(DnsError::Suspended), 0)
        } else {
            (healthy(name, |_| Err(DnsError::Nxdomain)), 0)
        }
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report)[0],
        "V: BLACKLIST:skipping list (spamhaus:*:sbl.example): its zone is suspended"
    );
    assert_eq!(describe(&report.verdict), "pass");
}

#[test]
fn domain_lists_use_the_session_and_skip_missing_input() {
    let lists = lists(
        r#"
        [[lists]]
        name = "helo"
        zone = "helo.example"
        type = "helo"
        [[lists]]
        name = "addr"
        zone = "addr.example"
        type = "mail-from"
        [[lists]]
        name = "rhs"
        zone = "rhs.example"
        type = "rhs"
        imail-rhs = true
        txt = false
        "#,
    );
    let mut dns = Dns::new(|name: &str, _| {
        (
            healthy(name, |n| {
                if n == "example1.rhs.example" {
                    a(&["127.0.0.2"])
                } else {
                    Err(DnsError::Nxdomain)
                }
            }),
            0,
        )
    });
    let report = dns.run(
        &lists,
        &session("192.0.2.99", None, Some("sender@example1.com")),
    );
    assert_eq!(
        texts(&report),
        [
            "V: BLACKLIST:skipping list (helo:*:helo.example): the client sent no HELO",
            "V: BLACKLIST:connecting to service(addr:*:addr.example)",
            "V: BLACKLIST:received a reply from service (addr:*:addr.example)",
            "V: BLACKLIST:sender@example1.com was not found on list (addr:*:addr.example)",
            "V: BLACKLIST:connecting to service(rhs:*:rhs.example)",
            "V: BLACKLIST:received a reply from service (rhs:*:rhs.example)",
            "N: BLACKLIST:example1.com was found on list (rhs:*:rhs.example)->",
        ]
    );
    assert_eq!(
        describe(&report.verdict),
        "fail: 1 black list: rhs | X-IMAIL-SPAM-RHSBL: (rhs,8ca903a70134e863,example1.com)"
    );
    assert_eq!(
        dns.batches,
        [[
            "sender.example1.com.addr.example A",
            "test.addr.example A",
            "invalid.addr.example A",
            "example1.rhs.example A",
            "test.rhs.example A",
            "invalid.rhs.example A"
        ]]
    );
}

#[test]
fn every_hit_gets_its_header_and_counts() {
    let lists = lists(
        r#"
        [[lists]]
        name = "ip"
        zone = "ip.example"
        [[lists]]
        name = "helo"
        zone = "helo.example"
        type = "helo"
        [[lists]]
        name = "addr"
        zone = "addr.example"
        type = "mail-from"
        self-test = false
        "#,
    );
    let mut dns = Dns::new(|_: &str, rt| match rt {
        RecordType::Txt => (txt("x"), 0),
        _ => (a(&["127.0.0.2"]), 0),
    });
    let mut plain = Dns::new(|n: &str, _| (healthy(n, |_| a(&["127.0.0.2"])), 0));
    let s = session(
        "2001:db8::1",
        Some("mx1.example1.com"),
        Some("sender@example1.com"),
    );
    let report = plain.run(&lists, &s);
    assert_eq!(
        describe(&report.verdict),
        "fail: 3 black lists: ip,helo,addr \
         | X-IMAIL-SPAM-DNSBL: (ip,8ca903a70134e863,2001:db8::1) \
         | X-IMAIL-SPAM-HELOBL: (helo,8ca903a70134e863,mx1.example1.com) \
         | X-IMAIL-SPAM-ADDRBL: (addr,8ca903a70134e863,sender@example1.com)"
    );
    // The same lists against a zone that lists its 127.0.0.1 entry: only the untested list hits.
    let report = dns.run(&lists, &s);
    assert_eq!(
        describe(&report.verdict),
        "fail: 1 black list: addr | X-IMAIL-SPAM-ADDRBL: (addr,8ca903a70134e863,sender@example1.com)"
    );
    assert_eq!(report.suspensions.len(), 2);
}

#[test]
fn filtered_codes_are_not_listings() {
    let lists =
        lists("[[lists]]\nname = \"zen\"\nzone = \"zen.example\"\ncodes = [\"127.0.0.2\"]\n");
    let mut dns = Dns::new(|n: &str, _| (healthy(n, |_| a(&["127.0.0.10"])), 0));
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report)[2..],
        [
            "V: BLACKLIST:list (zen:*:zen.example) answered 127.0.0.10 for 99.2.0.192.zen.example, which its codes and bitmask do not count",
            "V: BLACKLIST:192.0.2.99 was not found on list (zen:*:zen.example)",
        ]
    );
    assert_eq!(describe(&report.verdict), "pass");
}

#[test]
fn server_failure_is_an_error_not_a_listing() {
    let lists = lists("[[lists]]\nname = \"x\"\nzone = \"x.example\"\n");
    let mut dns = Dns::new(|n: &str, _| {
        (
            healthy(n, |_| Err(DnsError::ServerFailure("SERVFAIL".into()))),
            1,
        )
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report),
        [
            "V: BLACKLIST:connecting to service(x:*:x.example)",
            "V: BLACKLIST:retrying service (x:*:x.example)",
            "N: BLACKLIST:error from service (x:*:x.example) for 99.2.0.192.x.example: server failure: SERVFAIL",
        ]
    );
    assert_eq!(
        describe(&report.verdict),
        "inconclusive: could not check 1 black list: x (server failure: SERVFAIL)"
    );
}

#[test]
fn unanswered_self_test_keeps_the_answer() {
    let lists = lists("[[lists]]\nname = \"x\"\nzone = \"x.example\"\n");
    let mut dns = Dns::new(|n: &str, _| {
        if n.starts_with("1.0.0.127.") {
            (Err(DnsError::Timeout), 0)
        } else {
            (healthy(n, |_| Err(DnsError::Nxdomain)), 0)
        }
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        texts(&report)[2],
        "V: BLACKLIST:self-test of list (x:*:x.example) did not complete (1.0.0.127.x.example: timed out); its answer is used"
    );
    assert_eq!(describe(&report.verdict), "pass");
}

#[test]
fn no_lists_or_no_input_is_not_applicable_and_sends_nothing() {
    let mut dns = Dns::new(|_: &str, _| (Err(DnsError::Nxdomain), 0));
    assert_eq!(
        describe(&dns.run(&[], &session("192.0.2.99", None, None)).verdict),
        "not-applicable"
    );
    let helo = lists("[[lists]]\nname = \"h\"\nzone = \"h.example\"\ntype = \"helo\"\n");
    let report = dns.run(&helo, &session("192.0.2.99", None, Some("")));
    assert_eq!(describe(&report.verdict), "not-applicable");
    assert!(dns.batches.is_empty());
}

#[test]
fn missing_host_outcomes_do_not_panic() {
    let lists = lists(TWO_LISTS);
    let report = run(&lists, &session("192.0.2.99", None, None), |_| Vec::new());
    assert_eq!(
        describe(&report.verdict),
        "inconclusive: could not check 2 black lists: \
         spamhaus (bad reply: the host returned no outcome for this query), \
         local (bad reply: the host returned no outcome for this query)"
    );
}

/// A scripted DNS: the answer and retries for a query name.
type Script = fn(&str) -> (Answer, u32);

#[test]
fn seed_lines_match_their_patterns_and_own_lines_match_none() {
    let lists = lists(TWO_LISTS);
    let scripts: [Script; 5] = [
        |n| (healthy(n, |_| a(&["127.0.0.2"])), 1),
        |n| (healthy(n, |_| Err(DnsError::Nxdomain)), 0),
        |_| (Err(DnsError::Timeout), 3),
        |_| (a(&["127.255.255.255"]), 0),
        |_| (Err(DnsError::BadReply("short".into())), 0),
    ];
    let mut seen = Vec::new();
    for script in scripts {
        let mut dns = Dns::new(move |n: &str, rt| {
            if rt == RecordType::Txt {
                (txt("why"), 0)
            } else {
                script(n)
            }
        });
        for s in [
            session("192.0.2.99", None, None),
            session("2001:db8::1", None, None),
        ] {
            for line in dns.run(&lists, &s).lines {
                let ids = seed_ids(&line.text);
                let expected_level = match ids.as_slice() {
                    ["C01"] | ["C02"] => Level::Normal,
                    ["C17"] | ["C18"] | ["C19"] | ["C20"] => Level::Verbose,
                    [] => line.level,
                    more => panic!("{} matches {more:?}", line.text),
                };
                assert_eq!(line.level, expected_level, "{}", line.text);
                seen.extend(ids);
            }
        }
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, ["C01", "C02", "C17", "C18", "C19", "C20"]);
}

#[test]
fn standard_lists_are_the_counted_checks() {
    use antispam_sdk::ConnectionCheck;
    let settings = |toml: &str| antispam_sdk::Settings {
        domain: "example.test".into(),
        toml: toml.into(),
        files: vec![],
    };
    let check = crate::Dnsbl::configure(&settings(TWO_LISTS)).unwrap();
    assert_eq!(check.counted_checks(), 1, "the trusted list is not counted");
    assert_eq!(
        crate::Dnsbl::configure(&settings(""))
            .unwrap()
            .counted_checks(),
        0
    );
    let err = crate::Dnsbl::configure(&settings("[[lists]]\nzone = \"x\"\n"))
        .err()
        .unwrap();
    assert!(
        err.contains("settings for example.test") && err.contains("name"),
        "{err}"
    );
}

#[test]
fn an_access_key_goes_into_every_query_and_never_into_the_log() {
    let lists =
        lists("[[lists]]\nname = \"dqs\"\nzone = \"zen.dq.example\"\nkey = \"S3cretKey\"\n");
    let mut dns = Dns::new(|name: &str, record_type| {
        assert!(
            name.ends_with(".s3cretkey.zen.dq.example"),
            "every query carries the key: {name}"
        );
        match record_type {
            RecordType::Txt => (txt("listed, see https://check.example/"), 0),
            _ if name.starts_with("99.2.0.192.") => (a(&["127.255.255.254"]), 0),
            _ => (healthy(name, |_| a(&["127.0.0.2"])), 0),
        }
    });
    let report = dns.run(&lists, &session("192.0.2.99", None, None));
    assert_eq!(
        dns.batches[0],
        [
            "99.2.0.192.s3cretkey.zen.dq.example A",
            "2.0.0.127.s3cretkey.zen.dq.example A",
            "1.0.0.127.s3cretkey.zen.dq.example A",
        ]
    );
    assert_eq!(
        texts(&report),
        [
            "V: BLACKLIST:connecting to service(dqs:*:zen.dq.example)",
            "V: BLACKLIST:received a reply from service (dqs:*:zen.dq.example)",
            "N: BLACKLIST:service (dqs:*:zen.dq.example) answered 127.255.255.254 for 99.2.0.192.zen.dq.example, an error code and not a listing",
            "N: BLACKLIST:suspending zone zen.dq.example for 300 seconds",
        ]
    );
    assert_eq!(
        report.suspensions[0].zone, "s3cretkey.zen.dq.example",
        "the host suspends the keyed zone it is asked under"
    );
    for bad in ["", "two.labels", "-x", "sp ace"] {
        let toml = format!("[[lists]]\nname = \"dqs\"\nzone = \"zen.example\"\nkey = \"{bad}\"\n");
        let parsed = antispam_sdk::Settings {
            domain: "example.test".into(),
            toml,
            files: vec![],
        }
        .parse::<RawSettings>()
        .unwrap()
        .validate();
        assert!(parsed.is_err(), "{bad:?}");
    }
}
