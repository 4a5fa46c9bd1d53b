//! Nothing a customer sees is created twice: concurrent escalations of one session and concurrent replies with
//! one idempotency key, each from its own Intercom client and its own DynamoDB client (as separate containers
//! are), on the fake Intercom with Intercom's latency and search lag, and the idempotency table on moto.

use std::sync::Arc;
use std::time::Duration;

use fake_intercom::{FakeIntercom, Fault};
use integration_tests::moto::{self, Moto};
use integration_tests::{TOKEN, client_for};
use lambda_http::Body;
use serde_json::{Value, json};
use shared::escalation::{EscalationSettings, Routing};

use shared::intercom::{IntercomClient, RetryPolicy};
use shared::store::Store;
use shared::store::dynamodb::DynamoStore;
use shared::testing;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

const CONTAINERS: usize = 8;
const TABLE: &str = "idempotency";

struct Container {
    intercom: IntercomClient,
    store: Arc<dyn Store>,
}

/// `CONTAINERS` pairs of clients (Intercom, store), none shared.
async fn containers(fake_base: &str, moto: &Moto) -> Vec<Arc<Container>> {
    let mut all = Vec::new();
    for _ in 0..CONTAINERS {
        let store: Arc<dyn Store> = Arc::new(DynamoStore::new(&moto.sdk_config().await, TABLE));
        all.push(Arc::new(Container { intercom: client_for(fake_base, RetryPolicy::default()), store }));
    }
    all
}

fn settings() -> EscalationSettings {
    EscalationSettings { routing: Routing::parse(Some("billing=Billing,*=Support")).unwrap(), ..Default::default() }
}

fn status_and_json(response: lambda_http::Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let json = match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        other => serde_json::from_slice(other.as_ref()).unwrap_or(Value::Null),
    };
    (status, json)
}

/// Runs `call` in every container at once (released together) and returns the answers.
async fn race<F, Fut>(containers: &[Arc<Container>], call: F) -> Vec<(u16, Value)>
where
    F: Fn(Arc<Container>) -> Fut,
    Fut: Future<Output = (u16, Value)> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(containers.len()));
    let mut tasks = JoinSet::new();
    for container in containers {
        let barrier = barrier.clone();
        let fut = call(container.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            fut.await
        });
    }
    tasks.join_all().await
}

async fn start() -> Option<(fake_intercom::FakeServer, Moto)> {
    let moto = moto::start(None).await?;
    moto.create_idempotency_table(TABLE);
    let fake = FakeIntercom::builder()
        .seed_demo()
        .valid_tokens([TOKEN])
        .latency(Duration::from_millis(40))
        .search_lag(Duration::from_secs(120))
        .start()
        .await
        .expect("the fake starts");
    Some((fake, moto))
}

#[tokio::test]
async fn concurrent_escalations_of_one_session_open_one_conversation() {
    let Some((fake, moto)) = start().await else { return };
    // Intercom's real search latency, on every search of the race.
    fake.inject(Fault::delay(Duration::from_millis(250), "POST", "/contacts/search").times(100));
    let count_before = fake
        .handle()
        .with_state(|s| s.contact_by_email("jane@example.com").cloned())
        .and_then(|c| c.custom_attributes.get("escalation_count").and_then(Value::as_i64))
        .unwrap_or(0);
    let all = containers(&fake.base_url(), &moto).await;
    let body = json!({"sessionId":"race-1","userEmail":"jane@example.com","confidence":0.9,"category":"billing",
        "lastMessage":"I was charged twice","transcript":[{"role":"customer","text":"charged twice"}]})
    .to_string();
    let answers = race(&all, |c| {
        let body = body.clone();
        async move {
            let settings = settings();
            let response = shared::routes::escalate(&deploy(&c, settings.clone()), testing::post_json(&body)).await;
            status_and_json(response)
        }
    })
    .await;

    let conversations = fake.handle().conversations();
    assert_eq!(conversations.len(), 1, "one conversation for one session: {answers:?}");
    let id = conversations[0].id.to_string();
    let notes = conversations[0].parts.iter().filter(|p| p.part_type == "note").count();
    assert_eq!(notes, 1, "one transcript note");
    let first = answers.iter().filter(|(s, b)| *s == 200 && b["alreadyEscalated"] == false).count();
    assert_eq!(first, 1, "exactly one request escalated: {answers:?}");
    for (status, answer) in &answers {
        match status {
            200 => assert_eq!(answer["conversationId"], id.as_str(), "{answer}"),
            409 => assert_eq!(answer["error"]["code"], "idempotency_key_in_use", "{answer}"),
            other => panic!("unexpected answer {other}: {answer}"),
        }
    }
    let count_after = fake
        .handle()
        .with_state(|s| s.contact_by_email("jane@example.com").cloned())
        .and_then(|c| c.custom_attributes.get("escalation_count").and_then(Value::as_i64));
    assert_eq!(count_after, Some(count_before + 1), "escalation_count went up by one");

    // A retry after the race, from yet another container: the first answer, nothing written.
    let requests_before = fake.handle().requests().len();
    let late = &containers(&fake.base_url(), &moto).await[0];
    let settings = settings();
    let (status, answer) =
        status_and_json(shared::routes::escalate(&deploy(late, settings.clone()), testing::post_json(&body)).await);
    assert_eq!(
        (status, answer["alreadyEscalated"].clone(), answer["conversationId"].clone()),
        (200, json!(true), json!(id))
    );
    assert_eq!(fake.handle().requests().len(), requests_before, "a replay sends nothing to Intercom");
}

