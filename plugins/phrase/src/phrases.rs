//! The phrase list: one Aho-Corasick automaton over every phrase, built once per domain.

use aho_corasick::{AhoCorasick, MatchKind};
use antispam_sdk::html::plain_run;

/// A compiled phrase list.
#[derive(Debug)]
pub struct PhraseList {
    automaton: AhoCorasick,
    /// The phrases as the list writes them (whitespace folded), by pattern id.
    phrases: Vec<String>,
    normalize_words: bool,
}

impl PhraseList {
    /// Compiles `phrases`; `None` when no phrase has any words left to match. With
    /// `normalize_words`, phrases and text both lose every non-letter before matching, so a
    /// phrase made only of non-letters (`$$$`) drops out.
    pub fn new<'p>(
        phrases: impl IntoIterator<Item = &'p str>,
        normalize_words: bool,
    ) -> Result<Option<Self>, String> {
        let mut keys = Vec::new();
        let mut shown = Vec::new();
        for phrase in phrases {
            let key = prepare(phrase, normalize_words);
            if !key.is_empty() {
                keys.push(key);
                shown.push(fold_whitespace(phrase));
            }
        }
        if keys.is_empty() {
            return Ok(None);
        }
        // No prefilter: phrases start with common letters, so one would stop the search at
        // nearly every word and cost more than the automaton's plain scan (in wasm, about
        // twice as much on the corpus).
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&keys)
            .map_err(|e| format!("phrase list: {e}"))?;
        Ok(Some(PhraseList {
            automaton,
            phrases: shown,
            normalize_words,
        }))
    }

    /// The first phrase that occurs in `text` on word boundaries: case-insensitive, with runs
    /// of whitespace in the text matching one space.
    pub fn find(&self, text: &str) -> Option<&str> {
        let haystack = prepare(text, self.normalize_words);
        self.automaton
            .find_overlapping_iter(&haystack)
            .find(|m| on_word_boundaries(&haystack, m.start(), m.end()))
            .map(|m| self.phrases[m.pattern().as_usize()].as_str())
    }
}

/// Lower-cases `s` and folds every run of whitespace (and control characters) into one
/// space; with `normalize_words`, strips every non-letter from each word first.
fn prepare(s: &str, normalize_words: bool) -> String {
    let mut out = String::with_capacity(s.len());
    // True when a word break is due before the next character kept.
    let mut gap = false;
    // True while only ASCII was kept (a piece is ASCII unless it is one non-ASCII character).
    let mut ascii = true;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        // Printable ASCII words with single spaces between them need no folding and are taken
        // whole, and so is a run of ASCII blanks (it folds as one); anything else goes one
        // character at a time.
        let run = if c.is_ascii() && is_blank(c) {
            rest.bytes().take_while(|&b| b <= b' ' || b == 0x7f).count()
        } else if normalize_words {
            0
        } else {
            plain_run(rest.as_bytes())
        };
        let len = if run > 0 { run } else { c.len_utf8() };
        let (piece, after) = rest.split_at(len);
        rest = after;
        if is_blank(c) {
            gap = !out.is_empty();
        } else if !normalize_words || c.is_alphabetic() {
            if gap {
                out.push(' ');
                gap = false;
            }
            out.push_str(piece);
            ascii &= c.is_ascii();
        }
    }
    if ascii {
        out.make_ascii_lowercase();
        out
    } else {
        out.to_lowercase()
    }
}

