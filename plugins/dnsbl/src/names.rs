//! Query names: what is sent to each list type (IMail's "message source") and the self-test
//! entries of RFC 5782 section 5.

use antispam_sdk::Session;
use antispam_sdk::net::{a_labels, normalize, reversed_labels};

use crate::settings::{List, ListType};

/// The longest query name DNS allows, in characters, without the trailing dot.
const MAX_NAME: usize = 253;
/// The longest label DNS allows.
const MAX_LABEL: usize = 63;
/// How much of an unusable input a skip reason quotes.
const QUOTE_CHARS: usize = 80;

/// What one list is asked for this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The message source as IMail logs it: the IP (not reversed), HELO, address or domain.
    pub source: String,
    /// The source as a header field can carry it: `source` when it is ASCII, otherwise with
    /// its internationalised name as A-labels.
    pub ascii_source: String,
    /// The query name, lower case: the reversed or rewritten source followed by the zone.
    pub name: String,
}

/// The target of `list` for `session`, or why the list does not apply (a verbose skip reason).
pub fn target(list: &List, session: &Session) -> Result<Target, String> {
    let (source, ascii_source, labels) = match list.kind {
        ListType::ClientIp => {
            let ip = normalize(&session.client_ip);
            if ip.is_ipv6() && !list.ipv6 {
                return Err(format!(
                    "the client {ip} is IPv6 and the list has ipv6 = false"
                ));
            }
            (ip.to_string(), ip.to_string(), reversed_labels(ip))
        }
        ListType::Helo => {
            let helo = session.helo.as_deref().map(str::trim).unwrap_or_default();
            if helo.is_empty() {
                return Err("the client sent no HELO".into());
            }
            let labels = domain_name(helo).ok_or_else(|| {
                format!("the HELO argument '{}' is not a domain name", quote(helo))
            })?;
            (helo.to_string(), labels.clone(), labels)
        }
        ListType::MailFrom => {
            let (local, domain) = sender(session)?;
            let address = format!("{local}@{domain}");
            if !local.is_ascii() {
                return Err(format!(
                    "the sender {} has a local part that is not ASCII",
                    quote(&address)
                ));
            }
            let unusable = || {
                format!(
                    "the sender {} cannot be written as a DNS name",
                    quote(&address)
                )
            };
            let ascii_domain = domain_name(domain).ok_or_else(unusable)?;
            let labels = domain_name(&format!("{local}.{ascii_domain}")).ok_or_else(unusable)?;
            (address.clone(), format!("{local}@{ascii_domain}"), labels)
        }
        ListType::Rhs => {
            let (_, domain) = sender(session)?;
            let full = domain_name(domain).ok_or_else(|| {
                format!("the sender domain '{}' is not a domain name", quote(domain))
            })?;
            let labels = if list.imail_rhs {
                imail_rhs(&full)?
            } else {
                full.clone()
            };
            (domain.to_string(), full, labels)
        }
    };
    let ascii_source = if source.is_ascii() {
        source.clone()
    } else {
        ascii_source
    };
    let name = format!("{labels}.{}", list.query_zone());
    if name.len() > MAX_NAME {
        return Err(format!(
            "the query name for {} is longer than {MAX_NAME} characters",
            quote(&source)
        ));
    }
    Ok(Target {
        source,
        ascii_source,
        name,
    })
}

/// The RFC 5782 test entries of `list`: the name that must be listed and the one that must
/// not (127.0.0.2 / 127.0.0.1 for address lists, `test` / `invalid` for domain lists).
pub fn self_test_names(list: &List) -> (String, String) {
    let (positive, negative) = match list.kind {
        ListType::ClientIp => ("2.0.0.127", "1.0.0.127"),
        ListType::Helo | ListType::MailFrom | ListType::Rhs => ("test", "invalid"),
    };
    (
        format!("{positive}.{}", list.query_zone()),
        format!("{negative}.{}", list.query_zone()),
    )
}

