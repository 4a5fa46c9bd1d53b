//! Intercom API handlers and their request-body helpers.
//!
//! Bodies are taken as raw bytes and read field by field, so malformed input gets an
//! Intercom-shaped 400 (`parameter_not_found` / `parameter_invalid`) instead of axum's
//! plain-text rejections.

pub(crate) mod admins;
pub(crate) mod companies;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod data_attributes;
pub(crate) mod knowledge;
pub(crate) mod office_hours;
pub(crate) mod tags;
pub(crate) mod tickets;

use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::error::ApiError;

pub(crate) type ApiResult = Result<Json<Value>, ApiError>;

/// The value of a query parameter.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The request body as a JSON object (an empty body is an empty object).
pub(crate) fn json_object(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", "The request body must be a JSON object"))
        }
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_invalid",
            format!("Invalid JSON in request body: {e}"),
        )),
    }
}

/// A string field; numbers are accepted as their decimal text (Intercom is lenient about
/// ids). Absent or `null` → `None`.
pub(crate) fn opt_str(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ApiError::invalid(field, format!("{field} must be a string"))),
    }
}

/// A required, non-empty string field.
pub(crate) fn req_str(obj: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    opt_str(obj, field)?.filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::missing(field))
}

/// A nullable string field: absent → `None`, `null` → `Some(None)`.
pub(crate) fn patch_str(obj: &Map<String, Value>, field: &str) -> Result<Option<Option<String>>, ApiError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(_) => opt_str(obj, field).map(Some),
    }
}

pub(crate) fn opt_i64(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| ApiError::invalid(field, format!("{field} must be an integer")))
        }
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| ApiError::invalid(field, format!("{field} must be an integer")))
        }
        Some(_) => Err(ApiError::invalid(field, format!("{field} must be an integer"))),
    }
}

/// A nullable integer field: absent → `None`, `null` → `Some(None)`.
pub(crate) fn patch_i64(obj: &Map<String, Value>, field: &str) -> Result<Option<Option<i64>>, ApiError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(_) => opt_i64(obj, field).map(Some),
    }
}

pub(crate) fn opt_bool(obj: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid(field, format!("{field} must be a boolean"))),
    }
}

pub(crate) fn opt_object(obj: &Map<String, Value>, field: &str) -> Result<Option<Map<String, Value>>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ApiError::invalid(field, format!("{field} must be an object"))),
    }
}

/// Custom attribute values must be scalars (`null` deletes on update).
pub(crate) fn custom_attributes(obj: &Map<String, Value>) -> Result<Option<Map<String, Value>>, ApiError> {
    let attrs = opt_object(obj, "custom_attributes")?;
    if let Some(attrs) = &attrs
        && let Some((k, _)) = attrs.iter().find(|(_, v)| matches!(v, Value::Array(_) | Value::Object(_)))
    {
        return Err(ApiError::invalid(
            "custom_attributes",
            format!("Custom attribute '{k}' must be a string, number, boolean or null"),
        ));
    }
    Ok(attrs)
}
