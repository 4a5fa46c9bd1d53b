//! Credentials at rest: sealed with AWS KMS, bound to their workspace.
//!
//! Each workspace's credentials (a few hundred bytes of JSON) are encrypted with one KMS call under the
//! deployment's key (`WORKSPACE_KMS_KEY`), with the workspace id as the encryption context: KMS refuses to open a
//! ciphertext under another workspace's id, so a record copied onto another workspace's item is useless. Under
//! KMS's 4 KiB limit a data key would add a second cipher and a key per item without adding safety (see the
//! README's "Credentials at rest" for the comparison with one Secrets Manager secret per workspace).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use tokio::sync::OnceCell;

use super::WorkspaceId;

/// The variable naming the KMS key (id, ARN or alias) that seals workspace credentials.
pub const KMS_KEY_VAR: &str = "WORKSPACE_KMS_KEY";
/// The encryption context's key.
pub const CONTEXT_KEY: &str = "workspaceId";
/// One KMS call, retry included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);

/// Why sealing or opening failed. `Display` is safe to answer: no key ARN, no ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "the credentials could not be sealed or opened with KMS ({reason}); check WORKSPACE_KMS_KEY and the function's kms:Encrypt/kms:Decrypt permission"
    )]
    Unavailable { reason: String },
    #[error("a workspace's sealed credentials do not open under its id (tampered or copied from another workspace)")]
    Tampered,
    #[error("WORKSPACE_KMS_KEY is not set; hub mode needs the KMS key that seals workspace credentials")]
    NotConfigured,
}

/// Seals and opens a workspace's credentials, bound to its id.
#[async_trait]
pub trait Sealer: Send + Sync {
    async fn seal(&self, workspace: &WorkspaceId, plaintext: &[u8]) -> Result<Vec<u8>, SealError>;
    async fn open(&self, workspace: &WorkspaceId, sealed: &[u8]) -> Result<Vec<u8>, SealError>;
}

/// AWS KMS, the client built on first use (nothing on the cold start's path).
pub struct KmsSealer {
    key_id: String,
    client: OnceCell<aws_sdk_kms::Client>,
    sdk: Option<aws_config::SdkConfig>,
}

impl KmsSealer {
    /// The key named by `WORKSPACE_KMS_KEY`, with the deployment's AWS configuration.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SealError> {
        let key_id = lookup(KMS_KEY_VAR).map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
        Ok(KmsSealer { key_id: key_id.ok_or(SealError::NotConfigured)?, client: OnceCell::new(), sdk: None })
    }

    /// A sealer on `key_id` through the given SDK configuration (tests point it at moto).
    pub fn with_sdk(key_id: impl Into<String>, sdk: aws_config::SdkConfig) -> Self {
        KmsSealer { key_id: key_id.into(), client: OnceCell::new(), sdk: Some(sdk) }
    }

    async fn client(&self) -> &aws_sdk_kms::Client {
        self.client
            .get_or_init(|| async {
                let sdk = match &self.sdk {
                    Some(sdk) => sdk.clone(),
                    None => crate::secrets::aws_sdk_config().await,
                };
                let timeouts = aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build();
                aws_sdk_kms::Client::from_conf(
                    aws_sdk_kms::config::Builder::from(&sdk).timeout_config(timeouts).build(),
                )
            })
            .await
    }
}

#[async_trait]
impl Sealer for KmsSealer {
    async fn seal(&self, workspace: &WorkspaceId, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let output = self
            .client()
            .await
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext))
            .encryption_context(CONTEXT_KEY, workspace.as_str())
            .send()
            .await
            .map_err(|e| kms_error("Encrypt", e))?;
        output.ciphertext_blob.map(Blob::into_inner).ok_or(SealError::Unavailable { reason: "no ciphertext".into() })
    }

    async fn open(&self, workspace: &WorkspaceId, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let output = self
            .client()
            .await
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(sealed))
            .encryption_context(CONTEXT_KEY, workspace.as_str())
            .send()
            .await
            .map_err(|e| kms_error("Decrypt", e))?;
        output.plaintext.map(Blob::into_inner).ok_or(SealError::Unavailable { reason: "no plaintext".into() })
    }
}

fn kms_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    operation: &str,
    e: SdkError<E, R>,
) -> SealError {
    let code = match &e {
        SdkError::ServiceError(service) => service.err().code().unwrap_or("service error").to_owned(),
        SdkError::TimeoutError(_) => "no answer in time".to_owned(),
        SdkError::DispatchFailure(_) => "could not connect".to_owned(),
        _ => "unreadable answer".to_owned(),
    };
    tracing::warn!(operation, reason = %code, "KMS call failed");
    if code == "InvalidCiphertextException" {
        SealError::Tampered
    } else {
        SealError::Unavailable { reason: format!("{operation}: {code}") }
    }
}

/// An in-memory sealer for tests: not encryption, but it binds each blob to its workspace exactly as KMS does.
#[derive(Debug, Default)]
pub struct MemorySealer;

#[async_trait]
impl Sealer for MemorySealer {
    async fn seal(&self, workspace: &WorkspaceId, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut sealed = format!("{}\n", workspace.as_str()).into_bytes();
        sealed.extend(plaintext.iter().map(|b| b ^ 0x5a));
        Ok(sealed)
    }

    async fn open(&self, workspace: &WorkspaceId, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let prefix = format!("{}\n", workspace.as_str());
        let body = sealed.strip_prefix(prefix.as_bytes()).ok_or(SealError::Tampered)?;
        Ok(body.iter().map(|b| b ^ 0x5a).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sealed_blob_opens_only_under_its_own_workspace() {
        let (a, b) = (WorkspaceId::parse("aaa").unwrap(), WorkspaceId::parse("bbb").unwrap());
        let sealed = MemorySealer.seal(&a, b"secret").await.unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(MemorySealer.open(&a, &sealed).await.unwrap(), b"secret");
        assert_eq!(MemorySealer.open(&b, &sealed).await.unwrap_err(), SealError::Tampered);
    }

    #[test]
    fn the_key_must_be_configured() {
        assert!(matches!(KmsSealer::from_lookup(|_| None), Err(SealError::NotConfigured)));
        assert!(KmsSealer::from_lookup(|_| Some("alias/x".into())).is_ok());
    }
}
