//! `update-ticket`: moves a ticket to a state (by name), assigns it, sets its attributes, closes or reopens it —
//! one `PUT /tickets/{id}`, which sets values: repeating it changes nothing.
//!
//! Rounds: the ticket itself only when its type is needed (attributes to check, or a state name that several
//! types' states share); the states and types from the client's memory; the team by name when one is given;
//! then the update.

use serde::{Deserialize, Deserializer};

use super::create_ticket::TICKET_TYPES_REREAD_AFTER;
use super::get_ticket::{TicketAnswer, ticket_answer, ticket_not_found};
use super::ticket_rules::{StateMatch, refused_ticket_write, ticket_attributes, ticket_state};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::Attributes;
use crate::intercom::tickets::TICKET_CATALOG_TTL;
use crate::intercom::{Ticket, TicketType, TicketUpdate};
use crate::validate::{numeric_id, optional_text, required_text};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = something_to_change))]
pub struct UpdateTicketRequest {
    /// The ticket's API id (`ticketId` of create-ticket).
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub ticket_id: String,
    /// The state to move to, by its label (teammates' or customers', without case), its category
    /// (`in_progress`, `waiting_on_customer`, `resolved`…) or its id; an unknown one is 400 `unknown_ticket_state`
    /// listing the states of the ticket's type.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 255), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub state: Option<String>,
    /// Who works the ticket: `{"adminId"}`, `{"teamId"}` or `{"teamName"}`; null (or an id of `"0"`) unassigns.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<TicketAssignee>"))]
    pub assignee: Option<Option<TicketAssignee>>,
    /// Attributes of the ticket's type to set, as create-ticket takes them; null clears one.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "super::ticket_rules::schema::some_attributes"))]
    pub attributes: Option<Attributes>,
    /// False closes the ticket, true reopens it.
    #[serde(default)]
    pub open: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = exactly_one_assignee))]
pub struct TicketAssignee {
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub admin_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub team_id: Option<String>,
    /// An Intercom team's name (Settings → Teams); a name no team has is 404.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 255), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub team_name: Option<String>,
}

/// What the request's schema says across fields, in words (LLM tool schemas leave top-level combinators out).
pub const UPDATE_TICKET_RULE: &str = "Give at least one of state, assignee, attributes or open.";

/// At least one change: a state or attributes or open (not null), or an assignee (null unassigns).
#[cfg(feature = "schema")]
fn something_to_change(schema: &mut schemars::Schema) {
    let branches = serde_json::json!([
        {"required": ["state"], "properties": {"state": {"type": "string"}}},
        {"required": ["assignee"]},
        {"required": ["attributes"], "properties": {"attributes": {"type": "object"}}},
        {"required": ["open"], "properties": {"open": {"type": "boolean"}}}
    ]);
    schema.insert("anyOf".into(), branches);
}

#[cfg(feature = "schema")]
fn exactly_one_assignee(schema: &mut schemars::Schema) {
    let branches = serde_json::json!([
        {"required": ["adminId"], "properties": {"adminId": {"type": "string"}}},
        {"required": ["teamId"], "properties": {"teamId": {"type": "string"}}},
        {"required": ["teamName"], "properties": {"teamName": {"type": "string"}}}
    ]);
    schema.insert("oneOf".into(), branches);
}

/// Whom the ticket goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AssigneeChange {
    /// An admin's or a team's id: Intercom's `assignee_id` takes either.
    Id(String),
    TeamName(String),
    Nobody,
}

