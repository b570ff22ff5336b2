//! IMail's tokenizer.

use antispam_sdk::html::extract_text;

use super::MessageText;

/// IMail's tokens: the Subject, the text and the text of the HTML parts, split into words of
/// letters, digits, `-`, `'` and `$`; lower-cased, and every non-letter other than `-` becomes
/// one `-` (`2Sexy` → `-sexy`). Words without a letter are dropped. Repeats are kept.
pub fn tokens(msg: &MessageText) -> Vec<String> {
    let mut out = Vec::new();
    each_token(msg, &mut |t| out.push(t.to_string()));
    out
}

/// Hands each IMail token of a message to `sink`, in the order [`tokens`] lists them.
pub fn each_token(msg: &MessageText, sink: &mut dyn FnMut(&str)) {
    let mut word = String::new();
    words(msg.subject, &mut word, sink);
    words(msg.text, &mut word, sink);
    for html in &msg.html {
        words(&extract_text(html), &mut word, sink);
    }
}

/// What an ASCII byte is to IMail's word rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Ends a word.
    Separator,
    /// A letter: kept, lower-cased.
    Letter,
    /// A digit, `-`, `'` or `$`: part of a word, read as `-`.
    Other,
}

/// The class of each ASCII byte.
const ASCII: [Class; 128] = {
    let mut table = [Class::Separator; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphabetic() {
            table[b] = Class::Letter;
        } else if c.is_ascii_digit() || matches!(c, b'-' | b'\'' | b'$') {
            table[b] = Class::Other;
        }
        b += 1;
    }
    table
};

/// The words of `text`, each built in the reused buffer `word`. ASCII is classified by table;
/// any other character is a letter when it is alphabetic and a separator otherwise.
fn words(text: &str, word: &mut String, sink: &mut dyn FnMut(&str)) {
    let mut has_letter = false;
    word.clear();
    let mut end_word = |word: &mut String, has_letter: &mut bool| {
        if *has_letter {
            sink(word);
        }
        word.clear();
        *has_letter = false;
    };
    let mut i = 0;
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            i += 1;
            match ASCII[usize::from(b)] {
                Class::Letter => {
                    has_letter = true;
                    word.push(char::from(b.to_ascii_lowercase()));
                }
                Class::Other => word.push('-'),
                Class::Separator => end_word(word, &mut has_letter),
            }
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            i += c.len_utf8();
            if c.is_alphabetic() {
                has_letter = true;
                word.extend(c.to_lowercase());
            } else {
                end_word(word, &mut has_letter);
            }
        }
    }
    end_word(word, &mut has_letter);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imail(text: &str) -> Vec<String> {
        tokens(&MessageText {
            text,
            ..MessageText::default()
        })
    }

    #[test]
    fn imail_digits_and_symbols_become_hyphens() {
        assert_eq!(imail("2Sexy"), ["-sexy"]);
        assert_eq!(
            imail("22Sexy don't $5off e-mail"),
            ["--sexy", "don-t", "--off", "e-mail"]
        );
    }

    #[test]
    fn imail_lower_cases_and_splits_on_punctuation() {
        assert_eq!(
            imail("FREE free, Free! 1234 (now)"),
            ["free", "free", "free", "now"]
        );
    }

    #[test]
    fn imail_non_ascii_letters_and_separators() {
        assert_eq!(
            imail("ÇA COÛTE 5€ STRASSE→Straße İx ٣٤ x٣y"),
            ["ça", "coûte", "strasse", "straße", "i\u{307}x", "x", "y"]
        );
    }

    #[test]
    fn imail_reads_subject_text_and_html() {
        let msg = MessageText {
            subject: "Hello",
            text: "plain",
            html: vec!["<p>VIA<!-- x -->GRA</p>"],
            headers: vec![crate::Field::plain("X-Other", "ignored")],
        };
        assert_eq!(tokens(&msg), ["hello", "plain", "viagra"]);
    }
}
