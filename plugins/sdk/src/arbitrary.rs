//! Property-test strategies for hostile input (feature `proptest`): the checks' tests feed
//! what these make to their parsers and assert that nothing panics and every bound holds.

use proptest::prelude::*;

/// What hostile mail text is made of: markup and comment fragments, entities, URL pieces,
/// white space and control characters, and characters that change length when lower-cased,
/// combine, or are not characters at all in the text's charset.
const PIECES: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "<!--",
    "-->",
    "<!",
    "<?",
    "&",
    "&#",
    "&#x",
    ";",
    "&amp;",
    "&nbsp",
    "=",
    "'",
    "\"",
    " ",
    "\t",
    "\r\n",
    "\0",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "a",
    "Z",
    "via",
    "gra",
    "href",
    "src",
    "a href=",
    "img",
    "table",
    "script",
    "comment",
    "style",
    "font",
    "http://",
    "https://",
    "www.",
    "mailto:",
    ".",
    "/",
    ":",
    "@",
    "%",
    "%4",
    "%41",
    "-",
    "$",
    "!",
    ",",
    "1",
    "99",
    "é",
    "İ",
    "ẞ",
    "ß",
    "Σ",
    "ǅ",
    "日本",
    "\u{301}",
    "\u{fffd}",
    "\u{10ffff}",
    "x.com",
    "example.org",
    "xn--",
    "[",
    "]",
    "(",
    ")",
    "<a href=\"http://192.0.2.9/\">",
    "<a href='mailto:a@b.example'>",
    "</a>",
    "<img src=x>",
    "<table>",
    "<td>",
    "</table>",
    "<script>",
    "</script>",
    "<comment>",
    "<!-- x -->",
    "<blink>",
    "www.paypal.com",
    "<p>",
    "<br/>",
    "<font color=red>",
    "<base href=",
];

/// A string of up to `max` hostile pieces, or (one time in four) any string at all.
pub fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(PIECES), 0..max).prop_map(|p| p.concat()),
        1 => any::<String>(),
    ]
}

/// A header field name: one the checks read specially, or hostile text.
fn field_name() -> impl Strategy<Value = String> {
    const NAMES: &[&str] = &[
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Return-Path",
        "Received",
        "Message-ID",
        "Subject",
        "Content-Type",
        "List-Id",
        "X-Mailer",
        "Date",
        "References",
    ];
    prop_oneof![
        prop::sample::select(NAMES).prop_map(String::from),
        hostile_text(4),
    ]
}

/// A message whose every field is hostile: up to 8 header fields, up to 2 HTML parts.
pub fn hostile_message() -> impl Strategy<Value = crate::Message> {
    (
        hostile_text(20),
        prop::collection::vec((field_name(), hostile_text(30), hostile_text(30)), 0..8),
        hostile_text(150),
        prop::collection::vec(hostile_text(150), 0..3),
        any::<bool>(),
    )
        .prop_map(|(subject, headers, text, html, truncated)| crate::Message {
            size: (subject.len() + text.len() + html.iter().map(String::len).sum::<usize>()) as u64,
            subject,
            headers: headers
                .into_iter()
                .map(|(name, value, raw)| crate::HeaderField { name, value, raw })
                .collect(),
            text,
            html,
            truncated,
        })
}
