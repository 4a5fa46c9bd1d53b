//! Webhook deliveries, as Intercom sends them.
//!
//! State changes queue [`Event`]s (see `State::emit`); [`Webhooks`] turns each into a
//! `notification_event` envelope, signs the raw body (`X-Hub-Signature: sha1=<hex HMAC-SHA1>` keyed
//! with the app's client secret) and POSTs it from a Tokio task, one queue per conversation so a
//! conversation's events arrive in order. A non-2xx answer or a connection error is retried with
//! exponential backoff (Intercom delivers at least once); every attempt is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha1::Sha1;
use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::ids::request_id;
use crate::lock;

/// The topics the fake sends.
pub const TOPICS: [&str; 14] = [
    "conversation.user.created",
    "conversation.user.replied",
    "conversation.admin.replied",
    "conversation.admin.noted",
    "conversation.admin.assigned",
    "conversation.admin.closed",
    "conversation.admin.opened",
    "conversation.admin.snoozed",
    "ticket.created",
    "ticket.state.updated",
    "ticket.admin.assigned",
    "ticket.note.created",
    "ticket.closed",
    "ticket.resolved",
];

/// Where and how the fake delivers webhooks.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
    /// The app's client secret: the HMAC key of `X-Hub-Signature`.
    pub client_secret: String,
    /// Only these topics are sent (`None`: all of [`TOPICS`]).
    pub topics: Option<Vec<String>>,
    /// Attempts per notification, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled before each further one.
    pub backoff: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// The API version the payloads are shaped for (the webhook subscription's; default 2.16).
    pub api_version: crate::ApiVersion,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("topics", &self.topics)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebhookConfig {
    /// Every topic; 4 attempts, 200 ms backoff (doubling), 2 s per attempt.
    pub fn new(url: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            client_secret: client_secret.into(),
            topics: None,
            max_attempts: 4,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(2),
            api_version: crate::ApiVersion::default(),
        }
    }

    fn wants(&self, topic: &str) -> bool {
        self.topics.as_ref().is_none_or(|t| t.iter().any(|x| x == topic))
    }
}

/// Something that happened to a conversation (or a ticket: `conversation_id` is then the ticket's id): the
/// webhook's `topic` and its `data.item`.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub topic: &'static str,
    pub conversation_id: String,
    pub item: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Queued or being retried.
    Pending,
    /// A 2xx answer.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// One POST of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    /// 1 for the first delivery (the envelope's `delivery_attempts`).
    pub attempt: u32,
    /// The receiver's HTTP status; `None` when no answer came (`error` says why).
    pub status: Option<u16>,
    pub error: Option<String>,
    pub sent_at: i64,
}

/// A notification and every attempt to deliver it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookDelivery {
    /// The workspace whose change it reports, when the fake serves several (`None` with one).
    #[serde(rename = "workspaceId", skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// `notif_<uuid>`, the same on every attempt.
    pub notification_id: String,
    pub topic: String,
    /// The conversation's id (for `ticket.*` topics, the ticket's).
    pub conversation_id: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<DeliveryAttempt>,
    pub created_at: i64,
    /// The envelope as last sent (before the first attempt: as it will be sent).
    pub body: Value,
}

struct Job {
    index: usize,
    config: WebhookConfig,
}

struct Shared {
    clock: Clock,
    deliveries: Mutex<Vec<WebhookDelivery>>,
    /// Notifications not yet delivered or given up.
    pending: watch::Sender<usize>,
    http: OnceLock<reqwest::Client>,
}

/// Whose events these are and where they go: the envelope's `app_id`, the workspace's client secret (the
/// HMAC key) and, when the fake serves several workspaces, the path segment added to the configured URL.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub app_id: String,
    pub client_secret: String,
    /// `Some(workspace id)` with several workspaces: deliveries go to `<url>/<workspace id>` and name it.
    pub workspace_path: Option<String>,
}

/// The webhook sender of the fake's workspaces.
pub(crate) struct Webhooks {
    config: Mutex<Option<WebhookConfig>>,
    shared: Arc<Shared>,
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>,
}

