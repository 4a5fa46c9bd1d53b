//! The integration's own durable state, behind a port: idempotency records for agent writes and escalations,
//! webhook notification ids seen, what our functions wrote as the customer, and who last owned a conversation.
//!
//! Intercom has no idempotency keys, so "nothing twice" across containers needs a store with conditional writes.
//! Deployed, that is one DynamoDB table ([`dynamodb`]); unit tests use [`memory::MemoryStore`]. Domain code only
//! sees [`Store`]; the adapters decide nothing but how to store.
//!
//! Two kinds of item share the table, told apart by their key's prefix (chosen by the callers):
//! - **idempotency records** — [`Store::claim`] is one conditional write that succeeds only when the key is absent,
//!   its record expired, or its in-progress lease lapsed (a container that crashed mid-write cannot block a key
//!   forever); [`Store::complete`] stores the answer to replay; [`Store::release`] gives the key back after a
//!   write that definitely failed.
//! - **values** — small strings with a version for compare-and-set ([`Store::put_value`]): markers written once,
//!   and state that must change exactly once per transition.
//!
//! Every record carries an expiry. DynamoDB deletes expired items lazily (up to days later) and moto never does,
//! so every read and every condition compares the expiry itself: an expired record is absent.

pub mod dynamodb;
pub mod memory;
pub mod recently_opened;
pub mod written_as_customer;

pub use dynamodb::from_env;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

/// How long an idempotency key, a webhook id or a marker is remembered (Stripe keeps keys 24 h; so do we, at least).
pub const KEEP_RECORDS: Duration = Duration::from_secs(24 * 3600);

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours until the lease ends: do the work, then [`Store::complete`] or [`Store::release`].
    Acquired,
    /// Another request holds the key and may still be working.
    InProgress { fingerprint: String, retry_after: Duration },
    /// Done before: the answer to replay and the fingerprint of the request that produced it.
    Completed { fingerprint: String, response: String },
}

/// A stored value and the version to compare against when changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub value: String,
    pub version: u64,
}

/// The condition of a [`Store::put_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Only when no live record has this key (a marker written once).
    Absent,
    /// Only when the live record still has this version (compare-and-set).
    Version(u64),
    /// Unconditionally.
    Any,
}

/// The store could not be used. `Display` is safe for answers and logs: no table ARN, no AWS internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the idempotency store is unavailable ({reason}); nothing was sent to Intercom, retry shortly")]
    Unavailable { reason: String },
    #[error(
        "the idempotency store is not set up ({reason}); check IDEMPOTENCY_TABLE and the function's DynamoDB permissions"
    )]
    Misconfigured { reason: String },
    #[error("a stored record could not be read ({reason})")]
    Corrupt { reason: String },
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Claims `key` for a request with `fingerprint`, holding it for `lease` (then another request may take over).
    /// One conditional write; never read-then-write.
    async fn claim(&self, key: &str, fingerprint: &str, lease: Duration) -> Result<Claim, StoreError>;

    /// Stores the answer of the request that holds `key`, kept for `keep`.
    async fn complete(&self, key: &str, fingerprint: &str, response: &str, keep: Duration) -> Result<(), StoreError>;

    /// Gives `key` back (the write definitely failed), so a retry may run.
    async fn release(&self, key: &str) -> Result<(), StoreError>;

    /// The live value under `key`, if any.
    async fn get_value(&self, key: &str) -> Result<Option<Versioned>, StoreError>;

    /// Writes `value` under `key` when `expect` holds; `Ok(None)` when it did not. The new version on success.
    async fn put_value(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        keep: Duration,
    ) -> Result<Option<u64>, StoreError>;

    /// Removes `key` (idempotent).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Seconds since the Unix epoch, the unit of every expiry (DynamoDB's TTL attribute is in seconds).
pub fn now_epoch_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A stable fingerprint of a validated request: SHA-256 of its canonical JSON (object keys sorted).
pub fn fingerprint(value: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let mut canonical = String::new();
    write_canonical(value, &mut canonical);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_key_order_but_not_values() {
        let a = serde_json::json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = serde_json::json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        let c = serde_json::json!({"a": {"x": "s", "y": [2, 1]}, "b": 1});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
        assert_eq!(fingerprint(&a).len(), 64);
    }
}
