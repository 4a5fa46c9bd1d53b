//! Webhooks as Intercom sends them: a tiny receiver checks the signature, the envelope and the
//! conversation item of every delivery, and sees each topic once (plus redeliveries of failures).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use fake_intercom::{DeliveryStatus, FakeIntercom, WebhookConfig};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;

const SECRET: &str = "client-secret-of-the-app";
const ADA: &str = "991267";
const GRACE: &str = "991268";

/// (`X-Hub-Signature` header, raw body) of one POST.
type Received = (String, Vec<u8>);

#[derive(Clone, Default)]
struct Receiver {
    /// Every POST, in arrival order.
    received: Arc<Mutex<Vec<Received>>>,
    /// Topics whose first attempt is answered 500.
    fail_first: Arc<Mutex<HashSet<String>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    r.received.lock().expect("lock").push((signature, body.to_vec()));
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let topic = v["topic"].as_str().unwrap_or_default();
    if v["delivery_attempts"] == 1 && r.fail_first.lock().expect("lock").contains(topic) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::OK
}

async fn start_receiver() -> (Receiver, String) {
    let receiver = Receiver::default();
    let app = Router::new().route("/hooks", post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, format!("http://{addr}/hooks"))
}

fn expected_signature(raw: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(raw);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

async fn call(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let resp = http.post(format!("{base}{path}")).bearer_auth("t").json(&body).send().await.expect("send");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_topic_is_delivered_signed_in_intercoms_envelope() {
    let (receiver, url) = start_receiver().await;
    receiver.fail_first.lock().expect("lock").insert("conversation.admin.noted".to_owned());
    let config = WebhookConfig { backoff: Duration::from_millis(50), ..WebhookConfig::new(url, SECRET) };
    let fake = FakeIntercom::builder().seed_demo().webhook_config(config).start().await.expect("start");
    let base = fake.base_url();
    let http = reqwest::Client::new();
    let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");

    let created =
        call(&http, &base, "/conversations", json!({"from": {"type": "user", "id": jane}, "body": "Charged twice"}))
            .await;
    let id = created["conversation_id"].as_str().expect("id").to_owned();
    let reply = format!("/conversations/{id}/reply");
    let parts = format!("/conversations/{id}/parts");
    call(&http, &base, &reply, json!({"message_type": "comment", "type": "admin", "admin_id": ADA, "body": "On it"}))
        .await;
    call(&http, &base, &reply, json!({"message_type": "note", "type": "admin", "admin_id": GRACE, "body": "Refund?"}))
        .await;
    call(
        &http,
        &base,
        &parts,
        json!({"message_type": "assignment", "type": "admin", "admin_id": ADA, "assignee_id": GRACE}),
    )
    .await;
    call(&http, &base, &parts, json!({"message_type": "snoozed", "admin_id": GRACE, "snoozed_until": now() + 600}))
        .await;
    // The customer answers (control route): reopens the snoozed conversation.
    let conv =
        call(&http, &base, &format!("/__fake/conversations/{id}/customer_reply"), json!({"body": "Still waiting"}))
            .await;
    assert_eq!(conv["state"], "open");
    call(
        &http,
        &base,
        &parts,
        json!({"message_type": "close", "type": "admin", "admin_id": GRACE, "body": "Refunded"}),
    )
    .await;
    call(&http, &base, &parts, json!({"message_type": "open", "admin_id": GRACE})).await;

    tokio::time::timeout(Duration::from_secs(10), fake.flush_webhooks()).await.expect("webhooks flushed in time");

    let received = receiver.received.lock().expect("lock").clone();
    assert_eq!(received.len(), 9, "8 topics, one of them redelivered once");
    let mut seen = Vec::new();
    let mut ids = HashSet::new();
    for (signature, raw) in &received {
        assert_eq!(signature, &expected_signature(raw), "X-Hub-Signature is HMAC-SHA1 of the raw body");
        let v: Value = serde_json::from_slice(raw).expect("json body");
        for key in [
            "type",
            "app_id",
            "data",
            "links",
            "id",
            "topic",
            "delivery_status",
            "delivery_attempts",
            "delivered_at",
            "first_sent_at",
            "created_at",
            "self",
        ] {
            assert!(v.get(key).is_some(), "envelope without {key}: {v}");
        }
        assert_eq!(
            (v["type"].as_str(), v["data"]["type"].as_str()),
            (Some("notification_event"), Some("notification_event_data"))
        );
        let notif = v["id"].as_str().expect("id");
        assert!(notif.starts_with("notif_") && notif.len() == 42, "{notif}");
        let item = &v["data"]["item"];
        assert_eq!((item["type"].as_str(), item["id"].as_str()), (Some("conversation"), Some(id.as_str())));
        if v["delivery_attempts"] == 1 {
            seen.push(v["topic"].as_str().expect("topic").to_owned());
            assert!(ids.insert(notif.to_owned()), "ids are unique per notification");
        } else {
            assert_eq!(v["topic"], "conversation.admin.noted");
            assert!(ids.contains(notif), "a redelivery keeps the notification id");
        }
    }
    assert_eq!(
        seen,
        [
            "conversation.user.created",
            "conversation.admin.replied",
            "conversation.admin.noted",
            "conversation.admin.assigned",
            "conversation.admin.snoozed",
            "conversation.user.replied",
            "conversation.admin.closed",
            "conversation.admin.opened",
        ],
        "each topic once, in the conversation's order"
    );

    // The item holds only the part(s) that triggered the event.
    let body = |topic: &str| -> Value {
        received
            .iter()
            .filter_map(|(_, raw)| serde_json::from_slice::<Value>(raw).ok())
            .find(|v| v["topic"] == topic)
            .expect("delivered")
    };
    let created = body("conversation.user.created");
    assert_eq!(
        created["data"]["item"]["conversation_parts"],
        json!({"type": "conversation_part.list", "conversation_parts": [], "total_count": 0})
    );
    assert_eq!(created["data"]["item"]["source"]["body"], "<p>Charged twice</p>");
    let replied = body("conversation.user.replied");
    let part = &replied["data"]["item"]["conversation_parts"]["conversation_parts"];
    assert_eq!(part.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (part[0]["author"]["type"].as_str(), part[0]["body"].as_str()),
        (Some("user"), Some("<p>Still waiting</p>"))
    );
    let noted = body("conversation.admin.noted");
    assert_eq!(noted["data"]["item"]["conversation_parts"]["conversation_parts"][0]["author"]["id"], GRACE);
    let assigned = body("conversation.admin.assigned");
    assert_eq!(assigned["data"]["item"]["admin_assignee_id"], 991268);
    assert_eq!(body("conversation.admin.closed")["data"]["item"]["state"], "closed");

    // The record: every notification delivered, the noted one after a second attempt.
    let deliveries = fake.webhook_deliveries();
    assert_eq!(deliveries.len(), 8);
    assert!(deliveries.iter().all(|d| d.status == DeliveryStatus::Delivered && d.conversation_id == id));
    let noted = deliveries.iter().find(|d| d.topic == "conversation.admin.noted").expect("noted");
    let statuses: Vec<Option<u16>> = noted.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(200)]);
    let over_http: Value =
        http.get(format!("{base}/__fake/webhooks/deliveries")).send().await.expect("send").json().await.expect("json");
    assert_eq!(over_http["count"], 8);
    assert_eq!(over_http["deliveries"][2]["attempts"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_receivers_are_retried_then_given_up_and_topics_filter() {
    let fake = FakeIntercom::builder().seed_demo().start().await.expect("start");
    let base = fake.base_url();
    let http = reqwest::Client::new();
    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    let r = http
        .put(format!("{base}/__fake/webhooks"))
        .json(&json!({"url": format!("http://{closed}/hooks"), "client_secret": SECRET, "max_attempts": 3, "backoff_ms": 10,
                      "topics": ["conversation.user.created"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
    let conv = fake.add_conversation(&jane, "Hello?").expect("conversation");
    fake.add_contact_reply(&conv.id.to_string(), "Anyone?").expect("reply"); // not a subscribed topic
    let flushed: Value =
        http.post(format!("{base}/__fake/webhooks/flush")).send().await.expect("send").json().await.expect("json");
    assert_eq!(flushed["count"], 1, "{flushed}");
    let delivery = &fake.webhook_deliveries()[0];
    assert_eq!((delivery.topic.as_str(), delivery.status), ("conversation.user.created", DeliveryStatus::Failed));
    assert_eq!(delivery.attempts.len(), 3);
    assert!(delivery.attempts.iter().all(|a| a.status.is_none() && a.error.as_deref() == Some("connection failed")));
    assert_eq!(delivery.body["delivery_attempts"], 3);

    let bad = http
        .put(format!("{base}/__fake/webhooks"))
        .json(&json!({"url": "http://x/h", "client_secret": "s", "topics": ["conversation.deleted"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
    assert_eq!(http.delete(format!("{base}/__fake/webhooks/deliveries")).send().await.expect("send").status(), 204);
    let r = http.put(format!("{base}/__fake/webhooks")).json(&json!({"url": null})).send().await.expect("send");
    assert_eq!(r.status(), 200);
    fake.add_conversation(&jane, "Quiet now").expect("conversation");
    fake.flush_webhooks().await;
    assert!(fake.webhook_deliveries().is_empty(), "no webhooks once switched off");
}
