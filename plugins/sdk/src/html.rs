//! A small HTML scanner for content checks: the text a reader sees, plus the tags and comments.
//!
//! The scanner follows the HTML5 tokenizer where it matters for spam (what is a tag, a
//! comment, a character reference) and never fails: any input, however broken, gives a
//! [`Document`] in time and memory linear in its length. An unterminated tag, quote or comment
//! runs to the end of the input, as in a browser.
//!
//! Text rules (IMail's HTML parser, as the statistical and phrase filters need it):
//! * tags are removed; HTML 4.01 block elements (`<p>`, `<br>`, `<td>`…) separate words,
//!   inline ones (`<b>`, `<font>`, `<a>`…) and tags that are not HTML do not;
//! * comments are removed *without* separating words: `VIA<!-- x -->GRA` and the bogus
//!   comments `VIA<!Z>GRA` both read `VIAGRA`;
//! * the contents of `<script>` and `<style>` are dropped;
//! * a tag that is not HTML but carries words (`<Get paid to work from home>`) gives those
//!   words to the text, so the filters see them; `<comment>Get Rich</comment>` keeps its text;
//! * character references are decoded; NUL, zero-width characters and soft hyphens are dropped
//!   (they only serve to split words); every run of whitespace becomes one space.

mod elements;
mod entities;
mod url;

use std::borrow::Cow;

use elements::Element;
pub use url::link_host;

/// What the scanner found in one HTML document.
#[derive(Debug, Default)]
pub struct Document<'a> {
    /// The visible text: single spaces between words, no leading or trailing space.
    pub text: String,
    /// Every start and end tag, in document order.
    pub tags: Vec<Tag<'a>>,
    /// Every comment (`<!--…-->`, and the bogus `<!…>` and `<?…>` forms), in document order.
    pub comments: Vec<Comment<'a>>,
    /// Every invisible character dropped from the text (NUL, zero-width characters, soft
    /// hyphen), with the byte offset in [`Document::text`] where it stood.
    pub invisibles: Vec<(usize, char)>,
}

/// One start or end tag.
#[derive(Debug)]
pub struct Tag<'a> {
    /// The element name, ASCII lower-case (`table`, `comment`, `o:p`); borrowed from a static
    /// table for the HTML 4.01 elements, so most tags allocate nothing for their name.
    pub name: Cow<'static, str>,
    /// True when the name is that of an HTML 4.01 element (strict, transitional or frameset).
    pub html4: bool,
    /// True for an end tag (`</td>`).
    pub end: bool,
    /// The attributes in source order; names ASCII lower-case, values entity-decoded.
    pub attributes: Vec<Attribute<'a>>,
    /// The tag as written, from `<` to `>`.
    pub raw: &'a str,
    /// The byte offset in [`Document::text`] where the tag stands.
    pub text_pos: usize,
}

/// One attribute of a tag. Name and value borrow from the document unless lower-casing or
/// decoding changed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// The attribute name, ASCII lower-case.
    pub name: Cow<'a, str>,
    /// The decoded value; empty for a bare attribute such as `nowrap`.
    pub value: Cow<'a, str>,
}

/// One comment.
#[derive(Debug)]
pub struct Comment<'a> {
    /// The comment as written, including its delimiters.
    pub raw: &'a str,
    /// The byte offset in [`Document::text`] where the comment stood.
    pub text_pos: usize,
    /// True when the comment sits inside a word: a letter or digit on both sides of it in the
    /// text (`VIA<!-- x -->GRA`).
    pub in_word: bool,
}

impl Tag<'_> {
    /// The value of attribute `name` (lower-case), if the tag has it.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| &*a.value)
    }

    /// True for a start tag named `name`.
    pub fn is_start(&self, name: &str) -> bool {
        !self.end && self.name == name
    }
}

/// Scans `html` into its text, tags and comments.
pub fn scan(html: &str) -> Document<'_> {
    let mut scanner = Scanner {
        src: html,
        b: html.as_bytes(),
        pos: 0,
        // Typical mail HTML: about half of it is text, and a tag every 50 bytes or so.
        doc: Document {
            text: String::with_capacity(html.len() / 2),
            tags: Vec::with_capacity(html.len() / 50),
            comments: Vec::new(),
            invisibles: Vec::new(),
        },
    };
    scanner.run();
    scanner.finish()
}

