//! The two tokenizers: IMail's word rule and a richer one for Robinson mode.

mod imail;
mod robinson;

pub use imail::{each_token as each_imail_token, tokens as imail_tokens};
pub use robinson::{
    each_content_token as each_robinson_content_token,
    each_header_token as each_robinson_header_token, each_token as each_robinson_token,
    tokens as robinson_tokens,
};

/// The parts of a message that the tokenizers read (the fields content checks receive).
#[derive(Debug, Clone, Default)]
pub struct MessageText<'a> {
    /// The decoded Subject.
    pub subject: &'a str,
    /// Header fields in message order.
    pub headers: Vec<Field<'a>>,
    /// The decoded text/plain parts.
    pub text: &'a str,
    /// The decoded text/html parts, as markup.
    pub html: Vec<&'a str>,
}

/// One header field, unfolded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Field<'a> {
    /// The name as written.
    pub name: &'a str,
    /// The value with its RFC 2047 encoded words decoded.
    pub value: &'a str,
    /// The value as written.
    pub raw: &'a str,
}

impl<'a> Field<'a> {
    /// A field whose value has no encoded words: decoded, it reads as written.
    pub fn plain(name: &'a str, value: &'a str) -> Self {
        Field {
            name,
            value,
            raw: value,
        }
    }
}

impl<'a> From<&'a antispam_sdk::Message> for MessageText<'a> {
    fn from(m: &'a antispam_sdk::Message) -> Self {
        MessageText {
            subject: &m.subject,
            headers: m
                .headers
                .iter()
                .map(|h| Field {
                    name: &h.name,
                    value: &h.value,
                    raw: &h.raw,
                })
                .collect(),
            text: &m.text,
            html: m.html.iter().map(String::as_str).collect(),
        }
    }
}

/// `s` lower-cased exactly as [`str::to_lowercase`] does, in `buf` (reusing its allocation for
/// ASCII text).
fn lower<'b>(buf: &'b mut String, s: &str) -> &'b str {
    buf.clear();
    push_lower(buf, s);
    buf
}

/// Appends `s` lower-cased exactly as [`str::to_lowercase`] does (without an allocation for
/// ASCII text).
fn push_lower(buf: &mut String, s: &str) {
    if s.is_ascii() {
        let start = buf.len();
        buf.push_str(s);
        buf[start..].make_ascii_lowercase();
    } else {
        buf.push_str(&s.to_lowercase());
    }
}
