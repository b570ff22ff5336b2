//! Character references: `&amp;`, `&#65;`, `&#x41;` and a table of common named entities.

use std::borrow::Cow;

/// Named entities we decode, sorted by name for binary search. The flag says whether the
/// entity is also recognised without its `;` (the legacy forms browsers still accept).
const NAMED: &[(&str, char, bool)] = &[
    ("aacute", 'á', false),
    ("agrave", 'à', false),
    ("amp", '&', true),
    ("apos", '\'', false),
    ("auml", 'ä', false),
    ("bull", '•', false),
    ("ccedil", 'ç', false),
    ("cent", '¢', false),
    ("copy", '©', true),
    ("deg", '°', false),
    ("eacute", 'é', false),
    ("egrave", 'è', false),
    ("emsp", '\u{2003}', false),
    ("ensp", '\u{2002}', false),
    ("euro", '€', false),
    ("gt", '>', true),
    ("hellip", '…', false),
    ("iexcl", '¡', false),
    ("iquest", '¿', false),
    ("laquo", '«', false),
    ("ldquo", '“', false),
    ("lsquo", '‘', false),
    ("lt", '<', true),
    ("mdash", '—', false),
    ("middot", '·', false),
    ("nbsp", '\u{a0}', true),
    ("ndash", '–', false),
    ("ntilde", 'ñ', false),
    ("ouml", 'ö', false),
    ("pound", '£', false),
    ("quot", '"', true),
    ("raquo", '»', false),
    ("rdquo", '”', false),
    ("reg", '®', true),
    ("rsquo", '’', false),
    ("shy", '\u{ad}', false),
    ("szlig", 'ß', false),
    ("thinsp", '\u{2009}', false),
    ("times", '×', false),
    ("trade", '™', false),
    ("uuml", 'ü', false),
    ("yen", '¥', false),
    ("zwj", '\u{200d}', false),
    ("zwnj", '\u{200c}', false),
];

/// The longest entity name we look at; longer runs of letters are not entities.
const MAX_NAME: usize = 8;

/// Decodes the character reference starting at `b[at]` (which is `&`). Returns the character
/// and the index just past the reference, or `None` when there is no reference there.
/// In an attribute value a legacy name without `;` followed by a letter, digit or `=` is
/// left alone (`?a=1&copy=2` stays as written), as in HTML5.
pub(super) fn decode(b: &[u8], at: usize, in_attribute: bool) -> Option<(char, usize)> {
    if b.get(at + 1) == Some(&b'#') {
        numeric(b, at + 2)
    } else {
        named(b, at + 1, in_attribute)
    }
}

/// `&#NN;` or `&#xHH;` (the `;` is optional). Code points that are not characters, and NUL,
/// become U+FFFD; overlong digit runs are consumed whole and saturate.
fn numeric(b: &[u8], start: usize) -> Option<(char, usize)> {
    let hex = matches!(b.get(start), Some(b'x' | b'X'));
    let (radix, first) = if hex { (16, start + 1) } else { (10, start) };
    let mut end = first;
    let mut value: u32 = 0;
    while let Some(digit) = b.get(end).and_then(|&c| (c as char).to_digit(radix)) {
        value = value
            .saturating_mul(radix)
            .saturating_add(digit)
            .min(0x11_0000);
        end += 1;
    }
    if end == first {
        return None;
    }
    if b.get(end) == Some(&b';') {
        end += 1;
    }
    let c = char::from_u32(value)
        .filter(|&c| c != '\0')
        .unwrap_or('\u{fffd}');
    Some((c, end))
}

/// `&name;`, or the longest legacy name that starts the letters after `&` (`&lt3` is `<3`).
fn named(b: &[u8], start: usize, in_attribute: bool) -> Option<(char, usize)> {
    let run = &b[start.min(b.len())..];
    let len = run
        .iter()
        .take(MAX_NAME + 1)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if len <= MAX_NAME && run.get(len) == Some(&b';') {
        let name = std::str::from_utf8(&run[..len]).ok()?;
        if let Ok(i) = NAMED.binary_search_by(|(n, _, _)| (*n).cmp(name)) {
            return Some((NAMED[i].1, start + len + 1));
        }
    }
    let (name, c, _) = NAMED
        .iter()
        .filter(|(n, _, legacy)| *legacy && run.starts_with(n.as_bytes()))
        .max_by_key(|(n, _, _)| n.len())?;
    let next = run.get(name.len());
    if in_attribute && next.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'=') {
        return None;
    }
    Some((*c, start + name.len()))
}

/// Decodes every character reference in the attribute value `s`.
pub(super) fn decode_attribute(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(off) = s[pos..].find('&') {
        let at = pos + off;
        out.push_str(&s[pos..at]);
        match decode(b, at, true) {
            Some((c, end)) => {
                out.push(c);
                pos = end;
            }
            None => {
                out.push('&');
                pos = at + 1;
            }
        }
    }
    out.push_str(&s[pos..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_names_fit() {
        assert!(NAMED.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(NAMED.iter().all(|(n, _, _)| n.len() <= MAX_NAME));
    }

    #[test]
    fn named_and_numeric_references() {
        assert_eq!(
            decode_attribute("a &amp; b &lt;&gt; &quot;x&quot;"),
            "a & b <> \"x\""
        );
        assert_eq!(decode_attribute("&#86;&#x49;&#X41;"), "VIA");
        assert_eq!(decode_attribute("&#65&#x42"), "AB");
        assert_eq!(decode_attribute("a&nbsp;b"), "a\u{a0}b");
    }

    #[test]
    fn legacy_names_without_semicolon() {
        assert_eq!(decode_attribute("AT&amp T &lt3"), "AT& T &lt3");
        assert_eq!(decode_attribute("?a=1&copy=2&amp;b&lt"), "?a=1&copy=2&b<");
        assert_eq!(decode(b"&lt3", 0, false), Some(('<', 3)));
        assert_eq!(decode(b"&ampxxxxxxxxxxx", 0, false), Some(('&', 4)));
        assert_eq!(decode_attribute("&euro"), "&euro");
        assert_eq!(
            decode_attribute("&bogus; &; & &#; &#x;"),
            "&bogus; &; & &#; &#x;"
        );
    }

    #[test]
    fn invalid_code_points_become_replacement() {
        assert_eq!(
            decode_attribute("&#0;&#xD800;&#99999999999999999999;"),
            "\u{fffd}\u{fffd}\u{fffd}"
        );
    }

    #[test]
    fn truncated_references_at_end() {
        assert_eq!(decode_attribute("&"), "&");
        assert_eq!(decode_attribute("&#"), "&#");
        assert_eq!(decode_attribute("&#x"), "&#x");
        assert_eq!(decode_attribute("&am"), "&am");
    }
}
