//! Tickets (API 2.16): the workspace's ticket types and states (cached per client), and creating, reading,
//! updating and converting tickets.
//!
//! A ticket's `id` is what the API takes; its `ticket_id` is the number teammates see in the Inbox (#33) and
//! must not be used in API calls.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{IntercomClient, Retry};
use super::contacts::segment;
use super::error::IntercomError;
use super::models::{Attributes, Author, id_like, null_as_default, opt_string_id, string_id};

/// The longest a ticket type or state list is answered from memory (types and states change rarely; a type
/// created since is found by reading again, see the actions).
pub const TICKET_CATALOG_TTL: Duration = Duration::from_secs(300);

/// The attribute keys of a ticket's title and description.
pub const TITLE_ATTRIBUTE: &str = "_default_title_";
pub const DESCRIPTION_ATTRIBUTE: &str = "_default_description_";

// ---- ticket types and states ----

/// `ticket_type`: what a ticket is for, the attributes it captures and the states it may be in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketType {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// `Customer`, `Back-office` or `Tracker`.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub archived: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ticket_type_attributes: TicketTypeAttributes,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ticket_states: TicketStates,
}

/// The contract's schema names the array `ticket_type_attributes`; its examples (and Intercom) `data`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TicketTypeAttributes {
    #[serde(default, deserialize_with = "null_as_default")]
    data: Vec<TicketTypeAttribute>,
    #[serde(default, deserialize_with = "null_as_default")]
    ticket_type_attributes: Vec<TicketTypeAttribute>,
}

impl TicketTypeAttributes {
    pub fn all(&self) -> &[TicketTypeAttribute] {
        if self.data.is_empty() { &self.ticket_type_attributes } else { &self.data }
    }
}

impl TicketType {
    /// The attributes a ticket of this type can be given (archived ones left out).
    pub fn attributes(&self) -> impl Iterator<Item = &TicketTypeAttribute> {
        self.ticket_type_attributes.all().iter().filter(|a| !a.archived)
    }
}

/// `ticket_type_attribute`: one field of a ticket type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketTypeAttribute {
    #[serde(default, deserialize_with = "opt_string_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `string`, `list`, `integer`, `decimal`, `boolean`, `datetime` or `files`.
    #[serde(default)]
    pub data_type: Option<String>,
    /// For `list` attributes, `list_options` (`[{id, label}]`); the contract leaves its shape open.
    #[serde(default, deserialize_with = "null_as_default")]
    pub input_options: Value,
    #[serde(default, deserialize_with = "null_as_default")]
    pub required_to_create: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub archived: bool,
}

/// One choice of a `list` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListOption {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub archived: bool,
}

impl TicketTypeAttribute {
    /// The choices of a `list` attribute, when Intercom lists them (`input_options.list_options`).
    pub fn list_options(&self) -> Option<Vec<ListOption>> {
        let options = self.input_options.get("list_options")?;
        let options: Vec<ListOption> = serde_json::from_value(options.clone()).ok()?;
        Some(options.into_iter().filter(|o| !o.archived).collect())
    }

