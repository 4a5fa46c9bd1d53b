//! Who handles a conversation now, the AI or a human: a pure decision over the conversation itself (as a webhook
//! delivers it or `GET /conversations/{id}` returns it) plus what the caller remembers. No I/O.
//!
//! **The rule** ([`OwnershipRule::decide`]), first match wins:
//!
//! 1. *Closed* and the caller passes the owner it saw before → that owner is kept ([`ReasonCode::Closed`]):
//!    closing is not a hand-over, and reopening decides afresh. Without a previous owner a closed conversation is
//!    decided like an open one (Intercom keeps the assignees on close). Snoozed counts as open.
//! 2. *Assigned to an admin other than the AI's* → **human**. The admin assignee decides.
//! 3. *No admin assignee, assigned to a team* not in `AI_TEAM_IDS` → **human**. A team counts only when no admin
//!    is assigned; the teams in `AI_TEAM_IDS` (workspaces whose rules route new conversations to a team inbox
//!    the AI serves) count as the AI's.
//! 4. *Paused* → **human**: the latest `/ai stop` or `/ai resume` note in the conversation says so; when the
//!    conversation shows neither, the caller's `paused` flag does.
//! 5. *A teammate replied to the customer after the AI's last message* (and after the last `/ai resume`) →
//!    **human**, even when the AI's admin is the assignee: the AI must not talk over a person.
//! 6. *Assigned to the AI's admin* → **ai**. Assigning to the AI is explicit, so it overrides an earlier hand-off.
//! 7. *Handed off* — tagged `ai-escalation` (every conversation `escalate` opens) or the caller's `handed_off`
//!    flag — and no `/ai resume` since → **human**.
//! 8. Otherwise → **ai** (assigned to an AI team, or unassigned and never handed off).
//!
//! **Who counts as whom.** A *teammate* is an `admin` author other than the AI's admin and not Intercom's own AI
//! (`from_ai_agent` / `is_ai_answer`, i.e. Fin). Bots (Operator, Fin, workflows), `team` authors (campaigns sent
//! on a team's behalf) and unknown author types are automation: they never hand a conversation over. Contacts
//! (`user`, `lead`, `contact`) are the customer.
//!
//! **Only customer-visible messages take over or hand back**: `comment`, `quick_reply`, and an assignment that
//! carries a reply body. A teammate's internal *note* does not: notes are how teammates annotate a conversation
//! the AI is handling ("checked Stripe: two charges"), and the customer never sees them, so nobody has taken the
//! conversation away from the AI. A teammate who wants it says so by replying, assigning it, or `/ai stop`.
//! Likewise the AI's own notes (the escalation note) neither hand over nor take back; its assignments, closes and
//! other state changes are not messages either.
//!
//! **Commands** ([`Commands`]) are the first words of an internal note written by a teammate: `/ai stop` pauses
//! the AI, `/ai resume` hands the conversation back (clearing the pause, the hand-off and earlier teammate
//! replies; not an assignment to a person or a team, which the caller or the teammate changes). Compared on the
//! note's text, case-insensitively: `/ai resume please` counts, `please /ai resume` does not. A customer's
//! message or the AI's escalation note (which quotes the customer) can never carry one.
//!
//! **Partial deliveries.** A webhook delivery carries only the newest parts. When those do not settle the rule
//! (nothing in them shows whether a teammate replied after the AI, or whether a hand-off was resumed) the answer
//! is [`Decision::NeedsFullConversation`]: read the conversation and decide again with [`History::Full`].
//! [`History::for_topic`] says which deliveries are whole (`conversation.user.created`). Decisive facts need no
//! read: an assignment to a person or team, a teammate's reply or `/ai stop` among the parts, the caller's flags.
//!
//! **Transitions** ([`transition`]): compare with the handling the caller stored last, to fire once per change.

mod command;
mod rule;
mod settings;

use serde::{Deserialize, Serialize};

pub use command::{
    Command, Commands, CommandsError, DEFAULT_RESUME_COMMAND, DEFAULT_STOP_COMMAND, RESUME_COMMAND_VAR,
    STOP_COMMAND_VAR,
};
pub use rule::{Context, Decision, History, OwnershipRule};
pub use settings::{
    ADMIN_ID_VAR, AI_TEAM_IDS_VAR, HUMAN_HANDLED_VAR, HandoffSettings, HandoffSettingsError, HumanHandled,
    REPLY_MODE_VAR, ReplyMode,
};

/// Who acts on the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Handling {
    Ai,
    Human,
}

/// What kind of owner a conversation has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OwnerKind {
    Admin,
    Team,
    Nobody,
}

/// Who owns the conversation: its assignee, or the teammate whose message or command made it human's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// `admin`, `team` or `nobody`.
    #[serde(rename = "type")]
    pub kind: OwnerKind,
    /// The Intercom admin or team id; null for `nobody`.
    pub id: Option<String>,
    /// The admin's name when the conversation shows it (teams' names are not in a conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Owner {
    pub fn admin(id: impl Into<String>, name: Option<String>) -> Self {
        Owner { kind: OwnerKind::Admin, id: Some(id.into()), name }
    }

    pub fn team(id: impl Into<String>) -> Self {
        Owner { kind: OwnerKind::Team, id: Some(id.into()), name: None }
    }

    pub fn nobody() -> Self {
        Owner { kind: OwnerKind::Nobody, id: None, name: None }
    }
}

