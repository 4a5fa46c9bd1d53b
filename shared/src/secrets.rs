//! The secrets every function needs, loaded on first use and cached for at most [`DEFAULT_TTL`].
//!
//! Deployed, they live in one AWS Secrets Manager secret: either the bare Intercom access token, or JSON
//! `{"access_token": …, "client_secret": …, "agent_api_key": …, "agent_webhook_secret": …}`. Locally they come
//! from `INTERCOM_ACCESS_TOKEN`, `INTERCOM_CLIENT_SECRET`, `AGENT_API_KEY` and `AGENT_WEBHOOK_SECRET`.
//!
//! Rotation: a value is read again once it is older than the TTL (five minutes, as the AWS Parameters and
//! Secrets extension does), and at once when Intercom rejects the token ([`SecretStore::refresh`]; concurrent
//! callers share that one fetch). While a key rotates, the previous version (`AWSPREVIOUS`) of `agent_api_key`
//! and `client_secret` is accepted beside the current one, so no request fails in the window.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Mutex, OnceCell, RwLock};

use crate::config::TokenSource;
use crate::deadline;

/// How long fetched secrets are used before they are read again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// The longest one Secrets Manager call may take (the SDK's operation timeout).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Kept free at the end of the invocation, so a slow Secrets Manager still leaves time to answer.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);
/// At most one read forced by an unknown agent key per container in this period.
pub const FORCED_READ_EVERY: Duration = Duration::from_secs(10);
/// When reading expired secrets again fails, the old ones serve this long before the next attempt.
const STALE_GRACE: Duration = Duration::from_secs(30);
/// The version stage Secrets Manager gives the version a rotation replaced.
const PREVIOUS_STAGE: &str = "AWSPREVIOUS";

/// How long a rotated-out agent key or client secret is still accepted, by default (`ROTATION_GRACE_HOURS`).
pub const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(24 * 3600);

/// The value `template.yaml` puts in a secret it creates, until the operator writes the real one.
pub const PLACEHOLDER: &str = "REPLACE_ME";

/// One snapshot of the secret's fields. `Debug` shows which fields are present, never their values.
#[derive(Clone, Default)]
pub struct Secrets {
    pub access_token: Option<SecretString>,
    pub client_secret: Option<SecretString>,
    pub agent_api_key: Option<SecretString>,
    pub agent_webhook_secret: Option<SecretString>,
    /// The key of `connect-workspace` when `AGENT_AUTH=API_KEY` (never an agent key).
    pub hub_admin_key: Option<SecretString>,
    /// The `AWSPREVIOUS` version's `agent_api_key`, still accepted while clients move to the new one.
    pub previous_agent_api_key: Option<SecretString>,
    /// The `AWSPREVIOUS` version's `client_secret`, still accepted while Intercom moves to the new one.
    pub previous_client_secret: Option<SecretString>,
    /// When the previous version's keys stop being accepted: the rotation (the current version's creation)
    /// plus the grace period. `None`: no limit is known (keys given in code).
    pub previous_until: Option<SystemTime>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |s: &Option<SecretString>| if s.is_some() { "[REDACTED]" } else { "<absent>" };
        f.debug_struct("Secrets")
            .field("access_token", &shown(&self.access_token))
            .field("client_secret", &shown(&self.client_secret))
            .field("agent_api_key", &shown(&self.agent_api_key))
            .field("agent_webhook_secret", &shown(&self.agent_webhook_secret))
            .field("hub_admin_key", &shown(&self.hub_admin_key))
            .field("previous_agent_api_key", &shown(&self.previous_agent_api_key))
            .field("previous_client_secret", &shown(&self.previous_client_secret))
            .finish()
    }
}