    /// Whether this is the built-in title or description (set through their own fields).
    pub fn is_title_or_description(&self) -> bool {
        self.name == TITLE_ATTRIBUTE || self.name == DESCRIPTION_ATTRIBUTE
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TicketStates {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<TicketState>,
}

/// `ticket_state`: where a ticket is, as teammates (`internal_label`) and customers (`external_label`) read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TicketState {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    /// `submitted`, `in_progress`, `waiting_on_customer` or `resolved`.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub internal_label: Option<String>,
    #[serde(default)]
    pub external_label: Option<String>,
}

/// `ticket_state_detailed` (`GET /ticket_states`): a state with the types that use it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketStateDetails {
    #[serde(flatten)]
    pub state: TicketState,
    #[serde(default, deserialize_with = "null_as_default")]
    pub archived: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ticket_types: TicketTypeRefs,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TicketTypeRefs {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<TicketTypeRef>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketTypeRef {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

impl TicketStateDetails {
    /// Whether tickets of this type may take this state (a state that lists no types is taken for any).
    pub fn applies_to(&self, ticket_type_id: &str) -> bool {
        self.ticket_types.data.is_empty() || self.ticket_types.data.iter().any(|t| t.id == ticket_type_id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct DataList<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_as_default")]
    data: Vec<T>,
}

/// The client's memory of `GET /ticket_types` and `GET /ticket_states`, with when each was read.
#[derive(Debug, Default)]
pub(crate) struct TicketCatalog {
    types: Option<(Instant, Vec<TicketType>)>,
    states: Option<(Instant, Vec<TicketStateDetails>)>,
}

// ---- tickets ----

/// `ticket`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ticket {
    /// The id the API takes.
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    /// The number teammates see in the Inbox; not for API calls.
    #[serde(default, deserialize_with = "opt_string_id")]
    pub ticket_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// Values of any JSON type (files are objects); `_default_title_` and `_default_description_` included.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ticket_attributes: Attributes,
    #[serde(default)]
    pub ticket_state: Option<TicketState>,
    #[serde(default)]
    pub ticket_type: Option<TicketType>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub contacts: TicketContacts,
    /// `None` when unassigned (Intercom writes 0).
    #[serde(default, deserialize_with = "id_like")]
    pub admin_assignee_id: Option<String>,
    #[serde(default, deserialize_with = "id_like")]
    pub team_assignee_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub open: Option<bool>,
    #[serde(default)]
    pub snoozed_until: Option<i64>,
    #[serde(default)]
    pub is_shared: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub linked_objects: LinkedObjects,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ticket_parts: TicketParts,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TicketContacts {
    #[serde(default, deserialize_with = "null_as_default")]
    pub contacts: Vec<TicketContact>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketContact {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default, deserialize_with = "opt_string_id")]
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LinkedObjects {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<LinkedObject>,
    #[serde(default)]
    pub has_more: Option<bool>,
}

/// A conversation or ticket linked to this one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LinkedObject {
    /// `conversation` or `ticket`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TicketParts {
    #[serde(default, deserialize_with = "null_as_default")]
    pub ticket_parts: Vec<TicketPart>,
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// `ticket_part`: a message, note or event in the ticket.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketPart {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub part_type: Option<String>,
    /// HTML.
    #[serde(default)]
    pub body: Option<String>,
    /// On state changes: the state's category after and before.
    #[serde(default)]
    pub ticket_state: Option<String>,
    #[serde(default)]
    pub previous_ticket_state: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub author: Option<Author>,
}

// ---- request bodies (2.16) ----

/// `POST /tickets` (`create_ticket_request`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTicket {
    pub ticket_type_id: String,
    /// Intercom takes exactly one, by id, external id or email; this product resolves the contact first.
    pub contacts: Vec<ContactId>,
    pub ticket_attributes: Attributes,
    /// A conversation to link the ticket to (valid for back-office and tracker types).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_to_link_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactId {
    pub id: String,
}

impl NewTicket {
    /// A ticket of `ticket_type_id` for the contact, with its title, description and other attributes.
    pub fn new(ticket_type_id: &str, contact_id: &str, title: &str, description: &str, attributes: Attributes) -> Self {
        let mut ticket_attributes = attributes;
        ticket_attributes.insert(TITLE_ATTRIBUTE.into(), title.into());
        ticket_attributes.insert(DESCRIPTION_ATTRIBUTE.into(), description.into());
        NewTicket {
            ticket_type_id: ticket_type_id.to_owned(),
            contacts: vec![ContactId { id: contact_id.to_owned() }],
            ticket_attributes,
            conversation_to_link_id: None,
        }
    }
}

/// `PUT /tickets/{id}` (`update_ticket_request`): only what is set is sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TicketUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_attributes: Option<Attributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_state_id: Option<String>,
    /// `false` closes the ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// The admin making the change (an integer in the contract).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<i64>,
    /// An admin's or a team's id; `"0"` unassigns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
}

/// `POST /conversations/{id}/convert` (`convert_conversation_to_ticket_request`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketConversion {
    pub ticket_type_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_state_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
}

impl IntercomClient {
    /// The workspace's ticket types (`GET /ticket_types`), read again when the copy in memory is older than
    /// `max_age` (at most [`TICKET_CATALOG_TTL`]).
    pub async fn list_ticket_types(&self, max_age: Duration) -> Result<Vec<TicketType>, IntercomError> {
        let cached = self.cache::<tokio::sync::Mutex<TicketCatalog>>();
        let mut catalog = cached.lock().await;
        if let Some((read_at, types)) = &catalog.types
            && read_at.elapsed() < max_age.min(TICKET_CATALOG_TTL)
        {
            return Ok(types.clone());
        }
        let list: DataList<TicketType> = self.get("ticket_types", &[]).await?;
        catalog.types = Some((Instant::now(), list.data.clone()));
        Ok(list.data)
    }

