//! What every agent-action Lambda builds once per container in `main`.

use std::sync::Arc;

use crate::auth::AgentGuard;
use crate::config::{Config, ConfigError};
use crate::intercom::IntercomClient;
use crate::secrets::SecretStore;
use crate::store::{Store, StoreError};

/// Why a cold start failed; `Display` says what to set.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct App {
    pub config: Config,
    pub intercom: IntercomClient,
    pub guard: AgentGuard,
    /// Idempotency records (DynamoDB; its client is built on first use).
    pub store: Arc<dyn Store>,
}

impl App {
    /// Reads the configuration; nothing is fetched yet (the secret is loaded on the first request).
    pub fn from_env() -> Result<Self, AppError> {
        Self::from_config(Config::from_env()?)
    }

    /// Builds the clients for `config` (the MCP function forces `AgentAuth::ApiKey` on it first).
    pub fn from_config(config: Config) -> Result<Self, AppError> {
        let store = crate::store::from_env()?;
        let secrets = Arc::new(SecretStore::new(&config.token_source));
        let intercom = IntercomClient::new(&config, secrets.clone());
        let guard = AgentGuard::new(config.agent_auth, secrets);
        tracing::info!(api_base = %config.api_base, api_version = %config.api_version, token_source = ?config.token_source, agent_auth = ?config.agent_auth, "configured");
        Ok(App { config, intercom, guard, store })
    }
}

/// Structured logs: JSON when Lambda's `AWS_LAMBDA_LOG_FORMAT=JSON`, level from `RUST_LOG` or
/// `AWS_LAMBDA_LOG_LEVEL` (default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| {
            tracing_subscriber::EnvFilter::try_new(
                std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_default().to_lowercase(),
            )
        })
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The MCP SDK logs every request (with the client's details) at info; keep it at warn unless asked for.
    let filter = match "rmcp=warn".parse() {
        Ok(quiet) if !filter.to_string().contains("rmcp") => filter.add_directive(quiet),
        _ => filter,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).without_time();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = if json { builder.json().try_init() } else { builder.with_ansi(false).try_init() };
}
