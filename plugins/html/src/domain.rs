//! Host names as a reader sees them in link text, and their registered domains.

use std::net::IpAddr;

use antispam_sdk::html::link_host;
use antispam_sdk::net::a_labels_or_name;

/// Public suffixes of two labels under which names are registered one level deeper
/// (`example.co.uk`). Sorted for binary search; a small built-in list, not the full PSL.
const MULTI_LABEL_SUFFIXES: &[&str] = &[
    "ac.jp", "ac.uk", "co.id", "co.il", "co.in", "co.jp", "co.kr", "co.nz", "co.th", "co.uk",
    "co.za", "com.ar", "com.au", "com.br", "com.cn", "com.co", "com.hk", "com.mx", "com.my",
    "com.pe", "com.ph", "com.pl", "com.sg", "com.tr", "com.tw", "com.ua", "com.vn", "edu.au",
    "gov.au", "gov.uk", "ltd.uk", "me.uk", "ne.jp", "net.au", "net.br", "net.cn", "net.in",
    "net.nz", "or.jp", "or.kr", "org.au", "org.br", "org.cn", "org.in", "org.nz", "org.uk",
    "org.za", "plc.uk",
];

/// Top-level domains that make a bare word in link text (`paypal.com`) read as a host name.
/// Words with other endings (`report.pdf`, `setup.exe`) are taken for file names.
const BARE_TLDS: &[&str] = &[
    "au", "biz", "br", "ca", "cc", "ch", "cn", "co", "com", "de", "edu", "es", "eu", "fr", "gov",
    "in", "info", "io", "it", "jp", "me", "mil", "net", "nl", "no", "org", "ru", "se", "tv", "uk",
    "us", "ws",
];

/// The registered domain of a lower-case host: the last two labels, or three under a
/// suffix in [`MULTI_LABEL_SUFFIXES`]. An IP address is its own registered domain.
pub fn registered_domain(host: &str) -> &str {
    if host.parse::<IpAddr>().is_ok() {
        return host;
    }
    let dots: Vec<usize> = host.match_indices('.').map(|(i, _)| i).collect();
    let keep = match dots.len() {
        0 | 1 => return host,
        n if MULTI_LABEL_SUFFIXES
            .binary_search(&&host[dots[n - 2] + 1..])
            .is_ok() =>
        {
            3
        }
        _ => 2,
    };
    match dots.len().checked_sub(keep) {
        Some(i) => &host[dots[i] + 1..],
        None => host,
    }
}

/// The first host name that the visible `text` of a link shows: a URL
/// (`http://www.paypal.com/login`), a `www.` name, or a bare domain with a common
/// top-level domain (`paypal.com`).
pub fn host_in_text(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || "<>()[]{}\"',;!?".contains(c))
        .find_map(host_of_word)
}

fn host_of_word(word: &str) -> Option<String> {
    let word = word.trim_end_matches(['.', ':']);
    if let Some(host) = link_host(word) {
        return looks_like_host(&host).then_some(host);
    }
    let host = word.split(['/', '?', '#']).next()?.to_lowercase();
    let tld = host.rsplit('.').next()?;
    (host.contains('.') && BARE_TLDS.binary_search(&tld).is_ok() && looks_like_host(&host))
        .then(|| a_labels_or_name(&host).into_owned())
}

/// An IP address, or dot-separated labels of letters, digits and `-` ending in letters (or in
/// an internationalised top-level domain's A-label, `xn--p1ai`).
fn looks_like_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-');
    let tld = labels.last().copied().unwrap_or_default();
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && tld.chars().count() >= 2
        && (tld.chars().all(char::is_alphabetic) || tld.starts_with("xn--"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted() {
        assert!(MULTI_LABEL_SUFFIXES.windows(2).all(|w| w[0] < w[1]));
        assert!(BARE_TLDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn registered_domains() {
        assert_eq!(registered_domain("www.mail.ipswitch.com"), "ipswitch.com");
        assert_eq!(registered_domain("ipswitch.com"), "ipswitch.com");
        assert_eq!(registered_domain("localhost"), "localhost");
        assert_eq!(registered_domain("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registered_domain("bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registered_domain("co.uk"), "co.uk");
        assert_eq!(registered_domain("shop.example.com.au"), "example.com.au");
        assert_eq!(registered_domain("192.0.2.1"), "192.0.2.1");
        assert_eq!(registered_domain("a..b"), ".b");
    }

    #[test]
    fn hosts_shown_in_link_text() {
        let host = |t: &str| host_in_text(t);
        assert_eq!(
            host("Log in at https://www.PayPal.com/login now").as_deref(),
            Some("www.paypal.com")
        );
        assert_eq!(host("www.ebay.com.").as_deref(), Some("www.ebay.com"));
        assert_eq!(host("(paypal.com)").as_deref(), Some("paypal.com"));
        assert_eq!(
            host("visit bank.co.uk/secure").as_deref(),
            Some("bank.co.uk")
        );
        assert_eq!(host("http://192.0.2.1/").as_deref(), Some("192.0.2.1"));
    }

    #[test]
    fn ordinary_link_text_shows_no_host() {
        for text in [
            "click here",
            "report.pdf",
            "setup.exe",
            "e.g. this",
            "version 1.2.3",
            "john@example.com",
            "",
            "www.",
            "http://localhost/",
        ] {
            assert_eq!(host_in_text(text), None, "{text}");
        }
    }

    proptest::proptest! {
        /// The registered domain of any host is the host or one of its parent domains (cut
        /// at a dot), and is its own registered domain. A host found in any text is a name
        /// the rule accepts.
        #[test]
        fn registered_domains_are_label_suffixes(
            labels in proptest::collection::vec(proptest::sample::select(&[
                "www", "mail", "paypal", "bbc", "co", "com", "uk", "au", "org", "192", "0", "é",
            ][..]), 1..6),
            text in antispam_sdk::arbitrary::hostile_text(30),
        ) {
            let host = labels.join(".");
            let domain = registered_domain(&host);
            proptest::prop_assert!(
                domain == host || host.ends_with(&format!(".{domain}")),
                "{} of {}", domain, host
            );
            proptest::prop_assert_eq!(registered_domain(domain), domain);
            if let Some(found) = host_in_text(&text) {
                proptest::prop_assert!(looks_like_host(&found), "{} in {:?}", found, text);
            }
        }
    }
}
