//! The one place where agent requests are decoded and errors become HTTP responses.
//!
//! Every agent action answers JSON; failures are `{"error": {"code", "message", "field"?,
//! "intercomRequestId"?, "retryAfterSeconds"?}}` with a status the agent can act on.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use lambda_http::http::{HeaderMap, Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::AgentAuth;
use crate::deadline;
use crate::idempotency;
use crate::intercom::IntercomError;
use crate::intercom::error::without_input;
use crate::secrets::{SecretStore, SecretsError};
use crate::store::Store;

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
    /// A refusal with its own stable code (404 `contact_not_found`, 400 `unknown_ticket_type`, …): `field` names
    /// the request field to fix and `allowed`, when not empty, the values it may take.
    #[error("{message}")]
    Refused { status: StatusCode, code: &'static str, field: String, message: String, allowed: Vec<String> },
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
            ActionError::Refused { status, .. } => *status,
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
            ActionError::Refused { code, .. } => code,
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
            ActionError::Refused { field, allowed, .. } => {
                error["field"] = field.as_str().into();
                if !allowed.is_empty() {
                    error["allowed"] = allowed.clone().into();
                }
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

/// Checks the agent's credentials when `AGENT_AUTH=API_KEY`; with `AWS_IAM` the function URL already did.
pub struct AgentGuard {
    mode: AgentAuth,
    secrets: Arc<SecretStore>,
}

impl AgentGuard {
    pub fn new(mode: AgentAuth, secrets: Arc<SecretStore>) -> Self {
        AgentGuard { mode, secrets }
    }

    /// No application-level check (IAM mode), for handler tests.
    pub fn iam() -> Self {
        AgentGuard { mode: AgentAuth::AwsIam, secrets: Arc::new(SecretStore::fixed(Default::default())) }
    }

    pub async fn check(&self, headers: &HeaderMap) -> Result<(), ActionError> {
        if self.mode == AgentAuth::AwsIam {
            return Ok(());
        }
        let secrets = self.secrets.get().await?;
        if secrets.agent_api_key.is_none() {
            return Err(ActionError::Unavailable {
                message: "AGENT_AUTH=API_KEY but the secret has no agent_api_key; add it to the secret".into(),
            });
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .unwrap_or_default();
        // Comparing digests keeps the comparison constant-time whatever the lengths; every key is compared, so
        // the time taken does not tell which one matched. During a rotation the previous key is one of them.
        let presented_digest = Sha256::digest(presented.as_bytes());
        let same = secrets.agent_api_keys().fold(subtle::Choice::from(0), |any, expected| {
            any | presented_digest.ct_eq(&Sha256::digest(expected.expose_secret().as_bytes()))
        });
        if presented.is_empty() || !bool::from(same) {
            return Err(ActionError::Unauthenticated);
        }
        Ok(())
    }
}

/// Which methods an action accepts: POST with a JSON body, or also GET with query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    PostJson,
    PostJsonOrGetQuery,
}

/// Runs one agent action: method and auth checks, decoding, the deadline, the call, and the response.
pub async fn serve<I, O, F, Fut>(request: Request, guard: &AgentGuard, accepts: Accepts, action: F) -> Response<Body>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(I) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    run(request, guard, |request| async move {
        let input = decode::<I>(&request, accepts)?;
        action(input).await
    })
    .await
}

/// Runs one agent action with an optional idempotency key, which the action receives beside its request (the
/// key is taken out of the body, so request types need not know it).
pub async fn serve_keyed<I, O, F, Fut>(request: Request, guard: &AgentGuard, action: F) -> Response<Body>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(I, Option<String>) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    run(request, guard, |request| async move {
        let mut value = decode_value(&request, Accepts::PostJson)?;
        let key = idempotency::take_key(request.headers(), &mut value)?;
        let input = from_value::<I>(value)?;
        action(input, key).await
    })
    .await
}

/// Where a write action keeps its idempotency records.
#[derive(Clone, Copy)]
pub struct Idempotency<'a> {
    pub store: &'a dyn Store,
    /// The action's name: keys are scoped per action.
    pub scope: &'static str,
}

