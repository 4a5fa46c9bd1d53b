//! The in-memory [`Directory`], for unit tests: the same transaction and version rules as DynamoDB's.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Directory, DirectoryError, Listed, Save, Sealed};
use crate::store::now_epoch_secs;
use crate::workspace::{WorkspaceId, WorkspaceRecord};

#[derive(Default)]
struct Tables {
    records: HashMap<WorkspaceId, WorkspaceRecord>,
    sealed: HashMap<WorkspaceId, Sealed>,
    keys: HashMap<String, (WorkspaceId, Option<i64>)>,
    used: HashMap<WorkspaceId, i64>,
}

#[derive(Default)]
pub struct MemoryDirectory {
    tables: Mutex<Tables>,
    /// When set, every call fails as an unreachable table would.
    down: std::sync::atomic::AtomicBool,
}

impl MemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later call fail (`true`) or work again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    fn tables(&self) -> Result<std::sync::MutexGuard<'_, Tables>, DirectoryError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DirectoryError::Unavailable { reason: "down (test)".into() });
        }
        Ok(self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn record(&self, id: &WorkspaceId) -> Result<Option<WorkspaceRecord>, DirectoryError> {
        Ok(self.tables()?.records.get(id).cloned())
    }

    async fn sealed(&self, id: &WorkspaceId) -> Result<Option<Sealed>, DirectoryError> {
        Ok(self.tables()?.sealed.get(id).cloned())
    }

    async fn workspace_of_key(&self, key_hash: &str) -> Result<Option<WorkspaceId>, DirectoryError> {
        let now = now_epoch_secs();
        Ok(self
            .tables()?
            .keys
            .get(key_hash)
            .filter(|(_, until)| until.is_none_or(|u| now < u))
            .map(|(id, _)| id.clone()))
    }

    async fn save(&self, save: Save) -> Result<(), DirectoryError> {
        let mut t = self.tables()?;
        let id = save.record.id.clone();
        let current = t.records.get(&id).map(|r| r.version);
        if current != save.expected_version {
            return Err(DirectoryError::Conflict);
        }
        if let Some(blob) = save.sealed {
            t.sealed.insert(id.clone(), Sealed { version: save.record.credentials_version, blob });
        }
        for (hash, until) in save.index_keys {
            t.keys.insert(hash, (id.clone(), until));
        }
        for hash in save.drop_keys {
            t.keys.remove(&hash);
        }
        t.records.insert(id, save.record);
        Ok(())
    }

    async fn remove(&self, id: &WorkspaceId) -> Result<Option<WorkspaceRecord>, DirectoryError> {
        let mut t = self.tables()?;
        let removed = t.records.remove(id);
        t.sealed.remove(id);
        t.used.remove(id);
        t.keys.retain(|_, (owner, _)| owner != id);
        Ok(removed)
    }

    async fn list(&self) -> Result<Vec<Listed>, DirectoryError> {
        let t = self.tables()?;
        let mut listed: Vec<Listed> = t
            .records
            .values()
            .map(|record| Listed { record: record.clone(), last_used_at: t.used.get(&record.id).copied() })
            .collect();
        listed.sort_by(|a, b| a.record.id.cmp(&b.record.id));
        Ok(listed)
    }

    async fn touch(&self, id: &WorkspaceId, at: i64) -> Result<(), DirectoryError> {
        self.tables()?.used.insert(id.clone(), at);
        Ok(())
    }
}
