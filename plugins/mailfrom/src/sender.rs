//! Splitting the MAIL FROM address into what the callout needs.

use antispam_sdk::net::a_labels;

/// Why an address cannot be called out.
#[derive(Debug, PartialEq, Eq)]
pub enum SenderError {
    /// No domain, or one that cannot exist in the DNS: no mail server can be found (C06).
    Unresolvable,
    /// The address may be valid but cannot be verified this way (inconclusive).
    Unverifiable(&'static str),
}

/// Longest address that fits in `RCPT TO:<...>` (RFC 5321 section 4.5.3.1.3: path of 256
/// octets including the angle brackets).
const MAX_ADDRESS: usize = 254;

/// A MAIL FROM address as the callout needs it.
#[derive(Debug, PartialEq, Eq)]
pub struct Sender {
    /// The domain whose MX is looked up: lower-case, without a trailing dot, an internationalised
    /// name as its A-labels (`bücher.example` → `xn--bcher-kva.example`).
    pub domain: String,
    /// The address for `RCPT TO`: as given, or with the domain's A-labels when it had others
    /// (so that only a local part that is not ASCII needs SMTPUTF8, which the host asks for
    /// when the server offers it).
    pub recipient: String,
}

/// Splits a non-empty MAIL FROM address (`local@domain`, at the last `@`) into the domain to
/// look up and the address to ask for. An internationalised domain is converted to A-labels
/// (UTS 46); a local part that is not ASCII is kept as it is (RFC 6531).
pub fn parse(address: &str) -> Result<Sender, SenderError> {
    if address.len() > MAX_ADDRESS {
        return Err(SenderError::Unverifiable("address longer than 254 octets"));
    }
    if address
        .chars()
        .any(|c| c.is_control() || c == '<' || c == '>')
    {
        return Err(SenderError::Unverifiable(
            "address has characters RCPT TO cannot carry",
        ));
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(SenderError::Unresolvable);
    };
    if local.is_empty() {
        return Err(SenderError::Unverifiable("empty local part"));
    }
    if domain.starts_with('[') {
        return Err(SenderError::Unverifiable(
            "address literal instead of a domain",
        ));
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let (domain, recipient) = if domain.is_ascii() {
        (domain.to_ascii_lowercase(), address.to_string())
    } else {
        let ascii = a_labels(domain).ok_or(SenderError::Unresolvable)?;
        let recipient = format!("{local}@{ascii}");
        (ascii.into_owned(), recipient)
    };
    if !is_dns_name(&domain) {
        return Err(SenderError::Unresolvable);
    }
    Ok(Sender { domain, recipient })
}

/// A name the DNS can hold as a host: 1-63 byte labels of letters, digits, `-` and `_` (not
/// starting or ending with `-`), at most 253 bytes in all.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(address: &str) -> Result<String, SenderError> {
        parse(address).map(|s| s.domain)
    }

    #[test]
    fn domain_is_taken_after_the_last_at_sign() {
        assert_eq!(domain("Joe@Example.COM"), Ok("example.com".into()));
        assert_eq!(
            domain("\"a@b\"@mail.example.org."),
            Ok("mail.example.org".into())
        );
        assert_eq!(
            domain("x@under_score.example"),
            Ok("under_score.example".into())
        );
    }

    #[test]
    fn internationalised_domains_are_called_out_by_their_a_labels() {
        assert_eq!(
            parse("Joe@Bücher.Example."),
            Ok(Sender {
                domain: "xn--bcher-kva.example".into(),
                recipient: "Joe@xn--bcher-kva.example".into(),
            })
        );
        assert_eq!(
            parse("joe@ｅｘａｍｐｌｅ。com").map(|s| s.recipient),
            Ok("joe@example.com".into()),
            "full-width forms map to ASCII (UTS 46)"
        );
        assert_eq!(
            parse("Joe@Example.COM").map(|s| s.recipient),
            Ok("Joe@Example.COM".into()),
            "an ASCII address is asked for as given"
        );
        assert_eq!(
            parse("jörg@Bücher.example").map(|s| s.recipient),
            Ok("jörg@xn--bcher-kva.example".into()),
            "a local part that is not ASCII is kept (the host asks with SMTPUTF8)"
        );
        assert_eq!(
            domain("joe@bü\u{ad}\u{fffd}.example"),
            Err(SenderError::Unresolvable)
        );
    }

    #[test]
    fn addresses_without_a_possible_domain_are_unresolvable() {
        for address in [
            "postmaster",
            "joe@",
            "joe@-bad.example",
            "joe@a..b",
            "joe@ex ample.com",
        ] {
            assert_eq!(domain(address), Err(SenderError::Unresolvable), "{address}");
        }
        let long_label = format!("joe@{}.com", "a".repeat(64));
        assert_eq!(domain(&long_label), Err(SenderError::Unresolvable));
    }

    #[test]
    fn addresses_a_callout_cannot_carry_are_unverifiable() {
        for address in [
            "joe@example.com>\r\nDATA",
            "@example.com",
            "joe@[192.0.2.1]",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(
                matches!(domain(address), Err(SenderError::Unverifiable(_))),
                "{address}"
            );
        }
    }
}
