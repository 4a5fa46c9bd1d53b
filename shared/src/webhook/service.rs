//! Accepting a webhook delivery: verify, parse, route, catch repeats, then relay it ([`super::relay`]) or, with a
//! relay queue, enqueue it and answer at once.
//!
//! With a relay queue ([`WebhookService::with_queue`]) a delivery is two steps: [`WebhookService::handle`] accepts
//! (verify, parse, route, claim the notification id, enqueue, 200) and [`WebhookService::relay_queued`], in
//! `relay-to-agent`, relays each queued notification. Without one, `handle` relays at once and the agent's answer
//! decides Intercom's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use super::agent::AgentClient;
use super::agent_event::AgentEvent;
use super::claims::{Claimed, Stage, claim, finish, release};
use super::dedupe::RecentNotifications;
use super::event::{Notification, ParseError, parse_notification};
use super::ownership::Ownerships;
use super::relay::{Relay, relay};
use super::route::{Route, RoutePolicy, route};
use super::settings::WebhookSettings;
use super::verify::{SignatureError, verify_signature};
use crate::queue::{Outgoing, Queue};
use crate::store::Store;

pub use super::claims::{NOTIFICATION_LEASE, notification_key, relayed_key};
pub use super::delivery::{Delivered, DeliveryError, WebhookKeys};

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

    /// Accepted deliveries go on `queue` and are answered at once; [`Self::relay_queued`] (in `relay-to-agent`) takes
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
        relay(&self.relay_context(), keys, &notification, *event, Stage::Inline).await
    }

    /// `relay-to-agent`: relays one notification [`Self::handle`] put on the queue (its signature was checked
    /// then). `Ok` means done with it (relayed, ignored, or relayed before); `Err` means try again later.
    pub async fn relay_queued(&self, keys: WebhookKeys<'_>, queued: &[u8]) -> Result<Delivered, DeliveryError> {
        let notification = parse_notification(queued).map_err(DeliveryError::Invalid)?;
        let event = match route(&notification, &self.policy).map_err(DeliveryError::Invalid)? {
            Route::Ping => return Ok(Delivered::Ping),
            Route::Ignore(reason) => return Ok(Delivered::Ignored(reason)),
            Route::Relay(event) => event,
        };
        relay(&self.relay_context(), keys, &notification, *event, Stage::Queued).await
    }

    /// What relaying borrows from this service.
    fn relay_context(&self) -> Relay<'_> {
        Relay {
            agent: self.agent.as_ref(),
            store: self.store.as_deref(),
            ownerships: self.ownerships.as_ref(),
            loop_guard: self.policy.loop_guard_mode,
            recent: &self.recent,
        }
    }

    /// The acknowledgement path with a queue: claim the notification id across containers (FIFO's own
    /// deduplication only covers 5 minutes, Intercom redelivers for longer), enqueue, answer.
    async fn enqueue(
        &self,
        queue: &dyn Queue,
        notification: &Notification,
        event: &AgentEvent,
        raw_body: &[u8],
    ) -> Result<Delivered, DeliveryError> {
        let topic = notification.topic.as_str();
        let notification_id = notification.id.as_deref();
        let claimed = match claim(self.store.as_deref(), Stage::Inline, topic, notification_id).await {
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
                finish(self.store.as_deref(), Stage::Inline, claimed).await;
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
                release(self.store.as_deref(), Stage::Inline, claimed).await;
                Err(DeliveryError::Enqueue(e))
            }
        }
    }
}

#[cfg(test)]
mod tests;
