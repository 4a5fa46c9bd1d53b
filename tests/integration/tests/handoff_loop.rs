//! The hand-off loop, both ways, end to end on the fake Intercom: its signed webhooks go to a `WebhookService`
//! (memory store, ownership on), which relays to a stand-in agent; the agent acts through the real actions.
//! Also the cost of the reply gate, and availability before a hand-off.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_intercom::prism::{Prism, contract_tools_or_skip};
use fake_intercom::webhooks::WebhookConfig;
use fake_intercom::{FakeIntercom, FakeServer};
use integration_tests::{Stack, TOKEN, client_for};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::actions;
use shared::actions::escalate;
use shared::escalation::{EscalationSettings, Routing};
use shared::handoff::HandoffSettings;
use shared::helpdesk::Helpdesk;
use shared::http::AgentGuard;
use shared::idempotency::Attempt;
use shared::intercom::{Assignee, IntercomClient, MessageKind, RetryPolicy};
use shared::store::memory::MemoryStore;
use shared::webhook::{AgentClient, Ownerships, RoutePolicy, WebhookKeys, WebhookService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ADA_AI: &str = "991267";
const GRACE: &str = "991268";
const CLIENT_SECRET: &str = "client-secret";
const AGENT_SECRET: &str = "agent-secret";

/// Reads one HTTP/1.1 request: lower-cased headers and the body.
async fn read_request(socket: &mut TcpStream) -> Option<(Vec<(String, String)>, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&raw[..end]).to_string();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok());
        if raw.len() >= end + 4 + length.unwrap_or(0) {
            return Some((headers, raw[end + 4..].to_vec()));
        }
    }
}

async fn answer(socket: &mut TcpStream, status: u16) {
    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let _ = socket.write_all(reply.as_bytes()).await;
}

/// The stand-in agent: answers 200 and keeps every event relayed to it.
async fn agent() -> (url::Url, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}/events", listener.local_addr().unwrap())).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            if let Some((_, body)) = read_request(&mut socket).await {
                seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            }
            answer(&mut socket, 200).await;
        }
    });
    (url, events)
}

/// The webhook function's endpoint: every delivery of the fake goes through `service.handle`, as in the Lambda.
async fn webhook_endpoint(service: Arc<WebhookService>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook/intercom-events", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let Some((headers, body)) = read_request(&mut socket).await else { return };
                let signature = headers.iter().find(|(k, _)| k == "x-hub-signature").map(|(_, v)| v.as_str());
                let (client, agent) = (SecretString::from(CLIENT_SECRET), SecretString::from(AGENT_SECRET));
                let keys = WebhookKeys {
                    client_secret: Some(&client),
                    agent_webhook_secret: Some(&agent),
                    ..Default::default()
                };
                let status = match service.handle(keys, signature, &body).await {
                    Ok(_) => 200,
                    Err(e) => e.status().as_u16(),
                };
                answer(&mut socket, status).await;
            });
        }
    });
    url
}

/// The fake (demo workspace) sending its webhooks to a `WebhookService` with ownership on, which relays to a
/// stand-in agent; the client goes direct or through Prism.
struct Loop {
    fake: FakeServer,
    prism: Option<Prism>,
    client: IntercomClient,
    handoff: HandoffSettings,
    events: Arc<Mutex<Vec<Value>>>,
    guard: AgentGuard,
}

impl Loop {
    async fn start(throughprism: bool) -> Option<Loop> {
        let spec = if throughprism { Some(contract_tools_or_skip()?.0) } else { None };
        let fake = FakeIntercom::builder().seed_demo().valid_tokens([TOKEN]).start().await.expect("the fake starts");
        let (prism, client) = match spec {
            Some(spec) => {
                let prism = Prism::proxy(&spec, &fake.base_url()).await.expect("Prism starts");
                let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
                let client = client_for(prism.base_url(), policy);
                (Some(prism), client)
            }
            None => (None, client_for(&fake.base_url(), RetryPolicy::default())),
        };
        let handoff = HandoffSettings::from_lookup(|n| (n == "INTERCOM_ADMIN_ID").then(|| ADA_AI.to_owned())).unwrap();
        let (agent_url, events) = agent().await;
        let helpdesk: Arc<dyn Helpdesk> = Arc::new(client.clone());
        let service = WebhookService::new(
            RoutePolicy::default(),
            Some(AgentClient::new(agent_url, Duration::from_secs(2)).unwrap()),
        )
        .with_store(Arc::new(MemoryStore::new()))
        .with_ownerships(Ownerships::new(handoff.clone(), Some(helpdesk)));
        let webhook_url = webhook_endpoint(Arc::new(service)).await;
        fake.handle().set_webhooks(Some(WebhookConfig::new(webhook_url, CLIENT_SECRET)));
        Some(Loop { fake, prism, client, handoff, events, guard: AgentGuard::iam() })
    }

    /// Waits for the fake's webhooks, then returns the events the agent got since the last call.
    async fn relayed(&self, seen: &mut usize) -> Vec<Value> {
        tokio::time::timeout(Duration::from_secs(20), self.fake.handle().flush_webhooks()).await.expect("delivered");
        let events = self.events.lock().unwrap();
        let new = events[*seen..].to_vec();
        *seen = events.len();
        new
    }

