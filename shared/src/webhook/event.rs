//! Intercom's webhook notification envelope and the conversation it carries.
//!
//! Parsing is in two steps so a delivery can be routed before its item is inspected:
//! [`parse_notification`] reads the envelope (topic, id, …) and keeps `data.item` as JSON;
//! [`Notification::conversation`] then reads the item as a conversation. Both are lenient with optional
//! fields (unknown, missing or oddly typed ones are ignored) and strict with what we need, naming the field:
//! `"data.item.id is missing"`.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

pub use crate::intercom::topics::{
    TOPIC_ADMIN_ASSIGNED, TOPIC_ADMIN_CLOSED, TOPIC_ADMIN_NOTED, TOPIC_ADMIN_OPENED, TOPIC_ADMIN_REPLIED,
    TOPIC_ADMIN_SNOOZED, TOPIC_PING, TOPIC_USER_CREATED, TOPIC_USER_REPLIED,
};

/// The envelope's `type`.
pub const NOTIFICATION_TYPE: &str = "notification_event";

/// A delivery that is not what we can work with. The message names the field and is safe to return to the
/// sender and to log: it never quotes the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not JSON at all (the detail is serde_json's position, e.g. "EOF while parsing a value at line 1 column 7").
    #[error("body is not valid JSON: {detail}")]
    InvalidJson { detail: String },
    /// A field we need is absent, null or empty.
    #[error("{field} is missing")]
    Missing { field: String },
    /// A field we need has the wrong JSON type.
    #[error("{field} must be {expected}")]
    WrongType { field: String, expected: &'static str },
    /// Anything else about the shape.
    #[error("{0}")]
    Unexpected(String),
}

impl ParseError {
    fn missing(field: impl Into<String>) -> Self {
        Self::Missing { field: field.into() }
    }
}

/// The envelope of one webhook delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// `notif_…`; `None` for pings and sample deliveries. Delivery is at least once: dedupe on it.
    pub id: Option<String>,
    pub topic: String,
    pub app_id: Option<String>,
    /// Unix seconds; deliveries are not ordered, so order by this.
    pub created_at: Option<i64>,
    pub delivery_attempts: Option<u32>,
    item: Option<Value>,
}

/// Reads the envelope of a delivery. Requires an object with a non-empty string `topic`; `type`, when present,
/// must be `notification_event`; `id` may be null or absent.
pub fn parse_notification(raw_body: &[u8]) -> Result<Notification, ParseError> {
    let value: Value =
        serde_json::from_slice(raw_body).map_err(|e| ParseError::InvalidJson { detail: e.to_string() })?;
    let Value::Object(mut envelope) = value else {
        return Err(ParseError::WrongType { field: "body".into(), expected: "a JSON object" });
    };
    match envelope.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t == NOTIFICATION_TYPE => {}
        Some(_) => return Err(ParseError::Unexpected(format!("type must be {NOTIFICATION_TYPE}"))),
    }
    let topic = match envelope.get("topic") {
        None | Some(Value::Null) => return Err(ParseError::missing("topic")),
        Some(Value::String(t)) if t.trim().is_empty() => return Err(ParseError::missing("topic")),
        Some(Value::String(t)) => t.trim().to_string(),
        Some(_) => return Err(ParseError::WrongType { field: "topic".into(), expected: "a string" }),
    };
    let id = match envelope.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(_) => return Err(ParseError::WrongType { field: "id".into(), expected: "a string or null" }),
    };
    let item = match envelope.remove("data") {
        Some(Value::Object(mut data)) => data.remove("item").filter(|v| !v.is_null()),
        _ => None,
    };
    Ok(Notification {
        id,
        topic,
        app_id: envelope.get("app_id").and_then(id_from),
        created_at: envelope.get("created_at").and_then(timestamp_from),
        delivery_attempts: envelope.get("delivery_attempts").and_then(Value::as_u64).and_then(|n| n.try_into().ok()),
        item,
    })
}

