//! Everything an agent action can fail with, and its mapping to a status and a JSON body: the one place an error
//! becomes a response (the function URLs through [`super::respond`], the MCP tools through `to_json`).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::intercom::IntercomError;
use crate::secrets::SecretsError;
use crate::store::StoreError;

/// Larger agent requests are refused with 413 (Intercom messages are far smaller; this bounds memory).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Everything an agent action can fail with, mapped to a status exactly once in [`ActionError::status`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    #[error("{message}")]
    BadRequest { field: Option<String>, message: String },
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("{allowed} only")]
    MethodNotAllowed { allowed: &'static str },
    #[error("a valid Authorization: Bearer <agent api key> header is required")]
    Unauthenticated,
    /// What the request names does not exist; `field` is the request field that named it, when one did.
    #[error("{message}")]
    NotFound { field: Option<String>, message: String, intercom_request_id: Option<String> },
    #[error("{message}")]
    Conflict { message: String, retry_after_seconds: Option<u64> },
    #[error("Intercom's rate limit is exhausted; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64, intercom_request_id: Option<String> },
    #[error("{message}")]
    Upstream { code: &'static str, message: String, intercom_request_id: Option<String> },
    #[error("{message}")]
    Unavailable { message: String },
    /// The idempotency store could not be used; nothing was sent to Intercom.
    #[error("{message}")]
    StoreUnavailable { message: String },
    #[error(
        "this idempotency key was already used for a different request to this action; use a new key for a new request"
    )]
    IdempotencyKeyReused,
    #[error("a request with this idempotency key is still running; retry in {retry_after_seconds} s to get its answer")]
    IdempotencyKeyInUse { retry_after_seconds: u64 },
    /// Intercom refused a custom attribute the workspace has not defined (or a value of the wrong type): the
    /// caller's mistake, not Intercom failing.
    #[error("{message}")]
    UnknownAttribute { name: String, message: String },
    /// A customer-visible reply as the AI in a conversation a human handles (see [`crate::handoff`]).
    #[error("{message}")]
    HumanHandlesConversation { owner: crate::handoff::Owner, message: String },
}