    /// The workspace's ticket states with the types that use each (`GET /ticket_states`), cached as the types are.
    pub async fn list_ticket_states(&self, max_age: Duration) -> Result<Vec<TicketStateDetails>, IntercomError> {
        let cached = self.cache::<tokio::sync::Mutex<TicketCatalog>>();
        let mut catalog = cached.lock().await;
        if let Some((read_at, states)) = &catalog.states
            && read_at.elapsed() < max_age.min(TICKET_CATALOG_TTL)
        {
            return Ok(states.clone());
        }
        let list: DataList<TicketStateDetails> = self.get("ticket_states", &[]).await?;
        catalog.states = Some((Instant::now(), list.data.clone()));
        Ok(list.data)
    }

    /// Creates a ticket. Never repeated once it may have reached Intercom: a lost answer is `OutcomeUnknown`.
    pub async fn create_ticket(&self, ticket: &NewTicket) -> Result<Ticket, IntercomError> {
        self.send(Method::POST, "tickets", &[], Some(ticket), Retry::Once, "creating a ticket").await
    }

    pub async fn get_ticket(&self, ticket_id: &str) -> Result<Ticket, IntercomError> {
        self.get(&format!("tickets/{}", segment(ticket_id)), &[]).await
    }

    /// Sets state, assignee, attributes or open/closed: repeating it changes nothing, so it is retried.
    pub async fn update_ticket(&self, ticket_id: &str, update: &TicketUpdate) -> Result<Ticket, IntercomError> {
        let path = format!("tickets/{}", segment(ticket_id));
        self.send(Method::PUT, &path, &[], Some(update), Retry::Idempotent, "updating a ticket").await
    }

