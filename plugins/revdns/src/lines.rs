//! The reverse-DNS check's log lines, worded exactly as IMail's log appendix (seed ids in
//! brackets), historic spelling included.

use std::net::IpAddr;

/// C25 (verbose): the PTR lookup of the client is about to be made.
pub fn performing(domain: &str, client: IpAddr) -> String {
    format!("VALIDATION: (REVDNS) {domain} performing reverse dns lookup on address {client}")
}

/// C26 (verbose): the client passed.
pub fn succeeded(domain: &str, client: IpAddr) -> String {
    format!("VALIDATION: (REVDNS) {domain} reverse DNS validation SUCEEDED for address ({client})")
}

/// C14 (normal): no PTR, or no PTR name resolves back to the client.
pub fn failed(domain: &str, client: IpAddr) -> String {
    format!("VALIDATION: (REVDNS) {domain} FAILED reverse DNS validation for address ({client})")
}

/// C12 (normal): the PTR names have no MX and no address record.
pub fn no_record(client: IpAddr) -> String {
    format!(
        "VALIDATION: (REVDNS) {client} address does not have a valid MX or A record, message \
         rejected"
    )
}

/// C13 (normal): the DNS server did not answer.
pub fn no_reply(domain: &str) -> String {
    format!("VALIDATION: (REVDNS) {domain} FAILED to receive reply from DNS server")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_render_as_the_seed_prints_them() {
        let v4: IpAddr = "192.0.2.25".parse().unwrap();
        let v6: IpAddr = "2001:db8::25".parse().unwrap();
        assert_eq!(
            performing("example.net", v4),
            "VALIDATION: (REVDNS) example.net performing reverse dns lookup on address 192.0.2.25"
        );
        assert_eq!(
            succeeded("example.net", v6),
            "VALIDATION: (REVDNS) example.net reverse DNS validation SUCEEDED for address \
             (2001:db8::25)"
        );
        assert_eq!(
            failed("example.net", v4),
            "VALIDATION: (REVDNS) example.net FAILED reverse DNS validation for address \
             (192.0.2.25)"
        );
        assert_eq!(
            no_record(v4),
            "VALIDATION: (REVDNS) 192.0.2.25 address does not have a valid MX or A record, \
             message rejected"
        );
        assert_eq!(
            no_reply("example.net"),
            "VALIDATION: (REVDNS) example.net FAILED to receive reply from DNS server"
        );
    }
}
