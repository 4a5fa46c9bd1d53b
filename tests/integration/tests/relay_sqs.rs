//! The durable relay on moto: `intercom-webhook` enqueues on an SQS FIFO queue and answers at once;
//! `relay-to-agent`'s batch logic ([`relay_batch`]) consumes it the way Lambda's event source mapping does
//! (receive, relay, delete all but `batchItemFailures`), with a redrive policy to a dead-letter queue.
//!
//! Shown: the agent down for a while → every delivery still answered (fast), nothing lost, each event accepted
//! by the agent exactly once and in order per conversation after it returns; a poison event → dead-letter queue
//! after `maxReceiveCount` attempts while the others go through.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use integration_tests::moto::{self, Moto};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::queue::sqs::SqsQueue;
use shared::store::dynamodb::DynamoStore;
use shared::webhook::verify::{sign_for_agent, sign_intercom};
use shared::webhook::{Delivered, QueuedMessage, WebhookKeys, WebhookService, WebhookSettings, fixtures, relay_batch};

const TABLE: &str = "idempotency";
const CLIENT_SECRET: &str = "client-secret";
const AGENT_SECRET: &str = "agent-secret";
/// The agent's time to answer; the webhook's acknowledgement never waits for it.
const RELAY_TIMEOUT_MS: u64 = 400;

/// The agent's endpoint: down (503 after a pause) or up; a conversation listed as poison is always refused (400).
struct Agent {
    url: String,
    up: AtomicBool,
    poison_conversation: Mutex<Option<String>>,
    /// Every request: (notification id, conversation id, status answered), in arrival order.
    requests: Mutex<Vec<(String, String, u16)>>,
}

impl Agent {
    async fn start() -> Arc<Agent> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let agent = Arc::new(Agent {
            url: format!("http://{}/events", listener.local_addr().unwrap()),
            up: AtomicBool::new(true),
            poison_conversation: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().route("/events", axum::routing::post(receive)).with_state(agent.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        agent
    }

    /// Notification ids the agent accepted (2xx), in order, for one conversation.
    fn accepted(&self, conversation: &str) -> Vec<String> {
        let requests = self.requests.lock().unwrap();
        requests.iter().filter(|(_, c, s)| c == conversation && *s < 300).map(|(n, _, _)| n.clone()).collect()
    }

    fn attempts(&self, notification: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|(n, _, _)| n == notification).count()
    }
}

async fn receive(State(agent): State<Arc<Agent>>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(signature, sign_for_agent(AGENT_SECRET.as_bytes(), &body), "every relay is signed");
    let event: Value = serde_json::from_slice(&body).unwrap();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(event["notificationId"], key.as_str(), "Idempotency-Key is the notification id");
    let conversation = event["conversation"]["id"].as_str().unwrap_or_default().to_string();
    let (status, down) = if agent.poison_conversation.lock().unwrap().as_deref() == Some(conversation.as_str()) {
        (StatusCode::BAD_REQUEST, false)
    } else if agent.up.load(Ordering::SeqCst) {
        (StatusCode::ACCEPTED, false)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, true)
    };
    // Recorded first: the relay gives up on a hung agent, which drops this handler.
    agent.requests.lock().unwrap().push((key, conversation, status.as_u16()));
    if down {
        // Down as a hung agent is: slower than the relay timeout, then an error.
        tokio::time::sleep(Duration::from_millis(RELAY_TIMEOUT_MS + 200)).await;
    }
    status
}

/// A FIFO queue and its FIFO dead-letter queue as template.yaml defines them, with a short visibility timeout
/// (the backoff) so the test runs in seconds. Returns (queue URL, dead-letter queue URL).
async fn queues(sqs: &Client, name: &str, max_receive_count: u32) -> (String, String) {
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .send()
        .await
        .unwrap();
    let dlq_url = dlq.queue_url().unwrap().to_string();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap();
    let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}).to_string();
    let queue = sqs
        .create_queue()
        .queue_name(format!("{name}.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .unwrap();
    (queue.queue_url().unwrap().to_string(), dlq_url)
}

fn settings(agent: &Agent) -> WebhookSettings {
    let env = [("AGENT_WEBHOOK_URL", agent.url.clone()), ("AGENT_RELAY_TIMEOUT_MS", RELAY_TIMEOUT_MS.to_string())];
    WebhookSettings::from_lookup(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())).unwrap()
}

