//! Notification ids claimed on the store, so a notification is accepted once and relayed once across
//! containers: the claim, and giving it back (a failure) or marking it done.

use std::time::Duration;

use crate::store::{Claim, KEEP_RECORDS, Store};

/// How long a container holds a notification id while it relays it; a container that died mid-relay frees it
/// for Intercom's redelivery after this.
pub const NOTIFICATION_LEASE: Duration = Duration::from_secs(60);

/// The store key of a notification id.
pub fn notification_key(id: &str) -> String {
    format!("webhook#{id}")
}

/// The store key of a queued notification the agent accepted (`relay-to-agent`'s own dedupe: a message SQS
/// delivers again after a crash is not sent twice).
pub fn relayed_key(id: &str) -> String {
    format!("webhook-relayed#{id}")
}

/// What a claim on a notification id found.
pub(super) enum Claimed<'a> {
    /// Go ahead: complete or release the id afterwards (`None`: nothing to claim, no store or no id).
    Ours(Option<&'a str>),
    /// Handled before.
    Done(String),
    /// Another invocation holds it now.
    Busy(String),
}

/// Which step a claim belongs to: accepting a delivery (and, without a queue, relaying it) or relaying a queued
/// one. Each has its own key, so the accepted claim does not make the relay look done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Inline,
    Queued,
}

impl Stage {
    pub(super) fn key(self, id: &str) -> String {
        match self {
            Stage::Inline => notification_key(id),
            Stage::Queued => relayed_key(id),
        }
    }

    /// Who retries a failed relay, for the log.
    pub(super) fn retry(self) -> &'static str {
        match self {
            Stage::Inline => "Intercom redelivers",
            Stage::Queued => "the queue redelivers after the visibility timeout",
        }
    }
}

/// Claims the notification id for `stage` (nothing to claim without a store or an id).
pub(super) async fn claim<'a>(
    store: Option<&dyn Store>,
    stage: Stage,
    topic: &str,
    notification_id: Option<&'a str>,
) -> Claimed<'a> {
    let (Some(store), Some(id)) = (store, notification_id) else { return Claimed::Ours(None) };
    match store.claim(&stage.key(id), "-", NOTIFICATION_LEASE).await {
        Ok(Claim::Acquired) => Claimed::Ours(Some(id)),
        Ok(Claim::Completed { .. }) => {
            tracing::info!(topic, notification_id = id, stage = ?stage, "webhook delivery already handled");
            Claimed::Done(id.to_string())
        }
        Ok(Claim::InProgress { .. }) => {
            tracing::info!(topic, notification_id = id, stage = ?stage, "webhook delivery being handled elsewhere");
            Claimed::Busy(id.to_string())
        }
        Err(e) => {
            // The agent still dedupes on Idempotency-Key; holding the event back would lose it.
            tracing::warn!(error = %e, "could not claim the notification id on the store; relaying anyway");
            Claimed::Ours(None)
        }
    }
}

/// Gives a claimed notification id back after a failure, so the retry may take it.
pub(super) async fn release(store: Option<&dyn Store>, stage: Stage, claimed: Option<&str>) {
    let (Some(store), Some(id)) = (store, claimed) else { return };
    if let Err(e) = store.release(&stage.key(id)).await {
        tracing::warn!(error = %e, "could not release the notification id; its retry waits for the lease");
    }
}

/// Marks a claimed notification id as done, so other containers answer its redeliveries as duplicates.
pub(super) async fn finish(store: Option<&dyn Store>, stage: Stage, claimed: Option<&str>) {
    let (Some(store), Some(id)) = (store, claimed) else { return };
    if let Err(e) = store.complete(&stage.key(id), "-", "relayed", KEEP_RECORDS).await {
        tracing::warn!(error = %e, "could not record the notification id as relayed");
    }
}
