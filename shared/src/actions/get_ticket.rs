//! `get-ticket`: a ticket as the agent follows it — type, state (as teammates and as the customer see it),
//! assignee, attributes, linked conversations and its history — in one read (`GET /tickets/{id}`).
//!
//! [`TicketAnswer`] is also what create-ticket, update-ticket and convert-to-ticket answer.

use serde::{Deserialize, Serialize};

use super::get_conversation::{AssigneeSummary, Author};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::Ticket;
use crate::intercom::models::Attributes;
use crate::intercom::tickets::{DESCRIPTION_ATTRIBUTE, TITLE_ATTRIBUTE, TicketPart};
use crate::text::html_to_text;
use crate::validate::numeric_id;

use super::ticket_rules::refused_ticket_write;

/// The newest parts an answer carries, and the most text of each (a ticket's notes can be long; a function's
/// answer must stay far below Lambda's 6 MB).
pub const MAX_TICKET_PARTS: usize = 100;
pub const MAX_PART_CHARS: usize = 4_000;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetTicketRequest {
    /// The ticket's API id (`ticketId` of create-ticket), not the number the Inbox shows.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub ticket_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TicketAnswer {
    /// The id every ticket action takes.
    pub ticket_id: String,
    /// The number teammates see in the Inbox (#33); not for API calls.
    pub inbox_ticket_id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub ticket_type: Option<TicketTypeSummary>,
    pub state: Option<TicketStateSummary>,
    /// False once the ticket is closed.
    pub open: Option<bool>,
    pub snoozed_until: Option<i64>,
    pub assignee: AssigneeSummary,
    pub contacts: Vec<TicketContactSummary>,
    /// The type's other attributes as Intercom holds them (list choices by id).
    pub attributes: Attributes,
    /// Conversations and tickets linked to this one.
    pub linked: Vec<LinkedSummary>,
    /// Whether the customer sees the ticket.
    pub is_shared: Option<bool>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    /// Oldest first: comments, notes, state changes (`state` says to what) and assignments; the newest 100.
    pub parts: Vec<TicketPartSummary>,
    /// How many parts the ticket has in Intercom.
    pub total_parts: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TicketTypeSummary {
    pub id: String,
    pub name: String,
    /// `Customer`, `Back-office` or `Tracker`.
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TicketStateSummary {
    pub id: String,
    /// `submitted`, `in_progress`, `waiting_on_customer` or `resolved`.
    pub category: Option<String>,
    /// As teammates see it.
    pub label: Option<String>,
    /// As the customer sees it ("your request is now In progress").
    pub customer_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TicketContactSummary {
    pub id: String,
    /// The id in the customer's own system (Intercom `external_id`).
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LinkedSummary {
    /// `conversation` or `ticket`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: String,
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TicketPartSummary {
    pub id: String,
    /// Intercom's part type: `comment`, `note`, `ticket_state_updated_by_admin`, `assignment`, …
    pub kind: String,
    pub author: Author,
    /// Plain text (4,000 characters at most).
    pub text: String,
    /// On a state change, the category the ticket moved to.
    pub state: Option<String>,
    pub created_at: Option<i64>,
}

pub async fn get_ticket<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: GetTicketRequest,
) -> Result<TicketAnswer, ActionError> {
    let id = numeric_id("ticketId", &request.ticket_id)?;
    let ticket =
        helpdesk.get_ticket(&id).await.map_err(|e| refused_ticket_write(e, "ticketId", &ticket_not_found()))?;
    Ok(ticket_answer(ticket))
}

/// What a 404 for a ticket id says.
pub fn ticket_not_found() -> String {
    "Intercom has no ticket with this ticketId; it is the API id create-ticket answered, not the Inbox number".into()
}

/// A ticket as every ticket action answers it.
pub fn ticket_answer(ticket: Ticket) -> TicketAnswer {
    let mut attributes = ticket.ticket_attributes;
    let text = |value: Option<serde_json::Value>| value.and_then(|v| v.as_str().map(str::to_owned));
    let title = text(attributes.remove(TITLE_ATTRIBUTE));
    let description = text(attributes.remove(DESCRIPTION_ATTRIBUTE));
    let parts = &ticket.ticket_parts.ticket_parts;
    let returned = parts.len() as u64;
    let newest = parts.len().saturating_sub(MAX_TICKET_PARTS);
    TicketAnswer {
        ticket_id: ticket.id,
        inbox_ticket_id: ticket.ticket_id,
        title,
        description,
        ticket_type: ticket.ticket_type.map(|t| TicketTypeSummary { id: t.id, name: t.name, category: t.category }),
        state: ticket.ticket_state.map(|s| TicketStateSummary {
            id: s.id,
            category: s.category,
            label: s.internal_label,
            customer_label: s.external_label,
        }),
        open: ticket.open,
        snoozed_until: ticket.snoozed_until,
        assignee: AssigneeSummary { admin_id: ticket.admin_assignee_id, team_id: ticket.team_assignee_id },
        contacts: ticket
            .contacts
            .contacts
            .into_iter()
            .map(|c| TicketContactSummary { id: c.id, user_id: c.external_id })
            .collect(),
        attributes,
        linked: ticket
            .linked_objects
            .data
            .into_iter()
            .map(|l| LinkedSummary { kind: l.kind, id: l.id, category: l.category })
            .collect(),
        is_shared: ticket.is_shared,
        created_at: ticket.created_at,
        updated_at: ticket.updated_at,
        parts: parts[newest..].iter().map(part_summary).collect(),
        total_parts: ticket.ticket_parts.total_count.unwrap_or(returned).max(returned),
    }
}

fn part_summary(part: &TicketPart) -> TicketPartSummary {
    let author = part.author.clone().unwrap_or_default();
    let text = part.body.as_deref().map(html_to_text).unwrap_or_default();
    TicketPartSummary {
        id: part.id.clone(),
        kind: part.part_type.clone().unwrap_or_else(|| "unknown".into()),
        author: Author { kind: author.kind, id: author.id, name: author.name, email: author.email },
        text: at_most(text, MAX_PART_CHARS),
        state: part.ticket_state.clone(),
        created_at: part.created_at,
    }
}

fn at_most(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::IntercomError;

    /// `GET /tickets/{id}`, 200, as the 2.16 contract's example writes it (the type's attributes abridged).
    pub(crate) fn contract_ticket() -> serde_json::Value {
        json!({
            "type": "ticket", "id": "631", "ticket_id": "38",
            "ticket_attributes": {"_default_title_": "attribute_value", "_default_description_": null},
            "ticket_state": {"type": "ticket_state", "id": "8537", "category": "submitted",
                             "internal_label": "Submitted", "external_label": "Submitted"},
            "ticket_type": {"type": "ticket_type", "id": "95", "name": "my-ticket-type-30",
                            "description": "my ticket type description is awesome.", "icon": "🦁",
                            "workspace_id": "x", "archived": false, "created_at": 1734537973,
                            "updated_at": 1734537973, "is_internal": false,
                            "ticket_type_attributes": {"type": "list", "data": []}, "category": "Back-office"},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "6762f2f61bb69f9f2193bc59",
                         "external_id": "b16afa36-2637-4880-adee-a46d145bc27f"}]},
            "admin_assignee_id": 0, "team_assignee_id": 0, "created_at": 1734537974, "updated_at": 1734537976,
            "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [
                {"type": "ticket_part", "id": "185", "part_type": "ticket_state_updated_by_admin",
                 "ticket_state": "submitted", "previous_ticket_state": "submitted", "created_at": 1734537975,
                 "updated_at": 1734537975,
                 "author": {"id": "991268047", "type": "admin", "name": "Ciaran509 Lee", "email": "admin509@email.com"},
                 "attachments": [], "redacted": false, "app_package_code": "test-integration"}],
                "total_count": 1},
            "open": true,
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "category": "Back-office", "is_shared": false
        })
    }

    #[tokio::test]
    async fn a_ticket_reads_as_the_agent_follows_it() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_get_ticket()
            .withf(|id| id == "631")
            .returning(|_| Ok(serde_json::from_value(contract_ticket()).unwrap()));
        let answer =
            get_ticket(&helpdesk, crate::http::from_value(json!({"ticketId": " 631 "})).unwrap()).await.unwrap();
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            json!({
                "ticketId": "631", "inboxTicketId": "38", "title": "attribute_value", "description": null,
                "ticketType": {"id": "95", "name": "my-ticket-type-30", "category": "Back-office"},
                "state": {"id": "8537", "category": "submitted", "label": "Submitted", "customerLabel": "Submitted"},
                "open": true, "snoozedUntil": null, "assignee": {"adminId": null, "teamId": null},
                "contacts": [{"id": "6762f2f61bb69f9f2193bc59", "userId": "b16afa36-2637-4880-adee-a46d145bc27f"}],
                "attributes": {}, "linked": [], "isShared": false, "createdAt": 1734537974, "updatedAt": 1734537976,
                "parts": [{"id": "185", "kind": "ticket_state_updated_by_admin",
                           "author": {"type": "admin", "id": "991268047", "name": "Ciaran509 Lee",
                                      "email": "admin509@email.com"},
                           "text": "", "state": "submitted", "createdAt": 1734537975}],
                "totalParts": 1
            })
        );
    }

    #[tokio::test]
    async fn an_unknown_or_malformed_ticket_id_names_ticket_id() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_get_ticket().returning(|_| {
            Err(IntercomError::Api {
                status: 404,
                code: "ticket_not_found".into(),
                message: "Ticket not found".into(),
                field: None,
                request_id: None,
            })
        });
        let err = get_ticket(&helpdesk, GetTicketRequest { ticket_id: "9".into() }).await.unwrap_err();
        assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (404, Some("ticketId")));
        assert!(err.to_string().contains("not the Inbox number"), "{err}");
        let err = get_ticket(&helpdesk, GetTicketRequest { ticket_id: "#33".into() }).await.unwrap_err();
        assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (400, Some("ticketId")));
    }

    #[test]
    fn long_histories_keep_the_newest_parts_and_cut_long_text() {
        let mut json = contract_ticket();
        let parts: Vec<_> = (0..150)
            .map(|i| json!({"id": i, "part_type": "note", "body": format!("<p>{}</p>", "é".repeat(5_000))}))
            .collect();
        json["ticket_parts"] = json!({"ticket_parts": parts, "total_count": 150});
        json["linked_objects"]["data"] = json!([{"type": "conversation", "id": "7583", "category": null}]);
        let answer = ticket_answer(serde_json::from_value(json).unwrap());
        assert_eq!((answer.parts.len(), answer.total_parts), (MAX_TICKET_PARTS, 150));
        assert_eq!((answer.parts[0].id.as_str(), answer.parts[99].id.as_str()), ("50", "149"));
        assert_eq!(answer.parts[0].text.chars().count(), MAX_PART_CHARS + 1);
        assert!(answer.parts[0].text.ends_with('…'));
        assert_eq!(
            answer.linked[0],
            LinkedSummary { kind: Some("conversation".into()), id: "7583".into(), category: None }
        );
    }
}
