//! `create-ticket`: opens a ticket of a type (by name or id) for the customer, its attributes checked against the
//! type before anything is sent.
//!
//! Rounds: the ticket types (from the client's memory, at most 5 minutes old; read again once when the type is
//! not there); the customer, found or created as create-conversation does; `POST /tickets`. A create: when its
//! outcome is unknown, a retry must look for the ticket before creating another.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::get_ticket::{TicketAnswer, ticket_answer};
use super::ticket_rules::{missing_required, refused, refused_ticket_write, ticket_attributes, ticket_type};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::Attributes;
use crate::intercom::tickets::TICKET_CATALOG_TTL;
use crate::intercom::{ContactKey, NewTicket, TicketType};
use crate::validate::{contact_key, conversation_id, message_body, required_text};

/// Longest ticket type name and title accepted.
pub const MAX_TICKET_TYPE_CHARS: usize = 255;
pub const MAX_TITLE_CHARS: usize = 255;
/// A type not found in a list older than this is looked for in a fresh one.
pub const TICKET_TYPES_REREAD_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = crate::validate::schema::customer_key))]
pub struct CreateTicketRequest {
    /// The ticket type's name (as in Settings → Tickets, without case) or id; an unknown one is 400
    /// `unknown_ticket_type` listing the types.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = MAX_TICKET_TYPE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub ticket_type: String,
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = MAX_TITLE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub title: String,
    /// Plain text.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_MESSAGE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(email, length(max = crate::validate::MAX_EMAIL_BYTES), regex(pattern = crate::validate::schema::EMAIL)))]
    pub user_email: Option<String>,
    /// The id in the customer's own system (Intercom `external_id`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_USER_ID_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub user_id: Option<String>,
    /// The Intercom contact id (letters and digits); wins over userId and userEmail.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::CONTACT_ID)))]
    pub contact_id: Option<String>,
    /// The type's other attributes by name: strings, numbers, booleans; a list attribute by its choice's label;
    /// a datetime as Unix seconds or RFC 3339. The type's required attributes must be given.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "super::ticket_rules::schema::attributes"))]
    pub attributes: Option<Attributes>,
    /// A conversation to link the ticket to (back-office and tracker types; a customer's conversation becomes a
    /// customer ticket with convert-to-ticket instead).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub conversation_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateTicketResponse {
    #[serde(flatten)]
    pub ticket: TicketAnswer,
    /// The customer the ticket is for.
    pub contact_id: String,
    /// True when the customer was not yet an Intercom contact.
    pub contact_created: bool,
}

/// A validated request.
struct Checked {
    ticket_type: String,
    title: String,
    description: String,
    key: ContactKey,
    attributes: Attributes,
    conversation_id: Option<String>,
}

pub async fn create_ticket<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: CreateTicketRequest,
) -> Result<CreateTicketResponse, ActionError> {
    let checked = validated(request)?;
    let kind = find_ticket_type(helpdesk, &checked.ticket_type).await?;
    let attributes = ticket_attributes(&kind, &checked.attributes)?;
    missing_required(&kind, &attributes)?;
    if checked.conversation_id.is_some() && kind.category.as_deref() == Some("Customer") {
        return Err(refused(
            "invalid_request",
            "conversationId",
            format!(
                "{:?} is a customer ticket type, which Intercom does not link to a conversation; convert the \
                 conversation with convert-to-ticket, or choose a back-office type",
                kind.name
            ),
            Vec::new(),
        ));
    }
    // Only now that the ticket can be created: a refused request must not leave a new contact behind.
    let resolved = helpdesk
        .find_or_create_contact(&checked.key, None, None)
        .await
        .map_err(|e| if e.is_not_found() { super::get_contact::contact_not_found(&checked.key) } else { e.into() })?;
    let mut ticket = NewTicket::new(&kind.id, &resolved.contact.id, &checked.title, &checked.description, attributes);
    ticket.conversation_to_link_id = checked.conversation_id;
    let created = helpdesk.create_ticket(&ticket).await.map_err(|e| {
        refused_ticket_write(e, "conversationId", "Intercom has no conversation with this conversationId")
    })?;
    tracing::info!(ticket_id = %created.id, ticket_type_id = %kind.id, contact_id = %resolved.contact.id, "ticket created");
    Ok(CreateTicketResponse {
        ticket: ticket_answer(created),
        contact_id: resolved.contact.id,
        contact_created: resolved.created,
    })
}

