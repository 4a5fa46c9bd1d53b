//! `reply-to-conversation`: a reply as the AI's admin (or another admin), or an internal note.

use serde::{Deserialize, Serialize};

use crate::format::{BodyFormat, to_intercom_html};
use crate::handoff::{Handling, HandoffSettings, ReplyMode};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::idempotency::Attempt;
use crate::intercom::conversations::contains_reply;
use crate::intercom::models::{Conversation, QuickReplyOption};
use crate::intercom::{AdminMessage, IntercomError, MessageKind};
use crate::validate::{attachment_urls, conversation_id, message_body, numeric_id, quick_reply_options};

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
#[cfg_attr(feature = "schema", schemars(transform = options_are_for_comments))]
pub struct ReplyRequest {
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub conversation_id: String,
    /// Markdown by default: `**bold**`, `*italic*`, `[links](https://…)`, lists, `code`, headings.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_MESSAGE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub body: String,
    /// How `body` is written: `markdown`, `text` (shown as typed) or `html` (reduced to what Intercom renders).
    /// Default: the deployment's `BODY_FORMAT` (markdown unless set).
    #[serde(default)]
    pub body_format: Option<BodyFormat>,
    /// `comment` (default, the customer sees it) or `note` (internal).
    #[serde(default)]
    pub message_type: MessageType,
    /// Reply as this admin instead of the configured AI admin.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub admin_id: Option<String>,
    /// Quick-reply buttons (2–10 labels, each ≤ 255 characters; comments only): `body` is posted, then the
    /// buttons under it. The customer's pick reaches the webhook as `message.quickReply`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 2, max = 10), inner(length(min = 1, max = crate::validate::MAX_QUICK_REPLY_OPTION_CHARS), regex(pattern = crate::validate::schema::TRIMMED))))]
    #[cfg_attr(feature = "schema", schemars(extend("uniqueItems" = true)))]
    pub options: Option<Vec<String>>,
    /// Files to show with the message: up to 10 https URLs Intercom can fetch.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_ATTACHMENTS), inner(length(max = crate::validate::schema::MAX_URL_BYTES), regex(pattern = crate::validate::schema::HTTPS_URL))))]
    pub attachment_urls: Option<Vec<String>>,
    /// Send the comment although a human handles the conversation (409 `human_handles_conversation` otherwise):
    /// only when a teammate asked the AI to answer.
    #[serde(default)]
    pub force: bool,
    /// Post the comment as an internal note marked as the AI's draft, for a teammate to review and send
    /// (always so when the deployment sets `REPLY_MODE=draft`).
    #[serde(default)]
    pub draft: bool,
}

/// Quick-reply options go with comments: a note with options is refused.
#[cfg(feature = "schema")]
fn options_are_for_comments(schema: &mut schemars::Schema) {
    let note_with_options = serde_json::json!({
        "required": ["messageType", "options"],
        "properties": {"messageType": {"const": "note"}, "options": {"type": "array"}}
    });
    schema.insert("not".into(), note_with_options);
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
    /// The quick reply's buttons, as the customer's pick will name them (`optionId`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ReplyOption>,
    /// True when the comment was posted as the AI's draft (an internal note, `messageType` `note`).
    pub draft: bool,
}

/// One quick-reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplyOption {
    pub text: String,
    pub option_id: String,
}

/// [`reply_respecting_handoff`] under the default hand-off settings, as a first attempt.
pub async fn reply_to_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: ReplyRequest,
) -> Result<ReplyResponse, ActionError> {
    reply_respecting_handoff(helpdesk, &HandoffSettings::default(), request, Attempt::FIRST).await
}

