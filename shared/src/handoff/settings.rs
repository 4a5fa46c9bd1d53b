//! The hand-off settings, read once per container from the environment.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `INTERCOM_ADMIN_ID` | unset | the AI's admin (digits); unset = the caller asks `GET /me` |
//! | `AI_TEAM_IDS` | none | team ids (digits, comma-separated) whose conversations the AI handles |
//! | `AI_RESUME_COMMAND` | `/ai resume` | note command handing a conversation back to the AI |
//! | `AI_STOP_COMMAND` | `/ai stop` | note command keeping the AI out of a conversation |
//! | `WEBHOOK_HUMAN_HANDLED` | `relay` | events of human-handled conversations: `relay` (marked) or `drop` |
//! | `REPLY_MODE` | `send` | the AI's replies: `send` to the customer, or `draft` as a note for a teammate |
//!
//! Every error names the variable and the values it accepts: it is what the operator sees when a cold start fails.

use super::command::{
    Commands, CommandsError, DEFAULT_RESUME_COMMAND, DEFAULT_STOP_COMMAND, RESUME_COMMAND_VAR, STOP_COMMAND_VAR,
};
use super::rule::OwnershipRule;

pub const ADMIN_ID_VAR: &str = "INTERCOM_ADMIN_ID";
pub const AI_TEAM_IDS_VAR: &str = "AI_TEAM_IDS";
pub const HUMAN_HANDLED_VAR: &str = "WEBHOOK_HUMAN_HANDLED";
pub const REPLY_MODE_VAR: &str = "REPLY_MODE";

/// What the webhook does with an event of a conversation a human handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HumanHandled {
    /// Relay it with its ownership; the agent stays quiet.
    #[default]
    Relay,
    /// Answer Intercom 200 and relay nothing.
    Drop,
}

/// How the AI's replies reach the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// As a reply the customer sees.
    #[default]
    Send,
    /// As an internal note a teammate reviews and sends.
    Draft,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HandoffSettings {
    /// `None`: the caller resolves the AI's admin with `GET /me`.
    pub admin_id: Option<String>,
    pub ai_team_ids: Vec<String>,
    pub commands: Commands,
    pub human_handled: HumanHandled,
    pub reply_mode: ReplyMode,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandoffSettingsError {
    #[error("{name} must not be empty when set")]
    Empty { name: &'static str },
    #[error("INTERCOM_ADMIN_ID={value:?} must be the numeric id of an Intercom admin (teammate)")]
    InvalidAdminId { value: String },
    #[error("AI_TEAM_IDS has {value:?}; list numeric Intercom team ids separated by commas, e.g. 5017691,5017692")]
    InvalidTeamId { value: String },
    #[error(transparent)]
    Commands(#[from] CommandsError),
    #[error("WEBHOOK_HUMAN_HANDLED={value:?} is not supported; use relay (default) or drop")]
    UnknownHumanHandled { value: String },
    #[error("REPLY_MODE={value:?} is not supported; use send (default) or draft")]
    UnknownReplyMode { value: String },
}

impl HandoffSettings {
    pub fn from_env() -> Result<Self, HandoffSettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, HandoffSettingsError> {
        let get = |name: &'static str| -> Result<Option<String>, HandoffSettingsError> {
            match lookup(name).map(|v| v.trim().to_owned()) {
                Some(v) if v.is_empty() => Err(HandoffSettingsError::Empty { name }),
                other => Ok(other),
            }
        };

        let admin_id = get(ADMIN_ID_VAR)?;
        if let Some(id) = &admin_id
            && !is_digits(id)
        {
            return Err(HandoffSettingsError::InvalidAdminId { value: id.clone() });
        }

        let ai_team_ids = match get(AI_TEAM_IDS_VAR)? {
            None => Vec::new(),
            Some(raw) => parse_team_ids(&raw)?,
        };

        let commands = Commands::new(
            get(RESUME_COMMAND_VAR)?.as_deref().unwrap_or(DEFAULT_RESUME_COMMAND),
            get(STOP_COMMAND_VAR)?.as_deref().unwrap_or(DEFAULT_STOP_COMMAND),
        )?;

        let human_handled = match get(HUMAN_HANDLED_VAR)? {
            None => HumanHandled::default(),
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "relay" => HumanHandled::Relay,
                "drop" => HumanHandled::Drop,
                _ => return Err(HandoffSettingsError::UnknownHumanHandled { value: raw }),
            },
        };

        let reply_mode = match get(REPLY_MODE_VAR)? {
            None => ReplyMode::default(),
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "send" => ReplyMode::Send,
                "draft" => ReplyMode::Draft,
                _ => return Err(HandoffSettingsError::UnknownReplyMode { value: raw }),
            },
        };

        Ok(HandoffSettings { admin_id, ai_team_ids, commands, human_handled, reply_mode })
    }

    /// The ownership rule for the AI's admin: `admin_id` when set, else the id `GET /me` returned.
    pub fn rule(&self, ai_admin_id: impl Into<String>) -> OwnershipRule {
        OwnershipRule::new(ai_admin_id, self.ai_team_ids.clone(), self.commands.clone())
    }
}