/// Runs a write action: like [`serve`], and with an `Idempotency-Key` (header or `idempotencyKey`) at most once
/// per key (see [`crate::idempotency`]).
pub async fn serve_write<I, O, F, Fut>(
    request: Request,
    guard: &AgentGuard,
    idempotency: Idempotency<'_>,
    action: F,
) -> Response<Body>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(I) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    let given_key = std::sync::Mutex::new(None);
    let given = &given_key;
    let mut response = run(request, guard, move |request| async move {
        let mut value = decode_value(&request, Accepts::PostJson)?;
        let key = idempotency::take_key(request.headers(), &mut value)?;
        let fingerprint = crate::store::fingerprint(&value);
        let input = from_value::<I>(value)?;
        let Some(key) = key else { return to_json(action(input).await?) };
        *given.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(key.clone());
        let record = idempotency::record_key(idempotency.scope, &key);
        let lease = idempotency::lease_for(deadline::remaining());
        let outcome = idempotency::run_once(idempotency.store, &record, &fingerprint, lease, || async {
            to_json(action(input).await?)
        })
        .await?;
        if outcome.replayed {
            tracing::info!(scope = idempotency.scope, "idempotent replay: the first answer, nothing sent to Intercom");
        }
        Ok(outcome.response)
    })
    .await;
    if let Some(key) = given_key.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        attach_key_to_unknown_outcome(&mut response, &key);
    }
    response
}

/// An answer whose outcome is unknown tells the agent which key makes its retry safe.
fn attach_key_to_unknown_outcome(response: &mut Response<Body>, key: &str) {
    if response.status() != StatusCode::CONFLICT {
        return;
    }
    let Body::Text(text) = response.body() else { return };
    let Ok(mut json) = serde_json::from_str::<serde_json::Value>(text) else { return };
    if json["error"]["code"] != "intercom_outcome_unknown" {
        return;
    }
    json["error"]["idempotencyKey"] = key.into();
    json["error"]["message"] = format!(
        "{} Retry with the same Idempotency-Key ({key}): the retry looks for the lost write before writing again.",
        json["error"]["message"].as_str().unwrap_or_default()
    )
    .into();
    *response.body_mut() = Body::Text(json.to_string());
}

fn to_json<O: Serialize>(output: O) -> Result<serde_json::Value, ActionError> {
    serde_json::to_value(output).map_err(|_| ActionError::Upstream {
        code: "internal",
        message: "the answer could not be built".into(),
        intercom_request_id: None,
    })
}

/// Auth, the deadline scope, logging and the error mapping around one invocation.
async fn run<O, F, Fut>(request: Request, guard: &AgentGuard, body: F) -> Response<Body>
where
    O: Serialize,
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    let started = Instant::now();
    let deadline_ms = request.lambda_context_ref().map(|ctx| ctx.deadline);
    tracing::debug!(?deadline_ms, "invocation");
    let deadline = deadline_ms.map(deadline::from_epoch_millis).unwrap_or_else(deadline::current);
    // The auth check reads the secret, which may be slow: it runs within the deadline too.
    let outcome = deadline::scope(deadline, async {
        guard.check(request.headers()).await?;
        body(request).await
    })
    .await;
    match outcome {
        Ok(output) => {
            tracing::info!(status = 200, elapsed_ms = started.elapsed().as_millis() as u64, "action succeeded");
            json_response(StatusCode::OK, &output)
        }
        Err(error) => {
            let status = error.status().as_u16();
            let elapsed_ms = started.elapsed().as_millis() as u64;
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

pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| r#"{"error":{"code":"internal"}}"#.to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
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

    #[tokio::test]
    async fn api_key_mode_needs_the_right_bearer_key() {
        let secrets = crate::secrets::Secrets::parse(r#"{"access_token":"t","agent_api_key":"k-123"}"#).unwrap();
        let guard = AgentGuard::new(AgentAuth::ApiKey, Arc::new(SecretStore::fixed(secrets)));
        let mut headers = HeaderMap::new();
        assert_eq!(guard.check(&headers).await, Err(ActionError::Unauthenticated));
        headers.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Err(ActionError::Unauthenticated));
        headers.insert(header::AUTHORIZATION, "Bearer k-123".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Ok(()));

        // During a rotation the previous version's key is still accepted, beside the new one.
        let mut rotating = crate::secrets::Secrets::parse(r#"{"access_token":"t","agent_api_key":"k-456"}"#).unwrap();
        rotating.previous_agent_api_key = Some("k-123".to_owned().into());
        let guard = AgentGuard::new(AgentAuth::ApiKey, Arc::new(SecretStore::fixed(rotating)));
        assert_eq!(guard.check(&headers).await, Ok(()));
        headers.insert(header::AUTHORIZATION, "Bearer k-456".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Ok(()));
        headers.insert(header::AUTHORIZATION, "Bearer k-789".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Err(ActionError::Unauthenticated));

        let keyless = AgentGuard::new(
            AgentAuth::ApiKey,
            Arc::new(SecretStore::fixed(crate::secrets::Secrets::parse("t").unwrap())),
        );
        assert!(matches!(keyless.check(&headers).await, Err(ActionError::Unavailable { .. })));
    }
}
