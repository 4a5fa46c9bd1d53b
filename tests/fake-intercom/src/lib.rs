//! A stateful fake of Intercom's REST API (version 2.16, and 2.14's shapes when a request asks for them)
//! for tests and the local dev stack.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fake_intercom::{FakeIntercom, Fault};
//!
//! let server = FakeIntercom::builder().seed_demo().valid_tokens(["tok"]).start().await?;
//! let base = server.base_url(); // http://127.0.0.1:<port>
//! server.inject(Fault::rate_limit("POST", "/contacts").times(2));
//! // … drive the client under test against `base` …
//! let calls = server.requests();
//! # Ok(()) }
//! ```
//!
//! * Answers are in the shapes of the spec's response schemas (see [`shapes`]); errors are
//!   Intercom `error.list` bodies whose `request_id` (a UUID) equals the `X-Request-Id`
//!   header. Every answer carries `X-RateLimit-Limit/Remaining/Reset`.
//! * State is typed ([`State`] and its records); inspection methods return clones.
//! * The same control is available over HTTP under `/__fake/…` (no auth), see
//!   [`FakeIntercom::router`].
//! * [`prism`] starts Stoplight Prism (mock or validating proxy) for contract tests.

pub mod attributes;
pub mod clock;
mod control;
pub mod error;
pub mod faults;
mod html;
mod ids;
pub mod index;
pub mod prism;
mod record;
mod routes;
pub mod scopes;
mod search;
mod server;
pub mod shapes;
pub mod state;
pub mod version;
pub mod webhooks;
mod workspace;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use attributes::{AttributeModel, DataAttribute, DataType};
pub use clock::Clock;
pub use error::ApiError;
pub use faults::{Fault, FaultKind, FaultSpec, PathMatch};
pub use index::SearchLag;
pub use record::{RecordedRequest, sequential_round_trips};
pub use scopes::Scope;
pub use state::{
    Admin, AdminReplyKind, AssigneeKind, Attachment, Contact, ContactUpdate, Conversation, ConversationState,
    NewContact, Part, QuickReplyOption, ReplyExtras, Role, State, Tag, Team,
};
pub use version::ApiVersion;
pub use webhooks::{DeliveryAttempt, DeliveryStatus, WebhookConfig, WebhookDelivery};
pub use workspace::{FakeWorkspace, WorkspaceInfo};

/// `X-RateLimit-Limit` the fake announces (Intercom: 10,000 per app, in 10-second windows).
pub const RATE_LIMIT: u32 = 10_000;
/// Length of a rate-limit window in seconds.
pub const RATE_LIMIT_WINDOW_SECS: i64 = 10;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Inner {
    /// At least one; the first is the one the `FakeIntercom`-level state methods act on.
    workspaces: Vec<workspace::Slot>,
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<faults::FaultBook>,
    latency: Mutex<Duration>,
    rate_window: Mutex<(i64, u32)>,
    origin: Instant,
    clock: Clock,
    webhooks: webhooks::Webhooks,
}

/// A handle on one fake Intercom: its workspaces (one by default), recorded requests, faults, webhooks.
/// Cheap to clone; every clone sees the same fake.
#[derive(Clone)]
pub struct FakeIntercom {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeIntercom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeIntercom").finish_non_exhaustive()
    }
}

/// Options of a fake; [`FakeIntercomBuilder::start`] runs it.
#[derive(Debug, Clone, Default)]
pub struct FakeIntercomBuilder {
    workspaces: usize,
    tokens: Option<Vec<String>>,
    seed_demo: bool,
    api_version: ApiVersion,
    search_lag: SearchLag,
    latency: Duration,
    data_attributes: Vec<(String, DataType)>,
    accept_unknown_attributes: bool,
    webhooks: Option<WebhookConfig>,
}