impl ActionError {
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        ActionError::BadRequest { field: Some(field.to_owned()), message: message.into() }
    }

    /// 404: `field` names something that does not exist; `message` says what to send instead.
    pub fn not_found(field: &str, message: impl Into<String>) -> Self {
        ActionError::NotFound { field: Some(field.to_owned()), message: message.into(), intercom_request_id: None }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ActionError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ActionError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ActionError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ActionError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ActionError::NotFound { .. } => StatusCode::NOT_FOUND,
            ActionError::Conflict { .. } => StatusCode::CONFLICT,
            ActionError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ActionError::Upstream { code: "intercom_timeout", .. } => StatusCode::GATEWAY_TIMEOUT,
            // Not a 5xx: clients retry those blindly, and this one must be retried only with its idempotency key.
            ActionError::Upstream { code: "intercom_outcome_unknown", .. } => StatusCode::CONFLICT,
            ActionError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            ActionError::Unavailable { .. } | ActionError::StoreUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ActionError::IdempotencyKeyReused | ActionError::UnknownAttribute { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ActionError::IdempotencyKeyInUse { .. } | ActionError::HumanHandlesConversation { .. } => {
                StatusCode::CONFLICT
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ActionError::BadRequest { .. } => "invalid_request",
            ActionError::PayloadTooLarge => "payload_too_large",
            ActionError::MethodNotAllowed { .. } => "method_not_allowed",
            ActionError::Unauthenticated => "unauthenticated",
            ActionError::NotFound { .. } => "not_found",
            ActionError::Conflict { .. } => "conflict",
            ActionError::RateLimited { .. } => "rate_limited",
            ActionError::Upstream { code, .. } => code,
            ActionError::Unavailable { .. } => "token_unavailable",
            ActionError::StoreUnavailable { .. } => "idempotency_unavailable",
            ActionError::IdempotencyKeyReused => "idempotency_key_reused",
            ActionError::IdempotencyKeyInUse { .. } => "idempotency_key_in_use",
            ActionError::UnknownAttribute { .. } => "unknown_attribute",
            ActionError::HumanHandlesConversation { .. } => "human_handles_conversation",
        }
    }

    /// Whether Intercom may have applied the write although this request failed (so it must not simply be
    /// repeated): the answer was lost, or time ran out while a request was in flight.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, ActionError::Upstream { code: "intercom_outcome_unknown" | "intercom_timeout", .. })
    }

    /// The `error` object of the response body: `code`, `message` and, when they apply, `field`,
    /// `intercomRequestId` and `retryAfterSeconds` (MCP tool results carry the same object).
    pub fn to_json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        match self {
            ActionError::BadRequest { field: Some(field), .. } => error["field"] = field.as_str().into(),
            ActionError::UnknownAttribute { name, .. } => error["field"] = format!("attributes.{name}").into(),
            ActionError::NotFound { field, intercom_request_id, .. } => {
                if let Some(field) = field {
                    error["field"] = field.as_str().into();
                }
                if let Some(id) = intercom_request_id {
                    error["intercomRequestId"] = id.as_str().into();
                }
            }
            ActionError::Upstream { intercom_request_id: Some(id), .. } => {
                error["intercomRequestId"] = id.as_str().into()
            }
            ActionError::RateLimited { retry_after_seconds, intercom_request_id } => {
                error["retryAfterSeconds"] = (*retry_after_seconds).into();
                if let Some(id) = intercom_request_id {
                    error["intercomRequestId"] = id.as_str().into();
                }
            }
            ActionError::Conflict { retry_after_seconds: Some(s), .. }
            | ActionError::IdempotencyKeyInUse { retry_after_seconds: s } => error["retryAfterSeconds"] = (*s).into(),
            ActionError::HumanHandlesConversation { owner, .. } => {
                error["owner"] = serde_json::to_value(owner).unwrap_or_default()
            }
            _ => {}
        }
        error
    }

    pub fn to_response(&self) -> Response<Body> {
        let mut response = json_response(self.status(), &serde_json::json!({ "error": self.to_json() }));
        let retry_after = match self {
            ActionError::RateLimited { retry_after_seconds, .. } => Some(*retry_after_seconds),
            ActionError::Conflict { retry_after_seconds, .. } => *retry_after_seconds,
            ActionError::IdempotencyKeyInUse { retry_after_seconds } => Some(*retry_after_seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        if let ActionError::MethodNotAllowed { allowed } = self {
            response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allowed));
        }
        response
    }
}

