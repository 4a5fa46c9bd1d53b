//! A stateful fake of Intercom's REST API (version 2.14) for tests and the local dev stack.
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
pub mod error;
pub mod faults;
mod html;
mod ids;
pub mod index;
pub mod prism;
mod record;
mod routes;
mod search;
mod server;
pub mod shapes;
pub mod state;
pub mod webhooks;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use attributes::{AttributeModel, DataAttribute, DataType};
pub use error::ApiError;
pub use faults::{Fault, FaultKind, FaultSpec, PathMatch};
pub use index::SearchLag;
pub use record::{RecordedRequest, sequential_round_trips};
pub use state::{
    Admin, AdminReplyKind, AssigneeKind, Attachment, Contact, ContactUpdate, Conversation, ConversationState,
    NewContact, Part, QuickReplyOption, ReplyExtras, Role, State, Tag, Team,
};
pub use webhooks::{DeliveryAttempt, DeliveryStatus, WebhookConfig, WebhookDelivery};

/// `X-RateLimit-Limit` the fake announces (Intercom: 10,000 per app, in 10-second windows).
pub const RATE_LIMIT: u32 = 10_000;
/// Length of a rate-limit window in seconds.
pub const RATE_LIMIT_WINDOW_SECS: i64 = 10;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Inner {
    state: Mutex<State>,
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<faults::FaultBook>,
    /// `None`: any non-empty bearer token is valid.
    tokens: RwLock<Option<HashSet<String>>>,
    latency: Mutex<Duration>,
    rate_window: Mutex<(i64, u32)>,
    origin: Instant,
    webhooks: webhooks::Webhooks,
}

/// A handle on one fake Intercom workspace: state, recorded requests, faults, tokens.
/// Cheap to clone; every clone sees the same workspace.
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
    tokens: Option<Vec<String>>,
    seed_demo: bool,
    search_lag: SearchLag,
    latency: Duration,
    data_attributes: Vec<(String, DataType)>,
    accept_unknown_attributes: bool,
    webhooks: Option<WebhookConfig>,
}

impl FakeIntercomBuilder {
    /// Only these bearer tokens are accepted (default: any non-empty token).
    pub fn valid_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tokens = Some(tokens.into_iter().map(Into::into).collect());
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
        let mut state = State::new();
        if self.seed_demo {
            state.seed_demo();
        }
        state.search_index.set_lag(self.search_lag);
        for (name, data_type) in &self.data_attributes {
            if let Err(e) = state.define_attribute(name, AttributeModel::Contact, *data_type, "", Vec::new()) {
                tracing::warn!(%name, error = %e, "data attribute not defined");
            }
        }
        state.accept_unknown_attributes = self.accept_unknown_attributes;
        state.webhooks_on = self.webhooks.is_some();
        let webhooks = webhooks::Webhooks::new(&state.workspace_id, self.webhooks);
        FakeIntercom {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                requests: Mutex::new(Vec::new()),
                faults: Mutex::new(faults::FaultBook::default()),
                tokens: RwLock::new(self.tokens.map(|t| t.into_iter().collect())),
                latency: Mutex::new(self.latency),
                rate_window: Mutex::new((0, 0)),
                origin: Instant::now(),
                webhooks,
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

    // ----- state -----

    /// Runs `f` on the workspace under its lock (read or change anything; keep it short).
    /// Webhook events the change caused are queued for delivery before the lock is released.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = lock(&self.inner.state);
        let result = f(&mut state);
        if !state.outbox.is_empty() {
            let events = std::mem::take(&mut state.outbox);
            self.inner.webhooks.enqueue(events);
        }
        result
    }

    /// A copy of the whole workspace.
    pub fn state(&self) -> State {
        lock(&self.inner.state).clone()
    }

    /// The workspace as `GET /__fake/state` shows it.
    pub fn state_json(&self) -> Value {
        serde_json::to_value(&*lock(&self.inner.state)).unwrap_or(Value::Null)
    }

    /// All contacts in creation order, archived ones included.
    pub fn contacts(&self) -> Vec<Contact> {
        lock(&self.inner.state).contacts.clone()
    }

    pub fn contact(&self, id: &str) -> Option<Contact> {
        lock(&self.inner.state).contact(id).cloned()
    }

    pub fn conversations(&self) -> Vec<Conversation> {
        lock(&self.inner.state).conversations.values().cloned().collect()
    }

    /// The stored conversation (all parts, bodies as HTML).
    pub fn conversation(&self, id: &str) -> Option<Conversation> {
        lock(&self.inner.state).conversation(id).cloned()
    }

    /// The conversation as `GET /conversations/{id}` answers it.
    pub fn conversation_json(&self, id: &str, plaintext: bool) -> Option<Value> {
        let state = lock(&self.inner.state);
        state.conversation(id).map(|c| shapes::conversation(&state, c, plaintext))
    }

