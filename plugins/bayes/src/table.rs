//! The word table `antispam-table.txt`: message totals and per-word good/spam counts.
//!
//! Text format (one table per host):
//!
//! ```text
//! #antispam-table v1 good=<messages> spam=<messages> tokens=<imail|robinson> revision=<n>
//! word,value,good,spam
//! ```
//!
//! `revision` names the version of the tokenizer (with the message parsing before it) whose
//! words the table holds (see [`Tokens::revision`]); a table without it (written before
//! revisions were recorded, or by IMail) has revision 0, unknown.
//!
//! `value` is a cached score (written as an integer percent, ignored on load and recomputed);
//! `good`/`spam` are counts. The word is everything before the last three commas, so a token
//! may itself contain commas and inner spaces (Robinson word pairs). Blank lines and whitespace
//! around fields are tolerated.

use std::collections::HashMap;
use std::fmt::Write as _;

/// Which tokenizer produced a table's words (and therefore which mode can use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokens {
    /// IMail's tokenizer: lower-cased words, non-letters as `-`; counts are occurrences.
    Imail,
    /// The Robinson tokenizer: prefixed header tokens, URL pieces; counts are messages.
    Robinson,
}

impl Tokens {
    /// The name used in the header line and in settings.
    pub fn name(self) -> &'static str {
        match self {
            Tokens::Imail => "imail",
            Tokens::Robinson => "robinson",
        }
    }

    /// The revision of this tokenizer in this build: raised whenever the tokens it makes of
    /// some message change (the tokenizer's rules, or how the host parses and decodes mail
    /// before it). A message learned into a table of another revision gave the table other
    /// tokens than it gives now, so it cannot be taken off the table exactly.
    pub fn revision(self) -> u32 {
        match self {
            Tokens::Imail => 1,
            // 2: header fields read with their encoded words decoded (names, other fields'
            // words), the `charset:` tokens still from the fields as written.
            Tokens::Robinson => 2,
        }
    }
}

/// Good and spam counts of one word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Count in good (non-spam) mail.
    pub good: u32,
    /// Count in spam.
    pub spam: u32,
}

impl Counts {
    /// Adds `other`'s counts (saturating).
    pub fn add(&mut self, other: Counts) {
        self.good = self.good.saturating_add(other.good);
        self.spam = self.spam.saturating_add(other.spam);
    }

    /// The count of one side.
    fn side_mut(&mut self, spam: bool) -> &mut u32 {
        if spam { &mut self.spam } else { &mut self.good }
    }
}

/// A loaded word table. Lookups are hash lookups, independent of the table's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Number of good messages trained.
    pub good_messages: u32,
    /// Number of spam messages trained.
    pub spam_messages: u32,
    /// The tokenizer the words come from.
    pub tokens: Tokens,
    /// The tokenizer's revision when the table was started ([`Tokens::revision`]; 0 when not
    /// recorded). Extending a table keeps it: only a new table is of the current revision.
    pub revision: u32,
    words: HashMap<Box<str>, Counts>,
}

const MAGIC: &str = "#antispam-table";

impl Table {
    /// An empty table for words of the given tokenizer.
    pub fn new(tokens: Tokens) -> Table {
        Table {
            good_messages: 0,
            spam_messages: 0,
            tokens,
            revision: tokens.revision(),
            words: HashMap::new(),
        }
    }

    /// Parses the text format; an error names the offending line.
    pub fn parse(text: &str) -> Result<Table, String> {
        let mut words: HashMap<Box<str>, Counts> = HashMap::with_capacity(text.len() / 24);
        let mut table = parse_with(text, |word, counts| {
            words.entry(word.into()).or_default().add(counts)
        })?;
        table.words = words;
        Ok(table)
    }

    /// The counts of `word`, if the table has it.
    pub fn get(&self, word: &str) -> Option<Counts> {
        self.words.get(word).copied()
    }

    /// Every word with its counts, in no particular order.
    pub fn words(&self) -> impl Iterator<Item = (&str, Counts)> {
        self.words.iter().map(|(w, c)| (w.as_ref(), *c))
    }