fn validated(request: CreateTicketRequest) -> Result<Checked, ActionError> {
    Ok(Checked {
        ticket_type: required_text("ticketType", &request.ticket_type, MAX_TICKET_TYPE_CHARS)?,
        title: required_text("title", &request.title, MAX_TITLE_CHARS)?,
        description: message_body("description", &request.description)?,
        key: contact_key(request.contact_id, request.user_id, request.user_email)?,
        attributes: request.attributes.unwrap_or_default(),
        conversation_id: request.conversation_id.map(|id| conversation_id(&id)).transpose()?,
    })
}

/// The ticket type `given` names, from the client's memory; a miss is looked for once more in a list read at
/// most [`TICKET_TYPES_REREAD_AFTER`] ago (a type created in the last minutes).
pub async fn find_ticket_type<H: Helpdesk + ?Sized>(helpdesk: &H, given: &str) -> Result<TicketType, ActionError> {
    let types = helpdesk.list_ticket_types(TICKET_CATALOG_TTL).await?;
    if let Ok(kind) = ticket_type(&types, given) {
        return Ok(kind.clone());
    }
    let types = helpdesk.list_ticket_types(TICKET_TYPES_REREAD_AFTER).await?;
    ticket_type(&types, given).cloned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::{IntercomError, ResolvedContact, Ticket};
    use crate::testing::contact;

    fn types() -> Vec<TicketType> {
        serde_json::from_value(json!([
            {"id": "88", "name": "Account deletion", "category": "Back-office",
             "ticket_type_attributes": {"data": [
                {"name": "_default_title_", "data_type": "string", "required_to_create": true},
                {"name": "_default_description_", "data_type": "string", "required_to_create": true},
                {"name": "Reason", "data_type": "list", "required_to_create": true,
                 "input_options": {"list_options": [{"id": "r-gdpr", "label": "GDPR"}, {"id": "r-other", "label": "Other"}]}}]}},
            {"id": "89", "name": "Refund request", "category": "Customer"}
        ]))
        .unwrap()
    }

    fn created(ticket: &NewTicket) -> Ticket {
        serde_json::from_value(json!({
            "type": "ticket", "id": "626", "ticket_id": "33", "ticket_attributes": ticket.ticket_attributes,
            "ticket_state": {"id": "8481", "category": "submitted", "internal_label": "Submitted", "external_label": "Submitted"},
            "ticket_type": {"id": ticket.ticket_type_id, "name": "Account deletion", "category": "Back-office"},
            "contacts": {"contacts": [{"id": ticket.contacts[0].id}]},
            "admin_assignee_id": 0, "team_assignee_id": 0, "open": true,
            "linked_objects": {"data": ticket.conversation_to_link_id.iter().map(|id| json!({"type": "conversation", "id": id})).collect::<Vec<_>>()}
        }))
        .unwrap()
    }

    fn request(body: serde_json::Value) -> CreateTicketRequest {
        crate::http::from_value(body).unwrap()
    }

    #[tokio::test]
    async fn a_ticket_of_a_named_type_is_created_for_the_customer_with_checked_attributes() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_list_ticket_types().times(1).returning(|_| Ok(types()));
        helpdesk
            .expect_find_or_create_contact()
            .withf(|key, _, _| *key == ContactKey::Email("jane@example.com".into()))
            .returning(|_, _, _| Ok(ResolvedContact { contact: contact("65f", "jane@example.com"), created: false }));
        helpdesk
            .expect_create_ticket()
            .withf(|t| {
                serde_json::to_value(t).unwrap()
                    == json!({"ticket_type_id": "88", "contacts": [{"id": "65f"}], "conversation_to_link_id": "123",
                              "ticket_attributes": {"Reason": "r-gdpr", "_default_title_": "Delete my account",
                                                    "_default_description_": "Jane asks to delete her account."}})
            })
            .times(1)
            .returning(|t| Ok(created(t)));
        let answer = create_ticket(
            &helpdesk,
            request(json!({"ticketType": "account deletion", "title": " Delete my account ",
                           "description": "Jane asks to delete her account.", "userEmail": "jane@example.com",
                           "attributes": {"reason": "gdpr"}, "conversationId": "123"})),
        )
        .await
        .unwrap();
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!((json["ticketId"].as_str(), json["inboxTicketId"].as_str()), (Some("626"), Some("33")));
        assert_eq!((json["contactId"].as_str(), json["contactCreated"].as_bool()), (Some("65f"), Some(false)));
        assert_eq!(json["title"], "Delete my account");
        assert_eq!(json["attributes"], json!({"Reason": "r-gdpr"}));
        assert_eq!(json["linked"], json!([{"type": "conversation", "id": "123", "category": null}]));
        assert_eq!(json["state"]["customerLabel"], "Submitted");
    }

    #[tokio::test]
    async fn an_unknown_type_is_looked_for_in_a_fresh_list_then_refused_listing_the_types() {
        let mut helpdesk = MockHelpdesk::new();
        let mut expected = vec![TICKET_TYPES_REREAD_AFTER, TICKET_CATALOG_TTL];
        helpdesk.expect_list_ticket_types().times(2).returning(move |max_age| {
            assert_eq!(Some(max_age), expected.pop(), "the memory first, then a list at most 30 s old");
            Ok(types())
        });
        let err = create_ticket(
            &helpdesk,
            request(json!({"ticketType": "Legal request", "title": "t", "description": "d", "contactId": "65f"})),
        )
        .await
        .unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (400, "unknown_ticket_type"));
        assert_eq!(err.to_json()["allowed"], json!(["Account deletion", "Refund request"]));
    }

    #[tokio::test]
    async fn refusals_come_before_any_write() {
        let mut helpdesk = MockHelpdesk::new(); // no contact or ticket call is expected
        helpdesk.expect_list_ticket_types().returning(|_| Ok(types()));
        for (body, code, field) in [
            (json!({"attributes": {"Reason": "Because"}}), "invalid_ticket_attribute", "attributes.Reason"),
            (json!({"attributes": {}}), "invalid_ticket_attribute", "attributes.Reason"),
            (json!({"attributes": {"Colour": "red"}}), "invalid_ticket_attribute", "attributes.Colour"),
            (
                json!({"ticketType": "Refund request", "conversationId": "5", "attributes": {}}),
                "invalid_request",
                "conversationId",
            ),
            (json!({"title": " "}), "invalid_request", "title"),
            (json!({"description": ""}), "invalid_request", "description"),
            (json!({"conversationId": "x"}), "invalid_request", "conversationId"),
            (json!({"userEmail": "nope"}), "invalid_request", "userEmail"),
        ] {
            let mut full = json!({"ticketType": "Account deletion", "title": "t", "description": "d",
                                  "userEmail": "jane@example.com", "attributes": {"Reason": "Other"}});
            for (k, v) in body.as_object().unwrap() {
                full[k] = v.clone();
            }
            let err = create_ticket(&helpdesk, request(full)).await.unwrap_err();
            assert_eq!(
                (err.status().as_u16(), err.code(), err.to_json()["field"].as_str()),
                (400, code, Some(field)),
                "{body}"
            );
        }
    }

    #[tokio::test]
    async fn an_unknown_contact_id_is_404_contact_not_found_and_a_lost_answer_stays_unknown() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_list_ticket_types().returning(|_| Ok(types()));
        helpdesk.expect_find_or_create_contact().returning(|key, _, _| match key {
            ContactKey::Id(_) => Err(IntercomError::Api {
                status: 404,
                code: "not_found".into(),
                message: "contact x does not exist".into(),
                field: None,
                request_id: None,
            }),
            _ => Ok(ResolvedContact { contact: contact("65f", "jane@example.com"), created: true }),
        });
        helpdesk
            .expect_create_ticket()
            .returning(|_| Err(IntercomError::OutcomeUnknown { operation: "creating a ticket", request_id: None }));
        let body = json!({"ticketType": "89", "title": "t", "description": "d", "contactId": "abc"});
        let err = create_ticket(&helpdesk, request(body)).await.unwrap_err();
        assert_eq!(
            (err.status().as_u16(), err.code(), err.to_json()["field"].as_str()),
            (404, "contact_not_found", Some("contactId"))
        );
        let body = json!({"ticketType": "89", "title": "t", "description": "d", "userId": "u-1"});
        let err = create_ticket(&helpdesk, request(body)).await.unwrap_err();
        assert!(err.outcome_unknown(), "{err:?}");
    }
}
