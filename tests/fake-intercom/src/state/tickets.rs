//! Tickets: creation (directly, linked to a conversation, or converted from one), updates (state,
//! assignee, attributes, open/closed), replies and notes, and their webhook events.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use super::State;
use super::conversations::{Author, Reference};
use super::ticket_types::{StateCategory, TicketCategory, ticket_type_not_found};
use crate::error::ApiError;
use crate::html;
use crate::shapes;
use crate::webhooks::Event;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketPart {
    pub id: String,
    /// `comment`, `note`, `assignment`, `ticket_state_updated_by_admin`, `close`, `open`, …
    pub part_type: String,
    /// HTML.
    pub body: Option<String>,
    pub previous_state: Option<StateCategory>,
    pub state: Option<StateCategory>,
    pub author: Author,
    pub assigned_to: Option<Reference>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// The id the API takes (`GET /tickets/{id}`).
    pub id: String,
    /// The number the Inbox shows (`ticket_id`).
    pub number: String,
    pub ticket_type_id: String,
    pub category: TicketCategory,
    pub state_id: String,
    pub previous_state_id: Option<String>,
    pub attributes: Map<String, Value>,
    pub contact_ids: Vec<String>,
    pub admin_assignee_id: Option<i64>,
    pub team_assignee_id: Option<i64>,
    pub open: bool,
    pub snoozed_until: Option<i64>,
    pub is_shared: bool,
    pub company_id: Option<String>,
    /// Conversations linked to it (the one it was converted from, or `conversation_to_link_id`).
    pub linked_conversation_ids: Vec<String>,
    pub parts: Vec<TicketPart>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What `POST /tickets` (or a conversion) makes a ticket from; contacts already resolved to ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTicket {
    pub ticket_type_id: String,
    pub contact_ids: Vec<String>,
    pub attributes: Map<String, Value>,
    pub conversation_to_link_id: Option<String>,
    pub company_id: Option<String>,
    pub created_at: Option<i64>,
    pub admin_assignee_id: Option<String>,
    pub team_assignee_id: Option<String>,
    /// The state it starts in (default: the type's first, Submitted).
    pub state_id: Option<String>,
}

/// `PUT /tickets/{id}` (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketUpdate {
    pub attributes: Option<Map<String, Value>>,
    pub state_id: Option<String>,
    pub open: Option<bool>,
    pub is_shared: Option<bool>,
    pub snoozed_until: Option<i64>,
    pub company_id: Option<String>,
    /// The admin making the change (default: the AI admin).
    pub admin_id: Option<String>,
    /// An admin or a team; `"0"` unassigns the admin.
    pub assignee_id: Option<String>,
}

pub fn ticket_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ticket_not_found", "Ticket not found")
}

fn state_invalid() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "ticket_state_id_invalid",
        "Ticket state id is not valid or is not associated with the ticket type",
    )
}

impl State {
    pub fn ticket(&self, id: &str) -> Option<&Ticket> {
        self.tickets.iter().find(|t| t.id == id)
    }

    fn ticket_mut(&mut self, id: &str) -> Result<&mut Ticket, ApiError> {
        self.tickets.iter_mut().find(|t| t.id == id).ok_or_else(ticket_not_found)
    }

    fn next_ticket_part(&mut self) -> String {
        self.counters.ticket_part += 1;
        self.counters.ticket_part.to_string()
    }

    fn state_category(&self, state_id: &str) -> Option<StateCategory> {
        self.ticket_state(state_id).map(|s| s.category)
    }