/// `name` as a lower-case DNS name without the trailing dot, when every label is 1 to 63
/// letters, digits, `-` (not first) or `_`, and the whole name fits in 253 characters. An
/// internationalised name is taken as its A-labels (UTS 46: `Bücher.example` is
/// `xn--bcher-kva.example`), the form lists publish; one that has none is not a name.
pub fn domain_name(name: &str) -> Option<String> {
    let name = a_labels(name.trim())?;
    let name = name.strip_suffix('.').unwrap_or(&name);
    let valid_label = |label: &str| {
        (1..=MAX_LABEL).contains(&label.len())
            && !label.starts_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (name.len() <= MAX_NAME && name.split('.').all(valid_label)).then(|| name.to_ascii_lowercase())
}

/// The local part and domain of the session's MAIL FROM, or why there is none.
fn sender(session: &Session) -> Result<(&str, &str), String> {
    let from = match session.mail_from.as_deref().map(str::trim) {
        None => return Err("the client sent no MAIL FROM".into()),
        Some("") => return Err("the sender is the null sender <>".into()),
        Some(from) => from,
    };
    match from.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok((local, domain)),
        _ => Err(format!("the sender '{}' has no domain", quote(from))),
    }
}

/// IMail's RHS form: the sender domain without its top-level label (`example1.com` is queried
/// as `example1`).
fn imail_rhs(domain: &str) -> Result<String, String> {
    match domain.rsplit_once('.') {
        Some((rest, _tld)) => Ok(rest.to_string()),
        None => Err(format!(
            "the sender domain '{domain}' has a single label, which IMail's RHS form drops"
        )),
    }
}