/// Why a conversation is the AI's or a human's: stable codes to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// ai: the AI's admin is the assignee.
    AssignedToAi,
    /// ai: no admin assignee; the team is one the AI serves (`AI_TEAM_IDS`).
    AssignedToAiTeam,
    /// ai: nobody assigned and never handed off.
    Unassigned,
    /// ai: a teammate's `/ai resume` note handed it back.
    Resumed,
    /// human: another admin is the assignee.
    AssignedToTeammate,
    /// human: no admin assignee; a team the AI does not serve is.
    AssignedToTeam,
    /// human: a teammate's `/ai stop` (or the caller's `paused` flag).
    Paused,
    /// human: a teammate replied to the customer after the AI's last message.
    TeammateReplied,
    /// human: tagged `ai-escalation` or flagged handed off by the caller.
    HandedOff,
    /// either: closed, so it keeps the owner the caller saw before.
    Closed,
}

impl ReasonCode {
    /// The code as serialized (`assigned_to_ai`, …), for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::AssignedToAi => "assigned_to_ai",
            ReasonCode::AssignedToAiTeam => "assigned_to_ai_team",
            ReasonCode::Unassigned => "unassigned",
            ReasonCode::Resumed => "resumed",
            ReasonCode::AssignedToTeammate => "assigned_to_teammate",
            ReasonCode::AssignedToTeam => "assigned_to_team",
            ReasonCode::Paused => "paused",
            ReasonCode::TeammateReplied => "teammate_replied",
            ReasonCode::HandedOff => "handed_off",
            ReasonCode::Closed => "closed",
        }
    }
}

/// A stable code and one sentence for people. The sentence names admins and teams, never customer text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

/// The decision for the agent: `{"handling":"human","owner":{"type":"admin","id":"991267","name":"Sam"},
/// "reason":{"code":"teammate_replied","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Ownership {
    pub handling: Handling,
    pub owner: Owner,
    pub reason: Reason,
}

/// A change of hands, to announce once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Handoff {
    HumanTookOver,
    ReturnedToAi,
}

/// The hand-over between the handling the caller stored last and the current one, if any. The first sighting
/// (`previous` is `None`) is a baseline, not a transition: nobody handed anything over.
pub fn transition(previous: Option<Handling>, current: Handling) -> Option<Handoff> {
    match (previous?, current) {
        (Handling::Ai, Handling::Human) => Some(Handoff::HumanTookOver),
        (Handling::Human, Handling::Ai) => Some(Handoff::ReturnedToAi),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn transitions_fire_only_on_a_change_of_hands() {
        let cases = [
            (None, Handling::Ai, None),
            (None, Handling::Human, None),
            (Some(Handling::Ai), Handling::Ai, None),
            (Some(Handling::Human), Handling::Human, None),
            (Some(Handling::Ai), Handling::Human, Some(Handoff::HumanTookOver)),
            (Some(Handling::Human), Handling::Ai, Some(Handoff::ReturnedToAi)),
        ];
        for (previous, current, expected) in cases {
            assert_eq!(transition(previous, current), expected, "{previous:?} -> {current:?}");
        }
    }

    #[test]
    fn handoffs_serialize_as_snake_case() {
        assert_eq!(serde_json::to_value(Handoff::HumanTookOver).unwrap(), json!("human_took_over"));
        assert_eq!(serde_json::to_value(Handoff::ReturnedToAi).unwrap(), json!("returned_to_ai"));
    }

    #[test]
    fn ownership_serializes_as_camel_case_json_and_reads_back() {
        let ownership = Ownership {
            handling: Handling::Human,
            owner: Owner::admin("991267", Some("Sam Support".into())),
            reason: Reason { code: ReasonCode::TeammateReplied, message: "m".into() },
        };
        let value = serde_json::to_value(&ownership).unwrap();
        assert_eq!(
            value,
            json!({"handling":"human","owner":{"type":"admin","id":"991267","name":"Sam Support"},
                   "reason":{"code":"teammate_replied","message":"m"}})
        );
        assert_eq!(serde_json::from_value::<Ownership>(value).unwrap(), ownership);
        assert_eq!(serde_json::to_value(Owner::nobody()).unwrap(), json!({"type":"nobody","id":null}));
        assert_eq!(serde_json::to_value(Owner::team("7")).unwrap(), json!({"type":"team","id":"7"}));
    }

    #[test]
    fn reason_codes_as_str_match_their_json() {
        let all = [
            ReasonCode::AssignedToAi,
            ReasonCode::AssignedToAiTeam,
            ReasonCode::Unassigned,
            ReasonCode::Resumed,
            ReasonCode::AssignedToTeammate,
            ReasonCode::AssignedToTeam,
            ReasonCode::Paused,
            ReasonCode::TeammateReplied,
            ReasonCode::HandedOff,
            ReasonCode::Closed,
        ];
        for code in all {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }
}
