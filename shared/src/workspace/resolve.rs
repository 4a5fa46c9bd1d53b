//! Resolving a request to its workspace, once, at the edge.
//!
//! [`Workspaces`] is built once per container. In single mode it holds the one workspace of the deployment's
//! secret; in hub mode it reads the caller's workspace from the [`Directory`] on every call (one consistent read
//! of its small record) and rebuilds its copy — client, settings, store namespace — only when the record's version
//! changed, so a rotation or a disconnect takes effect on the next call. Copies are kept in a bounded LRU
//! ([`CACHED_WORKSPACES`]): a container's memory does not grow with the number of connected workspaces.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::HeaderMap;
use secrecy::SecretString;
use url::Url;

use super::directory::{Directory, DirectoryError};
use super::keys::{bearer, hash_key, matches_any};
use super::lru::Lru;
use super::record::Credentials;
use super::seal::{SealError, Sealer};
use super::settings::SettingsOverrides;
use super::{Tenancy, WORKSPACE_HEADER, WorkspaceId, WorkspaceRecord};
use crate::config::{AgentAuth, Region};
use crate::escalation::EscalationSettings;
use crate::handoff::HandoffSettings;
use crate::helpdesk::Helpdesk;
use crate::http::{ActionError, AgentGuard};
use crate::intercom::{IntercomClient, RetryPolicy};
use crate::secrets::{SecretStore, Secrets};
use crate::store::namespaced::Namespaced;
use crate::store::{Store, now_epoch_secs};

/// How many workspaces a container keeps built (client, settings); the rest are rebuilt when next used.
pub const CACHED_WORKSPACES: usize = 64;
/// How often a container records that a workspace was used (`GET` on connect-workspace shows it).
const TOUCH_EVERY: Duration = Duration::from_secs(600);

/// One workspace, as every action, the webhook and the relay see it. Cheap to clone.
#[derive(Clone)]
pub struct Workspace(Arc<WorkspaceInner>);

pub struct WorkspaceInner {
    /// The workspace id; `None` in single mode (the deployment's secret names no id, and nothing needs it).
    pub id: Option<WorkspaceId>,
    /// Intercom, as this workspace's token sees it.
    pub helpdesk: Arc<dyn Helpdesk>,
    /// This workspace's view of the shared store (its records carry its prefix in hub mode).
    pub store: Arc<dyn Store>,
    pub handoff: HandoffSettings,
    pub escalation: EscalationSettings,
    /// Its secrets: the token, the client secret that verifies its webhooks, the agent webhook secret.
    pub secrets: Arc<SecretStore>,
    /// Where its events are relayed (its own, else the deployment's `AGENT_WEBHOOK_URL`).
    pub agent_webhook_url: Option<Url>,
    version: u64,
}

impl std::ops::Deref for Workspace {
    type Target = WorkspaceInner;
    fn deref(&self) -> &WorkspaceInner {
        &self.0
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace").field("id", &self.id).field("version", &self.version).finish_non_exhaustive()
    }
}

impl Workspace {
    /// A workspace from its parts (single mode, and tests).
    pub fn new(
        id: Option<WorkspaceId>,
        helpdesk: Arc<dyn Helpdesk>,
        secrets: Arc<SecretStore>,
        store: Arc<dyn Store>,
        handoff: HandoffSettings,
        escalation: EscalationSettings,
        agent_webhook_url: Option<Url>,
    ) -> Self {
        let inner = WorkspaceInner { id, helpdesk, store, handoff, escalation, secrets, agent_webhook_url, version: 0 };
        Workspace(Arc::new(inner))
    }
}

/// What every workspace shares: the deployment's configuration, read once per container.
pub struct Deployment {
    pub tenancy: Tenancy,
    pub agent_auth: AgentAuth,
    pub api_version: String,
    pub http: reqwest::Client,
    pub retry: RetryPolicy,
    pub rotation_grace_secs: u64,
    /// The shared store; each workspace gets its namespace of it.
    pub store: Arc<dyn Store>,
    /// The deployment's own secret: single mode's workspace, a hub's admin key and default agent webhook secret.
    pub secrets: Arc<SecretStore>,
    env: HashMap<String, String>,
}