/// `intercom-webhook` (enqueues) and `relay-to-agent` (relays), separate containers sharing the table.
async fn functions(moto: &Moto, agent: &Agent, queue_url: &str) -> (WebhookService, WebhookService) {
    let config = moto.sdk_config().await;
    let webhook = WebhookService::from_settings(&settings(agent))
        .unwrap()
        .with_store(Arc::new(DynamoStore::new(&config, TABLE)))
        .with_queue(Arc::new(SqsQueue::new(&config, queue_url)));
    let relay =
        WebhookService::from_settings(&settings(agent)).unwrap().with_store(Arc::new(DynamoStore::new(&config, TABLE)));
    (webhook, relay)
}

fn keys<'a>(client: &'a SecretString, agent: &'a SecretString) -> WebhookKeys<'a> {
    WebhookKeys { client_secret: Some(client), agent_webhook_secret: Some(agent), ..Default::default() }
}

/// Intercom's `conversation.user.replied` for `conversation`, notification `id`.
fn delivery(conversation: &str, id: &str) -> String {
    let mut value: Value = serde_json::from_str(fixtures::USER_REPLIED).unwrap();
    value["id"] = json!(id);
    value["data"]["item"]["id"] = json!(conversation);
    value.to_string()
}

/// Delivers like Intercom (signed) and returns the outcome and how long the webhook took to answer.
async fn deliver(webhook: &WebhookService, body: &str) -> (Delivered, Duration) {
    let (client, agent) = (SecretString::from(CLIENT_SECRET), SecretString::from(AGENT_SECRET));
    let signature = sign_intercom(CLIENT_SECRET.as_bytes(), body.as_bytes());
    let started = Instant::now();
    let outcome = webhook.handle(keys(&client, &agent), Some(&signature), body.as_bytes()).await.unwrap();
    (outcome, started.elapsed())
}

/// One poll of the event source mapping: receive, run the batch, delete all but the failures.
///
/// Short polls: scripts/moto-server.py serves one request at a time, so a long poll would hold up the store.
/// One message per receive: moto (5.2) breaks FIFO order when two messages of a group are in flight and their
/// visibility times out (it skips the first and hands out the second), which SQS never does. The batch logic
/// (a failure holds back the rest of its group) has its own tests in shared::webhook::batch.
async fn poll_once(sqs: &Client, queue_url: &str, relay: &WebhookService) -> usize {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(1)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let messages = received.messages();
    let batch: Vec<QueuedMessage> = messages
        .iter()
        .map(|m| {
            let attribute = |name| m.attributes().and_then(|a| a.get(&name)).cloned();
            QueuedMessage {
                message_id: m.message_id().unwrap().to_string(),
                group_id: attribute(MessageSystemAttributeName::MessageGroupId),
                body: m.body().unwrap().to_string(),
                receive_count: attribute(MessageSystemAttributeName::ApproximateReceiveCount)
                    .and_then(|c| c.parse().ok()),
            }
        })
        .collect();
    let (client, agent) = (SecretString::from(CLIENT_SECRET), SecretString::from(AGENT_SECRET));
    let failed = relay_batch(relay, keys(&client, &agent), &batch).await;
    let receipts: HashMap<&str, &str> =
        messages.iter().map(|m| (m.message_id().unwrap(), m.receipt_handle().unwrap())).collect();
    for message in batch.iter().filter(|m| !failed.contains(&m.message_id)) {
        sqs.delete_message()
            .queue_url(queue_url)
            .receipt_handle(receipts[message.message_id.as_str()])
            .send()
            .await
            .unwrap();
    }
    batch.len()
}

