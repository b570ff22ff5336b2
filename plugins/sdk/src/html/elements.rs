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
/// For each element of [`HTML4`], whether it is in [`INLINE`].
const HTML4_INLINE: [bool; 91] = {
    let mut inline = [false; 91];
    let (mut h, mut i) = (0, 0);
    // Both key lists are sorted: one merge-like pass.
    while h < HTML4_KEYS.len() && i < INLINE_KEYS.len() {
        if HTML4_KEYS[h] == INLINE_KEYS[i] {
            inline[h] = true;
            i += 1;
        }
        h += 1;
    }
    inline
};

/// An HTML 4.01 element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Element {
    /// The lower-case name.
    pub name: &'static str,
    /// True when it is rendered inline: it does not separate words in the extracted text.
    pub inline: bool,
}

/// The HTML 4.01 element `name` (any case) names.
pub(super) fn html4_element(name: &str) -> Option<Element> {
    let k = key(name.as_bytes())?;
    let mut i = slot(k);
    loop {
        let entry = HTML4_SLOTS[i] as usize;
        if entry == 0 {
            return None;
        }
        if HTML4_KEYS[entry - 1] == k {
            return Some(Element {
                name: HTML4[entry - 1],
                inline: HTML4_INLINE[entry - 1],
            });
        }
        i = (i + 1) % SLOTS;
    }
}

/// Size of [`HTML4_SLOTS`]: a power of two, under a half full.
const SLOTS: usize = 256;

/// [`HTML4`] as an open-addressing hash table over [`key`]s: each slot holds 1 + an index
/// into [`HTML4`], or 0 when empty (a lookup is one multiplication and one or two
/// comparisons, cheaper than a binary search on every tag).
const HTML4_SLOTS: [u8; SLOTS] = {
    let mut slots = [0u8; SLOTS];
    let mut n = 0;
    while n < HTML4_KEYS.len() {
        let mut i = slot(HTML4_KEYS[n]);
        while slots[i] != 0 {
            i = (i + 1) % SLOTS;
        }
        slots[i] = n as u8 + 1;
        n += 1;
    }
    slots
};

/// The first slot of `k` in [`HTML4_SLOTS`].
const fn slot(k: u128) -> usize {
    let folded = (k as u64) ^ ((k >> 64) as u64);
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize
}

/// A name of at most [`MAX_KEYED`] bytes as one integer: its bytes ASCII lower-cased and
/// big-endian, zero-padded, then its length; keys compare as the lower-cased names do, so a
/// lookup is a few integer comparisons. `None` for a longer name. The two halves are built in
/// registers (bytes stored one by one into an array and read back whole are slow to load).
const fn key(name: &[u8]) -> Option<u128> {
    if name.len() > MAX_KEYED {
        return None;
    }
    let (mut high, mut low) = (0u64, name.len() as u64);
    let mut i = 0;
    while i < name.len() {
        let byte = name[i].to_ascii_lowercase() as u64;
        if i < 8 {
            high |= byte << (56 - 8 * i);
        } else {
            low |= byte << (56 - 8 * (i - 8));
        }
        i += 1;
    }
    Some((high as u128) << 64 | low as u128)
}

/// The longest name [`key`] takes (no element name comes near it).
const MAX_KEYED: usize = 15;

/// The [`key`]s of `names` (each at most [`MAX_KEYED`] bytes long).
const fn keys<const N: usize>(names: [&str; N]) -> [u128; N] {
    let mut out = [0u128; N];
    let mut i = 0;
    while i < N {
        out[i] = match key(names[i].as_bytes()) {
            Some(k) => k,
            None => panic!("element names are short"),
        };
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_html4(name: &str) -> bool {
        html4_element(name).is_some()
    }

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(HTML4.windows(2).all(|w| w[0] < w[1]));
        assert!(INLINE.windows(2).all(|w| w[0] < w[1]));
        assert!(HTML4_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(INLINE_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(INLINE.iter().all(|e| is_html4(e)));
        assert_eq!(HTML4.len(), 91);
        assert!(
            HTML4
                .iter()
                .all(|e| html4_element(e).map(|e| e.name) == Some(*e))
        );
        let inline: Vec<&str> = (HTML4.iter().copied())
            .filter(|e| html4_element(e).is_some_and(|e| e.inline))
            .collect();
        assert_eq!(inline, INLINE);
    }

    #[test]
    fn known_and_unknown_names() {
        assert!(is_html4("table"));
        assert!(is_html4("h6"));
        assert!(!is_html4("comment"));
        assert!(!is_html4("blink"));
        assert!(!is_html4("o:p"));
        assert!(!is_html4("b\0"), "a NUL does not pad a name");
        assert!(!is_html4("blockquoteblockquote"));
        let inline = |n| html4_element(n).is_some_and(|e| e.inline);
        assert!(inline("span") && inline("SPAN") && !inline("div") && !inline("spanx"));
        assert!(is_html4("TaBlE"));
        let img = Element {
            name: "img",
            inline: false,
        };
        assert_eq!(html4_element("IMG"), Some(img));
        assert_eq!(html4_element("blink"), None);
    }
}
