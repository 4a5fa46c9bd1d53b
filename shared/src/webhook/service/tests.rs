//! The webhook service end to end: a stub agent on a local port, signed deliveries, the store and the queue.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use http::StatusCode;
use secrecy::SecretString;

use super::*;
use crate::webhook::fixtures;
use crate::webhook::verify::{sign_for_agent, sign_intercom};
use crate::webhook::{AgentRelayError, IgnoreReason, LoopGuardMode, TOPIC_USER_REPLIED};

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
    let keys = WebhookKeys { client_secret: Some(&client), agent_webhook_secret: Some(&agent), ..Default::default() };
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
    let keys = WebhookKeys { client_secret: Some(&client), ..Default::default() };
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
async fn the_previous_client_secret_is_accepted_while_it_rotates() {
    let service = WebhookService::new(RoutePolicy::default(), None);
    let (current, previous) = (SecretString::from("cs-new"), SecretString::from("cs-old"));
    let body = fixtures::PING.as_bytes();
    let rotating =
        WebhookKeys { client_secret: Some(&current), previous_client_secret: Some(&previous), ..Default::default() };
    for secret in [b"cs-new".as_slice(), b"cs-old"] {
        assert_eq!(service.handle(rotating, Some(&sign_intercom(secret, body)), body).await, Ok(Delivered::Ping));
    }
    let err = service.handle(rotating, Some(&sign_intercom(b"cs-older", body)), body).await.unwrap_err();
    assert_eq!(err, DeliveryError::Signature(SignatureError::Mismatch));
    // Once the old secret has rotated out, it is refused.
    let rotated = WebhookKeys { client_secret: Some(&current), ..Default::default() };
    let err = service.handle(rotated, Some(&sign_intercom(b"cs-old", body)), body).await.unwrap_err();
    assert_eq!(err, DeliveryError::Signature(SignatureError::Mismatch));
}

#[tokio::test]
async fn pings_ignored_topics_and_bad_payloads() {
    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let service = service(url, Duration::from_secs(2), RoutePolicy::default());
    assert_eq!(deliver(&service, fixtures::PING).await, Ok(Delivered::Ping));
    assert_eq!(deliver(&service, fixtures::PING).await, Ok(Delivered::Ping));
    let other = mutate(fixtures::ADMIN_REPLIED, |v| v["topic"] = json!("conversation.admin.unsnoozed"));
    let ignored = deliver(&service, &other).await.unwrap();
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
    let keys = WebhookKeys { client_secret: Some(&client), ..Default::default() };
    let body = fixtures::USER_CREATED.as_bytes();
    let signature = sign_intercom(CLIENT_SECRET.as_bytes(), body);
    let err = service.handle(keys, Some(&signature), body).await.unwrap_err();
    assert_eq!(err, DeliveryError::MissingSecret { field: "agent_webhook_secret", env: "AGENT_WEBHOOK_SECRET" });
    assert_eq!(err.code(), "not_configured");
}

use crate::handoff::HandoffSettings;
use crate::store::memory::MemoryStore;

const AI: &str = "814860";
const CONTACT: &str = "6657add46abd0167d9419cd2";

fn with_store(url: url::Url, policy: RoutePolicy, store: &Arc<MemoryStore>) -> WebhookService {
    service(url, Duration::from_secs(2), policy).with_store(store.clone())
}

fn owned(
    service: WebhookService,
    helpdesk: Option<crate::helpdesk::MockHelpdesk>,
    vars: &[(&str, &str)],
) -> WebhookService {
    let mut env = vec![("INTERCOM_ADMIN_ID".to_string(), AI.to_string())];
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings = HandoffSettings::from_lookup(|n| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())).unwrap();
    let helpdesk = helpdesk.map(|h| Arc::new(h) as Arc<dyn crate::helpdesk::Helpdesk>);
    service.with_ownerships(Ownerships::new(settings, helpdesk))
}

