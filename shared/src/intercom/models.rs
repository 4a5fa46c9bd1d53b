//! Intercom's objects as this product reads them, and the request bodies it sends.
//!
//! Answers are decoded leniently (unknown fields ignored, optional fields defaulted, `null` read as absent, ids
//! read from strings or numbers — Intercom's own examples write both) so an Intercom addition never breaks a
//! function; request bodies follow the v2.14 contract exactly and are checked against it by
//! the Prism contract tests.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub type Attributes = Map<String, Value>;

#[derive(Debug, Clone, Deserialize)]
pub struct Admin {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// An admin as `GET /admins` lists it: what the availability check before a hand-off reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Teammate {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Away mode is the only presence the API shows: not away is not the same as online.
    #[serde(default, deserialize_with = "null_as_default")]
    pub away_mode_enabled: bool,
    /// Unset when Intercom leaves it out; only admins with a seat work the inbox.
    #[serde(default)]
    pub has_inbox_seat: Option<bool>,
    #[serde(default, deserialize_with = "string_ids")]
    pub team_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct AdminList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub admins: Vec<Teammate>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Contact {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_attributes: Attributes,
}

impl Contact {
    /// The `from.type` Intercom expects when this contact writes: its role (`user` or `lead`).
    pub fn author_type(&self) -> &'static str {
        match self.role.as_deref() {
            Some("lead") => "lead",
            Some("user") => "user",
            _ => "contact",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ContactList {
    #[serde(default)]
    pub data: Vec<Contact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub struct Tag {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct TagList {
    #[serde(default)]
    pub data: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Team {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct TeamList {
    #[serde(default)]
    pub teams: Vec<Team>,
}

/// The answer to `POST /conversations`.
#[derive(Debug, Deserialize)]
pub struct CreatedMessage {
    #[serde(default, deserialize_with = "opt_string_id")]
    pub conversation_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub snoozed_until: Option<i64>,
    #[serde(default, deserialize_with = "id_like")]
    pub admin_assignee_id: Option<String>,
    #[serde(default, deserialize_with = "id_like")]
    pub team_assignee_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: TagsField,
    #[serde(default)]
    pub source: Option<Source>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub contacts: ContactRefs,
    #[serde(default, deserialize_with = "null_as_default")]
    pub conversation_parts: Parts,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_attributes: Attributes,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TagsField {
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactRefs {
    #[serde(default)]
    pub contacts: Vec<ContactRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ContactRef {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    #[serde(default, deserialize_with = "opt_string_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub delivered_as: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Author {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "opt_string_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// True on parts sent by Intercom's own AI agent (Fin), which may appear as an admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ai_agent: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Parts {
    #[serde(default)]
    pub conversation_parts: Vec<Part>,
    #[serde(default)]
    pub total_count: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Part {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub part_type: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub assigned_to: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: PartMetadata,
}

/// `conversation_part_metadata`: a quick reply's buttons, or the button a customer picked.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PartMetadata {
    #[serde(default, deserialize_with = "null_as_default")]
    pub quick_reply_options: Vec<QuickReplyOption>,
    #[serde(default)]
    pub quick_reply_uuid: Option<String>,
}

/// One button of a quick reply (`quick_reply_option`): its label and the UUID a pick is reported by.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct QuickReplyOption {
    pub text: String,
    pub uuid: String,
}

// ---- request bodies (v2.14) ----

#[derive(Debug, Serialize)]
pub(crate) struct CreateContact<'a> {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_attributes: Option<&'a Attributes>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SearchContacts<'a> {
    pub query: SingleFilter<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SingleFilter<'a> {
    pub field: &'static str,
    pub operator: &'static str,
    pub value: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct UpdateCustomAttributes<'a> {
    pub custom_attributes: &'a Attributes,
}

#[derive(Debug, Serialize)]
pub(crate) struct CreateConversation<'a> {
    pub from: From<'a>,
    pub body: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct From<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct AdminReply<'a> {
    pub message_type: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub admin_id: &'a str,
    /// Absent on a quick reply: the contract's `quick_reply` carries only its options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub reply_options: &'a [QuickReplyOption],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub attachment_urls: &'a [String],
}

/// `POST /conversations/{id}/parts`: one body per `message_type`, exactly as the contract's `oneOf` lists them.
#[derive(Debug, Serialize)]
#[serde(tag = "message_type", rename_all = "lowercase")]
pub(crate) enum PartRequest<'a> {
    Assignment {
        #[serde(rename = "type")]
        kind: &'static str,
        admin_id: &'a str,
        assignee_id: &'a str,
    },
    Close {
        #[serde(rename = "type")]
        kind: &'static str,
        admin_id: &'a str,
    },
    Snoozed {
        admin_id: &'a str,
        snoozed_until: i64,
    },
    Open {
        admin_id: &'a str,
    },
}

#[derive(Debug, Serialize)]
pub(crate) struct TagConversation<'a> {
    pub id: &'a str,
    pub admin_id: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct AdminOnly<'a> {
    pub admin_id: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct CreateTag<'a> {
    pub name: &'a str,
}

pub(super) fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An id Intercom may write as a string or as an integer (conversation part ids are integers in its examples).
pub(super) fn string_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_string_id(d)?.ok_or_else(|| de::Error::custom("invalid type: null, expected an id (a string or an integer)"))
}

/// A list of ids, each a string or an integer; `null` is empty.
fn string_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Id(#[serde(deserialize_with = "string_id")] String);
    Ok(Option::<Vec<Id>>::deserialize(d)?.unwrap_or_default().into_iter().map(|Id(id)| id).collect())
}

/// An optional id, as a string or an integer; `null` is `None`.
pub(super) fn opt_string_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(IdVisitor)
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an id (a string or an integer)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

/// Intercom sends assignee ids as integers in conversations and as strings elsewhere; read either.
fn id_like<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() && s != "0" => Some(s),
        Some(Value::Number(n)) if n.as_i64() != Some(0) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_requests_serialize_as_the_contract_says() {
        let snooze = serde_json::to_value(PartRequest::Snoozed { admin_id: "1", snoozed_until: 42 }).unwrap();
        assert_eq!(snooze, serde_json::json!({"message_type":"snoozed","admin_id":"1","snoozed_until":42}));
        let assign =
            serde_json::to_value(PartRequest::Assignment { kind: "team", admin_id: "1", assignee_id: "7" }).unwrap();
        assert_eq!(
            assign,
            serde_json::json!({"message_type":"assignment","type":"team","admin_id":"1","assignee_id":"7"})
        );
    }

    #[test]
    fn ids_are_read_from_strings_or_numbers() {
        let c: Conversation = serde_json::from_value(serde_json::json!({
            "id": 503, "source": {"id": 403918334, "author": {"type": "admin", "id": null}},
            "conversation_parts": {"conversation_parts": [{"id": 1}, {"id": "2", "author": {"id": 274}}]}
        }))
        .unwrap();
        assert_eq!(c.id, "503");
        let source = c.source.unwrap();
        assert_eq!(source.id.as_deref(), Some("403918334"));
        assert_eq!(source.author.unwrap().id, None);
        let parts = &c.conversation_parts.conversation_parts;
        assert_eq!((parts[0].id.as_str(), parts[1].id.as_str()), ("1", "2"));
        assert_eq!(parts[1].author.as_ref().and_then(|a| a.id.as_deref()), Some("274"));
        let tag: Tag = serde_json::from_value(serde_json::json!({"id": 102, "name": "VIP"})).unwrap();
        assert_eq!(tag.id, "102");
    }

    #[test]
    fn an_id_that_is_not_an_id_is_refused_with_a_clear_error() {
        let null = serde_json::from_value::<Tag>(serde_json::json!({"id": null, "name": "x"})).unwrap_err();
        assert!(null.to_string().contains("expected an id"), "{null}");
        let object = serde_json::from_str::<Tag>(r#"{"id": {"a": 1}, "name": "x"}"#).unwrap_err();
        assert!(object.to_string().contains("expected an id (a string or an integer)"), "{object}");
        let missing = serde_json::from_value::<Tag>(serde_json::json!({"name": "x"})).unwrap_err();
        assert!(missing.to_string().contains("missing field `id`"), "{missing}");
    }

    #[test]
    fn conversations_decode_leniently() {
        let c: Conversation = serde_json::from_value(serde_json::json!({
            "id": "123", "admin_assignee_id": 991267, "team_assignee_id": null, "tags": null,
            "conversation_parts": {"conversation_parts": [], "total_count": 0}, "unknown": true
        }))
        .unwrap();
        assert_eq!(c.admin_assignee_id.as_deref(), Some("991267"));
        assert_eq!(c.team_assignee_id, None);
        assert!(c.tags.tags.is_empty());
    }
}
