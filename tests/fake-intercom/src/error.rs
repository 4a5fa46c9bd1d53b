//! Intercom-shaped API errors.
//!
//! Handlers return [`ApiError`]; the request middleware renders it as Intercom's
//! `error.list` body with the request's id, so every error body and the `X-Request-Id`
//! header agree.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One Intercom error (`errors[0]` of an `error.list`), with the HTTP status to answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Access Token Invalid")
    }

    /// 404 for a contact id / external id that does not exist (Intercom says "User Not Found").
    pub fn contact_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "User Not Found")
    }

    /// 404 for an unknown conversation on the conversation endpoints.
    pub fn conversation_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Resource Not Found")
    }

    pub fn tag_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found")
    }

    /// 404 for an `admin_id` no admin has (Intercom's wording in `PUT /admins/{admin_id}/away`).
    pub fn admin_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin for admin_id not found")
    }

    /// 404 for an `assignee_id` no admin or team has (Intercom's answer to a ticket's unknown assignee).
    pub fn assignee_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "assignee_not_found", "Assignee not found")
    }

    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Resource Not Found")
    }

    /// 400 `parameter_not_found`: a required field is missing.
    pub fn missing(field: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "parameter_not_found", format!("{field} is required")).with_field(field)
    }

    /// 400 `parameter_invalid`: a field has a wrong type or value.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "parameter_invalid", message).with_field(field)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn rate_limited() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", "Exceeded rate limit of 10000 in 10_seconds")
    }

    /// The error Intercom's edge answers for a 5xx status.
    pub fn server_error(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            502 => ("bad_gateway", "Bad Gateway"),
            503 => ("service_unavailable", "Service Unavailable"),
            504 => ("gateway_timeout", "Gateway Timeout"),
            _ => ("server_error", "Server Error"),
        };
        Self::new(status, code, message)
    }

    /// The `error.list` body for this error.
    pub fn body(&self, request_id: &str) -> Value {
        let mut err = json!({ "code": self.code, "message": self.message });
        if let Some(field) = &self.field {
            err["field"] = json!(field);
        }
        json!({ "type": "error.list", "request_id": request_id, "errors": [err] })
    }
}

impl IntoResponse for ApiError {
    /// The body is filled in by the middleware (which knows the request id); the error
    /// travels in the response extensions until then.
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}
