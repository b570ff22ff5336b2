//! HELO argument syntax: address literals (RFC 5321 section 4.1.3) and Postfix's host-name
//! rules (`valid_hostname`, `reject_invalid_helo_hostname`, `reject_non_fqdn_helo_hostname`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest host name Postfix's `valid_hostname` accepts (`VALID_HOSTNAME_LEN`).
const MAX_HOSTNAME: usize = 255;
/// The longest name the DNS can carry in text form (RFC 1035: 255 octets on the wire).
const MAX_DNS_NAME: usize = 253;
/// The longest label (RFC 1035; Postfix `VALID_LABEL_LEN`).
const MAX_LABEL: usize = 63;

/// What the client gave as its HELO/EHLO argument.
#[derive(Debug, PartialEq, Eq)]
pub enum Argument<'a> {
    /// An argument that starts with `[`: the address it holds, or `None` when the brackets
    /// hold no valid `a.b.c.d` or `IPv6:` address (or are not closed).
    Literal(Option<IpAddr>),
    /// A host name, with one trailing dot trimmed (as Postfix does: not when it ends in `..`).
    Name(&'a str),
}

impl<'a> Argument<'a> {
    /// Classifies a HELO argument.
    pub fn parse(arg: &'a str) -> Self {
        if arg.starts_with('[') {
            Argument::Literal(parse_literal(arg))
        } else {
            Argument::Name(trim_trailing_dot(arg))
        }
    }

    /// Postfix `reject_invalid_helo_hostname`: a literal must hold a valid address; a name must
    /// be a valid host name, or (for backward compatibility) a bare IP address.
    pub fn is_valid_hostname(&self) -> bool {
        match self {
            Argument::Literal(ip) => ip.is_some(),
            Argument::Name(name) => valid_hostname(name) || name.parse::<IpAddr>().is_ok(),
        }
    }

    /// Postfix `reject_non_fqdn_helo_hostname`: a literal must hold a valid address; a name must
    /// be a valid host name with at least one dot. A bare IP address is not an FQDN.
    pub fn is_fqdn(&self) -> bool {
        match self {
            Argument::Literal(ip) => ip.is_some(),
            Argument::Name(name) => valid_hostname(name) && name.contains('.'),
        }
    }
}

/// The address in `[a.b.c.d]` or `[IPv6:x:x::x]` (the tag is case-insensitive).
fn parse_literal(arg: &str) -> Option<IpAddr> {
    let inner = arg.strip_prefix('[')?.strip_suffix(']')?;
    match inner.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
            inner[5..].parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        }
        _ => inner.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

/// Trims one trailing dot, unless the name is only `.` or ends in `..` (Postfix's rule).
fn trim_trailing_dot(name: &str) -> &str {
    match name.strip_suffix('.') {
        Some(rest) if !rest.is_empty() && !rest.ends_with('.') => rest,
        _ => name,
    }
}

/// Postfix `valid_hostname`: at most 255 characters; labels of 1 to 63 letters, digits, `-` or
/// `_`; no empty label; no label starting or ending with `-`; not all-numeric.
pub fn valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_HOSTNAME
        && name.split('.').all(valid_label)
        && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// One label of [`valid_hostname`].
