//! Decoding the text files a configuration names (word tables, phrase and domain lists):
//! UTF-8, or, for a file that is not valid UTF-8, Windows-1252, the code page IMail and the
//! Windows tools of its day wrote such files in, so that an old table's `café` stays `café`.

use std::borrow::Cow;

/// `bytes` as text: UTF-8 when they are valid UTF-8 (a byte order mark dropped), otherwise
/// Windows-1252.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(windows_1252(bytes)),
    }
}

/// Decodes Windows-1252 as the WHATWG Encoding Standard does: ASCII and 0xA0–0xFF are the
/// Latin-1 characters of the same number, 0x80–0x9F the characters of [`HIGH`].
pub fn windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// The characters of bytes 0x80–0x9F (the five the code page leaves unassigned map to the C1
/// controls of the same number, as the standard's index has them).
const HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_decodes_as_the_encoding_standard_has_it() {
        let all: Vec<u8> = (0..=255).collect();
        let (expected, _, errors) = encoding_rs::WINDOWS_1252.decode(&all);
        assert!(!errors);
        assert_eq!(windows_1252(&all), expected);
    }

    #[test]
    fn utf8_is_kept_and_anything_else_is_windows_1252() {
        assert_eq!(decode("café,99,0,3\n".as_bytes()), "café,99,0,3\n");
        assert_eq!(
            decode(b"\xEF\xBB\xBFviagra"),
            "viagra",
            "byte order mark dropped"
        );
        assert_eq!(decode(b"caf\xE9 \x80100"), "café €100");
    }
}
