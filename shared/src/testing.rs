//! Builders for handler tests (feature `mocks`): requests as a function URL delivers them, and fixtures.

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt, Response, http};
use serde_json::Value;

use crate::intercom::models::{Contact, Conversation};

pub fn post_json(body: &str) -> Request {
    http::Request::builder()
        .method("POST")
        .uri("https://example.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("a valid test request")
}

pub fn get_with_query(params: &[(&str, &str)]) -> Request {
    let query: HashMap<String, String> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    http::Request::builder()
        .method("GET")
        .uri("https://example.lambda-url.us-east-1.on.aws/")
        .body(Body::Empty)
        .expect("a valid test request")
        .with_query_string_parameters(query)
}

/// `request` as the Lambda runtime delivers it with `left` of the invocation remaining (its context's deadline),
/// for tests that a slow dependency still gets a defined answer in time.
pub fn with_deadline(request: Request, left: std::time::Duration) -> Request {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let mut context = lambda_http::Context::default();
    context.deadline = now_ms.saturating_add(left.as_millis() as u64);
    request.with_lambda_context(context)
}

pub fn json_body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("the response body is JSON")
}

/// The `error.code` and `error.field` of an error response.
pub fn error_of(response: &Response<Body>) -> (u16, String, Option<String>) {
    let body = json_body(response);
    (
        response.status().as_u16(),
        body["error"]["code"].as_str().unwrap_or_default().to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

pub fn contact(id: &str, email: &str) -> Contact {
    Contact {
        id: id.to_owned(),
        role: Some("user".into()),
        email: Some(email.to_owned()),
        name: None,
        external_id: None,
        custom_attributes: Default::default(),
    }
}

/// A conversation as Intercom returns it, from JSON fields.
pub fn conversation(json: Value) -> Conversation {
    serde_json::from_value(json).expect("a conversation fixture")
}

/// One workspace around `helpdesk` (a mock), for handler tests: an in-memory store, default settings, callers
/// unchecked (IAM) unless [`WorkspaceBuilder::guard`] says otherwise.
pub fn workspace_of(helpdesk: impl crate::helpdesk::Helpdesk + 'static) -> WorkspaceBuilder {
    WorkspaceBuilder::around(std::sync::Arc::new(helpdesk))
}

impl WorkspaceBuilder {
    /// Like [`workspace_of`], for a helpdesk several test deployments share.
    pub fn around(helpdesk: std::sync::Arc<dyn crate::helpdesk::Helpdesk>) -> Self {
        WorkspaceBuilder {
            helpdesk,
            store: std::sync::Arc::new(crate::store::memory::MemoryStore::new()),
            handoff: Default::default(),
            escalation: Default::default(),
            guard: crate::auth::AgentGuard::iam(),
        }
    }
}

pub struct WorkspaceBuilder {
    helpdesk: std::sync::Arc<dyn crate::helpdesk::Helpdesk>,
    store: std::sync::Arc<dyn crate::store::Store>,
    handoff: crate::handoff::HandoffSettings,
    escalation: crate::escalation::EscalationSettings,
    guard: crate::auth::AgentGuard,
}

impl WorkspaceBuilder {
    pub fn store(mut self, store: std::sync::Arc<dyn crate::store::Store>) -> Self {
        self.store = store;
        self
    }

    pub fn handoff(mut self, handoff: crate::handoff::HandoffSettings) -> Self {
        self.handoff = handoff;
        self
    }

    pub fn escalation(mut self, escalation: crate::escalation::EscalationSettings) -> Self {
        self.escalation = escalation;
        self
    }

    pub fn guard(mut self, guard: crate::auth::AgentGuard) -> Self {
        self.guard = guard;
        self
    }

    pub fn build(self) -> crate::workspace::Workspaces {
        let secrets = std::sync::Arc::new(crate::secrets::SecretStore::fixed(Default::default()));
        let workspace = crate::workspace::Workspace::new(
            None,
            self.helpdesk,
            secrets,
            self.store,
            self.handoff,
            self.escalation,
            None,
        );
        crate::workspace::Workspaces::of(workspace, self.guard)
    }
}
