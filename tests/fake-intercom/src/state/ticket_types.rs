//! Ticket types (with their attributes) and ticket states, and the check of a ticket's attributes against
//! its type.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use super::State;
use crate::error::ApiError;
use crate::ids::request_id;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TicketCategory {
    Customer,
    #[serde(rename = "Back-office")]
    BackOffice,
    Tracker,
}

impl TicketCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "Customer",
            Self::BackOffice => "Back-office",
            Self::Tracker => "Tracker",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Customer, Self::BackOffice, Self::Tracker].into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// The category of a ticket state (what the customer-facing label means).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateCategory {
    Submitted,
    InProgress,
    WaitingOnCustomer,
    Resolved,
}

impl StateCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::InProgress => "in_progress",
            Self::WaitingOnCustomer => "waiting_on_customer",
            Self::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketState {
    pub id: String,
    pub category: StateCategory,
    pub internal_label: String,
    pub external_label: String,
}

/// `data_type` of a ticket type attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketAttributeType {
    String,
    /// One of the attribute's list items, given by the item's id (not its label), as Intercom wants.
    List,
    Integer,
    Decimal,
    Boolean,
    /// Unix seconds.
    Datetime,
}

impl TicketAttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::List => "list",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Boolean => "boolean",
            Self::Datetime => "datetime",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::String, Self::List, Self::Integer, Self::Decimal, Self::Boolean, Self::Datetime]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// An item of a `list` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListOption {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketTypeAttribute {
    pub id: String,
    pub name: String,
    pub description: String,
    pub data_type: TicketAttributeType,
    pub required_to_create: bool,
    pub visible_to_contacts: bool,
    /// `_default_title_` and `_default_description_`: every type has them.
    pub default: bool,
    pub multiline: bool,
    pub options: Vec<ListOption>,
    pub order: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketType {
    pub id: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub category: TicketCategory,
    pub attributes: Vec<TicketTypeAttribute>,
    /// The states its tickets can be in, in order (the first is where a new ticket starts).
    pub state_ids: Vec<String>,
    pub archived: bool,
    pub created_at: i64,
}

/// An attribute of [`State::add_ticket_type`] besides the default title and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicketAttribute {
    pub name: String,
    pub description: String,
    pub data_type: TicketAttributeType,
    pub required: bool,
    /// Labels of a `list` attribute's items.
    pub options: Vec<String>,
}

impl NewTicketAttribute {
    pub fn new(name: &str, data_type: TicketAttributeType) -> Self {
        Self { name: name.to_owned(), description: String::new(), data_type, required: false, options: Vec::new() }
    }

    pub fn list(name: &str, labels: &[&str]) -> Self {
        Self { options: labels.iter().map(|l| (*l).to_owned()).collect(), ..Self::new(name, TicketAttributeType::List) }
    }
}

/// The title and description attributes every ticket type has.
pub const DEFAULT_TITLE: &str = "_default_title_";
pub const DEFAULT_DESCRIPTION: &str = "_default_description_";

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", message).with_field("ticket_attributes")
}

impl TicketType {
    pub fn attribute(&self, name: &str) -> Option<&TicketTypeAttribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Refuses an attribute the type does not have, a value of the wrong type (a list item by its id), and —
    /// when `creating` — a missing attribute the type requires. Nothing is applied when one is refused.
    pub fn check_attributes(&self, attrs: &Map<String, Value>, creating: bool) -> Result<(), ApiError> {
        for (name, value) in attrs {
            let attribute = self.attribute(name).ok_or_else(|| {
                invalid(format!("Ticket attribute '{name}' does not exist on ticket type '{}'", self.name))
            })?;
            if value.is_null() {
                continue;
            }
            let fits = match attribute.data_type {
                TicketAttributeType::String => value.is_string(),
                TicketAttributeType::List => {
                    value.as_str().is_some_and(|v| attribute.options.iter().any(|o| o.id == v))
                }
                TicketAttributeType::Integer | TicketAttributeType::Datetime => value.is_i64() || value.is_u64(),
                TicketAttributeType::Decimal => value.is_number(),
                TicketAttributeType::Boolean => value.is_boolean(),
            };
            if !fits {
                let wanted = match attribute.data_type {
                    TicketAttributeType::List => {
                        let items: Vec<String> =
                            attribute.options.iter().map(|o| format!("{} ({})", o.id, o.label)).collect();
                        format!("the id of one of its list items: {}", items.join(", "))
                    }
                    TicketAttributeType::Datetime => "a datetime (Unix seconds)".to_owned(),
                    other => format!("of type {}", other.as_str()),
                };
                return Err(invalid(format!("Ticket attribute '{name}' must be {wanted}")));
            }
        }
        if creating
            && let Some(missing) = self.attributes.iter().find(|a| {
                a.required_to_create && attrs.get(&a.name).is_none_or(|v| v.is_null() || v.as_str() == Some(""))
            })
        {
            return Err(invalid(format!("Ticket attribute '{}' is required", missing.name)));
        }
        Ok(())
    }
}

