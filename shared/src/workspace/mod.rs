//! One deployment, one or many Intercom workspaces.
//!
//! `TENANCY=single` (the default) serves the workspace whose token is in the deployment's secret; `TENANCY=hub`
//! serves every workspace connected through the `connect-workspace` function. Both go through one path: a request
//! is resolved once, at the edge ([`resolve::Workspaces`]), from the caller's agent key, the
//! `Intercom-Workspace-Id` header (an `AWS_IAM` caller) or the webhook's path, into a [`Workspace`] that carries
//! its Intercom client (token, region, AI admin), its settings and its store namespace. Everything below takes
//! that value and never reads the environment. Single mode is the same path with one workspace.
//!
//! Hub mode keeps each workspace in a [`directory::Directory`] (a DynamoDB table): a small record (version, name,
//! region, AI admin, the agent key's hash, settings) read consistently on every call, and the credentials sealed
//! with KMS ([`seal`]), read and opened again only when the record's version changed — so a rotation or a
//! disconnect is seen on the next call, and a warm call costs one small read.

pub mod build;
pub mod checks;
pub mod connect;
pub mod directory;
pub mod keys;
mod lru;
pub mod record;
pub mod resolve;
pub mod seal;
pub mod settings;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use record::{Credentials, WorkspaceRecord};
pub use resolve::{Workspace, Workspaces};

/// The variable that chooses single or hub mode.
pub const TENANCY_VAR: &str = "TENANCY";
/// The header an `AWS_IAM` caller (the hub's own backend) names the workspace with.
pub const WORKSPACE_HEADER: &str = "intercom-workspace-id";
/// How long a rotated-out agent key or client secret is still accepted (`ROTATION_GRACE_HOURS`).
pub const ROTATION_GRACE_VAR: &str = "ROTATION_GRACE_HOURS";
pub const DEFAULT_ROTATION_GRACE_HOURS: u64 = 24;

/// One deployment serves the secret's workspace, or every connected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tenancy {
    #[default]
    Single,
    Hub,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenancyError {
    #[error("TENANCY={value:?} is not supported; use single (default) or hub")]
    Unknown { value: String },
    #[error("ROTATION_GRACE_HOURS={value:?} must be a whole number of hours from 0 to 720 (default 24)")]
    Grace { value: String },
}

impl Tenancy {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, TenancyError> {
        match lookup(TENANCY_VAR).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("single") => Ok(Tenancy::Single),
            Some("hub") => Ok(Tenancy::Hub),
            Some(other) => Err(TenancyError::Unknown { value: other.to_owned() }),
        }
    }
}

/// `ROTATION_GRACE_HOURS` in seconds: whole hours from 0 (no grace) to 720 (30 days); unset or blank = 24.
pub fn rotation_grace_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<u64, TenancyError> {
    match lookup(ROTATION_GRACE_VAR).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_ROTATION_GRACE_HOURS * 3600),
        Some(raw) => match raw.parse::<u64>() {
            Ok(hours) if hours <= 720 => Ok(hours * 3600),
            _ => Err(TenancyError::Grace { value: raw }),
        },
    }
}

/// An Intercom workspace's id: the `app.id_code` that `GET /me` reports (letters and digits).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkspaceId(String);

/// Longest workspace id accepted (Intercom's are 8 characters).
pub const MAX_WORKSPACE_ID_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a workspace id is 1 to 64 letters and digits (Intercom's app id_code, e.g. abc123de)")]
pub struct InvalidWorkspaceId;

impl WorkspaceId {
    pub fn parse(raw: &str) -> Result<Self, InvalidWorkspaceId> {
        let id = raw.trim();
        let valid =
            !id.is_empty() && id.len() <= MAX_WORKSPACE_ID_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if valid { Ok(WorkspaceId(id.to_owned())) } else { Err(InvalidWorkspaceId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix of every record this workspace keeps in the shared store (idempotency keys, sessions, webhook
    /// ids, loop-guard markers, ownership). The id is letters and digits only, so no key of another workspace —
    /// nor any key an agent can choose — can start with it.
    pub fn store_prefix(&self) -> String {
        format!("ws:{}|", self.0)
    }
}

impl TryFrom<String> for WorkspaceId {
    type Error = InvalidWorkspaceId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        WorkspaceId::parse(&value)
    }
}

impl From<WorkspaceId> for String {
    fn from(id: WorkspaceId) -> Self {
        id.0
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkspaceId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_ids_are_letters_and_digits() {
        assert_eq!(WorkspaceId::parse(" abc123de ").unwrap().as_str(), "abc123de");
        for bad in ["", "a|b", "a#b", "ws:x", &"x".repeat(65), "é"] {
            assert!(WorkspaceId::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(WorkspaceId::parse("abc").unwrap().store_prefix(), "ws:abc|");
    }

    #[test]
    fn tenancy_defaults_to_single() {
        assert_eq!(Tenancy::from_lookup(|_| None).unwrap(), Tenancy::Single);
        assert_eq!(Tenancy::from_lookup(|_| Some(" HUB ".into())).unwrap(), Tenancy::Hub);
        let err = Tenancy::from_lookup(|_| Some("multi".into())).unwrap_err();
        assert!(err.to_string().contains("use single (default) or hub"));
    }

    #[test]
    fn rotation_grace_is_whole_hours() {
        assert_eq!(rotation_grace_from_lookup(|_| None).unwrap(), 24 * 3600);
        assert_eq!(rotation_grace_from_lookup(|_| Some("0".into())).unwrap(), 0);
        assert!(rotation_grace_from_lookup(|_| Some("-1".into())).is_err());
        assert!(rotation_grace_from_lookup(|_| Some("721".into())).is_err());
    }
}
