//! `POST /contacts/search` queries (Intercom's search_request).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::state::Contact;

/// A parsed search query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Query {
    Single { field: String, operator: String, value: Value },
    Multiple { and: bool, filters: Vec<Query> },
}

const OPERATORS: [&str; 12] = ["=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"];

const FIELDS: [&str; 12] = [
    "id",
    "email",
    "email_domain",
    "external_id",
    "name",
    "role",
    "phone",
    "created_at",
    "updated_at",
    "signed_up_at",
    "last_seen_at",
    "owner_id",
];

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", message).with_field("query")
}

/// The fields `POST /conversations/search` filters on (the ones this fake keeps).
pub(crate) const CONVERSATION_FIELDS: [&str; 9] = [
    "id",
    "created_at",
    "updated_at",
    "state",
    "open",
    "contact_ids",
    "admin_assignee_id",
    "team_assignee_id",
    "title",
];

impl Query {
    pub(crate) fn parse(v: &Value) -> Result<Query, ApiError> {
        Query::parse_for(v, &FIELDS)
    }

    /// A query over `fields` (and `custom_attributes.*`).
    pub(crate) fn parse_for(v: &Value, fields: &[&str]) -> Result<Query, ApiError> {
        let obj = v.as_object().ok_or_else(|| invalid("query must be an object"))?;
        let operator =
            obj.get("operator").and_then(Value::as_str).ok_or_else(|| invalid("query operator is required"))?;
        match operator {
            "AND" | "OR" => {
                let items = obj
                    .get("value")
                    .and_then(Value::as_array)
                    .ok_or_else(|| invalid("AND/OR queries need an array of filters as value"))?;
                let filters = items.iter().map(|f| Query::parse_for(f, fields)).collect::<Result<_, _>>()?;
                Ok(Query::Multiple { and: operator == "AND", filters })
            }
            op if OPERATORS.contains(&op) => {
                let field =
                    obj.get("field").and_then(Value::as_str).ok_or_else(|| invalid("query field is required"))?;
                if !fields.contains(&field) && !field.starts_with("custom_attributes.") {
                    return Err(invalid(format!("{field} is not a searchable field")));
                }
                let value = obj.get("value").cloned().unwrap_or(Value::Null);
                if matches!(op, "IN" | "NIN") != value.is_array() {
                    return Err(invalid(format!(
                        "operator {op} {} an array value",
                        if value.is_array() { "does not take" } else { "needs" }
                    )));
                }
                Ok(Query::Single { field: field.to_owned(), operator: op.to_owned(), value })
            }
            other => Err(invalid(format!("{other} is not a valid operator"))),
        }
    }

    pub(crate) fn matches(&self, contact: &Contact) -> bool {
        self.matches_fields(&|field| field_value(contact, field), &["email", "email_domain"])
    }

    /// Whether the record whose fields `get` reads matches; `ci` fields compare case-insensitively. A list
    /// field (`contact_ids`) matches `=` / `IN` when any of its items does, `!=` / `NIN` when none does.
    pub(crate) fn matches_fields(&self, get: &dyn Fn(&str) -> Value, ci: &[&str]) -> bool {
        match self {
            Query::Multiple { and: true, filters } => filters.iter().all(|f| f.matches_fields(get, ci)),
            Query::Multiple { and: false, filters } => filters.iter().any(|f| f.matches_fields(get, ci)),
            Query::Single { field, operator, value } => {
                let actual = get(field);
                let ci = ci.contains(&field.as_str());
                match (&actual, operator.as_str()) {
                    (Value::Array(items), "!=" | "NIN") => {
                        let positive = if operator == "!=" { "=" } else { "IN" };
                        !items.iter().any(|item| compare(item, positive, value, ci))
                    }
                    (Value::Array(items), _) => items.iter().any(|item| compare(item, operator, value, ci)),
                    _ => compare(&actual, operator, value, ci),
                }
            }
        }
    }
}

