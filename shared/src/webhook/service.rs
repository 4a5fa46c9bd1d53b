//! One webhook delivery, from raw bytes to an outcome: verify, parse, route, dedupe, relay, remember.

use std::time::Instant;

use http::StatusCode;
use secrecy::{ExposeSecret, SecretString};

use super::agent::{AgentClient, AgentRelayError};
use super::dedupe::RecentNotifications;
use super::escalated::EscalationCheck;
use super::event::{ParseError, TOPIC_USER_CREATED, parse_notification};
use super::loop_guard::{LoopGuard, LoopGuardMode, Origin};
use super::route::{IgnoreReason, Route, RoutePolicy, route};
use super::settings::WebhookSettings;
use super::verify::{SignatureError, verify_signature};

/// The secrets a delivery needs: Intercom's client secret to verify it, the agent webhook secret to sign the
/// relay. Either may be absent from the secret; that is reported when it is needed.
#[derive(Clone, Copy, Default)]
pub struct WebhookKeys<'a> {
    pub client_secret: Option<&'a SecretString>,
    pub agent_webhook_secret: Option<&'a SecretString>,
}

/// What became of a delivery that was answered 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Ping,
    Ignored(IgnoreReason),
    /// This container already relayed this notification id.
    Duplicate {
        notification_id: String,
    },
    Relayed {
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
            DeliveryError::Relay(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        }
    }
}

/// Everything a warm container keeps between deliveries: the routing policy, the agent client, and the ids
/// it relayed.
#[derive(Debug)]
pub struct WebhookService {
    policy: RoutePolicy,
    agent: Option<AgentClient>,
    recent: RecentNotifications,
    escalations: Option<EscalationCheck>,
}

impl WebhookService {
    /// Without an agent, deliveries are verified and acknowledged but nothing is relayed.
    pub fn new(policy: RoutePolicy, agent: Option<AgentClient>) -> Self {
        WebhookService { policy, agent, recent: RecentNotifications::default(), escalations: None }
    }

    /// With Intercom access, a new conversation without markers is checked against its contact's escalation
    /// record before it is relayed (see [`EscalationCheck`]); without, it is relayed as the customer's.
    pub fn with_escalation_check(mut self, check: EscalationCheck) -> Self {
        self.escalations = Some(check);
        self
    }

    pub fn from_settings(settings: &WebhookSettings) -> Result<Self, reqwest::Error> {
        let agent = match &settings.agent_webhook_url {
            Some(url) => Some(AgentClient::new(url.clone(), settings.relay_timeout)?),
            None => None,
        };
        Ok(Self::new(settings.route.clone(), agent))
    }

    pub fn recent(&self) -> &RecentNotifications {
        &self.recent
    }

    /// Handles one delivery. The signature is checked on `raw_body` before anything reads it; only an event the
    /// agent accepted is remembered, so a failed relay is retried on Intercom's redelivery.
    pub async fn handle(
        &self,
        keys: WebhookKeys<'_>,
        signature_header: Option<&str>,
        raw_body: &[u8],
    ) -> Result<Delivered, DeliveryError> {
        let client_secret = keys
            .client_secret
            .ok_or(DeliveryError::MissingSecret { field: "client_secret", env: "INTERCOM_CLIENT_SECRET" })?;
        if let Err(e) = verify_signature(client_secret.expose_secret().as_bytes(), raw_body, signature_header) {
            tracing::warn!(reason = e.reason(), "webhook signature refused");
            return Err(DeliveryError::Signature(e));
        }

        let invalid = |e: ParseError| {
            tracing::warn!(error = %e, "webhook delivery unreadable");
            DeliveryError::Invalid(e)
        };
        let notification = parse_notification(raw_body).map_err(invalid)?;
        let topic = notification.topic.as_str();
        let notification_id = notification.id.as_deref();

        let event = match route(&notification, &self.policy).map_err(invalid)? {
            Route::Ping => {
                tracing::info!(topic, "webhook ping");
                return Ok(Delivered::Ping);
            }
            Route::Ignore(reason) => {
                tracing::debug!(topic, notification_id, reason = reason.code(), "webhook delivery ignored");
                return Ok(Delivered::Ignored(reason));
            }
            Route::Relay(event) => event,
        };

        if let Some(id) = notification_id.filter(|id| self.recent.was_relayed(Some(id))) {
            tracing::info!(topic, notification_id = id, "webhook delivery already relayed");
            return Ok(Delivered::Duplicate { notification_id: id.to_string() });
        }
        let Some(agent) = &self.agent else {
            tracing::info!(topic, notification_id, "AGENT_WEBHOOK_URL is not set; event not relayed");
            return Ok(Delivered::Ignored(IgnoreReason::NoAgent));
        };
        let mut event = event;
        if self.opened_by_escalation(&event).await {
            if self.policy.loop_guard_mode == LoopGuardMode::Drop {
                tracing::debug!(topic, notification_id, "webhook delivery ignored: a conversation escalate opened");
                return Ok(Delivered::Ignored(IgnoreReason::FromIntegration));
            }
            event.origin = Origin::Integration;
        }

        let agent_secret = keys
            .agent_webhook_secret
            .ok_or(DeliveryError::MissingSecret { field: "agent_webhook_secret", env: "AGENT_WEBHOOK_SECRET" })?;
        let started = Instant::now();
        let conversation_id = event.conversation.id.as_str();
        let origin = event.origin.as_str();
        match agent.send(&event, agent_secret).await {
            Ok(()) => {
                self.recent.mark_relayed(notification_id);
                tracing::info!(
                    topic,
                    notification_id,
                    conversation_id,
                    origin,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "webhook event relayed"
                );
                Ok(Delivered::Relayed { notification_id: notification_id.map(str::to_string) })
            }
            Err(e) => {
                tracing::warn!(
                    topic,
                    notification_id,
                    conversation_id,
                    code = e.code(),
                    error = %e,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "relay to the agent failed; Intercom will redeliver"
                );
                Err(DeliveryError::Relay(e))
            }
        }
    }
}