fn relayed(seen: &Arc<Mutex<Vec<Seen>>>) -> Vec<Value> {
    seen.lock().unwrap().iter().map(|s| serde_json::from_slice(&s.body).unwrap()).collect()
}

fn mutate(fixture: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(fixture).unwrap();
    change(&mut value);
    value.to_string()
}

fn source_body() -> String {
    let value: Value = serde_json::from_str(fixtures::USER_CREATED).unwrap();
    value["data"]["item"]["source"]["body"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_message_our_functions_wrote_is_ours_and_dropped_when_asked() {
    let store = Arc::new(MemoryStore::new());
    crate::store::written_as_customer::remember_customer_message(store.as_ref(), CONTACT, &source_body())
        .await
        .unwrap();
    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let service = with_store(url, RoutePolicy::default(), &store);
    assert!(matches!(deliver(&service, fixtures::USER_CREATED).await.unwrap(), Delivered::Relayed { .. }));
    assert_eq!(relayed(&seen)[0]["origin"], "integration");

    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let drop = RoutePolicy { loop_guard_mode: LoopGuardMode::Drop, ..RoutePolicy::default() };
    let service = with_store(url, drop, &store);
    assert_eq!(
        deliver(&service, fixtures::USER_CREATED).await.unwrap(),
        Delivered::Ignored(IgnoreReason::FromIntegration)
    );
    // The customer's later reply in the same conversation is theirs.
    assert!(matches!(deliver(&service, fixtures::USER_REPLIED).await.unwrap(), Delivered::Relayed { .. }));
    let events = relayed(&seen);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0]["topic"].as_str(), events[0]["origin"].as_str()),
        (Some(TOPIC_USER_REPLIED), Some("customer"))
    );
}

#[tokio::test]
async fn repeats_are_caught_across_containers_and_a_failed_relay_is_retried() {
    let store = Arc::new(MemoryStore::new());
    let (failing_url, _) = stub_agent(503, Duration::ZERO).await;
    let failing = with_store(failing_url, RoutePolicy::default(), &store);
    assert!(matches!(deliver(&failing, fixtures::USER_REPLIED).await, Err(DeliveryError::Relay(_))));

    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let first = with_store(url.clone(), RoutePolicy::default(), &store);
    let second = with_store(url, RoutePolicy::default(), &store);
    assert!(matches!(deliver(&first, fixtures::USER_REPLIED).await.unwrap(), Delivered::Relayed { .. }));
    assert!(matches!(deliver(&second, fixtures::USER_REPLIED).await.unwrap(), Delivered::Duplicate { .. }));
    // A null id (samples) never counts as a repeat.
    let sample = mutate(fixtures::USER_REPLIED, |v| v["id"] = Value::Null);
    assert!(matches!(deliver(&first, &sample).await.unwrap(), Delivered::Relayed { notification_id: None }));
    assert!(matches!(deliver(&second, &sample).await.unwrap(), Delivered::Relayed { notification_id: None }));
    assert_eq!(relayed(&seen).len(), 3);
}

#[tokio::test]
async fn ownership_is_relayed_and_a_change_of_hands_announced_once() {
    let store = Arc::new(MemoryStore::new());
    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let service = owned(with_store(url, RoutePolicy::default(), &store), None, &[]);
    deliver(&service, fixtures::USER_CREATED).await.unwrap();
    // The fixture reply: conversation 147 assigned to admin 991267, not the AI's.
    deliver(&service, fixtures::USER_REPLIED).await.unwrap();
    let again = mutate(fixtures::USER_REPLIED, |v| v["id"] = json!("notif_other"));
    deliver(&service, &again).await.unwrap();
    let events = relayed(&seen);
    let shape: Vec<(Value, Value)> = events.iter().map(|e| (e["handling"].clone(), e["handoff"].clone())).collect();
    assert_eq!(
        shape,
        [(json!("ai"), Value::Null), (json!("human"), json!("human_took_over")), (json!("human"), Value::Null)]
    );
    assert_eq!(events[1]["owner"]["type"], "admin");
    assert_eq!(events[1]["owner"]["id"], "991267");
}

