//! The edge of every agent action: the caller's workspace (resolved once, from its key or the
//! `Intercom-Workspace-Id` header), the invocation's deadline, decoding, keyed writes, and the one error →
//! response mapping. A function's handler is one call here.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::deadline;
use crate::http::{Accepts, ActionError, answer, deadline_of, decode, decode_value, from_value};
use crate::idempotency::{Attempt, Idempotency, attach_key_to_unknown_outcome, take_key, write_once};
use crate::workspace::{Workspace, Workspaces};

/// The caller's workspace, the deadline scope, logging and the error mapping around one invocation.
pub async fn respond<O, F, Fut>(request: Request, workspaces: &Workspaces, body: F) -> Response<Body>
where
    O: Serialize,
    F: FnOnce(Workspace, Request) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    let started = Instant::now();
    // Resolving the workspace may read the secret or the directory: within the deadline too.
    let outcome = deadline::scope(deadline_of(&request), async {
        let workspace = workspaces.for_agent(request.headers(), workspaces.agent_auth()).await?;
        if let Some(id) = &workspace.id {
            crate::metrics::set_workspace(id.as_str());
        }
        body(workspace, request).await
    })
    .await;
    answer(outcome.map(|output| (StatusCode::OK, output)), started)
}

/// Runs one agent action in the caller's workspace: decoding (POST JSON, or a GET's query where accepted), the
/// call, and the response.
pub async fn serve<I, O, F, Fut>(
    request: Request,
    workspaces: &Workspaces,
    accepts: Accepts,
    action: F,
) -> Response<Body>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(Workspace, I) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    respond(request, workspaces, |workspace, request| async move {
        let input = decode::<I>(&request, accepts)?;
        action(workspace, input).await
    })
    .await
}

/// Runs a write action: like [`serve`], and with an `Idempotency-Key` (header or `idempotencyKey`) at most once per
/// key and `scope` (the action's name) in the workspace's store. The action is told about a lost earlier attempt.
pub async fn serve_write<I, O, F, Fut>(
    request: Request,
    workspaces: &Workspaces,
    scope: &'static str,
    action: F,
) -> Response<Body>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(Workspace, I, Attempt) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    let given_key = Mutex::new(None);
    let given = &given_key;
    let mut response = respond(request, workspaces, move |workspace, request| async move {
        let mut value = decode_value(&request, Accepts::PostJson)?;
        let key = take_key(request.headers(), &mut value)?;
        given.lock().unwrap_or_else(PoisonError::into_inner).clone_from(&key);
        let store = workspace.store.clone();
        let idempotency = Idempotency { store: store.as_ref(), scope };
        write_once(idempotency, key.as_deref(), value, |input, attempt| action(workspace, input, attempt)).await
    })
    .await;
    if let Some(key) = given_key.into_inner().unwrap_or_else(PoisonError::into_inner) {
        attach_key_to_unknown_outcome(&mut response, &key);
    }
    response
}

/// Runs an action that keys its own write (escalate: one per session): the agent's key, if any, is taken out of
/// the request and handed to the action beside it.
pub async fn serve_keyed<I, O, F, Fut>(request: Request, workspaces: &Workspaces, action: F) -> Response<Body>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(Workspace, I, Option<String>) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    respond(request, workspaces, |workspace, request| async move {
        let mut value = decode_value(&request, Accepts::PostJson)?;
        let key = take_key(request.headers(), &mut value)?;
        let input = from_value::<I>(value)?;
        action(workspace, input, key).await
    })
    .await
}
