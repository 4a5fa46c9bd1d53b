//! Conversations: create, show, update, reply, parts (assign/close/snooze/open), tags.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use serde_json::{Map, Value};

use super::{ApiResult, custom_attributes, json_object, opt_bool, opt_i64, opt_str, req_str};
use crate::error::ApiError;
use crate::search::{CONVERSATION_FIELDS, Query, pagination};
use crate::state::{AdminReplyKind, AssigneeKind, Attachment, QuickReplyOption, ReplyExtras, State as Workspace};
use crate::{FakeWorkspace, shapes};

/// `?display_as=plaintext`.
fn plaintext(query: &Option<String>) -> bool {
    query
        .as_deref()
        .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "display_as" && v == "plaintext"))
}

/// The conversation as the API answers it after a change.
fn rendered(s: &Workspace, id: &str, plaintext: bool) -> ApiResult {
    let conv = s.conversation(id).ok_or_else(ApiError::conversation_not_found)?;
    Ok(Json(shapes::conversation(s, conv, plaintext)))
}

/// `POST /conversations` `{from: {type: user|lead|contact, id}, body}` → `user_message`.
pub(crate) async fn create(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let from = match body.get("from") {
        Some(Value::Object(from)) => from,
        None | Some(Value::Null) => return Err(ApiError::missing("from")),
        Some(_) => return Err(ApiError::invalid("from", "from must be an object")),
    };
    let from_type = req_str(from, "type").map_err(|_| ApiError::missing("from.type"))?;
    if !matches!(from_type.as_str(), "user" | "lead" | "contact") {
        return Err(ApiError::invalid("from.type", "from.type must be user, lead or contact"));
    }
    let from_id = req_str(from, "id").map_err(|_| ApiError::missing("from.id"))?;
    let text = req_str(&body, "body")?;
    let subject = opt_str(&body, "subject")?;
    ws.with_state(|s| {
        let conv = s.create_conversation(&from_id, &text, subject.as_deref())?;
        Ok(Json(shapes::message(&conv)))
    })
}

/// `POST /conversations/search`: `query` over id, created_at, updated_at, state, open, contact_ids,
/// admin_assignee_id, team_assignee_id, title, custom_attributes.*; `pagination` with `starting_after`.
/// With a search lag on, conversations created since the last indexing are missing.
pub(crate) async fn search(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let query = body.get("query").filter(|q| !q.is_null()).ok_or_else(|| ApiError::missing("query"))?;
    let query = Query::parse_for(query, &CONVERSATION_FIELDS)?;
    let (per_page, offset) = pagination(&body)?;
    ws.with_state(|s| {
        let listed = s.searchable_conversations();
        let hits: Vec<_> = listed.iter().filter(|c| query.matches_fields(&|f| conversation_field(c, f), &[])).collect();
        let total = hits.len();
        let page_items: Vec<_> = hits.into_iter().skip(offset).take(per_page).collect();
        let next = (offset + per_page < total).then(|| format!("offset:{}", offset + per_page));
        Ok(Json(shapes::conversation_list(s, &page_items, total, offset / per_page + 1, per_page, next)))
    })
}

fn conversation_field(c: &crate::state::Conversation, field: &str) -> Value {
    match field {
        "id" => Value::String(c.id.to_string()),
        "created_at" => Value::from(c.created_at),
        "updated_at" => Value::from(c.updated_at),
        "state" => Value::String(c.state.as_str().to_owned()),
        "open" => Value::Bool(c.state != crate::state::ConversationState::Closed),
        "contact_ids" => Value::from(c.contact_ids.clone()),
        "admin_assignee_id" => c.admin_assignee_id.map_or(Value::Null, Value::from),
        "team_assignee_id" => c.team_assignee_id.map_or(Value::Null, Value::from),
        "title" => c.title.clone().map_or(Value::Null, Value::String),
        other => other
            .strip_prefix("custom_attributes.")
            .and_then(|k| c.custom_attributes.get(k).cloned())
            .unwrap_or(Value::Null),
    }
}

