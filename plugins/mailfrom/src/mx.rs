//! Finding the sender's mail servers (RFC 5321 section 5.1, RFC 7505): MX hosts in order of
//! preference, the implicit MX, the null MX, and the addresses to call out.
//!
//! Equal preferences are put in a pseudo-random order that is deterministic: each host is
//! ranked by an FNV-1a hash of the message id, the sender domain and the host name. Different
//! messages spread over equal hosts; the same message always gives the same order, so test
//! runs and logs are reproducible. (The component has no randomness source of its own.)

use std::net::IpAddr;

use antispam_sdk::dns::{DnsError, Lookup, Query, RecordData, RecordType};

/// The mail servers the MX lookup names.
#[derive(Debug, PartialEq, Eq)]
pub enum Exchanges {
    /// Host names to resolve, most preferred first (the domain itself for an implicit MX).
    Hosts(Vec<String>),
    /// The domain publishes a null MX (`MX 0 .`): it accepts no mail.
    NullMx,
    /// The domain does not exist (NXDOMAIN).
    NoSuchDomain,
    /// The DNS gave no usable answer (timeout, server failure, bad reply).
    DnsFailed(String),
}

/// Orders the answer to the MX query for `domain`. `seed` (see [`seed`]) orders equal
/// preferences.
pub fn exchanges(domain: &str, answer: &Result<Vec<RecordData>, DnsError>, seed: u64) -> Exchanges {
    let records = match answer {
        Ok(records) => records,
        Err(DnsError::Nodata) => return Exchanges::Hosts(vec![domain.to_string()]),
        Err(DnsError::Nxdomain) => return Exchanges::NoSuchDomain,
        Err(e) => return Exchanges::DnsFailed(e.to_string()),
    };
    let mut mx: Vec<(u16, u64, String)> = Vec::new();
    let mut null_mx = false;
    for record in records {
        let RecordData::Mx(m) = record else { continue };
        let host = m.exchange.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            null_mx = true;
        } else if !mx.iter().any(|(_, _, h)| *h == host) {
            mx.push((m.preference, fnv1a(seed, host.as_bytes()), host));
        }
    }
    if mx.is_empty() {
        return if null_mx {
            Exchanges::NullMx
        } else {
            Exchanges::Hosts(vec![domain.to_string()])
        };
    }
    mx.sort();
    Exchanges::Hosts(mx.into_iter().map(|(_, _, host)| host).collect())
}

