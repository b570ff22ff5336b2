//! The answer cache: positive and negative answers kept until their TTL runs out, bounded in
//! entry count (the oldest entry makes room for a new one).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use super::client::ServerSpec;
use super::{DnsError, RecordData, RecordType};

/// TTLs are capped at one week (a common resolver limit).
const MAX_TTL: u32 = 7 * 86_400;

/// What answers are cached under: the lower-case name, the type and the server asked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    name: String,
    record_type: RecordType,
    server: Option<ServerSpec>,
}

impl CacheKey {
    /// A key for a normalized (lower-case, no trailing dot) name.
    pub(crate) fn new(name: String, record_type: RecordType, server: Option<ServerSpec>) -> Self {
        Self {
            name,
            record_type,
            server,
        }
    }
}

type Answer = Result<Vec<RecordData>, DnsError>;

struct Entry {
    answer: Answer,
    expires: Instant,
    /// Insertion order, the key into `Cache::order`.
    seq: u64,
}

/// A bounded TTL cache.
pub(crate) struct Cache {
    capacity: usize,
    entries: HashMap<CacheKey, Entry>,
    order: BTreeMap<u64, CacheKey>,
    next_seq: u64,
}

impl Cache {
    /// An empty cache holding at most `capacity` answers.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// The unexpired answer for `key`, if any; an expired one is dropped.
    pub(crate) fn get(&mut self, key: &CacheKey, now: Instant) -> Option<Answer> {
        let entry = self.entries.get(key)?;
        if entry.expires > now {
            return Some(entry.answer.clone());
        }
        self.remove(key);
        None
    }

    /// Stores an answer until `expires`, first dropping expired entries if the cache is full,
    /// then the oldest ones.
    pub(crate) fn insert(&mut self, key: CacheKey, answer: Answer, expires: Instant, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        self.remove(&key);
        if self.entries.len() >= self.capacity {
            self.entries.retain(|_, entry| entry.expires > now);
            self.order.retain(|_, key| self.entries.contains_key(key));
        }
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, key.clone());
        self.entries.insert(
            key,
            Entry {
                answer,
                expires,
                seq,
            },
        );
    }

    fn remove(&mut self, key: &CacheKey) {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.seq);
        }
    }
}

/// How long an answer with this TTL may be cached: `None` for 0 and for values above
/// 2^31 - 1 (RFC 2181 section 8 says to treat those as 0); otherwise at most a week.
pub(crate) fn cache_ttl(seconds: u32) -> Option<Duration> {
    if seconds == 0 || seconds > i32::MAX as u32 {
        return None;
    }
    Some(Duration::from_secs(u64::from(seconds.min(MAX_TTL))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> CacheKey {
        CacheKey::new(name.to_string(), RecordType::A, None)
    }

    #[test]
    fn expired_entries_are_not_returned() {
        let now = Instant::now();
        let mut cache = Cache::new(10);
        cache.insert(
            key("a"),
            Err(DnsError::NxDomain),
            now + Duration::from_secs(5),
            now,
        );
        assert_eq!(cache.get(&key("a"), now), Some(Err(DnsError::NxDomain)));
        assert_eq!(cache.get(&key("a"), now + Duration::from_secs(5)), None);
        assert_eq!(cache.get(&key("a"), now), None, "expired entry was dropped");
    }

    #[test]
    fn full_cache_drops_expired_then_oldest() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut cache = Cache::new(2);
        cache.insert(key("short"), Ok(vec![]), now + Duration::from_secs(1), now);
        cache.insert(key("old"), Ok(vec![]), later, now);
        let soon = now + Duration::from_secs(2);
        cache.insert(key("new"), Ok(vec![]), later, soon);
        assert!(
            cache.get(&key("old"), soon).is_some(),
            "expired entry went first"
        );
        cache.insert(key("newest"), Ok(vec![]), later, soon);
        assert!(cache.get(&key("old"), soon).is_none(), "then the oldest");
        assert!(cache.get(&key("new"), soon).is_some());
        assert!(cache.get(&key("newest"), soon).is_some());
    }

    #[test]
    fn replacing_a_key_keeps_one_entry() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut cache = Cache::new(2);
        cache.insert(key("a"), Ok(vec![]), later, now);
        cache.insert(key("a"), Err(DnsError::NoData), later, now);
        cache.insert(key("b"), Ok(vec![]), later, now);
        assert_eq!(cache.get(&key("a"), now), Some(Err(DnsError::NoData)));
        assert!(cache.get(&key("b"), now).is_some());
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let now = Instant::now();
        let mut cache = Cache::new(0);
        cache.insert(key("a"), Ok(vec![]), now + Duration::from_secs(60), now);
        assert_eq!(cache.get(&key("a"), now), None);
    }

    #[test]
    fn ttl_limits() {
        assert_eq!(cache_ttl(0), None);
        assert_eq!(cache_ttl(u32::MAX), None);
        assert_eq!(cache_ttl(300), Some(Duration::from_secs(300)));
        assert_eq!(
            cache_ttl(30 * 86_400),
            Some(Duration::from_secs(u64::from(MAX_TTL)))
        );
    }
}
