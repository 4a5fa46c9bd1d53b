//! The one place where agent requests are decoded and errors become HTTP responses.
//!
//! Every agent action answers JSON; failures are `{"error": {"code", "message", "field"?,
//! "intercomRequestId"?, "retryAfterSeconds"?}}` with a status the agent can act on.

pub mod error;

use std::time::Instant;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::deadline;
use crate::intercom::error::without_input;

/// The agent-key check of single mode; it lives in [`crate::auth`], below both this and `App`.
pub use crate::auth::AgentGuard;
pub use error::{ActionError, MAX_BODY_BYTES, json_response};

/// Which methods an action accepts: POST with a JSON body, or also GET with query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    PostJson,
    PostJsonOrGetQuery,
}

/// An action's answer as JSON (the idempotency store keeps it in this form).
pub fn to_json<O: Serialize>(output: O) -> Result<serde_json::Value, ActionError> {
    serde_json::to_value(output).map_err(|_| ActionError::Upstream {
        code: "internal",
        message: "the answer could not be built".into(),
        intercom_request_id: None,
    })
}

/// The invocation's deadline: the Lambda context's, else the current scope's (tests, tools).
pub fn deadline_of(request: &Request) -> Instant {
    let deadline_ms = request.lambda_context_ref().map(|ctx| ctx.deadline);
    tracing::debug!(?deadline_ms, "invocation");
    deadline_ms.map(deadline::from_epoch_millis).unwrap_or_else(deadline::current)
}

/// The response to an invocation's outcome, logged once: the answer with its status, or the error mapped to its
/// status and JSON body (every agent action and `connect-workspace` answer through here).
pub fn answer<O: Serialize>(outcome: Result<(StatusCode, O), ActionError>, started: Instant) -> Response<Body> {
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok((status, output)) => {
            tracing::info!(status = status.as_u16(), elapsed_ms, "action succeeded");
            json_response(status, &output)
        }
        Err(error) => {
            let status = error.status().as_u16();
            if status >= 500 {
                tracing::error!(status, elapsed_ms, code = error.code(), error = %error, "action failed");
            } else {
                tracing::warn!(status, elapsed_ms, code = error.code(), error = %error, "action refused");
            }
            error.to_response()
        }
    }
}

/// Decodes the JSON body (or the query string of a GET) into `I`, naming the offending field on failure.
pub fn decode<I: DeserializeOwned>(request: &Request, accepts: Accepts) -> Result<I, ActionError> {
    from_value(decode_value(request, accepts)?)
}

/// The request's JSON object (body, or query string of a GET), size- and method-checked.
pub fn decode_value(request: &Request, accepts: Accepts) -> Result<serde_json::Value, ActionError> {
    let method = request.method();
    let allowed = match accepts {
        Accepts::PostJson => "POST",
        Accepts::PostJsonOrGetQuery => "POST, GET",
    };
    let from_query = match (method, accepts) {
        (&Method::POST, _) => false,
        (&Method::GET, Accepts::PostJsonOrGetQuery) => true,
        _ => return Err(ActionError::MethodNotAllowed { allowed }),
    };
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(ActionError::PayloadTooLarge);
    }
    let value: serde_json::Value = if from_query || (body.iter().all(u8::is_ascii_whitespace) && has_query(request)) {
        let params = request.query_string_parameters();
        serde_json::Value::Object(params.iter().map(|(k, v)| (k.to_owned(), v.into())).collect())
    } else if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ActionError::BadRequest {
            field: None,
            message: "the request body is empty; send a JSON object".into(),
        });
    } else {
        serde_json::from_slice(body).map_err(|e| ActionError::BadRequest {
            field: None,
            message: format!("the request body is not valid JSON ({e})"),
        })?
    };
    Ok(value)
}

