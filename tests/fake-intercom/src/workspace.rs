//! The workspaces one fake serves: each its own state, access token, client secret and withheld scopes.
//!
//! With one workspace (the default) any non-empty token is accepted, as the fake always did; with several,
//! each token belongs to exactly one workspace and every request sees that workspace only.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Mutex, PoisonError, RwLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::ids::random_hex;
use crate::scopes::Scope;
use crate::state::State;
use crate::version::ApiVersion;
use crate::webhooks::Target;
use crate::{Admin, Contact, Conversation, DataAttribute, FakeIntercom, NewContact, Tag, Team, lock, shapes};

/// What `GET /__fake/workspaces` lists for one workspace (and [`FakeIntercom::workspaces`] returns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceInfo {
    /// The app's `id_code`, as `GET /me` reports it.
    pub workspace_id: String,
    pub name: String,
    /// A token that works now (with one workspace that accepts any token: one made up for it).
    pub access_token: String,
    /// The HMAC key of its webhooks' `X-Hub-Signature`.
    pub client_secret: String,
    /// The admin `GET /me` returns for its token.
    pub ai_admin_id: String,
    /// Its human teammate (`None` in a single workspace seeded with nothing).
    pub human_admin_id: Option<String>,
}

/// Who may call a workspace, and with which permissions.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    /// `None`: any non-empty token (one workspace, until a token list is set or the token is rotated).
    pub tokens: Option<HashSet<String>>,
    /// The token listed for it.
    pub access_token: String,
    pub client_secret: String,
    /// Scopes its tokens lack.
    pub denied: BTreeSet<Scope>,
}

impl Credentials {
    pub(crate) fn new(tokens: Option<Vec<String>>, client_secret: Option<String>) -> Self {
        let access_token = tokens.as_ref().and_then(|t| t.first().cloned()).unwrap_or_else(new_token);
        Self {
            tokens: tokens.map(|t| t.into_iter().collect()),
            access_token,
            client_secret: client_secret.unwrap_or_else(|| random_hex(16)),
            denied: BTreeSet::new(),
        }
    }

    /// Only these tokens from now on (the first is the one listed), or `None`: any token.
    pub(crate) fn set_tokens(&mut self, tokens: Option<Vec<String>>) {
        if let Some(first) = tokens.as_ref().and_then(|t| t.first()) {
            self.access_token.clone_from(first);
        }
        self.tokens = tokens.map(|t| t.into_iter().collect());
    }
}

/// A fresh access token.
pub(crate) fn new_token() -> String {
    format!("fake_tok_{}", random_hex(16))
}

/// One workspace's data and credentials, behind their own locks.
pub(crate) struct Slot {
    pub state: Mutex<State>,
    pub credentials: RwLock<Credentials>,
}

