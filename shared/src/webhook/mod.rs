//! Intercom webhooks: signature verification, parsing, and the event relayed to the agent.
//!
//! A delivery goes through, in order: [`verify_signature`] on the raw bytes, [`parse_notification`] for the
//! envelope, [`route()`] (ping / ignore / relay, with the [`LoopGuard`]), a [`RecentNotifications`] check for
//! repeats, then [`AgentClient::send`], and only after the agent accepted it
//! [`RecentNotifications::mark_relayed`]. [`WebhookService::handle`] runs that whole sequence.

pub mod agent;
pub mod dedupe;
pub mod escalated;
pub mod event;
pub mod fixtures;
pub mod loop_guard;
pub mod relay;
pub mod route;
pub mod service;
pub mod settings;
pub mod verify;

pub use agent::{AgentClient, AgentRelayError, IDEMPOTENCY_KEY_HEADER};
pub use dedupe::RecentNotifications;
pub use escalated::EscalationCheck;
pub use event::{
    Conversation, Notification, ParseError, TOPIC_PING, TOPIC_USER_CREATED, TOPIC_USER_REPLIED, parse_notification,
};
pub use loop_guard::{LOOP_GUARD_TAG, LoopGuard, LoopGuardMode, ORIGIN_ATTRIBUTE, ORIGIN_INTEGRATION, Origin};
pub use relay::{RelayEvent, build_relay_event};
pub use route::{DEFAULT_RELAYED_TOPICS, IgnoreReason, Route, RoutePolicy, route};
pub use service::{Delivered, DeliveryError, WebhookKeys, WebhookService};
pub use settings::{MAX_BODY_BYTES, WebhookSettings, WebhookSettingsError};
pub use verify::{
    AGENT_SIGNATURE_HEADER, INTERCOM_SIGNATURE_HEADER, SignatureError, sign_for_agent, sign_intercom, verify_signature,
};
