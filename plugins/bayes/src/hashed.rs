//! The word table as the check holds it: counts keyed by a 64-bit hash of the word, so a
//! message's tokens are looked up without building a string per token and the table keeps no
//! word text.
//!
//! The table is an open-addressing array of 8-byte slots with linear probing, at most half
//! full, so a lookup in a table far larger than the CPU cache costs one memory access, not the
//! two of a general hash map (control bytes and entries apart), and a 375k-word table takes
//! 8 MB. A slot holds a word's key, its 64-bit hash less the low bits, and in those bits the
//! index of its value among the distinct values the words have: a trained table's counts take
//! only a few thousand distinct values (12 bits for the example table). The values are the
//! counts as parsed; a classifier replaces them by what it needs of each word (see
//! [`HashedTable::map`]).
//!
//! Two different words with the same key would share counts. With a well-mixed hash
//! ([`foldhash`], fixed seed), n words and b index bits the chance of any such collision is
//! about n² / 2^(65 − b): about 2 · 10⁻⁵ for the example table (375k words, 12 bits),
//! negligible next to training noise.

use std::collections::{HashMap, HashSet};
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

/// A word table keyed by word hashes, with a value of type `V` per word (as parsed, its
/// counts).
#[derive(Debug, Clone)]
pub struct HashedTable<V = Counts> {
    /// Number of good messages trained.
    pub good_messages: u32,
    /// Number of spam messages trained.
    pub spam_messages: u32,
    /// The tokenizer the words come from.
    pub tokens: Tokens,
    /// A power of two of slots, at least twice `len` (so probing always meets an empty slot,
    /// and soon: three quarters full, a word not in the table would be looked for in about
    /// seven slots); 0 marks an empty slot, any other slot holds a word's [`key`] above the
    /// index of its value in `values`, in the low `bits` bits.
    slots: Vec<u64>,
    /// The distinct values the words have (their counts take few distinct values, so an
    /// index of a few bits replaces them in the slots).
    values: Vec<V>,
    bits: u32,
    len: usize,
}

/// The key of a word in a table whose slots give the low `bits` bits to a value's index: its
/// [`hash`] without those bits (never 0).
fn key(word_hash: u64, bits: u32) -> u64 {
    (word_hash >> bits).max(1)
}

impl HashedTable<Counts> {
    /// Parses the text format (see [`Table`]) straight into hashes.
    pub fn parse(text: &str) -> Result<HashedTable, String> {
        let mut entries = Vec::with_capacity(text.len() / 20);
        let header = table::parse_with(text, |word, counts| entries.push((hash(word), counts)))?;
        Ok(HashedTable::build(&header, entries))
    }

    /// The table of `entries` (words with the same [`key`] add their counts) with `header`'s
    /// totals.
    fn build(header: &Table, mut entries: Vec<(u64, Counts)>) -> HashedTable {
        entries.sort_unstable_by_key(|e| e.0);
        // With no bits for the index a key is the whole hash; then the index gets as many bits
        // as the distinct counts need (again if merging words made more of them).
        let mut bits = 0;
        let (values, index) = loop {
            // Keys keep the order of the hashes, so words with the same key are neighbours.
            entries.dedup_by(|later, kept| {
                let same = key(later.0, bits) == key(kept.0, bits);
                if same {
                    kept.1.add(later.1);
                }
                same
            });
            // The distinct counts in order of appearance, and each one's index.
            let mut values = Vec::new();
            let mut index = HashMap::with_hasher(FixedState::default());
            for &(_, c) in &entries {
                index.entry((c.good, c.spam)).or_insert_with(|| {
                    values.push(c);
                    values.len() as u64 - 1
                });
            }
            if values.len() <= 1 << bits {
                break (values, index);
            }
            bits = values.len().next_power_of_two().ilog2();
        };
        let size = (entries.len() * 2 + 1).next_power_of_two();
        let mut slots = vec![0; size];
        for &(word_hash, c) in &entries {
            let k = key(word_hash, bits);
            let i = probe(&slots, k, |&s| s >> bits);
            slots[i] = k << bits | index[&(c.good, c.spam)];
        }
        HashedTable {
            good_messages: header.good_messages,
            spam_messages: header.spam_messages,
            tokens: header.tokens,
            slots,
            values,
            bits,
            len: entries.len(),
        }
    }
}

impl<V: Copy> HashedTable<V> {
    /// The value of a slot holding a word.
    fn value(&self, slot: u64) -> V {
        self.values[(slot & ((1 << self.bits) - 1)) as usize]
    }

    /// The value of the word whose [`hash`] is `word_hash`, if the table has it.
    pub fn get(&self, word_hash: u64) -> Option<V> {
        let bits = self.bits;
        let slot = self.slots[probe(&self.slots, key(word_hash, bits), |&s| s >> bits)];
        (slot != 0).then(|| self.value(slot))
    }

    /// The values of many words at once, in the order of `hashes` (`None`: not in the table).
    /// The first slot of every word is read in one pass without a branch on what it holds, so
    /// in a table far larger than the CPU cache the misses overlap instead of waiting on one
    /// another; the rest of each probe then finds its line in the cache.
    pub fn get_many(&self, hashes: &[u64]) -> Vec<Option<V>> {
        let (mask, bits) = (self.slots.len() - 1, self.bits);
        let first: Vec<u64> = (hashes.iter())
            .map(|&h| self.slots[key(h, bits) as usize & mask])
            .collect();
        (hashes.iter().zip(first))
            .map(|(&h, slot)| match slot {
                0 => None,
                _ if slot >> bits == key(h, bits) => Some(self.value(slot)),
                _ => self.get(h),
            })
            .collect()
    }

    /// The same words, each word's value replaced by `f(value)`.
    pub fn map<W>(self, f: impl Fn(V) -> W) -> HashedTable<W> {
        HashedTable {
            good_messages: self.good_messages,
            spam_messages: self.spam_messages,
            tokens: self.tokens,
            slots: self.slots,
            values: self.values.into_iter().map(f).collect(),
            bits: self.bits,
            len: self.len,
        }
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
        assert_eq!((many.values.len(), many.bits), (5000, 13));
        let alike = "#antispam-table v1 good=1 spam=1\nx,0,1,1\ny,0,1,1\n";
        let alike = HashedTable::parse(alike).unwrap().map(|c| c.good + c.spam);
        assert_eq!(
            (alike.bits, alike.get(hash("y")), alike.get(hash("z"))),
            (0, Some(2), None)
        );
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
