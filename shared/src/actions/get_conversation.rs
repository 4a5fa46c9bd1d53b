//! `get-conversation`: the whole conversation as an AI reads it, in one answer.

use serde::{Deserialize, Serialize};

use crate::handoff::{Handling, HandoffSettings, Owner, Ownership, Reason};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::{Conversation, Part};
use crate::text::html_to_text;
use crate::validate::conversation_id;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetConversationRequest {
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub conversation_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationHistory {
    pub conversation_id: String,
    pub state: Option<String>,
    pub title: Option<String>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub contacts: Vec<ContactSummary>,
    pub assignee: AssigneeSummary,
    pub tags: Vec<String>,
    /// Every message and event, oldest first; the first is the message that opened the conversation.
    pub messages: Vec<HistoryMessage>,
    /// How many parts the conversation has in Intercom (the opening message not counted).
    pub total_parts: u64,
    /// Intercom returns at most the 500 most recent parts: when true, older ones are missing here.
    pub truncated: bool,
    /// Who handles the conversation now (`ai` or `human`), by the ownership rule of the hand-off loop.
    pub handling: Handling,
    /// Its owner: the assignee, or the teammate whose reply or `/ai stop` made it a human's.
    pub owner: Owner,
    /// Why, as a stable code and one sentence.
    pub handling_reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContactSummary {
    pub id: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssigneeSummary {
    pub admin_id: Option<String>,
    pub team_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct HistoryMessage {
    pub id: String,
    /// `message` for the opening message, else Intercom's part type: comment, note, assignment, close, open,
    /// snoozed, …
    pub kind: String,
    pub author: Author,
    pub text: String,
    pub created_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Author {
    /// `user`, `lead`, `admin`, `bot` or `team`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The cap Intercom applies to `conversation_parts` in one conversation read.
pub const INTERCOM_PART_CAP: usize = 500;

/// [`get_conversation_with`] under the default hand-off settings.
pub async fn get_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: GetConversationRequest,
) -> Result<ConversationHistory, ActionError> {
    get_conversation_with(helpdesk, &HandoffSettings::default(), request).await
}

/// The history, and who handles the conversation now (decided on the same read: no extra call).
pub async fn get_conversation_with<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    handoff: &HandoffSettings,
    request: GetConversationRequest,
) -> Result<ConversationHistory, ActionError> {
    let id = conversation_id(&request.conversation_id)?;
    let ai_admin_id = async {
        match &handoff.admin_id {
            Some(id) => Ok(id.clone()),
            None => helpdesk.admin_id().await,
        }
    };
    let (conversation, ai_admin_id) = tokio::join!(helpdesk.get_conversation(&id), ai_admin_id);
    let conversation = conversation?;
    let ownership = handoff.rule(ai_admin_id?).decide_whole(&conversation);
    Ok(history(conversation, ownership))
}

/// The ownership of a conversation read with `GET /conversations/{id}`. When Intercom's 500-part cap cut older
/// parts off, the newest 500 are decided as the whole history: it is all Intercom shows anyone.
fn history(conversation: Conversation, ownership: Ownership) -> ConversationHistory {
    let parts = &conversation.conversation_parts.conversation_parts;
    let returned = parts.len() as u64;
    let total_parts = conversation.conversation_parts.total_count.unwrap_or(returned).max(returned);
    let truncated = total_parts > returned;
    let source_author = conversation.source.as_ref().and_then(|s| s.author.clone()).unwrap_or_default();
    let mut messages = Vec::with_capacity(parts.len() + 1);
    if let Some(source) = &conversation.source {
        messages.push(HistoryMessage {
            id: source.id.clone().unwrap_or_default(),
            kind: "message".into(),
            author: author(source.author.as_ref()),
            text: source.body.as_deref().map(html_to_text).unwrap_or_default(),
            created_at: conversation.created_at,
        });
    }
    messages.extend(parts.iter().map(history_message));
    let truncated = keep_within_budget(&mut messages, MAX_HISTORY_TEXT_BYTES) || truncated;
    let contacts = conversation
        .contacts
        .contacts
        .iter()
        .map(|c| {
            // The contact list carries ids only; the opening message's author fills in who they are.
            let is_author = source_author.id.as_deref() == Some(c.id.as_str());
            ContactSummary {
                id: c.id.clone(),
                external_id: c.external_id.clone(),
                email: is_author.then(|| source_author.email.clone()).flatten(),
                name: is_author.then(|| source_author.name.clone()).flatten(),
            }
        })
        .collect();
    ConversationHistory {
        conversation_id: conversation.id,
        state: conversation.state,
        title: conversation.title,
        created_at: conversation.created_at,
        updated_at: conversation.updated_at,
        snoozed_until: conversation.snoozed_until,
        contacts,
        assignee: AssigneeSummary { admin_id: conversation.admin_assignee_id, team_id: conversation.team_assignee_id },
        tags: conversation.tags.tags.into_iter().map(|t| t.name).collect(),
        messages,
        total_parts,
        truncated,
        handling: ownership.handling,
        owner: ownership.owner,
        handling_reason: ownership.reason,
    }
}

/// The most message text one answer carries. A function's answer must stay under Lambda's 6 MB response limit
/// (beyond it the platform answers 502 and the agent gets nothing), and Intercom's 500 newest parts can hold
/// far more (500 notes of 20,000 characters are 10 MB). JSON escaping at most doubles ordinary text.
pub const MAX_HISTORY_TEXT_BYTES: usize = 1_000_000;

/// Keeps the opening message and the newest messages whose text fits in `budget` bytes, dropping the older ones
/// in between (the answer's `truncated` then says older messages are missing); a single newest message larger
/// than the budget is cut at a character boundary with `…`. Returns whether anything was dropped or cut.
fn keep_within_budget(messages: &mut Vec<HistoryMessage>, budget: usize) -> bool {
    let total: usize = messages.iter().map(|m| m.text.len()).sum();
    if total <= budget {
        return false;
    }
    let opening_is_source = messages.first().is_some_and(|m| m.kind == "message");
    let first_part = usize::from(opening_is_source);
    let mut left = budget.saturating_sub(if opening_is_source { messages[0].text.len().min(budget / 2) } else { 0 });
    if opening_is_source && messages[0].text.len() > budget / 2 {
        cut_text(&mut messages[0].text, budget / 2);
    }
    // Walk from the newest back while the text fits.
    let mut keep_from = messages.len();
    while keep_from > first_part {
        let len = messages[keep_from - 1].text.len();
        if len > left {
            break;
        }
        left -= len;
        keep_from -= 1;
    }
    if keep_from == messages.len() && keep_from > first_part {
        // Not even the newest fits whole: keep it, cut.
        cut_text(&mut messages[keep_from - 1].text, left);
        keep_from -= 1;
    }
    messages.drain(first_part..keep_from);
    true
}

/// Cuts `text` to at most `max` bytes at a character boundary, ending it with `…`.
fn cut_text(text: &mut String, max: usize) {
    const ELLIPSIS: &str = "…";
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(ELLIPSIS);
}

fn history_message(part: &Part) -> HistoryMessage {
    HistoryMessage {
        id: part.id.clone(),
        kind: part.part_type.clone().unwrap_or_else(|| "unknown".into()),
        author: author(part.author.as_ref()),
        text: part.body.as_deref().map(html_to_text).unwrap_or_default(),
        created_at: part.created_at,
    }
}

fn author(a: Option<&crate::intercom::models::Author>) -> Author {
    let a = a.cloned().unwrap_or_default();
    Author { kind: a.kind, id: a.id, name: a.name, email: a.email }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn message(kind: &str, id: usize, len: usize) -> HistoryMessage {
        HistoryMessage {
            id: id.to_string(),
            kind: kind.into(),
            author: author(None),
            text: "é".repeat(len / 2),
            created_at: Some(id as i64),
        }
    }

    #[test]
    fn a_history_within_the_budget_is_untouched() {
        let mut messages = vec![message("message", 0, 100), message("comment", 1, 100)];
        assert!(!keep_within_budget(&mut messages, 1_000));
        assert_eq!(messages.len(), 2);
    }

    #[test]
    fn the_opening_message_and_the_newest_that_fit_are_kept() {
        let mut messages: Vec<HistoryMessage> =
            std::iter::once(message("message", 0, 100)).chain((1..=500).map(|i| message("note", i, 20_000))).collect();
        assert!(keep_within_budget(&mut messages, MAX_HISTORY_TEXT_BYTES));
        let total: usize = messages.iter().map(|m| m.text.len()).sum();
        assert!(total <= MAX_HISTORY_TEXT_BYTES, "{total}");
        assert_eq!(messages[0].id, "0", "the opening message stays first");
        assert_eq!(messages.last().unwrap().id, "500", "the newest stays last");
        let ids: Vec<usize> = messages[1..].iter().map(|m| m.id.parse().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "a contiguous run of the newest: {ids:?}");
        assert_eq!(ids.len(), 49, "49 notes of 20,000 bytes fit beside the opening message");
    }

    #[test]
    fn a_single_message_larger_than_the_budget_is_cut_at_a_character_boundary() {
        let mut messages = vec![message("message", 0, 10), message("comment", 1, 3_000)];
        assert!(keep_within_budget(&mut messages, 1_001));
        assert_eq!(messages.len(), 2);
        let newest = &messages[1].text;
        assert!(newest.ends_with('…') && newest.len() <= 1_001 - 10, "{}", newest.len());
    }

    #[test]
    fn a_huge_opening_message_takes_at_most_half_the_budget() {
        let mut messages = vec![message("message", 0, 5_000), message("comment", 1, 100)];
        assert!(keep_within_budget(&mut messages, 1_000));
        assert!(messages[0].text.len() <= 500 && messages[0].text.ends_with('…'));
        assert_eq!(messages.len(), 2, "the newest still fits in the other half");
    }
}