pub async fn update_ticket<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: UpdateTicketRequest,
) -> Result<TicketAnswer, ActionError> {
    let id = numeric_id("ticketId", &request.ticket_id)?;
    let state = optional_text("state", request.state, 255)?;
    let assignee = request.assignee.map(assignee_change).transpose()?;
    if let Some(attributes) = &request.attributes
        && attributes.is_empty()
    {
        return Err(ActionError::bad_request("attributes", "attributes must name at least one attribute"));
    }
    if state.is_none() && assignee.is_none() && request.attributes.is_none() && request.open.is_none() {
        return Err(ActionError::bad_request("state", "give at least one of state, assignee, attributes or open"));
    }
    // The ticket's type is read only when something depends on it.
    let mut current: Option<Ticket> = None;
    let ticket_attributes = match &request.attributes {
        None => None,
        Some(given) => {
            let kind = type_of(helpdesk, read_once(helpdesk, &id, &mut current).await?).await?;
            Some(ticket_attributes(&kind, given)?)
        }
    };
    let ticket_state_id = match &state {
        None => None,
        Some(name) => Some(state_id(helpdesk, &id, &mut current, name).await?),
    };
    let assignee_id = match assignee {
        None => None,
        Some(change) => Some(assignee_id(helpdesk, change).await?),
    };
    let admin_id = helpdesk.admin_id().await?;
    let update = TicketUpdate {
        ticket_attributes,
        ticket_state_id,
        open: request.open,
        // The contract's `admin_id` is an integer; an id that is not one is left out rather than sent wrong.
        admin_id: admin_id.parse::<i64>().ok(),
        assignee_id,
    };
    let ticket = helpdesk
        .update_ticket(&id, &update)
        .await
        .map_err(|e| refused_ticket_write(e, "ticketId", &ticket_not_found()))?;
    tracing::info!(ticket_id = %id, state = ?update.ticket_state_id, "ticket updated");
    Ok(ticket_answer(ticket))
}

fn assignee_change(given: Option<TicketAssignee>) -> Result<AssigneeChange, ActionError> {
    let Some(given) = given else { return Ok(AssigneeChange::Nobody) };
    let unassign = |id: &str| id.trim() == "0";
    match (given.admin_id, given.team_id, given.team_name) {
        (Some(id), None, None) if unassign(&id) => Ok(AssigneeChange::Nobody),
        (Some(id), None, None) => Ok(AssigneeChange::Id(numeric_id("assignee.adminId", &id)?)),
        (None, Some(id), None) if unassign(&id) => Ok(AssigneeChange::Nobody),
        (None, Some(id), None) => Ok(AssigneeChange::Id(numeric_id("assignee.teamId", &id)?)),
        (None, None, Some(name)) => Ok(AssigneeChange::TeamName(required_text("assignee.teamName", &name, 255)?)),
        _ => Err(ActionError::bad_request("assignee", "give exactly one of adminId, teamId or teamName in assignee")),
    }
}

async fn assignee_id<H: Helpdesk + ?Sized>(helpdesk: &H, change: AssigneeChange) -> Result<String, ActionError> {
    match change {
        AssigneeChange::Nobody => Ok("0".into()),
        AssigneeChange::Id(id) => Ok(id),
        AssigneeChange::TeamName(name) => match helpdesk.find_team(&name).await? {
            Some(team) => Ok(team.id),
            None => Err(ActionError::not_found(
                "assignee.teamName",
                format!("no Intercom team is named {name:?}; check the name in Settings → Teams, or pass teamId"),
            )),
        },
    }
}

/// The ticket, read at most once per request.
async fn read_once<'a, H: Helpdesk + ?Sized>(
    helpdesk: &H,
    id: &str,
    current: &'a mut Option<Ticket>,
) -> Result<&'a Ticket, ActionError> {
    if current.is_none() {
        let ticket =
            helpdesk.get_ticket(id).await.map_err(|e| refused_ticket_write(e, "ticketId", &ticket_not_found()))?;
        *current = Some(ticket);
    }
    current.as_ref().ok_or_else(|| ActionError::bad_request("ticketId", ticket_not_found()))
}

/// The ticket's type with its attributes: from the types in memory (read again once when it is not there), else
/// as the ticket itself carries it.
async fn type_of<H: Helpdesk + ?Sized>(helpdesk: &H, ticket: &Ticket) -> Result<TicketType, ActionError> {
    let Some(embedded) = &ticket.ticket_type else {
        return Err(ActionError::Upstream {
            code: "intercom_unexpected_answer",
            message: "Intercom's ticket carries no ticket type, so its attributes cannot be checked".into(),
            intercom_request_id: None,
        });
    };
    for max_age in [TICKET_CATALOG_TTL, TICKET_TYPES_REREAD_AFTER] {
        let types = helpdesk.list_ticket_types(max_age).await?;
        if let Some(kind) = types.into_iter().find(|t| t.id == embedded.id) {
            return Ok(kind);
        }
    }
    Ok(embedded.clone())
}

