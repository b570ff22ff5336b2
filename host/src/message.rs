//! Message intake: each message is parsed once, within a size bound, into the view that
//! content checks receive.

use std::borrow::Cow;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderName, HeaderValue, MessageParser, MessagePart, MimeHeaders, PartType};

/// The default bound on the decoded text handed to content checks (per message).
pub const DEFAULT_MAX_TEXT_BYTES: usize = 512 * 1024;

/// One header field, unfolded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name as written.
    pub name: String,
    /// The value with its RFC 2047 encoded words decoded.
    pub value: String,
    /// The value as written (encoded words left as they are).
    pub raw: String,
}

/// The parsed message: what content checks see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageView {
    /// Decoded Subject (empty when absent).
    pub subject: String,
    /// Header fields in message order.
    pub headers: Vec<Header>,
    /// Decoded text/plain parts, joined by blank lines.
    pub text: String,
    /// Decoded text/html parts.
    pub html: Vec<String>,
    /// Raw size in bytes.
    pub size: u64,
    /// True when text or HTML was cut at the bound.
    pub truncated: bool,
    /// True when the MIME parser failed on the message (it panicked): the view then holds
    /// the raw header fields and the raw body as text (see [`MessageView::parse`]).
    pub parser_failed: bool,
}

impl MessageView {
    /// Parses a raw RFC 5322 message. Malformed MIME never fails: whatever mail-parser can
    /// recover is used, and a message it cannot parse at all yields an empty view. mail-parser
    /// means never to panic but has on hostile input (nested messages, empty header values);
    /// should it panic, the view is marked [`MessageView::parser_failed`] and made without
    /// it: the header fields as written (unfolded, not decoded) and everything after them as
    /// plain text, so that the checks still read the message.
    pub fn parse(raw: &[u8], max_text_bytes: usize) -> MessageView {
        std::panic::catch_unwind(|| Self::parse_unguarded(raw, max_text_bytes))
            .unwrap_or_else(|_| Self::raw(raw, max_text_bytes))
    }

    /// The view of a message without MIME parsing: fields up to the first empty line, the
    /// rest as text.
    fn raw(raw: &[u8], max_text_bytes: usize) -> MessageView {
        let text = utf8(raw);
        let blank = ["\r\n\r\n", "\n\n"]
            .iter()
            .filter_map(|sep| text.find(sep).map(|at| (at, at + sep.len())))
            .min();
        let (head, body) =
            blank.map_or((&*text, ""), |(end, start)| (&text[..end], &text[start..]));
        let mut headers: Vec<Header> = Vec::new();
        for line in head.lines() {
            match (line.starts_with([' ', '\t']), headers.last_mut()) {
                (true, Some(field)) => {
                    field.raw.push(' ');
                    field.raw.push_str(line.trim());
                    field.value.clone_from(&field.raw);
                }
                _ => headers.extend(line.split_once(':').map(|(name, value)| Header {
                    name: name.trim().to_string(),
                    value: value.trim().to_string(),
                    raw: value.trim().to_string(),
                })),
            }
        }
        let mut view = MessageView {
            subject: headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("subject"))
                .map(|h| h.value.clone())
                .unwrap_or_default(),
            headers,
            size: raw.len() as u64,
            parser_failed: true,
            ..MessageView::default()
        };
        view.truncated = push_bounded(&mut view.text, body, &mut { max_text_bytes });
        view
    }

    fn parse_unguarded(raw: &[u8], max_text_bytes: usize) -> MessageView {
        let mut view = MessageView {
            size: raw.len() as u64,
            ..MessageView::default()
        };
        // Only what the view needs is parsed: the MIME fields and the Subject (other fields are
        // passed on as written, so parsing them, Received above all, would be wasted work; a
        // field with encoded words has them decoded, see `decoded`).
        let parser = MessageParser::new()
            .with_mime_headers()
            .header_text(HeaderName::Subject);
        let Some(msg) = parser.parse(raw) else {
            return view;
        };
        view.subject = msg.subject().unwrap_or_default().to_string();
        view.headers = msg
            .headers()
            .iter()
            .map(|h| {
                let written = utf8(
                    raw.get(h.offset_start as usize..h.offset_end as usize)
                        .unwrap_or_default(),
                );
                Header {
                    name: h.name().to_string(),
                    value: decoded(&written).unwrap_or_else(|| header_text(&written)),
                    raw: header_text(&written),
                }
            })
            .collect();
        let mut budget = max_text_bytes;
        for part in msg.parts.iter() {
            let plain = part.is_content_type("text", "plain") || part.content_type().is_none();
            let html = match &part.body {
                PartType::Text(text) if plain => {
                    if !view.text.is_empty() {
                        view.text.push_str("\n\n");
                    }
                    let text = recovered(part, text);
                    view.truncated |= push_bounded(&mut view.text, &text, &mut budget);
                    continue;
                }
                PartType::Html(html) if !plain => recovered(part, html),
                // A text/html part that mail-parser could not decode comes back as text.
                PartType::Text(raw) if part.is_content_type("text", "html") => recovered(part, raw),
                _ => continue,
            };
            let mut s = String::new();
            view.truncated |= push_bounded(&mut s, &html, &mut budget);
            view.html.push(s);
        }
        view
    }
}

