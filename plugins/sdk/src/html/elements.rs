//! The HTML 4.01 element set (strict, transitional and frameset DTDs together).

/// Every element name defined by HTML 4.01, lower-case and sorted for binary search.
const HTML4: &[&str] = &[
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
const INLINE: &[&str] = &[
    "a", "abbr", "acronym", "b", "basefont", "bdo", "big", "cite", "code", "del", "dfn", "em",
    "font", "i", "ins", "kbd", "label", "q", "s", "samp", "small", "span", "strike", "strong",
    "sub", "sup", "tt", "u", "var",
];

/// True when `name` (lower-case) is an HTML 4.01 element.
pub fn is_html4_element(name: &str) -> bool {
    HTML4.binary_search(&name).is_ok()
}

/// True when `name` (lower-case) is an HTML 4.01 inline element.
pub(super) fn is_inline(name: &str) -> bool {
    INLINE.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(HTML4.windows(2).all(|w| w[0] < w[1]));
        assert!(INLINE.windows(2).all(|w| w[0] < w[1]));
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
    }
}