    async fn reply(&self, body: Value) -> (u16, Value) {
        let request = shared::testing::post_json(&body.to_string());
        let workspaces = shared::testing::WorkspaceBuilder::around(std::sync::Arc::new(self.client.clone()))
            .handoff(self.handoff.clone())
            .guard(self.guard.clone())
            .build();
        let response = shared::routes::reply_to_conversation(&workspaces, request).await;
        let json = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        (response.status().as_u16(), json)
    }
}

/// `(topic, handling, handoff)` of each event.
fn shape(events: &[Value]) -> Vec<(String, String, Value)> {
    events
        .iter()
        .map(|e| {
            (
                e["topic"].as_str().unwrap_or_default().to_owned(),
                e["handling"].as_str().unwrap_or_default().to_owned(),
                e["handoff"].clone(),
            )
        })
        .collect()
}

async fn the_loop(throughprism: bool) {
    let Some(lp) = Loop::start(throughprism).await else { return };
    let fake = lp.fake.handle();
    let mut seen = 0;
    let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").cloned()).expect("Jane is seeded");

    // The customer writes: the AI's.
    let id = fake.add_conversation(&jane.id, "Where is my refund?").expect("a conversation").id.to_string();
    let events = lp.relayed(&mut seen).await;
    assert_eq!(shape(&events), [("conversation.user.created".into(), "ai".into(), Value::Null)], "{events:#?}");

    // The agent answers (its own reply is not relayed back to it).
    let (status, body) = lp.reply(json!({"conversationId": id, "body": "Let me check that for you."})).await;
    assert_eq!((status, &body["messageType"]), (200, &json!("comment")), "{body}");
    assert_eq!(lp.relayed(&mut seen).await, Vec::<Value>::new());

    // Grace takes it: the agent hears that a human took over.
    lp.client.assign_conversation(&id, GRACE, &Assignee::Admin(GRACE.into())).await.expect("Grace assigns herself");
    let events = lp.relayed(&mut seen).await;
    assert_eq!(
        shape(&events),
        [("conversation.admin.assigned".into(), "human".into(), json!("human_took_over"))],
        "{events:#?}"
    );
    assert_eq!(events[0]["owner"]["id"], GRACE);

    // The customer writes again: relayed, marked as a human's.
    fake.add_contact_reply(&id, "Any news?").expect("the customer replies");
    let events = lp.relayed(&mut seen).await;
    assert_eq!(shape(&events), [("conversation.user.replied".into(), "human".into(), Value::Null)], "{events:#?}");

    // The agent may not talk over Grace, but may leave her a note.
    let (status, body) = lp.reply(json!({"conversationId": id, "body": "Your refund is on its way."})).await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("human_handles_conversation")), "{body}");
    assert_eq!(body["error"]["owner"]["id"], GRACE);
    let (status, body) =
        lp.reply(json!({"conversationId": id, "body": "Stripe shows the refund", "messageType": "note"})).await;
    assert_eq!(status, 200, "{body}");
    let _ = lp.relayed(&mut seen).await; // the AI's own note is not the agent's news

    // Grace hands it back: the webhook assigns the AI and the agent hears it.
    lp.client
        .reply(&id, MessageKind::Note, GRACE, &shared::intercom::AdminMessage::html("<p>/ai resume</p>"))
        .await
        .expect("Grace notes /ai resume");
    let events = lp.relayed(&mut seen).await;
    let resumed: Vec<_> = shape(&events).into_iter().filter(|(_, _, handoff)| !handoff.is_null()).collect();
    assert_eq!(resumed, [("conversation.admin.noted".into(), "ai".into(), json!("returned_to_ai"))], "{events:#?}");

    let (status, body) = lp.reply(json!({"conversationId": id, "body": "Your refund is on its way."})).await;
    assert_eq!(status, 200, "{body}");
    let conversation = fake.conversation(&id).expect("the conversation");
    let ai_comments = conversation
        .parts
        .iter()
        .filter(|p| p.part_type == "comment" && p.author.id == ADA_AI && p.author.kind == "admin")
        .count();
    assert_eq!(ai_comments, 2, "the first answer and the one after /ai resume; nothing while Grace had it");
    if let Some(prism) = &lp.prism {
        let log = prism.log();
        let violations: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("Violation") || l.contains('✖'))
            .filter(|l| !l.contains("_prism_ready_probe") && !l.to_ascii_lowercase().contains("warning"))
            .collect();
        assert!(violations.is_empty(), "{violations:#?}");
    }
}

#[tokio::test]
async fn the_hand_off_loop_both_ways() {
    the_loop(false).await;
}

#[tokio::test]
async fn the_hand_off_loop_both_ways_throughprism() {
    the_loop(true).await;
}

