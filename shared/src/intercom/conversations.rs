//! Conversations: open one as a contact, reply or note as an admin, read the history, change state, tag.

use reqwest::Method;

use super::client::{IntercomClient, Retry};
use super::contacts::segment;
use super::error::IntercomError;
use super::models::{
    AdminOnly, AdminReply, Attributes, Contact, Conversation, CreateConversation, CreatedMessage, From, Part,
    PartRequest, QuickReplyOption, Tag, TagConversation, UpdateCustomAttributes,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Visible to the customer.
    Comment,
    /// Internal: only teammates see it.
    Note,
    /// Buttons the customer answers with ([`AdminMessage::reply_options`]); no body.
    QuickReply,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Comment => "comment",
            MessageKind::Note => "note",
            MessageKind::QuickReply => "quick_reply",
        }
    }
}

/// What an admin's reply, note or quick reply carries besides its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminMessage {
    /// Intercom HTML ([`crate::format::to_intercom_html`]); `None` for a quick reply.
    pub body: Option<String>,
    /// A quick reply's buttons.
    pub reply_options: Vec<QuickReplyOption>,
    /// Files shown with the message (absolute https URLs, at most 10).
    pub attachment_urls: Vec<String>,
}

impl AdminMessage {
    /// A message with only an HTML body.
    pub fn html(body: impl Into<String>) -> Self {
        AdminMessage { body: Some(body.into()), ..AdminMessage::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Admin(String),
    Team(String),
    /// Back to the unassigned inbox (Intercom's `assignee_id: "0"`).
    Nobody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    Close,
    /// Snoozed until this Unix time (seconds).
    Snooze {
        until: i64,
    },
    Open,
}

impl IntercomClient {
    /// Opens a conversation as the contact, with `body` as their first message. Returns the conversation id.
    pub async fn create_conversation(&self, contact: &Contact, body: &str) -> Result<String, IntercomError> {
        let request = CreateConversation { from: From { kind: contact.author_type(), id: &contact.id }, body };
        let created: CreatedMessage = self
            .send(Method::POST, "conversations", &[], Some(&request), Retry::Once, "opening the conversation")
            .await?;
        created.conversation_id.ok_or(IntercomError::Decode {
            operation: "opening the conversation",
            reason: "the answer has no conversation_id".into(),
        })
    }

    /// Posts a reply or a note as `admin_id`.
    ///
    /// A reply is never sent twice: if its answer is lost, the conversation is read back, and the reply counts
    /// as posted when it is there; it is sent again only when it is surely absent.
    pub async fn reply(
        &self,
        conversation_id: &str,
        kind: MessageKind,
        admin_id: &str,
        message: &AdminMessage,
    ) -> Result<Conversation, IntercomError> {
        let path = format!("conversations/{}/reply", segment(conversation_id));
        let request = AdminReply {
            message_type: kind.as_str(),
            kind: "admin",
            admin_id,
            body: message.body.as_deref(),
            reply_options: &message.reply_options,
            attachment_urls: &message.attachment_urls,
        };
        let sent_at = unix_now();
        match self.send(Method::POST, &path, &[], Some(&request), Retry::Once, "the reply").await {
            Err(IntercomError::OutcomeUnknown { operation, request_id }) => {
                tracing::warn!(conversation_id, "the reply's answer was lost; checking whether it was posted");
                let conversation = match self.get_conversation(conversation_id).await {
                    Ok(conversation) => conversation,
                    // Still unknown: the caller must not treat this as a failure it can simply repeat.
                    Err(_) => return Err(IntercomError::OutcomeUnknown { operation, request_id }),
                };
                if contains_reply(&conversation, kind, admin_id, message, sent_at).is_some() {
                    tracing::info!(conversation_id, "the reply was posted; not sending it again");
                    return Ok(conversation);
                }
                match self.send(Method::POST, &path, &[], Some(&request), Retry::Once, "the reply").await {
                    Err(IntercomError::OutcomeUnknown { .. }) => {
                        Err(IntercomError::OutcomeUnknown { operation, request_id })
                    }
                    other => other,
                }
            }
            other => other,
        }
    }

    /// The conversation with its parts' bodies as Intercom's HTML (Intercom keeps the 500 most recent parts).
    ///
    /// HTML, not `display_as=plaintext`: the plain rendering cannot be told apart from markup (`x<y and y>z`),
    /// so readers decode the HTML exactly once ([`crate::text::html_to_text`]).
    pub async fn get_conversation(&self, id: &str) -> Result<Conversation, IntercomError> {
        self.get(&format!("conversations/{}", segment(id)), &[]).await
    }

    pub async fn assign_conversation(
        &self,
        id: &str,
        admin_id: &str,
        assignee: &Assignee,
    ) -> Result<Conversation, IntercomError> {
        let request = match assignee {
            Assignee::Admin(assignee_id) => PartRequest::Assignment { kind: "admin", admin_id, assignee_id },
            Assignee::Team(assignee_id) => PartRequest::Assignment { kind: "team", admin_id, assignee_id },
            Assignee::Nobody => PartRequest::Assignment { kind: "admin", admin_id, assignee_id: "0" },
        };
        self.post_part(id, &request, "the assignment").await
    }

    pub async fn change_state(
        &self,
        id: &str,
        admin_id: &str,
        change: StateChange,
    ) -> Result<Conversation, IntercomError> {
        let request = match change {
            StateChange::Close => PartRequest::Close { kind: "admin", admin_id },
            StateChange::Snooze { until } => PartRequest::Snoozed { admin_id, snoozed_until: until },
            StateChange::Open => PartRequest::Open { admin_id },
        };
        self.post_part(id, &request, "the state change").await
    }

    async fn post_part(
        &self,
        id: &str,
        request: &PartRequest<'_>,
        operation: &'static str,
    ) -> Result<Conversation, IntercomError> {
        // Setting a state or an assignee again changes nothing, so these are safe to retry.
        self.send(
            Method::POST,
            &format!("conversations/{}/parts", segment(id)),
            &[],
            Some(request),
            Retry::Idempotent,
            operation,
        )
        .await
    }

    pub async fn tag_conversation(&self, id: &str, admin_id: &str, tag: &Tag) -> Result<(), IntercomError> {
        let request = TagConversation { id: &tag.id, admin_id };
        let _: serde_json::Value = self
            .send(
                Method::POST,
                &format!("conversations/{}/tags", segment(id)),
                &[],
                Some(&request),
                Retry::Idempotent,
                "tagging",
            )
            .await?;
        Ok(())
    }

    pub async fn untag_conversation(&self, id: &str, admin_id: &str, tag: &Tag) -> Result<(), IntercomError> {
        let path = format!("conversations/{}/tags/{}", segment(id), segment(&tag.id));
        let _: serde_json::Value = self
            .send(Method::DELETE, &path, &[], Some(&AdminOnly { admin_id }), Retry::Idempotent, "untagging")
            .await?;
        Ok(())
    }

    /// Merges conversation data attributes (they must exist in the workspace's settings).
    pub async fn update_conversation_attributes(&self, id: &str, attributes: &Attributes) -> Result<(), IntercomError> {
        let body = UpdateCustomAttributes { custom_attributes: attributes };
        let _: serde_json::Value = self
            .send(
                Method::PUT,
                &format!("conversations/{}", segment(id)),
                &[],
                Some(&body),
                Retry::Idempotent,
                "updating the conversation",
            )
            .await?;
        Ok(())
    }
}

/// The part of the conversation that is this admin's message, posted no earlier than `since` (clock skew
/// allowed), if it is there. A body is compared as text ([`comparable`] on both sides, so Intercom's rewriting
/// of our HTML does not matter); a quick reply, which has no body, by its options' labels in order (a retry
/// sends fresh UUIDs).
pub fn contains_reply<'c>(
    conversation: &'c Conversation,
    kind: MessageKind,
    admin_id: &str,
    message: &AdminMessage,
    since: i64,
) -> Option<&'c Part> {
    let wanted = message.body.as_deref().map(comparable);
    let same_options = |part: &Part| {
        part.metadata
            .quick_reply_options
            .iter()
            .map(|o| o.text.trim())
            .eq(message.reply_options.iter().map(|o| o.text.trim()))
    };
    conversation.conversation_parts.conversation_parts.iter().rev().find(|part| {
        part.part_type.as_deref() == Some(kind.as_str())
            && part.author.as_ref().and_then(|a| a.id.as_deref()) == Some(admin_id)
            && part.created_at.is_none_or(|t| t >= since.saturating_sub(60))
            && match (&wanted, kind) {
                (_, MessageKind::QuickReply) => same_options(part),
                (Some(wanted), _) => part.body.as_deref().map(comparable).as_deref() == Some(wanted.as_str()),
                (None, _) => false,
            }
    })
}

/// One text form for what we sent and what Intercom returns ([`crate::format::comparable_text`]).
pub fn comparable(html: &str) -> String {
    crate::format::comparable_text(html)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