/// The visible text of `html` (see the module documentation for the rules).
pub fn extract_text(html: &str) -> String {
    scan(html).text
}

/// Walks the input once, left to right; every step consumes at least one byte.
struct Scanner<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    doc: Document<'a>,
}

impl<'a> Scanner<'a> {
    fn run(&mut self) {
        while self.pos < self.b.len() {
            let next = memchr::memchr2(b'<', b'&', &self.b[self.pos..]);
            let at = next.map_or(self.b.len(), |n| self.pos + n);
            let src = self.src;
            self.push_str(&src[self.pos..at]);
            self.pos = at;
            match self.b.get(at) {
                Some(b'<') => self.markup(at),
                Some(b'&') => self.reference(at),
                _ => {}
            }
        }
    }

    /// Trims the trailing space and decides which comments sit inside words.
    fn finish(mut self) -> Document<'a> {
        let doc = &mut self.doc;
        if doc.text.ends_with(' ') {
            doc.text.pop();
        }
        let len = doc.text.len();
        for (pos, _) in &mut doc.invisibles {
            *pos = (*pos).min(len);
        }
        for tag in &mut doc.tags {
            tag.text_pos = tag.text_pos.min(len);
        }
        for comment in &mut doc.comments {
            comment.text_pos = comment.text_pos.min(len);
            let before = doc.text[..comment.text_pos].chars().next_back();
            let after = doc.text[comment.text_pos..].chars().next();
            comment.in_word = before
                .zip(after)
                .is_some_and(|(x, y)| x.is_alphanumeric() && y.is_alphanumeric());
        }
        self.doc
    }

    /// Handles the `<` at `at`: a tag, a comment, a declaration, or a literal `<`.
    fn markup(&mut self, at: usize) {
        let b = self.b;
        match (b.get(at + 1), b.get(at + 2)) {
            (Some(c), _) if c.is_ascii_alphabetic() => self.tag(at, at + 1, false),
            (Some(b'/'), Some(c)) if c.is_ascii_alphabetic() => self.tag(at, at + 2, true),
            (Some(b'/'), Some(b'>')) => self.pos = at + 3,
            (Some(b'/'), _) | (Some(b'?'), _) => self.bogus_comment(at),
            (Some(b'!'), _) if b[at..].starts_with(b"<!--") => self.comment(at),
            (Some(b'!'), _) if starts_with_ignore_case(&b[at..], b"<!doctype") => {
                self.pos = self.find_byte(b'>', at + 2).map_or(b.len(), |g| g + 1);
            }
            (Some(b'!'), _) => self.bogus_comment(at),
            _ => {
                self.push_char('<');
                self.pos = at + 1;
            }
        }
    }

    /// `<!-- … -->`; `<!-->` and `<!--->` are empty comments, as in HTML5.
    fn comment(&mut self, at: usize) {
        let body = at + 4;
        let end = if self.b.get(body) == Some(&b'>') {
            body + 1
        } else if self.b[body..].starts_with(b"->") {
            body + 2
        } else {
            self.src[body..]
                .find("-->")
                .map_or(self.b.len(), |n| body + n + 3)
        };
        self.record_comment(at, end);
    }

    /// `<!…>`, `<?…>` and `</…>` that are not tags: comments up to the next `>`.
    fn bogus_comment(&mut self, at: usize) {
        let end = self.find_byte(b'>', at + 2).map_or(self.b.len(), |g| g + 1);
        self.record_comment(at, end);
    }

    fn record_comment(&mut self, at: usize, end: usize) {
        let src = self.src;
        let raw = &src[at..end];
        self.doc.comments.push(Comment {
            raw,
            text_pos: self.doc.text.len(),
            in_word: false,
        });
        self.pos = end;
    }

    /// A start or end tag whose name begins at `name_at`. A tag cut off by the end of the
    /// input is dropped with everything after it.
    fn tag(&mut self, at: usize, name_at: usize, end: bool) {
        let b = self.b;
        let mut p = name_at;
        while p < b.len() && !TAG_NAME_END.contains(b[p]) {
            p += 1;
        }
        let written = &self.src[name_at..p];
        let html4 = elements::html4_element(written);
        let name = match html4 {
            Some(known) => Cow::Borrowed(known.name),
            None => Cow::Owned(written.to_ascii_lowercase()),
        };
        let mut attributes = Vec::new();
        loop {
            while p < b.len() && BETWEEN_ATTRIBUTES.contains(b[p]) {
                p += 1;
            }
            match b.get(p) {
                None => {
                    self.pos = b.len();
                    return;
                }
                Some(b'>') => break,
                Some(_) => match self.attribute(p) {
                    Some((attribute, next)) => {
                        attributes.push(attribute);
                        p = next;
                    }
                    None => {
                        self.pos = b.len();
                        return;
                    }
                },
            }
        }
        let src = self.src;
        let raw = &src[at..=p];
        self.pos = p + 1;
        let text_pos = self.doc.text.len();
        self.tag_text(html4, end, raw, !attributes.is_empty());
        let raw_text_end: Option<&[u8]> = match (end, &*name) {
            (false, "script") => Some(b"</script"),
            (false, "style") => Some(b"</style"),
            _ => None,
        };
        self.doc.tags.push(Tag {
            name,
            html4: html4.is_some(),
            end,
            attributes,
            raw,
            text_pos,
        });
        if let Some(end_tag) = raw_text_end {
            self.skip_raw_text(end_tag);
        }
    }

    /// One attribute starting at `p` (not a space, `/` or `>`); returns it and the index after
    /// it, or `None` when a quoted value runs off the end of the input.
    fn attribute(&self, mut p: usize) -> Option<(Attribute<'a>, usize)> {
        let b = self.b;
        let name_at = p;
        p += 1;
        while p < b.len() && !ATTRIBUTE_NAME_END.contains(b[p]) {
            p += 1;
        }
        let src = self.src;
        let written = &src[name_at..p];
        let name = if written.bytes().any(|c| c.is_ascii_uppercase()) {
            Cow::Owned(written.to_ascii_lowercase())
        } else {
            Cow::Borrowed(written)
        };
        let mut q = p;
        while q < b.len() && SPACE.contains(b[q]) {
            q += 1;
        }
        if b.get(q) != Some(&b'=') {
            return Some((
                Attribute {
                    name,
                    value: Cow::Borrowed(""),
                },
                p,
            ));
        }
        q += 1;
        while q < b.len() && SPACE.contains(b[q]) {
            q += 1;
        }
        let (value, next) = match b.get(q) {
            Some(&quote @ (b'"' | b'\'')) => {
                let close = self.find_byte(quote, q + 1)?;
                (&src[q + 1..close], close + 1)
            }
            _ => {
                let start = q;
                while q < b.len() && !UNQUOTED_VALUE_END.contains(b[q]) {
                    q += 1;
                }
                (&src[start..q], q)
            }
        };
        Some((
            Attribute {
                name,
                value: entities::decode_attribute(value),
            },
            next,
        ))
    }

    /// What a tag contributes to the text: a word break for block elements, the words of a
    /// tag that is not HTML, nothing for inline elements and bare unknown tags.
    /// `html4` is the element when it is an HTML 4.01 element.
    fn tag_text(&mut self, html4: Option<Element>, end: bool, raw: &str, has_attributes: bool) {
        if let Some(element) = html4 {
            if !element.inline {
                self.push_char(' ');
            }
        } else if !end && has_attributes {
            let inner = raw[1..raw.len() - 1].trim_end_matches('/');
            self.push_char(' ');
            self.push_str(&entities::decode_attribute(inner));
            self.push_char(' ');
        }
    }

    /// Skips the contents of `<script>` or `<style>` up to its end tag (`</script` followed
    /// by a space, `/` or `>`), which is then scanned as an ordinary tag.
    fn skip_raw_text(&mut self, end_tag: &[u8]) {
        let mut from = self.pos;
        while let Some(n) = self.src[from..].find("</") {
            let at = from + n;
            let after = self.b.get(at + end_tag.len());
            if starts_with_ignore_case(&self.b[at..], end_tag)
                && after.is_none_or(|&c| TAG_NAME_END.contains(c))
            {
                self.pos = at;
                return;
            }
            from = at + 2;
        }
        self.pos = self.b.len();
    }

    /// Handles the `&` at `at`: a character reference, or a literal `&`.
    fn reference(&mut self, at: usize) {
        match entities::decode(self.b, at, false) {
            Some((c, end)) => {
                self.push_char(c);
                self.pos = end;
            }
            None => {
                self.push_char('&');
                self.pos = at + 1;
            }
        }
    }

    fn find_byte(&self, byte: u8, from: usize) -> Option<usize> {
        let from = from.min(self.b.len());
        memchr::memchr(byte, &self.b[from..]).map(|n| from + n)
    }

    /// Appends text as [`Self::push_char`] would, one character at a time, but runs of
    /// printable ASCII words with single spaces between them (see [`plain_run`]) in one copy,
    /// and runs of ASCII white space in one step.
    fn push_str(&mut self, s: &str) {
        let mut i = 0;
        while i < s.len() {
            let b = &s.as_bytes()[i..];
            let run = plain_run(b);
            if run > 0 {
                self.doc.text.push_str(&s[i..i + run]);
                i += run;
            } else if let space @ 1.. = b
                .iter()
                .take_while(|&&c| matches!(c, b'\t'..=b'\r' | b' '))
                .count()
            {
                // A run of ASCII white space folds as its first character does.
                self.push_char(' ');
                i += space;
            } else if let Some(c) = s[i..].chars().next() {
                self.push_char(c);
                i += c.len_utf8();
            }
        }
    }

    /// Appends one character of text: whitespace folds into one space, word-splitting
    /// invisibles are dropped.
    fn push_char(&mut self, c: char) {
        let text = &mut self.doc.text;
        if is_invisible(c) {
            self.doc.invisibles.push((text.len(), c));
            return;
        }
        if c.is_whitespace() {
            if !text.is_empty() && !text.ends_with(' ') {
                text.push(' ');
            }
        } else if !c.is_control() {
            text.push(c);
        }
    }
}