/// Polls like the event source mapping until `done` or `within` passes.
async fn poll_until(sqs: &Client, queue_url: &str, relay: &WebhookService, within: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < within, "not done after {within:?}");
        if poll_once(sqs, queue_url, relay).await == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn depth(sqs: &Client, queue_url: &str) -> u64 {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let get =
        |name| attributes.attributes().and_then(|a| a.get(&name)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(QueueAttributeName::ApproximateNumberOfMessages)
        + get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_down_loses_nothing_and_each_event_arrives_once_in_order() {
    let Some(moto) = moto::start(None).await else { return };
    moto.create_idempotency_table(TABLE);
    let sqs = Client::new(&moto.sdk_config().await);
    let (queue_url, dlq_url) = queues(&sqs, "relay-outage", 100).await;
    let agent = Agent::start().await;
    let (webhook, relay) = functions(&moto, &agent, &queue_url).await;
    agent.up.store(false, Ordering::SeqCst);

    // Two conversations, interleaved, and one of Intercom's redeliveries.
    let sent =
        [("147", "notif_a1"), ("200", "notif_b1"), ("147", "notif_a2"), ("147", "notif_a3"), ("200", "notif_b2")];
    for (conversation, id) in sent {
        let (outcome, took) = deliver(&webhook, &delivery(conversation, id)).await;
        assert_eq!(outcome, Delivered::Queued { notification_id: Some(id.into()) });
        assert!(took < Duration::from_millis(RELAY_TIMEOUT_MS), "answered in {took:?}, without waiting for the agent");
    }
    let (again, _) = deliver(&webhook, &delivery("147", "notif_a1")).await;
    assert_eq!(again, Delivered::Duplicate { notification_id: "notif_a1".into() });

    // The outage: the heads of both conversations are tried and fail; nothing behind them is sent out of turn.
    let outage = Instant::now();
    while outage.elapsed() < Duration::from_secs(3) {
        if poll_once(&sqs, &queue_url, &relay).await == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(agent.attempts("notif_a1") >= 2, "retried during the outage: {:?}", agent.requests.lock().unwrap());
    assert_eq!(agent.attempts("notif_a2") + agent.attempts("notif_b2"), 0, "later events wait behind the head");
    assert!(agent.accepted("147").is_empty() && agent.accepted("200").is_empty());
    assert_eq!(depth(&sqs, &queue_url).await, 5, "nothing lost while the agent is down");

    agent.up.store(true, Ordering::SeqCst);
    poll_until(&sqs, &queue_url, &relay, Duration::from_secs(30), || {
        agent.accepted("147").len() + agent.accepted("200").len() >= 5
    })
    .await;
    // Let the mapping run a little more: nothing is delivered again.
    for _ in 0..5 {
        poll_once(&sqs, &queue_url, &relay).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(agent.accepted("147"), ["notif_a1", "notif_a2", "notif_a3"], "once each, in order");
    assert_eq!(agent.accepted("200"), ["notif_b1", "notif_b2"], "once each, in order");
    assert_eq!(depth(&sqs, &queue_url).await, 0);
    assert_eq!(depth(&sqs, &dlq_url).await, 0);

    // Intercom redelivering a relayed notification a day later is still a duplicate, not a second event.
    let (late, _) = deliver(&webhook, &delivery("200", "notif_b2")).await;
    assert_eq!(late, Delivered::Duplicate { notification_id: "notif_b2".into() });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_event_ends_in_the_dead_letter_queue_after_n_attempts() {
    const MAX_RECEIVES: u32 = 3;
    let Some(moto) = moto::start(None).await else { return };
    moto.create_idempotency_table(TABLE);
    let sqs = Client::new(&moto.sdk_config().await);
    let (queue_url, dlq_url) = queues(&sqs, "relay-poison", MAX_RECEIVES).await;
    let agent = Agent::start().await;
    *agent.poison_conversation.lock().unwrap() = Some("666".into());
    let (webhook, relay) = functions(&moto, &agent, &queue_url).await;

    deliver(&webhook, &delivery("666", "notif_poison")).await;
    deliver(&webhook, &delivery("147", "notif_fine")).await;
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(30), "the poison event never reached the dead-letter queue");
        if depth(&sqs, &dlq_url).await == 1 {
            break;
        }
        if poll_once(&sqs, &queue_url, &relay).await == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(agent.attempts("notif_poison"), MAX_RECEIVES as usize, "tried maxReceiveCount times, then parked");
    assert_eq!(agent.accepted("147"), ["notif_fine"], "the other conversation was not held up");
    assert_eq!(depth(&sqs, &queue_url).await, 0);

    let parked = sqs.receive_message().queue_url(&dlq_url).send().await.unwrap();
    let body: Value = serde_json::from_str(parked.messages()[0].body().unwrap()).unwrap();
    assert_eq!(body["id"], "notif_poison", "the dead-letter queue keeps Intercom's notification, ready to redrive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queue_that_is_gone_is_a_503_for_intercom_to_redeliver() {
    let Some(moto) = moto::start(None).await else { return };
    moto.create_idempotency_table(TABLE);
    let agent = Agent::start().await;
    let missing = format!("{}/123456789012/missing.fifo", moto.url);
    let (webhook, _) = functions(&moto, &agent, &missing).await;
    let (client, agent_secret) = (SecretString::from(CLIENT_SECRET), SecretString::from(AGENT_SECRET));
    let body = delivery("147", "notif_lost");
    let signature = sign_intercom(CLIENT_SECRET.as_bytes(), body.as_bytes());
    let err = webhook.handle(keys(&client, &agent_secret), Some(&signature), body.as_bytes()).await.unwrap_err();
    assert!(err.status().is_server_error(), "{err:?}");
    assert!(err.to_string().contains("RELAY_QUEUE_URL"), "{err}");
    assert!(agent.requests.lock().unwrap().is_empty());
}

/// The acknowledgement path is table + queue only: its p99 with the agent hung is what Intercom sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_webhook_answers_in_milliseconds_while_the_agent_hangs() {
    const DELIVERIES: usize = 100;
    let Some(moto) = moto::start(None).await else { return };
    moto.create_idempotency_table(TABLE);
    let sqs = Client::new(&moto.sdk_config().await);
    let (queue_url, _) = queues(&sqs, "relay-ack", 100).await;
    let agent = Agent::start().await;
    agent.up.store(false, Ordering::SeqCst);
    let (webhook, _) = functions(&moto, &agent, &queue_url).await;
    deliver(&webhook, &delivery("1", "notif_warm")).await; // connections and the SDK's first call
    let mut took: Vec<Duration> = Vec::new();
    for i in 0..DELIVERIES {
        let (outcome, elapsed) = deliver(&webhook, &delivery(&(i % 7).to_string(), &format!("notif_ack_{i}"))).await;
        assert!(matches!(outcome, Delivered::Queued { .. }), "{outcome:?}");
        took.push(elapsed);
    }
    took.sort();
    let (p50, p99) = (took[DELIVERIES / 2], took[DELIVERIES * 99 / 100 - 1]);
    eprintln!("webhook acknowledgement with the agent hung, on moto: p50 {p50:?}, p99 {p99:?}");
    // Three calls to moto's Python server per delivery (claim, send, complete), on a shared CI machine: ~40 ms
    // p50 and ~100 ms p99 measured here; DynamoDB and SQS answer in single-digit ms. Bounded well below the
    // relay timeout, so a slow agent can never show through.
    assert!(p99 <= Duration::from_millis(250), "p99 {p99:?} (p50 {p50:?})");
    assert_eq!(depth(&sqs, &queue_url).await, DELIVERIES as u64 + 1);
    assert!(agent.requests.lock().unwrap().is_empty(), "the webhook never called the agent");
}