    /// `POST /tickets`: checks the type, the contacts, the attributes (see
    /// [`super::TicketType::check_attributes`]), the state and the assignees before creating anything.
    pub fn create_ticket(&mut self, new: NewTicket) -> Result<Ticket, ApiError> {
        let ticket_type = self.ticket_type(&new.ticket_type_id).cloned().ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", "Ticket type not found")
                .with_field("ticket_type_id")
        })?;
        if new.contact_ids.is_empty() {
            return Err(ApiError::missing("contacts"));
        }
        for id in &new.contact_ids {
            self.live_contact(id)?;
        }
        ticket_type.check_attributes(&new.attributes, true)?;
        let state_id = match new.state_id {
            Some(id) if ticket_type.state_ids.contains(&id) => id,
            Some(_) => return Err(state_invalid()),
            None => ticket_type.state_ids.first().cloned().ok_or_else(state_invalid)?,
        };
        if let Some(conversation) = &new.conversation_to_link_id {
            self.conversation(conversation).ok_or_else(ApiError::conversation_not_found)?;
        }
        let admin_assignee = self.assignee_admin(new.admin_assignee_id.as_deref())?;
        let team_assignee = self.assignee_team(new.team_assignee_id.as_deref())?;
        let now = self.now();
        let created_at = new.created_at.unwrap_or(now);
        self.counters.ticket += 1;
        self.counters.ticket_number += 1;
        let me = self.me().cloned().ok_or_else(ApiError::unauthorized)?;
        let category = self.state_category(&state_id);
        let part = TicketPart {
            id: self.next_ticket_part(),
            part_type: "ticket_state_updated_by_admin".to_owned(),
            body: None,
            previous_state: category,
            state: category,
            author: Self::admin_author(&me),
            assigned_to: None,
            created_at,
        };
        let mut attributes = new.attributes;
        attributes.retain(|_, v| !v.is_null());
        let ticket = Ticket {
            id: self.counters.ticket.to_string(),
            number: self.counters.ticket_number.to_string(),
            ticket_type_id: ticket_type.id.clone(),
            category: ticket_type.category,
            state_id,
            previous_state_id: None,
            attributes,
            contact_ids: new.contact_ids,
            admin_assignee_id: admin_assignee,
            team_assignee_id: team_assignee,
            open: true,
            snoozed_until: None,
            is_shared: ticket_type.category == TicketCategory::Customer,
            company_id: new.company_id,
            linked_conversation_ids: new.conversation_to_link_id.iter().cloned().collect(),
            parts: vec![part],
            created_at,
            updated_at: now,
        };
        if let Some(conversation) = &new.conversation_to_link_id {
            self.link_conversation(conversation, &ticket.id);
        }
        self.tickets.push(ticket.clone());
        self.emit_ticket("ticket.created", &ticket.id);
        Ok(ticket)
    }

    fn link_conversation(&mut self, conversation_id: &str, ticket_id: &str) {
        if let Ok(conv) = self.conversation_mut(conversation_id)
            && !conv.linked_ticket_ids.iter().any(|t| t == ticket_id)
        {
            conv.linked_ticket_ids.push(ticket_id.to_owned());
        }
    }

    /// An admin id to assign to (`None` or `"0"`: nobody), or 404 `assignee_not_found`.
    fn assignee_admin(&self, id: Option<&str>) -> Result<Option<i64>, ApiError> {
        match id.filter(|id| *id != "0") {
            None => Ok(None),
            Some(id) => match (self.admin(id), id.parse::<i64>()) {
                (Some(_), Ok(n)) => Ok(Some(n)),
                _ => Err(ApiError::assignee_not_found()),
            },
        }
    }

    fn assignee_team(&self, id: Option<&str>) -> Result<Option<i64>, ApiError> {
        match id.filter(|id| *id != "0") {
            None => Ok(None),
            Some(id) => match (self.team(id), id.parse::<i64>()) {
                (Some(_), Ok(n)) => Ok(Some(n)),
                _ => Err(ApiError::assignee_not_found()),
            },
        }
    }

    /// `POST /conversations/{id}/convert`: a ticket of that type for the conversation's contacts, starting
    /// with the conversation's first message, linked to it.
    pub fn convert_conversation(
        &mut self,
        conversation_id: &str,
        ticket_type_id: &str,
        state_id: Option<String>,
        attributes: Map<String, Value>,
    ) -> Result<Ticket, ApiError> {
        let conv = self.conversation(conversation_id).cloned().ok_or_else(ApiError::conversation_not_found)?;
        if self.ticket_type(ticket_type_id).is_none() {
            return Err(ticket_type_not_found().with_field("ticket_type_id"));
        }
        let webhooks_on = std::mem::replace(&mut self.webhooks_on, false);
        let made = self.create_ticket(NewTicket {
            ticket_type_id: ticket_type_id.to_owned(),
            contact_ids: conv.contact_ids.clone(),
            attributes,
            conversation_to_link_id: Some(conversation_id.to_owned()),
            state_id,
            ..NewTicket::default()
        });
        self.webhooks_on = webhooks_on;
        let ticket = made?;
        let part_id = self.next_ticket_part();
        let first = TicketPart {
            id: part_id,
            part_type: "comment".to_owned(),
            body: Some(conv.source.body.clone()),
            previous_state: None,
            state: None,
            author: conv.source.author.clone(),
            assigned_to: None,
            created_at: conv.created_at,
        };
        let ticket = self.ticket_mut(&ticket.id)?;
        ticket.parts.insert(0, first);
        let ticket = ticket.clone();
        self.emit_ticket("ticket.created", &ticket.id);
        Ok(ticket)
    }

    /// `PUT /tickets/{id}`: all or nothing. Webhooks: `ticket.state.updated` (and `ticket.resolved` into a
    /// resolved state), `ticket.admin.assigned`, `ticket.closed`.
    pub fn update_ticket(&mut self, id: &str, update: TicketUpdate) -> Result<Ticket, ApiError> {
        let current = self.ticket(id).cloned().ok_or_else(ticket_not_found)?;
        let ticket_type = self.ticket_type(&current.ticket_type_id).cloned().ok_or_else(ticket_type_not_found)?;
        if let Some(attrs) = &update.attributes {
            ticket_type.check_attributes(attrs, false)?;
        }
        if let Some(state) = &update.state_id
            && !ticket_type.state_ids.contains(state)
        {
            return Err(state_invalid());
        }
        let actor = match &update.admin_id {
            Some(admin) => self.admin(admin).cloned().ok_or_else(ApiError::assignee_not_found)?,
            None => self.me().cloned().ok_or_else(ApiError::unauthorized)?,
        };
        let assignee = match update.assignee_id.as_deref() {
            None => None,
            Some("0") => Some(Reference { kind: "nobody_admin".to_owned(), id: None }),
            Some(a) if self.admin(a).is_some() => Some(Reference { kind: "admin".to_owned(), id: Some(a.to_owned()) }),
            Some(t) if self.team(t).is_some() => Some(Reference { kind: "team".to_owned(), id: Some(t.to_owned()) }),
            Some(_) => return Err(ApiError::assignee_not_found()),
        };
        let now = self.now();
        let author = Self::admin_author(&actor);
        let mut topics = Vec::new();
        let mut parts = Vec::new();
        let new_state = update.state_id.filter(|s| *s != current.state_id);
        if let Some(state) = &new_state {
            let (before, after) = (self.state_category(&current.state_id), self.state_category(state));
            parts.push(("ticket_state_updated_by_admin", before, after, None));
            topics.push("ticket.state.updated");
            if after == Some(StateCategory::Resolved) {
                topics.push("ticket.resolved");
            }
        }
        if let Some(reference) = &assignee {
            parts.push(("assignment", None, None, Some(reference.clone())));
            if reference.kind == "admin" {
                topics.push("ticket.admin.assigned");
            }
        }
        match update.open {
            Some(false) if current.open => {
                parts.push(("close", None, None, None));
                topics.push("ticket.closed");
            }
            Some(true) if !current.open => parts.push(("open", None, None, None)),
            _ => {}
        }
        let part_ids: Vec<String> = parts.iter().map(|_| self.next_ticket_part()).collect();
        let ticket = self.ticket_mut(id)?;
        for (k, v) in update.attributes.unwrap_or_default() {
            if v.is_null() {
                ticket.attributes.remove(&k);
            } else {
                ticket.attributes.insert(k, v);
            }
        }
        if let Some(state) = new_state {
            ticket.previous_state_id = Some(std::mem::replace(&mut ticket.state_id, state));
        }
        if let Some(reference) = &assignee {
            let parsed = reference.id.as_deref().and_then(|i| i.parse().ok());
            match reference.kind.as_str() {
                "team" => ticket.team_assignee_id = parsed,
                _ => ticket.admin_assignee_id = parsed,
            }
        }
        if let Some(open) = update.open {
            ticket.open = open;
            if !open {
                ticket.snoozed_until = None;
            }
        }
        if let Some(until) = update.snoozed_until {
            ticket.snoozed_until = Some(until);
        }
        if let Some(shared) = update.is_shared {
            ticket.is_shared = shared;
        }
        if update.company_id.is_some() {
            ticket.company_id = update.company_id;
        }
        for (part_id, (part_type, previous_state, state, assigned_to)) in part_ids.into_iter().zip(parts) {
            ticket.parts.push(TicketPart {
                id: part_id,
                part_type: part_type.to_owned(),
                body: None,
                previous_state,
                state,
                author: author.clone(),
                assigned_to,
                created_at: now,
            });
        }
        ticket.updated_at = now;
        let ticket = ticket.clone();
        for topic in topics {
            self.emit_ticket(topic, id);
        }
        Ok(ticket)
    }

    /// `POST /tickets/{id}/reply`: a comment or note by an admin (`author` from [`State::require_admin`]) or
    /// a comment by a contact. A note sends `ticket.note.created`.
    pub fn reply_to_ticket(
        &mut self,
        id: &str,
        author: Author,
        part_type: &str,
        body: &str,
    ) -> Result<TicketPart, ApiError> {
        self.ticket(id).ok_or_else(ticket_not_found)?;
        let now = self.now();
        let part = TicketPart {
            id: self.next_ticket_part(),
            part_type: part_type.to_owned(),
            body: Some(html::to_html(body)),
            previous_state: None,
            state: None,
            author,
            assigned_to: None,
            created_at: now,
        };
        let ticket = self.ticket_mut(id)?;
        ticket.parts.push(part.clone());
        ticket.updated_at = now;
        if part_type == "note" {
            self.emit_ticket("ticket.note.created", id);
        }
        Ok(part)
    }

    /// Queues a ticket webhook: the ticket as the REST API renders it is the `data.item`.
    fn emit_ticket(&mut self, topic: &'static str, ticket_id: &str) {
        if !self.webhooks_on {
            return;
        }
        let request_version = std::mem::replace(&mut self.api_version, self.webhook_api_version);
        let item = self.ticket(ticket_id).map(|t| shapes::ticket(self, t));
        self.api_version = request_version;
        let created_at = self.now();
        if let Some(item) = item {
            self.outbox.push(Event { topic, conversation_id: ticket_id.to_owned(), item, created_at });
        }
    }
}
