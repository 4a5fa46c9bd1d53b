//! The rules the ticket actions share, pure (no I/O): which ticket type a name or id means, whether attributes
//! fit that type (and how Intercom wants them written), and which state a name means.
//!
//! Every refusal names the request field and lists what it may be (`allowed`), so the agent can correct itself
//! in one step.

use lambda_http::http::StatusCode;
use serde_json::Value;

use crate::http::ActionError;
use crate::intercom::models::Attributes;
use crate::intercom::tickets::{TicketStateDetails, TicketTypeAttribute};
use crate::intercom::{IntercomError, TicketType};
use crate::validate::{MAX_MESSAGE_CHARS, whole_number};

/// A 400 with its own code, naming `field` and what it may be.
pub fn refused(code: &'static str, field: &str, message: String, allowed: Vec<String>) -> ActionError {
    ActionError::Refused { status: StatusCode::BAD_REQUEST, code, field: field.to_owned(), message, allowed }
}

/// The ticket type `given` names: its id, or its name (without case or padding); archived types are not offered.
/// Unknown → 400 `unknown_ticket_type` listing the type names.
pub fn ticket_type<'a>(types: &'a [TicketType], given: &str) -> Result<&'a TicketType, ActionError> {
    let given = given.trim();
    let live = || types.iter().filter(|t| !t.archived);
    live().find(|t| t.id == given).or_else(|| live().find(|t| t.name.trim().eq_ignore_ascii_case(given))).ok_or_else(
        || {
            let names: Vec<String> = live().map(|t| t.name.clone()).collect();
            refused(
                "unknown_ticket_type",
                "ticketType",
                format!("no ticket type is named {given:?}; use one of: {}", listed(&names)),
                names,
            )
        },
    )
}

/// A customer ticket type (the only kind a conversation converts to); a type whose category Intercom did not
/// give is let through for Intercom to decide. 400 naming `ticketType` and listing the customer types otherwise.
pub fn convertible(types: &[TicketType], chosen: &TicketType) -> Result<(), ActionError> {
    match chosen.category.as_deref() {
        None | Some("Customer") => Ok(()),
        Some(category) => {
            let customer: Vec<String> = types
                .iter()
                .filter(|t| !t.archived && t.category.as_deref() == Some("Customer"))
                .map(|t| t.name.clone())
                .collect();
            Err(refused(
                "invalid_request",
                "ticketType",
                format!(
                    "{:?} is a {category} ticket type; a conversation converts only to a customer ticket type: {}",
                    chosen.name,
                    listed(&customer)
                ),
                customer,
            ))
        }
    }
}

/// The attributes as Intercom takes them for tickets of `kind`: names as the type spells them, list choices by
/// their id, datetimes as Unix seconds. A name the type lacks, the title or description (they have their own
/// fields), a file, or a value of the wrong type → 400 `invalid_ticket_attribute` naming `attributes.<name>`.
pub fn ticket_attributes(kind: &TicketType, given: &Attributes) -> Result<Attributes, ActionError> {
    let mut checked = Attributes::new();
    for (name, value) in given {
        let field = format!("attributes.{name}");
        let attribute = kind
            .attributes()
            .filter(|a| !a.is_title_or_description())
            .find(|a| a.name == *name)
            .or_else(|| kind.attributes().find(|a| a.name.trim().eq_ignore_ascii_case(name.trim())))
            .ok_or_else(|| unknown_attribute(kind, name, &field))?;
        if attribute.is_title_or_description() {
            return Err(refused(
                "invalid_ticket_attribute",
                &field,
                format!("{field}: set the ticket's title and description with title and description"),
                Vec::new(),
            ));
        }
        checked.insert(attribute.name.clone(), attribute_value(attribute, value, &field)?);
    }
    Ok(checked)
}

/// The attributes `kind` requires when a ticket is created that `given` (already checked) does not set.
pub fn missing_required(kind: &TicketType, given: &Attributes) -> Result<(), ActionError> {
    let missing: Vec<String> = kind
        .attributes()
        .filter(|a| a.required_to_create && !a.is_title_or_description() && !given.contains_key(&a.name))
        .map(|a| a.name.clone())
        .collect();
    match missing.first() {
        None => Ok(()),
        Some(first) => Err(refused(
            "invalid_ticket_attribute",
            &format!("attributes.{first}"),
            format!("ticket type {:?} requires these attributes: {}", kind.name, described(kind, &missing)),
            missing,
        )),
    }
}