fn field_value(c: &Contact, field: &str) -> Value {
    let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    let n = |v: Option<i64>| v.map_or(Value::Null, Value::from);
    match field {
        "id" => Value::String(c.id.clone()),
        "email" => s(&c.email),
        "email_domain" => c
            .email
            .as_deref()
            .and_then(|e| e.rsplit_once('@'))
            .map_or(Value::Null, |(_, d)| Value::String(d.to_owned())),
        "external_id" => s(&c.external_id),
        "name" => s(&c.name),
        "role" => Value::String(c.role.as_str().to_owned()),
        "phone" => s(&c.phone),
        "created_at" => Value::from(c.created_at),
        "updated_at" => Value::from(c.updated_at),
        "signed_up_at" => n(c.signed_up_at),
        "last_seen_at" => n(c.last_seen_at),
        "owner_id" => n(c.owner_id),
        other => other
            .strip_prefix("custom_attributes.")
            .and_then(|k| c.custom_attributes.get(k).cloned())
            .unwrap_or(Value::Null),
    }
}

fn as_text(v: &Value, ci: bool) -> Option<String> {
    let t = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(if ci { t.to_lowercase() } else { t })
}

fn equal(a: &Value, b: &Value, ci: bool) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => as_text(a, ci) == as_text(b, ci),
    }
}

fn compare(actual: &Value, operator: &str, want: &Value, ci: bool) -> bool {
    let empty = Vec::new();
    let list = want.as_array().unwrap_or(&empty);
    let text = |v: &Value| as_text(v, ci);
    let number = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    match operator {
        "=" => equal(actual, want, ci),
        "!=" => !equal(actual, want, ci),
        "IN" => list.iter().any(|w| equal(actual, w, ci)),
        "NIN" => !list.iter().any(|w| equal(actual, w, ci)),
        "~" | "!~" | "^" | "$" => {
            let (Some(a), Some(w)) = (text(actual), text(want)) else {
                return operator == "!~";
            };
            match operator {
                "~" => a.contains(&w),
                "!~" => !a.contains(&w),
                "^" => a.starts_with(&w),
                _ => a.ends_with(&w),
            }
        }
        _ => {
            let (Some(a), Some(w)) = (number(actual), number(want)) else {
                return false;
            };
            match operator {
                "<" => a < w,
                "<=" => a <= w,
                ">" => a > w,
                _ => a >= w,
            }
        }
    }
}

/// `pagination` of a search: `(per_page, offset)`. Cursors are `"offset:<n>"`.
pub(crate) fn pagination(body: &Map<String, Value>) -> Result<(usize, usize), ApiError> {
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", m).with_field("pagination");
    let Some(p) = body.get("pagination").filter(|p| !p.is_null()) else {
        return Ok((50, 0));
    };
    let p = p.as_object().ok_or_else(|| bad("pagination must be an object"))?;
    let per_page = match p.get("per_page") {
        None | Some(Value::Null) => 50,
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| (1..=150).contains(n))
            .ok_or_else(|| bad("per_page must be an integer between 1 and 150"))?,
    };
    let offset = match p.get("starting_after") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_str()
            .and_then(|s| s.strip_prefix("offset:"))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad("starting_after is not a valid cursor"))?,
    };
    Ok((per_page, offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{NewContact, State};
    use serde_json::json;

    #[test]
    fn nested_queries() {
        let mut s = State::new();
        let jane = s.create_contact(NewContact::user("Jane@Example.com").external_id("x1")).expect("jane");
        let q = Query::parse(&json!({"operator": "OR", "value": [
            {"field": "email", "operator": "=", "value": "jane@example.com"},
            {"operator": "AND", "value": [
                {"field": "external_id", "operator": "=", "value": "nope"},
                {"field": "role", "operator": "=", "value": "user"}
            ]}
        ]}))
        .expect("query");
        assert!(q.matches(&jane));
        let q = Query::parse(&json!({"field": "external_id", "operator": "IN", "value": ["a", "x1"]})).expect("query");
        assert!(q.matches(&jane));
        let q = Query::parse(&json!({"field": "email", "operator": "$", "value": "example.com"})).expect("query");
        assert!(q.matches(&jane));
        assert!(Query::parse(&json!({"field": "shoe_size", "operator": "=", "value": 1})).is_err());
        assert!(Query::parse(&json!({"field": "email", "operator": "IN", "value": "x"})).is_err());
    }
}
