//! The URL Domain Black List: link hosts from HTML attributes and plain text, matched against
//! listed domains.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use antispam_sdk::html::{Document, link_host};
use antispam_sdk::net::a_labels_or_name;

/// The longest list entry, as IMail allowed (1–255 characters).
const MAX_ENTRY: usize = 255;

/// A compiled URL domain list: each entry keyed by its name in A-labels, as link hosts are
/// given (so that `bücher.example` and `xn--bcher-kva.example` are one entry), with the entry
/// as written.
#[derive(Debug)]
pub struct DomainList {
    /// `www.` entries: they match that exact host only.
    exact: HashMap<String, String>,
    /// Other entries: they match the host itself and every host under it.
    domains: HashMap<String, String>,
}

impl DomainList {
    /// Compiles `entries` (case-insensitive, a trailing dot ignored, internationalised names
    /// in either form); `None` when empty. An entry with whitespace, `/`, or more than 255
    /// characters is an error.
    pub fn new<'e>(entries: impl IntoIterator<Item = &'e str>) -> Result<Option<Self>, String> {
        let mut list = DomainList {
            exact: HashMap::new(),
            domains: HashMap::new(),
        };
        for entry in entries {
            let name = entry.trim().trim_end_matches('.').to_lowercase();
            let valid = !name.is_empty()
                && name.chars().count() <= MAX_ENTRY
                && !name
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '/');
            if !valid {
                return Err(format!("url domain list: invalid entry [{}]", entry.trim()));
            }
            let set = if name.starts_with("www.") {
                &mut list.exact
            } else {
                &mut list.domains
            };
            set.insert(a_labels_or_name(&name).into_owned(), name);
        }
        Ok((!list.exact.is_empty() || !list.domains.is_empty()).then_some(list))
    }

    /// The entry (as written) that `host` (lower-case) matches: a `www.` entry equal to it, or
    /// another entry equal to it or to one of its parent domains (`ipswitch.com` matches
    /// `www.mail.ipswitch.com` but not `notipswitch.com`).
    pub fn find(&self, host: &str) -> Option<&str> {
        let host = a_labels_or_name(host);
        if let Some(entry) = self.exact.get(host.as_ref()) {
            return Some(entry);
        }
        let mut name = host.as_ref();
        loop {
            if let Some(entry) = self.domains.get(name) {
                return Some(entry);
            }
            name = &name[name.find('.')? + 1..];
        }
    }
}

/// The hosts of every link in the message: `href` and `src` attributes of the HTML parts,
/// then URLs written out in the plain text and in the HTML parts' visible text.
pub fn link_hosts(plain_text: &str, html: &[Document<'_>]) -> Vec<String> {
    let attributes = html
        .iter()
        .flat_map(|doc| &doc.tags)
        .flat_map(|tag| &tag.attributes)
        .filter(|a| a.name == "href" || a.name == "src")
        .filter_map(|a| link_host(&a.value));
    let texts = std::iter::once(plain_text).chain(html.iter().map(|doc| doc.text.as_str()));
    attributes.chain(texts.flat_map(hosts_in_text)).collect()
}

/// The hosts of the `http://`, `https://` and `www.` URLs written out in `text` (a `www.`
/// only at the start of a word). One pass over the text.
pub fn hosts_in_text(text: &str) -> Vec<String> {
    let mut hosts = Vec::new();
    let mut end = 0;
    for m in url_starts().find_iter(text) {
        let start = m.start();
        let www = m.pattern().as_usize() == 2;
        if start < end || (www && !at_word_start(text, start)) {
            continue;
        }
        let len = text[start..].find(ends_url).unwrap_or(text.len() - start);
        hosts.extend(link_host(&text[start..start + len]));
        end = start + len;
    }
    hosts
}

/// The automaton that finds where URLs start.
fn url_starts() -> &'static AhoCorasick {
    static STARTS: OnceLock<AhoCorasick> = OnceLock::new();
    STARTS.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(["http://", "https://", "www."])
            .expect("three fixed patterns always compile")
    })
}

fn at_word_start(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_alphanumeric() || "./-@".contains(c)))
}

fn ends_url(c: char) -> bool {
    c.is_whitespace() || c.is_control() || "<>\"'()[]{}".contains(c)
}

#[cfg(test)]
mod tests {
    use antispam_sdk::html::scan;

    use super::*;

    fn list(entries: &[&str]) -> DomainList {
        DomainList::new(entries.iter().copied()).unwrap().unwrap()
    }

    #[test]
    fn domain_entries_match_at_label_boundaries() {
        // Behaviours 37 and 39.
        let l = list(&["IPSwitch.com."]);
        assert_eq!(l.find("www.mail.ipswitch.com"), Some("ipswitch.com"));
        assert_eq!(l.find("ipswitch.com"), Some("ipswitch.com"));
        assert_eq!(l.find("notipswitch.com"), None);
        assert_eq!(l.find("ipswitch.com.evil.example"), None);
    }

    #[test]
    fn internationalised_entries_match_either_spelling() {
        let l = list(&["Bücher.example", "www.xn--mil-qla.example"]);
        assert_eq!(l.find("www.xn--bcher-kva.example"), Some("bücher.example"));
        assert_eq!(l.find("shop.bücher.example"), Some("bücher.example"));
        assert_eq!(l.find("www.mäil.example"), Some("www.xn--mil-qla.example"));
        assert_eq!(l.find("p\u{e4}il.example"), None);
        let hosts = link_hosts("see http://www.Bücher.example/offer", &[]);
        assert_eq!(l.find(&hosts[0]), Some("bücher.example"));
    }

    #[test]
    fn www_entries_match_only_that_host() {
        // Behaviour 38.
        let l = list(&["www.ipswitch.com"]);
        assert_eq!(l.find("www.ipswitch.com"), Some("www.ipswitch.com"));
        assert_eq!(l.find("www.mail.ipswitch.com"), None);
        assert_eq!(l.find("ipswitch.com"), None);
        assert_eq!(l.find("x.www.ipswitch.com"), None);
    }

    #[test]
    fn ip_entries_and_bad_entries() {
        assert_eq!(list(&["192.0.2.7"]).find("192.0.2.7"), Some("192.0.2.7"));
        assert!(DomainList::new(["bad entry"]).is_err());
        assert!(DomainList::new(["http://x.example/"]).is_err());
        assert!(DomainList::new([""]).is_err());
        assert!(DomainList::new([&*"a".repeat(256)]).is_err());
        assert!(DomainList::new([]).unwrap().is_none());
    }

    #[test]
    fn urls_written_in_text() {
        let text = "Go to http://www.Mail.IPSwitch.com/x, or www.spam.example/buy (HTTPS://b.example) \
                    but not awww.no.example nor me@www.mail.example";
        assert_eq!(
            hosts_in_text(text),
            ["www.mail.ipswitch.com", "www.spam.example", "b.example"]
        );
        assert!(hosts_in_text("").is_empty());
        assert!(hosts_in_text("http:// www. https://").is_empty());
        assert_eq!(
            hosts_in_text("ünïcode http://ü.example"),
            ["xn--tda.example"]
        );
    }

    #[test]
    fn links_from_html_attributes_and_text() {
        // Behaviour 37: an IMG SRC counts.
        let doc = scan(
            "<img src=\"http://ipswitch.com/a.gif\"><a href='https://x.example/'>see www.y.example</a> \
                        <a href=\"mailto:a@z.example\">m</a>",
        );
        let hosts = link_hosts("plain http://p.example", &[doc]);
        assert_eq!(
            hosts,
            ["ipswitch.com", "x.example", "p.example", "www.y.example"]
        );
    }
}