fn unknown_attribute(kind: &TicketType, name: &str, field: &str) -> ActionError {
    let names: Vec<String> =
        kind.attributes().filter(|a| !a.is_title_or_description()).map(|a| a.name.clone()).collect();
    let message = if names.is_empty() {
        format!(
            "{name:?} is not an attribute of ticket type {:?}, which has none besides title and description",
            kind.name
        )
    } else {
        format!(
            "{name:?} is not an attribute of ticket type {:?}; its attributes are: {}",
            kind.name,
            described(kind, &names)
        )
    };
    refused("invalid_ticket_attribute", field, message, names)
}

/// `name (type)` for each attribute named, list attributes with their choices.
fn described(kind: &TicketType, names: &[String]) -> String {
    let each: Vec<String> = names
        .iter()
        .filter_map(|n| kind.attributes().find(|a| a.name == *n))
        .map(|a| match (a.data_type.as_deref(), a.list_options()) {
            (Some("list"), Some(options)) => {
                let labels: Vec<String> = options.into_iter().map(|o| o.label).collect();
                format!("{} (one of {})", a.name, labels.join(", "))
            }
            (Some(data_type), _) => format!("{} ({data_type})", a.name),
            (None, _) => a.name.clone(),
        })
        .collect();
    each.join("; ")
}

/// One value checked against its attribute's type, written as Intercom takes it; `null` clears any attribute.
fn attribute_value(attribute: &TicketTypeAttribute, value: &Value, field: &str) -> Result<Value, ActionError> {
    let data_type = attribute.data_type.as_deref().unwrap_or("");
    let wrong = |expected: &str| {
        refused(
            "invalid_ticket_attribute",
            field,
            format!("{field} must be {expected} (a {data_type} attribute)"),
            Vec::new(),
        )
    };
    match (data_type, value) {
        (_, Value::Null) => Ok(Value::Null),
        ("files", _) => Err(refused(
            "invalid_ticket_attribute",
            field,
            format!("{field} holds files, which cannot be set here; attach them in Intercom"),
            Vec::new(),
        )),
        ("string", Value::String(s)) if s.chars().count() <= MAX_MESSAGE_CHARS => Ok(value.clone()),
        ("string", _) => Err(wrong("a string of at most 20000 characters")),
        ("integer", Value::Number(n)) => whole_number(n).map(Value::from).ok_or_else(|| wrong("a whole number")),
        ("integer", _) => Err(wrong("a whole number")),
        ("decimal", Value::Number(_)) => Ok(value.clone()),
        ("decimal", _) => Err(wrong("a number")),
        ("boolean", Value::Bool(_)) => Ok(value.clone()),
        ("boolean", _) => Err(wrong("true or false")),
        ("datetime", _) => unix_seconds(value)
            .map(Value::from)
            .ok_or_else(|| wrong("a time: Unix seconds or RFC 3339 such as 2026-12-01T09:00:00Z")),
        ("list", Value::String(s)) => list_choice(attribute, s, field),
        ("list", _) => Err(list_refusal(attribute, field)),
        // A type this product does not know yet: flat values only, as Intercom's attribute values are.
        (_, Value::String(_) | Value::Number(_) | Value::Bool(_)) => Ok(value.clone()),
        (_, _) => Err(wrong("a string, number or boolean")),
    }
}

/// A list attribute's choice by label (without case) or id, as its id; any string when Intercom lists none.
fn list_choice(attribute: &TicketTypeAttribute, given: &str, field: &str) -> Result<Value, ActionError> {
    let Some(options) = attribute.list_options() else { return Ok(Value::from(given.trim())) };
    let given = given.trim();
    options
        .iter()
        .find(|o| o.id == given)
        .or_else(|| options.iter().find(|o| o.label.trim().eq_ignore_ascii_case(given)))
        .map(|o| Value::from(o.id.clone()))
        .ok_or_else(|| list_refusal(attribute, field))
}

fn list_refusal(attribute: &TicketTypeAttribute, field: &str) -> ActionError {
    let labels: Vec<String> = attribute.list_options().unwrap_or_default().into_iter().map(|o| o.label).collect();
    refused("invalid_ticket_attribute", field, format!("{field} must be one of: {}", listed(&labels)), labels)
}

fn unix_seconds(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => whole_number(n),
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| {
            time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|t| t.unix_timestamp())
        }),
        _ => None,
    }
}

