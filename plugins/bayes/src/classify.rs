//! Scoring a message against a loaded table, in either mode.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::settings::{Mode, Settings};
use crate::table::{Table, Tokens};
use crate::tokenize::{MessageText, imail_tokens, robinson_tokens};
use crate::{graham, robinson};

/// A configured classifier: settings, the word table and the exclude list.
#[derive(Debug, Clone)]
pub struct Classifier {
    settings: Settings,
    table: Table,
    exclude: HashSet<Box<str>>,
}

/// The result of scoring one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The message's spam probability (IMail) or chi-square score (Robinson).
    pub probability: f64,
    /// True when `probability` exceeds the threshold.
    pub spam: bool,
    /// The words used, most interesting first, with their probabilities.
    pub words: Vec<(String, f64)>,
    /// Distinct message words dropped because they are on the exclude list.
    pub excluded: Vec<String>,
}

impl Classifier {
    /// Builds a classifier; the table's tokens must match the mode.
    pub fn new(
        settings: Settings,
        table: Table,
        exclude: impl IntoIterator<Item = String>,
    ) -> Result<Classifier, String> {
        let expected = tokens_of(settings.mode);
        if table.tokens != expected {
            return Err(format!(
                "the table holds {} tokens but mode is {}",
                table.tokens.name(),
                expected.name()
            ));
        }
        let fold = settings.mode == Mode::Imail;
        let exclude = exclude
            .into_iter()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .map(|w| if fold { w.to_lowercase() } else { w }.into_boxed_str())
            .collect();
        Ok(Classifier {
            settings,
            table,
            exclude,
        })
    }

    /// The word table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// True when the table has both good and spam messages (otherwise scoring is disabled).
    pub fn has_counts(&self) -> bool {
        self.table.good_messages > 0 && self.table.spam_messages > 0
    }

    /// Scores a message.
    pub fn classify(&self, msg: &MessageText) -> Outcome {
        self.score(tokenize(self.settings.mode, msg))
    }

    /// Scores a message's tokens (each distinct token counts once).
    pub fn score(&self, mut tokens: Vec<String>) -> Outcome {
        tokens.sort_unstable();
        tokens.dedup();
        let (kept, excluded): (Vec<String>, Vec<String>) = tokens
            .into_iter()
            .partition(|t| !self.exclude.contains(t.as_str()));
        let s = &self.settings;
        let (good, spam) = (self.table.good_messages, self.table.spam_messages);
        let mut words: Vec<(String, f64)> = match s.mode {
            Mode::Imail => {
                let new_word = f64::from(s.new_word_probability) / 100.0;
                kept.into_iter()
                    .map(|w| {
                        let p = self
                            .table
                            .get(&w)
                            .and_then(|c| graham::word_probability(c, good, spam));
                        (w, p.unwrap_or(new_word))
                    })
                    .collect()
            }
            Mode::Robinson => kept
                .into_iter()
                .map(|w| {
                    let c = self.table.get(&w).unwrap_or_default();
                    let f = robinson::word_probability(c, good, spam, s.robinson_s, s.robinson_x);
                    (w, f)
                })
                .filter(|(_, f)| (f - 0.5).abs() >= s.min_dev)
                .collect(),
        };
        words.sort_by(most_interesting);
        let (limit, threshold) = match s.mode {
            Mode::Imail => (s.max_words, f64::from(s.threshold) / 100.0),
            Mode::Robinson => (s.max_discriminators, s.spam_cutoff),
        };
        words.truncate(limit);
        let probabilities: Vec<f64> = words.iter().map(|(_, p)| *p).collect();
        let probability = match s.mode {
            Mode::Imail => graham::combine(probabilities),
            Mode::Robinson => robinson::combine(&probabilities),
        };
        Outcome {
            probability,
            spam: graham::is_spam(probability, threshold),
            words,
            excluded,
        }
    }
}

/// The tokenizer a mode uses.
pub fn tokenize(mode: Mode, msg: &MessageText) -> Vec<String> {
    match mode {
        Mode::Imail => imail_tokens(msg),
        Mode::Robinson => robinson_tokens(msg),
    }
}

/// The table tokens a mode needs.
pub fn tokens_of(mode: Mode) -> Tokens {
    match mode {
        Mode::Imail => Tokens::Imail,
        Mode::Robinson => Tokens::Robinson,
    }
}