impl FakeIntercomBuilder {
    /// Serves `n` workspaces (default 1, today's demo workspace). With several, each has its own access
    /// token (the `i`-th of [`FakeIntercomBuilder::valid_tokens`] if given, else a made-up one), `app.id_code`
    /// (`fkws0001`, `fkws0002`, …), name, client secret, AI admin (`GET /me`), human admin, teams Billing,
    /// Legal and Support, and no custom attributes but the demo ones (with [`FakeIntercomBuilder::seed_demo`],
    /// which also adds Jane Doe to each) — not the integration's own `escalation_count` and
    /// `last_ai_session`. A token sees only its workspace; an unknown token gets 401.
    pub fn workspaces(mut self, n: usize) -> Self {
        self.workspaces = n;
        self
    }

    /// Only these bearer tokens are accepted (default: any non-empty token). With several workspaces,
    /// the `i`-th token is the `i`-th workspace's.
    pub fn valid_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tokens = Some(tokens.into_iter().map(Into::into).collect());
        self
    }

    /// The version requests without an `Intercom-Version` header are answered in (default 2.16; see
    /// [`version`]).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Adds the demo workspace of [`State::seed_demo`]: admins "Ada AI" (991267, `/me`) and
    /// "Grace Hopper" (991268), teams "Billing", "Legal", "Support", and the user
    /// jane@example.com (external_id "6123abc").
    pub fn seed_demo(mut self) -> Self {
        self.seed_demo = true;
        self
    }

    /// When `true`, `POST /contacts/search` trails the data until [`FakeIntercom::index_search`]
    /// is called, like real Intercom's delayed search index: new contacts are not found, changed ones
    /// are found as they were. Default `false` (search sees every change at once).
    pub fn search_index_delay(mut self, delayed: bool) -> Self {
        self.search_lag = if delayed { SearchLag::Manual } else { SearchLag::Off };
        self
    }

    /// `POST /contacts/search` sees a change only once it is `lag` old (real Intercom: seconds to
    /// minutes). Until then a new contact is not found and a changed one is found as it was.
    pub fn search_lag(mut self, lag: Duration) -> Self {
        self.search_lag = if lag.is_zero() { SearchLag::Off } else { SearchLag::Time(lag) };
        self
    }

    /// Defines custom contact attributes (besides the demo ones of [`state::DEMO_CONTACT_ATTRIBUTES`]):
    /// `POST`/`PUT /contacts` refuse any other `custom_attributes` key, as Intercom does.
    pub fn data_attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = (S, DataType)>,
        S: Into<String>,
    {
        self.data_attributes.extend(attributes.into_iter().map(|(n, t)| (n.into(), t)));
        self
    }

    /// Contacts take any custom attribute, defined or not (not what Intercom does; for tests that
    /// do not care about the workspace's attributes).
    pub fn accept_unknown_attributes(mut self) -> Self {
        self.accept_unknown_attributes = true;
        self
    }

    /// Sends Intercom's webhooks for conversation events to `url`, signed with `client_secret`
    /// (see [`webhooks`]); retries and timeouts as in [`WebhookConfig::new`].
    pub fn webhooks(mut self, url: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.webhooks = Some(WebhookConfig::new(url, client_secret));
        self
    }

    /// Full control over webhook delivery (topics, attempts, backoff, timeout).
    pub fn webhook_config(mut self, config: WebhookConfig) -> Self {
        self.webhooks = Some(config);
        self
    }

    /// Extra latency added to every API answer (simulates the network round trip; makes
    /// concurrent requests overlap so [`sequential_round_trips`] can tell them apart).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The fake, not yet listening (see [`FakeIntercom::router`] to embed it).
    pub fn build(self) -> FakeIntercom {
        let count = self.workspaces.max(1);
        let secret = self.webhooks.as_ref().map(|c| c.client_secret.clone());
        let clock = Clock::default();
        let slots = (0..count)
            .map(|index| {
                let mut state = if count == 1 {
                    State::new()
                } else {
                    let number = index + 1;
                    let position = u32::try_from(index).unwrap_or(u32::MAX);
                    State::for_workspace(position, &format!("fkws{number:04}"), &format!("Fake workspace {number}"))
                };
                state.clock = clock.clone();
                match (count, self.seed_demo) {
                    (1, true) => state.seed_demo(),
                    (1, false) => {}
                    (_, demo) => state.seed_hub_workspace(demo),
                }
                state.search_index.set_lag(self.search_lag);
                for (name, data_type) in &self.data_attributes {
                    if let Err(e) = state.define_attribute(name, AttributeModel::Contact, *data_type, "", Vec::new()) {
                        tracing::warn!(%name, error = %e, "data attribute not defined");
                    }
                }
                state.accept_unknown_attributes = self.accept_unknown_attributes;
                state.webhooks_on = self.webhooks.is_some();
                state.default_api_version = self.api_version;
                state.webhook_api_version = self.webhooks.as_ref().map_or_else(ApiVersion::default, |c| c.api_version);
                let credentials = if count == 1 {
                    workspace::Credentials::new(self.tokens.clone(), secret.clone())
                } else {
                    let token = self.tokens.as_ref().and_then(|t| t.get(index).cloned());
                    workspace::Credentials::new(Some(vec![token.unwrap_or_else(workspace::new_token)]), None)
                };
                workspace::Slot { state: Mutex::new(state), credentials: RwLock::new(credentials) }
            })
            .collect();
        FakeIntercom {
            inner: Arc::new(Inner {
                workspaces: slots,
                requests: Mutex::new(Vec::new()),
                faults: Mutex::new(faults::FaultBook::default()),
                latency: Mutex::new(self.latency),
                rate_window: Mutex::new((0, 0)),
                origin: Instant::now(),
                webhooks: webhooks::Webhooks::new(self.webhooks, clock.clone()),
                clock,
            }),
        }
    }

    /// Serves on `127.0.0.1` with a free port. Must be called inside a Tokio runtime.
    pub async fn start(self) -> std::io::Result<FakeServer> {
        self.serve_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on `addr` (port 0 picks a free port) until the [`FakeServer`] is dropped or
    /// shut down.
    pub async fn serve_on(self, addr: SocketAddr) -> std::io::Result<FakeServer> {
        self.build().serve_on(addr).await
    }
}