/// The text of a part. When mail-parser could not decode a part's transfer encoding (no
/// closing boundary, a stray `=` in quoted-printable) it hands back the raw body: base64 or
/// quoted-printable text, not the message. That is decoded here as far as it is valid (base64 up
/// to the first character outside its alphabet, e.g. a mailing list's footer after an unclosed
/// part) and read in the part's character set, so that content checks see the words.
fn recovered<'a>(part: &MessagePart, text: &'a str) -> Cow<'a, str> {
    if !part.is_encoding_problem {
        return text.into();
    }
    let encoding = part.content_transfer_encoding().unwrap_or_default().trim();
    let bytes = if encoding.eq_ignore_ascii_case("base64") {
        let raw = text.as_bytes();
        let end = raw
            .iter()
            .position(|&b| {
                !(b.is_ascii_alphanumeric() || b.is_ascii_whitespace() || b"+/=".contains(&b))
            })
            .unwrap_or(raw.len());
        base64_decode(&raw[..end])
    } else if encoding.eq_ignore_ascii_case("quoted-printable") {
        quoted_printable_decode(text.as_bytes())
    } else {
        None
    };
    let Some(bytes) = bytes else {
        return text.into();
    };
    match part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .and_then(|charset| charset_decoder(charset.as_bytes()))
    {
        Some(decode) => decode(&bytes).into(),
        None => String::from_utf8_lossy(&bytes).into_owned().into(),
    }
}

/// `bytes` as text, any invalid UTF-8 replaced. Valid text, nearly all of it, is checked by
/// the faster [`std::str::from_utf8`] and borrowed.
fn utf8(bytes: &[u8]) -> Cow<'_, str> {
    std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed)
}

/// A raw header value with its RFC 2047 encoded words decoded (in the character sets they
/// name), unfolded and trimmed; `None` when it has none.
fn decoded(raw: &str) -> Option<String> {
    if !raw.contains("=?") {
        return None;
    }
    match MessageStream::new(raw.as_bytes()).parse_unstructured() {
        HeaderValue::Text(text) => Some(text.trim().to_string()),
        _ => None,
    }
}

