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

/// The words of `text`, each built in the reused buffer `word`.
fn words(text: &str, word: &mut String, sink: &mut dyn FnMut(&str)) {
    let is_word_char =
        |c: char| c.is_alphabetic() || c.is_ascii_digit() || matches!(c, '-' | '\'' | '$');
    for chunk in text
        .split(|c: char| !is_word_char(c))
        .filter(|w| w.chars().any(char::is_alphabetic))
    {
        word.clear();
        for c in chunk.chars() {
            if c.is_alphabetic() {
                word.extend(c.to_lowercase());
            } else {
                word.push('-');
            }
        }
        sink(word);
    }
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
    fn imail_reads_subject_text_and_html() {
        let msg = MessageText {
            subject: "Hello",
            text: "plain",
            html: vec!["<p>VIA<!-- x -->GRA</p>"],
            headers: vec![("X-Other", "ignored")],
        };
        assert_eq!(tokens(&msg), ["hello", "plain", "viagra"]);
    }
}
