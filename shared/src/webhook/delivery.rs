//! What a delivery is given and what becomes of it: the secrets it needs, the outcome answered 200, and the
//! errors with their HTTP mapping.

use http::StatusCode;
use secrecy::SecretString;

use super::agent::AgentRelayError;
use super::event::ParseError;
use super::route::IgnoreReason;
use super::verify::SignatureError;
use crate::queue::QueueError;

/// The secrets a delivery needs: Intercom's client secret to verify it, the agent webhook secret to sign the
/// relay. Either may be absent from the secret; that is reported when it is needed.
#[derive(Clone, Copy, Default)]
pub struct WebhookKeys<'a> {
    pub client_secret: Option<&'a SecretString>,
    pub agent_webhook_secret: Option<&'a SecretString>,
    /// The previous version's client secret while it rotates (`AWSPREVIOUS`): deliveries signed with it still pass.
    pub previous_client_secret: Option<&'a SecretString>,
}

/// What became of a delivery that was answered 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Ping,
    Ignored(IgnoreReason),
    /// This notification id was relayed already (or is being relayed, by this or another container).
    Duplicate {
        notification_id: String,
    },
    Relayed {
        notification_id: Option<String>,
    },
    /// On the relay queue; `relay-to-agent` takes it to the agent.
    Queued {
        notification_id: Option<String>,
    },
}

/// Why a delivery was not accepted. [`DeliveryError::status`] and [`DeliveryError::code`] are its HTTP mapping;
/// `Display` is safe to return and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Missing, malformed or wrong `X-Hub-Signature`: 401, nothing relayed.
    #[error("{0}")]
    Signature(SignatureError),
    /// Signed, but not a delivery we can read: 400.
    #[error("{0}")]
    Invalid(ParseError),
    /// The agent did not accept the event: 503 so Intercom redelivers.
    #[error("{0}")]
    Relay(AgentRelayError),
    /// The relay queue did not take the event: 503 (500 if misconfigured) so Intercom redelivers.
    #[error("{0}")]
    Enqueue(QueueError),
    /// Another invocation is relaying this notification right now: retried later.
    #[error("notification {notification_id} is being relayed by another invocation; retried later")]
    InFlight { notification_id: String },
    /// The secret lacks a field this function needs: 500 until the operator adds it.
    #[error("the secret has no {field}; add it to the secret's JSON (or set {env} locally)")]
    MissingSecret { field: &'static str, env: &'static str },
}

impl DeliveryError {
    pub fn status(&self) -> StatusCode {
        match self {
            DeliveryError::Signature(SignatureError::NoSecret) => StatusCode::INTERNAL_SERVER_ERROR,
            DeliveryError::Signature(_) => StatusCode::UNAUTHORIZED,
            DeliveryError::Invalid(_) => StatusCode::BAD_REQUEST,
            DeliveryError::Relay(_) | DeliveryError::InFlight { .. } => StatusCode::SERVICE_UNAVAILABLE,
            DeliveryError::Enqueue(QueueError::Misconfigured { .. }) => StatusCode::INTERNAL_SERVER_ERROR,
            DeliveryError::Enqueue(QueueError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            DeliveryError::Enqueue(_) => StatusCode::SERVICE_UNAVAILABLE,
            DeliveryError::MissingSecret { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            DeliveryError::Signature(SignatureError::NoSecret) | DeliveryError::MissingSecret { .. } => {
                "not_configured"
            }
            DeliveryError::Signature(_) => "invalid_signature",
            DeliveryError::Invalid(_) => "invalid_payload",
            DeliveryError::Relay(e) => e.code(),
            DeliveryError::Enqueue(e) => e.code(),
            DeliveryError::InFlight { .. } => "relay_in_progress",
        }
    }
}
