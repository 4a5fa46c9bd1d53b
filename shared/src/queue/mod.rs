//! The relay queue, behind a port: the webhook acknowledges Intercom as soon as a verified notification is on
//! the queue, and `relay-to-agent` (SQS event source mapping) takes it to the agent, retrying while the agent is
//! down and parking what never goes through in the dead-letter queue.
//!
//! Deployed, that is one SQS FIFO queue ([`sqs`]): the conversation id is the message group (per-conversation
//! order), the notification id the deduplication id. Unit tests use [`memory::MemoryQueue`]. Domain code only
//! sees [`Queue`]; receiving is the event source mapping's job (locally scripts/sqs-poller.py does it), so the
//! port only sends.

pub mod memory;
pub mod sqs;

pub use sqs::from_env;

use async_trait::async_trait;

/// The environment variable that names the queue (its URL); unset, the webhook relays synchronously.
pub const QUEUE_URL_ENV: &str = "RELAY_QUEUE_URL";

/// One message for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The verified notification, exactly as Intercom sent it.
    pub body: String,
    /// Messages of one group are delivered in order, one at a time (the conversation id).
    pub group_id: String,
    /// A second message with this id within SQS's 5-minute window is dropped (the notification id).
    pub deduplication_id: String,
}

impl Outgoing {
    /// A message for `body`, grouped by `conversation_id`, deduplicated on `notification_id` (or, for sample
    /// deliveries without one, on the body's hash). Ids SQS would refuse are replaced by their SHA-256.
    pub fn new(body: String, conversation_id: &str, notification_id: Option<&str>) -> Self {
        let deduplication_id = match notification_id {
            Some(id) => fifo_id(id),
            None => sha256_hex(body.as_bytes()),
        };
        Outgoing { group_id: fifo_id(conversation_id), deduplication_id, body }
    }
}

/// `raw` if SQS accepts it as a group or deduplication id (1–128 characters, alphanumeric or punctuation),
/// else its SHA-256 in hex (64 characters), so any id Intercom sends still groups and dedupes consistently.
pub fn fifo_id(raw: &str) -> String {
    let valid = !raw.is_empty()
        && raw.len() <= 128
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation());
    if valid { raw.to_string() } else { sha256_hex(raw.as_bytes()) }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// The queue could not take a message. `Display` is safe for answers and logs: no queue URL, no AWS internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    #[error("the relay queue is unavailable ({reason}); the delivery was not accepted, Intercom will redeliver")]
    Unavailable { reason: String },
    #[error(
        "the relay queue is not set up ({reason}); check RELAY_QUEUE_URL and the function's sqs:SendMessage permission"
    )]
    Misconfigured { reason: String },
    #[error("the notification is {bytes} bytes, more than the relay queue takes ({limit} bytes)")]
    TooLarge { bytes: usize, limit: usize },
}

impl QueueError {
    /// A stable short code for answers and logs.
    pub fn code(&self) -> &'static str {
        match self {
            QueueError::Unavailable { .. } => "queue_unavailable",
            QueueError::Misconfigured { .. } => "not_configured",
            QueueError::TooLarge { .. } => "payload_too_large",
        }
    }
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Puts `message` on the queue; `Ok` once the queue stored it durably.
    async fn send(&self, message: &Outgoing) -> Result<(), QueueError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sqs_refuses_are_hashed_and_the_rest_kept() {
        assert_eq!(fifo_id("147"), "147");
        assert_eq!(fifo_id("notif_5d6e7f80-91a2-4b3c"), "notif_5d6e7f80-91a2-4b3c");
        for bad in ["", "has space", "ünïcode", &"x".repeat(129)] {
            let id = fifo_id(bad);
            assert_eq!(id.len(), 64, "{bad:?}");
            assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        }
        assert_eq!(fifo_id("has space"), fifo_id("has space"), "stable");
    }

    #[test]
    fn a_sample_delivery_without_an_id_dedupes_on_its_body() {
        let a = Outgoing::new("{\"a\":1}".into(), "147", None);
        let b = Outgoing::new("{\"a\":2}".into(), "147", None);
        assert_ne!(a.deduplication_id, b.deduplication_id);
        assert_eq!(Outgoing::new("{\"a\":1}".into(), "147", None), a);
        assert_eq!(Outgoing::new("{}".into(), "147", Some("notif_1")).deduplication_id, "notif_1");
    }
}