impl Webhooks {
    pub(crate) fn new(config: Option<WebhookConfig>, clock: Clock) -> Self {
        Self {
            config: Mutex::new(config),
            shared: Arc::new(Shared {
                deliveries: Mutex::new(Vec::new()),
                pending: watch::Sender::new(0),
                http: OnceLock::new(),
                clock,
            }),
            queues: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn config(&self) -> Option<WebhookConfig> {
        lock(&self.config).clone()
    }

    pub(crate) fn set_config(&self, config: Option<WebhookConfig>) {
        *lock(&self.config) = config;
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.shared.deliveries).clone()
    }

    /// Forgets every delivery, unless some are still pending (then nothing is forgotten: `false`).
    pub(crate) fn clear(&self) -> bool {
        let mut deliveries = lock(&self.shared.deliveries);
        if deliveries.iter().any(|d| d.status == DeliveryStatus::Pending) {
            return false;
        }
        deliveries.clear();
        true
    }

    /// Waits until every queued notification is delivered or given up.
    pub(crate) async fn flush(&self) {
        let mut rx = self.shared.pending.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Queues events for delivery. Called under the state lock, so events reach each
    /// conversation's queue in the order they happened.
    pub(crate) fn enqueue(&self, events: Vec<Event>, target: &Target) {
        let Some(mut config) = self.config() else {
            return;
        };
        config.client_secret.clone_from(&target.client_secret);
        if let Some(segment) = &target.workspace_path {
            config.url = format!("{}/{segment}", config.url.trim_end_matches('/'));
        }
        for event in events.into_iter().filter(|e| config.wants(e.topic)) {
            let body = envelope(&target.app_id, &event, &format!("notif_{}", request_id()), 1, None);
            let index = {
                let mut deliveries = lock(&self.shared.deliveries);
                deliveries.push(WebhookDelivery {
                    workspace_id: target.workspace_path.clone(),
                    notification_id: body["id"].as_str().unwrap_or_default().to_owned(),
                    topic: event.topic.to_owned(),
                    conversation_id: event.conversation_id.clone(),
                    status: DeliveryStatus::Pending,
                    attempts: Vec::new(),
                    created_at: event.created_at,
                    body,
                });
                deliveries.len() - 1
            };
            self.shared.pending.send_modify(|n| *n += 1);
            let job = Job { index, config: config.clone() };
            let queue = format!("{}/{}", target.app_id, event.conversation_id);
            if let Err(job) = self.send_to_queue(&queue, job) {
                self.shared.finish(job.index, DeliveryStatus::Failed, Some("no Tokio runtime to deliver from"));
            }
        }
    }

    /// Hands the job to the conversation's delivery task (started on first use).
    fn send_to_queue(&self, queue: &str, job: Job) -> Result<(), Job> {
        let mut queues = lock(&self.queues);
        let job = match queues.get(queue) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Err(job);
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let shared = Arc::clone(&self.shared);
        runtime.spawn(async move {
            while let Some(job) = rx.recv().await {
                shared.deliver(job).await;
            }
        });
        tx.send(job).map_err(|mpsc::error::SendError(job)| job)?;
        queues.insert(queue.to_owned(), tx);
        Ok(())
    }
}

impl Shared {
    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(reqwest::Client::new)
    }

    fn finish(&self, index: usize, status: DeliveryStatus, error: Option<&str>) {
        if let Some(d) = lock(&self.deliveries).get_mut(index) {
            d.status = status;
            if let Some(error) = error {
                d.attempts.push(DeliveryAttempt {
                    attempt: 0,
                    status: None,
                    error: Some(error.to_owned()),
                    sent_at: self.clock.now(),
                });
            }
        }
        self.pending.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Posts one notification until a 2xx answer or `max_attempts` attempts.
    async fn deliver(&self, job: Job) {
        let Job { index, config } = job;
        let Some(first) = lock(&self.deliveries).get(index).map(|d| d.body.clone()) else {
            self.pending.send_modify(|n| *n = n.saturating_sub(1));
            return;
        };
        let first_sent_at = self.clock.now();
        let attempts = config.max_attempts.max(1);
        for attempt in 1..=attempts {
            let mut body = first.clone();
            body["delivery_attempts"] = json!(attempt);
            body["first_sent_at"] = json!(first_sent_at);
            let raw = serde_json::to_vec(&body).unwrap_or_default();
            let sent_at = self.clock.now();
            let result = self
                .http()
                .post(&config.url)
                .timeout(config.timeout)
                .header("content-type", "application/json")
                .header("user-agent", "Intercom-Webhooks (fake-intercom)")
                .header("x-hub-signature", signature(&config.client_secret, &raw))
                .body(raw)
                .send()
                .await;
            let (status, error) = match &result {
                Ok(resp) => (Some(resp.status().as_u16()), None),
                Err(e) => (None, Some(describe(e))),
            };
            let delivered = status.is_some_and(|s| (200..300).contains(&s));
            tracing::debug!(url = %config.url, attempt, ?status, ?error, "webhook delivery attempt");
            if let Some(d) = lock(&self.deliveries).get_mut(index) {
                d.body = body;
                d.attempts.push(DeliveryAttempt { attempt, status, error, sent_at });
            }
            if delivered {
                self.finish(index, DeliveryStatus::Delivered, None);
                return;
            }
            if attempt < attempts {
                tokio::time::sleep(config.backoff.saturating_mul(1 << (attempt - 1).min(16))).await;
            }
        }
        self.finish(index, DeliveryStatus::Failed, None);
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    }
}

/// `sha1=<40 lowercase hex>`: HMAC-SHA1 of the raw body keyed with the client secret.
pub fn signature(client_secret: &str, raw_body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(client_secret.as_bytes()) else {
        // HMAC takes keys of any length; this branch cannot be reached.
        return String::new();
    };
    mac.update(raw_body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `notification_event` envelope Intercom posts.
fn envelope(app_id: &str, event: &Event, id: &str, attempts: u32, first_sent_at: Option<i64>) -> Value {
    json!({
        "type": "notification_event",
        "app_id": app_id,
        "data": { "type": "notification_event_data", "item": event.item },
        "links": {},
        "id": id,
        "topic": event.topic,
        "delivery_status": "pending",
        "delivery_attempts": attempts,
        "delivered_at": 0,
        "first_sent_at": first_sent_at.unwrap_or(event.created_at),
        "created_at": event.created_at,
        "self": Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_intercoms_hmac_sha1() {
        // RFC 2202 test case 2.
        assert_eq!(signature("Jefe", b"what do ya want for nothing?"), "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn topic_filter() {
        let mut config = WebhookConfig::new("http://127.0.0.1:1/hook", "s");
        assert!(TOPICS.iter().all(|t| config.wants(t)));
        config.topics = Some(vec!["conversation.user.replied".to_owned()]);
        assert!(config.wants("conversation.user.replied") && !config.wants("conversation.admin.closed"));
        assert!(!format!("{config:?}").contains("\"s\""), "the secret stays out of Debug");
    }
}
