//! The reverse-DNS decision: a PTR lookup of the client, then (FCrDNS) one batch of forward
//! lookups of the PTR names.

use std::collections::BTreeSet;
use std::net::IpAddr;

use antispam_sdk::dns::{Lookup, Query, RecordData, RecordType};
use antispam_sdk::net::{normalize, reverse_name};

use crate::Mode;

/// At most this many PTR names are forward-checked.
pub const MAX_NAMES: usize = 10;

/// How the client address fared.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A PTR exists (ptr-exists), or a PTR name resolves back to the client (FCrDNS).
    Succeeded,
    /// No PTR, or no PTR name resolves back to the client.
    Failed,
    /// The PTR names have no MX and no address record at all.
    NoRecord,
    /// The DNS server gave no usable answer to the PTR lookup, or to an address lookup whose
    /// record might have confirmed the client.
    NoReply,
}

/// Validates `client` (already normalised: IPv4-mapped IPv6 as IPv4) in `mode`, asking
/// `resolve` for each batch of lookups (at most two batches).
pub fn validate(
    mode: Mode,
    client: IpAddr,
    mut resolve: impl FnMut(&[Query]) -> Vec<Lookup>,
) -> Outcome {
    let ptr = resolve(&[Query::new(reverse_name(client), RecordType::Ptr)]);
    let names = match ptr_names(ptr.first()) {
        Ok(names) if names.is_empty() => return Outcome::Failed,
        Ok(names) => names,
        Err(()) => return Outcome::NoReply,
    };
    match mode {
        Mode::PtrExists => Outcome::Succeeded,
        Mode::Fcrdns => {
            let queries = forward_queries(&names, client);
            let lookups = resolve(&queries);
            confirm(client, &queries, &lookups)
        }
    }
}

/// The distinct PTR names (trailing dot trimmed, case-insensitive, first [`MAX_NAMES`]),
/// empty when the address has none, or `Err` when the server gave no usable answer.
fn ptr_names(lookup: Option<&Lookup>) -> Result<Vec<String>, ()> {
    let records = match lookup.map(|l| &l.answer) {
        Some(Ok(records)) => records,
        Some(Err(error)) if error.is_definite() => return Ok(Vec::new()),
        _ => return Err(()),
    };
    let mut seen = BTreeSet::new();
    let names = records
        .iter()
        .filter_map(|r| match r {
            RecordData::Ptr(name) => Some(name.strip_suffix('.').unwrap_or(name)),
            _ => None,
        })
        .filter(|name| !name.is_empty() && seen.insert(name.to_ascii_lowercase()))
        .take(MAX_NAMES)
        .map(str::to_string)
        .collect();
    Ok(names)
}

/// For each name, the address lookup of the client's family (A or AAAA), then MX.
fn forward_queries(names: &[String], client: IpAddr) -> Vec<Query> {
    let address = if client.is_ipv4() {
        RecordType::A
    } else {
        RecordType::Aaaa
    };
    names
        .iter()
        .flat_map(|name| [Query::new(name, address), Query::new(name, RecordType::Mx)])
        .collect()
}