impl Slot {
    pub(crate) fn credentials(&self) -> Credentials {
        self.credentials.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn update_credentials<R>(&self, f: impl FnOnce(&mut Credentials) -> R) -> R {
        f(&mut self.credentials.write().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A handle on one workspace of a fake (cheap to clone). Every API request is answered with the handle of
/// the workspace its token belongs to.
#[derive(Clone)]
pub struct FakeWorkspace {
    pub(crate) fake: FakeIntercom,
    pub(crate) index: usize,
    /// The request's `Intercom-Version` (`None`: the workspace's default).
    pub(crate) requested_version: Option<ApiVersion>,
}

impl std::fmt::Debug for FakeWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeWorkspace").field("index", &self.index).finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for FakeWorkspace {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<FakeWorkspace>().cloned().ok_or_else(ApiError::unauthorized)
    }
}

impl FakeWorkspace {
    fn slot(&self) -> &Slot {
        &self.fake.inner.workspaces[self.index]
    }

    /// The app's `id_code`.
    pub fn id(&self) -> String {
        lock(&self.slot().state).workspace_id.clone()
    }

    pub fn info(&self) -> WorkspaceInfo {
        let credentials = self.slot().credentials();
        let state = lock(&self.slot().state);
        WorkspaceInfo {
            workspace_id: state.workspace_id.clone(),
            name: state.workspace_name.clone(),
            access_token: credentials.access_token,
            client_secret: credentials.client_secret,
            ai_admin_id: state.me_admin_id.clone(),
            human_admin_id: state.human_admin_id().map(str::to_owned),
        }
    }

    /// Runs `f` on the workspace under its lock (read or change anything; keep it short). Webhook events
    /// the change caused are queued for delivery before the lock is released.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = lock(&self.slot().state);
        state.api_version = self.requested_version.unwrap_or(state.default_api_version);
        let result = f(&mut state);
        if !state.outbox.is_empty() {
            let events = std::mem::take(&mut state.outbox);
            let target = self.webhook_target(&state.workspace_id);
            self.fake.inner.webhooks.enqueue(events, &target);
        }
        result
    }

    fn webhook_target(&self, workspace_id: &str) -> Target {
        let several = self.fake.inner.workspaces.len() > 1;
        Target {
            app_id: workspace_id.to_owned(),
            client_secret: self.slot().credentials().client_secret,
            workspace_path: several.then(|| workspace_id.to_owned()),
        }
    }

    /// A copy of the workspace's state.
    pub fn state(&self) -> State {
        lock(&self.slot().state).clone()
    }

    /// The workspace as `GET /__fake/state?workspace=<id>` shows it.
    pub fn state_json(&self) -> Value {
        serde_json::to_value(&*lock(&self.slot().state)).unwrap_or(Value::Null)
    }

    pub fn contacts(&self) -> Vec<Contact> {
        lock(&self.slot().state).contacts.clone()
    }

    pub fn contact(&self, id: &str) -> Option<Contact> {
        lock(&self.slot().state).contact(id).cloned()
    }

    pub fn conversations(&self) -> Vec<Conversation> {
        lock(&self.slot().state).conversations.values().cloned().collect()
    }

    pub fn conversation(&self, id: &str) -> Option<Conversation> {
        lock(&self.slot().state).conversation(id).cloned()
    }

    /// The conversation as `GET /conversations/{id}` answers it.
    pub fn conversation_json(&self, id: &str, plaintext: bool) -> Option<Value> {
        self.with_state(|state| state.conversation(id).map(|c| shapes::conversation(state, c, plaintext)))
    }

    pub fn admins(&self) -> Vec<Admin> {
        lock(&self.slot().state).admins.clone()
    }

    pub fn teams(&self) -> Vec<Team> {
        lock(&self.slot().state).teams.clone()
    }

    pub fn tags(&self) -> Vec<Tag> {
        lock(&self.slot().state).tags.clone()
    }

    pub fn data_attributes(&self) -> Vec<DataAttribute> {
        lock(&self.slot().state).data_attributes.clone()
    }

    /// The admin its tokens belong to (`GET /me`).
    pub fn me(&self) -> Option<Admin> {
        lock(&self.slot().state).me().cloned()
    }

    /// Creates a contact directly (same rules as `POST /contacts`).
    pub fn add_contact(&self, contact: NewContact) -> Result<Contact, ApiError> {
        self.with_state(|s| s.create_contact(contact))
    }

    /// Starts a conversation from a contact directly (as `POST /conversations`).
    pub fn add_conversation(&self, contact_id: &str, body: &str) -> Result<Conversation, ApiError> {
        self.with_state(|s| s.create_conversation(contact_id, body, None))
    }

    /// Only these tokens from now on (the first is the one listed), or `None`: any non-empty token.
    pub fn set_tokens(&self, tokens: Option<Vec<String>>) {
        self.slot().update_credentials(|c| c.set_tokens(tokens));
    }

    /// Issues a new access token: the old ones get 401 from now on. Returns the new token.
    pub fn rotate_token(&self) -> String {
        let token = new_token();
        self.slot().update_credentials(|c| {
            c.tokens = Some(HashSet::from([token.clone()]));
            c.access_token.clone_from(&token);
        });
        token
    }

    /// From now on the workspace's tokens lack these scopes (replacing any denied before; empty: all
    /// granted). A request needing one gets Intercom's 403 `forbidden`.
    pub fn deny_scopes(&self, scopes: impl IntoIterator<Item = Scope>) {
        let denied: BTreeSet<Scope> = scopes.into_iter().collect();
        self.slot().update_credentials(|c| c.denied = denied);
    }

    /// The scopes its tokens lack.
    pub fn denied_scopes(&self) -> Vec<Scope> {
        self.slot().credentials().denied.into_iter().collect()
    }
}
