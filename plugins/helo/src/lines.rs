//! The HELO check's log lines, worded exactly as IMail's log appendix (seed ids in brackets).

pub use antispam_sdk::log::shown;

/// C04 (normal): the client never sent HELO or EHLO.
pub fn no_helo() -> String {
    "VALIDATION: (HELO) no HELO sent".to_string()
}

/// C21 (verbose): the lookup for the HELO name is about to be made.
pub fn performing(domain: &str, helo: &str) -> String {
    format!(
        "VALIDATION: (HELO) {domain} performing DNS lookup for HELO domain {}",
        shown(helo)
    )
}

/// C22 (verbose): the DNS server answered at least one of the lookups.
pub fn received(domain: &str, helo: &str) -> String {
    format!(
        "VALIDATION: (HELO) {domain} received reply from DNS server for HELO domain {}",
        shown(helo)
    )
}

/// C05 (normal): the HELO argument failed validation.
pub fn failed(helo: &str) -> String {
    format!(
        "VALIDATION: (HELO) {} domain failed active validation",
        shown(helo)
    )
}

/// C03 (normal): no lookup got an answer.
pub fn no_response(domain: &str, helo: &str) -> String {
    format!(
        "VALIDATION: (HELO) {domain} FAILED to receive response from DNS server for HELO domain {}",
        shown(helo)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_render_as_the_seed_prints_them() {
        assert_eq!(no_helo(), "VALIDATION: (HELO) no HELO sent");
        assert_eq!(
            performing("example.net", "mx.example.com"),
            "VALIDATION: (HELO) example.net performing DNS lookup for HELO domain mx.example.com"
        );
        assert_eq!(
            received("example.net", "mx.example.com"),
            "VALIDATION: (HELO) example.net received reply from DNS server for HELO domain \
             mx.example.com"
        );
        assert_eq!(
            failed("nosuchname.invalid"),
            "VALIDATION: (HELO) nosuchname.invalid domain failed active validation"
        );
        assert_eq!(
            no_response("example.net", "mx.example.com"),
            "VALIDATION: (HELO) example.net FAILED to receive response from DNS server for HELO \
             domain mx.example.com"
        );
    }

    #[test]
    fn control_characters_are_masked() {
        assert_eq!(
            failed("a\tb\u{0}"),
            "VALIDATION: (HELO) a?b? domain failed active validation"
        );
    }
}