/// The id of the state `name` means for this ticket; the ticket is read only when several types' states answer
/// to the name, and the states are read again once when none does.
async fn state_id<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    id: &str,
    current: &mut Option<Ticket>,
    name: &str,
) -> Result<String, ActionError> {
    let mut states = helpdesk.list_ticket_states(TICKET_CATALOG_TTL).await?;
    let known_type = |t: &Option<Ticket>| t.as_ref().and_then(|t| t.ticket_type.as_ref()).map(|k| k.id.clone());
    let mut matched = ticket_state(&states, known_type(current).as_deref(), name);
    if matched.is_err() {
        states = helpdesk.list_ticket_states(TICKET_TYPES_REREAD_AFTER).await?;
        matched = ticket_state(&states, known_type(current).as_deref(), name);
    }
    match matched? {
        StateMatch::One(state_id) => Ok(state_id),
        StateMatch::Several => {
            read_once(helpdesk, id, current).await?;
            match ticket_state(&states, known_type(current).as_deref(), name)? {
                StateMatch::One(state_id) => Ok(state_id),
                // Only when Intercom's ticket carries no type.
                StateMatch::Several => Err(ActionError::bad_request(
                    "state",
                    "several states have this name; give the state's id (get-ticket shows the ticket's state ids)",
                )),
            }
        }
    }
}

