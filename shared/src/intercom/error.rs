//! Intercom's failures, typed: the `error.list` body, rate limits, the token, and outcomes we cannot know.

use std::time::Duration;

use serde::Deserialize;

use crate::secrets::SecretsError;

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum IntercomError {
    /// Intercom answered with an `error.list` (or another non-success status we do not retry).
    #[error("Intercom answered HTTP {status} {code}: {message}")]
    Api { status: u16, code: String, message: String, field: Option<String>, request_id: Option<String> },
    /// The token was rejected even after fetching the secret again.
    #[error("Intercom rejected the access token (HTTP 401)")]
    Unauthorized { request_id: Option<String> },
    /// The rate limit will not reset before this invocation's deadline.
    #[error("Intercom's rate limit is exhausted for {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration, request_id: Option<String> },
    /// 5xx answers (after the retries that were safe to make).
    #[error("Intercom is unavailable (HTTP {status})")]
    Unavailable { status: u16, request_id: Option<String> },
    #[error("could not reach Intercom: {reason}")]
    Transport { reason: String },
    /// A write was sent but no answer came back: it may or may not have been applied, so it is not repeated.
    #[error("Intercom did not confirm {operation}; it may or may not have been applied")]
    OutcomeUnknown { operation: &'static str, request_id: Option<String> },
    /// A 3xx: never followed, since a redirect would carry the token elsewhere.
    #[error("Intercom answered with a redirect (HTTP {status}), which is not followed")]
    Redirected { status: u16 },
    #[error("the invocation ran out of time waiting for Intercom")]
    DeadlineExceeded,
    #[error("unexpected answer from Intercom to {operation}: {reason}")]
    Decode { operation: &'static str, reason: String },
    #[error(transparent)]
    Token(#[from] SecretsError),
}

impl IntercomError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, IntercomError::Api { status: 404, .. })
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            IntercomError::Api { request_id, .. }
            | IntercomError::Unauthorized { request_id }
            | IntercomError::RateLimited { request_id, .. }
            | IntercomError::Unavailable { request_id, .. }
            | IntercomError::OutcomeUnknown { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Builds the typed error from a non-success answer's status and body.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Self {
        let parsed: Option<ErrorList> = serde_json::from_slice(body).ok();
        let request_id = parsed.as_ref().and_then(|p| p.request_id.clone());
        let first = parsed.and_then(|p| p.errors.into_iter().next());
        match status {
            401 => IntercomError::Unauthorized { request_id },
            500..=599 => IntercomError::Unavailable { status, request_id },
            _ => {
                let (code, message, field) = match first {
                    Some(e) => (e.code.unwrap_or_default(), e.message.unwrap_or_default(), e.field),
                    None => (String::new(), String::new(), None),
                };
                IntercomError::Api { status, code, message, field, request_id }
            }
        }
    }
}

/// serde's message without the value that was read (`invalid type: string "sk_live…", expected u32` →
/// `expected u32, found string`): the value may be a secret or customer text (from the agent, or in Intercom's
/// answer), and it must not reach a response or a log.
pub fn without_input(message: &str) -> String {
    // serde_json appends " at line L column C" to errors from text; the position is harmless but noise.
    let message = match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    };
    let expected = |rest: &str| rest.split_once(", expected ").map(|(_, e)| e.to_owned());
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        // "string \"x\"", "floating point `1.5`", "map"…: the kind is what precedes the quoted value.
        let described = rest.split_once(", expected ").map_or(rest, |(found, _)| found);
        let kind = described.split(['"', '`']).next().unwrap_or_default().trim();
        return match expected(rest) {
            Some(e) => format!("expected {e}, found {kind}"),
            None => format!("unexpected {kind}"),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        return match expected(rest) {
            Some(e) => format!("invalid value, expected {e}"),
            None => "invalid value".to_owned(),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return match expected(rest) {
            Some(e) => format!("unknown value, expected {e}"),
            None => "unknown value".to_owned(),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        return match expected(rest) {
            Some(e) => format!("invalid length, expected {e}"),
            None => "invalid length".to_owned(),
        };
    }
    if let Some((_, accepted)) =
        message.strip_prefix("unknown escalation reason ").and_then(|r| r.rsplit_once(": expected "))
    {
        return format!("unknown escalation reason, expected {accepted}");
    }
    // "missing field `x`", "unknown field `x`, expected …", "duplicate field `x`" name keys, not values; other
    // messages come from our own validators and never quote the input.
    message.to_owned()
}

#[derive(Debug, Deserialize)]
struct ErrorList {
    request_id: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    code: Option<String>,
    message: Option<String>,
    field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_intercoms_error_list() {
        let body =
            br#"{"type":"error.list","request_id":"req-1","errors":[{"code":"not_found","message":"User Not Found"}]}"#;
        match IntercomError::from_response(404, body) {
            IntercomError::Api { status, code, message, request_id, .. } => {
                assert_eq!((status, code.as_str(), message.as_str()), (404, "not_found", "User Not Found"));
                assert_eq!(request_id.as_deref(), Some("req-1"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(IntercomError::from_response(404, body).is_not_found());
    }

    #[test]
    fn serde_messages_lose_the_value_they_quote() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)] // only decoding is under test
        struct Conversation {
            id: String,
            state: Option<State>,
        }
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum State {
            Open,
        }
        for (answer, expected) in [
            (r#"{"id":{"customer text":1}}"#, "expected a string, found map"),
            (r#"{"id":true}"#, "expected a string, found boolean"),
            (r#"{"id":"1","state":"customer text"}"#, "unknown value, expected `open`"),
            (r#"{"id":7e300}"#, "expected a string, found floating point"),
        ] {
            let e = serde_json::from_str::<Conversation>(answer).unwrap_err();
            assert_eq!(without_input(&e.to_string()), expected, "{answer}");
        }
    }

    #[test]
    fn status_decides_the_variant_even_without_a_body() {
        assert!(matches!(IntercomError::from_response(401, b""), IntercomError::Unauthorized { .. }));
        assert!(matches!(IntercomError::from_response(503, b"<html>"), IntercomError::Unavailable { status: 503, .. }));
        assert!(matches!(IntercomError::from_response(400, b"nope"), IntercomError::Api { status: 400, .. }));
    }
}