/// Which state a name means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateMatch {
    One(String),
    /// Several states answer to the name; the ticket's type tells them apart.
    Several,
}

/// The state `given` names — its id, its teammate label, its customer label, or its category (`in progress` or
/// `in_progress`), in that order — among the states tickets of `type_id` may take (all states when unknown).
/// Unknown → 400 `unknown_ticket_state` listing the states' labels.
pub fn ticket_state(
    states: &[TicketStateDetails],
    type_id: Option<&str>,
    given: &str,
) -> Result<StateMatch, ActionError> {
    let given = given.trim();
    let usable: Vec<&TicketStateDetails> =
        states.iter().filter(|s| !s.archived && type_id.is_none_or(|t| s.applies_to(t))).collect();
    let category = given.to_ascii_lowercase().replace([' ', '-'], "_");
    let same = |label: &Option<String>| label.as_deref().is_some_and(|l| l.trim().eq_ignore_ascii_case(given));
    let rules: [&dyn Fn(&TicketStateDetails) -> bool; 4] =
        [&|s| s.state.id == given, &|s| same(&s.state.internal_label), &|s| same(&s.state.external_label), &|s| {
            s.state.category.as_deref() == Some(category.as_str())
        }];
    for rule in rules {
        let mut ids: Vec<&str> = usable.iter().filter(|s| rule(s)).map(|s| s.state.id.as_str()).collect();
        ids.dedup();
        match ids.as_slice() {
            [] => continue,
            [one] => return Ok(StateMatch::One((*one).to_owned())),
            _ if type_id.is_none() => return Ok(StateMatch::Several),
            _ => {
                let labels = labels(usable.iter().copied().filter(|s| rule(s)));
                return Err(refused(
                    "unknown_ticket_state",
                    "state",
                    format!("{given:?} names several states of this ticket's type; use one of: {}", listed(&labels)),
                    labels,
                ));
            }
        }
    }
    let labels = labels(usable.into_iter());
    Err(refused(
        "unknown_ticket_state",
        "state",
        format!("no ticket state is named {given:?}; use one of: {}", listed(&labels)),
        labels,
    ))
}

