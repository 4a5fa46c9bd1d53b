//! Tickets: `GET /ticket_types[/{id}]`, `GET /ticket_states`, `POST /tickets`, `GET`/`PUT /tickets/{id}`,
//! `POST /tickets/{id}/reply`, `POST /conversations/{id}/convert`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use serde_json::{Map, Value};

use super::conversations::replying_contact;
use super::{ApiResult, json_object, opt_bool, opt_i64, opt_object, opt_str, req_str};
use crate::error::ApiError;
use crate::state::{NewTicket, State as Workspace, TicketUpdate, ticket_not_found, ticket_type_not_found};
use crate::{FakeWorkspace, shapes};

pub(crate) async fn types(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::ticket_type_list(s))))
}

pub(crate) async fn show_type(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| s.ticket_type(&id).map(|t| Json(shapes::ticket_type(s, t))).ok_or_else(ticket_type_not_found))
}

pub(crate) async fn states(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::ticket_state_list(s))))
}

/// Ticket attributes: an object (values checked against the ticket type by the state).
fn ticket_attributes(body: &Map<String, Value>, field: &str) -> Result<Map<String, Value>, ApiError> {
    Ok(opt_object(body, field)?.unwrap_or_default())
}

/// `contacts: [{id} | {external_id} | {email}]`, exactly one (as Intercom allows today), to its id.
fn ticket_contact(s: &Workspace, body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let contacts = match body.get("contacts") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        None | Some(Value::Null) => return Err(ApiError::missing("contacts")),
        Some(_) => {
            return Err(ApiError::invalid("contacts", "contacts must be a list of one {id}, {external_id} or {email}"));
        }
    };
    if contacts.len() > 1 {
        return Err(ApiError::invalid("contacts", "Only one contact is allowed on a ticket"));
    }
    let item =
        contacts[0].as_object().ok_or_else(|| ApiError::invalid("contacts", "contacts items must be objects"))?;
    let found = if let Some(id) = opt_str(item, "id")? {
        s.live_contact(&id).ok()
    } else if let Some(external_id) = opt_str(item, "external_id")? {
        s.contact_by_external_id(&external_id)
    } else if let Some(email) = opt_str(item, "email")? {
        s.contact_by_email(&email)
    } else {
        return Err(ApiError::invalid("contacts", "a contact needs id, external_id or email"));
    };
    found.map(|c| vec![c.id.clone()]).ok_or_else(ApiError::contact_not_found)
}

/// `create_ticket_request`.
pub(crate) async fn create(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let ticket_type_id = req_str(&body, "ticket_type_id")?;
    let attributes = ticket_attributes(&body, "ticket_attributes")?;
    let assignment = opt_object(&body, "assignment")?.unwrap_or_default();
    let mut new = NewTicket {
        ticket_type_id,
        attributes,
        conversation_to_link_id: opt_str(&body, "conversation_to_link_id")?,
        company_id: opt_str(&body, "company_id")?,
        created_at: opt_i64(&body, "created_at")?,
        admin_assignee_id: opt_str(&assignment, "admin_assignee_id")?,
        team_assignee_id: opt_str(&assignment, "team_assignee_id")?,
        ..NewTicket::default()
    };
    ws.with_state(|s| {
        new.contact_ids = ticket_contact(s, &body)?;
        let ticket = s.create_ticket(new)?;
        Ok(Json(shapes::ticket(s, &ticket)))
    })
}

pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| s.ticket(&id).map(|t| Json(shapes::ticket(s, t))).ok_or_else(ticket_not_found))
}

/// `update_ticket_request`.
pub(crate) async fn update(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let update = TicketUpdate {
        attributes: opt_object(&body, "ticket_attributes")?,
        state_id: opt_str(&body, "ticket_state_id")?,
        open: opt_bool(&body, "open")?,
        is_shared: opt_bool(&body, "is_shared")?,
        snoozed_until: opt_i64(&body, "snoozed_until")?,
        company_id: opt_str(&body, "company_id")?,
        admin_id: opt_str(&body, "admin_id")?,
        assignee_id: opt_str(&body, "assignee_id")?,
    };
    ws.with_state(|s| {
        let ticket = s.update_ticket(&id, update)?;
        Ok(Json(shapes::ticket(s, &ticket)))
    })
}

/// `admin_reply_ticket_request` (comment, note, quick_reply) or a contact's `comment`.
pub(crate) async fn reply(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let message_type = req_str(&body, "message_type")?;
    let author_type = req_str(&body, "type")?;
    let text = req_str(&body, "body")?;
    ws.with_state(|s| {
        s.ticket(&id).ok_or_else(ticket_not_found)?;
        let author = match author_type.as_str() {
            "admin" => {
                if !matches!(message_type.as_str(), "comment" | "note" | "quick_reply") {
                    return Err(ApiError::invalid("message_type", "message_type must be comment, note or quick_reply"));
                }
                Workspace::admin_author(&s.require_admin(&req_str(&body, "admin_id")?)?)
            }
            "user" => {
                if message_type != "comment" {
                    return Err(ApiError::invalid("message_type", "a contact reply must have message_type comment"));
                }
                let contact = replying_contact(s, &body)?;
                Workspace::contact_author(s.live_contact(&contact)?)
            }
            other => return Err(ApiError::invalid("type", format!("type must be admin or user, not {other:?}"))),
        };
        let part = s.reply_to_ticket(&id, author, &message_type, &text)?;
        Ok(Json(shapes::ticket_reply(&part)))
    })
}

/// `convert_conversation_to_ticket_request`: `{ticket_type_id, ticket_state_id?, attributes?}`.
pub(crate) async fn convert(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let ticket_type_id = req_str(&body, "ticket_type_id")?;
    let state_id = opt_str(&body, "ticket_state_id")?;
    let attributes = ticket_attributes(&body, "attributes")?;
    ws.with_state(|s| {
        let ticket = s.convert_conversation(&id, &ticket_type_id, state_id, attributes)?;
        Ok(Json(shapes::ticket(s, &ticket)))
    })
}