/// `s` with every run of whitespace or control characters folded into one space, trimmed.
pub fn fold_whitespace(s: &str) -> String {
    s.split(is_blank)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_blank(c: char) -> bool {
    if c.is_ascii() {
        c <= ' ' || c == '\x7f'
    } else {
        c.is_whitespace() || c.is_control()
    }
}

/// True unless the match cuts a word: a letter or digit on both sides of either edge.
fn on_word_boundaries(haystack: &str, start: usize, end: usize) -> bool {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let before = haystack[..start].chars().next_back();
    let first = haystack[start..].chars().next();
    let last = haystack[..end].chars().next_back();
    let after = haystack[end..].chars().next();
    let cuts_start = word(before) && word(first);
    let cuts_end = word(last) && word(after);
    !cuts_start && !cuts_end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(phrases: &[&str], normalize: bool) -> PhraseList {
        PhraseList::new(phrases.iter().copied(), normalize)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn case_and_whitespace_are_folded() {
        // Behaviour 33.
        let l = list(&["wholesale products"], false);
        assert_eq!(
            l.find("Buy Wholesale   Products!"),
            Some("wholesale products")
        );
        assert_eq!(
            l.find("wholesale\r\n\tproducts"),
            Some("wholesale products")
        );
        assert_eq!(l.find("wholesaleproducts"), None);
    }

    #[test]
    fn phrases_sit_on_word_boundaries() {
        let l = list(&["cash"], false);
        assert_eq!(l.find("cashier"), None);
        assert_eq!(l.find("mycash"), None);
        assert_eq!(l.find("free cash!"), Some("cash"));
        assert_eq!(l.find("(cash)"), Some("cash"));
        let l = list(&["$$$", "100%"], false);
        assert_eq!(l.find("earn $$$ now"), Some("$$$"));
        assert_eq!(l.find("win$$$"), Some("$$$"));
        assert_eq!(l.find("1100%"), None);
    }

    #[test]
    fn a_later_overlapping_phrase_still_matches() {
        let l = list(&["free", "free money"], false);
        assert_eq!(l.find("freely give free money"), Some("free"));
        let l = list(&["ash", "cash now"], false);
        assert_eq!(l.find("cash now"), Some("cash now"));
    }

    #[test]
    fn normalize_words_strips_non_letters() {
        // Behaviour 35.
        assert_eq!(
            list(&["viagra"], true).find("cheap v-i-a-g-r-a here"),
            Some("viagra")
        );
        assert_eq!(
            list(&["viagra"], false).find("cheap v-i-a-g-r-a here"),
            None
        );
        assert_eq!(list(&["Make $$$ Fast"], true).find("make money fast"), None);
        assert_eq!(
            list(&["Make $$$ Fast"], true).find("MAKE 100 FAST"),
            Some("Make $$$ Fast")
        );
        assert!(PhraseList::new(["$$$", "  "], true).unwrap().is_none());
    }

    #[test]
    fn text_is_prepared_as_words_joined_by_one_space() {
        assert_eq!(
            prepare("  Buy\t\x01NOW \u{a0}\u{85}ok\x7f", false),
            "buy now ok"
        );
        assert_eq!(prepare("\r\n", false), "");
        assert_eq!(
            prepare("$$$ Make 1-0-0 V.I.A \u{2003} fast!", true),
            "make via fast"
        );
        assert_eq!(prepare("ΟΔΟΣ Σ", false), "οδος σ");
    }

    #[test]
    fn unicode_text_and_phrases() {
        let l = list(&["GRATUIT", "straße"], false);
        assert_eq!(l.find("c'est gratuit!"), Some("GRATUIT"));
        assert_eq!(l.find("STRASSE"), None);
        assert_eq!(l.find("Hauptstraße 1"), None);
        assert_eq!(l.find("die Straße"), Some("straße"));
    }

    #[test]
    fn hundred_thousand_phrases_build_once_and_match() {
        let phrases: Vec<String> = (0..100_000)
            .map(|i| format!("offer number {i} now"))
            .collect();
        let l = PhraseList::new(phrases.iter().map(String::as_str), false)
            .unwrap()
            .unwrap();
        assert_eq!(l.find("offer number 0 now"), Some("offer number 0 now"));
        assert_eq!(
            l.find("an Offer Number 99999 NOW!"),
            Some("offer number 99999 now")
        );
        assert_eq!(l.find("an offer number 100000 now"), None);
        assert_eq!(l.find("offer number 5 now"), Some("offer number 5 now"));
    }

    /// Every place `phrase` occurs in `haystack` on word boundaries, found by trying each
    /// start in turn (the model the automaton is checked against).
    fn naive_occurs(haystack: &str, phrase: &str) -> bool {
        let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        haystack.char_indices().any(|(start, _)| {
            let end = start + phrase.len();
            haystack.get(start..end) == Some(phrase)
                && !(alnum(haystack[..start].chars().next_back()) && alnum(phrase.chars().next()))
                && !(alnum(phrase.chars().next_back()) && alnum(haystack[end..].chars().next()))
        })
    }

    const WORDS: &[&str] = &[
        "free", "fre", "e", "cash", "Free", "CASH", "now", "1", "$$$", "é",
    ];
    const GAPS: &[&str] = &[" ", "  ", "\t", "\r\n", "-", ",", ""];

    proptest::proptest! {
        /// The automaton finds a phrase exactly when a naive search finds one of the list on
        /// word boundaries, and what it returns is such a phrase.
        #[test]
        fn automaton_agrees_with_a_naive_search(
            phrases in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(WORDS), 1..3), 1..5),
            text in proptest::collection::vec(
                (proptest::sample::select(WORDS), proptest::sample::select(GAPS)), 0..12),
            normalize in proptest::bool::ANY,
        ) {
            let phrases: Vec<String> = phrases.iter().map(|p| p.join(" ")).collect();
            let text: String = text.iter().flat_map(|(w, g)| [*w, *g]).collect();
            let Some(list) = PhraseList::new(phrases.iter().map(String::as_str), normalize)
                .unwrap()
            else {
                return Ok(());
            };
            let haystack = prepare(&text, normalize);
            let occurs = |p: &str| {
                let key = prepare(p, normalize);
                !key.is_empty() && naive_occurs(&haystack, &key)
            };
            let found = list.find(&text);
            proptest::prop_assert_eq!(found.is_some(), phrases.iter().any(|p| occurs(p)));
            if let Some(phrase) = found {
                proptest::prop_assert!(occurs(phrase), "{:?} in {:?}", phrase, text);
            }
        }
    }
}
