//! `reply-to-conversation`: a reply as the AI's admin (or another admin), or an internal note.

use serde::{Deserialize, Serialize};

use crate::handoff::{Handling, HandoffSettings, ReplyMode};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::MessageKind;
use crate::intercom::conversations::contains_reply;
use crate::intercom::models::Conversation;
use crate::validate::{conversation_id, message_body, numeric_id};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    #[default]
    Comment,
    Note,
}

impl From<MessageType> for MessageKind {
    fn from(t: MessageType) -> Self {
        match t {
            MessageType::Comment => MessageKind::Comment,
            MessageType::Note => MessageKind::Note,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyRequest {
    pub conversation_id: String,
    pub body: String,
    /// `comment` (default, the customer sees it) or `note` (internal).
    #[serde(default)]
    pub message_type: MessageType,
    /// Reply as this admin instead of the configured AI admin.
    #[serde(default)]
    pub admin_id: Option<String>,
    /// Send the comment although a human handles the conversation (409 `human_handles_conversation` otherwise):
    /// only when a teammate asked the AI to answer.
    #[serde(default)]
    pub force: bool,
    /// Post the comment as an internal note marked as the AI's draft, for a teammate to review and send
    /// (always so when the deployment sets `REPLY_MODE=draft`).
    #[serde(default)]
    pub draft: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplyResponse {
    pub conversation_id: String,
    pub message_type: MessageType,
    /// The id of the new conversation part, when Intercom's answer shows it.
    pub part_id: Option<String>,
    pub state: Option<String>,
    /// True when the comment was posted as the AI's draft (an internal note, `messageType` `note`).
    pub draft: bool,
}

/// [`reply_to_conversation_with`] under the default hand-off settings.
pub async fn reply_to_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: ReplyRequest,
) -> Result<ReplyResponse, ActionError> {
    reply_to_conversation_with(helpdesk, &HandoffSettings::default(), request).await
}

/// Replies, unless the AI would talk over a human: a comment as the AI in a conversation a human handles is
/// refused (409) without `force`; drafts and notes always go through.
pub async fn reply_to_conversation_with<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    handoff: &HandoffSettings,
    request: ReplyRequest,
) -> Result<ReplyResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let body = message_body("body", &request.body)?;
    let admin_id = match request.admin_id {
        Some(id) => numeric_id("adminId", &id)?,
        None => helpdesk.admin_id().await?,
    };
    let draft =
        request.message_type == MessageType::Comment && (request.draft || handoff.reply_mode == ReplyMode::Draft);
    let (message_type, body) =
        if draft { (MessageType::Note, draft_note(&body)) } else { (request.message_type, body) };
    if message_type == MessageType::Comment && !request.force {
        ensure_the_ai_may_reply(helpdesk, handoff, &conversation_id, &admin_id).await?;
    }
    let kind = MessageKind::from(message_type);
    let conversation = match already_posted(helpdesk, &conversation_id, kind, &admin_id, &body).await? {
        Some(conversation) => conversation,
        None => helpdesk.reply(&conversation_id, kind, &admin_id, &body).await?,
    };
    let part_id = conversation
        .conversation_parts
        .conversation_parts
        .iter()
        .rev()
        .find(|p| p.part_type.as_deref() == Some(kind.as_str()))
        .map(|p| p.id.clone());
    Ok(ReplyResponse { conversation_id, message_type, part_id, state: conversation.state, draft })
}

/// Marks the AI's comment as a draft a teammate reviews and sends.
pub const DRAFT_PREFIX: &str = "AI draft — review and send:";

fn draft_note(body: &str) -> String {
    format!("<p><b>{DRAFT_PREFIX}</b></p>{body}")
}

/// The gate: one conversation read, then the ownership rule. A reply as another admin is that teammate's, not
/// the AI's, and is not gated.
async fn ensure_the_ai_may_reply<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    handoff: &HandoffSettings,
    conversation_id: &str,
    admin_id: &str,
) -> Result<(), ActionError> {
    let ai_admin_id = match &handoff.admin_id {
        Some(id) => id.clone(),
        None => helpdesk.admin_id().await?,
    };
    if admin_id != ai_admin_id {
        return Ok(());
    }
    let conversation = helpdesk.get_conversation(conversation_id).await?;
    let ownership = super::get_conversation::current_ownership(&handoff.rule(ai_admin_id), &conversation);
    if ownership.handling == Handling::Ai {
        return Ok(());
    }
    tracing::info!(conversation_id, reason = ownership.reason.code.as_str(), "refused: a human handles it");
    Err(ActionError::HumanHandlesConversation {
        message: format!(
            "a human handles this conversation ({}); leave a note (messageType note) or a draft (draft true) \
             instead, or send force true only if a teammate asked the AI to answer",
            ownership.reason.message
        ),
        owner: ownership.owner,
    })
}

/// On the retry of an idempotency key whose first attempt's outcome was unknown: the conversation, when that
/// attempt's reply is in it (so it is not posted again).
async fn already_posted<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    conversation_id: &str,
    kind: MessageKind,
    admin_id: &str,
    body: &str,
) -> Result<Option<Conversation>, ActionError> {
    let Some(since) = crate::idempotency::previous_attempt_since() else { return Ok(None) };
    let conversation = helpdesk.get_conversation(conversation_id).await?;
    if contains_reply(&conversation, kind, admin_id, body, since) {
        tracing::info!(conversation_id, "the lost attempt's reply is there; not posting it again");
        return Ok(Some(conversation));
    }
    Ok(None)
}
