//! The word table as the check holds it: counts keyed by a 64-bit hash of the word, so a
//! message's tokens are looked up without building a string per token and the table keeps no
//! word text.
//!
//! Two different words with the same 64-bit hash would share counts. With a well-mixed hash
//! ([`foldhash`], fixed seed) and n words the chance of any such collision is about
//! n² / 2⁶⁵: about 4 · 10⁻⁹ for a 373k-word table, negligible next to training noise.
//!
//! The table is an open-addressing array of (hash, counts) slots with linear probing: a
//! lookup in a table far larger than the CPU cache costs one memory access, not the two of a
//! general hash map (control bytes and entries apart).

use std::collections::HashSet;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use crate::table::{self, Counts, Table, Tokens};

/// The hash of a word (the same for the table's words and a message's tokens); never 0.
pub fn hash(word: &str) -> u64 {
    FixedState::with_seed(SEED).hash_one(word).max(1)
}

/// The fixed seed of [`hash`] (any value; fixed so a word always has the same hash).
const SEED: u64 = 0x7370_616d_6261_7965;

/// A set of [`hash`] values.
pub type HashSetOf = HashSet<u64, FixedState>;

/// The slot of `key` in an open-addressing array (a power of two of slots, never full, key 0
/// marking an empty slot; `key_of` reads a slot's key): the slot holding `key`, or the empty
/// slot where it would go. Hashes are well mixed, so the low bits pick the first slot.
fn probe<T>(slots: &[T], key: u64, key_of: impl Fn(&T) -> u64) -> usize {
    let mask = slots.len() - 1;
    let mut i = key as usize & mask;
    loop {
        let k = key_of(&slots[i]);
        if k == key || k == 0 {
            return i;
        }
        i = (i + 1) & mask;
    }
}

/// The distinct [`hash`] values of one message's tokens: a small open-addressing set that
/// grows when three quarters full (cheaper per token than a general hash set).
#[derive(Debug)]
pub struct SeenSet {
    slots: Vec<u64>,
    len: usize,
}

impl SeenSet {
    /// An empty set with room for about `n` values before it grows.
    pub fn with_capacity(n: usize) -> SeenSet {
        SeenSet {
            slots: vec![0; (n * 4 / 3 + 1).next_power_of_two()],
            len: 0,
        }
    }

    /// Adds `h` (a [`hash`], never 0); true when it was not in the set yet.
    pub fn insert(&mut self, h: u64) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let bigger = vec![0; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, bigger);
            for k in old.into_iter().filter(|&k| k != 0) {
                let i = probe(&self.slots, k, |&s| s);
                self.slots[i] = k;
            }
        }
        let i = probe(&self.slots, h, |&s| s);
        let new = self.slots[i] == 0;
        if new {
            self.slots[i] = h;
            self.len += 1;
        }
        new
    }
}

/// A word table keyed by word hashes.
#[derive(Debug, Clone)]
pub struct HashedTable {
    /// Number of good messages trained.
    pub good_messages: u32,
    /// Number of spam messages trained.
    pub spam_messages: u32,
    /// The tokenizer the words come from.
    pub tokens: Tokens,
    /// A power of two of slots, more than `len` (so probing always meets an empty slot);
    /// hash 0 marks an empty slot.
    slots: Vec<(u64, Counts)>,
    len: usize,
}

impl HashedTable {
    /// Parses the text format (see [`Table`]) straight into hashes.
    pub fn parse(text: &str) -> Result<HashedTable, String> {
        let mut entries = Vec::with_capacity(text.len() / 20);
        let header = table::parse_with(text, |word, counts| entries.push((hash(word), counts)))?;
        Ok(HashedTable::build(&header, entries))
    }

    /// The table of `entries` (a repeated hash adds its counts) with `header`'s totals.
    fn build(header: &Table, mut entries: Vec<(u64, Counts)>) -> HashedTable {
        entries.sort_unstable_by_key(|e| e.0);
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1.add(later.1);
            }
            same
        });
        let size = (entries.len() * 4 / 3 + 1).next_power_of_two();
        let mut slots = vec![(0, Counts::default()); size];
        for &(key, counts) in &entries {
            let i = probe(&slots, key, |s| s.0);
            slots[i] = (key, counts);
        }
        HashedTable {
            good_messages: header.good_messages,
            spam_messages: header.spam_messages,
            tokens: header.tokens,
            slots,
            len: entries.len(),
        }
    }

    /// The counts of the word whose [`hash`] is `word_hash`, if the table has it.
    pub fn get(&self, word_hash: u64) -> Option<Counts> {
        let (key, counts) = self.slots[probe(&self.slots, word_hash, |s| s.0)];
        (key == word_hash).then_some(counts)
    }

    /// Number of distinct words.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the table has no words.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl From<&Table> for HashedTable {
    fn from(table: &Table) -> HashedTable {
        let entries = table.words().map(|(w, c)| (hash(w), c)).collect();
        HashedTable::build(table, entries)
    }
}

impl From<Table> for HashedTable {
    fn from(table: Table) -> HashedTable {
        HashedTable::from(&table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_lookups_match_the_text_table() {
        let text = "#antispam-table v1 good=3 spam=4 tokens=robinson\n\
                    a b,0,1,2\nskip:s 20,0,0,5\na b,0,1,1\n";
        let hashed = HashedTable::parse(text).unwrap();
        let plain = Table::parse(text).unwrap();
        assert_eq!(
            (hashed.good_messages, hashed.spam_messages, hashed.tokens),
            (3, 4, Tokens::Robinson)
        );
        for word in ["a b", "skip:s 20", "absent"] {
            assert_eq!(hashed.get(hash(word)), plain.get(word), "{word}");
        }
        assert_eq!(hashed.get(hash("a b")), Some(Counts { good: 2, spam: 3 }));
        let from = HashedTable::from(&plain);
        assert_eq!((from.len(), hashed.len()), (2, 2));
        assert_eq!(
            from.get(hash("skip:s 20")),
            Some(Counts { good: 0, spam: 5 })
        );
        assert!(HashedTable::parse("#antispam-table v1 good=1 spam=1\nbad\n").is_err());
        let empty = HashedTable::parse("#antispam-table v1 good=1 spam=1\n").unwrap();
        assert!(empty.is_empty() && empty.get(hash("x")).is_none());
        let many: String = (0..5000).map(|i| format!("w{i},0,{i},1\n")).collect();
        let many =
            HashedTable::parse(&format!("#antispam-table v1 good=1 spam=1\n{many}")).unwrap();
        assert_eq!(many.len(), 5000);
        assert!(
            (0..5000)
                .all(|i| many.get(hash(&format!("w{i}"))) == Some(Counts { good: i, spam: 1 }))
        );
        assert_eq!(many.get(hash("w5000")), None);
    }

    #[test]
    fn seen_set_grows_and_answers_once_per_value() {
        let mut seen = SeenSet::with_capacity(2);
        let hashes: Vec<u64> = (0..3000).map(|i| hash(&format!("t{i}"))).collect();
        assert!(hashes.iter().all(|&h| seen.insert(h)), "each is new once");
        assert!(hashes.iter().all(|&h| !seen.insert(h)), "then already seen");
        assert_eq!(seen.len, 3000);
        assert!(seen.slots.len() >= 4000 && seen.slots.len().is_power_of_two());
    }
}