impl Notification {
    /// True for `ping`.
    pub fn is_ping(&self) -> bool {
        self.topic == TOPIC_PING
    }

    /// `data.item` as delivered, if any.
    pub fn item(&self) -> Option<&Value> {
        self.item.as_ref()
    }

    /// Reads `data.item` as a conversation (the REST API's conversation object). Requires `data.item` to be an
    /// object with an `id`; each conversation part needs an `id`; everything else is optional.
    pub fn conversation(&self) -> Result<Conversation, ParseError> {
        let item = self.item.as_ref().ok_or_else(|| ParseError::missing("data.item"))?;
        if !item.is_object() {
            return Err(ParseError::WrongType { field: "data.item".into(), expected: "an object" });
        }
        let raw = RawConversation::deserialize(item)
            .map_err(|_| ParseError::WrongType { field: "data.item".into(), expected: "a conversation object" })?;
        Conversation::from_raw(raw)
    }
}

/// A conversation as Intercom sends it in `data.item`, reduced to what the relay uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversation {
    pub id: String,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub state: Option<String>,
    pub open: Option<bool>,
    /// Ids are strings here even though Intercom sends `admin_assignee_id` as a number.
    pub admin_assignee_id: Option<String>,
    pub team_assignee_id: Option<String>,
    pub tags: Vec<Tag>,
    pub custom_attributes: Map<String, Value>,
    pub source: Option<Source>,
    pub contacts: Vec<ContactRef>,
    /// In delivery order (Intercom sends them oldest first).
    pub parts: Vec<Part>,
    pub parts_total_count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: Option<String>,
    pub name: String,
}

/// The conversation's first message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub id: Option<String>,
    /// `type`: conversation, email, push, …
    pub kind: Option<String>,
    pub delivered_as: Option<String>,
    pub subject: Option<String>,
    /// HTML.
    pub body: Option<String>,
    pub author: Option<Author>,
}

/// A contact in `contacts.contacts` (ids only: names and emails are not in the webhook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRef {
    pub kind: Option<String>,
    pub id: String,
    pub external_id: Option<String>,
}

/// One entry of `conversation_parts.conversation_parts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub id: String,
    /// comment, note, assignment, close, open, …
    pub part_type: Option<String>,
    /// HTML; null for parts such as assignments.
    pub body: Option<String>,
    pub created_at: Option<i64>,
    pub author: Option<Author>,
    /// `metadata.quick_reply_uuid`: the quick-reply button the customer picked with this part.
    pub quick_reply_uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub kind: AuthorKind,
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Who wrote a message. Contacts are `user`, `lead` or `contact`; teammates and automation are the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorKind {
    User,
    Lead,
    Contact,
    Admin,
    Bot,
    Team,
    /// Missing or not one of the above; never treated as the customer.
    Other(String),
}

impl AuthorKind {
    fn from_type(value: Option<&str>) -> Self {
        match value.map(str::trim).unwrap_or_default() {
            "user" => Self::User,
            "lead" => Self::Lead,
            "contact" => Self::Contact,
            "admin" => Self::Admin,
            "bot" => Self::Bot,
            "team" => Self::Team,
            other => Self::Other(other.to_string()),
        }
    }

    /// True when the author is the customer (a user, lead or contact), never for admins, bots or teams.
    pub fn is_contact(&self) -> bool {
        matches!(self, Self::User | Self::Lead | Self::Contact)
    }

    /// The type as Intercom spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::User => "user",
            Self::Lead => "lead",
            Self::Contact => "contact",
            Self::Admin => "admin",
            Self::Bot => "bot",
            Self::Team => "team",
            Self::Other(other) => other,
        }
    }
}

