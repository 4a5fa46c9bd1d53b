//! One webhook delivery, from raw bytes to an outcome: verify, parse, route, dedupe, relay, remember.
//!
//! With a relay queue ([`WebhookService::with_queue`]) that is two steps: [`WebhookService::handle`] accepts
//! (verify, parse, route, claim the notification id, enqueue, 200) and [`WebhookService::relay`], in
//! `relay-to-agent`, does the rest for each queued notification (loop guard, ownership, the agent). Without one,
//! `handle` does both at once and the agent's answer decides Intercom's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};

use super::agent::{AgentClient, AgentRelayError};
use super::dedupe::RecentNotifications;
use super::event::{
    Notification, ParseError, TOPIC_ADMIN_REPLIED, TOPIC_USER_CREATED, TOPIC_USER_REPLIED, parse_notification,
};
use super::loop_guard::{LoopGuardMode, Origin, origin_of_message};
use super::ownership::{Outcome, Ownerships};
use super::relay::{RelayEvent, Teammate};
use super::route::{IgnoreReason, Route, RoutePolicy, route};
use super::settings::WebhookSettings;
use super::verify::{SignatureError, verify_signature};
use crate::handoff::{Handling, HumanHandled};
use crate::intercom::models::{Conversation as FullConversation, Part};
use crate::queue::{Outgoing, Queue, QueueError};
use crate::store::{Claim, KEEP_RECORDS, Store};
use crate::text::html_to_text;

/// How long a container holds a notification id while it relays it; a container that died mid-relay frees it
/// for Intercom's redelivery after this.
pub const NOTIFICATION_LEASE: Duration = Duration::from_secs(60);

/// The secrets a delivery needs: Intercom's client secret to verify it, the agent webhook secret to sign the
/// relay. Either may be absent from the secret; that is reported when it is needed.
#[derive(Clone, Copy, Default)]
pub struct WebhookKeys<'a> {
    pub client_secret: Option<&'a SecretString>,
    pub agent_webhook_secret: Option<&'a SecretString>,
    /// The previous version's client secret while it rotates (`AWSPREVIOUS`): deliveries signed with it still pass.
    pub previous_client_secret: Option<&'a SecretString>,
}

/// What became of a delivery that was answered 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Ping,
    Ignored(IgnoreReason),
    /// This notification id was relayed already (or is being relayed, by this or another container).
    Duplicate {
        notification_id: String,
    },
    Relayed {
        notification_id: Option<String>,
    },
    /// On the relay queue; `relay-to-agent` takes it to the agent.
    Queued {
        notification_id: Option<String>,
    },
}

/// Why a delivery was not accepted. [`DeliveryError::status`] and [`DeliveryError::code`] are its HTTP mapping;
/// `Display` is safe to return and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Missing, malformed or wrong `X-Hub-Signature`: 401, nothing relayed.
    #[error("{0}")]
    Signature(SignatureError),
    /// Signed, but not a delivery we can read: 400.
    #[error("{0}")]
    Invalid(ParseError),
    /// The agent did not accept the event: 503 so Intercom redelivers.
    #[error("{0}")]
    Relay(AgentRelayError),
    /// The relay queue did not take the event: 503 (500 if misconfigured) so Intercom redelivers.
    #[error("{0}")]
    Enqueue(QueueError),
    /// Another invocation is relaying this notification right now: retried later.
    #[error("notification {notification_id} is being relayed by another invocation; retried later")]
    InFlight { notification_id: String },
    /// The secret lacks a field this function needs: 500 until the operator adds it.
    #[error("the secret has no {field}; add it to the secret's JSON (or set {env} locally)")]
    MissingSecret { field: &'static str, env: &'static str },
}

impl DeliveryError {
    pub fn status(&self) -> StatusCode {
        match self {
            DeliveryError::Signature(SignatureError::NoSecret) => StatusCode::INTERNAL_SERVER_ERROR,
            DeliveryError::Signature(_) => StatusCode::UNAUTHORIZED,
            DeliveryError::Invalid(_) => StatusCode::BAD_REQUEST,
            DeliveryError::Relay(_) | DeliveryError::InFlight { .. } => StatusCode::SERVICE_UNAVAILABLE,
            DeliveryError::Enqueue(QueueError::Misconfigured { .. }) => StatusCode::INTERNAL_SERVER_ERROR,
            DeliveryError::Enqueue(QueueError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            DeliveryError::Enqueue(_) => StatusCode::SERVICE_UNAVAILABLE,
            DeliveryError::MissingSecret { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            DeliveryError::Signature(SignatureError::NoSecret) | DeliveryError::MissingSecret { .. } => {
                "not_configured"
            }
            DeliveryError::Signature(_) => "invalid_signature",
            DeliveryError::Invalid(_) => "invalid_payload",
            DeliveryError::Relay(e) => e.code(),
            DeliveryError::Enqueue(e) => e.code(),
            DeliveryError::InFlight { .. } => "relay_in_progress",
        }
    }
}

/// Everything a warm container keeps between deliveries: the routing policy, the agent client, the ids it
/// relayed, the store shared by every container, and the hand-off rule.
pub struct WebhookService {
    policy: RoutePolicy,
    agent: Option<AgentClient>,
    recent: RecentNotifications,
    store: Option<Arc<dyn Store>>,
    ownerships: Option<Ownerships>,
    queue: Option<Arc<dyn Queue>>,
}

impl std::fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookService")
            .field("policy", &self.policy)
            .field("agent", &self.agent)
            .field("store", &self.store.is_some())
            .field("ownerships", &self.ownerships)
            .field("queue", &self.queue.is_some())
            .finish()
    }
}

