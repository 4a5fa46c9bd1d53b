//! The HTTP transport: authentication, `Intercom-Version`, retries within the invocation deadline.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode, header::HeaderMap};
use secrecy::ExposeSecret;
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use super::error::{IntercomError, without_input};
use super::models::{Tag, Team, Teammate};
use crate::config::Config;
use crate::deadline;
use crate::secrets::{SecretStore, Secrets};

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
    /// `GET /ticket_types` and `GET /ticket_states` and when each was read (see [`super::tickets`]).
    /// Each resource module's own cache (ticket types, office hours…), by type: the client names none of them.
    caches: std::sync::Mutex<http::Extensions>,
    /// The `Date` of Intercom's latest answer (see [`super::clock`]).
    pub(super) clock: super::clock::IntercomClock,
}

impl IntercomClient {
    pub fn new(config: &Config, secrets: Arc<SecretStore>) -> Self {
        Self::with_retry_policy(config, secrets, RetryPolicy::default())
    }

    pub fn with_retry_policy(config: &Config, secrets: Arc<SecretStore>, retry: RetryPolicy) -> Self {
        let http = http_client().unwrap_or_else(|_| reqwest::Client::new());
        Self::with_http(http, config.api_base.clone(), &config.api_version, secrets, config.admin_id.clone(), retry)
    }

    /// A client on a shared HTTP client (one per container, whatever the number of workspaces): `base` is the
    /// workspace's API host, `secrets` its token, `admin_id` the AI's admin (`None`: `GET /me` once).
    pub fn with_http(
        http: reqwest::Client,
        base: Url,
        version: &str,
        secrets: Arc<SecretStore>,
        admin_id: Option<String>,
        retry: RetryPolicy,
    ) -> Self {
        IntercomClient {
            inner: Arc::new(Inner {
                http,
                base,
                version: version.to_owned(),
                secrets,
                retry,
                configured_admin: admin_id,
                admin_id: OnceCell::new(),
                tags: Mutex::new(Vec::new()),
                teams: Mutex::new(None),
                admins: Mutex::new(None),
                caches: Default::default(),
                clock: Default::default(),
            }),
        }
    }

    pub fn secrets(&self) -> &Arc<SecretStore> {
        &self.inner.secrets
    }