impl FakeIntercom {
    pub fn builder() -> FakeIntercomBuilder {
        FakeIntercomBuilder::default()
    }

    /// The axum router of the API and of `/__fake/…`:
    ///
    /// | route | effect |
    /// | --- | --- |
    /// | `GET /__fake/state` | the whole [`State`] as JSON |
    /// | `GET /__fake/requests` | `{"requests": [...], "count", "sequential_round_trips"}` |
    /// | `DELETE /__fake/requests` | forget recorded requests |
    /// | `POST /__fake/faults` | inject one [`FaultSpec`] or an array of them |
    /// | `GET` / `DELETE /__fake/faults` | pending faults / remove them all |
    /// | `PUT /__fake/tokens` | `{"tokens": ["…"]}` (or `null`: any token) |
    /// | `POST /__fake/search/index` | the search index catches up with every change |
    /// | `PUT /__fake/config` | `{"search_index_delay": bool, "search_lag_ms": n, "accept_unknown_attributes": bool, "latency_ms": n}` |
    /// | `POST /__fake/data_attributes` | `{"name", "data_type"}`: define a custom contact attribute |
    /// | `GET` / `PUT /__fake/webhooks` | webhook config / `{"url", "client_secret", "topics"?, "max_attempts"?, "backoff_ms"?, "timeout_ms"?}` (`{"url": null}` stops) |
    /// | `GET` / `DELETE /__fake/webhooks/deliveries` | recorded [`WebhookDelivery`]s / forget them |
    /// | `POST /__fake/webhooks/flush` | wait (≤ 30 s) for queued webhooks |
    /// | `POST /__fake/conversations/{id}/customer_reply` | `{"body", "contact_id"?}`: the customer answers |
    /// | `GET /__fake/workspaces` | [`WorkspaceInfo`]s |
    /// | `POST /__fake/workspaces/{id}/rotate-token` | a new token; the old one gets 401 |
    /// | `GET` / `POST /__fake/workspaces/{id}/scopes` | `{"deny": [..]}`: withhold [`Scope`]s (403) |
    /// | `GET` / `POST /__fake/clock` | the fake's clock / `{"now": "<RFC 3339>" \| null, "advance_secs"?}` |
    /// | `POST /__fake/articles`, `/__fake/ticket_types` | seed the help center / a ticket type |
    /// | `GET /__fake/health` | `{"ok": true}` |
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }

    /// Serves this fake on `addr`.
    pub async fn serve_on(&self, addr: SocketAddr) -> std::io::Result<FakeServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = self.router();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        tracing::debug!(%addr, "fake-intercom listening");
        Ok(FakeServer { fake: self.clone(), addr, shutdown: Some(tx), task: Some(task) })
    }

    // ----- requests -----

    /// Every API request answered so far (oldest first), `/__fake/…` excluded.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).clone()
    }

    /// Recorded requests with this method and path (`path` as in [`PathMatch::parse`]:
    /// prefix, or pattern with `*`).
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).iter().filter(|r| r.is(method, path)).cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.inner.requests).clear();
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        lock(&self.inner.requests).push(request);
    }

    pub(crate) fn origin(&self) -> Instant {
        self.inner.origin
    }

    // ----- workspaces -----

    /// Every workspace's id, name, token, client secret and admins, in order.
    pub fn workspaces(&self) -> Vec<WorkspaceInfo> {
        self.all_workspaces().iter().map(FakeWorkspace::info).collect()
    }

    /// The workspace with this `id_code`.
    pub fn workspace(&self, id: &str) -> Option<FakeWorkspace> {
        self.all_workspaces().into_iter().find(|w| w.id() == id)
    }

    /// Handles on every workspace, in order.
    pub fn all_workspaces(&self) -> Vec<FakeWorkspace> {
        (0..self.inner.workspaces.len())
            .map(|index| FakeWorkspace { fake: self.clone(), index, requested_version: None })
            .collect()
    }

    /// The first workspace (the only one by default): the one the state methods below act on.
    pub fn first_workspace(&self) -> FakeWorkspace {
        FakeWorkspace { fake: self.clone(), index: 0, requested_version: None }
    }

    /// How many workspaces the fake serves.
    pub fn workspace_count(&self) -> usize {
        self.inner.workspaces.len()
    }

    /// The workspace a bearer token belongs to: the one listing it, else one that takes any token.
    pub fn workspace_for_token(&self, token: &str) -> Option<FakeWorkspace> {
        if token.is_empty() {
            return None;
        }
        let slots = &self.inner.workspaces;
        let credentials: Vec<workspace::Credentials> = slots.iter().map(workspace::Slot::credentials).collect();
        let index = credentials
            .iter()
            .position(|c| c.tokens.as_ref().is_some_and(|t| t.contains(token)))
            .or_else(|| credentials.iter().position(|c| c.tokens.is_none()))?;
        Some(FakeWorkspace { fake: self.clone(), index, requested_version: None })
    }

    /// The workspace holding this conversation (ids never repeat across workspaces).
    pub fn conversation_owner(&self, conversation_id: &str) -> Option<FakeWorkspace> {
        self.all_workspaces().into_iter().find(|w| w.conversation(conversation_id).is_some())
    }

    // ----- state (of the first workspace; lookups by id search every workspace) -----

    /// Runs `f` on the first workspace under its lock (read or change anything; keep it short).
    /// Webhook events the change caused are queued for delivery before the lock is released.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.first_workspace().with_state(f)
    }

    /// A copy of the first workspace.
    pub fn state(&self) -> State {
        self.first_workspace().state()
    }

    /// The fake as `GET /__fake/state` shows it: with one workspace, its state; with several, each
    /// record list merged across workspaces with every record naming its `workspaceId`, and the
    /// workspaces' other fields under `workspaces`.
    pub fn state_json(&self) -> Value {
        let workspaces = self.all_workspaces();
        if workspaces.len() == 1 {
            return self.first_workspace().state_json();
        }
        merged_state(workspaces.iter().map(FakeWorkspace::state_json).collect())
    }

    /// All contacts of the first workspace in creation order, archived ones included.
    pub fn contacts(&self) -> Vec<Contact> {
        self.first_workspace().contacts()
    }

    /// The contact with this id, in whichever workspace holds it.
    pub fn contact(&self, id: &str) -> Option<Contact> {
        self.all_workspaces().iter().find_map(|w| w.contact(id))
    }

    pub fn conversations(&self) -> Vec<Conversation> {
        self.first_workspace().conversations()
    }

    /// The stored conversation (all parts, bodies as HTML), in whichever workspace holds it.
    pub fn conversation(&self, id: &str) -> Option<Conversation> {
        self.all_workspaces().iter().find_map(|w| w.conversation(id))
    }

    /// The conversation as `GET /conversations/{id}` answers it.
    pub fn conversation_json(&self, id: &str, plaintext: bool) -> Option<Value> {
        self.all_workspaces().iter().find_map(|w| w.conversation_json(id, plaintext))
    }

    pub fn tags(&self) -> Vec<Tag> {
        self.first_workspace().tags()
    }

    pub fn admins(&self) -> Vec<Admin> {
        self.first_workspace().admins()
    }

    pub fn teams(&self) -> Vec<Team> {
        self.first_workspace().teams()
    }

    /// The admin the first workspace's tokens belong to (`GET /me`).
    pub fn me(&self) -> Option<Admin> {
        self.first_workspace().me()
    }

    /// Creates a contact directly (same rules as `POST /contacts`, e.g. 409 on duplicates).
    pub fn add_contact(&self, contact: NewContact) -> Result<Contact, ApiError> {
        self.first_workspace().add_contact(contact)
    }

    /// Starts a conversation from a contact directly (as `POST /conversations`).
    pub fn add_conversation(&self, contact_id: &str, body: &str) -> Result<Conversation, ApiError> {
        self.first_workspace().add_conversation(contact_id, body)
    }

    /// Adds a reply from the conversation's (first) contact, as the customer would in the
    /// Messenger (reopens a closed or snoozed conversation; `conversation.user.replied`).
    pub fn add_contact_reply(&self, conversation_id: &str, body: &str) -> Result<(), ApiError> {
        let owner = self.conversation_owner(conversation_id).ok_or_else(ApiError::conversation_not_found)?;
        owner.with_state(|state| {
            let contact_id = state
                .conversation(conversation_id)
                .and_then(|c| c.contact_ids.first().cloned())
                .ok_or_else(ApiError::conversation_not_found)?;
            state.reply_as_contact(conversation_id, &contact_id, body)
        })
    }

    // ----- webhooks -----

    /// Starts (`Some`) or stops (`None`) sending webhooks. Events from now on use the new config. With
    /// one workspace, its client secret becomes the config's; with several, each signs with its own.
    pub fn set_webhooks(&self, config: Option<WebhookConfig>) {
        let workspaces = self.all_workspaces();
        let single = workspaces.len() == 1;
        let guards: Vec<_> = self.inner.workspaces.iter().map(|slot| lock(&slot.state)).collect();
        for (mut state, slot) in guards.into_iter().zip(&self.inner.workspaces) {
            state.webhooks_on = config.is_some();
            if let Some(config) = &config {
                state.webhook_api_version = config.api_version;
            }
            if single && let Some(config) = &config {
                slot.update_credentials(|c| c.client_secret.clone_from(&config.client_secret));
            }
        }
        self.inner.webhooks.set_config(config);
    }

    pub fn webhook_config(&self) -> Option<WebhookConfig> {
        self.inner.webhooks.config()
    }

    /// Every notification queued so far with its attempts, oldest first.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.inner.webhooks.deliveries()
    }

    /// Forgets recorded deliveries; `false` (nothing forgotten) while some are still pending.
    pub fn clear_webhook_deliveries(&self) -> bool {
        self.inner.webhooks.clear()
    }

    /// Waits until every queued webhook is delivered or given up (bound it with a timeout if the
    /// receiver may hang: each attempt takes up to the configured timeout).
    pub async fn flush_webhooks(&self) {
        self.inner.webhooks.flush().await;
    }

    pub fn add_admin(&self, name: &str, email: &str) -> Admin {
        self.with_state(|s| s.add_admin(name, email))
    }

    /// Puts an admin (of whichever workspace has it) in or out of away mode (as `PUT /admins/{id}/away`).
    pub fn set_admin_away(&self, admin_id: &str, away: bool, reassign: bool) -> Result<Admin, ApiError> {
        let owner = self
            .all_workspaces()
            .into_iter()
            .find(|w| w.admins().iter().any(|a| a.id == admin_id))
            .unwrap_or_else(|| self.first_workspace());
        owner.with_state(|s| s.set_away(admin_id, away, reassign, None))
    }

    pub fn add_team(&self, name: &str, admin_ids: &[&str]) -> Team {
        self.with_state(|s| s.add_team(name, admin_ids))
    }

    /// Defines a custom contact attribute, as `POST /data_attributes` with `model: contact`.
    pub fn define_attribute(&self, name: &str, data_type: DataType) -> Result<DataAttribute, ApiError> {
        self.with_state(|s| s.define_attribute(name, AttributeModel::Contact, data_type, "", Vec::new()))
    }

    /// Archives (`true`) or restores a custom attribute of the first workspace by name, as
    /// `PUT /data_attributes/{id} {"archived": …}` does: an archived attribute is refused on contact writes
    /// as an unknown one is.
    pub fn set_attribute_archived(&self, name: &str, archived: bool) -> Result<DataAttribute, ApiError> {
        self.with_state(|s| s.set_attribute_archived(name, archived))
    }

    /// The first workspace's data attributes, standard and custom.
    pub fn data_attributes(&self) -> Vec<DataAttribute> {
        self.first_workspace().data_attributes()
    }

    /// Finds (case-insensitively) or creates a tag, as `POST /tags`.
    pub fn add_tag(&self, name: &str) -> Tag {
        self.with_state(|s| s.find_or_create_tag(name))
    }

    /// Turns the manual search lag on (changes from now on wait for [`FakeIntercom::index_search`])
    /// or off (search catches up at once).
    pub fn set_search_index_delay(&self, delayed: bool) {
        self.set_search_lag(if delayed { SearchLag::Manual } else { SearchLag::Off });
    }

    /// Sets how far search trails the data (see [`SearchLag`]), in every workspace.
    pub fn set_search_lag(&self, lag: SearchLag) {
        for w in self.all_workspaces() {
            w.with_state(|s| s.search_index.set_lag(lag));
        }
    }

    pub fn search_lag(&self) -> SearchLag {
        self.with_state(|s| s.search_index.lag())
    }

    /// The delayed search index catches up: every change so far becomes visible to search (every
    /// workspace).
    pub fn index_search(&self) {
        for w in self.all_workspaces() {
            w.with_state(State::index_search);
        }
    }

    // ----- clock -----

    /// The fake's time (Unix seconds): real time, or what [`FakeIntercom::set_clock`] set.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// `Some(t)`: the fake's clock stands at Unix second `t` (every time it reports follows: what is made
    /// or changed, webhooks, the `Date` header) until set again or advanced; `None`: real time.
    pub fn set_clock(&self, at: Option<i64>) {
        self.inner.clock.set(at);
    }

    /// Moves the set clock forward by `secs` (a real-time clock is set to now + `secs`).
    pub fn advance_clock(&self, secs: i64) {
        self.inner.clock.advance(secs);
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    // ----- tokens, latency, faults -----

    /// From now on only these tokens are valid for the first workspace (e.g. token rotation: the old one
    /// gets 401).
    pub fn set_valid_tokens<I, S>(&self, tokens: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let tokens: Vec<String> = tokens.into_iter().map(Into::into).collect();
        self.inner.workspaces[0].update_credentials(|c| c.set_tokens(Some(tokens)));
    }

    /// From now on any non-empty bearer token is valid for the first workspace (the default with one).
    pub fn accept_any_token(&self) {
        self.inner.workspaces[0].update_credentials(|c| c.set_tokens(None));
    }

    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.inner.latency) = latency;
    }

    pub fn latency(&self) -> Duration {
        *lock(&self.inner.latency)
    }

    /// Adds a fault; see [`Fault`].
    pub fn inject(&self, fault: Fault) {
        lock(&self.inner.faults).push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// Faults not yet used up, with their remaining `times`.
    pub fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.inner.faults).pending()
    }

    pub(crate) fn take_fault(&self, method: &str, path: &str, workspace: Option<&str>) -> Option<FaultKind> {
        lock(&self.inner.faults).take(method, path, workspace)
    }

    /// Counts one request in the current 10-second window: `(remaining, reset_at)`, or
    /// `Err(reset_at)` once the window's [`RATE_LIMIT`] is used up.
    pub(crate) fn count_request(&self, now: i64) -> Result<(u32, i64), i64> {
        let mut window = lock(&self.inner.rate_window);
        let start = now - now.rem_euclid(RATE_LIMIT_WINDOW_SECS);
        if window.0 != start {
            *window = (start, 0);
        }
        let reset = start + RATE_LIMIT_WINDOW_SECS;
        if window.1 >= RATE_LIMIT {
            return Err(reset);
        }
        window.1 += 1;
        Ok((RATE_LIMIT - window.1, reset))
    }
}