/// Unfolds a raw header value (continuation lines joined) and trims it.
fn header_text(raw: &str) -> String {
    let value = raw.trim();
    if !value.contains(['\r', '\n']) {
        // One line (the line break that ends the field is outside the trimmed value).
        return value.to_string();
    }
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Appends up to `budget` bytes of `text` (cut on a character boundary); true when cut.
fn push_bounded(out: &mut String, text: &str, budget: &mut usize) -> bool {
    if text.len() <= *budget {
        out.push_str(text);
        *budget -= text.len();
        return false;
    }
    let mut cut = *budget;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    out.push_str(&text[..cut]);
    *budget = 0;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_message_gives_text_and_html() {
        let raw = b"From: a@example.com\r\nSubject: =?utf-8?q?Hello_there?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain body\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html body</p>\r\n--b--\r\n";
        let v = MessageView::parse(raw, DEFAULT_MAX_TEXT_BYTES);
        assert_eq!(v.subject, "Hello there");
        assert!(v.text.contains("plain body"));
        assert_eq!(v.html.len(), 1);
        assert!(v.html[0].contains("<p>html body</p>"));
        assert!(
            v.headers
                .iter()
                .any(|h| h.name == "From" && h.value == "a@example.com")
        );
    }

    #[test]
    fn html_part_that_does_not_decode_is_still_html() {
        // `==` is not quoted-printable: mail-parser gives up decoding and returns the raw body.
        let raw = b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=gb2312\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>cheap ==pills</p>\r\n--b--\r\n";
        let v = MessageView::parse(raw, DEFAULT_MAX_TEXT_BYTES);
        assert_eq!(v.html.len(), 1, "{v:?}");
        assert!(v.html[0].contains("<p>cheap ==pills</p>"), "{v:?}");
        assert!(v.text.is_empty());
    }

    #[test]
    fn unclosed_base64_parts_are_decoded_in_their_charset() {
        // No closing boundary: mail-parser returns each last part's raw base64 as text, here
        // followed by a mailing list's footer.
        for (part, html) in [("text/html", true), ("text/plain", false)] {
            let raw = format!(
                "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
                 --b\r\nContent-Type: {part}; charset=iso-8859-1\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\nPHA+Y2Fm6SBwaWxsczwvcD4=\r\n\r\n\
                 _____\r\nList footer: http://lists.example/\r\n"
            );
            let v = MessageView::parse(raw.as_bytes(), DEFAULT_MAX_TEXT_BYTES);
            let got = if html {
                v.html.concat()
            } else {
                v.text.clone()
            };
            assert_eq!(got, "<p>caf\u{e9} pills</p>", "{part}: {v:?}");
        }
    }

    #[test]
    fn a_field_after_a_malformed_date_is_kept() {
        // mail-parser's Date parser, when it ran, took the next field along with a date whose
        // zone is `UT`, so the sender was lost.
        let raw = b"Date: Sat, 14 Sep 2002 06:00:48 UT\nFrom: \"Classic Novels\" <webmaster@classic-novels.com>\nSubject: Issue 49\n\nbody\n";
        let v = MessageView::parse(raw, DEFAULT_MAX_TEXT_BYTES);
        let names: Vec<&str> = v.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["Date", "From", "Subject"]);
        assert_eq!(v.subject, "Issue 49");
    }

    #[test]
    fn repeated_headers_keep_their_own_values() {
        let raw = b"Received: from a.example\r\n\tby b.example\r\nReceived: from c.example\r\nSubject: x\r\n\r\nbody";
        let v = MessageView::parse(raw, DEFAULT_MAX_TEXT_BYTES);
        let received: Vec<&str> = v
            .headers
            .iter()
            .filter(|h| h.name == "Received")
            .map(|h| h.value.as_str())
            .collect();
        assert_eq!(received, ["from a.example by b.example", "from c.example"]);
    }

    #[test]
    fn text_is_cut_at_the_bound() {
        let raw = b"Subject: x\r\n\r\n0123456789abcdef";
        let v = MessageView::parse(raw, 10);
        assert_eq!(v.text, "0123456789");
        assert!(v.truncated);
    }

    #[test]
    fn garbage_does_not_panic() {
        let v = MessageView::parse(
            b"\xff\xfe\x00--==\r\n\r\n\r\nContent-Type: multipart/mixed; boundary=",
            100,
        );
        assert_eq!(v.size, 53);
    }

    /// Two nested messages, the second with no header fields: mail-parser 0.11 trips a
    /// `debug_assert!` of its multipart parser on it (release builds read on). The view is
    /// marked and made from the raw text.
    #[cfg(debug_assertions)]
    #[test]
    fn a_parser_panic_gives_the_raw_view() {
        let raw = NESTED_WITHOUT_FIELDS;
        let view = MessageView::parse(raw, 1000);
        assert!(view.parser_failed);
        assert_eq!(view, MessageView::raw(raw, 1000));
    }

    #[test]
    fn encoded_words_are_decoded_and_kept_as_written() {
        let raw = b"From: =?iso-8859-1?q?Jos=E9?= =?utf-8?b?R2FyY8Ot?=\r\n <jose@example.org>\r\n\
                    Reply-To: =?big5?B?pKSk5Q==?= <x@example.net>\r\n\
                    X-Mailer: Mailer 1.0\r\n\
                    X-Broken: =?unknown-charset?q?caf=C3=A9?= =?utf-8?b?!!!?=\r\n\r\nbody\r\n";
        let view = MessageView::parse(raw, DEFAULT_MAX_TEXT_BYTES);
        let field = |name: &str| {
            let h = view.headers.iter().find(|h| h.name == name).unwrap();
            (h.value.as_str(), h.raw.as_str())
        };
        assert_eq!(
            field("From"),
            (
                "JoséGarcí <jose@example.org>",
                "=?iso-8859-1?q?Jos=E9?= =?utf-8?b?R2FyY8Ot?= <jose@example.org>"
            ),
            "adjacent encoded words join; folding is undone in both"
        );
        assert_eq!(field("Reply-To").0, "中文 <x@example.net>");
        assert_eq!(field("X-Mailer"), ("Mailer 1.0", "Mailer 1.0"));
        let (value, written) = field("X-Broken");
        assert!(value.starts_with("café"), "{value}");
        assert!(written.starts_with("=?unknown-charset?q?caf=C3=A9?="));
    }

    #[test]
    fn the_raw_view_unfolds_fields_and_bounds_the_body() {
        let raw = b"Subject: Cheap\r\n  viagra\r\nX-A: 1\r\nbroken line\r\n\r\nbody \xff text\r\n";
        let view = MessageView::raw(raw, 8);
        assert_eq!(view.subject, "Cheap viagra");
        assert_eq!(
            view.headers,
            [
                Header {
                    name: "Subject".into(),
                    value: "Cheap viagra".into(),
                    raw: "Cheap viagra".into()
                },
                Header {
                    name: "X-A".into(),
                    value: "1".into(),
                    raw: "1".into()
                },
            ]
        );
        assert_eq!(view.text, "body \u{fffd}");
        assert!(view.truncated && view.parser_failed);
        assert_eq!(view.size, raw.len() as u64);
        let bare = MessageView::raw(b"no fields, no body", 100);
        assert!(bare.headers.is_empty() && bare.text.is_empty());
        let lf = MessageView::raw(b"Subject: x\n\nbody\n", 100);
        assert_eq!((lf.subject.as_str(), lf.text.as_str()), ("x", "body\n"));
    }

    /// A message mail-parser 0.11 asserts on in debug builds.
    #[cfg(debug_assertions)]
    const NESTED_WITHOUT_FIELDS: &[u8] = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n\
        --b\r\nContent-Type: message/rfc822\r\n\r\nx\r\n\
        --b\r\nContent-Type: message/rfc822\r\n\r\n\r\nx\r\n--b--\r\n";

    /// A multipart message with up to four parts of any type, charset and transfer encoding,
    /// bodies of base64, quoted-printable or raw bytes, the closing boundary perhaps missing,
    /// and then a few bytes overwritten anywhere.
    fn mime_message() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        use proptest::sample::select;
        let piece = select(
            &[
                "QUJD",
                "ZGVm",
                "==",
                "=",
                "=41",
                "=C3=A9",
                "=\r\n",
                "=\n",
                "=ZZ",
                " ",
                "\r\n",
                "\n",
                "--",
                "--b",
                "--b--",
                "<p>",
                "</p>",
                "=?gb2312?B?xOO6ww==?=",
                "\u{e9}",
            ][..],
        );
        let body = prop_oneof![
            proptest::collection::vec(piece, 0..60).prop_map(|p| p.concat().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..200),
        ];
        let part = (
            select(
                &[
                    "text/plain",
                    "text/html",
                    "text/enriched",
                    "application/pdf",
                    "message/rfc822",
                    "multipart/alternative; boundary=c",
                ][..],
            ),
            select(
                &[
                    "utf-8",
                    "gb2312",
                    "big5",
                    "iso-8859-1",
                    "koi8-r",
                    "x-bogus",
                    "\"\"",
                ][..],
            ),
            select(
                &[
                    "base64",
                    "quoted-printable",
                    "7bit",
                    "8bit",
                    "x-uuencode",
                    "",
                ][..],
            ),
            body,
        );
        (
            proptest::collection::vec(part, 0..4),
            any::<bool>(),
            proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..6),
        )
            .prop_map(|(parts, closed, edits)| {
                let mut raw = b"From: a@example.com\r\nSubject: =?utf-8?B?w6k=?= x\r\n\
                    MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                    .to_vec();
                for (content_type, charset, encoding, body) in parts {
                    raw.extend(
                        format!(
                            "--b\r\nContent-Type: {content_type}; charset={charset}\r\n\
                         Content-Transfer-Encoding: {encoding}\r\n\r\n"
                        )
                        .bytes(),
                    );
                    raw.extend(body);
                    raw.extend(b"\r\n");
                }
                if closed {
                    raw.extend(b"--b--\r\n");
                }
                for (at, byte) in edits {
                    let at = at.index(raw.len());
                    raw[at] = byte;
                }
                raw
            })
    }

    /// A header value made of the pieces of encoded words, broken in every way.
    fn encoded_words() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = proptest::sample::select(
            &[
                "=?", "?=", "?", "=", "q", "Q", "b", "B", "utf-8", "big5", "x-bogus", "*en", "=E9",
                "=C3=A9", "==", "w6k=", "pKSk5Q==", "_", " ", "\r\n ", "\t", "\"", "<", ">", "@",
                "\u{e9}", "\u{0}",
            ][..],
        );
        proptest::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    proptest::proptest! {
        /// Malformed MIME never panics: the view keeps the raw size, and the decoded text and
        /// HTML stay within the bound (plus the blank line between text parts).
        #[test]
        fn malformed_mime_parses_within_the_bound(raw in mime_message(), bound in 0usize..400) {
            let view = MessageView::parse(&raw, bound);
            proptest::prop_assert_eq!(view.size, raw.len() as u64);
            let decoded = view.text.len() + view.html.iter().map(String::len).sum::<usize>();
            proptest::prop_assert!(decoded <= bound + 2 * view.text.matches("\n\n").count());
        }

        /// Hostile encoded words in a field never panic the decoder, and the field is kept as
        /// written beside its decoded value.
        #[test]
        fn hostile_encoded_words_decode_or_stay_as_written(value in encoded_words()) {
            let raw = format!("From: {value}\r\nX-A: {value}\r\n\r\nbody\r\n");
            let view = MessageView::parse(raw.as_bytes(), DEFAULT_MAX_TEXT_BYTES);
            proptest::prop_assert!(!view.parser_failed);
            for h in &view.headers {
                proptest::prop_assert_eq!(&h.raw, &header_text(&h.raw));
                if !h.raw.contains("=?") {
                    proptest::prop_assert_eq!(&h.value, &h.raw);
                }
            }
        }
    }
}