fn valid_label(label: &str) -> bool {
    (1..=MAX_LABEL).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// True when `name` can be sent as a query name: printable ASCII without the master-file
/// escape character `\`, at most 253 characters, every label 1 to 63 octets. Any other name
/// cannot be asked for (the host refuses names it cannot encode), so it has no record.
pub fn resolvable(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_DNS_NAME
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && name
            .split('.')
            .all(|label| (1..=MAX_LABEL).contains(&label.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(text: &str) -> Argument<'_> {
        Argument::parse(text)
    }

    #[test]
    fn localhost_is_a_valid_name_but_not_fqdn() {
        assert!(arg("localhost").is_valid_hostname());
        assert!(!arg("localhost").is_fqdn());
    }

    #[test]
    fn dotted_names_are_fqdn_and_one_trailing_dot_is_trimmed() {
        assert!(arg("mail.example").is_fqdn());
        assert_eq!(arg("mail.example."), Argument::Name("mail.example"));
        assert!(arg("mail.example.").is_fqdn());
        assert!(!arg("localhost.").is_fqdn());
        assert_eq!(arg("mail.example.."), Argument::Name("mail.example.."));
        assert!(!arg("mail.example..").is_valid_hostname());
        assert!(!arg(".").is_valid_hostname());
    }

    #[test]
    fn ipv4_literal_is_valid_and_fqdn() {
        assert_eq!(
            arg("[192.0.2.1]"),
            Argument::Literal(Some("192.0.2.1".parse().unwrap()))
        );
        assert!(arg("[192.0.2.1]").is_valid_hostname());
        assert!(arg("[192.0.2.1]").is_fqdn());
    }

    #[test]
    fn out_of_range_literal_is_invalid() {
        assert_eq!(arg("[300.1.1.1]"), Argument::Literal(None));
        assert!(!arg("[300.1.1.1]").is_valid_hostname());
        assert!(!arg("[300.1.1.1]").is_fqdn());
    }

    #[test]
    fn ipv6_literal_needs_its_tag() {
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(arg("[IPv6:2001:db8::1]"), Argument::Literal(Some(v6)));
        assert_eq!(arg("[ipv6:2001:db8::1]"), Argument::Literal(Some(v6)));
        assert_eq!(arg("[2001:db8::1]"), Argument::Literal(None));
        assert_eq!(arg("[IPv6:192.0.2.1]"), Argument::Literal(None));
        assert_eq!(arg("[192.0.2.1"), Argument::Literal(None));
        assert_eq!(arg("[]"), Argument::Literal(None));
    }

    #[test]
    fn underscore_is_tolerated() {
        assert!(arg("exa_mple.com").is_valid_hostname());
        assert!(arg("exa_mple.com").is_fqdn());
    }

    #[test]
    fn hyphen_may_not_start_or_end_a_label() {
        assert!(!arg("-bad.example").is_valid_hostname());
        assert!(!arg("bad-.example").is_valid_hostname());
        assert!(!arg("-bad.example").is_fqdn());
        assert!(arg("good-name.example").is_valid_hostname());
    }

    #[test]
    fn bare_ip_passes_invalid_name_but_not_fqdn() {
        assert!(arg("1.2.3.4").is_valid_hostname());
        assert!(!arg("1.2.3.4").is_fqdn());
        assert!(arg("2001:db8::1").is_valid_hostname());
    }

    #[test]
    fn all_numeric_name_is_invalid() {
        assert!(!arg("123").is_valid_hostname());
        assert!(!arg("1.2.3").is_valid_hostname());
        assert!(arg("123a").is_valid_hostname());
    }

    #[test]
    fn bad_characters_and_lengths_are_invalid() {
        assert!(!arg("mail example.com").is_valid_hostname());
        assert!(!arg("mäil.example").is_valid_hostname());
        assert!(!arg("a..example").is_valid_hostname());
        assert!(!arg("").is_valid_hostname());
        let long_label = format!("{}.example", "a".repeat(64));
        assert!(!arg(&long_label).is_valid_hostname());
        let long_name = ["abcdefghi"; 26].join(".");
        assert_eq!(long_name.len(), 259);
        assert!(!arg(&long_name).is_valid_hostname());
    }

    #[test]
    fn resolvable_names_fit_the_dns() {
        assert!(resolvable("mail.example"));
        assert!(resolvable("1.2.3.4"));
        assert!(resolvable("under_score.example"));
        assert!(!resolvable(""));
        assert!(!resolvable("a b.example"));
        assert!(!resolvable("a\\.example"));
        assert!(!resolvable("mäil.example"));
        assert!(!resolvable("tab\t.example"));
        assert!(!resolvable("a..example"));
        assert!(!resolvable(".example"));
        assert!(!resolvable(&format!("{}.example", "a".repeat(64))));
        assert!(!resolvable(&["abcdefghi"; 26].join(".")));
    }
}