impl Secrets {
    /// Parses a Secrets Manager `SecretString`: a bare token, or the JSON object described in the module docs.
    pub fn parse(raw: &str) -> Result<Self, SecretsError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(SecretsError::Invalid { reason: "the secret is empty".into() });
        }
        if !trimmed.starts_with('{') {
            let token = (trimmed != PLACEHOLDER).then(|| trimmed.to_owned().into());
            return Ok(Secrets { access_token: token, ..Default::default() });
        }
        let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(trimmed).map_err(|_| {
            SecretsError::Invalid { reason: "the secret starts with '{' but is not a JSON object".into() }
        })?;
        let field = |name: &str| -> Result<Option<SecretString>, SecretsError> {
            match json.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                // Blank, or the template's placeholder: never usable as a key an attacker could guess.
                Some(serde_json::Value::String(s)) if s.trim().is_empty() || s.trim() == PLACEHOLDER => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_owned().into())),
                Some(_) => Err(SecretsError::Invalid { reason: format!("the field {name} must be a string") }),
            }
        };
        Ok(Secrets {
            access_token: field("access_token")?,
            client_secret: field("client_secret")?,
            agent_api_key: field("agent_api_key")?,
            agent_webhook_secret: field("agent_webhook_secret")?,
            hub_admin_key: field("hub_admin_key")?,
            ..Default::default()
        })
    }

    fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The local-run variables (`INTERCOM_ACCESS_TOKEN`, `INTERCOM_CLIENT_SECRET`, `AGENT_API_KEY`,
    /// `AGENT_WEBHOOK_SECRET`, `HUB_ADMIN_KEY`) through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var =
            |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).map(SecretString::from);
        Secrets {
            access_token: var("INTERCOM_ACCESS_TOKEN"),
            client_secret: var("INTERCOM_CLIENT_SECRET"),
            agent_api_key: var("AGENT_API_KEY"),
            agent_webhook_secret: var("AGENT_WEBHOOK_SECRET"),
            hub_admin_key: var("HUB_ADMIN_KEY"),
            ..Default::default()
        }
    }

    /// Keeps the previous version's rotatable keys (those that differ from the current ones) until `until`.
    pub fn with_previous_until(mut self, previous: &Secrets, until: SystemTime) -> Self {
        self = self.with_previous(previous);
        self.previous_until = Some(until);
        self
    }

    /// Keeps the previous version's rotatable keys (those that differ from the current ones).
    pub fn with_previous(mut self, previous: &Secrets) -> Self {
        let differs = |current: &Option<SecretString>, old: &Option<SecretString>| match (current, old) {
            (Some(c), Some(o)) if c.expose_secret() == o.expose_secret() => None,
            (_, old) => old.clone(),
        };
        self.previous_agent_api_key = differs(&self.agent_api_key, &previous.agent_api_key);
        self.previous_client_secret = differs(&self.client_secret, &previous.client_secret);
        self
    }

    pub fn access_token(&self) -> Result<&SecretString, SecretsError> {
        self.access_token.as_ref().ok_or(SecretsError::MissingField { field: "access_token" })
    }

    /// The agent API keys accepted now: the current one, then the previous version's inside its grace period.
    pub fn agent_api_keys(&self) -> impl Iterator<Item = &SecretString> {
        let previous = self.previous_agent_api_key.as_ref().filter(|_| self.previous_in_grace());
        self.agent_api_key.iter().chain(previous)
    }

    /// The previous version's client secret, inside its grace period (webhooks signed with it still verify).
    pub fn previous_client_secret(&self) -> Option<&SecretString> {
        self.previous_client_secret.as_ref().filter(|_| self.previous_in_grace())
    }

    fn previous_in_grace(&self) -> bool {
        self.previous_until.is_none_or(|until| SystemTime::now() < until)
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    /// `secret_id` is for the logs only: `Display` (what callers see) names the variable, not the ARN.
    #[error(
        "could not read the secret named by INTERCOM_SECRET_ARN from AWS Secrets Manager ({reason}); check \
         INTERCOM_SECRET_ARN and that the function's role may call secretsmanager:GetSecretValue on it"
    )]
    Fetch { secret_id: String, reason: String },
    #[error("the secret is not usable: {reason}")]
    Invalid { reason: String },
    #[error("the secret has no {field}; add it to the secret's JSON (or set its environment variable locally)")]
    MissingField { field: &'static str },
}