impl Deployment {
    pub fn new(
        tenancy: Tenancy,
        agent_auth: AgentAuth,
        http: reqwest::Client,
        store: Arc<dyn Store>,
        secrets: Arc<SecretStore>,
        env: HashMap<String, String>,
    ) -> Result<Self, super::TenancyError> {
        let lookup = |name: &str| env.get(name).cloned();
        let rotation_grace_secs = super::rotation_grace_from_lookup(lookup)?;
        let api_version =
            lookup("INTERCOM_API_VERSION").unwrap_or_else(|| crate::config::DEFAULT_API_VERSION.to_owned());
        Ok(Deployment {
            tenancy,
            agent_auth,
            api_version,
            http,
            retry: RetryPolicy::default(),
            rotation_grace_secs,
            store,
            secrets,
            env,
        })
    }

    /// The agent webhook secret of workspaces that bring none: the deployment's `agent_webhook_secret`.
    pub async fn default_agent_webhook_secret(&self) -> Option<SecretString> {
        match self.secrets.get().await {
            Ok(secrets) => secrets.agent_webhook_secret.clone(),
            Err(e) => {
                tracing::warn!(error = %e, "the deployment's secret could not be read for its agent webhook secret");
                None
            }
        }
    }

    /// The deployment's value of a variable (read at the cold start).
    pub fn var(&self, name: &str) -> Option<String> {
        self.env.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// The API host of a workspace in `region`: `INTERCOM_API_BASE` when set (tests, the local stack), else the
    /// region's.
    pub fn api_base(&self, region: Region) -> Url {
        let raw = self.var("INTERCOM_API_BASE").unwrap_or_else(|| region.api_base().to_owned());
        let mut url = Url::parse(&raw).unwrap_or_else(|_| Url::parse(region.api_base()).expect("static URL"));
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        url
    }

    /// Whether a deployment-wide `INTERCOM_API_BASE` pins every workspace to one host.
    pub fn api_base_pinned(&self) -> bool {
        self.var("INTERCOM_API_BASE").is_some()
    }

    /// The settings of a workspace whose own settings are `overrides` and whose AI admin is `admin_id`: every
    /// value read by its deployment variable's own parser. The error names the field to fix.
    pub fn settings(
        &self,
        admin_id: Option<&str>,
        overrides: &SettingsOverrides,
    ) -> Result<(HandoffSettings, EscalationSettings), (String, String)> {
        let deployment = |name: &str| self.env.get(name).cloned();
        let layered = overrides.over(deployment);
        let lookup = |name: &str| match (name, admin_id) {
            ("INTERCOM_ADMIN_ID", Some(id)) => Some(id.to_owned()),
            _ => layered(name),
        };
        let named = |message: String| {
            let field = super::settings::FIELDS
                .iter()
                .find(|(_, var)| message.contains(var) && overrides.var(var).is_some())
                .map(|(field, _)| format!("settings.{field}"));
            match field {
                Some(field) => (field.clone(), format!("{field}: {message}")),
                None => ("settings".to_owned(), message),
            }
        };
        let handoff = HandoffSettings::from_lookup(lookup).map_err(|e| named(e.to_string()))?;
        let escalation = EscalationSettings::from_lookup(lookup).map_err(|e| named(e.to_string()))?;
        Ok((handoff, escalation))
    }

    fn agent_webhook_url(&self) -> Option<Url> {
        self.var("AGENT_WEBHOOK_URL").and_then(|u| Url::parse(&u).ok())
    }
}

/// Every workspace this container serves.
pub struct Workspaces {
    deployment: Arc<Deployment>,
    mode: Mode,
}

enum Mode {
    Single { workspace: Workspace, guard: AgentGuard },
    Hub(Box<Hub>),
}

struct Hub {
    directory: Arc<dyn Directory>,
    sealer: Arc<dyn Sealer>,
    built: Mutex<Lru<WorkspaceId, Workspace>>,
    keys: Mutex<Lru<String, WorkspaceId>>,
    touched: Mutex<Lru<WorkspaceId, Instant>>,
}

impl std::fmt::Debug for Workspaces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspaces").field("tenancy", &self.deployment.tenancy).finish_non_exhaustive()
    }
}

