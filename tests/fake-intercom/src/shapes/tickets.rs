//! Ticket types, ticket states, tickets and ticket parts.

use serde_json::{Value, json};

use super::looks_like_email;
use crate::state::{Author, State, Ticket, TicketPart, TicketState, TicketType, TicketTypeAttribute};

/// `ticket_type_attribute`. `input_options`: `{multiline}` for strings, `{list: [{id, label, archived}],
/// allow_multiple_values}` for lists, `{}` otherwise.
fn ticket_type_attribute(state: &State, ticket_type: &TicketType, a: &TicketTypeAttribute) -> Value {
    let input_options = match a.data_type {
        crate::state::TicketAttributeType::String => json!({ "multiline": a.multiline }),
        crate::state::TicketAttributeType::List => {
            let items: Vec<Value> =
                a.options.iter().map(|o| json!({ "id": o.id, "label": o.label, "archived": false })).collect();
            json!({ "list": items, "allow_multiple_values": false })
        }
        _ => json!({}),
    };
    json!({
        "type": "ticket_type_attribute",
        "id": a.id,
        "workspace_id": state.workspace_id,
        "name": a.name,
        "description": a.description,
        "data_type": a.data_type.as_str(),
        "input_options": input_options,
        "order": a.order,
        "required_to_create": a.required_to_create,
        "required_to_create_for_contacts": false,
        "visible_on_create": true,
        "visible_to_contacts": a.visible_to_contacts,
        "default": a.default,
        "ticket_type_id": ticket_type.id.parse::<i64>().unwrap_or_default(),
        "archived": false,
        "created_at": a.created_at,
        "updated_at": a.created_at,
    })
}

/// `ticket_state`.
fn ticket_state(s: &TicketState) -> Value {
    json!({
        "type": "ticket_state",
        "id": s.id,
        "category": s.category.as_str(),
        "internal_label": s.internal_label,
        "external_label": s.external_label,
    })
}

/// `ticket_type`. Its attributes are under `ticket_type_attributes.ticket_type_attributes`, as the schema
/// says, and again under `ticket_type_attributes.data`, where Intercom's own examples (and API) put them.
pub fn ticket_type(state: &State, t: &TicketType) -> Value {
    let attributes: Vec<Value> = t.attributes.iter().map(|a| ticket_type_attribute(state, t, a)).collect();
    let states: Vec<Value> = t.state_ids.iter().filter_map(|id| state.ticket_state(id)).map(ticket_state).collect();
    json!({
        "type": "ticket_type",
        "id": t.id,
        "category": t.category.as_str(),
        "name": t.name,
        "description": t.description,
        "icon": t.icon,
        "workspace_id": state.workspace_id,
        "ticket_type_attributes": {
            "type": "list",
            "ticket_type_attributes": attributes.clone(),
            "data": attributes,
        },
        "ticket_states": { "type": "list", "data": states },
        "archived": t.archived,
        "is_internal": false,
        "created_at": t.created_at,
        "updated_at": t.created_at,
    })
}

/// `ticket_type_list`.
pub fn ticket_type_list(state: &State) -> Value {
    let data: Vec<Value> = state.ticket_types.iter().map(|t| ticket_type(state, t)).collect();
    json!({ "type": "list", "data": data })
}

/// `ticket_state_list` of `ticket_state_detailed`: each state with the types that use it (without their
/// attributes and states, to keep it short).
pub fn ticket_state_list(state: &State) -> Value {
    let data: Vec<Value> = state
        .ticket_states
        .iter()
        .map(|s| {
            let types: Vec<Value> = state
                .ticket_types
                .iter()
                .filter(|t| t.state_ids.contains(&s.id))
                .map(|t| {
                    json!({
                        "type": "ticket_type",
                        "id": t.id,
                        "name": t.name,
                        "description": t.description,
                        "icon": t.icon,
                        "archived": t.archived,
                        "is_internal": false,
                        "category": t.category.as_str(),
                    })
                })
                .collect();
            let mut v = ticket_state(s);
            v["archived"] = json!(false);
            v["ticket_types"] = json!({ "type": "list", "data": types });
            v
        })
        .collect();
    json!({ "type": "list", "data": data })
}