fn labels<'a>(states: impl Iterator<Item = &'a TicketStateDetails>) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for s in states {
        let label = s.state.internal_label.clone().unwrap_or_else(|| s.state.id.clone());
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

fn listed(items: &[String]) -> String {
    if items.is_empty() { "(none in this workspace)".into() } else { items.join(", ") }
}

/// Intercom's refusal of a ticket write or read, with the field the agent should fix when Intercom's code says
/// which (`id_field` and `not_found` for a 404 about the ticket or conversation itself); anything else maps as usual.
pub fn refused_ticket_write(e: IntercomError, id_field: &str, not_found: &str) -> ActionError {
    match e {
        IntercomError::Api { status: 404, ref code, ref request_id, .. } if code == "assignee_not_found" => {
            ActionError::NotFound {
                field: Some("assignee".into()),
                message: "Intercom has no such admin or team; check the id in Settings → Teammates or Teams, or pass \
                          teamName"
                    .into(),
                intercom_request_id: request_id.clone(),
            }
        }
        IntercomError::Api { status: 404, request_id, .. } => ActionError::NotFound {
            field: Some(id_field.into()),
            message: not_found.to_owned(),
            intercom_request_id: request_id,
        },
        IntercomError::Api { status: 400, ref code, .. } if code == "ticket_state_id_invalid" => refused(
            "unknown_ticket_state",
            "state",
            "Intercom refused this state for the ticket's type; read the ticket (get-ticket) for its type".into(),
            Vec::new(),
        ),
        e => e.into(),
    }
}

/// The ticket rules as JSON Schema, for the published agent API: what [`ticket_attributes`] can accept.
#[cfg(feature = "schema")]
pub mod schema {
    use schemars::{Schema, SchemaGenerator, json_schema};

    /// Attributes by name, each a flat value (a string of at most 20000 characters, a number, a boolean, or null).
    pub fn attributes(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["object", "null"],
            "propertyNames": {"minLength": 1},
            "additionalProperties": {
                "type": ["string", "number", "boolean", "null"],
                "maxLength": crate::validate::MAX_MESSAGE_CHARS
            }
        })
    }

    /// The same, naming at least one attribute (an update with `{}` would change nothing).
    pub fn some_attributes(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = attributes(generator);
        schema.insert("minProperties".into(), 1.into());
        schema
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn types() -> Vec<TicketType> {
        serde_json::from_value(json!([
            {"id": "88", "name": "Account deletion", "category": "Back-office",
             "ticket_type_attributes": {"data": [
                {"id": "1", "name": "_default_title_", "data_type": "string", "required_to_create": true},
                {"id": "2", "name": "_default_description_", "data_type": "string", "required_to_create": true},
                {"id": "3", "name": "Reason", "data_type": "string", "required_to_create": true},
                {"id": "4", "name": "Priority", "data_type": "list",
                 "input_options": {"list_options": [{"id": "de18", "label": "High"}, {"id": "aa01", "label": "Low"}]}},
                {"id": "5", "name": "Seats", "data_type": "integer"},
                {"id": "6", "name": "Amount", "data_type": "decimal"},
                {"id": "7", "name": "Urgent", "data_type": "boolean"},
                {"id": "8", "name": "Due", "data_type": "datetime"},
                {"id": "9", "name": "Proof", "data_type": "files"},
                {"id": "10", "name": "Old", "data_type": "string", "archived": true}]}},
            {"id": "89", "name": "Refund request", "category": "Customer"},
            {"id": "90", "name": "Retired", "category": "Customer", "archived": true}
        ]))
        .unwrap()
    }

    fn states() -> Vec<TicketStateDetails> {
        serde_json::from_value(json!([
            {"id": "1", "category": "submitted", "internal_label": "Submitted", "external_label": "Submitted",
             "ticket_types": {"data": [{"id": "88"}, {"id": "89"}]}},
            {"id": "2", "category": "in_progress", "internal_label": "With legal", "external_label": "In progress",
             "ticket_types": {"data": [{"id": "88"}]}},
            {"id": "3", "category": "in_progress", "internal_label": "Checking", "external_label": "In progress",
             "ticket_types": {"data": [{"id": "89"}]}},
            {"id": "4", "category": "resolved", "internal_label": "Done", "external_label": "Resolved",
             "ticket_types": {"data": [{"id": "88"}, {"id": "89"}]}},
            {"id": "5", "category": "resolved", "internal_label": "Archived state", "archived": true}
        ]))
        .unwrap()
    }

    fn attributes(json: serde_json::Value) -> Attributes {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_type_is_found_by_id_or_name_and_an_unknown_one_lists_the_live_types() {
        let types = types();
        assert_eq!(ticket_type(&types, "88").unwrap().name, "Account deletion");
        assert_eq!(ticket_type(&types, " account DELETION ").unwrap().id, "88");
        let err = ticket_type(&types, "Retired").unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (400, "unknown_ticket_type"));
        let json = err.to_json();
        assert_eq!(json["field"], "ticketType");
        assert_eq!(json["allowed"], json!(["Account deletion", "Refund request"]));
        assert!(err.to_string().contains("use one of: Account deletion, Refund request"), "{err}");
    }

    #[test]
    fn only_customer_types_convert() {
        let types = types();
        assert!(convertible(&types, &types[1]).is_ok());
        let err = convertible(&types, &types[0]).unwrap_err();
        assert_eq!((err.code(), err.to_json()["allowed"].clone()), ("invalid_request", json!(["Refund request"])));
    }

    #[test]
    fn attributes_are_written_as_intercom_takes_them() {
        let types = types();
        let checked = ticket_attributes(
            &types[0],
            &attributes(json!({"reason": "GDPR", "Priority": "high", "Seats": 3.0, "Amount": 9.5, "Urgent": true,
                               "Due": "2026-12-01T09:00:00Z"})),
        )
        .unwrap();
        assert_eq!(
            serde_json::Value::Object(checked),
            json!({"Reason": "GDPR", "Priority": "de18", "Seats": 3, "Amount": 9.5, "Urgent": true, "Due": 1796115600})
        );
        let by_id = ticket_attributes(&types[0], &attributes(json!({"Priority": "aa01", "Due": 5, "Seats": null})));
        assert_eq!(serde_json::Value::Object(by_id.unwrap()), json!({"Priority": "aa01", "Due": 5, "Seats": null}));
    }

    #[test]
    fn a_wrong_name_or_type_is_a_400_naming_it_and_listing_the_valid_ones() {
        let kind = &types()[0];
        let err = ticket_attributes(kind, &attributes(json!({"Colour": "red"}))).unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (400, "invalid_ticket_attribute"));
        assert_eq!(err.to_json()["field"], "attributes.Colour");
        assert_eq!(
            err.to_json()["allowed"],
            json!(["Reason", "Priority", "Seats", "Amount", "Urgent", "Due", "Proof"])
        );
        assert!(err.to_string().contains("Priority (one of High, Low); Seats (integer)"), "{err}");
        for (given, field, says) in [
            (json!({"Seats": 2.5}), "attributes.Seats", "a whole number"),
            (json!({"Seats": "2"}), "attributes.Seats", "a whole number"),
            (json!({"Amount": "9"}), "attributes.Amount", "a number"),
            (json!({"Urgent": "yes"}), "attributes.Urgent", "true or false"),
            (json!({"Due": "tomorrow"}), "attributes.Due", "Unix seconds or RFC 3339"),
            (json!({"Reason": ["a"]}), "attributes.Reason", "a string"),
            (json!({"Priority": "Medium"}), "attributes.Priority", "one of: High, Low"),
            (json!({"Priority": 1}), "attributes.Priority", "one of: High, Low"),
            (json!({"Proof": "x"}), "attributes.Proof", "cannot be set here"),
            (json!({"_default_title_": "x"}), "attributes._default_title_", "with title and description"),
            (json!({"Old": "x"}), "attributes.Old", "is not an attribute"),
        ] {
            let err = ticket_attributes(kind, &attributes(given.clone())).unwrap_err();
            assert_eq!(err.to_json()["field"], field, "{given}");
            assert!(err.to_string().contains(says), "{given}: {err}");
        }
        let bare = &types()[1];
        let err = ticket_attributes(bare, &attributes(json!({"x": 1}))).unwrap_err();
        assert!(err.to_string().contains("which has none besides title and description"), "{err}");
    }

    #[test]
    fn required_attributes_other_than_title_and_description_must_be_given() {
        let kind = &types()[0];
        let err = missing_required(kind, &Attributes::new()).unwrap_err();
        assert_eq!(
            (err.to_json()["field"].clone(), err.to_json()["allowed"].clone()),
            (json!("attributes.Reason"), json!(["Reason"]))
        );
        assert!(missing_required(kind, &attributes(json!({"Reason": "GDPR"}))).is_ok());
    }

    #[test]
    fn a_state_is_found_by_id_label_or_category_within_the_tickets_type() {
        let states = states();
        assert_eq!(ticket_state(&states, None, "4").unwrap(), StateMatch::One("4".into()));
        assert_eq!(ticket_state(&states, None, "with LEGAL").unwrap(), StateMatch::One("2".into()));
        assert_eq!(ticket_state(&states, None, "resolved").unwrap(), StateMatch::One("4".into()), "archived left out");
        // "In progress" is the customer label of two states: the type tells them apart.
        assert_eq!(ticket_state(&states, None, "In progress").unwrap(), StateMatch::Several);
        assert_eq!(ticket_state(&states, Some("89"), "In progress").unwrap(), StateMatch::One("3".into()));
        assert_eq!(ticket_state(&states, Some("88"), "in_progress").unwrap(), StateMatch::One("2".into()));
        let err = ticket_state(&states, Some("89"), "With legal").unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (400, "unknown_ticket_state"));
        assert_eq!(err.to_json()["allowed"], json!(["Submitted", "Checking", "Done"]));
    }

    #[test]
    fn intercoms_refusals_of_ticket_writes_name_the_field() {
        let api = |status, code: &str| IntercomError::Api {
            status,
            code: code.into(),
            message: String::new(),
            field: None,
            request_id: Some("r1".into()),
        };
        let refuse = |e| refused_ticket_write(e, "ticketId", "no such ticket");
        let err = refuse(api(404, "assignee_not_found"));
        assert_eq!((err.code(), err.to_json()["field"].clone()), ("not_found", json!("assignee")));
        let err = refuse(api(404, "ticket_not_found"));
        assert_eq!(
            (err.to_json()["field"].clone(), err.to_json()["intercomRequestId"].clone()),
            (json!("ticketId"), json!("r1"))
        );
        assert_eq!(err.to_string(), "no such ticket");
        let err = refuse(api(400, "ticket_state_id_invalid"));
        assert_eq!((err.code(), err.to_json()["field"].clone()), ("unknown_ticket_state", json!("state")));
        assert_eq!(refuse(api(400, "parameter_invalid")).code(), "intercom_rejected");
    }
}
