//! Scoring a message against a loaded table, in either mode.
//!
//! Tokens stream from the tokenizer into a [`Scorer`]: each is hashed, counted once per
//! message, looked up by hash, and its text is kept (back to back in one buffer) only when the
//! word is a candidate for the verdict. Strings per word are never built.

use std::cmp::Ordering;
use std::ops::Range;

use crate::hashed::{HashSetOf, HashedTable, SeenSet, hash};
use crate::settings::{Mode, Settings};
use crate::table::{Counts, Tokens};
use crate::tokenize::{
    MessageText, each_imail_token, each_robinson_token, imail_tokens, robinson_tokens,
};
use crate::{graham, robinson};

/// A configured classifier: settings, the word table and the exclude list.
#[derive(Debug, Clone)]
pub struct Classifier {
    settings: Settings,
    table: HashedTable,
    exclude: HashSetOf,
}

/// The result of scoring one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The message's spam probability (IMail) or chi-square score (Robinson).
    pub probability: f64,
    /// True when `probability` exceeds the threshold.
    pub spam: bool,
    /// Distinct message words dropped because they are on the exclude list, sorted.
    pub excluded: Vec<String>,
    /// The words used (their place in `text`, and probability), in no particular order.
    used: Vec<(Range<usize>, f64)>,
    /// The text of the candidate words, back to back.
    text: String,
}

impl Outcome {
    /// The words used, most interesting first, with their probabilities (sorted on each call:
    /// only verbose logging needs the order).
    pub fn words(&self) -> impl ExactSizeIterator<Item = (&str, f64)> {
        let mut words: Vec<(&str, f64)> = self
            .used
            .iter()
            .map(|(r, p)| (&self.text[r.clone()], *p))
            .collect();
        words.sort_unstable_by(|a, b| most_interesting(*a, *b));
        words.into_iter()
    }
}

impl Classifier {
    /// Builds a classifier; the table's tokens must match the mode.
    pub fn new(
        settings: Settings,
        table: impl Into<HashedTable>,
        exclude: impl IntoIterator<Item = String>,
    ) -> Result<Classifier, String> {
        let table = table.into();
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
            .map(|w| hash(&if fold { w.to_lowercase() } else { w }))
            .collect();
        Ok(Classifier {
            settings,
            table,
            exclude,
        })
    }

    /// True when the table has both good and spam messages (otherwise scoring is disabled).
    pub fn has_counts(&self) -> bool {
        self.table.good_messages > 0 && self.table.spam_messages > 0
    }

    /// Scores a message.
    pub fn classify(&self, msg: &MessageText) -> Outcome {
        let mut scorer = Scorer::new(self);
        match self.settings.mode {
            Mode::Imail => each_imail_token(msg, &mut |t| scorer.token(t)),
            Mode::Robinson => each_robinson_token(msg, &mut |t| scorer.token(t)),
        }
        scorer.finish()
    }

    /// Scores a message's tokens (each distinct token counts once).
    pub fn score(&self, tokens: impl IntoIterator<Item = String>) -> Outcome {
        let mut scorer = Scorer::new(self);
        for t in tokens {
            scorer.token(&t);
        }
        scorer.finish()
    }

    /// The probability of a word with these table counts (`None`: not in the table), or
    /// `None` when the mode ignores it (Robinson: within `min-dev` of 0.5).
    fn probability(&self, counts: Option<Counts>) -> Option<f64> {
        let s = &self.settings;
        let (good, spam) = (self.table.good_messages, self.table.spam_messages);
        match s.mode {
            Mode::Imail => Some(
                counts
                    .and_then(|c| graham::word_probability(c, good, spam))
                    .unwrap_or(f64::from(s.new_word_probability) / 100.0),
            ),
            Mode::Robinson => {
                let c = counts.unwrap_or_default();
                let f = robinson::word_probability(c, good, spam, s.robinson_s, s.robinson_x);
                ((f - 0.5).abs() >= s.min_dev).then_some(f)
            }
        }
    }
}