/// `ticket_part_author`: `type` one of admin, bot, team, user (a lead writes as `user`); `email` left out
/// when it is not a valid address.
fn part_author(a: &Author) -> Value {
    let kind = match a.kind.as_str() {
        "admin" | "bot" | "team" => a.kind.as_str(),
        _ => "user",
    };
    let mut v = json!({ "type": kind, "id": a.id, "name": a.name });
    if let Some(email) = a.email.as_deref().filter(|e| looks_like_email(e)) {
        v["email"] = json!(email);
    }
    v
}

/// `ticket_part`.
fn ticket_part(p: &TicketPart) -> Value {
    let mut v = json!({
        "type": "ticket_part",
        "id": p.id,
        "part_type": p.part_type,
        "body": p.body,
        "created_at": p.created_at,
        "updated_at": p.created_at,
        "assigned_to": p.assigned_to.as_ref().map(|r| json!({ "type": r.kind, "id": r.id })),
        "author": part_author(&p.author),
        "attachments": [],
        "external_id": Value::Null,
        "redacted": false,
        "updated_attribute_data": Value::Null,
    });
    if let Some(previous) = p.previous_state {
        v["previous_ticket_state"] = json!(previous.as_str());
    }
    if let Some(state) = p.state {
        v["ticket_state"] = json!(state.as_str());
    }
    v
}

/// `ticket`. Assignees are `0` for nobody (the schema's integers), `snoozed_until` is there only when
/// snoozed (it is not nullable).
pub fn ticket(state: &State, t: &Ticket) -> Value {
    let ticket_type_json = state.ticket_type(&t.ticket_type_id).map_or(Value::Null, |tt| ticket_type(state, tt));
    let state_json = state.ticket_state(&t.state_id).map_or(Value::Null, ticket_state);
    let contacts: Vec<Value> = t
        .contact_ids
        .iter()
        .map(|id| {
            let external_id = state.contact(id).and_then(|c| c.external_id.clone());
            json!({ "type": "contact", "id": id, "external_id": external_id })
        })
        .collect();
    let linked: Vec<Value> = t
        .linked_conversation_ids
        .iter()
        .map(|id| json!({ "type": "conversation", "id": id, "category": Value::Null }))
        .collect();
    let parts: Vec<Value> = t.parts.iter().map(ticket_part).collect();
    let mut v = json!({
        "type": "ticket",
        "id": t.id,
        "ticket_id": t.number,
        "category": t.category.as_str(),
        "ticket_attributes": t.attributes,
        "ticket_state": state_json,
        "ticket_type": ticket_type_json,
        "contacts": { "type": "contact.list", "contacts": contacts },
        "admin_assignee_id": t.admin_assignee_id.unwrap_or(0),
        "team_assignee_id": t.team_assignee_id.unwrap_or(0),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "open": t.open,
        "linked_objects": { "type": "list", "total_count": linked.len(), "has_more": false, "data": linked },
        "ticket_parts": { "type": "ticket_part.list", "ticket_parts": parts, "total_count": t.parts.len() },
        "is_shared": t.is_shared,
        "previous_ticket_state_id": t.previous_state_id,
    });
    if let Some(until) = t.snoozed_until {
        v["snoozed_until"] = json!(until);
    }
    v
}

/// `ticket_reply` (answer of `POST /tickets/{id}/reply`).
pub fn ticket_reply(p: &TicketPart) -> Value {
    json!({
        "type": "ticket_part",
        "id": p.id,
        "part_type": p.part_type,
        "body": p.body,
        "created_at": p.created_at,
        "updated_at": p.created_at,
        "author": part_author(&p.author),
        "attachments": [],
        "redacted": false,
    })
}
