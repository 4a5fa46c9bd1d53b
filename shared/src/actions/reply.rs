//! `reply-to-conversation`: a reply as the AI's admin (or another admin), or an internal note.

use serde::{Deserialize, Serialize};

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
}

pub async fn reply_to_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: ReplyRequest,
) -> Result<ReplyResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let body = message_body("body", &request.body)?;
    let admin_id = match request.admin_id {
        Some(id) => numeric_id("adminId", &id)?,
        None => helpdesk.admin_id().await?,
    };
    let kind = MessageKind::from(request.message_type);
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
    Ok(ReplyResponse { conversation_id, message_type: request.message_type, part_id, state: conversation.state })
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