/// The seed for ordering equal preferences: FNV-1a of the message id and the sender domain.
pub fn seed(message_id: &str, domain: &str) -> u64 {
    fnv1a(fnv1a(FNV_OFFSET, message_id.as_bytes()), domain.as_bytes())
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Continues an FNV-1a 64-bit hash from `state` over `bytes`, then a 0xff separator.
fn fnv1a(state: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .chain(&[0xff])
        .fold(state, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// The A and AAAA queries for `hosts`, two per host in host order.
pub fn address_queries(hosts: &[String]) -> Vec<Query> {
    hosts
        .iter()
        .flat_map(|h| {
            [
                Query::new(h.as_str(), RecordType::A),
                Query::new(h.as_str(), RecordType::Aaaa),
            ]
        })
        .collect()
}

/// One address to call out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The MX host (or the domain, for an implicit MX).
    pub host: String,
    /// One of its addresses.
    pub ip: IpAddr,
}

impl Target {
    /// The server as logged: `host[address]`.
    pub fn server(&self) -> String {
        format!("{}[{}]", self.host, self.ip)
    }
}

/// The addresses the lookups found.
#[derive(Debug, PartialEq, Eq)]
pub enum Targets {
    /// Addresses in host order (A before AAAA within a host), without repeats.
    Found(Vec<Target>),
    /// Every lookup answered, and no host has a usable address.
    NoneResolvable,
    /// No usable address, and at least one lookup got no usable answer (this error).
    DnsFailed(String),
}

/// Picks at most `max` addresses from the answers to [`address_queries`] for `hosts`.
/// Unspecified, multicast and broadcast addresses are never used. Addresses are used exactly
/// as answered (an IPv4-mapped AAAA is not turned into IPv4), since the host only lets a
/// check call out addresses its own lookups returned.
pub fn targets(hosts: &[String], lookups: &[Lookup], max: usize) -> Targets {
    let mut found: Vec<Target> = Vec::new();
    let mut dns_error = None;
    for (i, lookup) in lookups.iter().enumerate() {
        let Some(host) = hosts.get(i / 2) else { break };
        let records = match &lookup.answer {
            Ok(records) => records,
            Err(e) => {
                if !e.is_definite() {
                    dns_error.get_or_insert_with(|| format!("{host}: {e}"));
                }
                continue;
            }
        };
        for record in records {
            let ip = match record {
                RecordData::A(ip) | RecordData::Aaaa(ip) => IpAddr::from(ip),
                _ => continue,
            };
            if usable(ip) && found.len() < max && !found.iter().any(|t| t.ip == ip) {
                found.push(Target {
                    host: host.clone(),
                    ip,
                });
            }
        }
    }
    match (found.is_empty(), dns_error) {
        (false, _) => Targets::Found(found),
        (true, None) => Targets::NoneResolvable,
        (true, Some(e)) => Targets::DnsFailed(e),
    }
}

/// An address a mail server can listen on.
fn usable(ip: IpAddr) -> bool {
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    !(ip.is_unspecified() || ip.is_multicast() || broadcast)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use antispam_sdk::dns::MxRecord;

    use super::*;

    fn mx(preference: u16, exchange: &str) -> RecordData {
        RecordData::Mx(MxRecord {
            preference,
            exchange: exchange.into(),
        })
    }

    fn hosts(list: &[&str]) -> Exchanges {
        Exchanges::Hosts(list.iter().map(|s| s.to_string()).collect())
    }

    fn lookup(answer: Result<Vec<RecordData>, DnsError>) -> Lookup {
        Lookup { answer, retries: 0 }
    }

    fn a(ip: &str) -> RecordData {
        RecordData::A(ip.parse::<IpAddr>().unwrap().into())
    }

    fn aaaa(ip: &str) -> RecordData {
        RecordData::Aaaa(ip.parse::<IpAddr>().unwrap().into())
    }

    fn target(host: &str, ip: &str) -> Target {
        Target {
            host: host.into(),
            ip: ip.parse().unwrap(),
        }
    }

    #[test]
    fn lower_preference_first_and_equal_preferences_in_seeded_order() {
        let answer = Ok(vec![
            mx(10, "a.example"),
            mx(10, "b.example"),
            mx(5, "c.example"),
        ]);
        let mut orders = BTreeSet::new();
        for n in 0..32 {
            let Exchanges::Hosts(order) =
                exchanges("example", &answer, seed(&format!("{n:x}"), "example"))
            else {
                panic!("hosts expected");
            };
            assert_eq!(order[0], "c.example");
            assert_eq!(
                BTreeSet::from_iter(&order[1..]),
                BTreeSet::from_iter(&["a.example".to_string(), "b.example".to_string()])
            );
            orders.insert(order);
        }
        assert_eq!(
            orders.len(),
            2,
            "both orders of the equal preferences occur"
        );
        assert_eq!(
            exchanges("example", &answer, seed("m1", "example")),
            exchanges("example", &answer, seed("m1", "example")),
        );
    }

    #[test]
    fn exchanges_are_normalised_and_not_repeated() {
        let answer = Ok(vec![
            mx(20, "MX.Example."),
            mx(10, "mx.example"),
            mx(30, "other.example"),
        ]);
        assert_eq!(
            exchanges("example", &answer, 0),
            hosts(&["mx.example", "other.example"])
        );
    }

    #[test]
    fn no_mx_means_the_domain_itself() {
        assert_eq!(
            exchanges("example", &Err(DnsError::Nodata), 0),
            hosts(&["example"])
        );
        assert_eq!(exchanges("example", &Ok(vec![]), 0), hosts(&["example"]));
    }

    #[test]
    fn null_mx_nxdomain_and_dns_trouble() {
        assert_eq!(
            exchanges("example", &Ok(vec![mx(0, ".")]), 0),
            Exchanges::NullMx
        );
        assert_eq!(
            exchanges("example", &Ok(vec![mx(0, "")]), 0),
            Exchanges::NullMx
        );
        let mixed = Ok(vec![mx(0, "."), mx(10, "mx.example")]);
        assert_eq!(exchanges("example", &mixed, 0), hosts(&["mx.example"]));
        assert_eq!(
            exchanges("example", &Err(DnsError::Nxdomain), 0),
            Exchanges::NoSuchDomain
        );
        assert_eq!(
            exchanges(
                "example",
                &Err(DnsError::ServerFailure("SERVFAIL".into())),
                0
            ),
            Exchanges::DnsFailed("server failure: SERVFAIL".into())
        );
        assert_eq!(
            exchanges("example", &Err(DnsError::Timeout), 0),
            Exchanges::DnsFailed("timed out".into())
        );
    }

    #[test]
    fn queries_are_a_then_aaaa_per_host() {
        let queries = address_queries(&["m1".into(), "m2".into()]);
        let asked: Vec<(&str, RecordType)> = queries
            .iter()
            .map(|q| (q.name.as_str(), q.record_type))
            .collect();
        assert_eq!(
            asked,
            [
                ("m1", RecordType::A),
                ("m1", RecordType::Aaaa),
                ("m2", RecordType::A),
                ("m2", RecordType::Aaaa)
            ]
        );
    }

    #[test]
    fn targets_keep_host_order_without_repeats_or_unusable_addresses() {
        let hosts = ["m1".to_string(), "m2".to_string()];
        let lookups = [
            lookup(Ok(vec![a("192.0.2.1"), a("0.0.0.0"), a("255.255.255.255")])),
            lookup(Ok(vec![aaaa("2001:db8::1"), aaaa("ff02::1")])),
            lookup(Ok(vec![a("192.0.2.1"), a("224.0.0.1"), a("192.0.2.2")])),
            lookup(Err(DnsError::Nodata)),
        ];
        assert_eq!(
            targets(&hosts, &lookups, 5),
            Targets::Found(vec![
                target("m1", "192.0.2.1"),
                target("m1", "2001:db8::1"),
                target("m2", "192.0.2.2"),
            ])
        );
        assert_eq!(
            targets(&hosts, &lookups, 1),
            Targets::Found(vec![target("m1", "192.0.2.1")])
        );
    }

    #[test]
    fn no_address_is_unresolvable_or_dns_trouble() {
        let hosts = ["m1".to_string()];
        let definite = [
            lookup(Err(DnsError::Nxdomain)),
            lookup(Ok(vec![a("0.0.0.0")])),
        ];
        assert_eq!(targets(&hosts, &definite, 5), Targets::NoneResolvable);
        let trouble = [
            lookup(Err(DnsError::Nodata)),
            lookup(Err(DnsError::Timeout)),
        ];
        assert_eq!(
            targets(&hosts, &trouble, 5),
            Targets::DnsFailed("m1: timed out".into())
        );
        let partial = [
            lookup(Ok(vec![a("192.0.2.9")])),
            lookup(Err(DnsError::Timeout)),
        ];
        assert_eq!(
            targets(&hosts, &partial, 5),
            Targets::Found(vec![target("m1", "192.0.2.9")])
        );
    }
}