impl WebhookService {
    /// Without an agent, deliveries are verified and acknowledged but nothing is relayed. Without a store
    /// ([`Self::with_store`]) every message is the customer's and repeats are caught per container only; without
    /// [`Self::with_ownerships`] events carry no handling.
    pub fn new(policy: RoutePolicy, agent: Option<AgentClient>) -> Self {
        WebhookService {
            policy,
            agent,
            recent: RecentNotifications::default(),
            store: None,
            ownerships: None,
            queue: None,
        }
    }

    /// Accepted deliveries go on `queue` and are answered at once; [`Self::relay`] (in `relay-to-agent`) takes
    /// each to the agent. Without a queue, [`Self::handle`] relays before answering.
    pub fn with_queue(mut self, queue: Arc<dyn Queue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// The deployment's store: the loop guard's memory of our own messages, notification ids across containers,
    /// and each conversation's last handling.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Ownership on every relayed event, with the commands and hand-offs.
    pub fn with_ownerships(mut self, ownerships: Ownerships) -> Self {
        self.ownerships = Some(ownerships);
        self
    }

    pub fn from_settings(settings: &WebhookSettings) -> Result<Self, reqwest::Error> {
        let agent = match &settings.agent_webhook_url {
            Some(url) => Some(AgentClient::new(url.clone(), settings.relay_timeout)?),
            None => None,
        };
        Ok(Self::new(settings.route.clone(), agent))
    }

    /// How long the agent has to take one event (zero without an agent).
    pub fn relay_timeout(&self) -> Duration {
        self.agent.as_ref().map(AgentClient::timeout).unwrap_or_default()
    }

    pub fn recent(&self) -> &RecentNotifications {
        &self.recent
    }

    /// Handles one delivery. The signature is checked on `raw_body` before anything reads it. With a queue, an
    /// accepted event is enqueued and answered (no Intercom or agent call on this path); without one, only an
    /// event the agent accepted is remembered, so a failed relay is retried on Intercom's redelivery.
    pub async fn handle(
        &self,
        keys: WebhookKeys<'_>,
        signature_header: Option<&str>,
        raw_body: &[u8],
    ) -> Result<Delivered, DeliveryError> {
        let client_secret = keys
            .client_secret
            .ok_or(DeliveryError::MissingSecret { field: "client_secret", env: "INTERCOM_CLIENT_SECRET" })?;
        let verified = verify_signature(client_secret.expose_secret().as_bytes(), raw_body, signature_header).or_else(
            |e| match (e, keys.previous_client_secret) {
                (SignatureError::Mismatch, Some(previous)) => {
                    verify_signature(previous.expose_secret().as_bytes(), raw_body, signature_header)
                }
                (e, _) => Err(e),
            },
        );
        if let Err(e) = verified {
            tracing::warn!(reason = e.reason(), "webhook signature refused");
            return Err(DeliveryError::Signature(e));
        }

        let invalid = |e: ParseError| {
            tracing::warn!(error = %e, "webhook delivery unreadable");
            DeliveryError::Invalid(e)
        };
        let notification = parse_notification(raw_body).map_err(invalid)?;
        let topic = notification.topic.as_str();
        let notification_id = notification.id.as_deref();

        let event = match route(&notification, &self.policy).map_err(invalid)? {
            Route::Ping => {
                tracing::info!(topic, "webhook ping");
                return Ok(Delivered::Ping);
            }
            Route::Ignore(reason) => {
                tracing::debug!(topic, notification_id, reason = reason.code(), "webhook delivery ignored");
                return Ok(Delivered::Ignored(reason));
            }
            Route::Relay(event) => event,
        };

        if let Some(id) = notification_id.filter(|id| self.recent.was_relayed(Some(id))) {
            tracing::info!(topic, notification_id = id, "webhook delivery already relayed");
            return Ok(Delivered::Duplicate { notification_id: id.to_string() });
        }
        if let Some(queue) = &self.queue {
            return self.enqueue(queue.as_ref(), &notification, &event, raw_body).await;
        }
        self.relay_event(keys, &notification, *event, Stage::Inline).await
    }

    /// `relay-to-agent`: relays one notification [`Self::handle`] put on the queue (its signature was checked
    /// then). `Ok` means done with it (relayed, ignored, or relayed before); `Err` means try again later.
    pub async fn relay(&self, keys: WebhookKeys<'_>, queued: &[u8]) -> Result<Delivered, DeliveryError> {
        let notification = parse_notification(queued).map_err(DeliveryError::Invalid)?;
        let event = match route(&notification, &self.policy).map_err(DeliveryError::Invalid)? {
            Route::Ping => return Ok(Delivered::Ping),
            Route::Ignore(reason) => return Ok(Delivered::Ignored(reason)),
            Route::Relay(event) => event,
        };
        self.relay_event(keys, &notification, *event, Stage::Queued).await
    }

    /// The acknowledgement path with a queue: claim the notification id across containers (FIFO's own
    /// deduplication only covers 5 minutes, Intercom redelivers for longer), enqueue, answer.
    async fn enqueue(
        &self,
        queue: &dyn Queue,
        notification: &Notification,
        event: &RelayEvent,
        raw_body: &[u8],
    ) -> Result<Delivered, DeliveryError> {
        let topic = notification.topic.as_str();
        let notification_id = notification.id.as_deref();
        let claimed = match self.claim(Stage::Inline, topic, notification_id).await {
            Claimed::Ours(claimed) => claimed,
            // Being enqueued by another container: if that fails, Intercom's redelivery comes back here.
            Claimed::Done(id) | Claimed::Busy(id) => return Ok(Delivered::Duplicate { notification_id: id }),
        };
        // parse_notification read these bytes as JSON, so they are UTF-8; nothing is replaced.
        let body = String::from_utf8_lossy(raw_body).into_owned();
        let message = Outgoing::new(body, &event.conversation.id, notification_id);
        let started = Instant::now();
        match queue.send(&message).await {
            Ok(()) => {
                self.recent.mark_relayed(notification_id);
                self.finish(Stage::Inline, claimed).await;
                tracing::info!(
                    topic,
                    notification_id,
                    conversation_id = event.conversation.id.as_str(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "webhook event queued"
                );
                Ok(Delivered::Queued { notification_id: notification_id.map(str::to_string) })
            }
            Err(e) => {
                tracing::warn!(topic, notification_id, code = e.code(), error = %e, "could not enqueue the event");
                self.release(Stage::Inline, claimed).await;
                Err(DeliveryError::Enqueue(e))
            }
        }
    }

    /// Claims the notification id for `stage`.
    async fn claim<'a>(&self, stage: Stage, topic: &str, notification_id: Option<&'a str>) -> Claimed<'a> {
        let (Some(store), Some(id)) = (self.store.as_deref(), notification_id) else { return Claimed::Ours(None) };
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

    /// Loop guard, ownership and the agent: the part of a delivery that needs Intercom and the agent.
    async fn relay_event(
        &self,
        keys: WebhookKeys<'_>,
        notification: &Notification,
        mut event: RelayEvent,
        stage: Stage,
    ) -> Result<Delivered, DeliveryError> {
        let topic = notification.topic.as_str();
        let notification_id = notification.id.as_deref();
        let Some(agent) = &self.agent else {
            tracing::info!(topic, notification_id, "AGENT_WEBHOOK_URL is not set; event not relayed");
            return Ok(Delivered::Ignored(IgnoreReason::NoAgent));
        };
        let agent_secret = keys
            .agent_webhook_secret
            .ok_or(DeliveryError::MissingSecret { field: "agent_webhook_secret", env: "AGENT_WEBHOOK_SECRET" })?;
        let store = self.store.as_deref();
        // The item as the REST API's conversation (what the hand-off rule reads); route() already read it.
        let conversation: Option<FullConversation> =
            notification.item().and_then(|item| serde_json::from_value(item.clone()).ok());
        let rule = match &self.ownerships {
            Some(ownerships) => ownerships.rule().await,
            None => None,
        };
        let trigger = conversation.as_ref().and_then(|c| trigger(notification, c, &event));

        if is_customer_topic(topic) {
            let author = trigger.as_ref().and_then(|t| t.author_id.as_deref());
            let body = trigger.as_ref().and_then(|t| t.body.as_deref()).unwrap_or_default();
            event.origin = origin_of_message(store, author, body).await;
            if event.origin == Origin::Integration && self.policy.loop_guard_mode == LoopGuardMode::Drop {
                tracing::debug!(topic, notification_id, "webhook delivery ignored: our own message");
                return Ok(Delivered::Ignored(IgnoreReason::FromIntegration));
            }
        } else if let Some(t) = &trigger {
            if rule.is_some_and(|r| t.admin_id.as_deref() == Some(r.ai_admin_id())) {
                tracing::debug!(topic, notification_id, "webhook delivery ignored: the AI's own action");
                return Ok(Delivered::Ignored(IgnoreReason::ByTheAi));
            }
            if t.admin_id.is_some() {
                event.teammate = Some(Teammate { id: t.admin_id.clone(), name: t.admin_name.clone() });
            }
            if topic == TOPIC_ADMIN_REPLIED {
                event.text = t.body.as_deref().map(html_to_text);
            }
        }

        let claimed = match self.claim(stage, topic, notification_id).await {
            Claimed::Ours(claimed) => claimed,
            // Queued, the invocation holding the id may still fail, and this message is the only copy left.
            Claimed::Busy(id) if stage == Stage::Queued => return Err(DeliveryError::InFlight { notification_id: id }),
            Claimed::Done(id) | Claimed::Busy(id) => return Ok(Delivered::Duplicate { notification_id: id }),
        };

        let outcome = match (&self.ownerships, rule, conversation) {
            (Some(ownerships), Some(rule), Some(conversation)) => {
                let part = trigger.as_ref().and_then(|t| t.part.as_ref());
                ownerships.apply(rule, store, topic, notification.created_at, conversation, part).await
            }
            _ => Outcome::default(),
        };
        event.handling = outcome.ownership.as_ref().map(|o| o.handling);
        event.owner = outcome.ownership.as_ref().map(|o| o.owner.clone());
        event.handoff = outcome.handoff;
        let human_handled_drop =
            self.ownerships.as_ref().is_some_and(|o| o.settings().human_handled == HumanHandled::Drop);
        if human_handled_drop
            && is_customer_topic(topic)
            && event.handling == Some(Handling::Human)
            && event.handoff.is_none()
        {
            self.finish(stage, claimed).await;
            tracing::debug!(topic, notification_id, "webhook delivery ignored: a human handles the conversation");
            return Ok(Delivered::Ignored(IgnoreReason::HumanHandled));
        }

        let started = Instant::now();
        let conversation_id = event.conversation.id.as_str();
        let origin = event.origin.as_str();
        match agent.send(&event, agent_secret).await {
            Ok(()) => {
                self.recent.mark_relayed(notification_id);
                self.finish(stage, claimed).await;
                tracing::info!(
                    topic,
                    notification_id,
                    conversation_id,
                    origin,
                    handling = ?event.handling,
                    handoff = ?event.handoff,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "webhook event relayed"
                );
                Ok(Delivered::Relayed { notification_id: notification_id.map(str::to_string) })
            }
            Err(e) => {
                tracing::warn!(
                    topic,
                    notification_id,
                    conversation_id,
                    code = e.code(),
                    error = %e,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    retry = stage.retry(),
                    "relay to the agent failed"
                );
                Ownerships::undo(store, &outcome).await;
                self.release(stage, claimed).await;
                Err(DeliveryError::Relay(e))
            }
        }
    }

    /// Gives a claimed notification id back after a failure, so the retry may take it.
    async fn release(&self, stage: Stage, claimed: Option<&str>) {
        let (Some(store), Some(id)) = (self.store.as_deref(), claimed) else { return };
        if let Err(e) = store.release(&stage.key(id)).await {
            tracing::warn!(error = %e, "could not release the notification id; its retry waits for the lease");
        }
    }

    /// Marks a claimed notification id as done, so other containers answer its redeliveries as duplicates.
    async fn finish(&self, stage: Stage, claimed: Option<&str>) {
        let (Some(store), Some(id)) = (self.store.as_deref(), claimed) else { return };
        if let Err(e) = store.complete(&stage.key(id), "-", "relayed", KEEP_RECORDS).await {
            tracing::warn!(error = %e, "could not record the notification id as relayed");
        }
    }
}

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
enum Claimed<'a> {
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
enum Stage {
    Inline,
    Queued,
}

impl Stage {
    fn key(self, id: &str) -> String {
        match self {
            Stage::Inline => notification_key(id),
            Stage::Queued => relayed_key(id),
        }
    }