/// The length of the longest start of `b` made of printable ASCII words with single spaces
/// between them: text that folding whitespace leaves as it is (a space counts only between two
/// printable characters), so it can be copied whole rather than a character at a time.
pub fn plain_run(b: &[u8]) -> usize {
    let mut i = 0;
    while i < b.len()
        && (b[i].is_ascii_graphic()
            || (b[i] == b' ' && i > 0 && b.get(i + 1).is_some_and(u8::is_ascii_graphic)))
    {
        i += 1;
    }
    i
}

/// A set of bytes below 64 as a bit mask. Testing a byte is a shift: the scanner's loops test
/// every byte, and a `match` on these bytes would become a jump table in wasm, an indirect
/// jump per byte.
#[derive(Clone, Copy)]
struct ByteSet(u64);

impl ByteSet {
    const fn of(bytes: &[u8]) -> ByteSet {
        let mut set = 0;
        let mut i = 0;
        while i < bytes.len() {
            assert!(bytes[i] < 64, "a ByteSet holds bytes below 64");
            set |= 1 << bytes[i];
            i += 1;
        }
        ByteSet(set)
    }

    const fn and(self, other: ByteSet) -> ByteSet {
        ByteSet(self.0 | other.0)
    }

    fn contains(self, c: u8) -> bool {
        c < 64 && self.0 >> c & 1 == 1
    }
}

/// HTML whitespace.
const SPACE: ByteSet = ByteSet::of(b" \t\n\r\x0c");
/// What ends a tag name (and an end tag's name after `</script`).
const TAG_NAME_END: ByteSet = SPACE.and(ByteSet::of(b"/>"));
/// What may stand between a tag's attributes.
const BETWEEN_ATTRIBUTES: ByteSet = SPACE.and(ByteSet::of(b"/"));
/// What ends an attribute name.
const ATTRIBUTE_NAME_END: ByteSet = SPACE.and(ByteSet::of(b"/=>"));
/// What ends an unquoted attribute value.
const UNQUOTED_VALUE_END: ByteSet = SPACE.and(ByteSet::of(b">"));

/// Characters that render as nothing and only serve to split words: NUL, zero-width
/// characters and the soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\0' | '\u{ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
    )
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack
        .get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests;