impl Workspaces {
    /// Single mode: the deployment's workspace, its agent key checked by `guard` (`AGENT_AUTH=API_KEY`).
    pub fn single(deployment: Arc<Deployment>, workspace: Workspace, guard: AgentGuard) -> Self {
        Workspaces { deployment, mode: Mode::Single { workspace, guard } }
    }

    /// A deployment of one workspace whose callers `guard` checks: handler tests, the fuzz target, tools.
    pub fn of(workspace: Workspace, guard: AgentGuard) -> Self {
        static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
        let http = HTTP.get_or_init(reqwest::Client::new).clone();
        let (store, secrets) = (workspace.store.clone(), workspace.secrets.clone());
        let deployment = Deployment::new(Tenancy::Single, AgentAuth::AwsIam, http, store, secrets, HashMap::new())
            .unwrap_or_else(|_| unreachable!("no variables, nothing to refuse"));
        Workspaces::single(Arc::new(deployment), workspace, guard)
    }

    /// Hub mode: the workspaces of `directory`, their credentials opened by `sealer`.
    pub fn hub(deployment: Arc<Deployment>, directory: Arc<dyn Directory>, sealer: Arc<dyn Sealer>) -> Self {
        let hub = Hub {
            directory,
            sealer,
            built: Mutex::new(Lru::new(CACHED_WORKSPACES)),
            keys: Mutex::new(Lru::new(CACHED_WORKSPACES * 2)),
            touched: Mutex::new(Lru::new(CACHED_WORKSPACES)),
        };
        Workspaces { deployment, mode: Mode::Hub(Box::new(hub)) }
    }

    /// How agents authenticate to the action URLs (`AGENT_AUTH`).
    pub fn agent_auth(&self) -> AgentAuth {
        self.deployment.agent_auth
    }

    pub fn tenancy(&self) -> Tenancy {
        self.deployment.tenancy
    }

    pub fn deployment(&self) -> &Arc<Deployment> {
        &self.deployment
    }

    /// The single mode's workspace (`None` in hub mode).
    pub fn the_single(&self) -> Option<&Workspace> {
        match &self.mode {
            Mode::Single { workspace, .. } => Some(workspace),
            Mode::Hub(_) => None,
        }
    }

    /// The directory (hub mode only).
    pub fn directory(&self) -> Option<&Arc<dyn Directory>> {
        match &self.mode {
            Mode::Hub(hub) => Some(&hub.directory),
            Mode::Single { .. } => None,
        }
    }

    /// The workspace an agent's request acts in, checking its credentials: in single mode the deployment's
    /// (with `AGENT_AUTH=API_KEY`, its key); in hub mode the agent key's workspace, or with `AWS_IAM` the one the
    /// `Intercom-Workspace-Id` header names (the function URL already checked the caller's signature).
    pub async fn for_agent(&self, headers: &HeaderMap, auth: AgentAuth) -> Result<Workspace, ActionError> {
        match &self.mode {
            Mode::Single { workspace, guard } => {
                // The deployment's own mode is the guard's; a caller may only ask for more (MCP: the key).
                match auth {
                    AgentAuth::ApiKey => guard.check_as(headers, AgentAuth::ApiKey).await?,
                    AgentAuth::AwsIam => guard.check(headers).await?,
                }
                Ok(workspace.clone())
            }
            Mode::Hub(hub) => {
                let workspace = match auth {
                    AgentAuth::ApiKey => self.by_agent_key(hub, bearer(headers)).await?,
                    AgentAuth::AwsIam => self.by_header(headers).await?,
                };
                self.touch(hub, &workspace).await;
                Ok(workspace)
            }
        }
    }

