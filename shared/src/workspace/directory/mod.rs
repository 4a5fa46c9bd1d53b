//! Where hub mode keeps its connected workspaces, behind a port: a DynamoDB table deployed ([`dynamodb`]), a map in
//! unit tests ([`memory`]). The adapters decide nothing but how to store.
//!
//! Per workspace: its [`WorkspaceRecord`] (read consistently on every call), its sealed credentials (read when the
//! record's version changed), an index entry per accepted agent-key hash, and when it was last used. A connect or
//! a settings change is ONE transaction, conditional on the version the caller read, so two admins connecting the
//! same workspace at once cannot leave it half one and half the other.

pub mod dynamodb;
pub mod memory;

use async_trait::async_trait;

use super::{WorkspaceId, WorkspaceRecord};

/// Sealed credentials and the record version they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub version: u64,
    pub blob: Vec<u8>,
}

/// One atomic change of a workspace.
#[derive(Debug, Clone)]
pub struct Save {
    pub record: WorkspaceRecord,
    /// New sealed credentials (for `record.credentials_version`); `None` keeps the stored ones (a settings change).
    pub sealed: Option<Vec<u8>>,
    /// The version the caller read; `None` when the workspace must not exist yet.
    pub expected_version: Option<u64>,
    /// Agent-key hashes that now lead to this workspace, each until when (Unix seconds; `None` = no end).
    pub index_keys: Vec<(String, Option<i64>)>,
    /// Agent-key hashes that no longer do.
    pub drop_keys: Vec<String>,
}

/// A workspace as `GET` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub record: WorkspaceRecord,
    /// Unix seconds, at the granularity [`Directory::touch`] is called with; `None` when never used.
    pub last_used_at: Option<i64>,
}

/// The directory could not be used. `Display` is safe to answer and log: no table ARN, no AWS internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the workspace directory is unavailable ({reason}); retry shortly")]
    Unavailable { reason: String },
    #[error(
        "the workspace directory is not set up ({reason}); check WORKSPACES_TABLE and the function's DynamoDB permissions"
    )]
    Misconfigured { reason: String },
    /// The record changed since the caller read it (another connect or settings change won).
    #[error("the workspace was changed by another request at the same time; retry")]
    Conflict,
    #[error("a workspace record could not be read ({reason})")]
    Corrupt { reason: String },
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// The workspace's record, read consistently (a change acknowledged before is seen).
    async fn record(&self, id: &WorkspaceId) -> Result<Option<WorkspaceRecord>, DirectoryError>;
    /// Its sealed credentials.
    async fn sealed(&self, id: &WorkspaceId) -> Result<Option<Sealed>, DirectoryError>;
    /// The workspace an agent-key hash was issued for (the record says whether it is still accepted).
    async fn workspace_of_key(&self, key_hash: &str) -> Result<Option<WorkspaceId>, DirectoryError>;
    /// Applies `save` atomically, or nothing ([`DirectoryError::Conflict`] when the version moved).
    async fn save(&self, save: Save) -> Result<(), DirectoryError>;
    /// Removes the workspace, its credentials and its keys at once; the record removed, if there was one.
    async fn remove(&self, id: &WorkspaceId) -> Result<Option<WorkspaceRecord>, DirectoryError>;
    /// Every connected workspace.
    async fn list(&self) -> Result<Vec<Listed>, DirectoryError>;
    /// Notes that the workspace was used at `at` (Unix seconds).
    async fn touch(&self, id: &WorkspaceId, at: i64) -> Result<(), DirectoryError>;
}

pub(crate) fn record_key(id: &WorkspaceId) -> String {
    format!("ws#{id}")
}

pub(crate) fn sealed_key(id: &WorkspaceId) -> String {
    format!("ws#{id}#sealed")
}

pub(crate) fn agent_key_key(hash: &str) -> String {
    format!("key#{hash}")
}

pub(crate) fn used_key(id: &WorkspaceId) -> String {
    format!("used#{id}")
}