/// Several workspaces' states as one: each top-level list (or map) of records merged, every record with
/// its `workspaceId`; the other fields, per workspace, under `workspaces`.
fn merged_state(states: Vec<Value>) -> Value {
    let mut merged = serde_json::Map::new();
    let mut per_workspace = Vec::new();
    for state in states {
        let Value::Object(fields) = state else { continue };
        let id = fields.get("workspace_id").cloned().unwrap_or(Value::Null);
        let mut rest = serde_json::Map::new();
        rest.insert("workspaceId".to_owned(), id.clone());
        for (key, value) in fields {
            let tag = |mut record: Value| {
                if let Value::Object(r) = &mut record {
                    r.insert("workspaceId".to_owned(), id.clone());
                }
                record
            };
            match value {
                Value::Array(records) => {
                    let list = merged.entry(key).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(list) = list {
                        list.extend(records.into_iter().map(tag));
                    }
                }
                Value::Object(map) if map.values().all(Value::is_object) && key != "search_index" => {
                    let all = merged.entry(key).or_insert_with(|| Value::Object(serde_json::Map::new()));
                    if let Value::Object(all) = all {
                        all.extend(map.into_iter().map(|(k, v)| (k, tag(v))));
                    }
                }
                other => {
                    rest.insert(key, other);
                }
            }
        }
        per_workspace.push(Value::Object(rest));
    }
    merged.insert("workspaces".to_owned(), Value::Array(per_workspace));
    Value::Object(merged)
}

/// A running fake: derefs to its [`FakeIntercom`] handle; stops serving when dropped.
pub struct FakeServer {
    fake: FakeIntercom,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer").field("addr", &self.addr).finish()
    }
}

impl FakeServer {
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that outlives the server.
    pub fn handle(&self) -> FakeIntercom {
        self.fake.clone()
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl std::ops::Deref for FakeServer {
    type Target = FakeIntercom;

    fn deref(&self) -> &FakeIntercom {
        &self.fake
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
