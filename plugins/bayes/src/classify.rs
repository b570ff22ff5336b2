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
    MessageText, each_imail_token, each_robinson_content_token, each_robinson_header_token,
    imail_tokens, robinson_tokens,
};
use crate::{graham, robinson};

/// A configured classifier: settings, the word table and the exclude list.
#[derive(Debug, Clone)]
pub struct Classifier {
    settings: Settings,
    /// Each table word's probability in the mode, computed once here (not per message).
    table: HashedTable<f64>,
    /// The probability of a word the table does not have.
    unseen: f64,
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
        let table: HashedTable = table.into();
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
        let (good, spam) = (table.good_messages, table.spam_messages);
        let probability = |counts: Option<Counts>| match settings.mode {
            Mode::Imail => counts
                .and_then(|c| graham::word_probability(c, good, spam))
                .unwrap_or(f64::from(settings.new_word_probability) / 100.0),
            Mode::Robinson => robinson::word_probability(
                counts.unwrap_or_default(),
                good,
                spam,
                settings.robinson_s,
                settings.robinson_x,
            ),
        };
        let unseen = probability(None);
        let table = table.map(|c| probability(Some(c)));
        Ok(Classifier {
            settings,
            table,
            unseen,
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
            Mode::Robinson => {
                each_robinson_header_token(msg, &mut |t| scorer.token(t));
                scorer.header_end = Some(scorer.text.len());
                each_robinson_content_token(msg, &mut |t| scorer.token(t));
            }
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

    /// `p`, a word's probability, if the mode uses the word (Robinson: not within `min-dev`
    /// of 0.5).
    fn used(&self, p: f64) -> Option<f64> {
        match self.settings.mode {
            Mode::Imail => Some(p),
            Mode::Robinson => ((p - 0.5).abs() >= self.settings.min_dev).then_some(p),
        }
    }
}

/// One message being scored.
struct Scorer<'c> {
    classifier: &'c Classifier,
    /// Hashes of the tokens seen so far.
    seen: SeenSet,
    excluded: Vec<String>,
    /// Each distinct token not excluded: its hash, and its place in `text`.
    hashes: Vec<u64>,
    places: Vec<Range<usize>>,
    text: String,
    /// Where the header tokens end in `text`, when the message was read by sections.
    header_end: Option<usize>,
}

impl<'c> Scorer<'c> {
    fn new(classifier: &'c Classifier) -> Scorer<'c> {
        Scorer {
            classifier,
            seen: SeenSet::with_capacity(1024),
            excluded: Vec::new(),
            hashes: Vec::with_capacity(1024),
            places: Vec::with_capacity(1024),
            text: String::with_capacity(8192),
            header_end: None,
        }
    }

    /// Takes one token; repeats are ignored.
    fn token(&mut self, token: &str) {
        let h = hash(token);
        if !self.seen.insert(h) {
            return;
        }
        if !self.classifier.exclude.is_empty() && self.classifier.exclude.contains(&h) {
            self.excluded.push(token.to_string());
        } else {
            let start = self.text.len();
            self.text.push_str(token);
            self.places.push(start..self.text.len());
            self.hashes.push(h);
        }
    }

    /// The candidate words (place in `text`, probability), the table lookups of the whole
    /// message batched (see [`HashedTable::get_many`]).
    fn candidates(&mut self) -> Vec<(Range<usize>, f64)> {
        let c = self.classifier;
        std::mem::take(&mut self.places)
            .into_iter()
            .zip(c.table.get_many(&self.hashes))
            .filter_map(|(place, p)| Some((place, c.used(p.unwrap_or(c.unseen))?)))
            .collect()
    }

    /// Selects the most interesting words and combines them. An undecided Robinson score
    /// (within `undecided-margin` of 0.5: as much evidence each way) is replaced by the score
    /// of the header words alone, when the message was read by sections and that score is
    /// not undecided too.
    fn finish(mut self) -> Outcome {
        let s = &self.classifier.settings;
        let threshold = match s.mode {
            Mode::Imail => f64::from(s.threshold) / 100.0,
            Mode::Robinson => s.spam_cutoff,
        };
        let mut words = self.candidates();
        let (mut probability, mut used) = self.combine_most_interesting(&mut words);
        let undecided = |p: f64| (p - 0.5).abs() < s.undecided_margin;
        if let Some(end) = self.header_end
            && undecided(probability)
        {
            let mut header_words: Vec<_> = words
                .iter()
                .filter(|(range, _)| range.start < end)
                .cloned()
                .collect();
            let (header_probability, header_used) =
                self.combine_most_interesting(&mut header_words);
            if !undecided(header_probability) {
                (probability, used, words) = (header_probability, header_used, header_words);
            }
        }
        words.truncate(used);
        self.excluded.sort_unstable();
        Outcome {
            probability,
            spam: graham::is_spam(probability, threshold),
            excluded: self.excluded,
            used: words,
            text: self.text,
        }
    }

    /// Moves the most interesting of `words` to the front (in no order: a selection, not a
    /// sort of them all) and combines them: the probability, and how many were used.
    fn combine_most_interesting(&self, words: &mut [(Range<usize>, f64)]) -> (f64, usize) {
        let s = &self.classifier.settings;
        let limit = match s.mode {
            Mode::Imail => s.max_words,
            Mode::Robinson => s.max_discriminators,
        };
        let used = words.len().min(limit);
        if words.len() > limit && limit > 0 {
            select_most_interesting(words, limit, &self.text);
        }
        // Combined in a canonical order of the values alone (most interesting first, equal
        // distances low to high), so the result never depends on how ties between words fall.
        // Sorted by integers that order as the values do.
        let mut probabilities: Vec<f64> = words[..used].iter().map(|(_, p)| *p).collect();
        probabilities
            .sort_unstable_by_key(|&p| (!total_order_key((p - 0.5).abs()), total_order_key(p)));
        let probability = match s.mode {
            Mode::Imail => graham::combine(probabilities),
            Mode::Robinson => robinson::combine(&probabilities),
        };
        (probability, used)
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

/// Moves the `limit` (at least 1, less than `words.len()`) most interesting words (see
/// [`most_interesting`]) to the front, in no order: a selection, not a sort of them all. The
/// words are selected by their distance from 0.5 alone; only those at the distance where the
/// cut falls are then compared by their text (`words` holds their places in `text`).
fn select_most_interesting(words: &mut [(Range<usize>, f64)], limit: usize, text: &str) {
    let distance = |w: &(Range<usize>, f64)| (w.1 - 0.5).abs();
    words.select_nth_unstable_by(limit - 1, |a, b| distance(b).total_cmp(&distance(a)));
    let cut = distance(&words[limit - 1]);
    // Those beyond the cut first, then every word at the cut (from both sides of `limit`).
    let mut beyond = 0;
    for i in 0..limit {
        if distance(&words[i]) > cut {
            words.swap(i, beyond);
            beyond += 1;
        }
    }
    let mut at_cut_end = limit;
    for i in limit..words.len() {
        if distance(&words[i]) == cut {
            words.swap(i, at_cut_end);
            at_cut_end += 1;
        }
    }
    let at_cut = &mut words[beyond..at_cut_end];
    let places = limit - beyond;
    if at_cut.len() > places {
        at_cut.select_nth_unstable_by(places - 1, |a, b| text[a.0.clone()].cmp(&text[b.0.clone()]));
    }
}

/// `x` as an integer whose order is [`f64::total_cmp`]'s (the bits, with those of negative
/// values but the sign flipped, and the sign flipped).
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    bits ^ ((((bits as i64) >> 63) as u64) >> 1) ^ (1 << 63)
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
    use crate::tokenize::Field;

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

    /// Few distinct values, mirrored around 0.5, so that many words tie at every distance.
    const VALUES: &[f64] = &[0.01, 0.99, 0.2, 0.8, 0.5, 0.3, 0.7];

    proptest::proptest! {
        /// The selection picks the same words as a full sort by interest, ties included.
        #[test]
        fn selection_matches_sorting_by_interest(
            drawn in proptest::collection::vec(
                (0u32..1000, proptest::sample::select(VALUES)), 2..120),
            limit in 1usize..40,
        ) {
            let limit = limit.min(drawn.len() - 1);
            let mut text = String::new();
            let mut words = Vec::new();
            for (i, (n, p)) in drawn.into_iter().enumerate() {
                let start = text.len();
                text.push_str(&format!("w{n}-{i}"));
                words.push((start..text.len(), p));
            }
            let word = |w: &(Range<usize>, f64)| (text[w.0.clone()].to_string(), w.1);
            let mut sorted: Vec<(String, f64)> = words.iter().map(word).collect();
            sorted.sort_by(|a, b| most_interesting((&a.0, a.1), (&b.0, b.1)));
            select_most_interesting(&mut words, limit, &text);
            let mut got: Vec<(String, f64)> = words[..limit].iter().map(word).collect();
            got.sort_by(|a, b| most_interesting((&a.0, a.1), (&b.0, b.1)));
            proptest::prop_assert_eq!(&got[..], &sorted[..limit]);
        }

        /// The integer keys order any two values as `total_cmp` does.
        #[test]
        fn total_order_keys_order_any_values(
            a in proptest::num::f64::ANY,
            b in proptest::num::f64::ANY,
        ) {
            proptest::prop_assert_eq!(total_order_key(a).cmp(&total_order_key(b)), a.total_cmp(&b));
        }
    }

    #[test]
    fn total_order_keys_order_as_total_cmp() {
        let values = [
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            0.05,
            0.5,
            0.95,
            1.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for a in values {
            for b in values {
                assert_eq!(
                    total_order_key(a).cmp(&total_order_key(b)),
                    a.total_cmp(&b),
                    "{a} {b}"
                );
            }
        }
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
    fn header_words_decide_an_undecided_robinson_score() {
        let t = Table::parse(
            "#antispam-table v1 good=10 spam=10 tokens=robinson\n\
             x-mailer:spamware,0,0,10\nmeeting,0,10,0\nagenda,0,10,0\nviagra,0,0,10\n",
        )
        .unwrap();
        let msg = MessageText {
            headers: vec![Field::plain("X-Mailer", "spamware")],
            text: "meeting agenda viagra",
            ..MessageText::default()
        };
        let robinson = |undecided_margin| {
            let s = Settings {
                mode: Mode::Robinson,
                undecided_margin,
                ..Settings::default()
            };
            Classifier::new(s, t.clone(), []).unwrap().classify(&msg)
        };
        // Two good and two spam words of equal strength: 0.5 (up to rounding), undecided.
        let whole = robinson(0.0);
        assert!((whole.probability - 0.5).abs() < 1e-12);
        assert_eq!(whole.words().len(), 4);
        let decided = robinson(0.002);
        assert!(decided.spam && decided.probability > 0.9);
        let used: Vec<&str> = decided.words().map(|(w, _)| w).collect();
        assert_eq!(used, ["x-mailer:spamware"]);
        // Without header words the headers are undecided too: the whole score stands.
        let s = Settings {
            mode: Mode::Robinson,
            ..Settings::default()
        };
        let bare = MessageText {
            text: "meeting viagra",
            ..MessageText::default()
        };
        let o = Classifier::new(s, t, []).unwrap().classify(&bare);
        assert_eq!(o.words().len(), 2);
        assert!((o.probability - 0.5).abs() < 1e-12);
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
