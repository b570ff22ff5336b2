//! Splitting the MAIL FROM address into what the callout needs.

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

/// The domain of a non-empty MAIL FROM address (`local@domain`, split at the last `@`):
/// lower-case, without a trailing dot, the name whose MX is looked up.
pub fn domain(address: &str) -> Result<String, SenderError> {
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
    if !domain.is_ascii() {
        return Err(SenderError::Unverifiable("internationalised domain name"));
    }
    let domain = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    if !is_dns_name(&domain) {
        return Err(SenderError::Unresolvable);
    }
    Ok(domain)
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
            "joe@bücher.example",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(
                matches!(domain(address), Err(SenderError::Unverifiable(_))),
                "{address}"
            );
        }
    }
}
