//! The eight HTML features of IMail 8.x, three of ours (hidden text, data URIs, zero-width
//! characters inside words), and their detection in a message's HTML parts.

use std::collections::HashMap;

use antispam_sdk::html::{Attribute, Document, Tag, link_host, scan};
use serde::Deserialize;

use crate::domain::{host_in_text, registered_domain};

/// One HTML feature, in IMail's order (the order used in log lines and headers), then ours.
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
    /// Ours: text in an element styled out of sight (`display:none`, `visibility:hidden`, a
    /// font size of 0, or of 1px/1pt and less) or marked `hidden`.
    HiddenText,
    /// Ours: a `src`, `href`, `background` or `action` that is a `data:` URI (an image or page
    /// carried inside the message, out of reach of URL lists).
    DataUri,
    /// Ours: a zero-width character or soft hyphen between two ASCII letters or digits of the
    /// visible text (`VIA&#8203;GRA`).
    ZeroWidth,
}

impl Feature {
    /// Every feature, in order.
    pub const ALL: [Feature; 11] = [
        Feature::InvalidTag,
        Feature::NestedTable,
        Feature::ImageTag,
        Feature::DeceptiveUrl,
        Feature::Hyperlink,
        Feature::MailtoHyperlink,
        Feature::ScriptTag,
        Feature::EmbeddedComment,
        Feature::HiddenText,
        Feature::DataUri,
        Feature::ZeroWidth,
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
            Feature::HiddenText => "Hidden Text",
            Feature::DataUri => "Data URI",
            Feature::ZeroWidth => "Zero-Width Character",
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
            Feature::HiddenText => "hidden-text",
            Feature::DataUri => "data-uri",
            Feature::ZeroWidth => "zero-width",
        }
    }
}

/// The first occurrence of each feature found: the tag, comment or URL as written.
#[derive(Debug, Default)]
pub struct Findings([Option<String>; Feature::ALL.len()]);

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
    // Built at the first hiding tag only: most mail has none.
    let mut elements: Option<Elements> = None;
    for (i, tag) in doc.tags.iter().enumerate() {
        if !tag.end {
            if tag.attributes.iter().any(is_data_uri) {
                findings.note(Feature::DataUri, tag.raw);
            }
            if findings.get(Feature::HiddenText).is_none() && hides_its_content(tag) {
                let elements = elements.get_or_insert_with(|| Elements::of(doc));
                if elements.encloses_text(doc, i) {
                    findings.note(Feature::HiddenText, tag.raw);
                }
            }
        }
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
    if let Some(word) = zero_width_in_word(doc) {
        findings.note(Feature::ZeroWidth, &word);
    }
}

/// A link or resource attribute whose value is a `data:` URI.
fn is_data_uri(a: &Attribute<'_>) -> bool {
    matches!(&*a.name, "src" | "href" | "background" | "action")
        && a.value
            .trim_start()
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
}

/// True for a start tag marked `hidden` or styled out of sight.
fn hides_its_content(tag: &Tag<'_>) -> bool {
    if tag.attribute("hidden").is_some() {
        return true;
    }
    let Some(style) = tag.attribute("style") else {
        return false;
    };
    style.split(';').any(|declaration| {
        let Some((property, value)) = declaration.split_once(':') else {
            return false;
        };
        let value = value.trim().trim_end_matches("!important").trim();
        match property.trim().to_ascii_lowercase().as_str() {
            "display" => value.eq_ignore_ascii_case("none"),
            "visibility" => value.eq_ignore_ascii_case("hidden"),
            "font-size" => tiny_font(value),
            _ => false,
        }
    })
}

/// A font size of 0 in any unit, or of at most 1px or 1pt.
fn tiny_font(value: &str) -> bool {
    let unit_at = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let Ok(size) = value[..unit_at].parse::<f64>() else {
        return false;
    };
    let unit = value[unit_at..].trim().to_ascii_lowercase();
    size == 0.0 || (size <= 1.0 && matches!(unit.as_str(), "px" | "pt"))
}

/// Where each element ends and where the text has letters and digits, found in one pass each,
/// so that asking about every element of a hostile document stays linear.
struct Elements {
    /// For each tag, the index of the end tag that closes it (same name, nesting counted).
    closers: Vec<Option<usize>>,
    /// Byte offsets of the letters and digits of the visible text, ascending.
    word_chars: Vec<usize>,
}

