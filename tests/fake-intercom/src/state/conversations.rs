//! Conversations: their records, creation, update, lookups and webhook events.

use serde::Serialize;
use serde_json::{Map, Value};

use super::State;
use super::tags::AppliedTag;
use crate::error::ApiError;
use crate::html;
use crate::shapes;
use crate::webhooks::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Open,
    Closed,
    Snoozed,
}

impl ConversationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Open => "open",
            ConversationState::Closed => "closed",
            ConversationState::Snoozed => "snoozed",
        }
    }
}

/// Who wrote a message or made a change (`conversation_part_author`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// `admin`, `user`, `lead` or `bot`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The reference in a part's `assigned_to` (`{type: admin|team|nobody_admin, id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

/// The conversation's first message (its `source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub id: String,
    pub subject: String,
    /// HTML.
    pub body: String,
    pub author: Author,
    pub delivered_as: String,
    pub created_at: i64,
}

/// A file attached to a part (`part_attachment`); the fake keeps the URL it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name: String,
    pub url: String,
    pub content_type: String,
}

impl Attachment {
    /// An attachment from one of a reply's `attachment_urls`: named after the URL's last path
    /// segment, typed by its extension.
    pub fn from_url(url: &str) -> Self {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        let name = path.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("attachment").to_owned();
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let content_type = match ext.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            "csv" => "text/csv",
            "json" => "application/json",
            _ => "application/octet-stream",
        };
        Self { name, url: url.to_owned(), content_type: content_type.to_owned() }
    }
}

/// One button of an admin's `quick_reply` (`quick_reply_option`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuickReplyOption {
    pub text: String,
    pub uuid: String,
}

/// What a reply carries besides its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyExtras {
    pub attachments: Vec<Attachment>,
    /// The options of an admin's `quick_reply`.
    pub quick_reply_options: Vec<QuickReplyOption>,
    /// The option a contact's reply picked.
    pub quick_reply_uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub id: String,
    /// `comment`, `note`, `quick_reply`, `assignment`, `close`, `snoozed`, `open`.
    pub part_type: String,
    /// HTML, `None` for parts without text.
    pub body: Option<String>,
    pub created_at: i64,
    pub author: Author,
    pub assigned_to: Option<Reference>,
    /// The conversation's state right after this part.
    pub state: ConversationState,
    pub attachments: Vec<Attachment>,
    pub quick_reply_options: Vec<QuickReplyOption>,
    pub quick_reply_uuid: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Statistics {
    pub first_contact_reply_at: Option<i64>,
    pub last_contact_reply_at: Option<i64>,
    pub first_admin_reply_at: Option<i64>,
    pub last_admin_reply_at: Option<i64>,
    pub first_assignment_at: Option<i64>,
    pub last_assignment_at: Option<i64>,
    pub last_assignment_admin_reply_at: Option<i64>,
    pub first_close_at: Option<i64>,
    pub last_close_at: Option<i64>,
    pub last_closed_by_id: Option<String>,
    pub count_reopens: i64,
    pub count_assignments: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    pub id: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub title: Option<String>,
    pub state: ConversationState,
    pub read: bool,
    pub priority: bool,
    pub admin_assignee_id: Option<i64>,
    pub team_assignee_id: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub waiting_since: Option<i64>,
    pub contact_ids: Vec<String>,
    pub source: Source,
    /// Every part, oldest first (the API shows only the last 500).
    pub parts: Vec<Part>,
    pub tags: Vec<AppliedTag>,
    pub custom_attributes: Map<String, Value>,
    /// Admins who took part, in order of first participation.
    pub teammate_ids: Vec<String>,
    pub statistics: Statistics,
    /// Tickets linked to it (converted from it, or created with `conversation_to_link_id`).
    pub linked_ticket_ids: Vec<String>,
}

impl State {
    /// Parses a conversation id as the API gets it (a numeric string).
    pub fn conversation(&self, id: &str) -> Option<&Conversation> {
        id.parse::<u64>().ok().and_then(|n| self.conversations.get(&n))
    }

