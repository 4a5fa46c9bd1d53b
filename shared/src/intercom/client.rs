//! The HTTP transport: authentication, `Intercom-Version`, retries within the invocation deadline.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode, header::HeaderMap};
use secrecy::ExposeSecret;
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use super::error::IntercomError;
use super::models::{Tag, Team, Teammate};
use crate::config::Config;
use crate::deadline;
use crate::secrets::SecretStore;

/// Whether a request may be sent again after it may have reached Intercom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, and writes that set a state (repeating them changes nothing): retried on 5xx and timeouts.
    Idempotent,
    /// Writes that add something (a conversation, a reply): repeated only when Intercom surely did not
    /// process them — a refused connection, a 401 (then a fresh token) or a 429.
    Once,
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Longest a single attempt may take, deadline permitting.
    pub attempt_timeout: Duration,
    /// Kept free at the end of the invocation to build and send the answer.
    pub deadline_margin: Duration,
    /// A write that cannot be repeated is not started with less time than this left: cut short, its outcome
    /// would be unknown.
    pub min_write_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(10),
            deadline_margin: Duration::from_millis(300),
            min_write_budget: Duration::from_secs(2),
        }
    }
}

/// The Intercom REST client. Cheap to clone; build one per container in `main`.
#[derive(Clone)]
pub struct IntercomClient {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    http: reqwest::Client,
    base: Url,
    version: String,
    secrets: Arc<SecretStore>,
    retry: RetryPolicy,
    configured_admin: Option<String>,
    pub(super) admin_id: OnceCell<String>,
    pub(super) tags: Mutex<Vec<Tag>>,
    pub(super) teams: Mutex<Option<Vec<Team>>>,
    /// `GET /admins` and when it was read (see [`super::admins`]).
    pub(super) admins: Mutex<Option<(Instant, Vec<Teammate>)>>,
}

impl IntercomClient {
    pub fn new(config: &Config, secrets: Arc<SecretStore>) -> Self {
        Self::with_retry_policy(config, secrets, RetryPolicy::default())
    }

    pub fn with_retry_policy(config: &Config, secrets: Arc<SecretStore>, retry: RetryPolicy) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("intercom-ai-agent-lambdas/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(3))
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        IntercomClient {
            inner: Arc::new(Inner {
                http,
                base: config.api_base.clone(),
                version: config.api_version.clone(),
                secrets,
                retry,
                configured_admin: config.admin_id.clone(),
                admin_id: OnceCell::new(),
                tags: Mutex::new(Vec::new()),
                teams: Mutex::new(None),
                admins: Mutex::new(None),
            }),
        }
    }

    pub fn secrets(&self) -> &Arc<SecretStore> {
        &self.inner.secrets
    }

