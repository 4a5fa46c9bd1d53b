//! Intercom webhooks: accepting a delivery, relaying it to the agent, and the claims that make both happen once.
//!
//! **Accepting** ([`service`], [`WebhookService::handle`]): [`verify_signature`] on the raw bytes,
//! [`parse_notification`] for the envelope, [`route()`] (ping / ignore / relay), a [`RecentNotifications`] check
//! for repeats in this container. **Relaying** — the one meaning of "relay" here: taking an accepted notification
//! to the agent ([`relay`]) — the loop guard ([`loop_guard::origin_of_message`], on the store), the AI's own
//! actions filtered out, the teammate who acted, a [`claims`] of the notification id on the store (repeats across
//! containers), the ownership ([`ownership`]), then [`AgentClient::send`], and only after the agent accepted it
//! the claim is completed. The event sent is built by [`agent_event`].
//!
//! With a relay queue (`RELAY_QUEUE_URL`, template.yaml's FIFO queue) the two are split: `intercom-webhook`
//! accepts, claims the notification id and enqueues, answering in milliseconds whatever the agent does;
//! `relay-to-agent` runs [`relay_batch`] → [`WebhookService::relay_queued`] for each queued notification,
//! retried by the queue.

pub mod agent;
pub mod agent_event;
pub mod batch;
pub mod claims;
pub mod dedupe;
pub mod delivery;
pub mod event;
pub mod fixtures;
pub mod loop_guard;
pub mod ownership;
pub mod relay;
pub mod route;
pub mod service;
pub mod settings;
pub mod verify;

pub use agent::{AgentClient, AgentRelayError, IDEMPOTENCY_KEY_HEADER};
pub use agent_event::{AgentEvent, Teammate, build_agent_event};
pub use batch::{QueuedMessage, relay_batch};
pub use dedupe::RecentNotifications;
pub use delivery::{Delivered, DeliveryError, WebhookKeys};
pub use event::{
    Conversation, Notification, ParseError, TOPIC_ADMIN_ASSIGNED, TOPIC_ADMIN_CLOSED, TOPIC_ADMIN_NOTED,
    TOPIC_ADMIN_OPENED, TOPIC_ADMIN_REPLIED, TOPIC_ADMIN_SNOOZED, TOPIC_PING, TOPIC_USER_CREATED, TOPIC_USER_REPLIED,
    parse_notification,
};
pub use loop_guard::{LoopGuardMode, Origin, origin_of_message};
pub use ownership::{HandoffState, Ownerships};
pub use route::{DEFAULT_RELAYED_TOPICS, IgnoreReason, Route, RoutePolicy, route};
pub use service::WebhookService;
pub use settings::{MAX_BODY_BYTES, WebhookSettings, WebhookSettingsError};
pub use verify::{
    AGENT_SIGNATURE_HEADER, INTERCOM_SIGNATURE_HEADER, SignatureError, sign_for_agent, sign_intercom, verify_signature,
};
