//! Sends relay events to the agent's webhook.
//!
//! `POST AGENT_WEBHOOK_URL` with the event as JSON, `X-Signature: sha256=<hex>` (HMAC-SHA256 of the exact body
//! with the agent webhook secret) and `Idempotency-Key: <notification id>`. One attempt per delivery, bounded by
//! the relay timeout: a failure is answered 503 and Intercom's redelivery is the retry. Redirects are not
//! followed, so the signed body only ever goes to the configured URL.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::agent_event::AgentEvent;
use super::verify::{AGENT_SIGNATURE_HEADER, sign_for_agent};

/// Carries the Intercom notification id, so the agent can drop an event it already has.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Why the agent did not take an event. Messages name no URL, header or secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgentRelayError {
    #[error("the agent did not answer within {timeout_ms} ms")]
    Timeout { timeout_ms: u64 },
    #[error("could not reach the agent ({reason})")]
    Unreachable { reason: String },
    #[error("the agent answered HTTP {status}")]
    Rejected { status: u16 },
}

impl AgentRelayError {
    /// A stable short code for logs.
    pub fn code(&self) -> &'static str {
        match self {
            AgentRelayError::Timeout { .. } => "agent_timeout",
            AgentRelayError::Unreachable { .. } => "agent_unreachable",
            AgentRelayError::Rejected { .. } => "agent_rejected",
        }
    }
}

/// One HTTP client per container, built in `main` and lent to the handler.
#[derive(Debug, Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    url: Url,
    timeout: Duration,
}

impl AgentClient {
    pub fn new(url: Url, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .user_agent(concat!("intercom-webhook-relay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(AgentClient { http, url, timeout })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Posts `event`; `Ok` only for a 2xx answer within the timeout.
    pub async fn send(&self, event: &AgentEvent, agent_secret: &SecretString) -> Result<(), AgentRelayError> {
        // Serialising plain strings, numbers and options cannot fail; an empty object would still be signed.
        let body = serde_json::to_vec(event).unwrap_or_else(|_| b"{}".to_vec());
        let signature = sign_for_agent(agent_secret.expose_secret().as_bytes(), &body);
        let mut request = self
            .http
            .post(self.url.clone())
            .timeout(self.timeout)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(AGENT_SIGNATURE_HEADER, signature);
        if let Some(id) = event.notification_id.as_deref().and_then(|id| HeaderValue::from_str(id).ok()) {
            request = request.header(IDEMPOTENCY_KEY_HEADER, id);
        }
        let response = request.body(body).send().await.map_err(|e| self.classify(e))?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(AgentRelayError::Rejected { status: status.as_u16() }) }
    }

    fn classify(&self, error: reqwest::Error) -> AgentRelayError {
        if error.is_timeout() {
            return AgentRelayError::Timeout { timeout_ms: self.timeout.as_millis() as u64 };
        }
        let reason = if error.is_connect() {
            "connection failed"
        } else if error.is_request() || error.is_body() {
            "the request could not be sent"
        } else {
            "transport error"
        };
        AgentRelayError::Unreachable { reason: reason.to_string() }
    }
}
