//! The escalation's settings, read once per container: the rules' policy, the routing and the away reply.

use super::routing::{Routing, RoutingError};
use super::rules::{CATEGORIES_VAR, EscalationPolicy, PolicyError, THRESHOLD_VAR};

/// The text posted to the customer, as the AI, when nobody who could take the hand-off is available.
pub const AWAY_REPLY_VAR: &str = "ESCALATION_AWAY_REPLY";

/// Everything `escalate` reads from the environment, once per container.
#[derive(Debug, Clone, Default)]
pub struct EscalationSettings {
    pub policy: EscalationPolicy,
    pub routing: Routing,
    /// `ESCALATION_AWAY_REPLY`: posted to the customer when `humansAvailable` is false; unset = nothing posted.
    pub away_reply: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Routing(#[from] RoutingError),
    #[error("ESCALATION_AWAY_REPLY must not be empty when set; unset it to post no away reply")]
    EmptyAwayReply,
}

impl EscalationSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        Ok(EscalationSettings {
            policy: EscalationPolicy::from_settings(var(THRESHOLD_VAR).as_deref(), var(CATEGORIES_VAR).as_deref())?,
            routing: Routing::parse(var("ESCALATION_ROUTING").as_deref())?,
            away_reply: match var(AWAY_REPLY_VAR).map(|text| text.trim().to_owned()) {
                Some(text) if text.is_empty() => return Err(SettingsError::EmptyAwayReply),
                other => other,
            },
        })
    }
}
