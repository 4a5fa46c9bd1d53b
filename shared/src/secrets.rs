//! The secrets every function needs, loaded on first use and cached for the container's life.
//!
//! Deployed, they live in one AWS Secrets Manager secret: either the bare Intercom access token, or JSON
//! `{"access_token": …, "client_secret": …, "agent_api_key": …, "agent_webhook_secret": …}`. Locally they come
//! from `INTERCOM_ACCESS_TOKEN`, `INTERCOM_CLIENT_SECRET`, `AGENT_API_KEY` and `AGENT_WEBHOOK_SECRET`.
//! When Intercom rejects the token (401) the caller asks for [`SecretStore::refresh`] once: a rotated secret is
//! picked up without a restart, and concurrent callers share that one extra fetch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Mutex, OnceCell, RwLock};

use crate::config::TokenSource;

/// One snapshot of the secret's fields. `Debug` shows which fields are present, never their values.
/// The value `template.yaml` puts in a secret it creates, until the operator writes the real one.
pub const PLACEHOLDER: &str = "REPLACE_ME";

#[derive(Clone, Default)]
pub struct Secrets {
    pub access_token: Option<SecretString>,
    pub client_secret: Option<SecretString>,
    pub agent_api_key: Option<SecretString>,
    pub agent_webhook_secret: Option<SecretString>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |s: &Option<SecretString>| if s.is_some() { "[REDACTED]" } else { "<absent>" };
        f.debug_struct("Secrets")
            .field("access_token", &shown(&self.access_token))
            .field("client_secret", &shown(&self.client_secret))
            .field("agent_api_key", &shown(&self.agent_api_key))
            .field("agent_webhook_secret", &shown(&self.agent_webhook_secret))
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
        })
    }

    fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).map(SecretString::from)
        };
        Secrets {
            access_token: var("INTERCOM_ACCESS_TOKEN"),
            client_secret: var("INTERCOM_CLIENT_SECRET"),
            agent_api_key: var("AGENT_API_KEY"),
            agent_webhook_secret: var("AGENT_WEBHOOK_SECRET"),
        }
    }

    pub fn access_token(&self) -> Result<&SecretString, SecretsError> {
        self.access_token.as_ref().ok_or(SecretsError::MissingField { field: "access_token" })
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    #[error(
        "could not read the secret {secret_id} from AWS Secrets Manager ({reason}); check INTERCOM_SECRET_ARN \
         and that the function's role may call secretsmanager:GetSecretValue on it"
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

pub struct SecretStore {
    backend: Backend,
    current: RwLock<Option<Arc<Secrets>>>,
    // Serialises fetches so a burst of first requests (or of 401s) costs one GetSecretValue, not many.
    fetching: Mutex<()>,
    fetches: AtomicU64,
}

impl SecretStore {
    pub fn new(source: &TokenSource) -> Self {
        let backend = match source {
            TokenSource::Environment => Backend::Environment,
            TokenSource::SecretsManager { secret_id } => {
                Backend::SecretsManager { secret_id: secret_id.clone(), client: OnceCell::new() }
            }
        };
        SecretStore { backend, current: RwLock::new(None), fetching: Mutex::new(()), fetches: AtomicU64::new(0) }
    }

    /// Fixed secrets, for tests and tools.
    pub fn fixed(secrets: Secrets) -> Self {
        let secrets = Arc::new(secrets);
        SecretStore {
            backend: Backend::Fixed(secrets.clone()),
            current: RwLock::new(Some(secrets)),
            fetching: Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times the backend was asked (GetSecretValue calls, when deployed).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The cached secrets, fetched on first use.
    pub async fn get(&self) -> Result<Arc<Secrets>, SecretsError> {
        if let Some(current) = self.current.read().await.as_ref() {
            return Ok(current.clone());
        }
        let _guard = self.fetching.lock().await;
        if let Some(current) = self.current.read().await.as_ref() {
            return Ok(current.clone());
        }
        self.fetch_and_store().await
    }

    /// Called after Intercom rejected `stale`: fetches again unless another caller already replaced it.
    pub async fn refresh(&self, stale: &Arc<Secrets>) -> Result<Arc<Secrets>, SecretsError> {
        let _guard = self.fetching.lock().await;
        if let Some(current) = self.current.read().await.as_ref() {
            if !Arc::ptr_eq(current, stale) {
                return Ok(current.clone());
            }
        }
        self.fetch_and_store().await
    }

    async fn fetch_and_store(&self) -> Result<Arc<Secrets>, SecretsError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let secrets = Arc::new(match &self.backend {
            Backend::Fixed(secrets) => Secrets::clone(secrets),
            Backend::Environment => Secrets::from_env(),
            Backend::SecretsManager { secret_id, client } => {
                let client =
                    client.get_or_init(|| async { aws_sdk_secretsmanager::Client::new(&aws_sdk_config().await) }).await;
                let raw = fetch_secret_string(client, secret_id).await?;
                Secrets::parse(raw.expose_secret())?
            }
        });
        *self.current.write().await = Some(secrets.clone());
        tracing::info!(secrets = ?secrets, "secrets loaded");
        Ok(secrets)
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

async fn fetch_secret_string(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<SecretString, SecretsError> {
    let fetch_error = |reason: String| SecretsError::Fetch { secret_id: secret_id.to_owned(), reason };
    let output = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        // The SDK's Display is just "service error"; the code (AccessDeniedException, …) is what helps.
        let reason = match e.as_service_error() {
            Some(service) => {
                aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(service).unwrap_or("service error").to_owned()
            }
            None => e.to_string(),
        };
        fetch_error(reason)
    })?;
    output
        .secret_string()
        .map(|s| SecretString::from(s.to_owned()))
        .ok_or_else(|| fetch_error("the secret has no SecretString (binary secrets are not supported)".into()))
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

    #[tokio::test]
    async fn refresh_after_someone_else_refreshed_reuses_their_fetch() {
        let store = SecretStore::fixed(Secrets::parse("one").unwrap());
        let first = store.get().await.unwrap();
        let second = store.get().await.unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(store.fetch_count(), 0);
    }
}