/// `GET /conversations/{id}[?display_as=plaintext]`.
pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>, RawQuery(query): RawQuery) -> ApiResult {
    ws.with_state(|s| rendered(s, &id, plaintext(&query)))
}

/// `PUT /conversations/{id}`: `custom_attributes` (merged, `null` removes), `read`, `title`.
pub(crate) async fn update(
    ws: FakeWorkspace,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    let attrs = custom_attributes(&body)?;
    let read = opt_bool(&body, "read")?;
    let title = opt_str(&body, "title")?;
    ws.with_state(|s| {
        s.update_conversation(&id, attrs, read, title)?;
        rendered(s, &id, plaintext(&query))
    })
}

/// The contact a `type: user` reply names by `intercom_user_id`, `user_id` or `email`.
pub(super) fn replying_contact(s: &Workspace, body: &Map<String, Value>) -> Result<String, ApiError> {
    let found = if let Some(id) = opt_str(body, "intercom_user_id")? {
        s.live_contact(&id).ok()
    } else if let Some(external_id) = opt_str(body, "user_id")? {
        s.contact_by_external_id(&external_id)
    } else if let Some(email) = opt_str(body, "email")? {
        s.contact_by_email(&email)
    } else {
        return Err(ApiError::missing("intercom_user_id"));
    };
    found.map(|c| c.id.clone()).ok_or_else(ApiError::contact_not_found)
}

/// `attachment_urls`: up to 10 absolute http(s) URLs.
fn attachments(body: &Map<String, Value>) -> Result<Vec<Attachment>, ApiError> {
    let urls = match body.get("attachment_urls") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(urls)) => urls,
        Some(_) => return Err(ApiError::invalid("attachment_urls", "attachment_urls must be a list of URLs")),
    };
    if urls.len() > 10 {
        return Err(ApiError::invalid("attachment_urls", "You can include up to 10 attachment_urls"));
    }
    urls.iter()
        .map(|u| match u.as_str().and_then(|u| url::Url::parse(u).ok()) {
            Some(url) if matches!(url.scheme(), "http" | "https") => Ok(Attachment::from_url(url.as_str())),
            _ => Err(ApiError::invalid("attachment_urls", format!("{u} is not an http(s) URL"))),
        })
        .collect()
}