    /// The cache of type `T` that a resource module keeps on this client (one per client, so per workspace).
    pub(super) fn cache<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut caches = self.inner.caches.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cache) = caches.get::<Arc<T>>() {
            return cache.clone();
        }
        let cache = Arc::new(T::default());
        caches.insert(cache.clone());
        cache
    }

    /// Intercom's now: the `Date` of its latest answer plus the time since that answer arrived. `None` until an
    /// answer with a readable `Date` came; the caller then uses its own clock.
    pub fn intercom_now(&self) -> Option<std::time::SystemTime> {
        self.inner.clock.now()
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

    /// Sends one request, retrying as `retry` allows, and decodes the JSON answer. Each attempt: [`Self::request`]
    /// (within the deadline), then what failed is judged by [`Self::unanswered`], [`Self::cut_off`] or
    /// [`Self::refused`]; a 401 fetches the secret once more and repeats.
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
            .map_err(|e| IntercomError::Decode { operation, reason: without_input(&e.to_string()) })?;
        let call = Call { method, path, url, body, retry, operation };
        let mut secrets = self.inner.secrets.get().await?;
        let mut token_refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let response = match self.request(&call, &secrets)?.send().await {
                Ok(response) => response,
                Err(e) => match self.unanswered(&call, attempt, e).await {
                    Next::Retry => continue,
                    Next::Fail(e) => return Err(e),
                },
            };
            let (status, headers) = (response.status(), response.headers().clone());
            self.inner.clock.note(&headers);
            let bytes = match response.bytes().await {
                Ok(bytes) => bytes,
                Err(e) => match self.cut_off(&call, attempt, e).await {
                    Next::Retry => continue,
                    Next::Fail(e) => return Err(e),
                },
            };
            let (method, elapsed_ms) = (&call.method, started.elapsed().as_millis() as u64);
            tracing::debug!(%method, path, status = status.as_u16(), elapsed_ms, "intercom");
            crate::metrics::intercom_call(status.as_u16(), started.elapsed());
            if status.is_success() {
                return serde_json::from_slice(&bytes)
                    .map_err(|e| IntercomError::Decode { operation, reason: without_input(&e.to_string()) });
            }
            if status == StatusCode::UNAUTHORIZED && !token_refreshed {
                // Rotated secret: fetch it once more and repeat (Intercom refused, nothing was applied).
                tracing::warn!(path, "Intercom rejected the token; fetching the secret again");
                secrets = self.inner.secrets.refresh(&secrets).await?;
                token_refreshed = true;
                attempt -= 1;
                continue;
            }
            match self.refused(&call, attempt, status, &headers, &bytes).await {
                Next::Retry => continue,
                Next::Fail(e) => return Err(e),
            }
        }
    }

    /// One attempt's request, with the time left as its timeout; none when too little time is left to send it.
    fn request(&self, call: &Call<'_>, secrets: &Secrets) -> Result<reqwest::RequestBuilder, IntercomError> {
        let policy = &self.inner.retry;
        let left = deadline::remaining().saturating_sub(policy.deadline_margin);
        if left.is_zero() || (call.retry == Retry::Once && left < policy.min_write_budget) {
            // Nothing was sent: a definite failure the caller may retry.
            return Err(IntercomError::DeadlineExceeded);
        }
        let request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(secrets.access_token()?.expose_secret())
            .header("Intercom-Version", &self.inner.version)
            .header("Accept", "application/json")
            .timeout(left.min(policy.attempt_timeout));
        Ok(match &call.body {
            Some(body) => request.header("Content-Type", "application/json").body(body.clone()),
            None => request,
        })
    }

    /// No answer: a refused connection never reached Intercom; anything later might have, so a write that cannot
    /// be repeated has an unknown outcome.
    async fn unanswered(&self, call: &Call<'_>, attempt: u32, e: reqwest::Error) -> Next {
        let reached = !e.is_connect();
        let (method, path) = (&call.method, call.path);
        tracing::warn!(%method, path, attempt, error = %e, "request to Intercom failed");
        if reached && call.retry == Retry::Once {
            return Next::Fail(IntercomError::OutcomeUnknown { operation: call.operation, request_id: None });
        }
        if self.backoff(attempt, None).await {
            return Next::Retry;
        }
        Next::Fail(if e.is_timeout() {
            IntercomError::DeadlineExceeded
        } else {
            IntercomError::Transport { reason: transport_reason(&e) }
        })
    }

    /// An answer cut off while it was read: Intercom had the request.
    async fn cut_off(&self, call: &Call<'_>, attempt: u32, e: reqwest::Error) -> Next {
        let (method, path) = (&call.method, call.path);
        tracing::warn!(%method, path, error = %e, "Intercom's answer was cut off");
        if call.retry == Retry::Once {
            return Next::Fail(IntercomError::OutcomeUnknown { operation: call.operation, request_id: None });
        }
        if self.backoff(attempt, None).await {
            return Next::Retry;
        }
        Next::Fail(IntercomError::Transport { reason: e.to_string() })
    }

    /// Intercom answered other than 2xx (a 401 after the secret was fetched again included): a redirect is not
    /// followed, a 429 waits for the reset while time allows, a 5xx is retried when the request may be repeated.
    async fn refused(
        &self,
        call: &Call<'_>,
        attempt: u32,
        status: StatusCode,
        headers: &HeaderMap,
        bytes: &[u8],
    ) -> Next {
        let (method, path) = (&call.method, call.path);
        if status.is_redirection() {
            // Not followed (see the client's builder); the Location is not echoed, it may be anyone's.
            tracing::warn!(%method, path, status = status.as_u16(), "Intercom answered with a redirect; not followed");
            return Next::Fail(IntercomError::Redirected { status: status.as_u16() });
        }
        let error = IntercomError::from_response(status.as_u16(), bytes);
        let request_id = error.request_id().map(str::to_owned);
        let policy = &self.inner.retry;
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = rate_limit_wait(headers);
                if attempt < policy.max_attempts && wait < deadline::remaining().saturating_sub(policy.deadline_margin)
                {
                    tracing::warn!(
                        path,
                        wait_ms = wait.as_millis() as u64,
                        "rate limited by Intercom; waiting for the reset"
                    );
                    tokio::time::sleep(wait).await;
                    return Next::Retry;
                }
                Next::Fail(IntercomError::RateLimited { retry_after: wait, request_id })
            }
            s if s.is_server_error() => {
                if call.retry == Retry::Once {
                    return Next::Fail(IntercomError::OutcomeUnknown { operation: call.operation, request_id });
                }
                if self.backoff(attempt, Some(status)).await {
                    return Next::Retry;
                }
                Next::Fail(error)
            }
            _ => Next::Fail(error),
        }
    }

    /// Sleeps before the next attempt; `false` when no attempt is left or it would outlive the deadline.
    async fn backoff(&self, attempt: u32, status: Option<StatusCode>) -> bool {
        let policy = &self.inner.retry;
        if attempt >= policy.max_attempts {
            return false;
        }
        let exp = policy.base_backoff.saturating_mul(1 << attempt.saturating_sub(1).min(10)).min(policy.max_backoff);
        let wait = full_jitter(exp);
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

/// The HTTP client for Intercom, built once per container: a redirect would carry the bearer token to wherever
/// Intercom (or someone in between) points it, so none is followed.
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(concat!("intercom-ai-agent-lambdas/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(50))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// One request as [`IntercomClient::send`] repeats it.
struct Call<'a> {
    method: Method,
    path: &'a str,
    url: Url,
    body: Option<Vec<u8>>,
    retry: Retry,
    operation: &'static str,
}

/// What to do after an attempt that did not succeed.
enum Next {
    /// Send again (after the wait already taken).
    Retry,
    Fail(IntercomError),
}

/// The longest wait a `Retry-After` is believed for: Intercom's windows are 10 s, so anything longer is a
/// broken or hostile header, not a reason to tell the agent to come back next year.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// The wait on a 429 that names no reset: jittered around this, so containers do not return in lockstep.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(2);

/// How long Intercom asks us to wait: `Retry-After` (seconds or an HTTP date), else until `X-RateLimit-Reset`
/// (Unix seconds), else a jittered second or so. Never more than [`MAX_RETRY_AFTER`], never zero.
pub(crate) fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(value) = text("retry-after") {
        let wait = match value.parse::<u64>() {
            Ok(seconds) => Some(Duration::from_secs(seconds)),
            // An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"); one in the past means "now".
            Err(_) => httpdate::parse_http_date(value)
                .ok()
                .map(|at| at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)),
        };
        if let Some(wait) = wait {
            return wait.clamp(Duration::from_secs(1), MAX_RETRY_AFTER);
        }
    }
    if let Some(reset) = text("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        // Intercom's windows are 10 s; a reset far in the future means a clock skew, not a real wait.
        return Duration::from_secs(reset.saturating_sub(now).clamp(1, 60));
    }
    Duration::from_millis(500) + full_jitter(DEFAULT_RATE_LIMIT_WAIT)
}

