//! Agent idempotency keys, the way Stripe does them, on the [`Store`].
//!
//! A write action called with an `Idempotency-Key` header (or an `idempotencyKey` body field) runs at most once
//! per key and action:
//! - same key, same request → the first answer, replayed; nothing is sent to Intercom;
//! - same key, another request → 422 `idempotency_key_reused`;
//! - same key while the first request still runs → 409 `idempotency_key_in_use` with `retryAfterSeconds`.
//!
//! The fingerprint is the validated request without the key (JSON, key order ignored). Keys are kept
//! [`KEEP_RECORDS`]. A request that definitely failed (refused by validation or by Intercom) gives its key back,
//! so the corrected request can reuse it; one whose outcome is unknown keeps it, and its retry first looks for
//! what the lost attempt may have written ([`previous_attempt_since`]).

use std::future::Future;
use std::time::Duration;

use lambda_http::http::HeaderMap;
use serde_json::Value;

use crate::http::ActionError;
use crate::store::{Claim, Expect, KEEP_RECORDS, Store, StoreError, now_epoch_secs};

/// The request header (case-insensitive), as Stripe and the IETF draft name it.
pub const HEADER: &str = "idempotency-key";
/// The body field for agents that cannot set headers.
pub const BODY_FIELD: &str = "idempotencyKey";
/// Longest key accepted (Stripe: 255).
pub const MAX_KEY_CHARS: usize = 255;

tokio::task_local! {
    static PREVIOUS_ATTEMPT: Option<i64>;
}

/// When a retry of a key whose first attempt ended with an unknown outcome runs: the Unix time that attempt
/// started, so the action can look for what it may have written before writing again. `None` otherwise.
pub fn previous_attempt_since() -> Option<i64> {
    PREVIOUS_ATTEMPT.try_with(|p| *p).ok().flatten()
}

/// The key of a request, from the header or the body (which loses the field, so it is not part of the fingerprint).
pub fn take_key(headers: &HeaderMap, body: &mut Value) -> Result<Option<String>, ActionError> {
    let from_body = match body.as_object_mut().and_then(|o| o.remove(BODY_FIELD)) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(ActionError::bad_request(BODY_FIELD, format!("{BODY_FIELD} must be a string"))),
    };
    let from_header = match headers.get(HEADER) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ActionError::bad_request(HEADER, "the Idempotency-Key header must be printable ASCII"))?
                .to_owned(),
        ),
    };
    let key = match (from_header, from_body) {
        (Some(h), Some(b)) if h.trim() != b.trim() => {
            return Err(ActionError::bad_request(
                BODY_FIELD,
                "the Idempotency-Key header and idempotencyKey differ; send one of them",
            ));
        }
        (Some(k), _) | (None, Some(k)) => k,
        (None, None) => return Ok(None),
    };
    let key = key.trim();
    let valid = !key.is_empty() && key.chars().count() <= MAX_KEY_CHARS && key.chars().all(|c| c.is_ascii_graphic());
    if !valid {
        return Err(ActionError::bad_request(
            BODY_FIELD,
            "an idempotency key must be 1 to 255 printable ASCII characters without spaces (a UUID is ideal)",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// Where one key's record lives: per action, so the same key may be used for a reply and for a tag.
pub fn record_key(scope: &str, key: &str) -> String {
    format!("idem#{scope}#{key}")
}

fn unknown_marker(record: &str) -> String {
    format!("{record}#unknown")
}

/// How long a claim is held: the rest of this invocation, plus a margin, so a duplicate waits for it.
pub fn lease_for(remaining: Duration) -> Duration {
    (remaining + Duration::from_secs(5)).clamp(Duration::from_secs(10), Duration::from_secs(900))
}

/// What [`run_once`] answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub response: Value,
    /// True when this is the stored answer of an earlier request.
    pub replayed: bool,
}

/// Runs `work` at most once for `record` (see the module docs). `work` returns the JSON answer to store.
pub async fn run_once<F, Fut>(
    store: &dyn Store,
    record: &str,
    fingerprint: &str,
    lease: Duration,
    work: F,
) -> Result<Outcome, ActionError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Value, ActionError>>,
{
    match store.claim(record, fingerprint, lease).await? {
        Claim::Completed { fingerprint: stored, response } if stored == fingerprint => {
            let response = serde_json::from_str(&response)
                .map_err(|_| StoreError::Corrupt { reason: "a stored answer is not JSON".into() })?;
            return Ok(Outcome { response, replayed: true });
        }
        Claim::Completed { .. } => return Err(ActionError::IdempotencyKeyReused),
        Claim::InProgress { fingerprint: stored, .. } if stored != fingerprint => {
            return Err(ActionError::IdempotencyKeyReused);
        }
        Claim::InProgress { retry_after, .. } => {
            return Err(ActionError::IdempotencyKeyInUse { retry_after_seconds: retry_after.as_secs().max(1) });
        }
        Claim::Acquired => {}
    }
    let marker = unknown_marker(record);
    let previous = match store.get_value(&marker).await? {
        Some(v) => v.value.parse::<i64>().ok(),
        None => None,
    };
    let started = now_epoch_secs();
    let result = PREVIOUS_ATTEMPT.scope(previous, work()).await;
    match &result {
        Ok(response) => {
            // The write happened: answer it even if it cannot be remembered (logged; a retry would read back).
            if let Err(e) = store.complete(record, fingerprint, &response.to_string(), KEEP_RECORDS).await {
                tracing::error!(error = %e, "the answer could not be stored for replay");
            }
            if previous.is_some() {
                let _ = store.delete(&marker).await;
            }
        }
        Err(e) if e.outcome_unknown() => {
            // Keep the earliest start: the retry looks for anything written since then.
            let since = previous.unwrap_or(started).to_string();
            if let Err(e) = store.put_value(&marker, &since, Expect::Any, KEEP_RECORDS).await {
                tracing::error!(error = %e, "could not record the unknown outcome");
            }
            if let Err(e) = store.release(record).await {
                tracing::warn!(error = %e, "could not give the idempotency key back");
            }
        }
        Err(_) => {
            if let Err(e) = store.release(record).await {
                tracing::warn!(error = %e, "could not give the idempotency key back");
            }
        }
    }
    result.map(|response| Outcome { response, replayed: false })
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        ActionError::StoreUnavailable { message: e.to_string() }
    }
}