    /// A connected workspace by id (the webhook's path, a queued event); `None` when it is not connected.
    pub async fn by_id(&self, id: &WorkspaceId) -> Result<Option<Workspace>, ActionError> {
        match &self.mode {
            Mode::Single { workspace, .. } => Ok(Some(workspace.clone())),
            Mode::Hub(hub) => match hub.directory.record(id).await.map_err(directory_down)? {
                Some(record) => self.build(hub, record).await.map(Some),
                None => {
                    forget(hub, id);
                    Ok(None)
                }
            },
        }
    }

    /// Forgets every built copy of `id` in this container (after a disconnect or a change made here).
    pub fn forget(&self, id: &WorkspaceId) {
        if let Mode::Hub(hub) = &self.mode {
            forget(hub, id);
        }
    }

    async fn by_agent_key(&self, hub: &Hub, key: &str) -> Result<Workspace, ActionError> {
        if key.is_empty() {
            return Err(ActionError::Unauthenticated);
        }
        let hash = hash_key(key);
        let cached = lock(&hub.keys).get(&hash);
        let id = match cached {
            Some(id) => id,
            None => hub
                .directory
                .workspace_of_key(&hash)
                .await
                .map_err(directory_down)?
                .ok_or(ActionError::Unauthenticated)?,
        };
        let Some(record) = hub.directory.record(&id).await.map_err(directory_down)? else {
            lock(&hub.keys).remove(&hash);
            forget(hub, &id);
            return Err(ActionError::Unauthenticated);
        };
        if !matches_any(key, record.accepted_key_hashes(now_epoch_secs())) {
            lock(&hub.keys).remove(&hash);
            return Err(ActionError::Unauthenticated);
        }
        lock(&hub.keys).insert(hash, id);
        self.build(hub, record).await
    }

    async fn by_header(&self, headers: &HeaderMap) -> Result<Workspace, ActionError> {
        let Some(raw) = headers.get(WORKSPACE_HEADER) else {
            return Err(ActionError::bad_request(
                "Intercom-Workspace-Id",
                "this deployment serves many workspaces: name the workspace in the Intercom-Workspace-Id header",
            ));
        };
        let id =
            raw.to_str().ok().and_then(|v| WorkspaceId::parse(v).ok()).ok_or_else(|| {
                ActionError::bad_request("Intercom-Workspace-Id", super::InvalidWorkspaceId.to_string())
            })?;
        self.by_id(&id).await?.ok_or_else(|| {
            ActionError::not_found(
                "Intercom-Workspace-Id",
                format!("no workspace {id} is connected here; connect it with connect-workspace first"),
            )
        })
    }

    /// The built copy of `record`'s workspace, rebuilt when its version changed.
    async fn build(&self, hub: &Hub, record: WorkspaceRecord) -> Result<Workspace, ActionError> {
        if let Some(built) = lock(&hub.built).get(&record.id)
            && built.version == record.version
        {
            return Ok(built);
        }
        let sealed = hub.directory.sealed(&record.id).await.map_err(directory_down)?;
        let sealed =
            sealed.filter(|s| s.version == record.credentials_version).ok_or_else(|| ActionError::Unavailable {
                message: "the workspace is being reconnected right now; retry in a second".into(),
            })?;
        let plaintext = hub.sealer.open(&record.id, &sealed.blob).await.map_err(seal_failed)?;
        let credentials = Credentials::from_plaintext(&plaintext).map_err(|_| ActionError::Unavailable {
            message: "the workspace's stored credentials are unreadable; connect it again".into(),
        })?;
        let default_secret = match credentials.agent_webhook_secret {
            Some(_) => None,
            None => self.deployment.default_agent_webhook_secret().await,
        };
        let workspace = self.assemble(record, credentials, default_secret)?;
        lock(&hub.built).insert(workspace.id.clone().expect("hub workspaces have ids"), workspace.clone());
        Ok(workspace)
    }

