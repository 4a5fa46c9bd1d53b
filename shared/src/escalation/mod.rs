//! Escalation, the pure parts: the rules (`rules`, with the phrase matcher `human_request`), the routing, the
//! settings, and the note left for the human. The action that does the hand-off is [`crate::actions::escalate()`].

pub mod availability;
pub mod human_request;
pub mod note;
pub mod office_hours;
pub mod routing;
pub mod rules;
pub mod settings;

pub use human_request::asks_for_human;
pub use routing::{Routing, RoutingError, humans_available};
pub use rules::{
    CATEGORIES_VAR, Decision, EscalationPolicy, ParseReasonError, PolicyError, Reason, RuleError, Signals,
    THRESHOLD_VAR, decide, normalize_category,
};
pub use settings::{AWAY_REPLY_VAR, EscalationSettings, SettingsError};

/// Tag put on every conversation `escalate` opens (the hand-off rule and the webhook's loop guard recognise it).
pub const ESCALATION_TAG: &str = "ai-escalation";
