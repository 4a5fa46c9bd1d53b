//! Building a container's [`Workspaces`] from the environment, once, in `main`: every error says what to set.

use std::collections::HashMap;
use std::sync::Arc;

use url::Url;

use super::directory::DirectoryError;
use super::directory::dynamodb::DynamoDirectory;
use super::resolve::{Deployment, Workspace, Workspaces};
use super::seal::{KmsSealer, SealError};
use super::{Tenancy, TenancyError};
use crate::config::{Config, ConfigError, TokenSource};
use crate::escalation::{EscalationSettings, SettingsError};
use crate::handoff::{HandoffSettings, HandoffSettingsError};
use crate::http::AgentGuard;
use crate::intercom::IntercomClient;
use crate::secrets::{SecretStore, Secrets};
use crate::store::{Store, StoreError};

/// Why a cold start failed; `Display` says what to set.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Tenancy(#[from] TenancyError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Handoff(#[from] HandoffSettingsError),
    #[error(transparent)]
    Escalation(#[from] SettingsError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("the HTTP client for Intercom could not be built ({0}); the function cannot reach Intercom")]
    Http(String),
}

/// The container's workspaces from the process environment, on the deployment's store (`IDEMPOTENCY_TABLE`).
pub fn from_env() -> Result<Workspaces, BuildError> {
    let store = crate::store::from_env()?;
    from_vars(std::env::vars().collect(), store)
}

/// The workspaces of a deployment whose variables are `env` (tests pass their own map and store).
pub fn from_vars(env: HashMap<String, String>, store: Arc<dyn Store>) -> Result<Workspaces, BuildError> {
    let lookup = |name: &str| env.get(name).cloned();
    let tenancy = Tenancy::from_lookup(lookup)?;
    let config = Config::from_lookup(lookup)?;
    let http = crate::intercom::client::http_client().map_err(|e| BuildError::Http(e.to_string()))?;
    let grace = std::time::Duration::from_secs(super::rotation_grace_from_lookup(lookup)?);
    let secrets = match &config.token_source {
        // The variables this deployment was given (a process's environment does not change while it runs).
        TokenSource::Environment => SecretStore::fixed(Secrets::from_lookup(lookup)),
        source => SecretStore::new(source),
    };
    let secrets = Arc::new(secrets.with_rotation_grace(grace));
    let guard = AgentGuard::new(config.agent_auth, secrets.clone());
    let deployment =
        Deployment::new(tenancy, config.agent_auth, http.clone(), store.clone(), secrets.clone(), env.clone())?;
    tracing::info!(tenancy = ?tenancy, api_base = %config.api_base, api_version = %config.api_version, token_source = ?config.token_source, agent_auth = ?config.agent_auth, "configured");
    match tenancy {
        Tenancy::Single => {
            let intercom = IntercomClient::with_http(
                http,
                config.api_base.clone(),
                &config.api_version,
                secrets.clone(),
                config.admin_id.clone(),
                deployment.retry.clone(),
            );
            let handoff = HandoffSettings::from_lookup(lookup)?;
            let escalation = EscalationSettings::from_lookup(lookup)?;
            let agent_url = lookup("AGENT_WEBHOOK_URL").and_then(|u| Url::parse(u.trim()).ok());
            let workspace = Workspace::new(None, Arc::new(intercom), secrets, store, handoff, escalation, agent_url);
            Ok(Workspaces::single(Arc::new(deployment), workspace, guard))
        }
        Tenancy::Hub => {
            // Checked now, so a deployment that cannot work fails its cold start, not its first customer.
            HandoffSettings::from_lookup(lookup)?;
            EscalationSettings::from_lookup(lookup)?;
            let directory = Arc::new(DynamoDirectory::from_lookup(lookup)?);
            let sealer = Arc::new(KmsSealer::from_lookup(lookup)?);
            Ok(Workspaces::hub(Arc::new(deployment), directory, sealer))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    fn build(vars: &[(&str, &str)]) -> Result<Workspaces, BuildError> {
        let env = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        from_vars(env, Arc::new(MemoryStore::new()))
    }

    #[test]
    fn single_mode_is_the_default_and_needs_a_token() {
        let single = build(&[("INTERCOM_ACCESS_TOKEN", "t")]).unwrap();
        assert_eq!(single.tenancy(), Tenancy::Single);
        assert!(single.the_single().is_some());
        assert!(matches!(build(&[]), Err(BuildError::Config(ConfigError::NoTokenSource))));
    }

    #[test]
    fn hub_mode_needs_its_table_and_key_but_no_token() {
        let err = build(&[("TENANCY", "hub")]).unwrap_err().to_string();
        assert!(err.contains("WORKSPACES_TABLE is not set"), "{err}");
        let err = build(&[("TENANCY", "hub"), ("WORKSPACES_TABLE", "w")]).unwrap_err().to_string();
        assert!(err.contains("WORKSPACE_KMS_KEY is not set"), "{err}");
        let hub = build(&[("TENANCY", "hub"), ("WORKSPACES_TABLE", "w"), ("WORKSPACE_KMS_KEY", "alias/k")]).unwrap();
        assert_eq!(hub.tenancy(), Tenancy::Hub);
        assert!(hub.the_single().is_none());
        let err = build(&[("TENANCY", "many")]).unwrap_err().to_string();
        assert!(err.contains("use single (default) or hub"), "{err}");
    }
}
