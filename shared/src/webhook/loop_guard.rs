//! Loop guard: recognising conversations that this integration itself created or escalated, so the agent is
//! not woken up by its own writes.
//!
//! The markers: the escalation flow tags every conversation it opens with [`LOOP_GUARD_TAG`], and a
//! conversation custom attribute [`ORIGIN_ATTRIBUTE`] set to [`ORIGIN_INTEGRATION`] (by the workspace's own
//! workflows or integrations; our functions do not set it) marks one too. A conversation carrying either
//! marker has origin [`Origin::Integration`]. `WEBHOOK_LOOP_GUARD` says what to do with such events: `flag`
//! (default) relays them with `"origin": "integration"`, `drop` answers 200 without relaying.
//!
//! The tag is applied by a request after the conversation is created, so the very first
//! `conversation.user.created` of a conversation `escalate` opens may arrive before the marker exists: the
//! webhook service then asks the contact's escalation record ([`super::escalated`]). Conversations opened by
//! `create-conversation` carry no marker at all: the agent recognises those by the `conversationId` our
//! functions returned (README, "Loop guard").

use serde::Serialize;
use serde_json::Value;

use super::event::Conversation;

/// Tag the escalation flow applies to the conversations it opens.
pub const LOOP_GUARD_TAG: &str = "ai-escalation";
/// Conversation custom attribute our create/escalate functions set on what they create.
pub const ORIGIN_ATTRIBUTE: &str = "ai_origin";
/// The value they set it to.
pub const ORIGIN_INTEGRATION: &str = "integration";
/// Environment variable choosing [`LoopGuardMode`].
pub const LOOP_GUARD_ENV: &str = "WEBHOOK_LOOP_GUARD";

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A customer (user, lead or contact) did something in Intercom.
    Customer,
    /// The conversation carries one of this integration's markers.
    Integration,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Customer => "customer",
            Origin::Integration => "integration",
        }
    }
}

/// What to do with events of origin [`Origin::Integration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoopGuardMode {
    /// Relay them, marked `"origin": "integration"`; the agent decides.
    #[default]
    Flag,
    /// Do not relay them; answer Intercom 200.
    Drop,
}

/// A `WEBHOOK_LOOP_GUARD` value that is neither `flag` nor `drop`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WEBHOOK_LOOP_GUARD={value:?} is not supported; use flag (default) or drop")]
pub struct UnknownLoopGuardMode {
    pub value: String,
}

impl std::str::FromStr for LoopGuardMode {
    type Err = UnknownLoopGuardMode;

    /// `flag` or `drop`, any case.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "flag" => Ok(Self::Flag),
            "drop" => Ok(Self::Drop),
            _ => Err(UnknownLoopGuardMode { value: value.to_string() }),
        }
    }
}

/// The markers that identify this integration's own conversations. `None` turns a marker off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopGuard {
    /// A tag name (compared ignoring case and surrounding space).
    pub marker_tag: Option<String>,
    /// A conversation custom attribute that counts when set to anything but null, `false` or an empty string.
    pub marker_attribute: Option<String>,
}

impl Default for LoopGuard {
    /// The markers our own functions write: tag [`LOOP_GUARD_TAG`], attribute [`ORIGIN_ATTRIBUTE`].
    fn default() -> Self {
        LoopGuard { marker_tag: Some(LOOP_GUARD_TAG.to_string()), marker_attribute: Some(ORIGIN_ATTRIBUTE.to_string()) }
    }
}

impl LoopGuard {
    /// Recognises nothing: every event is from the customer.
    pub fn disabled() -> Self {
        LoopGuard { marker_tag: None, marker_attribute: None }
    }

    /// The origin of an event about `conversation`. Pure: looks only at the conversation's tags and custom
    /// attributes.
    pub fn origin_of(&self, conversation: &Conversation) -> Origin {
        let tagged = self
            .marker_tag
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .is_some_and(|marker| conversation.tag_names().any(|name| name.trim().eq_ignore_ascii_case(marker)));
        let attributed = self
            .marker_attribute
            .as_deref()
            .and_then(|name| conversation.custom_attributes.get(name))
            .is_some_and(is_set);
        if tagged || attributed { Origin::Integration } else { Origin::Customer }
    }
}

fn is_set(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::webhook::event::Tag;

    fn conversation(tags: &[&str], attributes: Value) -> Conversation {
        Conversation {
            id: "1".into(),
            tags: tags.iter().map(|name| Tag { id: None, name: name.to_string() }).collect(),
            custom_attributes: attributes.as_object().cloned().unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn plain_conversations_are_from_the_customer() {
        let guard = LoopGuard::default();
        assert_eq!(guard.origin_of(&conversation(&[], json!({}))), Origin::Customer);
        assert_eq!(guard.origin_of(&conversation(&["vip"], json!({"Plan": "pro"}))), Origin::Customer);
    }

    #[test]
    fn the_escalation_tag_marks_our_conversations() {
        let guard = LoopGuard::default();
        assert_eq!(guard.origin_of(&conversation(&["vip", "ai-escalation"], json!({}))), Origin::Integration);
        assert_eq!(guard.origin_of(&conversation(&[" AI-Escalation "], json!({}))), Origin::Integration);
    }

    #[test]
    fn the_origin_attribute_marks_our_conversations_when_set() {
        let guard = LoopGuard::default();
        assert_eq!(guard.origin_of(&conversation(&[], json!({"ai_origin": "integration"}))), Origin::Integration);
        assert_eq!(guard.origin_of(&conversation(&[], json!({"ai_origin": true}))), Origin::Integration);
        for unset in [json!({"ai_origin": null}), json!({"ai_origin": ""}), json!({"ai_origin": false})] {
            assert_eq!(guard.origin_of(&conversation(&[], unset)), Origin::Customer);
        }
    }

    #[test]
    fn markers_can_be_changed_or_turned_off() {
        let marked = conversation(&["ai-escalation"], json!({"ai_origin": "integration"}));
        assert_eq!(LoopGuard::disabled().origin_of(&marked), Origin::Customer);
        let custom = LoopGuard { marker_tag: Some("bot-made".into()), marker_attribute: None };
        assert_eq!(custom.origin_of(&marked), Origin::Customer);
        assert_eq!(custom.origin_of(&conversation(&["bot-made"], json!({}))), Origin::Integration);
    }

    #[test]
    fn mode_parses_flag_and_drop() {
        assert_eq!("flag".parse::<LoopGuardMode>(), Ok(LoopGuardMode::Flag));
        assert_eq!(" DROP ".parse::<LoopGuardMode>(), Ok(LoopGuardMode::Drop));
        let err = "ignore".parse::<LoopGuardMode>().unwrap_err().to_string();
        assert!(err.contains("WEBHOOK_LOOP_GUARD") && err.contains("flag (default) or drop"), "{err}");
        assert_eq!(LoopGuardMode::default(), LoopGuardMode::Flag);
    }
}