#[tokio::test]
async fn customer_messages_of_human_handled_conversations_can_be_dropped() {
    let store = Arc::new(MemoryStore::new());
    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let service = owned(with_store(url, RoutePolicy::default(), &store), None, &[("WEBHOOK_HUMAN_HANDLED", "drop")]);
    let first = deliver(&service, fixtures::USER_REPLIED).await.unwrap();
    assert_eq!(first, Delivered::Ignored(IgnoreReason::HumanHandled));
    assert!(relayed(&seen).is_empty());
}

fn by(admin: &str, name: &str, part_type: &str, body: &str, assignee: &str) -> String {
    mutate(fixtures::ADMIN_REPLIED, |v| {
        v["topic"] = json!(if part_type == "note" { "conversation.admin.noted" } else { "conversation.admin.replied" });
        v["id"] = json!(format!("notif_{part_type}_{admin}_{}", body.len()));
        v["data"]["item"]["admin_assignee_id"] = json!(assignee);
        v["data"]["item"]["conversation_parts"] = json!({"type": "conversation_part.list", "total_count": 1,
            "conversation_parts": [{"type": "conversation_part", "id": "9001", "part_type": part_type,
            "body": body, "created_at": 1_718_000_700, "author": {"type": "admin", "id": admin, "name": name}}]});
    })
}

#[tokio::test]
async fn teammates_replies_are_relayed_with_their_text_and_the_ais_own_are_not() {
    let store = Arc::new(MemoryStore::new());
    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let service = owned(with_store(url, RoutePolicy::default(), &store), None, &[]);
    let ours = by(AI, "Support AI", "comment", "<p>Let me check</p>", AI);
    assert_eq!(deliver(&service, &ours).await.unwrap(), Delivered::Ignored(IgnoreReason::ByTheAi));
    let grace = by("991268", "Grace", "comment", "<p>I'll take it <b>from here</b></p>", AI);
    assert!(matches!(deliver(&service, &grace).await.unwrap(), Delivered::Relayed { .. }));
    let event = &relayed(&seen)[0];
    assert_eq!(event["teammate"], json!({"id": "991268", "name": "Grace"}));
    assert_eq!(event["text"], "I'll take it from here");
    assert_eq!(event["handling"], "human");
}

#[tokio::test]
async fn resume_assigns_the_ai_and_stop_pauses_it() {
    let store = Arc::new(MemoryStore::new());
    let mut helpdesk = crate::helpdesk::MockHelpdesk::new();
    helpdesk.expect_assign_conversation().times(1).returning(|id, admin, assignee| {
        assert_eq!((id, admin), ("147", AI));
        assert_eq!(assignee, &crate::intercom::conversations::Assignee::Admin(AI.into()));
        Ok(serde_json::from_value(json!({"type": "conversation", "id": "147", "admin_assignee_id": AI})).unwrap())
    });
    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let service = owned(with_store(url, RoutePolicy::default(), &store), Some(helpdesk), &[]);
    deliver(&service, fixtures::USER_CREATED).await.unwrap();
    deliver(&service, &by("991268", "Grace", "note", "<p>/ai stop</p>", "")).await.unwrap();
    deliver(&service, &by("991268", "Grace", "note", "<p>/ai resume please</p>", "991268")).await.unwrap();
    let events = relayed(&seen);
    let shape: Vec<(Value, Value)> = events.iter().map(|e| (e["handling"].clone(), e["handoff"].clone())).collect();
    assert_eq!(
        shape,
        [
            (json!("ai"), Value::Null),
            (json!("human"), json!("human_took_over")),
            (json!("ai"), json!("returned_to_ai"))
        ]
    );
}

use crate::queue::memory::MemoryQueue;
use crate::queue::{Outgoing, QueueError};