/// Stable "most interesting" order: distance from 0.5 descending, then the word ascending.
fn most_interesting(a: &(String, f64), b: &(String, f64)) -> Ordering {
    let (da, db) = ((a.1 - 0.5).abs(), (b.1 - 0.5).abs());
    db.total_cmp(&da).then_with(|| a.0.cmp(&b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lines: &str) -> Table {
        Table::parse(&format!("#antispam-table v1 good=100 spam=100\n{lines}")).unwrap()
    }

    fn imail(settings: Settings, lines: &str, exclude: &[&str]) -> Classifier {
        Classifier::new(
            settings,
            table(lines),
            exclude.iter().map(|w| w.to_string()),
        )
        .unwrap()
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn no_words_is_exactly_one_half_and_good() {
        let o = imail(Settings::default(), "", &[]).score(vec![]);
        assert_eq!((o.probability, o.spam, o.words.len()), (0.5, false, 0));
    }

    #[test]
    fn unknown_and_new_word_probability() {
        let o = imail(Settings::default(), "", &[]).score(words("zork"));
        assert!((o.probability - 0.4).abs() < 1e-12);
        let s = Settings {
            new_word_probability: 20,
            ..Settings::default()
        };
        assert_eq!(
            imail(s, "", &[]).score(words("zork")).words,
            [("zork".to_string(), 0.2)]
        );
    }

    #[test]
    fn only_the_most_interesting_words_count() {
        // good=100 spam=100: p = b/(g2+b) with g2 = 2*good; chosen to give 0.99, 0.98, 0.3, 0.6.
        let lines = "a,0,0,50\nb,0,1,98\nc,0,35,30\nd,0,10,30\n";
        let s = Settings {
            max_words: 3,
            ..Settings::default()
        };
        let o = imail(s, lines, &[]).score(words("d c b a"));
        let used: Vec<&str> = o.words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(used, ["a", "b", "c"]);
        assert!(
            (o.probability - 0.9995192).abs() < 1e-7,
            "{}",
            o.probability
        );
        let all = imail(Settings::default(), lines, &[]).score(words("a b c d"));
        assert!((all.probability - 0.9996794).abs() < 1e-7);
    }

    #[test]
    fn ties_break_on_the_word() {
        let lines = "x,0,0,9\nm,0,0,9\nq,0,9,0\n";
        let s = Settings {
            max_words: 2,
            ..Settings::default()
        };
        let o = imail(s, lines, &[]).score(words("x q m"));
        let used: Vec<&str> = o.words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(used, ["m", "q"]);
    }

    #[test]
    fn repeats_count_once_and_one_word_decides() {
        let lines = "viagra,0,0,50\nhello,0,20,0\n";
        let o = imail(Settings::default(), lines, &[]).score(words("viagra viagra viagra"));
        assert!((o.probability - 0.99).abs() < 1e-12);
        let s = Settings {
            max_words: 1,
            ..Settings::default()
        };
        let o = imail(s, lines, &[]).score(words("viagra hello zork"));
        assert_eq!(o.words.len(), 1);
    }

    #[test]
    fn excluded_words_are_dropped_and_reported() {
        let c = imail(Settings::default(), "viagra,0,0,50\n", &["VIAGRA"]);
        let o = c.score(words("viagra"));
        assert_eq!(o.excluded, ["viagra"]);
        assert_eq!(o.probability, 0.5);
    }

    #[test]
    fn imail_tokenizer_folds_case() {
        let c = imail(Settings::default(), "free,0,0,50\n", &[]);
        let o = c.classify(&MessageText {
            subject: "FREE",
            ..MessageText::default()
        });
        assert_eq!(o.words, [("free".to_string(), 0.99)]);
    }

    #[test]
    fn robinson_drops_weak_words_and_scores_extremes() {
        let t = Table::parse(
            "#antispam-table v1 good=10 spam=10 tokens=robinson\nspammy,0,0,10\nhammy,0,10,0\nmeh,0,5,5\n",
        )
        .unwrap();
        let s = Settings {
            mode: Mode::Robinson,
            ..Settings::default()
        };
        let c = Classifier::new(s, t, []).unwrap();
        let o = c.score(words("spammy meh unseen"));
        assert_eq!(
            o.words.len(),
            1,
            "meh (0.5) and unseen (x = 0.5) are within min-dev"
        );
        assert!(o.spam && o.probability > 0.9);
        let o = c.score(words("meh"));
        assert_eq!((o.probability, o.spam), (0.5, false));
        assert!(!c.score(words("hammy")).spam);
    }

    #[test]
    fn mode_must_match_the_table() {
        let s = Settings {
            mode: Mode::Robinson,
            ..Settings::default()
        };
        assert!(
            Classifier::new(s, table(""), [])
                .unwrap_err()
                .contains("imail tokens")
        );
    }
}
