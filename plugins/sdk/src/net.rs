//! Address helpers: conversions, RFC 5782 query names, reverse-DNS names, internationalised
//! domain names.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::IpAddress;

impl From<&IpAddress> for IpAddr {
    fn from(ip: &IpAddress) -> Self {
        match *ip {
            IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
            }
        }
    }
}

impl From<IpAddr> for IpAddress {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, d] = v4.octets();
                IpAddress::Ipv4((a, b, c, d))
            }
            IpAddr::V6(v6) => {
                let [a, b, c, d, e, f, g, h] = v6.segments();
                IpAddress::Ipv6((a, b, c, d, e, f, g, h))
            }
        }
    }
}

/// The address with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) turned into IPv4.
pub fn normalize(ip: &IpAddress) -> IpAddr {
    match IpAddr::from(ip) {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The RFC 5782 label sequence for an address: reversed octets for IPv4, reversed lower-case
/// nibbles for IPv6 (as in `ip6.arpa`). IPv4-mapped IPv6 addresses are queried as IPv4.
pub fn reversed_labels(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}")
        }
        IpAddr::V6(v6) => {
            let hex: Vec<String> = v6
                .octets()
                .iter()
                .rev()
                .flat_map(|b| [b & 0x0f, b >> 4])
                .map(|n| format!("{n:x}"))
                .collect();
            hex.join(".")
        }
    }
}

/// A domain name as the DNS, mail servers and lists write it: an ASCII name as it is, an
/// internationalised one as its A-labels (UTS 46 processing: `Bücher.example` is
/// `xn--bcher-kva.example`, full-width letters and dots are mapped). `None` when the name has
/// no A-labels (a disallowed character, say).
pub fn a_labels(name: &str) -> Option<Cow<'_, str>> {
    if name.is_ascii() {
        Some(Cow::Borrowed(name))
    } else {
        idna::domain_to_ascii(name).ok().map(Cow::Owned)
    }
}

/// [`a_labels`] of `name`, or `name` as it is when it has none: for names that are compared,
/// not resolved, where an unconvertible name should still match itself.
pub fn a_labels_or_name(name: &str) -> Cow<'_, str> {
    a_labels(name).unwrap_or(Cow::Borrowed(name))
}

/// The PTR query name for an address (`in-addr.arpa` or `ip6.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    let zone = if ip.is_ipv4() {
        "in-addr.arpa"
    } else {
        "ip6.arpa"
    };
    format!("{}.{zone}", reversed_labels(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internationalised_names_become_a_labels() {
        assert_eq!(a_labels("Mail.Example").as_deref(), Some("Mail.Example"));
        assert_eq!(
            a_labels("Mäil.Bücher.example.").as_deref(),
            Some("xn--mil-qla.xn--bcher-kva.example.")
        );
        assert_eq!(
            a_labels("ｅｘａｍｐｌｅ。com").as_deref(),
            Some("example.com")
        );
        assert_eq!(a_labels("bü\u{ad}\u{fffd}.example"), None);
        assert_eq!(
            a_labels_or_name("bü\u{ad}\u{fffd}.example"),
            "bü\u{ad}\u{fffd}.example"
        );
    }

    #[test]
    fn ipv4_octets_are_reversed() {
        assert_eq!(reversed_labels("192.0.2.99".parse().unwrap()), "99.2.0.192");
    }

    #[test]
    fn ipv6_nibbles_are_reversed() {
        assert_eq!(
            reversed_labels("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
        );
    }

    #[test]
    fn mapped_ipv6_is_normalised_to_ipv4() {
        let mapped = IpAddress::from("::ffff:192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(normalize(&mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn reverse_name_has_arpa_zone() {
        assert_eq!(
            reverse_name("10.1.2.3".parse().unwrap()),
            "3.2.1.10.in-addr.arpa"
        );
    }
}