    /// Turns a conversation into a ticket of a customer type. Never repeated blindly (a lost answer is
    /// `OutcomeUnknown`).
    pub async fn convert_to_ticket(
        &self,
        conversation_id: &str,
        conversion: &TicketConversion,
    ) -> Result<Ticket, IntercomError> {
        let path = format!("conversations/{}/convert", segment(conversation_id));
        self.send(Method::POST, &path, &[], Some(conversion), Retry::Once, "converting a conversation to a ticket")
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `GET /ticket_types`, 200, as the 2.16 contract's example writes it.
    fn contract_ticket_types() -> serde_json::Value {
        json!({"type": "list", "data": [{
            "type": "ticket_type", "id": "67", "name": "Bug Report", "description": "Bug Report Template",
            "icon": "🎟️", "workspace_id": "this_is_an_id648_that_should_be_at_least_", "archived": false,
            "created_at": 1734537866, "updated_at": 1734537866, "is_internal": false,
            "ticket_type_attributes": {"type": "list", "data": [
                {"type": "ticket_type_attribute", "id": "165", "workspace_id": "x", "name": "_default_title_",
                 "description": "", "data_type": "string", "input_options": {"multiline": false}, "order": 0,
                 "required_to_create": false, "required_to_create_for_contacts": false, "visible_on_create": true,
                 "visible_to_contacts": true, "default": true, "ticket_type_id": 67, "archived": false,
                 "created_at": 1734537866, "updated_at": 1734537866},
                {"type": "ticket_type_attribute", "id": "167", "workspace_id": "x", "name": "name",
                 "description": "description", "data_type": "string", "input_options": null, "order": 0,
                 "required_to_create": false, "required_to_create_for_contacts": false, "visible_on_create": false,
                 "visible_to_contacts": false, "default": false, "ticket_type_id": 67, "archived": false,
                 "created_at": 1734537866, "updated_at": 1734537866},
                {"type": "ticket_type_attribute", "id": "166", "workspace_id": "x", "name": "_default_description_",
                 "description": "", "data_type": "string", "input_options": {"multiline": true}, "order": 1,
                 "required_to_create": false, "required_to_create_for_contacts": false, "visible_on_create": true,
                 "visible_to_contacts": true, "default": true, "ticket_type_id": 67, "archived": false,
                 "created_at": 1734537866, "updated_at": 1734537866}]},
            "category": "Customer",
            "ticket_states": {"type": "list", "data": [
                {"type": "ticket_state", "id": "8321", "category": "submitted", "internal_label": "Submitted",
                 "external_label": "Submitted"},
                {"type": "ticket_state", "id": "8322", "category": "in_progress", "internal_label": "In progress",
                 "external_label": "In progress"},
                {"type": "ticket_state", "id": "8323", "category": "waiting_on_customer",
                 "internal_label": "Waiting on customer", "external_label": "Waiting on you"},
                {"type": "ticket_state", "id": "8324", "category": "resolved", "internal_label": "Resolved",
                 "external_label": "Resolved"}]}
        }]})
    }

    #[test]
    fn the_contracts_ticket_types_decode_with_attributes_and_states() {
        let list: DataList<TicketType> = serde_json::from_value(contract_ticket_types()).unwrap();
        let bug = &list.data[0];
        assert_eq!(
            (bug.id.as_str(), bug.name.as_str(), bug.category.as_deref()),
            ("67", "Bug Report", Some("Customer"))
        );
        let names: Vec<&str> = bug.attributes().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["_default_title_", "name", "_default_description_"]);
        assert!(bug.attributes().next().unwrap().is_title_or_description());
        assert_eq!(bug.attributes().nth(1).unwrap().list_options(), None);
        let labels: Vec<_> = bug.ticket_states.data.iter().map(|s| s.internal_label.as_deref().unwrap()).collect();
        assert_eq!(labels, ["Submitted", "In progress", "Waiting on customer", "Resolved"]);
    }

    #[test]
    fn attributes_listed_as_the_schema_names_them_and_list_options_are_read() {
        let kind: TicketType = serde_json::from_value(json!({
            "id": 9, "name": "Refund", "archived": null,
            "ticket_type_attributes": {"type": "ticket_type_attributes.list", "ticket_type_attributes": [
                {"id": "1", "name": "Priority", "data_type": "list",
                 "input_options": {"list_options": [{"id": "de18", "label": "High"},
                                                    {"id": "aa01", "label": "Old", "archived": true}]}},
                {"id": "2", "name": "Gone", "data_type": "string", "archived": true}]}
        }))
        .unwrap();
        let attributes: Vec<_> = kind.attributes().collect();
        assert_eq!(attributes.len(), 1, "archived attributes are left out");
        assert_eq!(
            attributes[0].list_options(),
            Some(vec![ListOption { id: "de18".into(), label: "High".into(), archived: false }])
        );
        assert!(kind.ticket_states.data.is_empty());
    }

    #[test]
    fn the_contracts_ticket_states_decode_with_their_types() {
        let list: DataList<TicketStateDetails> = serde_json::from_value(json!({"type": "list", "data": [
            {"type": "ticket_state", "id": "8269", "category": "submitted", "internal_label": "Submitted",
             "external_label": "Submitted",
             "ticket_types": {"type": "list", "data": [
                {"type": "ticket_type", "id": "55", "name": "my-ticket-type-3", "description": "d", "icon": "🦁",
                 "archived": false, "is_internal": false, "category": "Back-office"}]},
             "archived": false},
            {"type": "ticket_state", "id": "8273", "category": "submitted", "internal_label": "Admin label 1",
             "external_label": "User label", "ticket_types": null, "archived": false}]}))
        .unwrap();
        let (submitted, label) = (&list.data[0], &list.data[1]);
        assert_eq!(submitted.state.id, "8269");
        assert!(submitted.applies_to("55") && !submitted.applies_to("56"));
        assert!(label.applies_to("56"), "a state listing no types is taken for any");
        assert_eq!(label.state.external_label.as_deref(), Some("User label"));
    }

