//! `convert-to-ticket`: turns a customer's conversation into a ticket of a customer type
//! (`POST /conversations/{id}/convert`), its attributes checked against the type first.
//!
//! Rounds: the ticket types (from the client's memory); the conversion. Not repeated blindly: when its outcome is
//! unknown, a retry must first read the conversation to see whether it was converted.

use serde::{Deserialize, Serialize};

use super::create_ticket::{MAX_TICKET_TYPE_CHARS, find_ticket_type};
use super::get_ticket::{TicketAnswer, ticket_answer};
use super::ticket_rules::{convertible, refused_ticket_write, ticket_attributes};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::TicketConversion;
use crate::intercom::models::Attributes;
use crate::intercom::tickets::TICKET_CATALOG_TTL;
use crate::validate::{conversation_id, required_text};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConvertToTicketRequest {
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub conversation_id: String,
    /// A customer ticket type's name (without case) or id.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = MAX_TICKET_TYPE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub ticket_type: String,
    /// The type's attributes by name, as create-ticket takes them.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "super::ticket_rules::schema::attributes"))]
    pub attributes: Option<Attributes>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConvertToTicketResponse {
    /// The conversation converted.
    pub conversation_id: String,
    #[serde(flatten)]
    pub ticket: TicketAnswer,
}

pub async fn convert_to_ticket<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: ConvertToTicketRequest,
) -> Result<ConvertToTicketResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let given_type = required_text("ticketType", &request.ticket_type, MAX_TICKET_TYPE_CHARS)?;
    let kind = find_ticket_type(helpdesk, &given_type).await?;
    // The whole list again (from memory) to name the customer types when this one is not.
    convertible(&helpdesk.list_ticket_types(TICKET_CATALOG_TTL).await?, &kind)?;
    let attributes = match &request.attributes {
        Some(given) if !given.is_empty() => Some(ticket_attributes(&kind, given)?),
        _ => None,
    };
    let conversion = TicketConversion { ticket_type_id: kind.id.clone(), ticket_state_id: None, attributes };
    let ticket = helpdesk.convert_to_ticket(&conversation_id, &conversion).await.map_err(|e| {
        refused_ticket_write(e, "conversationId", "Intercom has no conversation with this conversationId")
    })?;
    tracing::info!(%conversation_id, ticket_id = %ticket.id, ticket_type_id = %kind.id, "conversation converted to a ticket");
    Ok(ConvertToTicketResponse { conversation_id, ticket: ticket_answer(ticket) })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::{IntercomError, Ticket, TicketType};

    fn types() -> Vec<TicketType> {
        serde_json::from_value(json!([
            {"id": "53", "name": "Refund request", "category": "Customer", "ticket_type_attributes": {"data": [
                {"name": "Order", "data_type": "string"}]}},
            {"id": "88", "name": "Account deletion", "category": "Back-office"}
        ]))
        .unwrap()
    }

    fn request(body: serde_json::Value) -> ConvertToTicketRequest {
        crate::http::from_value(body).unwrap()
    }

    #[tokio::test]
    async fn a_conversation_becomes_a_customer_ticket() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_list_ticket_types().returning(|_| Ok(types()));
        helpdesk
            .expect_convert_to_ticket()
            .withf(|id, conversion| {
                id == "123"
                    && serde_json::to_value(conversion).unwrap()
                        == json!({"ticket_type_id": "53", "attributes": {"Order": "A-1"}})
            })
            .times(1)
            .returning(|_, _| {
                // `POST /conversations/{id}/convert`, 200, as the 2.16 contract's example writes it (abridged).
                Ok(serde_json::from_value::<Ticket>(json!({
                    "type": "ticket", "id": "611", "ticket_id": "22", "ticket_attributes": {},
                    "ticket_state": {"type": "ticket_state", "id": "7493", "category": "submitted",
                                     "internal_label": "Submitted", "external_label": "Submitted"},
                    "ticket_type": {"type": "ticket_type", "id": "53", "name": "my-ticket-type-1",
                                    "ticket_type_attributes": {"type": "list", "data": []}, "category": "Customer"},
                    "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "6762f2041bb69f9f2193bc0c",
                                                                       "external_id": "70"}]},
                    "admin_assignee_id": 0, "team_assignee_id": 0, "created_at": 1734537732, "updated_at": 1734537737,
                    "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [
                        {"type": "ticket_part", "id": "151", "part_type": "comment", "body": "<p>Comment for message</p>",
                         "created_at": 1734537732,
                         "author": {"id": "6762f2041bb69f9f2193bc0c", "type": "user", "name": "Joe Bloggs",
                                    "email": "joe@bloggs.com"}}],
                        "total_count": 2},
                    "open": true, "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
                    "category": "Customer", "is_shared": true
                }))
                .unwrap())
            });
        let answer = convert_to_ticket(
            &helpdesk,
            request(json!({"conversationId": "123", "ticketType": "refund REQUEST", "attributes": {"order": "A-1"}})),
        )
        .await
        .unwrap();
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!((json["conversationId"].as_str(), json["ticketId"].as_str()), (Some("123"), Some("611")));
        assert_eq!(json["parts"][0]["text"], "Comment for message");
        assert_eq!(json["totalParts"], 2);
    }

    #[tokio::test]
    async fn a_type_that_is_not_a_customer_type_is_refused_listing_the_customer_types() {
        let mut helpdesk = MockHelpdesk::new(); // no conversion is expected
        helpdesk.expect_list_ticket_types().returning(|_| Ok(types()));
        let err =
            convert_to_ticket(&helpdesk, request(json!({"conversationId": "123", "ticketType": "Account deletion"})))
                .await
                .unwrap_err();
        assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (400, Some("ticketType")));
        assert_eq!(err.to_json()["allowed"], json!(["Refund request"]));
        let err = convert_to_ticket(&helpdesk, request(json!({"conversationId": "12a", "ticketType": "53"})))
            .await
            .unwrap_err();
        assert_eq!(err.to_json()["field"], "conversationId");
    }

    #[tokio::test]
    async fn an_unknown_conversation_is_404_and_a_lost_answer_stays_unknown() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_list_ticket_types().returning(|_| Ok(types()));
        helpdesk.expect_convert_to_ticket().returning(|id, _| {
            Err(if id == "404" {
                IntercomError::Api {
                    status: 404,
                    code: "not_found".into(),
                    message: String::new(),
                    field: None,
                    request_id: None,
                }
            } else {
                IntercomError::OutcomeUnknown { operation: "converting a conversation to a ticket", request_id: None }
            })
        });
        let err = convert_to_ticket(&helpdesk, request(json!({"conversationId": "404", "ticketType": "53"})))
            .await
            .unwrap_err();
        assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (404, Some("conversationId")));
        let err = convert_to_ticket(&helpdesk, request(json!({"conversationId": "5", "ticketType": "53"})))
            .await
            .unwrap_err();
        assert!(err.outcome_unknown());
    }
}
