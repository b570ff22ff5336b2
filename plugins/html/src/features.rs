//! The eight HTML features of IMail 8.x and their detection in a message's HTML parts.

use antispam_sdk::html::{Document, Tag, link_host, scan};
use serde::Deserialize;

use crate::domain::{host_in_text, registered_domain};

/// One HTML feature, in IMail's order (the order used in log lines and headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// A tag that is not an HTML 4.01 element (`<comment>`, `<Get paid…>`).
    InvalidTag,
    /// A `<table>` inside another table.
    NestedTable,
    /// An `<img>` tag.
    ImageTag,
    /// A link whose text shows a host in another registered domain than its `href`.
    DeceptiveUrl,
    /// An `<a href>` that is not `mailto:`.
    Hyperlink,
    /// An `<a href="mailto:…">`.
    MailtoHyperlink,
    /// A `<script>` tag.
    ScriptTag,
    /// A comment inside a word (`VIA<!-- -->GRA`).
    EmbeddedComment,
}

impl Feature {
    /// Every feature, in order.
    pub const ALL: [Feature; 8] = [
        Feature::InvalidTag,
        Feature::NestedTable,
        Feature::ImageTag,
        Feature::DeceptiveUrl,
        Feature::Hyperlink,
        Feature::MailtoHyperlink,
        Feature::ScriptTag,
        Feature::EmbeddedComment,
    ];

    /// The name IMail shows (`Invalid Tag`).
    pub fn name(self) -> &'static str {
        match self {
            Feature::InvalidTag => "Invalid Tag",
            Feature::NestedTable => "Nested Table",
            Feature::ImageTag => "Image Tag",
            Feature::DeceptiveUrl => "Deceptive URL",
            Feature::Hyperlink => "Hyperlink",
            Feature::MailtoHyperlink => "Mailto Hyperlink",
            Feature::ScriptTag => "Script Tag",
            Feature::EmbeddedComment => "Embedded Comment",
        }
    }

    /// The settings key (`invalid-tag`), also used in the X-header.
    pub fn key(self) -> &'static str {
        match self {
            Feature::InvalidTag => "invalid-tag",
            Feature::NestedTable => "nested-table",
            Feature::ImageTag => "image-tag",
            Feature::DeceptiveUrl => "deceptive-url",
            Feature::Hyperlink => "hyperlink",
            Feature::MailtoHyperlink => "mailto-hyperlink",
            Feature::ScriptTag => "script-tag",
            Feature::EmbeddedComment => "embedded-comment",
        }
    }
}

/// The first occurrence of each feature found: the tag, comment or URL as written.
#[derive(Debug, Default)]
pub struct Findings([Option<String>; 8]);

impl Findings {
    /// The evidence for `feature`, if it was found.
    pub fn get(&self, feature: Feature) -> Option<&str> {
        self.0[feature as usize].as_deref()
    }

    /// Records `evidence` unless the feature was already found.
    fn note(&mut self, feature: Feature, evidence: &str) {
        self.0[feature as usize].get_or_insert_with(|| evidence.to_string());
    }
}

/// Looks for every feature in every HTML part. `extra_valid_tags` (lower-case) are names
/// accepted besides the HTML 4.01 elements.
pub fn detect(parts: &[String], extra_valid_tags: &[String]) -> Findings {
    let mut findings = Findings::default();
    for part in parts {
        detect_in(&scan(part), extra_valid_tags, &mut findings);
    }
    findings
}

fn detect_in(doc: &Document<'_>, extra_valid_tags: &[String], findings: &mut Findings) {
    let mut table_depth: u32 = 0;
    let mut anchor: Option<&Tag<'_>> = None;
    for tag in &doc.tags {
        if !tag.html4 && !extra_valid_tags.iter().any(|t| *t == tag.name) {
            findings.note(Feature::InvalidTag, tag.raw);
        }
        match (&*tag.name, tag.end) {
            ("table", false) => {
                if table_depth > 0 {
                    findings.note(Feature::NestedTable, tag.raw);
                }
                table_depth = table_depth.saturating_add(1);
            }
            ("table", true) => table_depth = table_depth.saturating_sub(1),
            ("img", false) => findings.note(Feature::ImageTag, tag.raw),
            ("script", false) => findings.note(Feature::ScriptTag, tag.raw),
            ("a", end) => {
                if let Some(open) = anchor.take() {
                    check_anchor(open, text_between(doc, open, Some(tag)), findings);
                }
                if !end && open_link(tag, findings) {
                    anchor = Some(tag);
                }
            }
            _ => {}
        }
    }
    if let Some(open) = anchor {
        check_anchor(open, text_between(doc, open, None), findings);
    }
    for comment in doc.comments.iter().filter(|c| c.in_word) {
        findings.note(Feature::EmbeddedComment, comment.raw);
    }
}

/// Notes a hyperlink or mailto hyperlink; true when the tag is a link with an `href`.
fn open_link(tag: &Tag<'_>, findings: &mut Findings) -> bool {
    let Some(href) = tag.attribute("href") else {
        return false;
    };
    let mailto = href
        .trim_start()
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("mailto:"));
    let feature = if mailto {
        Feature::MailtoHyperlink
    } else {
        Feature::Hyperlink
    };
    findings.note(feature, tag.raw);
    true
}