/// `text` made safe for a log line: control characters replaced, length bounded.
pub fn quote(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(QUOTE_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > QUOTE_CHARS {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::settings::RawSettings;

    fn list(kind: &str, extra: &str) -> List {
        let toml =
            format!("[[lists]]\nname = \"l\"\nzone = \"bl.example\"\ntype = \"{kind}\"\n{extra}\n");
        antispam_sdk::Settings {
            domain: "d".into(),
            toml,
            files: vec![],
        }
        .parse::<RawSettings>()
        .unwrap()
        .validate()
        .unwrap()
        .remove(0)
    }

    fn session(ip: &str, helo: Option<&str>, from: Option<&str>) -> Session {
        Session {
            message_id: "0123abcd".into(),
            domain: "example.test".into(),
            client_ip: ip.parse::<IpAddr>().unwrap().into(),
            helo: helo.map(Into::into),
            mail_from: from.map(Into::into),
            recipients: vec!["user@example.test".into()],
        }
    }

    fn name(kind: &str, extra: &str, s: &Session) -> Result<String, String> {
        target(&list(kind, extra), s).map(|t| t.name)
    }

    #[test]
    fn ipv4_client_is_reversed() {
        let t = target(&list("client-ip", ""), &session("192.0.2.99", None, None)).unwrap();
        assert_eq!(t.name, "99.2.0.192.bl.example");
        assert_eq!(t.source, "192.0.2.99");
    }

    #[test]
    fn ipv6_client_is_nibble_reversed() {
        let t = target(&list("client-ip", ""), &session("2001:db8::1", None, None)).unwrap();
        assert_eq!(
            t.name,
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"
        );
        assert_eq!(t.source, "2001:db8::1");
    }

    #[test]
    fn ipv4_mapped_client_is_queried_as_ipv4() {
        let s = session("::ffff:192.0.2.1", None, None);
        let t = target(&list("client-ip", "ipv6 = false"), &s).unwrap();
        assert_eq!(t.name, "1.2.0.192.bl.example");
        assert_eq!(t.source, "192.0.2.1");
    }

    #[test]
    fn ipv6_can_be_switched_off() {
        let s = session("2001:db8::1", None, None);
        let err = name("client-ip", "ipv6 = false", &s).unwrap_err();
        assert!(err.contains("IPv6"), "{err}");
    }

    #[test]
    fn helo_is_queried_under_the_zone() {
        let s = session("192.0.2.1", Some("MX1.Example1.com"), None);
        let t = target(&list("helo", ""), &s).unwrap();
        assert_eq!(t.name, "mx1.example1.com.bl.example");
        assert_eq!(t.source, "MX1.Example1.com");
    }

    #[test]
    fn unusable_helo_is_skipped() {
        assert!(name("helo", "", &session("192.0.2.1", None, None)).is_err());
        assert!(name("helo", "", &session("192.0.2.1", Some(" "), None)).is_err());
        let err = name("helo", "", &session("192.0.2.1", Some("[192.0.2.1]"), None)).unwrap_err();
        assert!(err.contains("not a domain name"), "{err}");
        let err = name("helo", "", &session("192.0.2.1", Some("a\nb"), None)).unwrap_err();
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn addr_turns_the_at_into_a_dot() {
        let s = session("192.0.2.1", None, Some("sender@example1.com"));
        let t = target(&list("mail-from", ""), &s).unwrap();
        assert_eq!(t.name, "sender.example1.com.bl.example");
        assert_eq!(t.source, "sender@example1.com");
        assert_eq!(t.ascii_source, "sender@example1.com");
    }

    #[test]
    fn rhs_standard_and_imail_forms() {
        let s = session("192.0.2.1", None, Some("sender@example1.com"));
        let t = target(&list("rhs", ""), &s).unwrap();
        assert_eq!(t.name, "example1.com.bl.example");
        assert_eq!(t.source, "example1.com");
        assert_eq!(
            name("rhs", "imail-rhs = true", &s).unwrap(),
            "example1.bl.example"
        );
        let single = session("192.0.2.1", None, Some("root@localhost"));
        assert!(name("rhs", "imail-rhs = true", &single).is_err());
        assert_eq!(name("rhs", "", &single).unwrap(), "localhost.bl.example");
    }

    #[test]
    fn missing_or_null_sender_is_skipped() {
        for kind in ["mail-from", "rhs"] {
            let none = name(kind, "", &session("192.0.2.1", None, None)).unwrap_err();
            assert!(none.contains("no MAIL FROM"), "{none}");
            let null = name(kind, "", &session("192.0.2.1", None, Some(""))).unwrap_err();
            assert!(null.contains("null sender"), "{null}");
            assert!(name(kind, "", &session("192.0.2.1", None, Some("nodomain"))).is_err());
            assert!(name(kind, "", &session("192.0.2.1", None, Some("a@[192.0.2.1]"))).is_err());
        }
        let plus = session("192.0.2.1", None, Some("a+b@example.com"));
        assert!(name("mail-from", "", &plus).is_err());
        assert_eq!(name("rhs", "", &plus).unwrap(), "example.com.bl.example");
    }

    #[test]
    fn internationalised_names_are_queried_as_a_labels() {
        let s = session(
            "192.0.2.1",
            Some("Mäil.Bücher.example"),
            Some("seller@Bücher.example"),
        );
        assert_eq!(
            name("helo", "", &s).unwrap(),
            "xn--mil-qla.xn--bcher-kva.example.bl.example"
        );
        let t = target(&list("rhs", ""), &s).unwrap();
        assert_eq!(t.name, "xn--bcher-kva.example.bl.example");
        assert_eq!(t.source, "Bücher.example", "logged as sent");
        assert_eq!(t.ascii_source, "xn--bcher-kva.example", "in headers");
        let t = target(&list("mail-from", ""), &s).unwrap();
        assert_eq!(t.name, "seller.xn--bcher-kva.example.bl.example");
        assert_eq!(t.ascii_source, "seller@xn--bcher-kva.example");
        let utf8_local = session("192.0.2.1", None, Some("jörg@example.com"));
        let err = name("mail-from", "", &utf8_local).unwrap_err();
        assert!(err.contains("not ASCII"), "{err}");
        assert_eq!(
            name("rhs", "", &utf8_local).unwrap(),
            "example.com.bl.example"
        );
    }

    #[test]
    fn overlong_names_are_skipped() {
        let label = "a".repeat(60);
        let helo = [label.as_str(); 4].join(".");
        let err = name("helo", "", &session("192.0.2.1", Some(&helo), None)).unwrap_err();
        assert!(err.contains("longer than 253"), "{err}");
    }

    #[test]
    fn self_test_entries() {
        assert_eq!(
            self_test_names(&list("client-ip", "")),
            ("2.0.0.127.bl.example".into(), "1.0.0.127.bl.example".into())
        );
        assert_eq!(
            self_test_names(&list("rhs", "")),
            ("test.bl.example".into(), "invalid.bl.example".into())
        );
    }

    #[test]
    fn domain_names_are_validated() {
        assert_eq!(domain_name("Bl.Example."), Some("bl.example".into()));
        assert_eq!(domain_name("_dmarc.example"), Some("_dmarc.example".into()));
        assert_eq!(domain_name("é.Example."), Some("xn--9ca.example".into()));
        for bad in [
            "",
            ".",
            "a..b",
            "-a.b",
            "a b",
            "a/b",
            "bü\u{ad}\u{fffd}.example",
            &"a".repeat(64),
        ] {
            assert_eq!(domain_name(bad), None, "{bad}");
        }
    }
}