    /// The admin the AI acts as: `INTERCOM_ADMIN_ID`, or the token's owner from `GET /me`, once per container.
    pub async fn admin_id(&self) -> Result<String, IntercomError> {
        if let Some(id) = &self.inner.configured_admin {
            return Ok(id.clone());
        }
        self.inner
            .admin_id
            .get_or_try_init(|| async {
                let me: super::models::Admin = self.get("me", &[]).await?;
                tracing::info!(admin_id = %me.id, "resolved the acting admin with GET /me");
                Ok(me.id)
            })
            .await
            .cloned()
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, IntercomError> {
        self.send(Method::GET, path, query, None::<&()>, Retry::Idempotent, "a read").await
    }

    /// Sends one request, retrying as `retry` allows, and decodes the JSON answer.
    pub(crate) async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
        retry: Retry,
        operation: &'static str,
    ) -> Result<T, IntercomError> {
        let url = self.url(path, query)?;
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| IntercomError::Decode { operation, reason: e.to_string() })?;
        let policy = &self.inner.retry;
        let mut secrets = self.inner.secrets.get().await?;
        let mut token_refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = deadline::remaining().saturating_sub(policy.deadline_margin);
            if left.is_zero() || (retry == Retry::Once && left < policy.min_write_budget) {
                // Nothing was sent: a definite failure the caller may retry.
                return Err(IntercomError::DeadlineExceeded);
            }
            let mut request = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(secrets.access_token()?.expose_secret())
                .header("Intercom-Version", &self.inner.version)
                .header("Accept", "application/json")
                .timeout(left.min(policy.attempt_timeout));
            if let Some(body) = &body {
                request = request.header("Content-Type", "application/json").body(body.clone());
            }
            let started = Instant::now();
            let outcome = request.send().await;
            let (status, headers, bytes) = match outcome {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(bytes) => (status, headers, bytes),
                        Err(e) => {
                            tracing::warn!(%method, path, error = %e, "Intercom's answer was cut off");
                            if retry == Retry::Once {
                                return Err(IntercomError::OutcomeUnknown { operation, request_id: None });
                            }
                            if self.backoff(attempt, None).await {
                                continue;
                            }
                            return Err(IntercomError::Transport { reason: e.to_string() });
                        }
                    }
                }
                Err(e) => {
                    // A refused connection never reached Intercom; anything later might have.
                    let reached = !e.is_connect();
                    tracing::warn!(%method, path, attempt, error = %e, "request to Intercom failed");
                    if reached && retry == Retry::Once {
                        return Err(IntercomError::OutcomeUnknown { operation, request_id: None });
                    }
                    if self.backoff(attempt, None).await {
                        continue;
                    }
                    return Err(if e.is_timeout() {
                        IntercomError::DeadlineExceeded
                    } else {
                        IntercomError::Transport { reason: transport_reason(&e) }
                    });
                }
            };
            tracing::debug!(%method, path, status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "intercom");

            if status.is_success() {
                return serde_json::from_slice(&bytes)
                    .map_err(|e| IntercomError::Decode { operation, reason: e.to_string() });
            }
            let error = IntercomError::from_response(status.as_u16(), &bytes);
            match status {
                StatusCode::UNAUTHORIZED if !token_refreshed => {
                    // Rotated secret: fetch it once more and repeat (Intercom refused, nothing was applied).
                    tracing::warn!(path, "Intercom rejected the token; fetching the secret again");
                    secrets = self.inner.secrets.refresh(&secrets).await?;
                    token_refreshed = true;
                    attempt -= 1;
                    continue;
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = rate_limit_wait(&headers);
                    if attempt < policy.max_attempts
                        && wait < deadline::remaining().saturating_sub(policy.deadline_margin)
                    {
                        tracing::warn!(
                            path,
                            wait_ms = wait.as_millis() as u64,
                            "rate limited by Intercom; waiting for the reset"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(IntercomError::RateLimited {
                        retry_after: wait,
                        request_id: error.request_id().map(str::to_owned),
                    });
                }
                s if s.is_server_error() => {
                    if retry == Retry::Once {
                        return Err(IntercomError::OutcomeUnknown {
                            operation,
                            request_id: error.request_id().map(str::to_owned),
                        });
                    }
                    if self.backoff(attempt, Some(status)).await {
                        continue;
                    }
                    return Err(error);
                }
                _ => return Err(error),
            }
        }
    }

    /// Sleeps before the next attempt; `false` when no attempt is left or it would outlive the deadline.
    async fn backoff(&self, attempt: u32, status: Option<StatusCode>) -> bool {
        let policy = &self.inner.retry;
        if attempt >= policy.max_attempts {
            return false;
        }
        let exp = policy.base_backoff.saturating_mul(1 << (attempt - 1).min(10)).min(policy.max_backoff);
        // Full jitter keeps many containers from retrying in lockstep.
        let wait = exp.mul_f64(0.5 + rand::random::<f64>() * 0.5);
        if wait >= deadline::remaining().saturating_sub(policy.deadline_margin) {
            return false;
        }
        tracing::debug!(attempt, status = status.map(|s| s.as_u16()), wait_ms = wait.as_millis() as u64, "retrying");
        tokio::time::sleep(wait).await;
        true
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, IntercomError> {
        let mut url = self
            .inner
            .base
            .join(path)
            .map_err(|e| IntercomError::Transport { reason: format!("bad request path {path}: {e}") })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }
}

/// How long Intercom asks us to wait: `Retry-After` seconds, else until `X-RateLimit-Reset` (Unix seconds).
pub(crate) fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    let number =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(seconds) = number("retry-after") {
        return Duration::from_secs(seconds);
    }
    if let Some(reset) = number("x-ratelimit-reset") {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        // Intercom's windows are 10 s; a reset far in the future means a clock skew, not a real wait.
        return Duration::from_secs(reset.saturating_sub(now).clamp(1, 60));
    }
    Duration::from_secs(1)
}

fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "connection failed".into()
    } else if e.is_timeout() {
        "timed out".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_over_reset() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        h.insert("x-ratelimit-reset", "1".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(3));
    }

    #[test]
    fn reset_is_relative_to_now_and_bounded() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", (now + 5).to_string().parse().unwrap());
        let wait = rate_limit_wait(&h);
        assert!(wait >= Duration::from_secs(4) && wait <= Duration::from_secs(5), "{wait:?}");
        h.insert("x-ratelimit-reset", (now - 5).to_string().parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(1));
        assert_eq!(rate_limit_wait(&HeaderMap::new()), Duration::from_secs(1));
    }
}