/// Replies, unless the AI would talk over a human: a comment as the AI in a conversation a human handles is
/// refused (409) without `force`; drafts and notes always go through; `REPLY_MODE=draft` makes comments drafts.
/// The retry of a lost `attempt` first looks for the reply that attempt may have posted.
pub async fn reply_respecting_handoff<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    handoff: &HandoffSettings,
    request: ReplyRequest,
    attempt: Attempt,
) -> Result<ReplyResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let body = message_body("body", &request.body)?;
    let outgoing = outgoing(&request, &body)?;
    let chosen = request.admin_id.is_some();
    let admin_id = match request.admin_id {
        Some(id) => numeric_id("adminId", &id)?,
        None => helpdesk.admin_id().await?,
    };
    let draft =
        request.message_type == MessageType::Comment && (request.draft || handoff.reply_mode == ReplyMode::Draft);
    let message_type = if draft { MessageType::Note } else { request.message_type };
    let outgoing = if draft { outgoing.into_draft() } else { outgoing };
    if message_type == MessageType::Comment && !request.force {
        ensure_the_ai_may_reply(helpdesk, handoff, &conversation_id, &admin_id).await?;
    }
    let kind = MessageKind::from(message_type);
    let (conversation, kind, options) = post(helpdesk, &conversation_id, kind, &admin_id, outgoing, attempt)
        .await
        .map_err(|e| unknown_admin(e, chosen.then_some(admin_id.as_str())))?;
    let part_id = conversation
        .conversation_parts
        .conversation_parts
        .iter()
        .rev()
        .find(|p| p.part_type.as_deref() == Some(kind.as_str()))
        .map(|p| p.id.clone());
    Ok(ReplyResponse { conversation_id, message_type, part_id, state: conversation.state, options, draft })
}

/// Intercom's 404 `admin_not_found` to a reply as the agent's `adminId` names that field: the agent chose an
/// admin the workspace does not have. With the configured AI admin the generic 404 stands.
fn unknown_admin(e: PostError, chosen: Option<&str>) -> ActionError {
    match (e, chosen) {
        (PostError::Intercom(IntercomError::Api { status: 404, code, request_id, .. }), Some(admin_id))
            if code == "admin_not_found" =>
        {
            ActionError::NotFound {
                field: Some("adminId".into()),
                message: format!(
                    "Intercom has no admin with id {admin_id}; pass a teammate's admin id (get-conversation shows \
                     assignees' ids), or leave adminId out to reply as the AI's admin"
                ),
                intercom_request_id: request_id,
            }
        }
        (PostError::Intercom(e), _) => e.into(),
        (PostError::Action(e), _) => e,
    }
}

/// A failed post: Intercom's answer kept whole until [`unknown_admin`] reads it.
enum PostError {
    Intercom(IntercomError),
    Action(ActionError),
}

impl From<ActionError> for PostError {
    fn from(e: ActionError) -> Self {
        PostError::Action(e)
    }
}

impl From<IntercomError> for PostError {
    fn from(e: IntercomError) -> Self {
        PostError::Intercom(e)
    }
}

/// Marks the AI's comment as a draft a teammate reviews and sends.
pub const DRAFT_PREFIX: &str = "AI draft — review and send:";

fn draft_note(body_html: &str) -> String {
    format!("<p><b>{DRAFT_PREFIX}</b></p>{body_html}")
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
    let ownership = handoff.rule(ai_admin_id).decide_whole(&conversation);
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
    message: &AdminMessage,
    attempt: Attempt,
) -> Result<Option<Conversation>, ActionError> {
    let Some(since) = attempt.lost_since else { return Ok(None) };
    let conversation = helpdesk.get_conversation(conversation_id).await?;
    if contains_reply(&conversation, kind, admin_id, message, since).is_some() {
        tracing::info!(conversation_id, "the lost attempt's reply is there; not posting it again");
        return Ok(Some(conversation));
    }
    Ok(None)
}

/// What the request asks to post: the message (body as Intercom HTML, attachments) and the quick-reply labels.
struct Outgoing {
    message: AdminMessage,
    options: Option<Vec<String>>,
}

impl Outgoing {
    /// The same message as the AI's draft: a marked note, with any quick-reply labels listed for the teammate.
    fn into_draft(self) -> Outgoing {
        let mut html = self.message.body.clone().unwrap_or_default();
        if let Some(labels) = &self.options {
            let items: String =
                labels.iter().map(|l| format!("<li>{}</li>", to_intercom_html(l, BodyFormat::Text))).collect();
            html.push_str(&format!("<p>Suggested quick replies:</p><ul>{items}</ul>"));
        }
        Outgoing { message: AdminMessage { body: Some(draft_note(&html)), ..self.message }, options: None }
    }
}

