//! The agent's credentials: with `AGENT_AUTH=API_KEY` every request carries the agent API key as a bearer token;
//! with `AWS_IAM` the function URL already checked the caller.

use std::sync::Arc;

use lambda_http::http::HeaderMap;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::AgentAuth;
use crate::http::error::ActionError;
use crate::secrets::SecretStore;

/// Checks the agent's credentials when `AGENT_AUTH=API_KEY`; with `AWS_IAM` the function URL already did.
#[derive(Clone)]
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

    pub fn check<'a>(&'a self, headers: &'a HeaderMap) -> impl Future<Output = Result<(), ActionError>> + 'a {
        self.check_as(headers, self.mode)
    }

    /// Checks as `mode` says (the MCP endpoint always wants the key, whatever the deployment's `AGENT_AUTH`). A key
    /// nobody knows makes the secret be read again at once (at most once per 10 s per container), so a key just
    /// rotated in works on its first call instead of after the cache's five minutes.
    pub async fn check_as(&self, headers: &HeaderMap, mode: AgentAuth) -> Result<(), ActionError> {
        if mode == AgentAuth::AwsIam {
            return Ok(());
        }
        let presented = crate::workspace::keys::bearer(headers);
        let secrets = self.secrets.get().await?;
        if secrets.agent_api_key.is_none() {
            return Err(ActionError::Unavailable {
                message: "AGENT_AUTH=API_KEY but the secret has no agent_api_key; add it to the secret".into(),
            });
        }
        if accepted(presented, &secrets) {
            return Ok(());
        }
        match self.secrets.refresh_if_due(&secrets).await {
            Some(fresh) if accepted(presented, &fresh) => Ok(()),
            _ => Err(ActionError::Unauthenticated),
        }
    }
}

/// Whether `presented` is one of the keys accepted now. Comparing digests keeps the comparison constant-time
/// whatever the lengths; every key is compared, so the time taken does not tell which one matched.
fn accepted(presented: &str, secrets: &crate::secrets::Secrets) -> bool {
    let presented_digest = Sha256::digest(presented.as_bytes());
    let same = secrets.agent_api_keys().fold(subtle::Choice::from(0), |any, expected| {
        any | presented_digest.ct_eq(&Sha256::digest(expected.expose_secret().as_bytes()))
    });
    !presented.is_empty() && bool::from(same)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::header;

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
