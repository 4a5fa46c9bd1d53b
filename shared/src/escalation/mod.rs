//! Escalation: the pure rules (`rules`, `human_request`) and the hand-off flow.

pub mod availability;
pub mod flow;
pub mod human_request;
pub mod office_hours;
pub mod rules;

pub use human_request::asks_for_human;
pub use rules::{
    CATEGORIES_VAR, Decision, EscalationPolicy, ParseReasonError, PolicyError, Reason, RuleError, Signals,
    THRESHOLD_VAR, decide, normalize_category,
};