/// The FCrDNS verdict over the forward lookups (in query order; a missing lookup counts as
/// unanswered): any address record equal to the client confirms it; otherwise an unanswered
/// address lookup leaves it open; otherwise no record at all is [`Outcome::NoRecord`].
fn confirm(client: IpAddr, queries: &[Query], lookups: &[Lookup]) -> Outcome {
    let (mut any_record, mut address_unanswered, mut mx_unanswered) = (false, false, false);
    for (i, query) in queries.iter().enumerate() {
        match lookups.get(i).map(|l| &l.answer) {
            Some(Ok(records)) => {
                for record in records {
                    match record {
                        RecordData::A(ip) | RecordData::Aaaa(ip) if normalize(ip) == client => {
                            return Outcome::Succeeded;
                        }
                        RecordData::A(_) | RecordData::Aaaa(_) | RecordData::Mx(_) => {
                            any_record = true;
                        }
                        RecordData::Txt(_) | RecordData::Ptr(_) => {}
                    }
                }
            }
            Some(Err(error)) if error.is_definite() => {}
            _ if query.record_type == RecordType::Mx => mx_unanswered = true,
            _ => address_unanswered = true,
        }
    }
    if address_unanswered {
        Outcome::NoReply
    } else if any_record || mx_unanswered {
        Outcome::Failed
    } else {
        Outcome::NoRecord
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use antispam_sdk::IpAddress;
    use antispam_sdk::dns::{DnsError, MxRecord};

    const V4: &str = "192.0.2.25";
    const V6: &str = "2001:db8::25";

    fn ok(records: Vec<RecordData>) -> Lookup {
        Lookup {
            answer: Ok(records),
            retries: 0,
        }
    }

    fn err(error: DnsError) -> Lookup {
        Lookup {
            answer: Err(error),
            retries: 2,
        }
    }

    fn ptr(name: &str) -> RecordData {
        RecordData::Ptr(name.into())
    }

    fn addr(ip: &str) -> RecordData {
        match ip.parse::<IpAddr>().unwrap() {
            v4 @ IpAddr::V4(_) => RecordData::A(IpAddress::from(v4)),
            v6 => RecordData::Aaaa(IpAddress::from(v6)),
        }
    }

    fn mx() -> RecordData {
        RecordData::Mx(MxRecord {
            preference: 10,
            exchange: "mx.example".into(),
        })
    }

    /// Runs `validate` for `client`, answering the batches in turn; returns the outcome and
    /// the batches asked, as `(name, type)` pairs.
    fn run(
        mode: Mode,
        client: &str,
        batches: Vec<Vec<Lookup>>,
    ) -> (Outcome, Vec<Vec<(String, RecordType)>>) {
        let mut answers = batches.into_iter();
        let mut asked = Vec::new();
        let outcome = validate(mode, client.parse().unwrap(), |queries| {
            asked.push(
                queries
                    .iter()
                    .map(|q| (q.name.clone(), q.record_type))
                    .collect(),
            );
            answers.next().unwrap_or_default()
        });
        (outcome, asked)
    }

    #[test]
    fn ipv4_ptr_then_a_and_mx_confirms() {
        let batches = vec![
            vec![ok(vec![ptr("mail.example.")])],
            vec![
                ok(vec![addr("198.51.100.1"), addr(V4)]),
                err(DnsError::Nodata),
            ],
        ];
        let (outcome, asked) = run(Mode::Fcrdns, V4, batches);
        assert_eq!(outcome, Outcome::Succeeded);
        assert_eq!(
            asked[0],
            [("25.2.0.192.in-addr.arpa".to_string(), RecordType::Ptr)]
        );
        assert_eq!(
            asked[1],
            [
                ("mail.example".to_string(), RecordType::A),
                ("mail.example".into(), RecordType::Mx)
            ]
        );
    }

    #[test]
    fn ipv6_ptr_then_aaaa_confirms() {
        let batches = vec![
            vec![ok(vec![ptr("mail6.example")])],
            vec![ok(vec![addr(V6)])],
        ];
        let (outcome, asked) = run(Mode::Fcrdns, V6, batches);
        assert_eq!(outcome, Outcome::Succeeded);
        assert!(asked[0][0].0.ends_with(".8.b.d.0.1.0.0.2.ip6.arpa"));
        assert_eq!(asked[1][0], ("mail6.example".to_string(), RecordType::Aaaa));
    }

    #[test]
    fn forward_addresses_of_other_hosts_fail() {
        let batches = vec![
            vec![ok(vec![ptr("a.example")])],
            vec![ok(vec![addr("198.51.100.1")]), err(DnsError::Nodata)],
        ];
        assert_eq!(run(Mode::Fcrdns, V4, batches).0, Outcome::Failed);
        let batches = vec![
            vec![ok(vec![ptr("a.example")])],
            vec![ok(vec![addr("2001:db8::99")]), ok(vec![mx()])],
        ];
        assert_eq!(run(Mode::Fcrdns, V6, batches).0, Outcome::Failed);
    }

    #[test]
    fn mx_without_address_fails_but_is_not_no_record() {
        let batches = vec![
            vec![ok(vec![ptr("a.example")])],
            vec![err(DnsError::Nodata), ok(vec![mx()])],
        ];
        assert_eq!(run(Mode::Fcrdns, V4, batches).0, Outcome::Failed);
    }

    #[test]
    fn names_without_any_record_are_no_record() {
        let batches = vec![
            vec![ok(vec![ptr("a.example"), ptr("b.example")])],
            vec![
                err(DnsError::Nxdomain),
                err(DnsError::Nxdomain),
                err(DnsError::Nodata),
                err(DnsError::Nodata),
            ],
        ];
        assert_eq!(run(Mode::Fcrdns, V4, batches).0, Outcome::NoRecord);
        let batches = vec![
            vec![ok(vec![ptr("a.example")])],
            vec![ok(vec![]), err(DnsError::Nxdomain)],
        ];
        assert_eq!(run(Mode::Fcrdns, V6, batches).0, Outcome::NoRecord);
    }

    #[test]
    fn unknown_mx_with_no_address_is_a_plain_failure() {
        let batches = vec![
            vec![ok(vec![ptr("a.example")])],
            vec![err(DnsError::Nxdomain), err(DnsError::Timeout)],
        ];
        assert_eq!(run(Mode::Fcrdns, V4, batches).0, Outcome::Failed);
    }

    #[test]
    fn no_ptr_fails_in_both_modes() {
        for mode in [Mode::Fcrdns, Mode::PtrExists] {
            for client in [V4, V6] {
                let (outcome, asked) = run(mode, client, vec![vec![err(DnsError::Nxdomain)]]);
                assert_eq!(outcome, Outcome::Failed);
                assert_eq!(asked.len(), 1, "no forward lookups without a PTR");
                let batches = vec![vec![err(DnsError::Nodata)]];
                assert_eq!(run(mode, client, batches).0, Outcome::Failed);
                let batches = vec![vec![ok(vec![RecordData::Txt("x".into())])]];
                assert_eq!(run(mode, client, batches).0, Outcome::Failed);
            }
        }
    }

    #[test]
    fn ptr_timeout_is_no_reply_in_both_modes() {
        for mode in [Mode::Fcrdns, Mode::PtrExists] {
            for client in [V4, V6] {
                for error in [
                    DnsError::Timeout,
                    DnsError::ConnectionFailed("refused".into()),
                    DnsError::ServerFailure("SERVFAIL".into()),
                ] {
                    let (outcome, asked) = run(mode, client, vec![vec![err(error)]]);
                    assert_eq!(outcome, Outcome::NoReply);
                    assert_eq!(asked.len(), 1);
                }
                assert_eq!(run(mode, client, vec![vec![]]).0, Outcome::NoReply);
            }
        }
    }

    #[test]
    fn forward_timeouts_are_no_reply() {
        for client in [V4, V6] {
            let batches = vec![
                vec![ok(vec![ptr("a.example")])],
                vec![err(DnsError::Timeout), err(DnsError::Timeout)],
            ];
            assert_eq!(run(Mode::Fcrdns, client, batches).0, Outcome::NoReply);
            let batches = vec![vec![ok(vec![ptr("a.example")])], vec![]];
            assert_eq!(run(Mode::Fcrdns, client, batches).0, Outcome::NoReply);
        }
    }

    #[test]
    fn an_unanswered_name_leaves_a_mismatch_open() {
        let batches = vec![
            vec![ok(vec![ptr("a.example"), ptr("b.example")])],
            vec![
                ok(vec![addr("198.51.100.1")]),
                ok(vec![mx()]),
                err(DnsError::Timeout),
                err(DnsError::Nodata),
            ],
        ];
        assert_eq!(run(Mode::Fcrdns, V4, batches).0, Outcome::NoReply);
    }

    #[test]
    fn a_confirming_name_wins_over_timeouts() {
        let batches = vec![
            vec![ok(vec![ptr("a.example"), ptr("b.example")])],
            vec![
                err(DnsError::Timeout),
                err(DnsError::Timeout),
                ok(vec![addr(V4)]),
            ],
        ];
        assert_eq!(run(Mode::Fcrdns, V4, batches).0, Outcome::Succeeded);
    }

    #[test]
    fn ptr_exists_passes_without_forward_lookups() {
        for client in [V4, V6] {
            let (outcome, asked) = run(
                Mode::PtrExists,
                client,
                vec![vec![ok(vec![ptr("dyn-1-2.isp.example")])]],
            );
            assert_eq!(outcome, Outcome::Succeeded);
            assert_eq!(asked.len(), 1);
        }
    }

    #[test]
    fn mapped_client_is_looked_up_as_ipv4_and_matched() {
        let client = normalize(&IpAddress::from(
            "::ffff:192.0.2.25".parse::<IpAddr>().unwrap(),
        ));
        let batches = vec![
            vec![ok(vec![ptr("mail.example")])],
            vec![ok(vec![addr(V4)])],
        ];
        let (outcome, asked) = run(Mode::Fcrdns, &client.to_string(), batches);
        assert_eq!(outcome, Outcome::Succeeded);
        assert_eq!(asked[0][0].0, "25.2.0.192.in-addr.arpa");
        assert_eq!(asked[1][0].1, RecordType::A);
    }

    #[test]
    fn ptr_names_are_deduplicated_and_capped() {
        let mut records: Vec<_> = (0..30).map(|i| ptr(&format!("h{i}.example."))).collect();
        records.insert(1, ptr("H0.EXAMPLE"));
        records.push(ptr("."));
        let (_, asked) = run(Mode::Fcrdns, V4, vec![vec![ok(records)], vec![]]);
        assert_eq!(asked[1].len(), 2 * MAX_NAMES);
        assert_eq!(asked[1][0].0, "h0.example");
        assert_eq!(asked[1][2].0, "h1.example");
    }
}
