//! The HELO decision: syntax options, address literals, then one batch of MX/A(/AAAA) lookups.

use std::borrow::Cow;
use std::net::IpAddr;

use antispam_sdk::IpAddress;
use antispam_sdk::dns::{Lookup, Query, RecordData, RecordType};
use antispam_sdk::net::{a_labels, normalize};

use crate::Options;
use crate::syntax::{self, Argument};

/// How a HELO argument fared.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Failed without DNS: a syntax option, an unusable literal, a literal that is not the
    /// client, or a name the DNS cannot carry.
    Rejected,
    /// A valid address literal (matching the client when that is required): no DNS.
    Literal,
    /// The DNS answered and the name has an MX or address record.
    Found,
    /// The DNS answered and the name has no MX or address record.
    Missing,
    /// No lookup got an answer (timeout, unreachable server, server failure, bad reply).
    NoReply,
}

/// Validates the HELO argument `helo` of a client at `client`, asking `resolve` for the DNS
/// lookups (called at most once, with one batch). A name that is not ASCII (U-labels, which
/// RFC 6531 section 3.3 allows in EHLO) is judged and looked up as its A-labels (UTS 46); one
/// that has none is rejected.
pub fn validate(
    options: &Options,
    helo: &str,
    client: IpAddr,
    resolve: impl FnOnce(&[Query]) -> Vec<Lookup>,
) -> Outcome {
    let helo = if helo.starts_with('[') {
        Cow::Borrowed(helo)
    } else {
        match a_labels(helo) {
            Some(name) => name,
            None => return Outcome::Rejected,
        }
    };
    let arg = Argument::parse(&helo);
    if (options.reject_invalid_hostname && !arg.is_valid_hostname())
        || (options.reject_non_fqdn && !arg.is_fqdn())
    {
        return Outcome::Rejected;
    }
    match arg {
        Argument::Literal(None) => Outcome::Rejected,
        Argument::Literal(Some(ip)) => {
            if options.literal_must_match_client && unmapped(ip) != unmapped(client) {
                Outcome::Rejected
            } else {
                Outcome::Literal
            }
        }
        Argument::Name(name) if !syntax::resolvable(name) => Outcome::Rejected,
        Argument::Name(name) => decide(&resolve(&queries(name, options.accept_aaaa))),
    }
}

/// The batch for a name: MX and A, plus AAAA when accepted.
fn queries(name: &str, accept_aaaa: bool) -> Vec<Query> {
    let mut types = vec![RecordType::Mx, RecordType::A];
    if accept_aaaa {
        types.push(RecordType::Aaaa);
    }
    types.into_iter().map(|t| Query::new(name, t)).collect()
}

/// The outcome of the lookups: any MX (a null MX included) or address record means the name
/// exists; records, NXDOMAIN or NODATA count as an answer; anything else is no answer.
pub fn decide(lookups: &[Lookup]) -> Outcome {
    let mut answered = false;
    for lookup in lookups {
        match &lookup.answer {
            Ok(records) => {
                answered = true;
                let names_host = |r: &RecordData| {
                    matches!(
                        r,
                        RecordData::Mx(_) | RecordData::A(_) | RecordData::Aaaa(_)
                    )
                };
                if records.iter().any(names_host) {
                    return Outcome::Found;
                }
            }
            Err(error) => answered |= error.is_definite(),
        }
    }
    if answered {
        Outcome::Missing
    } else {
        Outcome::NoReply
    }
}

