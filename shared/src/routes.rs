//! Each agent action's function URL, wired once: the caller's workspace, decoding, the keyed path for writes and
//! the action itself. `functions/<action>` calls its function here; the fuzz target calls them all.

use lambda_http::{Body, Request, Response};

use crate::actions;
use crate::edge::{serve, serve_keyed, serve_write};
use crate::http::Accepts;
use crate::workspace::Workspaces;

/// The agent actions by function name, as [`route`] dispatches them.
pub const AGENT_ACTIONS: &[&str] = &[
    "create-conversation",
    "reply-to-conversation",
    "update-user-attributes",
    "get-conversation",
    "find-conversations",
    "tag-conversation",
    "assign-conversation",
    "manage-conversation",
    "escalate",
];

pub async fn create_conversation(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve_write(request, workspaces, "create-conversation", |w, input, _| async move {
        actions::create_conversation(w.helpdesk.as_ref(), w.store.as_ref(), input).await
    })
    .await
}

pub async fn reply_to_conversation(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve_write(request, workspaces, "reply-to-conversation", |w, input, attempt| async move {
        actions::reply_respecting_handoff(w.helpdesk.as_ref(), &w.handoff, input, attempt).await
    })
    .await
}

pub async fn update_user_attributes(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve_write(request, workspaces, "update-user-attributes", |w, input, _| async move {
        actions::update_user_attributes(w.helpdesk.as_ref(), input).await
    })
    .await
}

pub async fn get_conversation(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve(request, workspaces, Accepts::PostJsonOrGetQuery, |w, input| async move {
        actions::get_conversation_with(w.helpdesk.as_ref(), &w.handoff, input).await
    })
    .await
}

pub async fn find_conversations(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve(request, workspaces, Accepts::PostJson, |w, input| async move {
        actions::find_conversations(w.helpdesk.as_ref(), w.store.as_ref(), &w.handoff, input).await
    })
    .await
}

pub async fn tag_conversation(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve_write(request, workspaces, "tag-conversation", |w, input, _| async move {
        actions::tag_conversation(w.helpdesk.as_ref(), input).await
    })
    .await
}

pub async fn assign_conversation(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve_write(request, workspaces, "assign-conversation", |w, input, _| async move {
        actions::assign_conversation(w.helpdesk.as_ref(), input).await
    })
    .await
}

pub async fn manage_conversation(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve_write(request, workspaces, "manage-conversation", |w, input, _| async move {
        actions::manage_conversation(w.helpdesk.as_ref(), input).await
    })
    .await
}

pub async fn escalate(workspaces: &Workspaces, request: Request) -> Response<Body> {
    serve_keyed(request, workspaces, |w, input, key| async move {
        actions::escalate(w.helpdesk.as_ref(), w.store.as_ref(), &w.escalation, input, key).await
    })
    .await
}

/// The action named `action` (one of [`AGENT_ACTIONS`]); `None` for any other name.
pub async fn route(action: &str, workspaces: &Workspaces, request: Request) -> Option<Response<Body>> {
    Some(match action {
        "create-conversation" => create_conversation(workspaces, request).await,
        "reply-to-conversation" => reply_to_conversation(workspaces, request).await,
        "update-user-attributes" => update_user_attributes(workspaces, request).await,
        "get-conversation" => get_conversation(workspaces, request).await,
        "find-conversations" => find_conversations(workspaces, request).await,
        "tag-conversation" => tag_conversation(workspaces, request).await,
        "assign-conversation" => assign_conversation(workspaces, request).await,
        "manage-conversation" => manage_conversation(workspaces, request).await,
        "escalate" => escalate(workspaces, request).await,
        _ => return None,
    })
}