impl Conversation {
    fn from_raw(raw: RawConversation) -> Result<Self, ParseError> {
        let id = raw.id.ok_or_else(|| ParseError::missing("data.item.id"))?;
        let tags = raw
            .tags
            .and_then(|t| t.tags)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| t.name.map(|name| Tag { id: t.id, name }))
            .collect();
        let contacts = raw
            .contacts
            .and_then(|c| c.contacts)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.id.map(|id| ContactRef { kind: c.kind, id, external_id: c.external_id }))
            .collect();
        let (parts, parts_total_count) = match raw.conversation_parts {
            Some(list) => {
                let parts = list
                    .conversation_parts
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let p = p.ok_or_else(|| ParseError::WrongType {
                            field: format!("data.item.conversation_parts.conversation_parts[{i}]"),
                            expected: "an object",
                        })?;
                        Ok(Part {
                            id: p.id.ok_or_else(|| {
                                ParseError::missing(format!("data.item.conversation_parts.conversation_parts[{i}].id"))
                            })?,
                            part_type: p.part_type,
                            body: p.body,
                            created_at: p.created_at,
                            author: p.author.map(Author::from_raw),
                            quick_reply_uuid: p.metadata.and_then(|m| m.quick_reply_uuid),
                        })
                    })
                    .collect::<Result<Vec<_>, ParseError>>()?;
                (parts, list.total_count)
            }
            None => (Vec::new(), None),
        };
        Ok(Conversation {
            id,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
            state: raw.state,
            open: raw.open,
            admin_assignee_id: raw.admin_assignee_id,
            team_assignee_id: raw.team_assignee_id,
            tags,
            custom_attributes: raw.custom_attributes.unwrap_or_default(),
            source: raw.source.map(|s| Source {
                id: s.id,
                kind: s.kind,
                delivered_as: s.delivered_as,
                subject: s.subject,
                body: s.body,
                author: s.author.map(Author::from_raw),
            }),
            contacts,
            parts,
            parts_total_count,
        })
    }

    /// The tag names, in delivery order.
    pub fn tag_names(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(|t| t.name.as_str())
    }
}

impl Author {
    fn from_raw(raw: RawAuthor) -> Self {
        Author { kind: AuthorKind::from_type(raw.kind.as_deref()), id: raw.id, name: raw.name, email: raw.email }
    }
}

// Raw shapes: every field optional and lenient (a value of an unexpected type reads as absent), so unknown or
// odd optional fields never reject a delivery. Requirements are checked when converting.

#[derive(Deserialize)]
struct RawConversation {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    updated_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_text")]
    state: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    open: Option<bool>,
    #[serde(default, deserialize_with = "lenient_id")]
    admin_assignee_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    team_assignee_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    tags: Option<RawTagList>,
    #[serde(default, deserialize_with = "lenient")]
    custom_attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "lenient")]
    source: Option<RawSource>,
    #[serde(default, deserialize_with = "lenient")]
    contacts: Option<RawContactList>,
    #[serde(default, deserialize_with = "lenient")]
    conversation_parts: Option<RawPartList>,
}

#[derive(Deserialize)]
struct RawTagList {
    #[serde(default, deserialize_with = "lenient_vec")]
    tags: Option<Vec<RawTag>>,
}

#[derive(Deserialize)]
struct RawTag {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawSource {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "lenient_text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    delivered_as: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    subject: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    body: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    author: Option<RawAuthor>,
}

#[derive(Deserialize)]
struct RawAuthor {
    #[serde(rename = "type", default, deserialize_with = "lenient_text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    email: Option<String>,
}

#[derive(Deserialize)]
struct RawContactList {
    #[serde(default, deserialize_with = "lenient_vec")]
    contacts: Option<Vec<RawContact>>,
}

#[derive(Deserialize)]
struct RawContact {
    #[serde(rename = "type", default, deserialize_with = "lenient_text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    external_id: Option<String>,
}

#[derive(Deserialize)]
struct RawPartList {
    /// Entries are kept even when malformed (`None`) so the error can name the index.
    #[serde(default, deserialize_with = "lenient_items")]
    conversation_parts: Option<Vec<Option<RawPart>>>,
    #[serde(default, deserialize_with = "lenient")]
    total_count: Option<u64>,
}

#[derive(Deserialize)]
struct RawPart {
    #[serde(default, deserialize_with = "lenient_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    part_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    body: Option<String>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    author: Option<RawAuthor>,
    #[serde(default, deserialize_with = "lenient")]
    metadata: Option<RawPartMetadata>,
}

#[derive(Deserialize)]
struct RawPartMetadata {
    #[serde(default, deserialize_with = "lenient_text")]
    quick_reply_uuid: Option<String>,
}

/// Any JSON value; `None` when it is null or does not fit `T`.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// A list whose unreadable entries are skipped.
fn lenient_vec<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    Ok(lenient_items(d)?.map(|items| items.into_iter().flatten().collect()))
}