    /// Number of distinct words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when the table has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Adds one trained message: its tokens (repeats count again, as the caller decides)
    /// go to the good or spam side, and the message total grows by one.
    pub fn add_message<'a>(&mut self, tokens: impl IntoIterator<Item = &'a str>, spam: bool) {
        let total = self.messages_mut(spam);
        *total = total.saturating_add(1);
        for token in tokens {
            let counts = match self.words.get_mut(token) {
                Some(c) => c,
                None => self.words.entry(token.into()).or_default(),
            };
            let side = counts.side_mut(spam);
            *side = side.saturating_add(1);
        }
    }

    /// Takes one trained message off the table, given the tokens it was added with (training
    /// undone, or the message moved to the other side): its counts fall, never below zero,
    /// and a word left with no count at all is dropped.
    pub fn remove_message<'a>(&mut self, tokens: impl IntoIterator<Item = &'a str>, spam: bool) {
        let total = self.messages_mut(spam);
        *total = total.saturating_sub(1);
        for token in tokens {
            if let Some(counts) = self.words.get_mut(token) {
                let side = counts.side_mut(spam);
                *side = side.saturating_sub(1);
                if *counts == Counts::default() {
                    self.words.remove(token);
                }
            }
        }
    }

    /// Bounds the table to `max_words` words by dropping those seen least (fewest good plus
    /// spam counts; among equal counts the words that sort last), and returns how many were
    /// dropped. The message totals stay: a dropped word scores as a word never seen.
    pub fn prune(&mut self, max_words: usize) -> usize {
        let excess = self.words.len().saturating_sub(max_words);
        if excess == 0 {
            return 0;
        }
        let total = |c: &Counts| u64::from(c.good) + u64::from(c.spam);
        let mut least: Vec<(&Box<str>, u64)> =
            self.words.iter().map(|(w, c)| (w, total(c))).collect();
        least.select_nth_unstable_by(excess - 1, |a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
        let drop: Vec<Box<str>> = least[..excess].iter().map(|(w, _)| (*w).clone()).collect();
        for word in drop {
            self.words.remove(&word);
        }
        excess
    }

    /// The message total of one side.
    fn messages_mut(&mut self, spam: bool) -> &mut u32 {
        if spam {
            &mut self.spam_messages
        } else {
            &mut self.good_messages
        }
    }

    /// Renders the table in the text format, words sorted; `score` gives each word's cached
    /// value (a probability in [0, 1], written as an integer percent).
    pub fn to_text(&self, score: impl Fn(Counts) -> f64) -> String {
        let mut words: Vec<(&str, Counts)> =
            self.words.iter().map(|(w, c)| (w.as_ref(), *c)).collect();
        words.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = String::with_capacity(words.len() * 24 + 80);
        let _ = writeln!(
            out,
            "{MAGIC} v1 good={} spam={} tokens={} revision={}",
            self.good_messages,
            self.spam_messages,
            self.tokens.name(),
            self.revision
        );
        for (word, c) in words {
            let value = (score(c) * 100.0).round() as u32;
            let _ = writeln!(out, "{word},{value},{},{}", c.good, c.spam);
        }
        out
    }
}

/// Parses the text format, handing each word line to `add` (a repeated word comes again);
/// returns the header as a table without words. An error names the offending line.
pub(crate) fn parse_with(text: &str, mut add: impl FnMut(&str, Counts)) -> Result<Table, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err("table is empty: the header line is missing".into());
    };
    let table = parse_header(header.trim()).map_err(|e| format!("line 1: {e}"))?;
    for (index, line) in lines {
        let (word, counts) = parse_line(line).map_err(|e| format!("line {}: {e}", index + 1))?;
        add(word, counts);
    }
    Ok(table)
}

/// Parses `#antispam-table v1 good=<n> spam=<n> [tokens=<imail|robinson>] [revision=<n>]`.
fn parse_header(line: &str) -> Result<Table, String> {
    let mut fields = line.split_whitespace();
    if fields.next() != Some(MAGIC) || fields.next() != Some("v1") {
        return Err(format!(
            "expected header `{MAGIC} v1 good=<n> spam=<n>`, found `{line}`"
        ));
    }
    let mut table = Table::new(Tokens::Imail);
    table.revision = 0;
    let (mut good, mut spam) = (None, None);
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("header field `{field}` is not key=value"))?;
        match key {
            "good" => good = Some(number(value)?),
            "spam" => spam = Some(number(value)?),
            "tokens" => {
                table.tokens = match value {
                    "imail" => Tokens::Imail,
                    "robinson" => Tokens::Robinson,
                    other => return Err(format!("unknown tokens `{other}`")),
                }
            }
            "revision" => {
                table.revision = value
                    .parse()
                    .map_err(|_| format!("bad revision `{value}`"))?
            }
            other => return Err(format!("unknown header field `{other}`")),
        }
    }
    table.good_messages = good.ok_or("header has no good=<n>")?;
    table.spam_messages = spam.ok_or("header has no spam=<n>")?;
    Ok(table)
}

/// Parses `word,value,good,spam`.
fn parse_line(line: &str) -> Result<(&str, Counts), String> {
    let mut fields = line.rsplitn(4, ',');
    let (Some(spam), Some(good), Some(value), Some(word)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(format!(
            "expected `word,value,good,spam`, found `{}`",
            line.trim()
        ));
    };
    // Only ASCII blanks are trimmed: a token may begin or end with other white space
    // (`url:\u{a0}`), and must read back as written.
    let word = word.trim_matches([' ', '\t']);
    if word.is_empty() {
        return Err("empty word".into());
    }
    value
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("bad value `{}`", value.trim()))?;
    Ok((
        word,
        Counts {
            good: number(good)?,
            spam: number(spam)?,
        },
    ))
}