fn outgoing(request: &ReplyRequest, body: &str) -> Result<Outgoing, ActionError> {
    let format = request.body_format.unwrap_or_else(crate::config::default_body_format);
    let options = request.options.clone().map(|o| quick_reply_options("options", o)).transpose()?;
    if options.is_some() && request.message_type == MessageType::Note {
        return Err(ActionError::bad_request("options", "options (quick replies) are for comments, not notes"));
    }
    let attachment_urls = attachment_urls("attachmentUrls", request.attachment_urls.clone().unwrap_or_default())?;
    let message =
        AdminMessage { body: Some(to_intercom_html(body, format)), attachment_urls, ..AdminMessage::default() };
    Ok(Outgoing { message, options })
}

/// Posts the message once (see [`already_posted`]); with options, then the quick reply under it, each button
/// with a fresh UUID. Returns the last answer, the kind of its part, and the buttons as Intercom holds them.
async fn post<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    conversation_id: &str,
    kind: MessageKind,
    admin_id: &str,
    outgoing: Outgoing,
    attempt: Attempt,
) -> Result<(Conversation, MessageKind, Vec<ReplyOption>), PostError> {
    let conversation = post_once(helpdesk, conversation_id, kind, admin_id, &outgoing.message, attempt).await?;
    let Some(labels) = outgoing.options else { return Ok((conversation, kind, Vec::new())) };
    let reply_options = labels.into_iter().map(|text| QuickReplyOption { text, uuid: uuid_v4() }).collect();
    let quick = AdminMessage { reply_options, ..AdminMessage::default() };
    let conversation = post_once(helpdesk, conversation_id, MessageKind::QuickReply, admin_id, &quick, attempt).await?;
    // A quick reply found already posted keeps the UUIDs it was posted with.
    let posted = contains_reply(&conversation, MessageKind::QuickReply, admin_id, &quick, i64::MIN)
        .map(|part| part.metadata.quick_reply_options.clone())
        .filter(|options| !options.is_empty())
        .unwrap_or(quick.reply_options);
    let options = posted.into_iter().map(|o| ReplyOption { text: o.text, option_id: o.uuid }).collect();
    Ok((conversation, MessageKind::QuickReply, options))
}

async fn post_once<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    conversation_id: &str,
    kind: MessageKind,
    admin_id: &str,
    message: &AdminMessage,
    attempt: Attempt,
) -> Result<Conversation, PostError> {
    Ok(match already_posted(helpdesk, conversation_id, kind, admin_id, message, attempt).await? {
        Some(conversation) => conversation,
        None => helpdesk.reply(conversation_id, kind, admin_id, message).await?,
    })
}

/// A random (version 4) UUID, the form Intercom's `quick_reply_option.uuid` takes.
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::MockHelpdesk;

    fn admin_not_found() -> IntercomError {
        IntercomError::Api {
            status: 404,
            code: "admin_not_found".into(),
            message: "Admin for admin_id not found".into(),
            field: None,
            request_id: None,
        }
    }

    fn reply(body: serde_json::Value) -> ReplyRequest {
        crate::http::from_value(body).unwrap()
    }

    #[tokio::test]
    async fn an_admin_id_intercom_does_not_know_is_a_404_naming_admin_id() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        helpdesk.expect_reply().returning(|_, _, _, _| Err(admin_not_found()));
        let err = reply_to_conversation(
            &helpdesk,
            reply(serde_json::json!({"conversationId": "1", "body": "Hi", "adminId": "0"})),
        )
        .await
        .unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (404, "not_found"));
        assert_eq!(err.to_json()["field"], "adminId");
        assert!(err.to_string().contains("no admin with id 0"), "{err}");
    }

    #[test]
    fn without_a_chosen_admin_intercoms_answer_maps_as_usual() {
        let err = unknown_admin(PostError::Intercom(admin_not_found()), None);
        assert_eq!((err.code(), err.to_json().get("field")), ("not_found", None));
        let refused = ActionError::bad_request("body", "too long");
        assert_eq!(unknown_admin(PostError::Action(refused.clone()), Some("1")), refused);
    }
}
