//! [`Store`] in memory, with the same semantics as the DynamoDB adapter (expiry compared on every read and
//! condition, leases, versions). For unit tests and handler tests; one process only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;

use super::{Claim, Expect, Store, StoreError, Versioned, now_epoch_secs};

#[derive(Debug, Clone)]
enum Record {
    InProgress { fingerprint: String, lease_until: i64, expires_at: i64 },
    Completed { fingerprint: String, response: String, expires_at: i64 },
    Value { value: String, version: u64, expires_at: i64 },
}

impl Record {
    fn expires_at(&self) -> i64 {
        match self {
            Record::InProgress { expires_at, .. }
            | Record::Completed { expires_at, .. }
            | Record::Value { expires_at, .. } => *expires_at,
        }
    }
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Record>>,
    /// Seconds added to the wall clock, so tests can let leases and records expire.
    skew: AtomicI64,
    down: AtomicBool,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this store's clock forward.
    pub fn advance(&self, by: Duration) {
        self.skew.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }

    /// Makes every call fail as an unreachable store would (or work again).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// How many live records there are (expired ones not counted).
    pub fn live_records(&self) -> usize {
        let now = self.now();
        self.lock().values().filter(|r| r.expires_at() > now).count()
    }

    fn now(&self) -> i64 {
        now_epoch_secs() + self.skew.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_up(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable { reason: "the store did not answer".into() });
        }
        Ok(())
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2).max(1)
}

#[async_trait]
impl Store for MemoryStore {
    async fn claim(&self, key: &str, fingerprint: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.check_up()?;
        let now = self.now();
        let mut records = self.lock();
        match records.get(key) {
            Some(Record::Completed { fingerprint, response, expires_at }) if *expires_at > now => {
                return Ok(Claim::Completed { fingerprint: fingerprint.clone(), response: response.clone() });
            }
            Some(Record::InProgress { fingerprint, lease_until, expires_at })
                if *expires_at > now && *lease_until > now =>
            {
                let retry_after = Duration::from_secs((*lease_until - now).clamp(1, 5) as u64);
                return Ok(Claim::InProgress { fingerprint: fingerprint.clone(), retry_after });
            }
            _ => {}
        }
        let lease_until = now.saturating_add(secs(lease));
        records.insert(
            key.to_owned(),
            Record::InProgress { fingerprint: fingerprint.to_owned(), lease_until, expires_at: lease_until },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(&self, key: &str, fingerprint: &str, response: &str, keep: Duration) -> Result<(), StoreError> {
        self.check_up()?;
        let expires_at = self.now().saturating_add(secs(keep));
        self.lock().insert(
            key.to_owned(),
            Record::Completed { fingerprint: fingerprint.to_owned(), response: response.to_owned(), expires_at },
        );
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.check_up()?;
        let mut records = self.lock();
        if matches!(records.get(key), Some(Record::InProgress { .. })) {
            records.remove(key);
        }
        Ok(())
    }

    async fn get_value(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.check_up()?;
        let now = self.now();
        Ok(match self.lock().get(key) {
            Some(Record::Value { value, version, expires_at }) if *expires_at > now => {
                Some(Versioned { value: value.clone(), version: *version })
            }
            _ => None,
        })
    }

    async fn put_value(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        keep: Duration,
    ) -> Result<Option<u64>, StoreError> {
        self.check_up()?;
        let now = self.now();
        let mut records = self.lock();
        let live_version = match records.get(key) {
            Some(Record::Value { version, expires_at, .. }) if *expires_at > now => Some(*version),
            Some(other) if other.expires_at() > now => Some(0),
            _ => None,
        };
        let holds = match expect {
            Expect::Absent => live_version.is_none(),
            Expect::Version(v) => live_version == Some(v),
            Expect::Any => true,
        };
        if !holds {
            return Ok(None);
        }
        let version = live_version.unwrap_or(0) + 1;
        records.insert(
            key.to_owned(),
            Record::Value { value: value.to_owned(), version, expires_at: now.saturating_add(secs(keep)) },
        );
        Ok(Some(version))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check_up()?;
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn one_claim_wins_and_the_answer_is_replayed() {
        let store = MemoryStore::new();
        assert_eq!(store.claim("k", "f1", LEASE).await.unwrap(), Claim::Acquired);
        assert!(matches!(store.claim("k", "f1", LEASE).await.unwrap(), Claim::InProgress { .. }));
        store.complete("k", "f1", "{\"ok\":1}", Duration::from_secs(3600)).await.unwrap();
        assert_eq!(
            store.claim("k", "f2", LEASE).await.unwrap(),
            Claim::Completed { fingerprint: "f1".into(), response: "{\"ok\":1}".into() }
        );
    }

    #[tokio::test]
    async fn a_lapsed_lease_or_an_expired_record_can_be_claimed_again() {
        let store = MemoryStore::new();
        store.claim("k", "f", LEASE).await.unwrap();
        store.advance(Duration::from_secs(31));
        assert_eq!(store.claim("k", "f", LEASE).await.unwrap(), Claim::Acquired);
        store.complete("k", "f", "r", Duration::from_secs(60)).await.unwrap();
        store.advance(Duration::from_secs(61));
        assert_eq!(store.claim("k", "f", LEASE).await.unwrap(), Claim::Acquired);
    }

    #[tokio::test]
    async fn release_gives_the_key_back_but_never_drops_an_answer() {
        let store = MemoryStore::new();
        store.claim("k", "f", LEASE).await.unwrap();
        store.release("k").await.unwrap();
        assert_eq!(store.claim("k", "f", LEASE).await.unwrap(), Claim::Acquired);
        store.complete("k", "f", "r", Duration::from_secs(60)).await.unwrap();
        store.release("k").await.unwrap();
        assert!(matches!(store.claim("k", "f", LEASE).await.unwrap(), Claim::Completed { .. }));
    }

    #[tokio::test]
    async fn values_are_compare_and_set() {
        let store = MemoryStore::new();
        let keep = Duration::from_secs(60);
        assert_eq!(store.put_value("v", "a", Expect::Absent, keep).await.unwrap(), Some(1));
        assert_eq!(store.put_value("v", "b", Expect::Absent, keep).await.unwrap(), None);
        assert_eq!(store.put_value("v", "b", Expect::Version(2), keep).await.unwrap(), None);
        assert_eq!(store.put_value("v", "b", Expect::Version(1), keep).await.unwrap(), Some(2));
        assert_eq!(store.get_value("v").await.unwrap(), Some(Versioned { value: "b".into(), version: 2 }));
        store.advance(Duration::from_secs(61));
        assert_eq!(store.get_value("v").await.unwrap(), None);
        assert_eq!(store.put_value("v", "c", Expect::Absent, keep).await.unwrap(), Some(1));
    }

    #[tokio::test]
    async fn a_store_that_is_down_says_so() {
        let store = MemoryStore::new();
        store.set_down(true);
        assert!(matches!(store.claim("k", "f", LEASE).await, Err(StoreError::Unavailable { .. })));
    }
}