    /// `POST /tickets`, 200, as the 2.16 contract's example writes it (parts and type abridged).
    fn contract_ticket() -> serde_json::Value {
        json!({
            "type": "ticket", "id": "626", "ticket_id": "33",
            "ticket_attributes": {"_default_title_": "example", "_default_description_": "there is a problem"},
            "ticket_state": {"type": "ticket_state", "id": "8481", "category": "submitted", "internal_label": "Submitted",
                             "external_label": "Submitted"},
            "ticket_type": {"type": "ticket_type", "id": "88", "name": "my-ticket-type-23",
                            "description": "my ticket type description is awesome.", "icon": "🦁",
                            "workspace_id": "x", "archived": false, "created_at": 1734537943, "updated_at": 1734537943,
                            "is_internal": false,
                            "ticket_type_attributes": {"type": "list", "data": [
                                {"type": "ticket_type_attribute", "id": "196", "name": "_default_title_",
                                 "data_type": "string", "input_options": null, "required_to_create": true}]},
                            "category": "Back-office"},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "6762f2d81bb69f9f2193bc54",
                                                                "external_id": "70"}]},
            "admin_assignee_id": 0, "team_assignee_id": 0, "created_at": 1734537944, "updated_at": 1734537946,
            "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [
                {"type": "ticket_part", "id": "175", "part_type": "ticket_state_updated_by_admin",
                 "ticket_state": "submitted", "previous_ticket_state": "submitted", "created_at": 1734537945,
                 "updated_at": 1734537945,
                 "author": {"id": "991267999", "type": "bot", "name": "Fin", "email": "operator+x@intercom.io"},
                 "attachments": [], "redacted": false}],
                "total_count": 1},
            "open": true,
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "category": "Back-office", "is_shared": false
        })
    }

    #[test]
    fn the_contracts_ticket_decodes() {
        let ticket: Ticket = serde_json::from_value(contract_ticket()).unwrap();
        assert_eq!((ticket.id.as_str(), ticket.ticket_id.as_deref()), ("626", Some("33")));
        assert_eq!((ticket.admin_assignee_id.clone(), ticket.team_assignee_id.clone()), (None, None), "0 is nobody");
        assert_eq!(ticket.ticket_state.as_ref().unwrap().category.as_deref(), Some("submitted"));
        assert_eq!(ticket.ticket_type.as_ref().unwrap().name, "my-ticket-type-23");
        assert_eq!(ticket.contacts.contacts[0].external_id.as_deref(), Some("70"));
        assert_eq!(ticket.ticket_parts.ticket_parts[0].author.as_ref().unwrap().kind.as_deref(), Some("bot"));
        assert_eq!((ticket.open, ticket.snoozed_until), (Some(true), None));
        // The update example carries an assignee, a snooze and parts whose attribute values are files.
        let mut updated = contract_ticket();
        updated["admin_assignee_id"] = json!(991268013);
        updated["snoozed_until"] = json!(1734627600);
        updated["ticket_attributes"]["Photo"] = json!([{"type": "file", "name": "photo.png"}]);
        updated["linked_objects"]["data"] = json!([{"type": "conversation", "id": "7583", "category": null}]);
        let ticket: Ticket = serde_json::from_value(updated).unwrap();
        assert_eq!(ticket.admin_assignee_id.as_deref(), Some("991268013"));
        assert_eq!(ticket.linked_objects.data[0].kind.as_deref(), Some("conversation"));
        // `GET /tickets/{id}`'s example has a null description.
        let mut read = contract_ticket();
        read["ticket_attributes"]["_default_description_"] = json!(null);
        assert!(serde_json::from_value::<Ticket>(read).is_ok());
    }

    #[test]
    fn request_bodies_are_built_as_the_contract_says() {
        let mut attributes = Attributes::new();
        attributes.insert("Reason".into(), "GDPR".into());
        let mut ticket = NewTicket::new("88", "6762f2d81bb69f9f2193bc54", "example", "there is a problem", attributes);
        assert_eq!(
            serde_json::to_value(&ticket).unwrap(),
            json!({"ticket_type_id": "88", "contacts": [{"id": "6762f2d81bb69f9f2193bc54"}],
                   "ticket_attributes": {"Reason": "GDPR", "_default_title_": "example",
                                         "_default_description_": "there is a problem"}})
        );
        ticket.conversation_to_link_id = Some("123".into());
        assert_eq!(serde_json::to_value(&ticket).unwrap()["conversation_to_link_id"], "123");

        let update = TicketUpdate {
            ticket_state_id: Some("8498".into()),
            admin_id: Some(991268011),
            assignee_id: Some("991268013".into()),
            open: Some(true),
            ..TicketUpdate::default()
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            json!({"ticket_state_id": "8498", "open": true, "admin_id": 991268011, "assignee_id": "991268013"})
        );
        assert_eq!(serde_json::to_value(TicketUpdate::default()).unwrap(), json!({}));

        let conversion = TicketConversion { ticket_type_id: "53".into(), ticket_state_id: None, attributes: None };
        assert_eq!(serde_json::to_value(&conversion).unwrap(), json!({"ticket_type_id": "53"}));
    }

    #[tokio::test]
    async fn the_client_sends_each_call_as_the_contract_says_and_remembers_types_and_states() {
        use crate::intercom::stub_server::client_answering;
        let (client, seen) = client_answering(Box::new(|request| match request.target.as_str() {
            "/ticket_types" => (200, contract_ticket_types()),
            "/ticket_states" => (200, json!({"type": "list", "data": [{"id": "8269", "category": "submitted"}]})),
            _ => (200, contract_ticket()),
        }))
        .await;
        assert_eq!(client.list_ticket_types(TICKET_CATALOG_TTL).await.unwrap()[0].id, "67");
        assert_eq!(client.list_ticket_types(TICKET_CATALOG_TTL).await.unwrap().len(), 1, "from memory");
        client.list_ticket_types(Duration::ZERO).await.unwrap();
        assert_eq!(client.list_ticket_states(Duration::from_secs(3600)).await.unwrap()[0].state.id, "8269");
        client.list_ticket_states(Duration::from_secs(3600)).await.unwrap();
        let ticket = NewTicket::new("67", "6762f2d81bb69f9f2193bc54", "t", "d", Attributes::new());
        assert_eq!(client.create_ticket(&ticket).await.unwrap().id, "626");
        client.get_ticket("626").await.unwrap();
        let update = TicketUpdate { open: Some(false), admin_id: Some(991267), ..TicketUpdate::default() };
        client.update_ticket("626", &update).await.unwrap();
        let conversion = TicketConversion { ticket_type_id: "67".into(), ticket_state_id: None, attributes: None };
        client.convert_to_ticket("123", &conversion).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        let calls: Vec<(&str, &str)> = seen.iter().map(|s| (s.method.as_str(), s.target.as_str())).collect();
        assert_eq!(
            calls,
            [
                ("GET", "/ticket_types"),
                ("GET", "/ticket_types"),
                ("GET", "/ticket_states"),
                ("POST", "/tickets"),
                ("GET", "/tickets/626"),
                ("PUT", "/tickets/626"),
                ("POST", "/conversations/123/convert"),
            ],
            "a second read within max_age is answered from memory; max_age zero reads again"
        );
        assert_eq!(seen[3].body, Some(serde_json::to_value(&ticket).unwrap()));
        assert_eq!(seen[5].body, Some(json!({"open": false, "admin_id": 991267})));
        assert_eq!(seen[6].body, Some(json!({"ticket_type_id": "67"})));
    }

    #[tokio::test]
    async fn a_ticket_create_whose_answer_is_lost_is_not_sent_again() {
        use crate::intercom::stub_server::client_answering;
        let (client, seen) = client_answering(Box::new(|_| (503, json!({"type": "error.list", "errors": []})))).await;
        let ticket = NewTicket::new("67", "c1", "t", "d", Attributes::new());
        let err = client.create_ticket(&ticket).await.unwrap_err();
        assert!(matches!(err, IntercomError::OutcomeUnknown { .. }), "{err:?}");
        assert_eq!(seen.lock().unwrap().len(), 1);
        let err = client
            .convert_to_ticket(
                "1",
                &TicketConversion { ticket_type_id: "67".into(), ticket_state_id: None, attributes: None },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, IntercomError::OutcomeUnknown { .. }), "{err:?}");
        assert_eq!(seen.lock().unwrap().len(), 2);
    }
}
