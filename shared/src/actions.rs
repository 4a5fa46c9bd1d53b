//! The agent actions: what each function URL accepts, validates and answers (JSON is camelCase).
//!
//! Each action is one function over a [`Helpdesk`], so the Lambda handlers stay thin and are tested with a
//! mock, and the end-to-end tests drive the same code against the fake Intercom.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::{Attributes, Conversation, Part};
use crate::intercom::{Assignee, ContactKey, MessageKind, StateChange};
use crate::text::html_to_text;

/// Longest message body accepted (Intercom has no documented limit; this bounds what an agent can send).
pub const MAX_MESSAGE_CHARS: usize = 20_000;

// ---------- create-conversation ----------

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConversationRequest {
    #[serde(default)]
    pub user_email: Option<String>,
    /// The id in the customer's own system (Intercom `external_id`).
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Used only when the contact is created.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer's message that opens the conversation.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateConversationResponse {
    pub conversation_id: String,
    pub contact_id: String,
    pub contact_created: bool,
}

/// Finds or creates the contact, then opens a conversation as them with `body`.
pub async fn create_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: CreateConversationRequest,
) -> Result<CreateConversationResponse, ActionError> {
    let key = contact_key(request.contact_id, request.user_id, request.user_email)?;
    let body = message_body("body", &request.body)?;
    let name = optional_text("name", request.name, 255)?;
    let resolved = helpdesk.find_or_create_contact(&key, name, None).await?;
    let conversation_id = helpdesk.create_conversation(&resolved.contact, &body).await?;
    tracing::info!(%conversation_id, contact_id = %resolved.contact.id, contact_created = resolved.created, "conversation opened");
    Ok(CreateConversationResponse {
        conversation_id,
        contact_id: resolved.contact.id,
        contact_created: resolved.created,
    })
}

// ---------- reply-to-conversation ----------

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
    let conversation = helpdesk.reply(&conversation_id, kind, &admin_id, &body).await?;
    let part_id = conversation
        .conversation_parts
        .conversation_parts
        .iter()
        .rev()
        .find(|p| p.part_type.as_deref() == Some(kind.as_str()))
        .map(|p| p.id.clone());
    Ok(ReplyResponse { conversation_id, message_type: request.message_type, part_id, state: conversation.state })
}

// ---------- update-user-attributes ----------

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAttributesRequest {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Custom attributes to set (strings, numbers, booleans; null clears one).
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateAttributesResponse {
    pub contact_id: String,
    pub contact_created: bool,
    pub custom_attributes: Attributes,
}

/// Sets custom attributes on the contact; a customer known only by email or user id is created with them.
pub async fn update_user_attributes<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: UpdateAttributesRequest,
) -> Result<UpdateAttributesResponse, ActionError> {
    let key = contact_key(request.contact_id, request.user_id, request.user_email)?;
    validate_attributes(&request.attributes)?;
    let resolved = helpdesk.find_or_create_contact(&key, None, Some(request.attributes.clone())).await?;
    let contact = if resolved.created {
        resolved.contact
    } else {
        helpdesk.update_contact_attributes(&resolved.contact.id, &request.attributes).await?
    };
    Ok(UpdateAttributesResponse {
        contact_id: contact.id,
        contact_created: resolved.created,
        custom_attributes: contact.custom_attributes,
    })
}

fn validate_attributes(attributes: &Attributes) -> Result<(), ActionError> {
    if attributes.is_empty() {
        return Err(ActionError::bad_request("attributes", "attributes must name at least one custom attribute"));
    }
    for (name, value) in attributes {
        let field = format!("attributes.{name}");
        if name.trim().is_empty() || name.len() > 190 {
            return Err(ActionError::bad_request(&field, "attribute names must be 1 to 190 characters"));
        }
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            Value::String(s) if s.chars().count() <= 255 => {}
            Value::String(_) => {
                return Err(ActionError::bad_request(
                    &field,
                    format!("{field} is longer than Intercom's 255 characters"),
                ));
            }
            Value::Array(_) | Value::Object(_) => {
                return Err(ActionError::bad_request(
                    &field,
                    format!("{field} must be a string, number, boolean or null (Intercom custom attributes are flat)"),
                ));
            }
        }
    }
    Ok(())
}

