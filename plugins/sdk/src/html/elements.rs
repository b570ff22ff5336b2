//! The HTML 4.01 element set (strict, transitional and frameset DTDs together).

/// Every element name defined by HTML 4.01, lower-case and sorted.
const HTML4: [&str; 91] = [
    "a",
    "abbr",
    "acronym",
    "address",
    "applet",
    "area",
    "b",
    "base",
    "basefont",
    "bdo",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "fieldset",
    "font",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "isindex",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "map",
    "menu",
    "meta",
    "noframes",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "p",
    "param",
    "pre",
    "q",
    "s",
    "samp",
    "script",
    "select",
    "small",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
];

/// The HTML 4.01 elements rendered inline: they do not separate words in the extracted text.
const INLINE: [&str; 29] = [
    "a", "abbr", "acronym", "b", "basefont", "bdo", "big", "cite", "code", "del", "dfn", "em",
    "font", "i", "ins", "kbd", "label", "q", "s", "samp", "small", "span", "strike", "strong",
    "sub", "sup", "tt", "u", "var",
];

/// [`HTML4`] as [`key`]s, in the same (sorted) order.
const HTML4_KEYS: [u128; 91] = keys(HTML4);
/// [`INLINE`] as [`key`]s, in the same (sorted) order.
const INLINE_KEYS: [u128; 29] = keys(INLINE);

/// True when `name` (lower-case) is an HTML 4.01 element.
pub fn is_html4_element(name: &str) -> bool {
    name.len() <= MAX_KEYED && HTML4_KEYS.binary_search(&key(name)).is_ok()
}

/// True when `name` (lower-case) is an HTML 4.01 inline element.
pub(super) fn is_inline(name: &str) -> bool {
    name.len() <= MAX_KEYED && INLINE_KEYS.binary_search(&key(name)).is_ok()
}

/// A name of at most [`MAX_KEYED`] bytes as one integer: its bytes big-endian, zero-padded,
/// then its length; keys compare as the names do, so a lookup is a few integer comparisons.
const fn key(name: &str) -> u128 {
    let b = name.as_bytes();
    let mut k = 0u128;
    let mut i = 0;
    while i < MAX_KEYED {
        k <<= 8;
        if i < b.len() {
            k |= b[i] as u128;
        }
        i += 1;
    }
    (k << 8) | b.len() as u128
}

/// The longest name [`key`] takes (no element name comes near it).
const MAX_KEYED: usize = 15;

/// The [`key`]s of `names`.
const fn keys<const N: usize>(names: [&str; N]) -> [u128; N] {
    let mut out = [0u128; N];
    let mut i = 0;
    while i < N {
        out[i] = key(names[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(HTML4.windows(2).all(|w| w[0] < w[1]));
        assert!(INLINE.windows(2).all(|w| w[0] < w[1]));
        assert!(HTML4_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(INLINE_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(INLINE.iter().all(|e| is_html4_element(e)));
        assert_eq!(HTML4.len(), 91);
    }

    #[test]
    fn known_and_unknown_names() {
        assert!(is_html4_element("table"));
        assert!(is_html4_element("h6"));
        assert!(!is_html4_element("comment"));
        assert!(!is_html4_element("blink"));
        assert!(!is_html4_element("o:p"));
        assert!(!is_html4_element("b\0"), "a NUL does not pad a name");
        assert!(!is_html4_element("blockquoteblockquote"));
        assert!(is_inline("span") && !is_inline("div") && !is_inline("spanx"));
    }
}