enum Backend {
    /// Given in code (tests, tools): a refresh yields the same values.
    Fixed(Arc<Secrets>),
    Environment,
    SecretsManager {
        secret_id: String,
        client: OnceCell<aws_sdk_secretsmanager::Client>,
    },
}

/// Secrets as last fetched, and until when they are used without asking again.
struct Cached {
    secrets: Arc<Secrets>,
    fresh_until: Instant,
}

pub struct SecretStore {
    backend: Backend,
    ttl: Duration,
    /// How long the previous version's keys are accepted after a rotation.
    grace: Duration,
    /// When a caller last forced a read (an unknown agent key): at most one per [`FORCED_READ_EVERY`].
    forced_at: std::sync::Mutex<Option<Instant>>,
    current: RwLock<Option<Cached>>,
    // Serialises fetches so a burst of first requests (or of 401s) costs one fetch, not many.
    fetching: Mutex<()>,
    fetches: AtomicU64,
}

impl SecretStore {
    pub fn new(source: &TokenSource) -> Self {
        Self::with_ttl(source, DEFAULT_TTL)
    }

    /// Like [`Self::new`], with secrets read again once older than `ttl` (tests use a short one).
    pub fn with_ttl(source: &TokenSource, ttl: Duration) -> Self {
        let backend = match source {
            TokenSource::Environment => Backend::Environment,
            TokenSource::SecretsManager { secret_id } => {
                Backend::SecretsManager { secret_id: secret_id.clone(), client: OnceCell::new() }
            }
        };
        Self::from_backend(backend, ttl, None)
    }

    /// Secrets Manager through a client built from `sdk` (tests point it at moto without touching the
    /// environment), read again once older than `ttl`.
    pub fn secrets_manager(secret_id: &str, sdk: &aws_config::SdkConfig, ttl: Duration) -> Self {
        let client = OnceCell::new_with(Some(secrets_manager_client(sdk)));
        let backend = Backend::SecretsManager { secret_id: secret_id.to_owned(), client };
        Self::from_backend(backend, ttl, None)
    }

    /// Fixed secrets, for tests and tools: never expire.
    pub fn fixed(secrets: Secrets) -> Self {
        let secrets = Arc::new(secrets);
        let cached = Cached { secrets: secrets.clone(), fresh_until: far_future() };
        Self::from_backend(Backend::Fixed(secrets), Duration::MAX, Some(cached))
    }