    pub fn tags(&self) -> Vec<Tag> {
        lock(&self.inner.state).tags.clone()
    }

    pub fn admins(&self) -> Vec<Admin> {
        lock(&self.inner.state).admins.clone()
    }

    pub fn teams(&self) -> Vec<Team> {
        lock(&self.inner.state).teams.clone()
    }

    /// The admin every token belongs to (`GET /me`).
    pub fn me(&self) -> Option<Admin> {
        lock(&self.inner.state).me().cloned()
    }

    /// Creates a contact directly (same rules as `POST /contacts`, e.g. 409 on duplicates).
    pub fn add_contact(&self, contact: NewContact) -> Result<Contact, ApiError> {
        lock(&self.inner.state).create_contact(contact)
    }

    /// Starts a conversation from a contact directly (as `POST /conversations`).
    pub fn add_conversation(&self, contact_id: &str, body: &str) -> Result<Conversation, ApiError> {
        self.with_state(|s| s.create_conversation(contact_id, body, None))
    }

    /// Adds a reply from the conversation's (first) contact, as the customer would in the
    /// Messenger (reopens a closed or snoozed conversation; `conversation.user.replied`).
    pub fn add_contact_reply(&self, conversation_id: &str, body: &str) -> Result<(), ApiError> {
        self.with_state(|state| {
            let contact_id = state
                .conversation(conversation_id)
                .and_then(|c| c.contact_ids.first().cloned())
                .ok_or_else(ApiError::conversation_not_found)?;
            state.reply_as_contact(conversation_id, &contact_id, body)
        })
    }

    // ----- webhooks -----

    /// Starts (`Some`) or stops (`None`) sending webhooks. Events from now on use the new config.
    pub fn set_webhooks(&self, config: Option<WebhookConfig>) {
        self.with_state(|s| {
            s.webhooks_on = config.is_some();
            self.inner.webhooks.set_config(config);
        });
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
        lock(&self.inner.state).add_admin(name, email)
    }

    /// Puts an admin in or out of away mode (as `PUT /admins/{id}/away`).
    pub fn set_admin_away(&self, admin_id: &str, away: bool, reassign: bool) -> Result<Admin, ApiError> {
        self.with_state(|s| s.set_away(admin_id, away, reassign, None))
    }

    pub fn add_team(&self, name: &str, admin_ids: &[&str]) -> Team {
        lock(&self.inner.state).add_team(name, admin_ids)
    }

    /// Defines a custom contact attribute, as `POST /data_attributes` with `model: contact`.
    pub fn define_attribute(&self, name: &str, data_type: DataType) -> Result<DataAttribute, ApiError> {
        self.with_state(|s| s.define_attribute(name, AttributeModel::Contact, data_type, "", Vec::new()))
    }

    /// The workspace's data attributes, standard and custom.
    pub fn data_attributes(&self) -> Vec<DataAttribute> {
        lock(&self.inner.state).data_attributes.clone()
    }

    /// Finds (case-insensitively) or creates a tag, as `POST /tags`.
    pub fn add_tag(&self, name: &str) -> Tag {
        lock(&self.inner.state).find_or_create_tag(name)
    }

    /// Turns the manual search lag on (changes from now on wait for [`FakeIntercom::index_search`])
    /// or off (search catches up at once).
    pub fn set_search_index_delay(&self, delayed: bool) {
        self.set_search_lag(if delayed { SearchLag::Manual } else { SearchLag::Off });
    }

    /// Sets how far search trails the data (see [`SearchLag`]).
    pub fn set_search_lag(&self, lag: SearchLag) {
        lock(&self.inner.state).search_index.set_lag(lag);
    }

    pub fn search_lag(&self) -> SearchLag {
        lock(&self.inner.state).search_index.lag()
    }

    /// The delayed search index catches up: every change so far becomes visible to search.
    pub fn index_search(&self) {
        lock(&self.inner.state).index_search();
    }

    // ----- tokens, latency, faults -----

    /// From now on only these tokens are valid (e.g. token rotation: the old one gets 401).
    pub fn set_valid_tokens<I, S>(&self, tokens: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let set = tokens.into_iter().map(Into::into).collect();
        *self.inner.tokens.write().unwrap_or_else(PoisonError::into_inner) = Some(set);
    }

    /// From now on any non-empty bearer token is valid (the default).
    pub fn accept_any_token(&self) {
        *self.inner.tokens.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub(crate) fn token_is_valid(&self, token: &str) -> bool {
        !token.is_empty()
            && self
                .inner
                .tokens
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_none_or(|set| set.contains(token))
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

    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<FaultKind> {
        lock(&self.inner.faults).take(method, path)
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