// ---------- get-conversation ----------

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetConversationRequest {
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

pub async fn get_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: GetConversationRequest,
) -> Result<ConversationHistory, ActionError> {
    let id = conversation_id(&request.conversation_id)?;
    let conversation = helpdesk.get_conversation(&id).await?;
    Ok(history(conversation))
}

fn history(conversation: Conversation) -> ConversationHistory {
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
    }
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

// ---------- tag-conversation ----------

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagRequest {
    pub conversation_id: String,
    /// Tag names to add; missing tags are created.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Tag names to remove; a tag that does not exist is reported, not an error.
    #[serde(default)]
    pub remove_tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TagResponse {
    pub conversation_id: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Names in `removeTags` that no tag in the workspace has.
    pub not_found: Vec<String>,
}

pub async fn tag_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: TagRequest,
) -> Result<TagResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let add = tag_names("tags", &request.tags)?;
    let remove = tag_names("removeTags", &request.remove_tags)?;
    if add.is_empty() && remove.is_empty() {
        return Err(ActionError::bad_request("tags", "give at least one tag name in tags or removeTags"));
    }
    if let Some(both) = add.iter().find(|a| remove.iter().any(|r| r.eq_ignore_ascii_case(a))) {
        return Err(ActionError::bad_request("removeTags", format!("tag {both:?} is both added and removed")));
    }
    let admin_id = helpdesk.admin_id().await?;
    let tags = helpdesk.ensure_tags(&add).await?;
    futures::future::try_join_all(tags.iter().map(|tag| helpdesk.tag_conversation(&conversation_id, &admin_id, tag)))
        .await?;
    let mut removed = Vec::new();
    let mut not_found = Vec::new();
    for name in remove {
        match helpdesk.find_tag(&name).await? {
            Some(tag) => {
                match helpdesk.untag_conversation(&conversation_id, &admin_id, &tag).await {
                    Ok(()) => {}
                    // Not on this conversation: the wanted end state already holds.
                    Err(e) if e.is_not_found() => {
                        helpdesk.get_conversation(&conversation_id).await?;
                    }
                    Err(e) => return Err(e.into()),
                }
                removed.push(tag.name);
            }
            None => not_found.push(name),
        }
    }
    Ok(TagResponse { conversation_id, added: tags.into_iter().map(|t| t.name).collect(), removed, not_found })
}

fn tag_names(field: &str, names: &[String]) -> Result<Vec<String>, ActionError> {
    let mut out: Vec<String> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 190 {
            return Err(ActionError::bad_request(&format!("{field}[{i}]"), "tag names must be 1 to 190 characters"));
        }
        if !out.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push(name.to_owned());
        }
    }
    if out.len() > 20 {
        return Err(ActionError::bad_request(field, "at most 20 tags per request"));
    }
    Ok(out)
}

// ---------- assign-conversation ----------

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignRequest {
    pub conversation_id: String,
    /// `"0"` or null unassigns.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub team_id: Option<Option<String>>,
    /// `"0"` or null unassigns.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub admin_id: Option<Option<String>>,
    #[serde(default)]
    pub team_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssignResponse {
    pub conversation_id: String,
    pub assignee: AssigneeSummary,
    pub state: Option<String>,
}

pub async fn assign_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: AssignRequest,
) -> Result<AssignResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let given = [request.team_id.is_some(), request.admin_id.is_some(), request.team_name.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ActionError::bad_request("teamId", "give exactly one of teamId, adminId or teamName"));
    }
    let unassign = |id: &Option<String>| id.as_deref().is_none_or(|v| v.trim() == "0");
    let assignee = match (request.team_id, request.admin_id, request.team_name) {
        (Some(id), _, _) if unassign(&id) => Assignee::Nobody,
        (Some(Some(id)), _, _) => Assignee::Team(numeric_id("teamId", &id)?),
        (_, Some(id), _) if unassign(&id) => Assignee::Nobody,
        (_, Some(Some(id)), _) => Assignee::Admin(numeric_id("adminId", &id)?),
        (_, _, Some(name)) => {
            let name = required_text("teamName", &name, 255)?;
            match helpdesk.find_team(&name).await? {
                Some(team) => Assignee::Team(team.id),
                None => {
                    return Err(ActionError::bad_request(
                        "teamName",
                        format!("no Intercom team is named {name:?}; check the name in Settings → Teams"),
                    ));
                }
            }
        }
        _ => return Err(ActionError::bad_request("teamId", "give exactly one of teamId, adminId or teamName")),
    };
    let admin_id = helpdesk.admin_id().await?;
    let conversation = helpdesk.assign_conversation(&conversation_id, &admin_id, &assignee).await?;
    Ok(AssignResponse {
        conversation_id,
        assignee: AssigneeSummary { admin_id: conversation.admin_assignee_id, team_id: conversation.team_assignee_id },
        state: conversation.state,
    })
}