/// Distinguishes a field sent as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<TicketAssignee>>, D::Error> {
    Ok(Some(Option::<TicketAssignee>::deserialize(d)?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::IntercomError;
    use crate::intercom::models::Team;
    use crate::intercom::tickets::TicketStateDetails;

    fn states() -> Vec<TicketStateDetails> {
        serde_json::from_value(json!([
            {"id": "1", "category": "submitted", "internal_label": "Submitted", "external_label": "Submitted"},
            {"id": "2", "category": "in_progress", "internal_label": "With legal", "external_label": "In progress",
             "ticket_types": {"data": [{"id": "88"}]}},
            {"id": "3", "category": "in_progress", "internal_label": "Checking", "external_label": "In progress",
             "ticket_types": {"data": [{"id": "89"}]}}
        ]))
        .unwrap()
    }

    fn types() -> Vec<TicketType> {
        serde_json::from_value(json!([{"id": "88", "name": "Account deletion", "ticket_type_attributes": {"data": [
            {"name": "Reason", "data_type": "list",
             "input_options": {"list_options": [{"id": "r-gdpr", "label": "GDPR"}]}}]}}]))
        .unwrap()
    }

    fn ticket(id: &str) -> Ticket {
        serde_json::from_value(json!({"id": id, "ticket_type": {"id": "88", "name": "Account deletion"},
            "ticket_state": {"id": "2", "category": "in_progress", "internal_label": "With legal",
                             "external_label": "In progress"},
            "admin_assignee_id": 0, "team_assignee_id": 300, "open": true}))
        .unwrap()
    }

    fn request(body: serde_json::Value) -> UpdateTicketRequest {
        crate::http::from_value(body).unwrap()
    }

    fn acting_admin(helpdesk: &mut MockHelpdesk) {
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
    }

    #[tokio::test]
    async fn a_unique_state_name_and_a_team_by_name_need_no_ticket_read() {
        let mut helpdesk = MockHelpdesk::new(); // get_ticket is not expected
        acting_admin(&mut helpdesk);
        helpdesk.expect_list_ticket_states().times(1).returning(|_| Ok(states()));
        helpdesk
            .expect_find_team()
            .withf(|n| n == "Legal")
            .returning(|_| Ok(Some(Team { id: "300".into(), name: "Legal".into() })));
        helpdesk
            .expect_update_ticket()
            .withf(|id, update| {
                id == "626"
                    && serde_json::to_value(update).unwrap()
                        == json!({"ticket_state_id": "2", "admin_id": 991267, "assignee_id": "300"})
            })
            .times(1)
            .returning(|id, _| Ok(ticket(id)));
        let answer = update_ticket(
            &helpdesk,
            request(json!({"ticketId": "626", "state": "with legal", "assignee": {"teamName": "Legal"}})),
        )
        .await
        .unwrap();
        assert_eq!(answer.state.unwrap().customer_label.as_deref(), Some("In progress"));
        assert_eq!(answer.assignee.team_id.as_deref(), Some("300"));
    }

    #[tokio::test]
    async fn a_state_name_several_types_share_is_told_apart_by_the_tickets_type() {
        let mut helpdesk = MockHelpdesk::new();
        acting_admin(&mut helpdesk);
        helpdesk.expect_list_ticket_states().returning(|_| Ok(states()));
        helpdesk.expect_get_ticket().times(1).returning(|id| Ok(ticket(id)));
        helpdesk
            .expect_update_ticket()
            .withf(|_, update| update.ticket_state_id.as_deref() == Some("2") && update.open == Some(false))
            .returning(|id, _| Ok(ticket(id)));
        update_ticket(&helpdesk, request(json!({"ticketId": "626", "state": "In progress", "open": false})))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn attributes_are_checked_against_the_tickets_type_and_null_unassigns() {
        let mut helpdesk = MockHelpdesk::new();
        acting_admin(&mut helpdesk);
        // Read once per request: two requests below.
        helpdesk.expect_get_ticket().times(2).returning(|id| Ok(ticket(id)));
        helpdesk.expect_list_ticket_types().times(2).returning(|_| Ok(types()));
        helpdesk
            .expect_update_ticket()
            .withf(|_, update| {
                serde_json::to_value(update).unwrap()
                    == json!({"ticket_attributes": {"Reason": "r-gdpr"}, "admin_id": 991267, "assignee_id": "0"})
            })
            .returning(|id, _| Ok(ticket(id)));
        update_ticket(
            &helpdesk,
            request(json!({"ticketId": "626", "attributes": {"Reason": "gdpr"}, "assignee": null})),
        )
        .await
        .unwrap();

        let err = update_ticket(&helpdesk, request(json!({"ticketId": "626", "attributes": {"Reason": "Boredom"}})))
            .await
            .unwrap_err();
        assert_eq!((err.code(), err.to_json()["allowed"].clone()), ("invalid_ticket_attribute", json!(["GDPR"])));
    }

    #[tokio::test]
    async fn an_unknown_state_is_looked_for_again_then_refused_listing_the_states() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_list_ticket_states().times(2).returning(|_| Ok(states()));
        let err =
            update_ticket(&helpdesk, request(json!({"ticketId": "626", "state": "Escalated"}))).await.unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (400, "unknown_ticket_state"));
        assert_eq!(err.to_json()["allowed"], json!(["Submitted", "With legal", "Checking"]));
    }

    #[tokio::test]
    async fn bad_requests_are_refused_before_any_call() {
        let helpdesk = MockHelpdesk::new();
        for (body, field) in [
            (json!({"ticketId": "626"}), "state"),
            (json!({"ticketId": "abc", "open": true}), "ticketId"),
            (json!({"ticketId": "626", "attributes": {}}), "attributes"),
            (json!({"ticketId": "626", "assignee": {}}), "assignee"),
            (json!({"ticketId": "626", "assignee": {"adminId": "1", "teamId": "2"}}), "assignee"),
            (json!({"ticketId": "626", "assignee": {"teamId": "x"}}), "assignee.teamId"),
        ] {
            let err = update_ticket(&helpdesk, request(body.clone())).await.unwrap_err();
            assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (400, Some(field)), "{body}");
        }
    }

    #[tokio::test]
    async fn intercoms_refusals_name_the_field() {
        let mut helpdesk = MockHelpdesk::new();
        acting_admin(&mut helpdesk);
        helpdesk.expect_update_ticket().returning(|_, update| {
            let code = if update.assignee_id.is_some() { "assignee_not_found" } else { "ticket_not_found" };
            Err(IntercomError::Api {
                status: 404,
                code: code.into(),
                message: String::new(),
                field: None,
                request_id: None,
            })
        });
        let err = update_ticket(&helpdesk, request(json!({"ticketId": "1", "assignee": {"adminId": "7"}})))
            .await
            .unwrap_err();
        assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (404, Some("assignee")));
        let err = update_ticket(&helpdesk, request(json!({"ticketId": "1", "open": true}))).await.unwrap_err();
        assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (404, Some("ticketId")));
    }
}