/// Comma-separated team ids; blanks between commas are skipped, repeats kept once.
fn parse_team_ids(raw: &str) -> Result<Vec<String>, HandoffSettingsError> {
    let mut ids: Vec<String> = Vec::new();
    for id in raw.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        if !is_digits(id) {
            return Err(HandoffSettingsError::InvalidTeamId { value: id.to_owned() });
        }
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.is_empty() {
        return Err(HandoffSettingsError::Empty { name: AI_TEAM_IDS_VAR });
    }
    Ok(ids)
}

fn is_digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::handoff::Command;

    fn settings(vars: &[(&str, &str)]) -> Result<HandoffSettings, HandoffSettingsError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        HandoffSettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s, HandoffSettings::default());
        assert_eq!(s.admin_id, None);
        assert!(s.ai_team_ids.is_empty());
        assert_eq!(s.commands.parse("<p>/ai resume</p>"), Some(Command::Resume));
        assert_eq!(s.commands.parse("<p>/ai stop</p>"), Some(Command::Stop));
        assert_eq!(s.human_handled, HumanHandled::Relay);
        assert_eq!(s.reply_mode, ReplyMode::Send);
    }

    #[test]
    fn every_variable_is_read() {
        let s = settings(&[
            ("INTERCOM_ADMIN_ID", " 814860 "),
            ("AI_TEAM_IDS", "5017691, ,5017692,5017691"),
            ("AI_RESUME_COMMAND", "#bot on"),
            ("AI_STOP_COMMAND", "#bot off"),
            ("WEBHOOK_HUMAN_HANDLED", "DROP"),
            ("REPLY_MODE", "draft"),
        ])
        .unwrap();
        assert_eq!(s.admin_id.as_deref(), Some("814860"));
        assert_eq!(s.ai_team_ids, ["5017691", "5017692"]);
        assert_eq!(s.commands.parse("<p>#bot off</p>"), Some(Command::Stop));
        assert_eq!(s.commands.parse("<p>/ai stop</p>"), None);
        assert_eq!(s.human_handled, HumanHandled::Drop);
        assert_eq!(s.reply_mode, ReplyMode::Draft);
        assert_eq!(s.rule("814860").ai_admin_id(), "814860");
    }

    #[test]
    fn errors_name_the_variable_and_what_it_accepts() {
        let cases: [(&str, &str, &str); 9] = [
            ("INTERCOM_ADMIN_ID", "sam", "INTERCOM_ADMIN_ID=\"sam\" must be the numeric id of an Intercom admin"),
            ("INTERCOM_ADMIN_ID", " ", "INTERCOM_ADMIN_ID must not be empty when set"),
            ("AI_TEAM_IDS", "5017691,billing", "AI_TEAM_IDS has \"billing\"; list numeric Intercom team ids"),
            ("AI_TEAM_IDS", "-5", "AI_TEAM_IDS has \"-5\""),
            ("AI_TEAM_IDS", ",,", "AI_TEAM_IDS must not be empty when set"),
            (
                "AI_RESUME_COMMAND",
                "/ai stop now",
                "AI_RESUME_COMMAND=\"/ai stop now\" and AI_STOP_COMMAND=\"/ai stop\"",
            ),
            ("AI_STOP_COMMAND", "", "AI_STOP_COMMAND must not be empty when set"),
            (
                "WEBHOOK_HUMAN_HANDLED",
                "skip",
                "WEBHOOK_HUMAN_HANDLED=\"skip\" is not supported; use relay (default) or drop",
            ),
            ("REPLY_MODE", "auto", "REPLY_MODE=\"auto\" is not supported; use send (default) or draft"),
        ];
        for (name, value, expected) in cases {
            let err = settings(&[(name, value)]).unwrap_err();
            assert!(err.to_string().starts_with(expected), "{name}={value:?}: {err}");
        }
    }
}