impl Elements {
    fn of(doc: &Document<'_>) -> Elements {
        let mut closers = vec![None; doc.tags.len()];
        let mut open: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, tag) in doc.tags.iter().enumerate() {
            let stack = open.entry(&*tag.name).or_default();
            if !tag.end {
                stack.push(i);
            } else if let Some(start) = stack.pop() {
                closers[start] = Some(i);
            }
        }
        let word_chars = doc
            .text
            .char_indices()
            .filter(|(_, c)| c.is_alphanumeric())
            .map(|(at, _)| at)
            .collect();
        Elements {
            closers,
            word_chars,
        }
    }

    /// True when the element opened by `doc.tags[open]` has a matching end tag and a letter or
    /// digit of visible text before it. Without an end tag nothing is taken to be hidden.
    fn encloses_text(&self, doc: &Document<'_>, open: usize) -> bool {
        let Some(close) = self.closers[open] else {
            return false;
        };
        let (from, to) = (doc.tags[open].text_pos, doc.tags[close].text_pos);
        let first = self.word_chars.partition_point(|&at| at < from);
        self.word_chars.get(first).is_some_and(|&at| at < to)
    }
}

/// The first word of the visible text with an invisible character (dropped by the scanner)
/// between two ASCII letters or digits (scripts that need joiners are not ASCII), the word's
/// invisible characters shown as `<U+200B>`.
fn zero_width_in_word(doc: &Document<'_>) -> Option<String> {
    let text = &doc.text;
    let ascii_word_char = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let &(at, _) = doc.invisibles.iter().find(|&&(at, _)| {
        ascii_word_char(text[..at].chars().next_back())
            && ascii_word_char(text[at..].chars().next())
    })?;
    let start = text[..at].rfind(' ').map_or(0, |p| p + 1);
    let end = text[at..].find(' ').map_or(text.len(), |p| at + p);
    let mut word = String::new();
    let mut from = start;
    for &(pos, c) in doc
        .invisibles
        .iter()
        .filter(|(pos, _)| (start..=end).contains(pos))
    {
        word.push_str(&text[from..pos]);
        word.push_str(&format!("<U+{:04X}>", c as u32));
        from = pos;
    }
    word.push_str(&text[from..end]);
    Some(word)
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

        // Internationalised names compare by their A-labels: two spellings of one name are
        // honest, a look-alike is not.
        let deceptive = |html: &str| found(html).iter().any(|(k, _)| *k == Feature::DeceptiveUrl);
        assert!(!deceptive(
            "<a href=\"http://xn--bcher-kva.de/\">www.bücher.de</a>"
        ));
        assert!(!deceptive(
            "<a href=\"http://www.Bücher.de/\">bücher.de</a>"
        ));
        assert!(deceptive(
            "<a href=\"http://p\u{430}ypal.com/\">www.paypal.com</a>"
        ));
        assert!(!deceptive(
            "<a href=\"http://пример.рф/\">http://www.пример.рф</a>"
        ));
        assert!(deceptive(
            "<a href=\"http://evil.example/\">http://пример.рф</a>"
        ));
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
    fn hidden_text_needs_a_hiding_style_and_text_inside() {
        for hidden in [
            "<div style=\"display: none\">cheap meds</div>",
            "<span style='color:red; VISIBILITY:hidden !important'>x</span>",
            "<p style=\"font-size:0\">buy</p>",
            "<font style=\"font-size: 1px\">buy</font>",
            "<div hidden><div>nested</div>text</div>",
        ] {
            let tag = &hidden[..=hidden.find('>').unwrap()];
            assert_eq!(found(hidden), one(Feature::HiddenText, tag), "{hidden}");
        }
        for shown in [
            "<div style=\"display:block\">text</div>",
            "<p style=\"font-size:1em\">text</p>",
            "<p style=\"font-size:12px\">text</p>",
            "<div style=\"display:none\"> </div>",
            "<div style=\"display:none\">never closed",
            "<td style=\"display:none\"></td><td>after</td>",
        ] {
            assert!(found(shown).is_empty(), "{shown}");
        }
    }

    #[test]
    fn data_uris_in_links_and_resources() {
        let img = "<img src=\" DATA:image/png;base64,iVBORw0KGgo=\">";
        let f = found(img);
        assert!(f.contains(&(Feature::DataUri, img.to_string())), "{f:?}");
        let link = "<a href=\"data:text/html,<h1>bank</h1>\">log in</a>";
        assert!(found(link).iter().any(|(k, _)| *k == Feature::DataUri));
        assert!(
            found("<a title=\"data:x\" href=\"http://a.example\">a</a>")
                .iter()
                .all(|(k, _)| *k != Feature::DataUri)
        );
    }

    #[test]
    fn zero_width_characters_inside_words() {
        assert_eq!(
            found("Buy VIA&#8203;GRA now"),
            one(Feature::ZeroWidth, "VIA<U+200B>GRA")
        );
        assert_eq!(
            found("cheap m\u{ad}e\u{feff}ds"),
            one(Feature::ZeroWidth, "m<U+00AD>e<U+FEFF>ds")
        );
        for clean in [
            "a \u{200b}word",
            "word\u{200b} next",
            "\u{645}\u{200c}\u{6cc}",
            "\u{1f469}\u{200d}\u{1f4bb}",
        ] {
            assert!(found(clean).is_empty(), "{clean:?}");
        }
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