/// Decodes a JSON object into `I`, naming the offending field on failure (the MCP tool arguments go through here
/// too, so a refused call names the same field as the function URL would).
pub fn from_value<I: DeserializeOwned>(value: serde_json::Value) -> Result<I, ActionError> {
    if !value.is_object() {
        return Err(ActionError::BadRequest { field: None, message: "the request body must be a JSON object".into() });
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = without_input(&e.into_inner().to_string());
        // serde names a missing field only in the message ("missing field `body`").
        let field = match inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None if path == "." => String::new(),
            None => path,
        };
        let message = if field.is_empty() { inner } else { format!("{field}: {inner}") };
        ActionError::BadRequest { field: (!field.is_empty()).then_some(field), message }
    })
}

fn has_query(request: &Request) -> bool {
    !request.query_string_parameters().is_empty()
}

#[cfg(test)]
mod tests {
    use lambda_http::http;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)] // only decoding is under test
    struct Input {
        conversation_id: String,
        #[serde(default)]
        count: Option<u32>,
    }

    fn post(body: &str) -> Request {
        http::Request::builder().method("POST").uri("https://x/").body(Body::from(body)).unwrap()
    }

    fn bad(result: Result<Input, ActionError>) -> (Option<String>, String) {
        match result {
            Err(ActionError::BadRequest { field, message }) => (field, message),
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn decoding_names_the_field() {
        let (field, message) = bad(decode(&post("{}"), Accepts::PostJson));
        assert_eq!(field.as_deref(), Some("conversationId"));
        assert!(message.contains("missing field"), "{message}");
        let (field, _) = bad(decode(&post(r#"{"conversationId":"1","count":"x"}"#), Accepts::PostJson));
        assert_eq!(field.as_deref(), Some("count"));
        let (_, message) = bad(decode(&post(r#"{"conversationId":"1","cuont":1}"#), Accepts::PostJson));
        assert!(message.contains("unknown field `cuont`"), "{message}");
        let (field, message) = bad(decode(&post("{not json"), Accepts::PostJson));
        assert_eq!(field, None);
        assert!(message.contains("not valid JSON"));
        assert!(bad(decode(&post("[1]"), Accepts::PostJson)).1.contains("JSON object"));
        assert!(bad(decode(&post("  "), Accepts::PostJson)).1.contains("empty"));
    }

    #[test]
    fn decoding_errors_never_echo_the_submitted_value() {
        for (count, expected) in [
            (r#""sk_live_SECRET""#, "count: expected u32, found string"),
            ("-7", "count: invalid value, expected u32"),
            ("1.5", "count: expected u32, found floating point"),
            ("99999999999999999999", "count: expected u32, found floating point"),
            (r#"{"sk_live_SECRET":1}"#, "count: expected u32, found map"),
        ] {
            let body = format!(r#"{{"conversationId":"1","count":{count}}}"#);
            let (field, message) = bad(decode(&post(&body), Accepts::PostJson));
            assert_eq!(field.as_deref(), Some("count"));
            assert_eq!(message, expected, "{body}");
        }
        let (field, message) = bad(decode(&post(r#"{"conversationId":["sk_live_SECRET"]}"#), Accepts::PostJson));
        assert_eq!(
            (field.as_deref(), message.as_str()),
            (Some("conversationId"), "conversationId: expected a string, found sequence")
        );
        let reason = serde_json::from_value::<crate::escalation::Reason>("sk_live_SECRET".into()).unwrap_err();
        assert!(!without_input(&reason.to_string()).contains("SECRET"), "{}", without_input(&reason.to_string()));
    }

    #[test]
    fn oversize_and_wrong_methods_are_refused() {
        let big = format!(r#"{{"conversationId":"{}"}}"#, "1".repeat(MAX_BODY_BYTES));
        assert_eq!(decode::<Input>(&post(&big), Accepts::PostJson).unwrap_err(), ActionError::PayloadTooLarge);
        let get = http::Request::builder().method("GET").uri("https://x/").body(Body::Empty).unwrap();
        assert!(matches!(decode::<Input>(&get, Accepts::PostJson), Err(ActionError::MethodNotAllowed { .. })));
    }
}