    /// Who retries a failed relay, for the log.
    fn retry(self) -> &'static str {
        match self {
            Stage::Inline => "Intercom redelivers",
            Stage::Queued => "the queue redelivers after the visibility timeout",
        }
    }
}

fn is_customer_topic(topic: &str) -> bool {
    topic == TOPIC_USER_CREATED || topic == TOPIC_USER_REPLIED
}

/// The message or action that triggered an event.
struct Trigger {
    part: Option<Part>,
    author_id: Option<String>,
    /// Set when the author is an admin.
    admin_id: Option<String>,
    admin_name: Option<String>,
    body: Option<String>,
}

/// For customer topics the relayed message (the source, or the part relayed); for the others the newest part.
fn trigger(notification: &Notification, conversation: &FullConversation, event: &RelayEvent) -> Option<Trigger> {
    let parts = &conversation.conversation_parts.conversation_parts;
    let (part, author, body) = match notification.topic.as_str() {
        TOPIC_USER_CREATED => {
            let source = conversation.source.as_ref()?;
            (None, source.author.clone(), source.body.clone())
        }
        TOPIC_USER_REPLIED => {
            let id = event.message.as_ref()?.part_id.as_str();
            let part = parts.iter().find(|p| p.id == id)?;
            (Some(part.clone()), part.author.clone(), part.body.clone())
        }
        _ => {
            let part = parts
                .iter()
                .enumerate()
                .max_by_key(|(index, p)| (p.created_at.unwrap_or(i64::MIN), *index))
                .map(|(_, p)| p)?;
            (Some(part.clone()), part.author.clone(), part.body.clone())
        }
    };
    let is_admin = author.as_ref().is_some_and(|a| a.kind.as_deref() == Some("admin"));
    Some(Trigger {
        part,
        author_id: author.as_ref().and_then(|a| a.id.clone()),
        admin_id: author.as_ref().filter(|_| is_admin).and_then(|a| a.id.clone()),
        admin_name: author.as_ref().filter(|_| is_admin).and_then(|a| a.name.clone()),
        body,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::webhook::fixtures;
    use crate::webhook::verify::{sign_for_agent, sign_intercom};

    const CLIENT_SECRET: &str = "client-secret";
    const AGENT_SECRET: &str = "agent-secret";

    /// What the stub agent saw: lower-cased header lines and the body.
    #[derive(Debug, Clone)]
    struct Seen {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    /// A one-purpose HTTP/1.1 agent on 127.0.0.1: answers every request with `status` after `delay`.
    async fn stub_agent(status: u16, delay: Duration) -> (url::Url, Arc<Mutex<Vec<Seen>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = url::Url::parse(&format!("http://{}/events", listener.local_addr().unwrap())).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut raw = Vec::new();
                    let mut buf = [0u8; 4096];
                    let (head_end, length) = loop {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        raw.extend_from_slice(&buf[..n]);
                        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while raw.len() < head_end + length {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        raw.extend_from_slice(&buf[..n]);
                    }
                    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
                    let headers = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    log.lock().unwrap().push(Seen { headers, body: raw[head_end..].to_vec() });
                    tokio::time::sleep(delay).await;
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        (url, seen)
    }

    fn service(url: url::Url, timeout: Duration, policy: RoutePolicy) -> WebhookService {
        WebhookService::new(policy, Some(AgentClient::new(url, timeout).unwrap()))
    }

    async fn deliver(service: &WebhookService, body: &str) -> Result<Delivered, DeliveryError> {
        let client = SecretString::from(CLIENT_SECRET);
        let agent = SecretString::from(AGENT_SECRET);
        let keys =
            WebhookKeys { client_secret: Some(&client), agent_webhook_secret: Some(&agent), ..Default::default() };
        let signature = sign_intercom(CLIENT_SECRET.as_bytes(), body.as_bytes());
        service.handle(keys, Some(&signature), body.as_bytes()).await
    }

    #[tokio::test]
    async fn relays_a_signed_event_once() {
        let (url, seen) = stub_agent(202, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let outcome = deliver(&service, fixtures::USER_REPLIED).await.unwrap();
        assert_eq!(
            outcome,
            Delivered::Relayed { notification_id: Some("notif_5d6e7f80-91a2-4b3c-8d4e-5f60718293a4".into()) }
        );
        let again = deliver(&service, fixtures::USER_REPLIED).await.unwrap();
        assert!(matches!(again, Delivered::Duplicate { .. }));

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let request = &seen[0];
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("idempotency-key"), Some("notif_5d6e7f80-91a2-4b3c-8d4e-5f60718293a4"));
        let expected = sign_for_agent(AGENT_SECRET.as_bytes(), &request.body);
        assert_eq!(request.header("x-signature"), Some(expected.as_str()));
        let event: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(event["message"]["partId"], "3004");
        assert_eq!(event["origin"], "customer");
    }

    #[tokio::test]
    async fn a_refused_relay_is_not_remembered() {
        let (url, seen) = stub_agent(500, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
        assert_eq!(err, DeliveryError::Relay(AgentRelayError::Rejected { status: 500 }));
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(service.recent().is_empty());
        assert!(deliver(&service, fixtures::USER_CREATED).await.is_err());
        assert_eq!(seen.lock().unwrap().len(), 2, "the redelivery was relayed again");
    }

    #[tokio::test]
    async fn a_slow_agent_times_out() {
        let (url, _) = stub_agent(200, Duration::from_millis(800)).await;
        let service = service(url, Duration::from_millis(150), RoutePolicy::default());
        let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
        assert_eq!(err, DeliveryError::Relay(AgentRelayError::Timeout { timeout_ms: 150 }));
        assert_eq!(err.code(), "agent_timeout");
    }

    #[tokio::test]
    async fn an_unreachable_agent_is_reported_without_its_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = url::Url::parse(&format!("http://{}/secret-path?token=t0k", listener.local_addr().unwrap())).unwrap();
        drop(listener);
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
        assert!(matches!(err, DeliveryError::Relay(AgentRelayError::Unreachable { .. })), "{err:?}");
        assert!(!err.to_string().contains("t0k") && !err.to_string().contains("secret-path"));
    }

    #[tokio::test]
    async fn signature_is_checked_before_anything_else() {
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let client = SecretString::from(CLIENT_SECRET);
        let keys = WebhookKeys { client_secret: Some(&client), ..Default::default() };
        let body = b"not even json";
        let err = service.handle(keys, None, body).await.unwrap_err();
        assert_eq!(err, DeliveryError::Signature(SignatureError::Missing));
        assert_eq!((err.status(), err.code()), (StatusCode::UNAUTHORIZED, "invalid_signature"));
        let wrong = sign_intercom(b"other", fixtures::USER_CREATED.as_bytes());
        let err = service.handle(keys, Some(&wrong), fixtures::USER_CREATED.as_bytes()).await.unwrap_err();
        assert_eq!(err, DeliveryError::Signature(SignatureError::Mismatch));
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_previous_client_secret_is_accepted_while_it_rotates() {
        let service = WebhookService::new(RoutePolicy::default(), None);
        let (current, previous) = (SecretString::from("cs-new"), SecretString::from("cs-old"));
        let body = fixtures::PING.as_bytes();
        let rotating = WebhookKeys {
            client_secret: Some(&current),
            previous_client_secret: Some(&previous),
            ..Default::default()
        };
        for secret in [b"cs-new".as_slice(), b"cs-old"] {
            assert_eq!(service.handle(rotating, Some(&sign_intercom(secret, body)), body).await, Ok(Delivered::Ping));
        }
        let err = service.handle(rotating, Some(&sign_intercom(b"cs-older", body)), body).await.unwrap_err();
        assert_eq!(err, DeliveryError::Signature(SignatureError::Mismatch));
        // Once the old secret has rotated out, it is refused.
        let rotated = WebhookKeys { client_secret: Some(&current), ..Default::default() };
        let err = service.handle(rotated, Some(&sign_intercom(b"cs-old", body)), body).await.unwrap_err();
        assert_eq!(err, DeliveryError::Signature(SignatureError::Mismatch));
    }

    #[tokio::test]
    async fn pings_ignored_topics_and_bad_payloads() {
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        assert_eq!(deliver(&service, fixtures::PING).await, Ok(Delivered::Ping));
        assert_eq!(deliver(&service, fixtures::PING).await, Ok(Delivered::Ping));
        let other = mutate(fixtures::ADMIN_REPLIED, |v| v["topic"] = json!("conversation.admin.unsnoozed"));
        let ignored = deliver(&service, &other).await.unwrap();
        assert!(matches!(ignored, Delivered::Ignored(IgnoreReason::TopicNotRelayed { .. })));
        let err = deliver(&service, "{\"topic\":").await.unwrap_err();
        assert_eq!((err.status(), err.code()), (StatusCode::BAD_REQUEST, "invalid_payload"));
        let err = deliver(&service, r#"{"topic":"conversation.user.created","data":{"item":{}}}"#).await.unwrap_err();
        assert_eq!(err.to_string(), "data.item.id is missing");
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn without_an_agent_nothing_is_relayed() {
        let service = WebhookService::new(RoutePolicy::default(), None);
        let outcome = deliver(&service, fixtures::USER_CREATED).await.unwrap();
        assert_eq!(outcome, Delivered::Ignored(IgnoreReason::NoAgent));
        assert!(service.recent().is_empty());
    }

    #[tokio::test]
    async fn missing_secrets_are_named() {
        let (url, _) = stub_agent(200, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let err = service.handle(WebhookKeys::default(), None, b"{}").await.unwrap_err();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(err.to_string().contains("client_secret"), "{err}");

        let client = SecretString::from(CLIENT_SECRET);
        let keys = WebhookKeys { client_secret: Some(&client), ..Default::default() };
        let body = fixtures::USER_CREATED.as_bytes();
        let signature = sign_intercom(CLIENT_SECRET.as_bytes(), body);
        let err = service.handle(keys, Some(&signature), body).await.unwrap_err();
        assert_eq!(err, DeliveryError::MissingSecret { field: "agent_webhook_secret", env: "AGENT_WEBHOOK_SECRET" });
        assert_eq!(err.code(), "not_configured");
    }

    use crate::handoff::HandoffSettings;
    use crate::store::memory::MemoryStore;

    const AI: &str = "814860";
    const CONTACT: &str = "6657add46abd0167d9419cd2";

    fn with_store(url: url::Url, policy: RoutePolicy, store: &Arc<MemoryStore>) -> WebhookService {
        service(url, Duration::from_secs(2), policy).with_store(store.clone())
    }

    fn owned(
        service: WebhookService,
        helpdesk: Option<crate::helpdesk::MockHelpdesk>,
        vars: &[(&str, &str)],
    ) -> WebhookService {
        let mut env = vec![("INTERCOM_ADMIN_ID".to_string(), AI.to_string())];
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let settings =
            HandoffSettings::from_lookup(|n| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())).unwrap();
        let helpdesk = helpdesk.map(|h| Arc::new(h) as Arc<dyn crate::helpdesk::Helpdesk>);
        service.with_ownerships(Ownerships::new(settings, helpdesk))
    }

    fn relayed(seen: &Arc<Mutex<Vec<Seen>>>) -> Vec<Value> {
        seen.lock().unwrap().iter().map(|s| serde_json::from_slice(&s.body).unwrap()).collect()
    }

    fn mutate(fixture: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut value: Value = serde_json::from_str(fixture).unwrap();
        change(&mut value);
        value.to_string()
    }

    fn source_body() -> String {
        let value: Value = serde_json::from_str(fixtures::USER_CREATED).unwrap();
        value["data"]["item"]["source"]["body"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn a_message_our_functions_wrote_is_ours_and_dropped_when_asked() {
        let store = Arc::new(MemoryStore::new());
        crate::ours::remember_customer_message(store.as_ref(), CONTACT, &source_body()).await.unwrap();
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = with_store(url, RoutePolicy::default(), &store);
        assert!(matches!(deliver(&service, fixtures::USER_CREATED).await.unwrap(), Delivered::Relayed { .. }));
        assert_eq!(relayed(&seen)[0]["origin"], "integration");

        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let drop = RoutePolicy { loop_guard_mode: LoopGuardMode::Drop, ..RoutePolicy::default() };
        let service = with_store(url, drop, &store);
        assert_eq!(
            deliver(&service, fixtures::USER_CREATED).await.unwrap(),
            Delivered::Ignored(IgnoreReason::FromIntegration)
        );
        // The customer's later reply in the same conversation is theirs.
        assert!(matches!(deliver(&service, fixtures::USER_REPLIED).await.unwrap(), Delivered::Relayed { .. }));
        let events = relayed(&seen);
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0]["topic"].as_str(), events[0]["origin"].as_str()),
            (Some(TOPIC_USER_REPLIED), Some("customer"))
        );
    }

    #[tokio::test]
    async fn repeats_are_caught_across_containers_and_a_failed_relay_is_retried() {
        let store = Arc::new(MemoryStore::new());
        let (failing_url, _) = stub_agent(503, Duration::ZERO).await;
        let failing = with_store(failing_url, RoutePolicy::default(), &store);
        assert!(matches!(deliver(&failing, fixtures::USER_REPLIED).await, Err(DeliveryError::Relay(_))));

        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let first = with_store(url.clone(), RoutePolicy::default(), &store);
        let second = with_store(url, RoutePolicy::default(), &store);
        assert!(matches!(deliver(&first, fixtures::USER_REPLIED).await.unwrap(), Delivered::Relayed { .. }));
        assert!(matches!(deliver(&second, fixtures::USER_REPLIED).await.unwrap(), Delivered::Duplicate { .. }));
        // A null id (samples) never counts as a repeat.
        let sample = mutate(fixtures::USER_REPLIED, |v| v["id"] = Value::Null);
        assert!(matches!(deliver(&first, &sample).await.unwrap(), Delivered::Relayed { notification_id: None }));
        assert!(matches!(deliver(&second, &sample).await.unwrap(), Delivered::Relayed { notification_id: None }));
        assert_eq!(relayed(&seen).len(), 3);
    }

    #[tokio::test]
    async fn ownership_is_relayed_and_a_change_of_hands_announced_once() {
        let store = Arc::new(MemoryStore::new());
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = owned(with_store(url, RoutePolicy::default(), &store), None, &[]);
        deliver(&service, fixtures::USER_CREATED).await.unwrap();
        // The fixture reply: conversation 147 assigned to admin 991267, not the AI's.
        deliver(&service, fixtures::USER_REPLIED).await.unwrap();
        let again = mutate(fixtures::USER_REPLIED, |v| v["id"] = json!("notif_other"));
        deliver(&service, &again).await.unwrap();
        let events = relayed(&seen);
        let shape: Vec<(Value, Value)> = events.iter().map(|e| (e["handling"].clone(), e["handoff"].clone())).collect();
        assert_eq!(
            shape,
            [(json!("ai"), Value::Null), (json!("human"), json!("human_took_over")), (json!("human"), Value::Null)]
        );
        assert_eq!(events[1]["owner"]["type"], "admin");
        assert_eq!(events[1]["owner"]["id"], "991267");
    }

    #[tokio::test]
    async fn customer_messages_of_human_handled_conversations_can_be_dropped() {
        let store = Arc::new(MemoryStore::new());
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service =
            owned(with_store(url, RoutePolicy::default(), &store), None, &[("WEBHOOK_HUMAN_HANDLED", "drop")]);
        let first = deliver(&service, fixtures::USER_REPLIED).await.unwrap();
        assert_eq!(first, Delivered::Ignored(IgnoreReason::HumanHandled));
        assert!(relayed(&seen).is_empty());
    }

    fn by(admin: &str, name: &str, part_type: &str, body: &str, assignee: &str) -> String {
        mutate(fixtures::ADMIN_REPLIED, |v| {
            v["topic"] =
                json!(if part_type == "note" { "conversation.admin.noted" } else { "conversation.admin.replied" });
            v["id"] = json!(format!("notif_{part_type}_{admin}_{}", body.len()));
            v["data"]["item"]["admin_assignee_id"] = json!(assignee);
            v["data"]["item"]["conversation_parts"] = json!({"type": "conversation_part.list", "total_count": 1,
                "conversation_parts": [{"type": "conversation_part", "id": "9001", "part_type": part_type,
                "body": body, "created_at": 1_718_000_700, "author": {"type": "admin", "id": admin, "name": name}}]});
        })
    }

    #[tokio::test]
    async fn teammates_replies_are_relayed_with_their_text_and_the_ais_own_are_not() {
        let store = Arc::new(MemoryStore::new());
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = owned(with_store(url, RoutePolicy::default(), &store), None, &[]);
        let ours = by(AI, "Support AI", "comment", "<p>Let me check</p>", AI);
        assert_eq!(deliver(&service, &ours).await.unwrap(), Delivered::Ignored(IgnoreReason::ByTheAi));
        let grace = by("991268", "Grace", "comment", "<p>I'll take it <b>from here</b></p>", AI);
        assert!(matches!(deliver(&service, &grace).await.unwrap(), Delivered::Relayed { .. }));
        let event = &relayed(&seen)[0];
        assert_eq!(event["teammate"], json!({"id": "991268", "name": "Grace"}));
        assert_eq!(event["text"], "I'll take it from here");
        assert_eq!(event["handling"], "human");
    }

    #[tokio::test]
    async fn resume_assigns_the_ai_and_stop_pauses_it() {
        let store = Arc::new(MemoryStore::new());
        let mut helpdesk = crate::helpdesk::MockHelpdesk::new();
        helpdesk.expect_assign_conversation().times(1).returning(|id, admin, assignee| {
            assert_eq!((id, admin), ("147", AI));
            assert_eq!(assignee, &crate::intercom::conversations::Assignee::Admin(AI.into()));
            Ok(serde_json::from_value(json!({"type": "conversation", "id": "147", "admin_assignee_id": AI})).unwrap())
        });
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = owned(with_store(url, RoutePolicy::default(), &store), Some(helpdesk), &[]);
        deliver(&service, fixtures::USER_CREATED).await.unwrap();
        deliver(&service, &by("991268", "Grace", "note", "<p>/ai stop</p>", "")).await.unwrap();
        deliver(&service, &by("991268", "Grace", "note", "<p>/ai resume please</p>", "991268")).await.unwrap();
        let events = relayed(&seen);
        let shape: Vec<(Value, Value)> = events.iter().map(|e| (e["handling"].clone(), e["handoff"].clone())).collect();
        assert_eq!(
            shape,
            [
                (json!("ai"), Value::Null),
                (json!("human"), json!("human_took_over")),
                (json!("ai"), json!("returned_to_ai"))
            ]
        );
    }

    use crate::queue::memory::MemoryQueue;
    use crate::queue::{Outgoing, QueueError};

    const REPLIED_ID: &str = "notif_5d6e7f80-91a2-4b3c-8d4e-5f60718293a4";

    fn queued(url: url::Url, store: &Arc<MemoryStore>, queue: &Arc<MemoryQueue>) -> WebhookService {
        with_store(url, RoutePolicy::default(), store).with_queue(queue.clone())
    }

    async fn relay(service: &WebhookService, body: &str) -> Result<Delivered, DeliveryError> {
        let agent = SecretString::from(AGENT_SECRET);
        service
            .relay(
                WebhookKeys { client_secret: None, agent_webhook_secret: Some(&agent), ..Default::default() },
                body.as_bytes(),
            )
            .await
    }

    #[tokio::test]
    async fn with_a_queue_a_delivery_is_enqueued_and_answered_without_waiting_for_the_agent() {
        let (url, seen) = stub_agent(200, Duration::from_secs(5)).await;
        let (store, queue) = (Arc::new(MemoryStore::new()), Arc::new(MemoryQueue::new()));
        let first = queued(url.clone(), &store, &queue);
        let started = std::time::Instant::now();
        let outcome = deliver(&first, fixtures::USER_REPLIED).await.unwrap();
        assert_eq!(outcome, Delivered::Queued { notification_id: Some(REPLIED_ID.into()) });
        assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
        assert!(seen.lock().unwrap().is_empty(), "the agent is relay-to-agent's business");
        assert_eq!(queue.sent(), [Outgoing::new(fixtures::USER_REPLIED.into(), "147", Some(REPLIED_ID))]);

        // Intercom's redelivery to another container is a duplicate, not a second message.
        let second = queued(url, &store, &queue);
        assert_eq!(
            deliver(&second, fixtures::USER_REPLIED).await,
            Ok(Delivered::Duplicate { notification_id: REPLIED_ID.into() })
        );
        assert_eq!(queue.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_queue_that_refuses_is_a_503_and_the_redelivery_is_enqueued() {
        let (url, _) = stub_agent(200, Duration::ZERO).await;
        let (store, queue) = (Arc::new(MemoryStore::new()), Arc::new(MemoryQueue::new()));
        let service = queued(url, &store, &queue);
        queue.set_down(true);
        let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
        assert!(matches!(err, DeliveryError::Enqueue(QueueError::Unavailable { .. })), "{err:?}");
        assert_eq!((err.status(), err.code()), (StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable"));
        queue.set_down(false);
        assert!(matches!(deliver(&service, fixtures::USER_CREATED).await.unwrap(), Delivered::Queued { .. }));
        assert_eq!(queue.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_queued_event_reaches_the_agent_once_and_a_failure_is_retried() {
        let store = Arc::new(MemoryStore::new());
        let (failing_url, _) = stub_agent(503, Duration::ZERO).await;
        let failing = with_store(failing_url, RoutePolicy::default(), &store);
        let err = relay(&failing, fixtures::USER_REPLIED).await.unwrap_err();
        assert_eq!(err, DeliveryError::Relay(AgentRelayError::Rejected { status: 503 }));

        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = with_store(url.clone(), RoutePolicy::default(), &store);
        assert_eq!(
            relay(&service, fixtures::USER_REPLIED).await,
            Ok(Delivered::Relayed { notification_id: Some(REPLIED_ID.into()) })
        );
        // SQS delivering the message again (a crash before the delete) does not reach the agent twice.
        let other = with_store(url, RoutePolicy::default(), &store);
        assert_eq!(
            relay(&other, fixtures::USER_REPLIED).await,
            Ok(Delivered::Duplicate { notification_id: REPLIED_ID.into() })
        );
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert_eq!(seen.lock().unwrap()[0].header("idempotency-key"), Some(REPLIED_ID));
    }
}
