//! The agent's credentials: with `AGENT_AUTH=API_KEY` every request carries the agent API key as a bearer token;
//! with `AWS_IAM` the function URL already checked the caller.

use std::sync::Arc;

use lambda_http::http::{HeaderMap, header};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::AgentAuth;
use crate::http::error::ActionError;
use crate::secrets::SecretStore;

/// Checks the agent's credentials when `AGENT_AUTH=API_KEY`; with `AWS_IAM` the function URL already did.
pub struct AgentGuard {
    mode: AgentAuth,
    secrets: Arc<SecretStore>,
}

impl AgentGuard {
    pub fn new(mode: AgentAuth, secrets: Arc<SecretStore>) -> Self {
        AgentGuard { mode, secrets }
    }

    /// No application-level check (IAM mode), for handler tests.
    pub fn iam() -> Self {
        AgentGuard { mode: AgentAuth::AwsIam, secrets: Arc::new(SecretStore::fixed(Default::default())) }
    }

    pub async fn check(&self, headers: &HeaderMap) -> Result<(), ActionError> {
        if self.mode == AgentAuth::AwsIam {
            return Ok(());
        }
        let secrets = self.secrets.get().await?;
        if secrets.agent_api_key.is_none() {
            return Err(ActionError::Unavailable {
                message: "AGENT_AUTH=API_KEY but the secret has no agent_api_key; add it to the secret".into(),
            });
        }
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .unwrap_or_default();
        // Comparing digests keeps the comparison constant-time whatever the lengths; every key is compared, so
        // the time taken does not tell which one matched. During a rotation the previous key is one of them.
        let presented_digest = Sha256::digest(presented.as_bytes());
        let same = secrets.agent_api_keys().fold(subtle::Choice::from(0), |any, expected| {
            any | presented_digest.ct_eq(&Sha256::digest(expected.expose_secret().as_bytes()))
        });
        if presented.is_empty() || !bool::from(same) {
            return Err(ActionError::Unauthenticated);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn api_key_mode_needs_the_right_bearer_key() {
        let secrets = crate::secrets::Secrets::parse(r#"{"access_token":"t","agent_api_key":"k-123"}"#).unwrap();
        let guard = AgentGuard::new(AgentAuth::ApiKey, Arc::new(SecretStore::fixed(secrets)));
        let mut headers = HeaderMap::new();
        assert_eq!(guard.check(&headers).await, Err(ActionError::Unauthenticated));
        headers.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Err(ActionError::Unauthenticated));
        headers.insert(header::AUTHORIZATION, "Bearer k-123".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Ok(()));

        // During a rotation the previous version's key is still accepted, beside the new one.
        let mut rotating = crate::secrets::Secrets::parse(r#"{"access_token":"t","agent_api_key":"k-456"}"#).unwrap();
        rotating.previous_agent_api_key = Some("k-123".to_owned().into());
        let guard = AgentGuard::new(AgentAuth::ApiKey, Arc::new(SecretStore::fixed(rotating)));
        assert_eq!(guard.check(&headers).await, Ok(()));
        headers.insert(header::AUTHORIZATION, "Bearer k-456".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Ok(()));
        headers.insert(header::AUTHORIZATION, "Bearer k-789".parse().unwrap());
        assert_eq!(guard.check(&headers).await, Err(ActionError::Unauthenticated));

        let keyless = AgentGuard::new(
            AgentAuth::ApiKey,
            Arc::new(SecretStore::fixed(crate::secrets::Secrets::parse("t").unwrap())),
        );
        assert!(matches!(keyless.check(&headers).await, Err(ActionError::Unavailable { .. })));
    }
}