/// A uniformly random wait in `[0, cap]` ("full jitter"): many containers retrying at once spread out.
fn full_jitter(cap: Duration) -> Duration {
    cap.mul_f64(rand::random::<f64>())
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
    fn retry_after_may_be_an_http_date() {
        let mut h = HeaderMap::new();
        let in_30s = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert("retry-after", in_30s.parse().unwrap());
        let wait = rate_limit_wait(&h);
        assert!(wait > Duration::from_secs(27) && wait <= Duration::from_secs(30), "{wait:?}");
        h.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(1), "a date in the past means retry now (after 1 s)");
    }

    #[test]
    fn hostile_rate_limit_headers_are_bounded() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", u64::MAX.to_string().parse().unwrap());
        assert_eq!(rate_limit_wait(&h), MAX_RETRY_AFTER);
        h.insert("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), MAX_RETRY_AFTER);
        h.insert("retry-after", "0".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(1));
        // Unreadable: fall back to the reset header, then to the jittered default.
        let mut h = HeaderMap::new();
        h.insert("retry-after", "-5".parse().unwrap());
        h.insert("x-ratelimit-reset", u64::MAX.to_string().parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Duration::from_secs(60));
        h.insert("x-ratelimit-reset", "-1".parse().unwrap());
        let wait = rate_limit_wait(&h);
        assert!(wait >= Duration::from_millis(500) && wait <= Duration::from_millis(2500), "{wait:?}");
    }

    #[test]
    fn waits_without_a_reset_are_jittered() {
        let waits: std::collections::HashSet<Duration> = (0..20).map(|_| rate_limit_wait(&HeaderMap::new())).collect();
        assert!(waits.len() > 1, "20 default waits were all equal: {waits:?}");
        let jittered: Vec<Duration> = (0..200).map(|_| full_jitter(Duration::from_secs(2))).collect();
        assert!(jittered.iter().all(|w| *w <= Duration::from_secs(2)));
        assert!(jittered.iter().any(|w| *w < Duration::from_millis(500)), "full jitter reaches down to zero");
    }

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
    }
}