/// A list whose unreadable entries are `None`.
fn lenient_items<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<Vec<Option<T>>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(items.into_iter().map(|v| serde_json::from_value(v).ok()).collect()),
        _ => None,
    })
}

/// A non-empty string; `None` for anything else.
fn lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(s),
        _ => None,
    })
}

/// An id given as a string or a number (Intercom sends `admin_assignee_id` as a number), as a string.
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(id_from(&Value::deserialize(d)?))
}

/// Unix seconds given as a number or a numeric string.
fn lenient_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(timestamp_from(&Value::deserialize(d)?))
}

fn id_from(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

fn timestamp_from(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::fixtures;

    #[test]
    fn reads_a_user_created_delivery() {
        let n = parse_notification(fixtures::USER_CREATED.as_bytes()).unwrap();
        assert_eq!(n.topic, TOPIC_USER_CREATED);
        assert_eq!(n.id.as_deref(), Some("notif_b3a1f9e0-2c4d-4e5f-9a6b-7c8d9e0f1a2b"));
        assert_eq!(n.app_id.as_deref(), Some("abc12def"));
        assert_eq!(n.created_at, Some(1_718_000_000));
        assert_eq!(n.delivery_attempts, Some(1));
        assert!(!n.is_ping());

        let c = n.conversation().unwrap();
        assert_eq!(c.id, "147");
        assert_eq!(c.state.as_deref(), Some("open"));
        assert_eq!(c.open, Some(true));
        assert_eq!(c.admin_assignee_id, None);
        assert_eq!(c.created_at, Some(1_717_999_990));
        let source = c.source.as_ref().unwrap();
        assert_eq!(source.id.as_deref(), Some("2001"));
        assert_eq!(source.delivered_as.as_deref(), Some("customer_initiated"));
        let author = source.author.as_ref().unwrap();
        assert_eq!(author.kind, AuthorKind::User);
        assert!(author.kind.is_contact());
        assert_eq!(author.email.as_deref(), Some("jane@example.com"));
        assert_eq!(c.contacts.len(), 1);
        assert_eq!(c.contacts[0].id, "6657add46abd0167d9419cd2");
        assert_eq!(c.contacts[0].external_id.as_deref(), Some("user-42"));
        assert!(c.parts.is_empty());
    }

    #[test]
    fn reads_a_user_replied_delivery_with_mixed_parts() {
        let n = parse_notification(fixtures::USER_REPLIED.as_bytes()).unwrap();
        assert_eq!(n.topic, TOPIC_USER_REPLIED);
        let c = n.conversation().unwrap();
        assert_eq!(c.admin_assignee_id.as_deref(), Some("991267"), "a numeric id reads as a string");
        assert_eq!(c.team_assignee_id.as_deref(), Some("5017691"));
        assert_eq!(c.tag_names().collect::<Vec<_>>(), ["vip", "billing"]);
        assert_eq!(c.parts.len(), 4);
        assert_eq!(c.parts_total_count, Some(4));
        assert_eq!(c.parts[1].part_type.as_deref(), Some("note"));
        assert_eq!(c.parts[1].author.as_ref().unwrap().kind, AuthorKind::Admin);
        assert_eq!(c.parts.last().unwrap().author.as_ref().unwrap().kind, AuthorKind::User);
    }

    #[test]
    fn reads_a_ping_with_null_id_and_self() {
        let n = parse_notification(fixtures::PING.as_bytes()).unwrap();
        assert!(n.is_ping());
        assert_eq!(n.id, None);
        assert!(n.item().is_some());
    }

    #[test]
    fn reads_an_admin_replied_delivery_envelope() {
        let n = parse_notification(fixtures::ADMIN_REPLIED.as_bytes()).unwrap();
        assert_eq!(n.topic, "conversation.admin.replied");
        assert!(n.conversation().is_ok());
    }

    #[test]
    fn ignores_unknown_and_oddly_typed_optional_fields() {
        let body = br#"{"type":"notification_event","topic":"conversation.user.created","id":"notif_1",
            "created_at":"1718000000","delivery_attempts":"two","brand_new_field":{"x":1},
            "data":{"item":{"id":147,"state":7,"open":"yes","tags":"none","custom_attributes":[],
              "contacts":{"contacts":[{"id":"c1"},{"no_id":true},"junk"]},
              "source":{"id":"s1","author":{"type":"lead","id":5,"email":null},"unknown":1},
              "conversation_parts":{"conversation_parts":[],"total_count":"0"}}}}"#;
        let n = parse_notification(body).unwrap();
        assert_eq!(n.created_at, Some(1_718_000_000));
        assert_eq!(n.delivery_attempts, None);
        let c = n.conversation().unwrap();
        assert_eq!(c.id, "147");
        assert_eq!((c.state, c.open), (None, None));
        assert!(c.tags.is_empty() && c.custom_attributes.is_empty());
        assert_eq!(c.contacts.len(), 1);
        let author = c.source.unwrap().author.unwrap();
        assert_eq!((author.kind, author.id.as_deref(), author.email), (AuthorKind::Lead, Some("5"), None));
    }

    #[test]
    fn names_what_is_wrong() {
        let err = |body: &str| parse_notification(body.as_bytes()).and_then(|n| n.conversation()).unwrap_err();
        assert!(matches!(err("{"), ParseError::InvalidJson { .. }));
        assert_eq!(err("[1]").to_string(), "body must be a JSON object");
        assert_eq!(err(r#"{"type":"notification_event"}"#).to_string(), "topic is missing");
        assert_eq!(err(r#"{"topic":"  "}"#).to_string(), "topic is missing");
        assert_eq!(err(r#"{"topic":3}"#).to_string(), "topic must be a string");
        assert_eq!(err(r#"{"topic":"x","type":"event"}"#).to_string(), "type must be notification_event");
        assert_eq!(err(r#"{"topic":"x","id":12}"#).to_string(), "id must be a string or null");
        assert_eq!(err(r#"{"topic":"x"}"#).to_string(), "data.item is missing");
        assert_eq!(err(r#"{"topic":"x","data":{"item":null}}"#).to_string(), "data.item is missing");
        assert_eq!(err(r#"{"topic":"x","data":{"item":"147"}}"#).to_string(), "data.item must be an object");
        assert_eq!(err(r#"{"topic":"x","data":{"item":{"state":"open"}}}"#).to_string(), "data.item.id is missing");
        assert_eq!(
            err(r#"{"topic":"x","data":{"item":{"id":"1","conversation_parts":{"conversation_parts":[{"id":"p"},{"body":"x"}]}}}}"#)
                .to_string(),
            "data.item.conversation_parts.conversation_parts[1].id is missing"
        );
        assert_eq!(
            err(r#"{"topic":"x","data":{"item":{"id":"1","conversation_parts":{"conversation_parts":[3]}}}}"#)
                .to_string(),
            "data.item.conversation_parts.conversation_parts[0] must be an object"
        );
    }

    #[test]
    fn json_errors_do_not_quote_the_body() {
        let err = parse_notification(br#"{"topic": "secret customer text"#).unwrap_err();
        assert!(!err.to_string().contains("secret customer"), "{err}");
    }
}
