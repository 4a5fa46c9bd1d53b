//! Keyed execution: agent idempotency keys, the way Stripe does them, on the [`Store`]. Every write goes through
//! here — the function URLs' (through [`write_once`], from `crate::edge`), the MCP write tools' ([`call_write`])
//! and the escalation's session ([`run_once`]).
//!
//! A write action called with an `Idempotency-Key` header (or an `idempotencyKey` body field) runs at most once
//! per key and action:
//! - same key, same request → the first answer, replayed; nothing is sent to Intercom;
//! - same key, another request → 422 `idempotency_key_reused`;
//! - same key while the first request still runs → 409 `idempotency_key_in_use` with `retryAfterSeconds`.
//!
//! The fingerprint is the validated request without the key (JSON, key order ignored). Keys are kept
//! [`KEEP_RECORDS`]. A request that definitely failed (refused by validation or by Intercom) gives its key back,
//! so the corrected request can reuse it; one whose outcome is unknown keeps it, and its retry is told when the
//! lost attempt started ([`Attempt::lost_since`]) so it first looks for what that attempt may have written.

use std::future::Future;
use std::time::Duration;

use lambda_http::http::{HeaderMap, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::deadline;
use crate::http::{ActionError, from_value, to_json};
use crate::store::{Claim, Expect, KEEP_RECORDS, Store, StoreError, fingerprint, now_epoch_secs};

/// The request header (case-insensitive), as Stripe and the IETF draft name it.
pub const HEADER: &str = "idempotency-key";
/// The body field for agents that cannot set headers.
pub const BODY_FIELD: &str = "idempotencyKey";
/// Longest key accepted (Stripe: 255).
pub const MAX_KEY_CHARS: usize = 255;

/// Where a write action keeps its idempotency records.
#[derive(Clone, Copy)]
pub struct Idempotency<'a> {
    pub store: &'a dyn Store,
    /// The action's name: keys are scoped per action.
    pub scope: &'static str,
}

/// What a keyed write is told about the earlier attempts with its key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempt {
    /// When an earlier attempt with this key ended with an unknown outcome: the Unix time it started, so the
    /// action can look for what it may have written before writing again. `None` otherwise.
    pub lost_since: Option<i64>,
}

impl Attempt {
    /// No earlier attempt was lost (or the request has no key).
    pub const FIRST: Attempt = Attempt { lost_since: None };
}

/// Runs a write tool (MCP): its `idempotencyKey` argument gives the guarantees of the `Idempotency-Key` header.
pub async fn call_write<I, O, F, Fut>(
    idempotency: Idempotency<'_>,
    mut arguments: Value,
    action: F,
) -> Result<Value, ActionError>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(I, Attempt) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    let key = take_key(&HeaderMap::new(), &mut arguments)?;
    write_once(idempotency, key.as_deref(), arguments, action).await
}

/// The one keyed path of a decoded request (`value`, its key already taken out): without a key the action runs
/// as a first attempt; with one, at most once per key ([`run_once`], fingerprinted on `value`).
pub async fn write_once<I, O, F, Fut>(
    idempotency: Idempotency<'_>,
    key: Option<&str>,
    value: Value,
    action: F,
) -> Result<Value, ActionError>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(I, Attempt) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    let fingerprint = fingerprint(&value);
    let input = from_value::<I>(value)?;
    let Some(key) = key else { return to_json(action(input, Attempt::FIRST).await?) };
    let record = record_key(idempotency.scope, key);
    let lease = lease_for(deadline::remaining());
    let outcome = run_once(idempotency.store, &record, &fingerprint, lease, |attempt| async move {
        to_json(action(input, attempt).await?)
    })
    .await?;
    if outcome.replayed {
        tracing::info!(scope = idempotency.scope, "idempotent replay: the first answer, nothing sent to Intercom");
    }
    Ok(outcome.response)
}

/// An answer whose outcome is unknown tells the agent which key makes its retry safe.
pub fn attach_key_to_unknown_outcome(response: &mut Response<Body>, key: &str) {
    if response.status() != StatusCode::CONFLICT {
        return;
    }
    let Body::Text(text) = response.body() else { return };
    let Ok(mut json) = serde_json::from_str::<Value>(text) else { return };
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

/// Binds an agent's key to the one write it names (`subject`: escalate's session), for an action that keys its
/// write itself: the same key for another subject is the agent's mistake (422 `idempotency_key_reused`).
pub async fn bind_key(store: &dyn Store, scope: &str, key: &str, subject: &str) -> Result<(), ActionError> {
    let record = record_key(scope, key);
    if store.put_value(&record, subject, Expect::Absent, KEEP_RECORDS).await?.is_some() {
        return Ok(());
    }
    match store.get_value(&record).await? {
        Some(bound) if bound.value != subject => Err(ActionError::IdempotencyKeyReused),
        _ => Ok(()),
    }
}

/// What [`run_once`] answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub response: Value,
    /// True when this is the stored answer of an earlier request.
    pub replayed: bool,
}

/// Runs `work` at most once for `record` (see the module docs). `work` returns the JSON answer to store; it is
/// told when an earlier attempt on `record` was lost ([`Attempt`]).
pub async fn run_once<F, Fut>(
    store: &dyn Store,
    record: &str,
    fingerprint: &str,
    lease: Duration,
    work: F,
) -> Result<Outcome, ActionError>
where
    F: FnOnce(Attempt) -> Fut,
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
    let result = work(Attempt { lost_since: previous }).await;
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::store::memory::MemoryStore;

    fn lost() -> ActionError {
        ActionError::Upstream {
            code: "intercom_outcome_unknown",
            message: "Intercom did not confirm the reply".into(),
            intercom_request_id: None,
        }
    }

    #[tokio::test]
    async fn the_retry_of_a_lost_attempt_is_told_when_that_attempt_started() {
        let store = MemoryStore::new();
        let lease = Duration::from_secs(30);
        let seen = Mutex::new(Vec::new());
        let started = now_epoch_secs();
        let first = run_once(&store, "idem#reply#k", "f", lease, |attempt| {
            seen.lock().unwrap().push(attempt);
            async { Err(lost()) }
        })
        .await;
        assert_eq!(first, Err(lost()));
        let second = run_once(&store, "idem#reply#k", "f", lease, |attempt| {
            seen.lock().unwrap().push(attempt);
            async { Ok(serde_json::json!({"partId": "p1"})) }
        })
        .await;
        assert_eq!(second, Ok(Outcome { response: serde_json::json!({"partId": "p1"}), replayed: false }));
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen[0], Attempt::FIRST);
        let since = seen[1].lost_since.expect("the retry is told about the lost attempt");
        assert!((started..=now_epoch_secs()).contains(&since), "{since}");

        // Done now: the answer is replayed and nothing runs, nor is anything told about a lost attempt again.
        let third = run_once(&store, "idem#reply#k", "f", lease, |_| async { panic!("ran twice") }).await;
        assert_eq!(third.map(|o| o.replayed), Ok(true));
        let fourth = run_once(&store, "idem#reply#other", "f", lease, |attempt| async move {
            Ok(serde_json::json!({"lostSince": attempt.lost_since}))
        })
        .await;
        assert_eq!(fourth.unwrap().response, serde_json::json!({"lostSince": null}));
    }
}