fn number(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("bad count `{}`", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_words_and_whitespace() {
        let t =
            Table::parse("#antispam-table v1 good=10 spam=20\n viagra , 99, 0 ,7\n\nhello,1,9,0\n")
                .unwrap();
        assert_eq!(
            (t.good_messages, t.spam_messages, t.tokens, t.revision),
            (10, 20, Tokens::Imail, 0),
            "no revision: unknown"
        );
        assert_eq!(t.get("viagra"), Some(Counts { good: 0, spam: 7 }));
        assert_eq!(t.get("hello"), Some(Counts { good: 9, spam: 0 }));
        assert_eq!(t.get("absent"), None);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn word_may_contain_commas_and_unicode_white_space() {
        let t = Table::parse("#antispam-table v1 good=1 spam=1 tokens=robinson\n1,000,50,1,1\n")
            .unwrap();
        assert_eq!(t.tokens, Tokens::Robinson);
        assert_eq!(t.get("1,000"), Some(Counts { good: 1, spam: 1 }));
        let t = Table::parse("#antispam-table v1 good=1 spam=1\nskip:s 20 , 0,2,3\n").unwrap();
        assert_eq!(t.get("skip:s 20"), Some(Counts { good: 2, spam: 3 }));
        let t = Table::parse("#antispam-table v1 good=1 spam=1\nurl:\u{a0},0,2,3\n").unwrap();
        assert_eq!(t.get("url:\u{a0}"), Some(Counts { good: 2, spam: 3 }));
        assert!(
            Table::parse("#antispam-table v1 good=1 spam=1\n ,0,2,3\n")
                .unwrap_err()
                .contains("empty word")
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let err =
            Table::parse("#antispam-table v1 good=1 spam=1\nok,1,1,1\nbroken line\n").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
        let err = Table::parse("#antispam-table v1 good=1 spam=1\nw,1,x,1\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("bad count `x`"),
            "{err}"
        );
        let err = Table::parse("#antispam-table v1 good=1 spam=1\nw,1,1,-1\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(
            Table::parse("word,1,1,1\n")
                .unwrap_err()
                .starts_with("line 1:")
        );
        assert!(
            Table::parse("#antispam-table v1 good=1\n")
                .unwrap_err()
                .contains("spam=<n>")
        );
        assert!(Table::parse("").is_err());
    }

    #[test]
    fn round_trips_through_text() {
        let mut t = Table::new(Tokens::Robinson);
        t.add_message(["a", "b", "a"], true);
        t.add_message(["b"], false);
        let text = t.to_text(|_| 0.5);
        assert!(text.starts_with(
            "#antispam-table v1 good=1 spam=1 tokens=robinson revision=2\na,50,0,2\nb,50,1,1\n"
        ));
        assert_eq!(Table::parse(&text).unwrap(), t);
        let old = text.replace(" revision=2", " revision=0");
        assert_eq!(Table::parse(&old).unwrap().revision, 0, "kept as read");
    }

    #[test]
    fn removing_a_message_undoes_adding_it() {
        let mut t = Table::new(Tokens::Robinson);
        t.add_message(["a", "b"], true);
        let one = t.clone();
        t.add_message(["b", "c"], false);
        t.remove_message(["b", "c"], false);
        assert_eq!(t, one, "counts back, and c (no count left) dropped");
        t.remove_message(["a", "b", "z"], true);
        assert_eq!(t, Table::new(Tokens::Robinson));
        t.remove_message(["a"], true);
        assert_eq!(t.spam_messages, 0, "never below zero");
    }

    #[test]
    fn pruning_drops_the_words_seen_least() {
        let mut t = Table::new(Tokens::Robinson);
        t.add_message(["common", "rare", "zebra", "apple"], true);
        t.add_message(["common", "apple"], false);
        t.add_message(["common"], false);
        assert_eq!(t.prune(10), 0);
        assert_eq!(t.prune(3), 1);
        assert_eq!(
            t.get("zebra"),
            None,
            "of two words seen once, the later one goes"
        );
        assert!(t.get("rare").is_some());
        assert_eq!(t.prune(2), 1);
        let mut kept: Vec<&str> = t.words().map(|(w, _)| w).collect();
        kept.sort_unstable();
        assert_eq!(kept, ["apple", "common"]);
        assert_eq!((t.good_messages, t.spam_messages), (2, 1), "totals stay");
        assert_eq!(t.prune(1), 1);
        assert_eq!(t.words().map(|(w, _)| w).collect::<Vec<_>>(), ["common"]);
    }
}
