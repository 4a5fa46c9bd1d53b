//! `relay-to-agent`'s batch: the queued notifications one SQS event carries, relayed with FIFO order kept.
//!
//! Messages of one group (one conversation) go one after another; once one fails, the later ones of its group
//! fail too without being sent, so the agent never sees a conversation's events out of order. Groups are
//! independent and run at the same time. What fails stays on the queue and comes back after the visibility
//! timeout; after the queue's `maxReceiveCount` receives it moves to the dead-letter queue.

use std::collections::HashSet;
use std::time::Duration;

use futures::future::join_all;

use super::service::{Delivered, WebhookKeys, WebhookService};

/// Not started when less than this is left of the invocation (after the agent's own timeout): a message cut off
/// by the function's timeout would fail the whole batch.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// One queued notification as the event source mapping hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub message_id: String,
    /// FIFO message group (the conversation); `None` on a standard queue: then every message stands alone.
    pub group_id: Option<String>,
    pub body: String,
    /// SQS's `ApproximateReceiveCount`: 1 on the first attempt.
    pub receive_count: Option<u32>,
}

/// Relays `messages` (in queue order) and returns the ids of those to retry, in the order given.
pub async fn relay_batch(service: &WebhookService, keys: WebhookKeys<'_>, messages: &[QueuedMessage]) -> Vec<String> {
    let mut groups: Vec<Vec<&QueuedMessage>> = Vec::new();
    for message in messages {
        let same_group = message
            .group_id
            .as_ref()
            .and_then(|g| groups.iter().position(|members| members[0].group_id.as_ref() == Some(g)));
        match same_group {
            Some(index) => groups[index].push(message),
            None => groups.push(vec![message]),
        }
    }
    let failed: HashSet<String> =
        join_all(groups.iter().map(|group| relay_group(service, keys, group))).await.into_iter().flatten().collect();
    messages.iter().filter(|m| failed.contains(&m.message_id)).map(|m| m.message_id.clone()).collect()
}

/// One group in order; the ids that failed or were held back behind a failure.
async fn relay_group(service: &WebhookService, keys: WebhookKeys<'_>, group: &[&QueuedMessage]) -> Vec<String> {
    for (index, message) in group.iter().enumerate() {
        let held_back = || group[index + 1..].iter().map(|m| m.message_id.clone());
        if crate::deadline::remaining() < service.relay_timeout() + DEADLINE_MARGIN {
            tracing::warn!(message_id = %message.message_id, "too little time left in this invocation; retried later");
            return std::iter::once(message.message_id.clone()).chain(held_back()).collect();
        }
        match service.relay(keys, message.body.as_bytes()).await {
            Ok(outcome) => log_done(message, &outcome),
            Err(e) => {
                tracing::warn!(
                    message_id = %message.message_id,
                    group_id = message.group_id.as_deref(),
                    attempt = message.receive_count,
                    code = e.code(),
                    error = %e,
                    held_back = group.len() - index - 1,
                    "queued event not relayed; it and the later events of its conversation are retried"
                );
                return std::iter::once(message.message_id.clone()).chain(held_back()).collect();
            }
        }
    }
    Vec::new()
}

fn log_done(message: &QueuedMessage, outcome: &Delivered) {
    match outcome {
        Delivered::Relayed { .. } => {}
        other => tracing::info!(message_id = %message.message_id, outcome = ?other, "queued event done"),
    }
}