async fn open_conversation(fake: &fake_intercom::FakeServer) -> String {
    let jane = fake.handle().with_state(|s| s.contact_by_email("jane@example.com").cloned()).expect("jane");
    fake.handle().add_conversation(&jane.id, "Where is my refund?").expect("a conversation").id.to_string()
}

/// One container as a deployment of the workspace: its client and its store.
fn deploy(container: &Container, settings: shared::escalation::EscalationSettings) -> shared::workspace::Workspaces {
    testing::WorkspaceBuilder::around(Arc::new(container.intercom.clone()))
        .store(container.store.clone())
        .escalation(settings)
        .build()
}

fn reply_request(body: &Value, key: &str) -> lambda_http::Request {
    let mut request = testing::post_json(&body.to_string());
    request.headers_mut().insert("idempotency-key", key.parse().unwrap());
    request
}

async fn reply(container: &Container, body: &Value, key: &str) -> (u16, Value) {
    let deployment = deploy(container, Default::default());
    let response = shared::routes::reply_to_conversation(&deployment, reply_request(body, key)).await;
    status_and_json(response)
}

fn comments_with(fake: &fake_intercom::FakeServer, id: &str, text: &str) -> usize {
    let conversation = fake.handle().conversation(id).expect("the conversation exists");
    conversation
        .parts
        .iter()
        .filter(|p| p.part_type == "comment" && p.body.as_deref().is_some_and(|b| b.contains(text)))
        .count()
}

#[tokio::test]
async fn concurrent_replies_with_one_key_post_one_part() {
    let Some((fake, moto)) = start().await else { return };
    let id = open_conversation(&fake).await;
    let all = containers(&fake.base_url(), &moto).await;
    let body = json!({"conversationId": id, "body": "Refund issued."});
    let answers = race(&all, |c| {
        let body = body.clone();
        async move { reply(&c, &body, "reply-key-1").await }
    })
    .await;
    assert_eq!(comments_with(&fake, &id, "Refund issued."), 1, "{answers:?}");
    let ok: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
    assert!(!ok.is_empty());
    assert!(ok.iter().all(|b| b["partId"] == ok[0]["partId"]), "every 200 names the same part: {answers:?}");
    for (status, answer) in &answers {
        assert!(
            *status == 200 || (*status == 409 && answer["error"]["code"] == "idempotency_key_in_use"),
            "{status} {answer}"
        );
    }

    // The same key with another body is the agent's mistake.
    let other = json!({"conversationId": id, "body": "Something else"});
    let (status, answer) = reply(&all[0], &other, "reply-key-1").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (422, Some("idempotency_key_reused")), "{answer}");
    assert_eq!(comments_with(&fake, &id, "Something else"), 0);
}

#[tokio::test]
async fn a_lost_reply_is_posted_once_whatever_its_format() {
    let Some((fake, moto)) = start().await else { return };
    let id = open_conversation(&fake).await;
    let container = &containers(&fake.base_url(), &moto).await[0];
    for (n, body) in [
        "<p>Refund issued.</p><p>Anything else?</p>",
        "**Refund** issued.\n\nAnything else?\n\n- card ending 4242\n- 2 days",
        "Refund issued.\nLine two, with x < y & z.",
    ]
    .into_iter()
    .enumerate()
    {
        fake.inject(Fault::process_then_fail(504, "POST", "/conversations/*/reply"));
        let before = fake.handle().conversation(&id).unwrap().parts.len();
        let (status, answer) =
            reply(container, &json!({"conversationId": id, "body": body}), &format!("lost-{n}")).await;
        assert_eq!(status, 200, "the read-back found the reply: {answer}");
        let after = fake.handle().conversation(&id).unwrap().parts.len();
        assert_eq!(after - before, 1, "exactly one part for {body:?}");
        assert_eq!(fake.handle().requests_to("POST", "/conversations/*/reply").len(), n + 1, "never re-sent");
    }
}

#[tokio::test]
async fn a_store_outage_is_503_and_nothing_reaches_intercom() {
    let Some((fake, _moto)) = start().await else { return };
    let id = open_conversation(&fake).await;
    fake.handle().clear_requests();
    // Nothing listens on port 9: the store cannot be reached.
    let down: Arc<dyn Store> = Arc::new(DynamoStore::new(&moto::sdk_config_for("http://127.0.0.1:9").await, TABLE));
    let container = Container { intercom: client_for(&fake.base_url(), RetryPolicy::default()), store: down };
    let (status, answer) = reply(&container, &json!({"conversationId": id, "body": "Hello"}), "k").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (503, Some("idempotency_unavailable")), "{answer}");
    let settings = settings();
    let body = json!({"sessionId":"down-1","userEmail":"jane@example.com","confidence":0.1,"lastMessage":"help"});
    let (status, answer) = status_and_json(
        shared::routes::escalate(&deploy(&container, settings.clone()), testing::post_json(&body.to_string())).await,
    );
    assert_eq!((status, answer["error"]["code"].as_str()), (503, Some("idempotency_unavailable")), "{answer}");
    assert!(fake.handle().requests().is_empty(), "no Intercom call: {:?}", fake.handle().requests().len());
}