const REPLIED_ID: &str = "notif_5d6e7f80-91a2-4b3c-8d4e-5f60718293a4";

fn queued(url: url::Url, store: &Arc<MemoryStore>, queue: &Arc<MemoryQueue>) -> WebhookService {
    with_store(url, RoutePolicy::default(), store).with_queue(queue.clone())
}

async fn relay(service: &WebhookService, body: &str) -> Result<Delivered, DeliveryError> {
    let agent = SecretString::from(AGENT_SECRET);
    service
        .relay_queued(
            WebhookKeys { client_secret: None, agent_webhook_secret: Some(&agent), ..Default::default() },
            body.as_bytes(),
        )
        .await
}

#[tokio::test]
async fn with_a_queue_a_delivery_is_enqueued_and_answered_without_waiting_for_the_agent() {
    let (url, seen) = stub_agent(200, Duration::from_secs(5)).await;
    let (store, queue) = (Arc::new(MemoryStore::new()), Arc::new(MemoryQueue::new()));
    let first = queued(url.clone(), &store, &queue);
    let started = std::time::Instant::now();
    let outcome = deliver(&first, fixtures::USER_REPLIED).await.unwrap();
    assert_eq!(outcome, Delivered::Queued { notification_id: Some(REPLIED_ID.into()) });
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    assert!(seen.lock().unwrap().is_empty(), "the agent is relay-to-agent's business");
    assert_eq!(queue.sent(), [Outgoing::new(fixtures::USER_REPLIED.into(), "147", Some(REPLIED_ID))]);

    // Intercom's redelivery to another container is a duplicate, not a second message.
    let second = queued(url, &store, &queue);
    assert_eq!(
        deliver(&second, fixtures::USER_REPLIED).await,
        Ok(Delivered::Duplicate { notification_id: REPLIED_ID.into() })
    );
    assert_eq!(queue.sent().len(), 1);
}

#[tokio::test]
async fn a_queue_that_refuses_is_a_503_and_the_redelivery_is_enqueued() {
    let (url, _) = stub_agent(200, Duration::ZERO).await;
    let (store, queue) = (Arc::new(MemoryStore::new()), Arc::new(MemoryQueue::new()));
    let service = queued(url, &store, &queue);
    queue.set_down(true);
    let err = deliver(&service, fixtures::USER_CREATED).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Enqueue(QueueError::Unavailable { .. })), "{err:?}");
    assert_eq!((err.status(), err.code()), (StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable"));
    queue.set_down(false);
    assert!(matches!(deliver(&service, fixtures::USER_CREATED).await.unwrap(), Delivered::Queued { .. }));
    assert_eq!(queue.sent().len(), 1);
}

#[tokio::test]
async fn a_queued_event_reaches_the_agent_once_and_a_failure_is_retried() {
    let store = Arc::new(MemoryStore::new());
    let (failing_url, _) = stub_agent(503, Duration::ZERO).await;
    let failing = with_store(failing_url, RoutePolicy::default(), &store);
    let err = relay(&failing, fixtures::USER_REPLIED).await.unwrap_err();
    assert_eq!(err, DeliveryError::Relay(AgentRelayError::Rejected { status: 503 }));

    let (url, seen) = stub_agent(200, Duration::ZERO).await;
    let service = with_store(url.clone(), RoutePolicy::default(), &store);
    assert_eq!(
        relay(&service, fixtures::USER_REPLIED).await,
        Ok(Delivered::Relayed { notification_id: Some(REPLIED_ID.into()) })
    );
    // SQS delivering the message again (a crash before the delete) does not reach the agent twice.
    let other = with_store(url, RoutePolicy::default(), &store);
    assert_eq!(
        relay(&other, fixtures::USER_REPLIED).await,
        Ok(Delivered::Duplicate { notification_id: REPLIED_ID.into() })
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(seen.lock().unwrap()[0].header("idempotency-key"), Some(REPLIED_ID));
}