    fn from_backend(backend: Backend, ttl: Duration, current: Option<Cached>) -> Self {
        SecretStore {
            backend,
            ttl,
            grace: DEFAULT_ROTATION_GRACE,
            forced_at: std::sync::Mutex::new(None),
            current: RwLock::new(current),
            fetching: Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// Accepts the previous version's keys for `grace` after a rotation (`ROTATION_GRACE_HOURS`), never after.
    pub fn with_rotation_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Reads the secret again now unless someone forced a read less than [`FORCED_READ_EVERY`] ago (an agent
    /// key nobody knows may be a new one: it works at once, and a flood of wrong keys costs one read per period).
    pub async fn refresh_if_due(&self, stale: &Arc<Secrets>) -> Option<Arc<Secrets>> {
        {
            let mut forced = self.forced_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if forced.is_some_and(|at| at.elapsed() < FORCED_READ_EVERY) {
                return None;
            }
            *forced = Some(Instant::now());
        }
        self.refresh(stale).await.ok()
    }

    /// How many times the backend was read (each a GetSecretValue of the current and previous versions).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The cached secrets, fetched on first use and again once older than the TTL.
    pub async fn get(&self) -> Result<Arc<Secrets>, SecretsError> {
        if let Some(fresh) = self.fresh().await {
            return Ok(fresh);
        }
        let _guard = self.fetching.lock().await;
        if let Some(fresh) = self.fresh().await {
            return Ok(fresh);
        }
        self.fetch_and_store().await
    }

    /// Called after Intercom rejected `stale`: fetches again unless another caller already replaced it.
    pub async fn refresh(&self, stale: &Arc<Secrets>) -> Result<Arc<Secrets>, SecretsError> {
        let _guard = self.fetching.lock().await;
        if let Some(cached) = self.current.read().await.as_ref()
            && !Arc::ptr_eq(&cached.secrets, stale)
        {
            return Ok(cached.secrets.clone());
        }
        self.fetch_and_store().await
    }

    async fn fresh(&self) -> Option<Arc<Secrets>> {
        let current = self.current.read().await;
        current.as_ref().filter(|c| Instant::now() < c.fresh_until).map(|c| c.secrets.clone())
    }

    async fn fetch_and_store(&self) -> Result<Arc<Secrets>, SecretsError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = match &self.backend {
            Backend::Fixed(secrets) => Ok(Secrets::clone(secrets)),
            Backend::Environment => Ok(Secrets::from_env()),
            Backend::SecretsManager { secret_id, client } => {
                let client = client.get_or_init(|| async { secrets_manager_client(&aws_sdk_config().await) }).await;
                within_deadline(secret_id, fetch_current_and_previous(client, secret_id, self.grace)).await
            }
        };
        let mut current = self.current.write().await;
        match fetched {
            Ok(secrets) => {
                let secrets = Arc::new(secrets);
                *current = Some(Cached { secrets: secrets.clone(), fresh_until: later(self.ttl) });
                tracing::info!(secrets = ?secrets, "secrets loaded");
                Ok(secrets)
            }
            // A Secrets Manager outage must not take down a warm container: its last good secrets serve on.
            Err(e) if current.is_some() => {
                let Some(cached) = current.as_mut() else { return Err(e) };
                cached.fresh_until = later(STALE_GRACE);
                tracing::warn!(error = %e, grace_s = STALE_GRACE.as_secs(), "reading the secret again failed; using the last one read");
                Ok(cached.secrets.clone())
            }
            Err(e) => Err(e),
        }
    }
}

fn far_future() -> Instant {
    later(Duration::from_secs(100 * 365 * 24 * 3600))
}

/// `now + d`, saturating where `Instant` cannot go (a huge TTL means "never expire").
fn later(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600))).unwrap_or(now)
}

/// Bounds a Secrets Manager read by the invocation's deadline (less a margin to answer in).
async fn within_deadline<F>(secret_id: &str, fetch: F) -> Result<Secrets, SecretsError>
where
    F: std::future::Future<Output = Result<Secrets, SecretsError>>,
{
    let left = deadline::remaining().saturating_sub(DEADLINE_MARGIN);
    match tokio::time::timeout(left, fetch).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(secret_id, left_ms = left.as_millis() as u64, "Secrets Manager did not answer in time");
            Err(SecretsError::Fetch {
                secret_id: secret_id.to_owned(),
                reason: "it did not answer before the invocation's time ran out".into(),
            })
        }
    }
}

/// The AWS SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`), with an HTTPS
/// client on rustls + ring: the TLS stack the Intercom client already uses, so the binary carries one.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http_client =
        aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client).load().await
}