/// The visible text from `open` up to `close` (or the end of the document).
fn text_between<'d>(doc: &'d Document<'_>, open: &Tag<'_>, close: Option<&Tag<'_>>) -> &'d str {
    let end = close.map_or(doc.text.len(), |t| t.text_pos);
    doc.text.get(open.text_pos..end).unwrap_or_default()
}

/// A Deceptive URL: the link text shows a host whose registered domain is not the `href`'s.
fn check_anchor(open: &Tag<'_>, visible: &str, findings: &mut Findings) {
    let Some(href) = open.attribute("href") else {
        return;
    };
    let (Some(target), Some(shown)) = (link_host(href), host_in_text(visible)) else {
        return;
    };
    if registered_domain(&target) != registered_domain(&shown) {
        findings.note(Feature::DeceptiveUrl, href.trim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(html: &str) -> Vec<(Feature, String)> {
        let findings = detect(&[html.to_string()], &[]);
        Feature::ALL
            .iter()
            .filter_map(|&f| findings.get(f).map(|e| (f, e.to_string())))
            .collect()
    }

    fn one(feature: Feature, evidence: &str) -> Vec<(Feature, String)> {
        vec![(feature, evidence.to_string())]
    }

    #[test]
    fn plain_html_has_no_features() {
        assert!(found("<html><body><p>Hello <b>there</b></p><table><tr><td>x</td></tr></table></body></html>").is_empty());
        assert!(found("").is_empty());
    }

    #[test]
    fn invalid_tag_including_comment_element() {
        assert_eq!(
            found("<comment>Get Rich</comment>"),
            one(Feature::InvalidTag, "<comment>")
        );
        assert_eq!(
            found("<p><Get paid to work></p>"),
            one(Feature::InvalidTag, "<Get paid to work>")
        );
        let accepted = detect(&["<o:p>x</o:p>".to_string()], &["o:p".to_string()]);
        assert_eq!(accepted.get(Feature::InvalidTag), None);
    }

    #[test]
    fn nested_table_reports_the_inner_table() {
        let html = "<table><tr><td><TABLE id=inner><tr><td>x</td></tr></TABLE></td></tr></table>";
        assert_eq!(found(html), one(Feature::NestedTable, "<TABLE id=inner>"));
        assert!(found("<table></table><table></table>").is_empty());
        assert!(found("</table></table><table></table>").is_empty());
    }

    #[test]
    fn image_script_and_links() {
        assert_eq!(
            found("<img src=\"http://x.example/a.gif\">"),
            one(Feature::ImageTag, "<img src=\"http://x.example/a.gif\">")
        );
        assert_eq!(
            found("<script language=js>x()</script>"),
            one(Feature::ScriptTag, "<script language=js>")
        );
        assert_eq!(
            found("<a href=\"/local\">home</a>"),
            one(Feature::Hyperlink, "<a href=\"/local\">")
        );
        assert_eq!(
            found("<a href=' MAILTO:x@example.com'>mail</a>"),
            one(Feature::MailtoHyperlink, "<a href=' MAILTO:x@example.com'>")
        );
        assert!(found("<a name=top>anchor</a>").is_empty());
    }

    #[test]
    fn deceptive_url_compares_registered_domains() {
        let html = "<a href=\"http://192.0.2.9/login\">https://www.paypal.com/</a>";
        let f = found(html);
        assert!(f.contains(&(Feature::DeceptiveUrl, "http://192.0.2.9/login".to_string())));
        assert!(f.iter().any(|(k, _)| *k == Feature::Hyperlink));
        for honest in [
            "<a href=\"http://www.paypal.com/x\">paypal.com</a>",
            "<a href=\"https://mail.bbc.co.uk/\">www.bbc.co.uk</a>",
            "<a href=\"http://evil.example/\">click here</a>",
            "<a href=\"http://files.example.com/r.pdf\">report.pdf</a>",
        ] {
            assert!(
                !found(honest)
                    .iter()
                    .any(|(k, _)| *k == Feature::DeceptiveUrl),
                "{honest}"
            );
        }
        let unclosed = "<a href=\"http://evil.example/\">www.bank.example.com";
        assert!(
            found(unclosed)
                .iter()
                .any(|(k, _)| *k == Feature::DeceptiveUrl)
        );
        let two = "<a href=\"http://evil.example/\">see</a> www.bank.com <a href=\"http://bank.com\">x</a>";
        assert!(!found(two).iter().any(|(k, _)| *k == Feature::DeceptiveUrl));
    }

    #[test]
    fn embedded_comment_only_inside_words() {
        assert_eq!(
            found("VIA<!-- x -->GRA"),
            one(Feature::EmbeddedComment, "<!-- x -->")
        );
        assert_eq!(
            found("<!W>VIA<!Z>GRA"),
            one(Feature::EmbeddedComment, "<!Z>")
        );
        assert!(found("<!-- header --><p>text</p> <!-- x --> more").is_empty());
    }

    #[test]
    fn first_occurrence_is_kept_across_parts() {
        let parts = ["<img src=a>".to_string(), "<img src=b>".to_string()];
        assert_eq!(
            detect(&parts, &[]).get(Feature::ImageTag),
            Some("<img src=a>")
        );
    }

    #[test]
    fn table_depth_restarts_for_each_part() {
        let parts = ["<table>".to_string(), "<table></table>".to_string()];
        assert_eq!(detect(&parts, &[]).get(Feature::NestedTable), None);
    }
}
