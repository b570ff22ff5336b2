//! The host part of a link, as the URL checks compare it.

use crate::net::a_labels_or_name;

/// The longest host name we accept (RFC 1035 names are at most 253 characters).
const MAX_HOST: usize = 253;

/// The lower-case host of an absolute web link: `http://`, `https://`, `ftp://`,
/// protocol-relative `//host`, or a bare `www.` name. User information (`user@`), the port
/// and a trailing dot are removed and `%XX` escapes in the host are decoded, so
/// `http://paypal.com@%77ww.evil.example:80/` gives `www.evil.example`; an internationalised
/// name is given as its A-labels (`http://Bücher.example/` gives `xn--bcher-kva.example`,
/// the name a browser resolves), so that both spellings of a name compare equal and a
/// look-alike (Cyrillic `а` in `pаypal.com`) does not. Returns `None` for
/// other links (`mailto:`, relative paths, `javascript:`) and for hosts that are not plain
/// names or addresses.
pub fn link_host(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = strip_scheme(url)?;
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = percent_decode(host)?.to_lowercase();
    let host = host.trim_end_matches('.');
    let valid = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    (!host.is_empty() && host.len() <= MAX_HOST && host.chars().all(valid))
        .then(|| a_labels_or_name(host).into_owned())
}

/// The part after the scheme, for the link forms [`link_host`] understands.
fn strip_scheme(url: &str) -> Option<&str> {
    for scheme in ["http://", "https://", "ftp://", "//"] {
        if let Some(head) = url.get(..scheme.len())
            && head.eq_ignore_ascii_case(scheme)
        {
            return Some(&url[scheme.len()..]);
        }
    }
    let bare_www = url
        .get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case("www."))
        && url[4..].starts_with(|c: char| c.is_alphanumeric());
    bare_www.then_some(url)
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or decodes to non-UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(url: &str) -> Option<String> {
        link_host(url)
    }

    #[test]
    fn schemes_and_bare_www() {
        assert_eq!(
            host("http://www.mail.ipswitch.com/x").as_deref(),
            Some("www.mail.ipswitch.com")
        );
        assert_eq!(host("HTTPS://Example.COM").as_deref(), Some("example.com"));
        assert_eq!(
            host(" //cdn.example.net/a.gif ").as_deref(),
            Some("cdn.example.net")
        );
        assert_eq!(
            host("www.spam.example/buy").as_deref(),
            Some("www.spam.example")
        );
        assert_eq!(
            host("ftp://files.example.org:21/").as_deref(),
            Some("files.example.org")
        );
    }

    #[test]
    fn userinfo_port_dot_and_escapes() {
        assert_eq!(
            host("http://paypal.com@evil.example/").as_deref(),
            Some("evil.example")
        );
        assert_eq!(
            host("http://evil.example.:8080/").as_deref(),
            Some("evil.example")
        );
        assert_eq!(
            host("http://%77ww.evil.example/").as_deref(),
            Some("www.evil.example")
        );
        assert_eq!(
            host("http://[2001:db8::1]:80/").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(host("http://192.0.2.7/").as_deref(), Some("192.0.2.7"));
    }

    #[test]
    fn internationalised_hosts_are_a_labels() {
        for url in [
            "http://Bücher.example/",
            "http://b%C3%BCcher.example/",
            "http://xn--bcher-kva.example/",
        ] {
            assert_eq!(host(url).as_deref(), Some("xn--bcher-kva.example"), "{url}");
        }
        assert_eq!(
            host("http://p\u{430}ypal.com/").as_deref(),
            Some("xn--pypal-4ve.com"),
            "a look-alike is another name"
        );
    }

    #[test]
    fn not_web_links() {
        assert_eq!(host("mailto:a@example.com"), None);
        assert_eq!(host("/relative/path"), None);
        assert_eq!(host("javascript:alert(1)"), None);
        assert_eq!(host("http://"), None);
        assert_eq!(host("http://bad host/"), None);
        assert_eq!(host("http://%zz.example/"), None);
        assert_eq!(host("http://%"), None);
        assert_eq!(host("http://%+1.example/"), None);
        assert_eq!(host("ww"), None);
        assert_eq!(host("www."), None);
        assert_eq!(host("www./x"), None);
    }
}
