//! The workspace's data attributes: Intercom refuses a contact's custom attribute it has not been told
//! about, or a value of the wrong type, and refuses the whole request (nothing is applied).

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// `data_type` of a data attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    String,
    Integer,
    Float,
    Boolean,
    /// Unix seconds.
    Date,
}

impl DataType {
    /// As `POST /data_attributes` spells it (`options` lists are strings, `datetime` is a date).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "string" | "options" => Some(Self::String),
            "integer" => Some(Self::Integer),
            "float" => Some(Self::Float),
            "boolean" => Some(Self::Boolean),
            "date" | "datetime" => Some(Self::Date),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::Date => "date",
        }
    }

    /// Whether a (non-null) value fits.
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Integer | Self::Date => value.is_i64() || value.is_u64(),
            Self::Float => value.is_number(),
            Self::Boolean => value.is_boolean(),
        }
    }

    fn article(self) -> &'static str {
        match self {
            Self::Integer => "an integer",
            Self::Float => "a number",
            Self::Boolean => "a boolean",
            Self::Date => "a date (Unix seconds)",
            Self::String => "a string",
        }
    }
}

/// `model` of a data attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeModel {
    Contact,
    Company,
}

impl AttributeModel {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contact" => Some(Self::Contact),
            "company" => Some(Self::Company),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Company => "company",
        }
    }

    /// How Intercom's messages name the model's data.
    fn data_name(self) -> &'static str {
        match self {
            Self::Contact => "people data",
            Self::Company => "company data",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataAttribute {
    /// Only custom attributes have one.
    pub id: Option<u64>,
    pub name: String,
    pub model: AttributeModel,
    pub data_type: DataType,
    pub description: String,
    pub options: Vec<String>,
    /// `false` for Intercom's standard attributes (name, email, …).
    pub custom: bool,
    pub archived: bool,
    pub messenger_writable: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DataAttribute {
    /// The `data_attribute` schema.
    pub fn to_json(&self) -> Value {
        let full_name = if self.custom { format!("custom_attributes.{}", self.name) } else { self.name.clone() };
        let mut v = json!({
            "type": "data_attribute",
            "name": self.name,
            "full_name": full_name,
            "label": self.name,
            "description": self.description,
            "data_type": self.data_type.as_str(),
            "api_writable": true,
            "ui_writable": self.custom,
            "messenger_writable": self.messenger_writable,
            "custom": self.custom,
            "archived": self.archived,
            "model": self.model.as_str(),
        });
        if let Some(id) = self.id {
            v["id"] = json!(id);
            v["created_at"] = json!(self.created_at);
            v["updated_at"] = json!(self.updated_at);
        }
        if !self.options.is_empty() {
            v["options"] = json!(self.options);
        }
        v
    }
}

/// The standard contact attributes every workspace has (listed by `GET /data_attributes`; they are
/// top-level contact fields, not `custom_attributes`).
pub(crate) fn standard_contact_attributes(created_at: i64) -> Vec<DataAttribute> {
    [
        ("name", DataType::String, "The name of the contact"),
        ("email", DataType::String, "The email of the contact"),
        ("phone", DataType::String, "The phone number of the contact"),
        ("external_id", DataType::String, "The id of the contact in your system"),
        ("role", DataType::String, "user or lead"),
        ("signed_up_at", DataType::Date, "When the contact signed up"),
        ("last_seen_at", DataType::Date, "When the contact was last seen"),
        ("owner_id", DataType::Integer, "The admin who owns the contact"),
    ]
    .into_iter()
    .map(|(name, data_type, description)| DataAttribute {
        id: None,
        name: name.to_owned(),
        model: AttributeModel::Contact,
        data_type,
        description: description.to_owned(),
        options: Vec::new(),
        custom: false,
        archived: false,
        messenger_writable: false,
        created_at,
        updated_at: created_at,
    })
    .collect()
}

fn bad(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", message)
}

/// `POST /data_attributes`'s name rule: alphanumerics, `_`, `-`, spaces and currency symbols.
pub(crate) fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.trim().is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' ' | '$' | '€' | '£' | '¥'));
    if ok {
        Ok(())
    } else {
        Err(bad(
            "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens"
                .to_owned(),
        ))
    }
}

pub(crate) fn already_exists(name: &str, existing: AttributeModel, wanted: AttributeModel) -> ApiError {
    bad(format!(
        "You already have '{name}' in your {}. To save this as new {}, use a different name.",
        existing.data_name(),
        wanted.data_name()
    ))
}

/// Checks a contact's `custom_attributes` against the defined attributes: every key must be a custom,
/// non-archived contact attribute and every non-null value of its type. The first offender is named.
pub(crate) fn check_contact_attributes(defined: &[DataAttribute], attrs: &Map<String, Value>) -> Result<(), ApiError> {
    check_attributes(defined, AttributeModel::Contact, attrs)
}

/// [`check_contact_attributes`] for any model (a company's custom attributes).
pub(crate) fn check_attributes(
    defined: &[DataAttribute],
    model: AttributeModel,
    attrs: &Map<String, Value>,
) -> Result<(), ApiError> {
    for (name, value) in attrs {
        let attribute = defined
            .iter()
            .find(|a| a.custom && !a.archived && a.model == model && a.name == *name)
            .ok_or_else(|| bad(format!("Custom attribute '{name}' does not exist")))?;
        if !value.is_null() && !attribute.data_type.accepts(value) {
            return Err(bad(format!(
                "Custom attribute '{name}' must be {}, not {}",
                attribute.data_type.article(),
                json_kind(value)
            )));
        }
    }
    Ok(())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str, data_type: DataType) -> DataAttribute {
        DataAttribute {
            id: Some(1),
            name: name.to_owned(),
            model: AttributeModel::Contact,
            data_type,
            description: String::new(),
            options: Vec::new(),
            custom: true,
            archived: false,
            messenger_writable: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn unknown_names_and_wrong_types_are_refused() {
        let defined = [attr("seats", DataType::Integer), attr("vip", DataType::Boolean)];
        let check = |v: Value| check_contact_attributes(&defined, v.as_object().expect("object"));
        assert!(check(json!({"seats": 3, "vip": true})).is_ok());
        assert!(check(json!({"seats": null})).is_ok(), "null removes, whatever the type");
        let err = check(json!({"seats": 1, "shoe_size": 42})).expect_err("unknown");
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("parameter_invalid", "Custom attribute 'shoe_size' does not exist")
        );
        let err = check(json!({"seats": "3"})).expect_err("wrong type");
        assert_eq!(err.message, "Custom attribute 'seats' must be an integer, not a string");
        assert!(check(json!({"seats": 2.5})).is_err());
        assert!(check(json!({"Seats": 2})).is_err(), "names are case-sensitive");
    }

    #[test]
    fn names_follow_intercoms_rule() {
        assert!(check_name("escalation_count").is_ok());
        assert!(check_name("Mithril Shirt").is_ok());
        assert!(check_name("!nv@l!d n@me").is_err());
        assert!(check_name("  ").is_err());
    }
}