/// Distinguishes a field sent as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

// ---------- manage-conversation ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ManageAction {
    Close,
    Snooze,
    Open,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManageRequest {
    pub conversation_id: String,
    pub action: ManageAction,
    /// For `snooze`: Unix seconds, or an RFC 3339 time such as `2026-12-01T09:00:00Z`.
    #[serde(default)]
    pub snoozed_until: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ManageResponse {
    pub conversation_id: String,
    pub state: Option<String>,
    pub snoozed_until: Option<i64>,
}

pub async fn manage_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: ManageRequest,
) -> Result<ManageResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let change = match (request.action, &request.snoozed_until) {
        (ManageAction::Snooze, Some(until)) => StateChange::Snooze { until: snooze_time(until)? },
        (ManageAction::Snooze, None) => {
            return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil is required to snooze"));
        }
        (_, Some(_)) => {
            return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil only applies to action snooze"));
        }
        (ManageAction::Close, None) => StateChange::Close,
        (ManageAction::Open, None) => StateChange::Open,
    };
    let admin_id = helpdesk.admin_id().await?;
    let conversation = helpdesk.change_state(&conversation_id, &admin_id, change).await?;
    Ok(ManageResponse { conversation_id, state: conversation.state, snoozed_until: conversation.snoozed_until })
}

fn snooze_time(value: &Value) -> Result<i64, ActionError> {
    let invalid = || {
        ActionError::bad_request(
            "snoozedUntil",
            "snoozedUntil must be Unix seconds or an RFC 3339 time such as 2026-12-01T09:00:00Z",
        )
    };
    let until = match value {
        Value::Number(n) => n.as_i64().ok_or_else(invalid)?,
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
                .map_err(|_| invalid())?
                .unix_timestamp(),
        },
        _ => return Err(invalid()),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if until <= now {
        return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil must be in the future"));
    }
    if until > now + 366 * 24 * 3600 {
        return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil must be within a year"));
    }
    Ok(until)
}

// ---------- shared validation ----------

/// Picks how to find the customer: contactId, else userId, else userEmail.
pub fn contact_key(
    contact_id: Option<String>,
    user_id: Option<String>,
    user_email: Option<String>,
) -> Result<ContactKey, ActionError> {
    if let Some(id) = contact_id {
        let id = required_text("contactId", &id, 64)?;
        if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ActionError::bad_request(
                "contactId",
                "contactId must be an Intercom contact id (letters and digits)",
            ));
        }
        return Ok(ContactKey::Id(id));
    }
    if let Some(id) = user_id {
        return Ok(ContactKey::ExternalId(required_text("userId", &id, 255)?));
    }
    if let Some(email) = user_email {
        return Ok(ContactKey::Email(email_address("userEmail", &email)?));
    }
    Err(ActionError::bad_request("userEmail", "give the customer as userEmail, userId or contactId"))
}

pub fn email_address(field: &str, raw: &str) -> Result<String, ActionError> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        return Err(ActionError::bad_request(field, format!("{field} is not a valid email address")));
    }
    Ok(email.to_owned())
}