    fn assemble(
        &self,
        record: WorkspaceRecord,
        credentials: Credentials,
        default_agent_secret: Option<SecretString>,
    ) -> Result<Workspace, ActionError> {
        let d = &self.deployment;
        let (handoff, escalation) =
            d.settings(Some(&record.admin_id), &record.settings).map_err(|(_, message)| ActionError::Unavailable {
                message: format!("the workspace's settings are not usable ({message}); fix them with PATCH"),
            })?;
        let now = now_epoch_secs();
        let previous_secret = credentials
            .previous_client_secret
            .filter(|_| record.previous_client_secret_until.is_some_and(|until| now < until));
        let secrets = Secrets {
            access_token: Some(credentials.access_token),
            client_secret: Some(credentials.client_secret),
            agent_webhook_secret: credentials.agent_webhook_secret.or(default_agent_secret),
            previous_client_secret: previous_secret,
            ..Default::default()
        };
        let secrets = Arc::new(SecretStore::fixed(secrets));
        let intercom = IntercomClient::with_http(
            d.http.clone(),
            d.api_base(record.region),
            &d.api_version,
            secrets.clone(),
            Some(record.admin_id.clone()),
            d.retry.clone(),
        );
        let agent_webhook_url =
            credentials.agent_webhook_url.and_then(|u| Url::parse(&u).ok()).or_else(|| d.agent_webhook_url());
        let store: Arc<dyn Store> = Arc::new(Namespaced::new(d.store.clone(), record.id.store_prefix()));
        Ok(Workspace(Arc::new(WorkspaceInner {
            id: Some(record.id),
            helpdesk: Arc::new(intercom),
            store,
            handoff,
            escalation,
            secrets,
            agent_webhook_url,
            version: record.version,
        })))
    }

    /// Records, at most every [`TOUCH_EVERY`] per container, that the workspace was used; a failure only logs.
    async fn touch(&self, hub: &Hub, workspace: &Workspace) {
        let Some(id) = &workspace.id else { return };
        let due = lock(&hub.touched).get(id).is_none_or(|at| at.elapsed() >= TOUCH_EVERY);
        if due {
            lock(&hub.touched).insert(id.clone(), Instant::now());
            if let Err(e) = hub.directory.touch(id, now_epoch_secs()).await {
                tracing::warn!(error = %e, "could not record when the workspace was used");
            }
        }
    }
}