/// A Secrets Manager client whose calls give up after [`FETCH_TIMEOUT`] (the SDK's default is to wait on).
fn secrets_manager_client(sdk: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(FETCH_TIMEOUT)
        .operation_timeout(FETCH_TIMEOUT)
        .build();
    let config = aws_sdk_secretsmanager::config::Builder::from(sdk).timeout_config(timeouts).build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// The current version, with the previous version's keys when a rotation left one (`AWSPREVIOUS`).
async fn fetch_current_and_previous(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    grace: Duration,
) -> Result<Secrets, SecretsError> {
    let (current, previous) = tokio::join!(
        fetch_secret_string(client, secret_id, None),
        fetch_secret_string(client, secret_id, Some(PREVIOUS_STAGE))
    );
    let (current, rotated_at) = current?;
    let current = Secrets::parse(current.expose_secret())?;
    // The current version's creation is the rotation: the previous keys count from then, not from this read.
    let until = rotated_at.unwrap_or_else(SystemTime::now) + grace;
    // The previous version only widens what is accepted; failing to read it never fails the request.
    let previous = match previous {
        Ok((raw, _)) => Secrets::parse(raw.expose_secret()).ok(),
        Err(SecretsError::Fetch { reason, .. }) if reason == "ResourceNotFoundException" => None,
        Err(e) => {
            tracing::warn!(secret_id, error = %e, "the secret's previous version could not be read; only the current one is accepted");
            None
        }
    };
    Ok(match previous {
        Some(previous) => current.with_previous_until(&previous, until),
        None => current,
    })
}

async fn fetch_secret_string(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    stage: Option<&str>,
) -> Result<(SecretString, Option<SystemTime>), SecretsError> {
    use aws_sdk_secretsmanager::error::SdkError;
    let fetch_error = |reason: String| SecretsError::Fetch { secret_id: secret_id.to_owned(), reason };
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .set_version_stage(stage.map(str::to_owned))
        .send()
        .await
        .map_err(|e| {
            // The SDK's Display is just "service error"; the code (AccessDeniedException, …) is what helps.
            let reason = match &e {
                SdkError::ServiceError(service) => {
                    aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(service.err())
                        .unwrap_or("service error")
                        .to_owned()
                }
                SdkError::TimeoutError(_) => format!("no answer within {} s", FETCH_TIMEOUT.as_secs()),
                SdkError::DispatchFailure(_) => "could not connect".to_owned(),
                SdkError::ResponseError(_) => "unreadable answer".to_owned(),
                _ => "the request could not be built".to_owned(),
            };
            if stage.is_none() {
                // The ARN helps the operator; it stays in the logs, out of any response body.
                tracing::warn!(secret_id, reason, "GetSecretValue failed");
            }
            fetch_error(reason)
        })?;
    let created = output.created_date().and_then(|d| SystemTime::try_from(*d).ok());
    let value = output
        .secret_string()
        .map(|s| SecretString::from(s.to_owned()))
        .ok_or_else(|| fetch_error("the secret has no SecretString (binary secrets are not supported)".into()))?;
    Ok((value, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_string_is_the_access_token() {
        let s = Secrets::parse("  tok_123 \n").unwrap();
        assert_eq!(s.access_token().unwrap().expose_secret(), "tok_123");
        assert!(s.client_secret.is_none());
    }

    #[test]
    fn json_secrets_carry_every_field() {
        let s = Secrets::parse(
            r#"{"access_token":"tok","client_secret":"cs","agent_api_key":"key","agent_webhook_secret":"aws"}"#,
        )
        .unwrap();
        assert_eq!(s.access_token().unwrap().expose_secret(), "tok");
        assert_eq!(s.client_secret.unwrap().expose_secret(), "cs");
        assert_eq!(s.agent_api_key.unwrap().expose_secret(), "key");
        assert_eq!(s.agent_webhook_secret.unwrap().expose_secret(), "aws");
    }

    #[test]
    fn json_without_a_token_says_which_field_is_missing() {
        let s = Secrets::parse(r#"{"client_secret":"cs"}"#).unwrap();
        let err = s.access_token().unwrap_err();
        assert_eq!(err, SecretsError::MissingField { field: "access_token" });
        assert!(err.to_string().contains("access_token"));
    }

    #[test]
    fn the_templates_placeholder_counts_as_absent() {
        let s = Secrets::parse(r#"{"access_token":"REPLACE_ME","client_secret":" REPLACE_ME ","agent_api_key":"k"}"#)
            .unwrap();
        assert_eq!(s.access_token().unwrap_err(), SecretsError::MissingField { field: "access_token" });
        assert!(s.client_secret.is_none());
        assert!(s.agent_api_key.is_some());
    }

    #[test]
    fn broken_secrets_are_rejected_without_echoing_them() {
        let err = Secrets::parse("{not json tok_secret").unwrap_err();
        assert!(!err.to_string().contains("tok_secret"));
        assert!(Secrets::parse("").is_err());
        assert!(matches!(Secrets::parse(r#"{"access_token": 5}"#), Err(SecretsError::Invalid { .. })));
    }

    #[test]
    fn debug_redacts_every_value() {
        let s = Secrets::parse(r#"{"access_token":"tok_visible","client_secret":"cs_visible"}"#).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("visible"), "{shown}");
        assert!(shown.contains("[REDACTED]") && shown.contains("<absent>"));
    }

    #[test]
    fn the_previous_version_adds_only_keys_that_changed() {
        let current = Secrets::parse(r#"{"access_token":"t2","client_secret":"cs","agent_api_key":"k2"}"#).unwrap();
        let previous = Secrets::parse(r#"{"access_token":"t1","client_secret":"cs","agent_api_key":"k1"}"#).unwrap();
        let merged = current.with_previous(&previous);
        let keys: Vec<&str> = merged.agent_api_keys().map(|k| k.expose_secret()).collect();
        assert_eq!(keys, ["k2", "k1"]);
        assert!(merged.previous_client_secret.is_none(), "an unchanged client secret is not listed twice");
        assert!(!format!("{merged:?}").contains("k1"));
    }

    #[test]
    fn previous_keys_are_accepted_inside_the_grace_period_only() {
        let current = Secrets::parse(r#"{"access_token":"t","client_secret":"cs2","agent_api_key":"k2"}"#).unwrap();
        let previous = Secrets::parse(r#"{"access_token":"t","client_secret":"cs1","agent_api_key":"k1"}"#).unwrap();
        let inside = current.clone().with_previous_until(&previous, SystemTime::now() + Duration::from_secs(60));
        assert_eq!(inside.agent_api_keys().map(|k| k.expose_secret()).collect::<Vec<_>>(), ["k2", "k1"]);
        assert_eq!(inside.previous_client_secret().map(|k| k.expose_secret()), Some("cs1"));
        let after = current.with_previous_until(&previous, SystemTime::now() - Duration::from_secs(1));
        assert_eq!(after.agent_api_keys().map(|k| k.expose_secret()).collect::<Vec<_>>(), ["k2"]);
        assert_eq!(after.previous_client_secret().map(|k| k.expose_secret()), None);
    }

    #[tokio::test]
    async fn forced_reads_are_rate_limited() {
        let store = SecretStore::fixed(Secrets::parse("one").unwrap());
        let stale = store.get().await.unwrap();
        assert!(store.refresh_if_due(&stale).await.is_some());
        assert!(store.refresh_if_due(&stale).await.is_none(), "a second forced read within the period is skipped");
    }

    #[test]
    fn a_huge_ttl_saturates_instead_of_overflowing() {
        assert!(later(Duration::MAX) > Instant::now());
        let store = SecretStore::with_ttl(&TokenSource::Environment, Duration::MAX);
        assert_eq!(store.ttl, Duration::MAX);
    }

    #[tokio::test]
    async fn refresh_after_someone_else_refreshed_reuses_their_fetch() {
        let store = SecretStore::fixed(Secrets::parse("one").unwrap());
        let first = store.get().await.unwrap();
        let second = store.get().await.unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(store.fetch_count(), 0);
    }
}
