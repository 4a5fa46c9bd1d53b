//! One workspace's view of the shared [`Store`]: every key it reads or writes carries the workspace's prefix, so
//! the same `Idempotency-Key`, `sessionId` or notification id used in two workspaces names two records, and no
//! workspace can read, replay or release another's.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Claim, Expect, Store, StoreError, Versioned};

pub struct Namespaced {
    inner: Arc<dyn Store>,
    prefix: String,
}

impl Namespaced {
    /// `prefix` must not be a prefix of another namespace's (see `WorkspaceId::store_prefix`).
    pub fn new(inner: Arc<dyn Store>, prefix: impl Into<String>) -> Self {
        Namespaced { inner, prefix: prefix.into() }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl Store for Namespaced {
    async fn claim(&self, key: &str, fingerprint: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.inner.claim(&self.key(key), fingerprint, lease).await
    }
    async fn complete(&self, key: &str, fingerprint: &str, response: &str, keep: Duration) -> Result<(), StoreError> {
        self.inner.complete(&self.key(key), fingerprint, response, keep).await
    }
    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.inner.release(&self.key(key)).await
    }
    async fn get_value(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.inner.get_value(&self.key(key)).await
    }
    async fn put_value(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        keep: Duration,
    ) -> Result<Option<u64>, StoreError> {
        self.inner.put_value(&self.key(key), value, expect, keep).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(&self.key(key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn two_namespaces_never_see_each_others_records() {
        let shared: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let a = Namespaced::new(shared.clone(), "ws:a|");
        let b = Namespaced::new(shared.clone(), "ws:b|");
        let lease = Duration::from_secs(30);
        assert_eq!(a.claim("idem#reply#k1", "fa", lease).await.unwrap(), Claim::Acquired);
        assert_eq!(b.claim("idem#reply#k1", "fb", lease).await.unwrap(), Claim::Acquired, "same key, other workspace");
        a.complete("idem#reply#k1", "fa", "{\"a\":1}", lease).await.unwrap();
        assert!(matches!(b.claim("idem#reply#k1", "fb", lease).await.unwrap(), Claim::InProgress { .. }));
        a.put_value("marker", "1", Expect::Absent, lease).await.unwrap();
        assert_eq!(b.get_value("marker").await.unwrap(), None);
        assert!(shared.get_value("ws:a|marker").await.unwrap().is_some());
        b.delete("marker").await.unwrap();
        assert!(a.get_value("marker").await.unwrap().is_some(), "b's delete cannot reach a's record");
    }
}