fn forget(hub: &Hub, id: &WorkspaceId) {
    lock(&hub.built).remove(id);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn directory_down(e: DirectoryError) -> ActionError {
    ActionError::StoreUnavailable { message: e.to_string() }
}

fn seal_failed(e: SealError) -> ActionError {
    ActionError::Unavailable { message: format!("the workspace's credentials could not be opened: {e}") }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::workspace::directory::Save;
    use crate::workspace::directory::memory::MemoryDirectory;
    use crate::workspace::keys::new_agent_key;
    use crate::workspace::record::RetiredKey;
    use crate::workspace::seal::MemorySealer;

    struct Fixture {
        workspaces: Workspaces,
        directory: Arc<MemoryDirectory>,
        store: Arc<dyn Store>,
    }

    fn fixture() -> Fixture {
        let directory = Arc::new(MemoryDirectory::new());
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let env = HashMap::from([("INTERCOM_API_BASE".to_owned(), "http://127.0.0.1:9".to_owned())]);
        let secrets = Arc::new(SecretStore::fixed(Secrets::default()));
        let deployment =
            Deployment::new(Tenancy::Hub, AgentAuth::ApiKey, reqwest::Client::new(), store.clone(), secrets, env)
                .unwrap();
        let workspaces = Workspaces::hub(Arc::new(deployment), directory.clone(), Arc::new(MemorySealer));
        Fixture { workspaces, directory, store }
    }

    fn record(id: &str, key: &str, version: u64) -> WorkspaceRecord {
        WorkspaceRecord {
            id: WorkspaceId::parse(id).unwrap(),
            name: id.to_uppercase(),
            region: Region::Us,
            admin_id: "7".into(),
            version,
            credentials_version: version,
            connected_at: 1,
            agent_key_hash: hash_key(key),
            previous_agent_key: None,
            previous_client_secret_until: None,
            settings: SettingsOverrides::default(),
        }
    }

    async fn connect(f: &Fixture, record: WorkspaceRecord, token: &str, expected: Option<u64>) {
        let credentials = Credentials {
            access_token: token.to_owned().into(),
            client_secret: format!("cs-{token}").into(),
            previous_client_secret: None,
            agent_webhook_url: None,
            agent_webhook_secret: None,
        };
        let sealed = MemorySealer.seal(&record.id, &credentials.to_plaintext()).await.unwrap();
        let mut index_keys = vec![(record.agent_key_hash.clone(), None)];
        index_keys.extend(record.previous_agent_key.iter().map(|k| (k.hash.clone(), Some(k.until))));
        let save = Save { record, sealed: Some(sealed), expected_version: expected, index_keys, drop_keys: vec![] };
        f.directory.save(save).await.unwrap();
    }

    fn with_key(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, format!("Bearer {key}").parse().unwrap());
        h
    }

    fn token_of(w: &Workspace) -> String {
        let secrets = futures::executor::block_on(w.secrets.get()).unwrap();
        secrets.access_token().unwrap().expose_secret().to_owned()
    }

    #[tokio::test]
    async fn an_agent_key_opens_its_own_workspace_only() {
        let f = fixture();
        let (ka, kb) = (new_agent_key(), new_agent_key());
        connect(&f, record("aaa", &ka, 1), "tok-a", None).await;
        connect(&f, record("bbb", &kb, 1), "tok-b", None).await;
        let a = f.workspaces.for_agent(&with_key(&ka), AgentAuth::ApiKey).await.unwrap();
        let b = f.workspaces.for_agent(&with_key(&kb), AgentAuth::ApiKey).await.unwrap();
        assert_eq!(a.id.as_ref().unwrap().as_str(), "aaa");
        assert_eq!((token_of(&a), token_of(&b)), ("tok-a".to_owned(), "tok-b".to_owned()));
        assert_eq!(a.handoff.admin_id.as_deref(), Some("7"), "the record's admin is the AI's");
        for wrong in ["", "iak_nope", &format!("{ka}x")] {
            let err = f.workspaces.for_agent(&with_key(wrong), AgentAuth::ApiKey).await.unwrap_err();
            assert_eq!(err, ActionError::Unauthenticated, "{wrong:?}");
        }

        // Their stores are two namespaces of one table.
        a.store.put_value("k", "from a", crate::store::Expect::Any, Duration::from_secs(60)).await.unwrap();
        assert_eq!(b.store.get_value("k").await.unwrap(), None);
        assert!(f.store.get_value("ws:aaa|k").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_reconnect_is_seen_on_the_next_call_and_a_disconnect_at_once() {
        let f = fixture();
        let key = new_agent_key();
        connect(&f, record("aaa", &key, 1), "tok-1", None).await;
        let first = f.workspaces.for_agent(&with_key(&key), AgentAuth::ApiKey).await.unwrap();
        assert_eq!(token_of(&first), "tok-1");
        let again = f.workspaces.for_agent(&with_key(&key), AgentAuth::ApiKey).await.unwrap();
        assert!(Arc::ptr_eq(&first.0, &again.0), "same version: the built copy is reused");

        connect(&f, record("aaa", &key, 2), "tok-2", Some(1)).await;
        let rotated = f.workspaces.for_agent(&with_key(&key), AgentAuth::ApiKey).await.unwrap();
        assert_eq!(token_of(&rotated), "tok-2", "the new token on the very next call");

        f.directory.remove(&WorkspaceId::parse("aaa").unwrap()).await.unwrap();
        let err = f.workspaces.for_agent(&with_key(&key), AgentAuth::ApiKey).await.unwrap_err();
        assert_eq!(err, ActionError::Unauthenticated);
        assert!(f.workspaces.by_id(&WorkspaceId::parse("aaa").unwrap()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_rotated_out_key_works_inside_its_grace_period_only() {
        let f = fixture();
        let (old, new, older) = (new_agent_key(), new_agent_key(), new_agent_key());
        let mut r = record("aaa", &new, 1);
        r.previous_agent_key = Some(RetiredKey { hash: hash_key(&old), until: now_epoch_secs() + 3600 });
        connect(&f, r, "tok", None).await;
        let mut expired = record("bbb", &new_agent_key(), 1);
        expired.previous_agent_key = Some(RetiredKey { hash: hash_key(&older), until: now_epoch_secs() - 1 });
        connect(&f, expired, "tok", None).await;
        assert!(f.workspaces.for_agent(&with_key(&new), AgentAuth::ApiKey).await.is_ok());
        assert!(f.workspaces.for_agent(&with_key(&old), AgentAuth::ApiKey).await.is_ok(), "inside the grace period");
        let err = f.workspaces.for_agent(&with_key(&older), AgentAuth::ApiKey).await.unwrap_err();
        assert_eq!(err, ActionError::Unauthenticated, "after the grace period");
    }

    #[tokio::test]
    async fn an_iam_caller_names_the_workspace() {
        let f = fixture();
        connect(&f, record("aaa", &new_agent_key(), 1), "tok", None).await;
        let missing = f.workspaces.for_agent(&HeaderMap::new(), AgentAuth::AwsIam).await.unwrap_err();
        assert_eq!(missing.status(), 400);
        let mut h = HeaderMap::new();
        h.insert(WORKSPACE_HEADER, "a|b".parse().unwrap());
        assert_eq!(f.workspaces.for_agent(&h, AgentAuth::AwsIam).await.unwrap_err().status(), 400);
        h.insert(WORKSPACE_HEADER, "zzz".parse().unwrap());
        assert_eq!(f.workspaces.for_agent(&h, AgentAuth::AwsIam).await.unwrap_err().status(), 404);
        h.insert(WORKSPACE_HEADER, "aaa".parse().unwrap());
        assert_eq!(f.workspaces.for_agent(&h, AgentAuth::AwsIam).await.unwrap().id.as_ref().unwrap().as_str(), "aaa");
    }

    #[tokio::test]
    async fn a_directory_outage_is_a_503_never_someone_elses_workspace() {
        let f = fixture();
        let key = new_agent_key();
        connect(&f, record("aaa", &key, 1), "tok", None).await;
        f.directory.set_down(true);
        let err = f.workspaces.for_agent(&with_key(&key), AgentAuth::ApiKey).await.unwrap_err();
        assert_eq!(err.status(), 503);
    }

    #[tokio::test]
    async fn workspace_settings_override_the_deployments() {
        let f = fixture();
        let key = new_agent_key();
        let mut r = record("aaa", &key, 1);
        r.settings.reply_mode = Some("draft".into());
        r.settings.escalation_routing = Some("billing=Money,*=Help".into());
        connect(&f, r, "tok", None).await;
        let w = f.workspaces.for_agent(&with_key(&key), AgentAuth::ApiKey).await.unwrap();
        assert_eq!(w.handoff.reply_mode, crate::handoff::ReplyMode::Draft);
        assert_eq!(w.escalation.routing.team_for(Some("billing")), Some("Money"));
        let d = f.workspaces.deployment();
        let bad = SettingsOverrides { escalation_routing: Some("billing".into()), ..Default::default() };
        let (field, message) = d.settings(None, &bad).unwrap_err();
        assert_eq!(field, "settings.escalationRouting");
        assert!(message.contains("category=Team Name"), "{message}");
    }
}