impl From<IntercomError> for ActionError {
    fn from(e: IntercomError) -> Self {
        let request_id = e.request_id().map(str::to_owned);
        match e {
            IntercomError::Api { status: 404, message, .. } => ActionError::NotFound {
                field: None,
                message: format!("Intercom has no such resource: {}", nonempty(&message, "Resource Not Found")),
                intercom_request_id: request_id,
            },
            IntercomError::Api { status: 400 | 422, ref message, .. } if refused_attribute(message).is_some() => {
                let name = refused_attribute(message).unwrap_or_default();
                ActionError::UnknownAttribute {
                    message: format!(
                        "Intercom refused the custom attribute {name:?}: {}. Create it in Intercom (Settings → Data → \
                         People) with the right type, or leave it out",
                        message.trim_end_matches('.')
                    ),
                    name,
                }
            }
            IntercomError::Api { status, code, message, field, .. } => ActionError::Upstream {
                code: "intercom_rejected",
                message: format!(
                    "Intercom refused the request (HTTP {status}{}{}): {}",
                    if code.is_empty() { "" } else { ", " },
                    code,
                    nonempty(&message, "no details given")
                ) + &field.map(|f| format!(" (field {f})")).unwrap_or_default(),
                intercom_request_id: request_id,
            },
            IntercomError::Unauthorized { .. } => ActionError::Upstream {
                code: "intercom_unauthorized",
                message: "Intercom rejected the access token (401): the access token is expired or lacks read/write \
                          scopes on Conversations and Contacts; regenerate it in Developer Hub and update the secret"
                    .into(),
                intercom_request_id: request_id,
            },
            IntercomError::RateLimited { retry_after, .. } => ActionError::RateLimited {
                retry_after_seconds: retry_after.as_secs().max(1),
                intercom_request_id: request_id,
            },
            IntercomError::Unavailable { status, .. } => ActionError::Upstream {
                code: "intercom_unavailable",
                message: format!("Intercom is unavailable (HTTP {status}) after retries; try again shortly"),
                intercom_request_id: request_id,
            },
            IntercomError::Transport { reason } => ActionError::Upstream {
                code: "intercom_unreachable",
                message: format!("could not reach Intercom ({reason}); try again shortly"),
                intercom_request_id: None,
            },
            IntercomError::OutcomeUnknown { operation, .. } => ActionError::Upstream {
                code: "intercom_outcome_unknown",
                message: format!(
                    "Intercom did not confirm {operation}; it may have been applied. Read the conversation \
                     (get-conversation) before trying again, so nothing is sent twice."
                ),
                intercom_request_id: request_id,
            },
            IntercomError::DeadlineExceeded => ActionError::Upstream {
                code: "intercom_timeout",
                message: "Intercom did not answer before this function's time ran out; try again".into(),
                intercom_request_id: None,
            },
            IntercomError::Decode { operation, .. } => ActionError::Upstream {
                code: "intercom_unexpected_answer",
                message: format!("Intercom's answer to {operation} could not be read"),
                intercom_request_id: request_id,
            },
            IntercomError::Redirected { status } => ActionError::Upstream {
                code: "intercom_redirected",
                message: format!(
                    "Intercom answered with a redirect (HTTP {status}), which is not followed; check INTERCOM_REGION \
                     or INTERCOM_API_BASE points at the workspace's API host"
                ),
                intercom_request_id: None,
            },
            IntercomError::Token(e) => e.into(),
        }
    }
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        ActionError::StoreUnavailable { message: e.to_string() }
    }
}

impl From<SecretsError> for ActionError {
    /// `SecretsError`'s `Display` names `INTERCOM_SECRET_ARN`, never the ARN (that is logged at warn).
    fn from(e: SecretsError) -> Self {
        ActionError::Unavailable { message: format!("the Intercom access token could not be loaded: {e}") }
    }
}

/// The attribute named by Intercom's refusal of an undefined or mistyped custom attribute
/// ("Custom attribute 'tier' does not exist"), if that is what `message` says.
fn refused_attribute(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Custom attribute '")?;
    let (name, _) = rest.split_once('\'')?;
    (!name.is_empty()).then(|| name.to_owned())
}

fn nonempty<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    if s.trim().is_empty() { fallback } else { s }
}

pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| r#"{"error":{"code":"internal"}}"#.to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_as_json_with_what_to_do() {
        let response = ActionError::from(IntercomError::Unauthorized { request_id: Some("r1".into()) }).to_response();
        assert_eq!(response.status(), 502);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "intercom_unauthorized");
        assert!(body["error"]["message"].as_str().unwrap().contains("regenerate it in Developer Hub"));
        assert_eq!(body["error"]["intercomRequestId"], "r1");

        let limited = ActionError::from(IntercomError::RateLimited {
            retry_after: std::time::Duration::from_secs(7),
            request_id: None,
        })
        .to_response();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "7");
        let body: serde_json::Value = serde_json::from_slice(limited.body().as_ref()).unwrap();
        assert_eq!(body["error"]["retryAfterSeconds"], 7);

        let token = ActionError::from(SecretsError::MissingField { field: "access_token" }).to_response();
        assert_eq!(token.status(), 503);
    }

    #[test]
    fn a_not_found_names_the_field_to_fix() {
        let error = ActionError::not_found("teamName", "no Intercom team is named \"Ops\"").to_json();
        assert_eq!(
            error,
            serde_json::json!({"code": "not_found", "message": "no Intercom team is named \"Ops\"", "field": "teamName"})
        );
        let intercom = ActionError::from(IntercomError::Api {
            status: 404,
            code: "not_found".into(),
            message: "Resource Not Found".into(),
            field: None,
            request_id: Some("r2".into()),
        });
        assert_eq!(intercom.to_json()["intercomRequestId"], "r2");
        assert_eq!(intercom.to_json().get("field"), None);
    }
}