fn looks_like_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `reply_options`: `[{text, uuid}]` (`quick_reply_option`).
fn reply_options(body: &Map<String, Value>) -> Result<Vec<QuickReplyOption>, ApiError> {
    let bad = || ApiError::invalid("reply_options", "reply_options must be a list of {\"text\", \"uuid\"} with UUIDs");
    match body.get("reply_options") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|o| {
                let text = o.get("text").and_then(Value::as_str).filter(|t| !t.trim().is_empty());
                let uuid = o.get("uuid").and_then(Value::as_str).filter(|u| looks_like_uuid(u));
                match (text, uuid) {
                    (Some(text), Some(uuid)) => Ok(QuickReplyOption { text: text.to_owned(), uuid: uuid.to_owned() }),
                    _ => Err(bad()),
                }
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// `POST /conversations/{id}/reply` as `type: admin` (comment, note, quick_reply with
/// `reply_options`) or as the contact (`type: user`, comment); both may carry `attachment_urls`.
pub(crate) async fn reply(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let message_type = req_str(&body, "message_type")?;
    let author_type = req_str(&body, "type")?;
    let text = opt_str(&body, "body")?.filter(|b| !b.trim().is_empty());
    match author_type.as_str() {
        "admin" => {
            let kind = AdminReplyKind::parse(&message_type).ok_or_else(|| {
                ApiError::invalid("message_type", "message_type must be comment, note or quick_reply")
            })?;
            let admin_id = req_str(&body, "admin_id")?;
            if kind != AdminReplyKind::QuickReply && text.is_none() {
                return Err(ApiError::missing("body"));
            }
            let options = reply_options(&body)?;
            if kind == AdminReplyKind::QuickReply && options.is_empty() {
                return Err(ApiError::missing("reply_options"));
            }
            let extras =
                ReplyExtras { attachments: attachments(&body)?, quick_reply_options: options, quick_reply_uuid: None };
            ws.with_state(|s| {
                s.reply_as_admin_with(&id, &admin_id, kind, text.as_deref(), extras)?;
                rendered(s, &id, false)
            })
        }
        "user" | "lead" | "contact" => {
            if message_type != "comment" {
                return Err(ApiError::invalid("message_type", "a contact reply must have message_type comment"));
            }
            let text = text.ok_or_else(|| ApiError::missing("body"))?;
            let picked = reply_options(&body)?.into_iter().next().map(|o| o.uuid);
            let extras = ReplyExtras {
                attachments: attachments(&body)?,
                quick_reply_options: Vec::new(),
                quick_reply_uuid: picked,
            };
            ws.with_state(|s| {
                if s.conversation(&id).is_none() {
                    return Err(ApiError::conversation_not_found());
                }
                let contact_id = replying_contact(s, &body)?;
                s.reply_as_contact_with(&id, &contact_id, &text, extras)?;
                rendered(s, &id, false)
            })
        }
        other => Err(ApiError::invalid("type", format!("type must be admin or user, not {other:?}"))),
    }
}

/// `POST /conversations/{id}/parts`: `message_type` assignment | close | snoozed | open.
pub(crate) async fn manage(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let message_type = req_str(&body, "message_type")?;
    let admin_id = req_str(&body, "admin_id")?;
    let text = opt_str(&body, "body")?.filter(|b| !b.trim().is_empty());
    match message_type.as_str() {
        "close" => {
            if let Some(t) = opt_str(&body, "type")?
                && t != "admin"
            {
                return Err(ApiError::invalid("type", "type must be admin"));
            }
            ws.with_state(|s| {
                s.close(&id, &admin_id, text.as_deref())?;
                rendered(s, &id, false)
            })
        }
        "snoozed" => {
            let until = opt_i64(&body, "snoozed_until")?.ok_or_else(|| ApiError::missing("snoozed_until"))?;
            ws.with_state(|s| {
                s.snooze(&id, &admin_id, until)?;
                rendered(s, &id, false)
            })
        }
        "open" => ws.with_state(|s| {
            s.open(&id, &admin_id)?;
            rendered(s, &id, false)
        }),
        "assignment" => {
            let kind = match req_str(&body, "type")?.as_str() {
                "admin" => AssigneeKind::Admin,
                "team" => AssigneeKind::Team,
                _ => return Err(ApiError::invalid("type", "type must be admin or team")),
            };
            let assignee_id = req_str(&body, "assignee_id")?;
            ws.with_state(|s| {
                s.assign(&id, &admin_id, kind, &assignee_id, text.as_deref())?;
                rendered(s, &id, false)
            })
        }
        other => Err(ApiError::invalid(
            "message_type",
            format!("message_type must be assignment, close, snoozed or open, not {other:?}"),
        )),
    }
}

/// `POST /conversations/{id}/tags` `{id, admin_id}` → the tag.
pub(crate) async fn attach_tag(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let tag_id = req_str(&body, "id")?;
    let admin_id = req_str(&body, "admin_id")?;
    ws.with_state(|s| {
        let (tag, applied) = s.tag_conversation(&id, &tag_id, &admin_id)?;
        Ok(Json(shapes::applied_tag(&tag, &applied)))
    })
}

/// `DELETE /conversations/{id}/tags/{tag_id}` `{admin_id}` → the tag.
pub(crate) async fn detach_tag(
    ws: FakeWorkspace,
    Path((id, tag_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_object(&body)?;
    let admin_id = req_str(&body, "admin_id")?;
    ws.with_state(|s| {
        let tag = s.untag_conversation(&id, &tag_id, &admin_id)?;
        Ok(Json(shapes::tag(&tag)))
    })
}