/// The address with IPv4-mapped IPv6 turned into IPv4.
fn unmapped(ip: IpAddr) -> IpAddr {
    normalize(&IpAddress::from(ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use antispam_sdk::dns::{DnsError, MxRecord};

    const CLIENT: &str = "192.0.2.1";

    fn lookup(answer: Result<Vec<RecordData>, DnsError>) -> Lookup {
        Lookup { answer, retries: 0 }
    }

    fn a(ip: &str) -> RecordData {
        RecordData::A(IpAddress::from(ip.parse::<IpAddr>().unwrap()))
    }

    fn aaaa(ip: &str) -> RecordData {
        RecordData::Aaaa(IpAddress::from(ip.parse::<IpAddr>().unwrap()))
    }

    fn mx(exchange: &str) -> RecordData {
        RecordData::Mx(MxRecord {
            preference: 10,
            exchange: exchange.into(),
        })
    }

    /// Runs `validate` with a resolver that records the batch and answers `answers`.
    fn run(options: &Options, helo: &str, answers: Vec<Lookup>) -> (Outcome, Vec<Query>) {
        let mut asked = Vec::new();
        let outcome = validate(options, helo, CLIENT.parse().unwrap(), |qs| {
            asked.extend_from_slice(qs);
            answers
        });
        (outcome, asked)
    }

    fn all_options() -> Options {
        Options {
            accept_aaaa: true,
            reject_invalid_hostname: true,
            reject_non_fqdn: true,
            literal_must_match_client: true,
        }
    }

    #[test]
    fn name_is_looked_up_as_mx_and_a_in_one_batch() {
        let answers = vec![
            lookup(Err(DnsError::Nodata)),
            lookup(Ok(vec![a("192.0.2.9")])),
        ];
        let (outcome, asked) = run(&Options::default(), "mail.example.", answers);
        assert_eq!(outcome, Outcome::Found);
        let asked: Vec<_> = asked
            .iter()
            .map(|q| (q.name.as_str(), q.record_type))
            .collect();
        assert_eq!(
            asked,
            [
                ("mail.example", RecordType::Mx),
                ("mail.example", RecordType::A)
            ]
        );
    }

    #[test]
    fn aaaa_is_asked_only_when_accepted() {
        let options = Options {
            accept_aaaa: true,
            ..Options::default()
        };
        let (_, asked) = run(&options, "mail.example", vec![]);
        let types: Vec<_> = asked.iter().map(|q| q.record_type).collect();
        assert_eq!(types, [RecordType::Mx, RecordType::A, RecordType::Aaaa]);
    }

    #[test]
    fn no_mx_and_no_a_is_missing() {
        let answers = [
            lookup(Err(DnsError::Nxdomain)),
            lookup(Err(DnsError::Nxdomain)),
        ];
        assert_eq!(decide(&answers), Outcome::Missing);
    }

    #[test]
    fn mx_only_is_found_and_null_mx_counts() {
        let answers = [
            lookup(Ok(vec![mx("mx.example")])),
            lookup(Err(DnsError::Nodata)),
        ];
        assert_eq!(decide(&answers), Outcome::Found);
        let answers = [lookup(Ok(vec![mx(".")])), lookup(Err(DnsError::Nodata))];
        assert_eq!(decide(&answers), Outcome::Found);
    }

    #[test]
    fn aaaa_only_is_found_when_asked() {
        let answers = [
            lookup(Err(DnsError::Nodata)),
            lookup(Err(DnsError::Nodata)),
            lookup(Ok(vec![aaaa("2001:db8::25")])),
        ];
        assert_eq!(decide(&answers), Outcome::Found);
    }

    #[test]
    fn timeouts_everywhere_are_no_reply() {
        let answers = [
            lookup(Err(DnsError::Timeout)),
            lookup(Err(DnsError::Timeout)),
        ];
        assert_eq!(decide(&answers), Outcome::NoReply);
        let answers = [
            lookup(Err(DnsError::ServerFailure("SERVFAIL".into()))),
            lookup(Err(DnsError::ConnectionFailed("refused".into()))),
        ];
        assert_eq!(decide(&answers), Outcome::NoReply);
        assert_eq!(decide(&[]), Outcome::NoReply);
    }

    #[test]
    fn one_definite_answer_is_enough_to_decide() {
        let answers = [
            lookup(Err(DnsError::Timeout)),
            lookup(Err(DnsError::Nxdomain)),
        ];
        assert_eq!(decide(&answers), Outcome::Missing);
        let answers = [
            lookup(Err(DnsError::Timeout)),
            lookup(Ok(vec![a("192.0.2.9")])),
        ];
        assert_eq!(decide(&answers), Outcome::Found);
    }

    #[test]
    fn records_of_other_types_do_not_count() {
        let answers = [
            lookup(Ok(vec![RecordData::Txt("v=spf1".into())])),
            lookup(Ok(vec![])),
        ];
        assert_eq!(decide(&answers), Outcome::Missing);
    }

    #[test]
    fn syntax_failures_make_no_lookup() {
        let strict = all_options();
        for helo in [
            "localhost",
            "-bad.example",
            "123",
            "1.2.3.4",
            "[300.1.1.1]",
            "a b.example",
        ] {
            let (outcome, asked) = run(&strict, helo, vec![]);
            assert_eq!(outcome, Outcome::Rejected, "{helo}");
            assert!(asked.is_empty(), "{helo}");
        }
    }

    #[test]
    fn syntax_options_are_independent() {
        let invalid_only = Options {
            reject_invalid_hostname: true,
            ..Options::default()
        };
        assert_eq!(run(&invalid_only, "localhost", vec![]).0, Outcome::NoReply);
        assert_eq!(run(&invalid_only, "1.2.3.4", vec![]).0, Outcome::NoReply);
        assert_eq!(
            run(&invalid_only, "-bad.example", vec![]).0,
            Outcome::Rejected
        );
        let fqdn_only = Options {
            reject_non_fqdn: true,
            ..Options::default()
        };
        assert_eq!(run(&fqdn_only, "localhost", vec![]).0, Outcome::Rejected);
        assert_eq!(run(&fqdn_only, "exa_mple.com", vec![]).0, Outcome::NoReply);
    }

    #[test]
    fn without_options_any_resolvable_name_is_looked_up() {
        let (outcome, asked) = run(&Options::default(), "localhost", vec![]);
        assert_eq!(outcome, Outcome::NoReply);
        assert_eq!(asked.len(), 2);
        for helo in ["a..example", "a b.example", "bü\u{ad}\u{fffd}.example", "."] {
            let (outcome, asked) = run(&Options::default(), helo, vec![]);
            assert_eq!(outcome, Outcome::Rejected, "{helo}");
            assert!(asked.is_empty(), "{helo}");
        }
    }

    #[test]
    fn u_labels_are_judged_and_looked_up_as_a_labels() {
        let answers = || vec![lookup(Ok(vec![mx("mx.example")])), lookup(Ok(vec![]))];
        for options in [Options::default(), all_options()] {
            let (outcome, asked) = run(&options, "Mäil.Bücher.example.", answers());
            assert_eq!(outcome, Outcome::Found);
            assert_eq!(asked[0].name, "xn--mil-qla.xn--bcher-kva.example");
        }
        let (outcome, _) = run(&all_options(), "bücher", answers());
        assert_eq!(outcome, Outcome::Rejected, "still not an FQDN");
    }

    #[test]
    fn literal_passes_without_dns_unless_it_must_match() {
        let (outcome, asked) = run(&Options::default(), "[198.51.100.7]", vec![]);
        assert_eq!(outcome, Outcome::Literal);
        assert!(asked.is_empty());
        let matching = Options {
            literal_must_match_client: true,
            ..Options::default()
        };
        assert_eq!(
            run(&matching, "[198.51.100.7]", vec![]).0,
            Outcome::Rejected
        );
        assert_eq!(run(&matching, "[192.0.2.1]", vec![]).0, Outcome::Literal);
    }

    #[test]
    fn literal_matching_normalises_mapped_addresses() {
        let matching = Options {
            literal_must_match_client: true,
            ..Options::default()
        };
        assert_eq!(
            run(&matching, "[IPv6:::ffff:192.0.2.1]", vec![]).0,
            Outcome::Literal
        );
        assert_eq!(
            run(&matching, "[IPv6:2001:db8::1]", vec![]).0,
            Outcome::Rejected
        );
        let v6_client = "::ffff:192.0.2.1".parse().unwrap();
        let outcome = validate(&matching, "[192.0.2.1]", v6_client, |_| vec![]);
        assert_eq!(outcome, Outcome::Literal);
        let v6_client = "2001:db8::1".parse().unwrap();
        let outcome = validate(&matching, "[IPv6:2001:DB8:0::1]", v6_client, |_| vec![]);
        assert_eq!(outcome, Outcome::Literal);
    }

    #[test]
    fn broken_literal_always_fails() {
        let (outcome, asked) = run(&Options::default(), "[not-an-address]", vec![]);
        assert_eq!(outcome, Outcome::Rejected);
        assert!(asked.is_empty());
    }
}