impl WebhookService {
    /// The loop guard's second look (only for a new conversation that carries no marker, with the guard on
    /// and Intercom access): did `escalate` open it? A failed lookup relays it as the customer's.
    async fn opened_by_escalation(&self, event: &super::relay::RelayEvent) -> bool {
        let (Some(check), Some(contact_id)) = (&self.escalations, event.contact.id.as_deref()) else { return false };
        if event.topic != TOPIC_USER_CREATED
            || event.origin != Origin::Customer
            || self.policy.loop_guard == LoopGuard::disabled()
        {
            return false;
        }
        match check.opened_by_escalation(contact_id, &event.conversation.id).await {
            Ok(ours) => ours,
            Err(e) => {
                tracing::warn!(
                    conversation_id = %event.conversation.id,
                    error = %e,
                    "could not read the contact's escalation record; relaying as the customer's conversation"
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::Value;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::webhook::fixtures;
    use crate::webhook::verify::{sign_for_agent, sign_intercom};

    const CLIENT_SECRET: &str = "client-secret";
    const AGENT_SECRET: &str = "agent-secret";

    /// What the stub agent saw: lower-cased header lines and the body.
    #[derive(Debug, Clone)]
    struct Seen {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    /// A one-purpose HTTP/1.1 agent on 127.0.0.1: answers every request with `status` after `delay`.
    async fn stub_agent(status: u16, delay: Duration) -> (url::Url, Arc<Mutex<Vec<Seen>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = url::Url::parse(&format!("http://{}/events", listener.local_addr().unwrap())).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut raw = Vec::new();
                    let mut buf = [0u8; 4096];
                    let (head_end, length) = loop {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        raw.extend_from_slice(&buf[..n]);
                        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while raw.len() < head_end + length {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        raw.extend_from_slice(&buf[..n]);
                    }
                    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
                    let headers = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    log.lock().unwrap().push(Seen { headers, body: raw[head_end..].to_vec() });
                    tokio::time::sleep(delay).await;
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        (url, seen)
    }

    fn service(url: url::Url, timeout: Duration, policy: RoutePolicy) -> WebhookService {
        WebhookService::new(policy, Some(AgentClient::new(url, timeout).unwrap()))
    }

    async fn deliver(service: &WebhookService, body: &str) -> Result<Delivered, DeliveryError> {
        let client = SecretString::from(CLIENT_SECRET);
        let agent = SecretString::from(AGENT_SECRET);
        let keys = WebhookKeys { client_secret: Some(&client), agent_webhook_secret: Some(&agent) };
        let signature = sign_intercom(CLIENT_SECRET.as_bytes(), body.as_bytes());
        service.handle(keys, Some(&signature), body.as_bytes()).await
    }

    #[tokio::test]
    async fn relays_a_signed_event_once() {
        let (url, seen) = stub_agent(202, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let outcome = deliver(&service, fixtures::USER_REPLIED).await.unwrap();
        assert_eq!(
            outcome,
            Delivered::Relayed { notification_id: Some("notif_5d6e7f80-91a2-4b3c-8d4e-5f60718293a4".into()) }
        );
        let again = deliver(&service, fixtures::USER_REPLIED).await.unwrap();
        assert!(matches!(again, Delivered::Duplicate { .. }));

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let request = &seen[0];
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("idempotency-key"), Some("notif_5d6e7f80-91a2-4b3c-8d4e-5f60718293a4"));
        let expected = sign_for_agent(AGENT_SECRET.as_bytes(), &request.body);
        assert_eq!(request.header("x-signature"), Some(expected.as_str()));
        let event: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(event["message"]["partId"], "3004");
        assert_eq!(event["origin"], "customer");
    }

    #[tokio::test]
    async fn a_refused_relay_is_not_remembered() {
        let (url, seen) = stub_agent(500, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
        assert_eq!(err, DeliveryError::Relay(AgentRelayError::Rejected { status: 500 }));
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(service.recent().is_empty());
        assert!(deliver(&service, fixtures::USER_CREATED).await.is_err());
        assert_eq!(seen.lock().unwrap().len(), 2, "the redelivery was relayed again");
    }

    #[tokio::test]
    async fn a_slow_agent_times_out() {
        let (url, _) = stub_agent(200, Duration::from_millis(800)).await;
        let service = service(url, Duration::from_millis(150), RoutePolicy::default());
        let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
        assert_eq!(err, DeliveryError::Relay(AgentRelayError::Timeout { timeout_ms: 150 }));
        assert_eq!(err.code(), "agent_timeout");
    }

    #[tokio::test]
    async fn an_unreachable_agent_is_reported_without_its_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = url::Url::parse(&format!("http://{}/secret-path?token=t0k", listener.local_addr().unwrap())).unwrap();
        drop(listener);
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
        assert!(matches!(err, DeliveryError::Relay(AgentRelayError::Unreachable { .. })), "{err:?}");
        assert!(!err.to_string().contains("t0k") && !err.to_string().contains("secret-path"));
    }

    #[tokio::test]
    async fn signature_is_checked_before_anything_else() {
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let client = SecretString::from(CLIENT_SECRET);
        let keys = WebhookKeys { client_secret: Some(&client), agent_webhook_secret: None };
        let body = b"not even json";
        let err = service.handle(keys, None, body).await.unwrap_err();
        assert_eq!(err, DeliveryError::Signature(SignatureError::Missing));
        assert_eq!((err.status(), err.code()), (StatusCode::UNAUTHORIZED, "invalid_signature"));
        let wrong = sign_intercom(b"other", fixtures::USER_CREATED.as_bytes());
        let err = service.handle(keys, Some(&wrong), fixtures::USER_CREATED.as_bytes()).await.unwrap_err();
        assert_eq!(err, DeliveryError::Signature(SignatureError::Mismatch));
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn pings_ignored_topics_and_bad_payloads() {
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        assert_eq!(deliver(&service, fixtures::PING).await, Ok(Delivered::Ping));
        assert_eq!(deliver(&service, fixtures::PING).await, Ok(Delivered::Ping));
        let ignored = deliver(&service, fixtures::ADMIN_REPLIED).await.unwrap();
        assert!(matches!(ignored, Delivered::Ignored(IgnoreReason::TopicNotRelayed { .. })));
        let err = deliver(&service, "{\"topic\":").await.unwrap_err();
        assert_eq!((err.status(), err.code()), (StatusCode::BAD_REQUEST, "invalid_payload"));
        let err = deliver(&service, r#"{"topic":"conversation.user.created","data":{"item":{}}}"#).await.unwrap_err();
        assert_eq!(err.to_string(), "data.item.id is missing");
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn without_an_agent_nothing_is_relayed() {
        let service = WebhookService::new(RoutePolicy::default(), None);
        let outcome = deliver(&service, fixtures::USER_CREATED).await.unwrap();
        assert_eq!(outcome, Delivered::Ignored(IgnoreReason::NoAgent));
        assert!(service.recent().is_empty());
    }

    #[tokio::test]
    async fn missing_secrets_are_named() {
        let (url, _) = stub_agent(200, Duration::ZERO).await;
        let service = service(url, Duration::from_secs(2), RoutePolicy::default());
        let err = service.handle(WebhookKeys::default(), None, b"{}").await.unwrap_err();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(err.to_string().contains("client_secret"), "{err}");

        let client = SecretString::from(CLIENT_SECRET);
        let keys = WebhookKeys { client_secret: Some(&client), agent_webhook_secret: None };
        let body = fixtures::USER_CREATED.as_bytes();
        let signature = sign_intercom(CLIENT_SECRET.as_bytes(), body);
        let err = service.handle(keys, Some(&signature), body).await.unwrap_err();
        assert_eq!(err, DeliveryError::MissingSecret { field: "agent_webhook_secret", env: "AGENT_WEBHOOK_SECRET" });
        assert_eq!(err.code(), "not_configured");
    }

    fn helpdesk_with_marker(marker: Option<&'static str>) -> crate::helpdesk::MockHelpdesk {
        let mut helpdesk = crate::helpdesk::MockHelpdesk::new();
        helpdesk.expect_find_contact().returning(move |key| {
            assert_eq!(key, &crate::intercom::ContactKey::Id("6657add46abd0167d9419cd2".into()));
            let mut contact =
                serde_json::json!({"type": "contact", "id": "6657add46abd0167d9419cd2", "custom_attributes": {}});
            if let Some(marker) = marker {
                contact["custom_attributes"]["ai_escalation"] = marker.into();
            }
            Ok(Some(serde_json::from_value(contact).unwrap()))
        });
        helpdesk
    }

    fn checked(url: url::Url, policy: RoutePolicy, helpdesk: crate::helpdesk::MockHelpdesk) -> WebhookService {
        service(url, Duration::from_secs(2), policy)
            .with_escalation_check(EscalationCheck::new(Arc::new(helpdesk)).with_pending_wait(Duration::ZERO, 0))
    }

    #[tokio::test]
    async fn the_conversation_escalate_opened_is_flagged_before_it_is_tagged() {
        // Fixture conversation 147 has no tag yet; its contact's record says escalate opened it.
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = checked(url, RoutePolicy::default(), helpdesk_with_marker(Some("sess-1|147")));
        assert!(matches!(deliver(&service, fixtures::USER_CREATED).await.unwrap(), Delivered::Relayed { .. }));
        let event: Value = serde_json::from_slice(&seen.lock().unwrap()[0].body).unwrap();
        assert_eq!(event["origin"], "integration");

        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let drop = RoutePolicy { loop_guard_mode: LoopGuardMode::Drop, ..RoutePolicy::default() };
        let service = checked(url, drop, helpdesk_with_marker(Some("sess-1|147")));
        assert_eq!(
            deliver(&service, fixtures::USER_CREATED).await.unwrap(),
            Delivered::Ignored(IgnoreReason::FromIntegration)
        );
        assert!(seen.lock().unwrap().is_empty(), "dropped, not relayed");
    }

    #[tokio::test]
    async fn a_customer_conversation_stays_the_customers() {
        for marker in [None, Some("sess-1|99"), Some("not a marker")] {
            let (url, seen) = stub_agent(200, Duration::ZERO).await;
            let service = checked(url, RoutePolicy::default(), helpdesk_with_marker(marker));
            deliver(&service, fixtures::USER_CREATED).await.unwrap();
            let event: Value = serde_json::from_slice(&seen.lock().unwrap()[0].body).unwrap();
            assert_eq!(event["origin"], "customer", "{marker:?}");
        }
    }

    #[tokio::test]
    async fn the_record_is_read_only_for_new_conversations_and_a_failed_read_relays() {
        let mut helpdesk = crate::helpdesk::MockHelpdesk::new();
        helpdesk.expect_find_contact().times(0);
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = checked(url, RoutePolicy::default(), helpdesk);
        deliver(&service, fixtures::USER_REPLIED).await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1);

        let mut helpdesk = crate::helpdesk::MockHelpdesk::new();
        helpdesk
            .expect_find_contact()
            .times(1)
            .returning(|_| Err(crate::intercom::IntercomError::Unavailable { status: 503, request_id: None }));
        let (url, seen) = stub_agent(200, Duration::ZERO).await;
        let service = checked(url, RoutePolicy::default(), helpdesk);
        assert!(matches!(deliver(&service, fixtures::USER_CREATED).await.unwrap(), Delivered::Relayed { .. }));
        let event: Value = serde_json::from_slice(&seen.lock().unwrap()[0].body).unwrap();
        assert_eq!(event["origin"], "customer");
    }
}