/// Intercom conversation ids are numeric; the contract declares the path parameter an integer.
pub fn conversation_id(raw: &str) -> Result<String, ActionError> {
    numeric_id("conversationId", raw)
}

fn numeric_id(field: &str, raw: &str) -> Result<String, ActionError> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ActionError::bad_request(
            field,
            format!("{field} must be an Intercom id made of digits (for example \"123456789\")"),
        ));
    }
    Ok(id.to_owned())
}

fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, ActionError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ActionError::bad_request(field, format!("{field} must not be empty")));
    }
    if text.chars().count() > max_chars {
        return Err(ActionError::bad_request(field, format!("{field} is longer than {max_chars} characters")));
    }
    Ok(text.to_owned())
}

fn optional_text(field: &str, raw: Option<String>, max_chars: usize) -> Result<Option<String>, ActionError> {
    raw.filter(|s| !s.trim().is_empty()).map(|s| required_text(field, &s, max_chars)).transpose()
}

pub fn message_body(field: &str, raw: &str) -> Result<String, ActionError> {
    required_text(field, raw, MAX_MESSAGE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_key_prefers_the_most_precise_identifier() {
        assert_eq!(
            contact_key(Some("abc123".into()), Some("u1".into()), None).unwrap(),
            ContactKey::Id("abc123".into())
        );
        assert_eq!(
            contact_key(None, Some(" u1 ".into()), Some("a@b.co".into())).unwrap(),
            ContactKey::ExternalId("u1".into())
        );
        assert_eq!(contact_key(None, None, Some("a@b.co".into())).unwrap(), ContactKey::Email("a@b.co".into()));
        assert!(contact_key(None, None, None).is_err());
        assert!(contact_key(Some("../x".into()), None, None).is_err());
    }

    #[test]
    fn emails_are_checked() {
        for ok in ["jane@example.com", "a.b+c@sub.example.co.uk"] {
            assert!(email_address("userEmail", ok).is_ok(), "{ok}");
        }
        for bad in ["", "jane", "jane@", "@x.com", "jane@localhost", "a b@x.com", "a@b@c.com", "jane@x.com."] {
            assert!(email_address("userEmail", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conversation_ids_are_numeric() {
        assert_eq!(conversation_id(" 123 ").unwrap(), "123");
        for bad in ["", "abc", "12a", "1/2", "123456789012345678901"] {
            assert!(conversation_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attributes_must_be_flat_and_short() {
        let ok: Attributes =
            serde_json::from_str(r#"{"support_tier":"premium","escalation_count":2,"vip":true,"old":null}"#).unwrap();
        assert!(validate_attributes(&ok).is_ok());
        let nested: Attributes = serde_json::from_str(r#"{"plan":{"name":"x"}}"#).unwrap();
        assert!(
            matches!(validate_attributes(&nested), Err(ActionError::BadRequest { field: Some(f), .. }) if f == "attributes.plan")
        );
        assert!(validate_attributes(&Attributes::new()).is_err());
        let long: Attributes = serde_json::from_value(serde_json::json!({"x": "a".repeat(256)})).unwrap();
        assert!(validate_attributes(&long).is_err());
    }

    #[test]
    fn snooze_times_accept_unix_or_rfc3339_in_the_future() {
        let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        assert_eq!(snooze_time(&Value::from(soon)).unwrap(), soon);
        assert_eq!(snooze_time(&Value::from(soon.to_string())).unwrap(), soon);
        let rfc = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        assert!(snooze_time(&Value::from(rfc)).is_ok());
        assert!(snooze_time(&Value::from(1_000)).is_err());
        assert!(snooze_time(&Value::from("tomorrow")).is_err());
        assert!(snooze_time(&Value::Bool(true)).is_err());
    }

    #[test]
    fn tag_names_are_trimmed_and_deduplicated() {
        assert_eq!(
            tag_names("tags", &[" VIP ".into(), "vip".into(), "billing".into()]).unwrap(),
            vec!["VIP", "billing"]
        );
        assert!(tag_names("tags", &["  ".into()]).is_err());
    }
}