#[tokio::test]
async fn an_escalated_conversation_is_a_humans_when_the_customer_writes_again() {
    let Some(lp) = Loop::start(false).await else { return };
    let fake = lp.fake.handle();
    let settings = EscalationSettings { routing: Routing::parse(Some("*=Support")).unwrap(), ..Default::default() };
    let request = json!({"sessionId":"loop-1","userEmail":"jane@example.com","confidence":0.2,
        "lastMessage":"I need a person"});
    let workspaces = shared::testing::WorkspaceBuilder::around(std::sync::Arc::new(lp.client.clone()))
        .store(std::sync::Arc::new(MemoryStore::new()))
        .escalation(settings)
        .guard(lp.guard.clone())
        .build();
    let response = shared::routes::escalate(&workspaces, shared::testing::post_json(&request.to_string())).await;
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(body["humansAvailable"], true, "{body}");
    let id = body["conversationId"].as_str().expect("escalated").to_owned();
    let mut seen = 0;
    let _ = lp.relayed(&mut seen).await;
    fake.add_contact_reply(&id, "Hello? Anyone?").expect("the customer replies");
    let events = lp.relayed(&mut seen).await;
    let shape: Vec<(String, String)> =
        shape(&events).into_iter().map(|(topic, handling, _)| (topic, handling)).collect();
    assert_eq!(shape, [("conversation.user.replied".into(), "human".into())], "{events:#?}");
    assert_eq!(events[0]["owner"]["type"], "team", "routed to Support: {events:#?}");
}

/// The gate's price: one conversation read before the comment. Measured against the fake answering in 60 ms.
#[tokio::test]
async fn the_gate_costs_one_conversation_read() {
    let stack = Stack::direct().await;
    let fake = stack.handle();
    let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").cloned()).unwrap();
    let id = fake.add_conversation(&jane.id, "Hi").unwrap().id.to_string();
    let handoff = HandoffSettings { admin_id: Some(ADA_AI.into()), ..Default::default() };
    let c = &stack.client;
    let reply = |body: Value| stack.call(body, |i| actions::reply_respecting_handoff(c, &handoff, i, Attempt::FIRST));
    // Warm: the acting admin (GET /me) is resolved once per container.
    assert_eq!(reply(json!({"conversationId": id, "body": "warm", "messageType": "note"})).await.0, 200);
    fake.set_latency(Duration::from_millis(60));

    let mut measured = Vec::new();
    for (label, message_type) in [("note", "note"), ("comment", "comment")] {
        fake.clear_requests();
        let started = Instant::now();
        let (status, body) = reply(json!({"conversationId": id, "body": label, "messageType": message_type})).await;
        let elapsed = started.elapsed().as_millis();
        assert_eq!(status, 200, "{body}");
        let requests = fake.requests();
        let paths: Vec<String> = requests.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        measured.push((label, fake_intercom::sequential_round_trips(&requests), paths, elapsed));
    }
    eprintln!("reply gate cost (fake latency 60 ms): {measured:?}");
    let (_, note_trips, note_paths, note_ms) = &measured[0];
    let (_, comment_trips, comment_paths, comment_ms) = &measured[1];
    assert_eq!((*note_trips, note_paths.len()), (1, 1), "{note_paths:?}");
    assert_eq!((*comment_trips, comment_paths.len()), (2, 2), "{comment_paths:?}");
    assert!(comment_paths[0].starts_with("GET /conversations/"), "{comment_paths:?}");
    assert!(comment_ms > note_ms, "{measured:?}");
}

#[tokio::test]
async fn away_teammates_mean_no_humans_available_and_the_away_reply_is_posted() {
    let stack = Stack::direct().await;
    let fake = stack.handle();
    // Billing's only member is Grace; she is away.
    fake.set_admin_away(GRACE, true, false).expect("Grace goes away");
    let settings = EscalationSettings {
        routing: Routing::parse(Some("billing=Billing,*=Support")).unwrap(),
        away_reply: Some("Our team is away right now; we'll reply by 9am.".into()),
        ..Default::default()
    };
    let c = &stack.client;
    let request = json!({"sessionId":"away-1","userEmail":"jane@example.com","confidence":0.9,"category":"billing",
        "lastMessage":"I was charged twice"});
    let (status, body) = stack.call(request, |i| escalate(c, stack.store.as_ref(), &settings, i, None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["humansAvailable"], &body["awayReplyPosted"]), (&json!(false), &json!(true)), "{body}");
    let id = body["conversationId"].as_str().unwrap();
    let conversation = fake.conversation(id).unwrap();
    let away = conversation.parts.iter().find(|p| p.part_type == "comment").expect("the away reply");
    assert_eq!(away.author.id, ADA_AI);
    assert!(away.body.as_deref().unwrap_or_default().contains("reply by 9am"));

    // The admin list is read once a minute per container, not once per escalation.
    fake.clear_requests();
    let again = json!({"sessionId":"away-2","userEmail":"jane@example.com","confidence":0.1,"lastMessage":"hello?"});
    let (status, body) = stack.call(again, |i| escalate(c, stack.store.as_ref(), &settings, i, None)).await;
    assert_eq!(status, 200, "{body}");
    assert!(fake.requests().iter().all(|r| r.path != "/admins"), "served from the 60 s cache");
    // Support has Grace (away) and the AI only.
    assert_eq!(body["humansAvailable"], false, "{body}");
}
