//! A short invocation deadline and a slow dependency: every function class answers with a defined error before
//! the deadline (so the platform never times the function out and the caller learns what happened).

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_intercom::Fault;
use integration_tests::{Stack, moto};
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::actions::escalate;
use shared::config::{AgentAuth, Config};
use shared::edge::{serve, serve_keyed, serve_write};
use shared::escalation::EscalationSettings;
use shared::http::{Accepts, AgentGuard};
use shared::intercom::IntercomClient;
use shared::secrets::SecretStore;
use shared::testing::{json_body, post_json, with_deadline};
use shared::{actions, deadline};

/// What the Lambda context gives each request here.
const DEADLINE: Duration = Duration::from_millis(1500);
/// Longer than the deadline: the dependency never answers in time.
const SLOW: Duration = Duration::from_secs(20);
const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:intercom-agent-AbCdEf";

fn request(body: Value) -> lambda_http::Request {
    with_deadline(post_json(&body.to_string()), DEADLINE)
}

/// The answer's status, code and body, after checking it came before the deadline.
fn answered_in_time(started: Instant, response: &Response<Body>) -> (u16, String, Value) {
    let elapsed = started.elapsed();
    assert!(elapsed < DEADLINE, "answered after {elapsed:?}, past the {DEADLINE:?} deadline");
    let body = json_body(response);
    (response.status().as_u16(), body["error"]["code"].as_str().unwrap_or_default().to_owned(), body)
}

/// A Secrets Manager endpoint that accepts connections and never answers.
async fn hung_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    url
}

async fn hung_secret_store() -> Arc<SecretStore> {
    let sdk = moto::sdk_config_for(&hung_endpoint().await).await;
    Arc::new(SecretStore::secrets_manager(ARN, &sdk, shared::secrets::DEFAULT_TTL))
}

#[tokio::test]
async fn a_read_with_a_slow_intercom_answers_504_before_the_deadline() {
    let stack = Stack::direct().await;
    stack.handle().inject(Fault::delay(SLOW, "GET", "/conversations/*").times(10));
    let c = &stack.client;
    let started = Instant::now();
    let response = serve(request(json!({"conversationId": "1"})), &stack.workspaces(), Accepts::PostJson, |_, i| {
        actions::get_conversation(c, i)
    })
    .await;
    let (status, code, body) = answered_in_time(started, &response);
    assert_eq!((status, code.as_str()), (504, "intercom_timeout"), "{body}");
}

#[tokio::test]
async fn a_write_with_a_slow_intercom_answers_before_the_deadline_without_an_unknown_outcome() {
    let stack = Stack::direct().await;
    stack.handle().inject(Fault::delay(SLOW, "POST", "/conversations/*/reply").times(10));
    let c = &stack.client;
    let jane = stack.handle().with_state(|s| s.contact_by_email("jane@example.com").cloned()).expect("jane");
    let id = stack.handle().add_conversation(&jane.id, "Where is my parcel?").expect("a conversation").id.to_string();
    let started = Instant::now();
    let body = json!({"conversationId": id, "body": "On its way.", "adminId": "991267"});
    let handoff = shared::handoff::HandoffSettings::default();
    let response = serve_write(request(body), &stack.workspaces(), "reply-to-conversation", |_, i, attempt| {
        actions::reply_respecting_handoff(c, &handoff, i, attempt)
    })
    .await;
    let (status, code, body) = answered_in_time(started, &response);
    // Too little time is left to send a write whose outcome could then not be known: it is not started.
    assert_eq!((status, code.as_str()), (504, "intercom_timeout"), "{body}");
    assert!(stack.handle().requests_to("POST", "/conversations/*/reply").is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_escalation_with_a_slow_intercom_answers_before_the_deadline() {
    let stack = Stack::direct().await;
    stack.handle().inject(Fault::delay(SLOW, "POST", "/contacts/search").times(10));
    let c = &stack.client;
    let store = stack.store.as_ref();
    let settings = EscalationSettings::default();
    let started = Instant::now();
    let body = json!({"sessionId": "s-deadline", "userEmail": "jane@example.com", "confidence": 0.1,
        "lastMessage": "I want a human"});
    let response =
        serve_keyed(request(body), &stack.workspaces(), |_, i, key| escalate(c, store, &settings, i, key)).await;
    let (status, code, body) = answered_in_time(started, &response);
    assert_eq!((status, code.as_str()), (504, "intercom_timeout"), "{body}");
}

#[tokio::test]
async fn a_hung_secrets_manager_is_a_503_before_the_deadline_that_names_the_variable_not_the_arn() {
    let store = hung_secret_store().await;
    let config = Config::from_lookup(|name| match name {
        "INTERCOM_API_BASE" => Some("http://127.0.0.1:9".into()),
        "INTERCOM_SECRET_ARN" => Some(ARN.into()),
        _ => None,
    })
    .unwrap();
    let client = IntercomClient::new(&config, store);
    let workspaces = integration_tests::deployment(
        client.clone(),
        Arc::new(shared::store::memory::MemoryStore::new()),
        AgentGuard::iam(),
    );
    let started = Instant::now();
    let response = serve(request(json!({"conversationId": "1"})), &workspaces, Accepts::PostJson, |_, i| {
        actions::get_conversation(&client, i)
    })
    .await;
    let (status, code, body) = answered_in_time(started, &response);
    assert_eq!((status, code.as_str()), (503, "token_unavailable"), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("INTERCOM_SECRET_ARN") && message.contains("time ran out"), "{message}");
    assert!(!body.to_string().contains("123456789012") && !body.to_string().contains("intercom-agent"), "{body}");
}

#[tokio::test]
async fn the_api_key_check_with_a_hung_secrets_manager_answers_before_the_deadline() {
    let guard = AgentGuard::new(AgentAuth::ApiKey, hung_secret_store().await);
    let client = integration_tests::client_for("http://127.0.0.1:9", Default::default());
    let workspaces = integration_tests::deployment(client, Arc::new(shared::store::memory::MemoryStore::new()), guard);
    let started = Instant::now();
    let response =
        serve(request(json!({"conversationId": "1"})), &workspaces, Accepts::PostJson, |_, _: Value| async {
            Ok::<_, shared::http::ActionError>(json!({}))
        })
        .await;
    let (status, code, body) = answered_in_time(started, &response);
    assert_eq!((status, code.as_str()), (503, "token_unavailable"), "{body}");
}

#[tokio::test]
async fn the_webhooks_secret_read_is_bounded_by_the_deadline() {
    // The webhook handler reads its keys inside the invocation's deadline scope, as here.
    let store = hung_secret_store().await;
    let started = Instant::now();
    let read = deadline::scope(started + DEADLINE, store.get()).await;
    assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
    let err = read.unwrap_err();
    assert!(err.to_string().contains("INTERCOM_SECRET_ARN") && !err.to_string().contains(ARN), "{err}");
}