/// One message being scored.
struct Scorer<'c> {
    classifier: &'c Classifier,
    /// Hashes of the tokens seen so far.
    seen: SeenSet,
    excluded: Vec<String>,
    /// Each distinct token not excluded: its place in `text` and its hash.
    tokens: Vec<(Range<usize>, u64)>,
    text: String,
}

impl<'c> Scorer<'c> {
    fn new(classifier: &'c Classifier) -> Scorer<'c> {
        Scorer {
            classifier,
            seen: SeenSet::with_capacity(1024),
            excluded: Vec::new(),
            tokens: Vec::with_capacity(1024),
            text: String::with_capacity(8192),
        }
    }

    /// Takes one token; repeats are ignored.
    fn token(&mut self, token: &str) {
        let h = hash(token);
        if !self.seen.insert(h) {
            return;
        }
        if self.classifier.exclude.contains(&h) {
            self.excluded.push(token.to_string());
        } else {
            let start = self.text.len();
            self.text.push_str(token);
            self.tokens.push((start..self.text.len(), h));
        }
    }

    /// The candidate words (place in `text`, probability). The table lookups run in one tight
    /// loop of independent loads, so their cache misses overlap instead of following one
    /// another between tokenizer steps.
    fn candidates(&mut self) -> Vec<(Range<usize>, f64)> {
        let table = &self.classifier.table;
        let counts: Vec<Option<Counts>> = self.tokens.iter().map(|t| table.get(t.1)).collect();
        std::mem::take(&mut self.tokens)
            .into_iter()
            .zip(counts)
            .filter_map(|((range, _), c)| Some((range, self.classifier.probability(c)?)))
            .collect()
    }

    /// Selects the most interesting words and combines them.
    fn finish(mut self) -> Outcome {
        let s = &self.classifier.settings;
        let (limit, threshold) = match s.mode {
            Mode::Imail => (s.max_words, f64::from(s.threshold) / 100.0),
            Mode::Robinson => (s.max_discriminators, s.spam_cutoff),
        };
        let mut words = self.candidates();
        if words.len() > limit && limit > 0 {
            // The `limit` most interesting, in no order (a selection, not a sort of them all).
            let text = &self.text;
            words.select_nth_unstable_by(limit - 1, |a, b| {
                most_interesting((&text[a.0.clone()], a.1), (&text[b.0.clone()], b.1))
            });
        }
        words.truncate(limit);
        // Combined in a canonical order of the values alone (most interesting first, equal
        // distances low to high), so the result never depends on how ties between words fall.
        let mut probabilities: Vec<f64> = words.iter().map(|(_, p)| *p).collect();
        probabilities.sort_unstable_by(|a, b| {
            (b - 0.5)
                .abs()
                .total_cmp(&(a - 0.5).abs())
                .then(a.total_cmp(b))
        });
        let probability = match s.mode {
            Mode::Imail => graham::combine(probabilities),
            Mode::Robinson => robinson::combine(&probabilities),
        };
        self.excluded.sort_unstable();
        Outcome {
            probability,
            spam: graham::is_spam(probability, threshold),
            excluded: self.excluded,
            used: words,
            text: self.text,
        }
    }
}

/// The tokens of a message in a mode (repeats kept), as strings: for training.
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

/// "Most interesting" order: distance from 0.5 descending, then the word ascending (words
/// are distinct, so the order is total).
fn most_interesting(a: (&str, f64), b: (&str, f64)) -> Ordering {
    let (da, db) = ((a.1 - 0.5).abs(), (b.1 - 0.5).abs());
    db.total_cmp(&da).then_with(|| a.0.cmp(b.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Table;

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
        assert_eq!((o.probability, o.spam, o.words().len()), (0.5, false, 0));
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
            imail(s, "", &[])
                .score(words("zork"))
                .words()
                .collect::<Vec<_>>(),
            [("zork", 0.2)]
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
        let used: Vec<&str> = o.words().map(|(w, _)| w).collect();
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
        let used: Vec<&str> = o.words().map(|(w, _)| w).collect();
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
        assert_eq!(o.words().len(), 1);
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
        assert_eq!(o.words().collect::<Vec<_>>(), [("free", 0.99)]);
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
            o.words().len(),
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