pub fn ticket_type_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Ticket type not found")
}

impl State {
    pub fn ticket_type(&self, id: &str) -> Option<&TicketType> {
        self.ticket_types.iter().find(|t| t.id == id)
    }

    pub fn ticket_state(&self, id: &str) -> Option<&TicketState> {
        self.ticket_states.iter().find(|s| s.id == id)
    }

    /// Intercom's four default states (Submitted, In progress, Waiting on customer, Resolved), once.
    pub(super) fn ensure_ticket_states(&mut self) {
        if !self.ticket_states.is_empty() {
            return;
        }
        for (category, internal, external) in [
            (StateCategory::Submitted, "Submitted", "Submitted"),
            (StateCategory::InProgress, "In progress", "In progress"),
            (StateCategory::WaitingOnCustomer, "Waiting on customer", "Waiting on you"),
            (StateCategory::Resolved, "Resolved", "Resolved"),
        ] {
            self.counters.ticket_state += 1;
            self.ticket_states.push(TicketState {
                id: self.counters.ticket_state.to_string(),
                category,
                internal_label: internal.to_owned(),
                external_label: external.to_owned(),
            });
        }
    }

    /// A ticket type with the default title (required) and description attributes, then `attributes`, in
    /// every state of the workspace.
    pub fn add_ticket_type(
        &mut self,
        name: &str,
        category: TicketCategory,
        icon: &str,
        attributes: Vec<NewTicketAttribute>,
    ) -> TicketType {
        self.ensure_ticket_states();
        let now = self.now();
        let title = NewTicketAttribute {
            required: true,
            ..NewTicketAttribute::new(DEFAULT_TITLE, TicketAttributeType::String)
        };
        let description = NewTicketAttribute::new(DEFAULT_DESCRIPTION, TicketAttributeType::String);
        let mut made = Vec::new();
        for (order, new) in [title, description].into_iter().chain(attributes).enumerate() {
            self.counters.ticket_attribute += 1;
            let default = new.name == DEFAULT_TITLE || new.name == DEFAULT_DESCRIPTION;
            made.push(TicketTypeAttribute {
                id: self.counters.ticket_attribute.to_string(),
                multiline: new.name == DEFAULT_DESCRIPTION,
                name: new.name,
                description: new.description,
                data_type: new.data_type,
                required_to_create: new.required,
                visible_to_contacts: default,
                default,
                options: new.options.into_iter().map(|label| ListOption { id: request_id(), label }).collect(),
                order: i64::try_from(order).unwrap_or(i64::MAX),
                created_at: now,
            });
        }
        self.counters.ticket_type += 1;
        let ticket_type = TicketType {
            id: self.counters.ticket_type.to_string(),
            name: name.to_owned(),
            description: format!("{name} ({})", category.as_str()),
            icon: icon.to_owned(),
            category,
            attributes: made,
            state_ids: self.ticket_states.iter().map(|s| s.id.clone()).collect(),
            archived: false,
            created_at: now,
        };
        self.ticket_types.push(ticket_type.clone());
        ticket_type
    }

    /// The demo ticket types: back-office "Account deletion", "Legal request" and "Refund investigation",
    /// customer "Bug report".
    pub(super) fn seed_ticket_types(&mut self) {
        use TicketAttributeType as T;
        self.add_ticket_type(
            "Account deletion",
            TicketCategory::BackOffice,
            "🗑️",
            vec![
                NewTicketAttribute::new("Confirmed identity", T::Boolean),
                NewTicketAttribute::new("Deletion deadline", T::Datetime),
            ],
        );
        self.add_ticket_type(
            "Legal request",
            TicketCategory::BackOffice,
            "⚖️",
            vec![
                NewTicketAttribute::list("Jurisdiction", &["EU", "US", "UK", "Other"]),
                NewTicketAttribute::list("Request type", &["Data access", "Data erasure", "Subpoena", "Other"]),
            ],
        );
        self.add_ticket_type(
            "Refund investigation",
            TicketCategory::BackOffice,
            "💸",
            vec![NewTicketAttribute::new("Order id", T::String), NewTicketAttribute::new("Amount", T::Decimal)],
        );
        self.add_ticket_type(
            "Bug report",
            TicketCategory::Customer,
            "🐞",
            vec![NewTicketAttribute::list("Severity", &["Low", "Medium", "High"])],
        );
    }
}