    pub(super) fn conversation_mut(&mut self, id: &str) -> Result<&mut Conversation, ApiError> {
        id.parse::<u64>().ok().and_then(|n| self.conversations.get_mut(&n)).ok_or_else(ApiError::conversation_not_found)
    }

    /// The conversations `POST /conversations/search` lists now, in creation order (new ones appear once
    /// the search lag allows; listed ones show their current data).
    pub fn searchable_conversations(&mut self) -> Vec<Conversation> {
        self.search_index.advance(std::time::Instant::now());
        self.conversations.values().filter(|c| self.search_index.lists_conversation(c.id)).cloned().collect()
    }

    /// Queues a webhook event for the conversation, carrying its last `parts` parts.
    pub(super) fn emit(&mut self, topic: &'static str, conversation_id: &str, parts: usize) {
        if !self.webhooks_on {
            return;
        }
        // Webhooks are shaped for the subscription's API version, not the request's.
        let request_version = std::mem::replace(&mut self.api_version, self.webhook_api_version);
        let event = self.conversation(conversation_id).map(|conv| {
            let shown = &conv.parts[conv.parts.len().saturating_sub(parts)..];
            let item = shapes::webhook_conversation(self, conv, shown);
            Event { topic, conversation_id: conv.id.to_string(), item, created_at: self.now() }
        });
        self.api_version = request_version;
        self.outbox.extend(event);
    }

    pub(super) fn next_part_id(&mut self) -> String {
        self.counters.part += 1;
        self.counters.part.to_string()
    }

    /// `POST /conversations`: a conversation started by a contact; `body` is plain text or
    /// HTML. Returns the new conversation.
    pub fn create_conversation(
        &mut self,
        contact_id: &str,
        body: &str,
        subject: Option<&str>,
    ) -> Result<Conversation, ApiError> {
        let author = Self::contact_author(self.live_contact(contact_id)?);
        let now = self.now();
        self.counters.conversation += 1;
        self.counters.message += 1;
        let id = self.counters.conversation;
        let conversation = Conversation {
            id,
            created_at: now,
            updated_at: now,
            title: None,
            state: ConversationState::Open,
            read: false,
            priority: false,
            admin_assignee_id: None,
            team_assignee_id: None,
            snoozed_until: None,
            waiting_since: Some(now),
            contact_ids: vec![contact_id.to_owned()],
            source: Source {
                id: self.counters.message.to_string(),
                subject: subject.unwrap_or_default().to_owned(),
                body: html::to_html(body),
                author,
                delivered_as: "customer_initiated".to_owned(),
                created_at: now,
            },
            parts: Vec::new(),
            tags: Vec::new(),
            custom_attributes: Map::new(),
            teammate_ids: Vec::new(),
            linked_ticket_ids: Vec::new(),
            statistics: Statistics {
                first_contact_reply_at: Some(now),
                last_contact_reply_at: Some(now),
                ..Statistics::default()
            },
        };
        self.conversations.insert(id, conversation.clone());
        self.search_index.record_conversation(id);
        self.emit("conversation.user.created", &id.to_string(), 0);
        Ok(conversation)
    }

    /// `PUT /conversations/{id}`: custom attributes are merged (`null` removes one).
    pub fn update_conversation(
        &mut self,
        conversation_id: &str,
        custom_attributes: Option<Map<String, Value>>,
        read: Option<bool>,
        title: Option<String>,
    ) -> Result<(), ApiError> {
        let now = self.now();
        let conv = self.conversation_mut(conversation_id)?;
        if let Some(attrs) = custom_attributes {
            for (k, v) in attrs {
                if v.is_null() {
                    conv.custom_attributes.remove(&k);
                } else {
                    conv.custom_attributes.insert(k, v);
                }
            }
        }
        if let Some(read) = read {
            conv.read = read;
        }
        if let Some(title) = title {
            conv.title = Some(title);
        }
        conv.updated_at = now;
        Ok(())
    }
}

pub(super) fn push_part(conv: &mut Conversation, part: Part) {
    conv.updated_at = part.created_at;
    conv.parts.push(part);
}
