//! The controllable clock: once set, every time the fake reports follows it — records' times, webhooks,
//! `X-RateLimit-Reset` and each answer's `Date` header — and team metrics' idleness is measured on it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use fake_intercom::{FakeIntercom, FakeServer, WebhookConfig};
use reqwest::Method;
use serde_json::{Value, json};

/// Saturday 7 March 2026, 10:00 UTC.
const SATURDAY: i64 = 1_772_877_600;

async fn call(
    server: &FakeServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", server.base_url())).bearer_auth("t");
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

async fn receive(State(r): State<Arc<Mutex<Vec<Value>>>>, body: Bytes) -> StatusCode {
    r.lock().expect("lock").push(serde_json::from_slice(&body).unwrap_or_default());
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reported_time_follows_a_set_clock() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = Router::new().route("/hooks", post(receive)).with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let fake = FakeIntercom::builder()
        .seed_demo()
        .webhook_config(WebhookConfig::new(format!("http://{addr}/hooks"), "s"))
        .start()
        .await
        .expect("start");

    let (status, headers, clock) =
        call(&fake, Method::POST, "/__fake/clock", Some(json!({"now": "2026-03-07T11:00:00+01:00"}))).await;
    assert_eq!(status, 200);
    assert_eq!(clock, json!({"now": "2026-03-07T10:00:00Z", "unix": SATURDAY, "set": true}));
    assert_eq!(header(&headers, "date"), "Sat, 07 Mar 2026 10:00:00 GMT", "control answers too");

    let (_, headers, contact) = call(&fake, Method::POST, "/contacts", Some(json!({"email": "sat@example.com"}))).await;
    assert_eq!(header(&headers, "date"), "Sat, 07 Mar 2026 10:00:00 GMT");
    assert_eq!((contact["created_at"].as_i64(), contact["updated_at"].as_i64()), (Some(SATURDAY), Some(SATURDAY)));
    let reset: i64 = header(&headers, "x-ratelimit-reset").parse().expect("reset");
    assert!((SATURDAY..=SATURDAY + 10).contains(&reset), "the rate-limit reset is on the fake's clock: {reset}");

    let body = json!({"from": {"type": "user", "id": contact["id"]}, "body": "Anyone there on a Saturday?"});
    let (_, _, message) = call(&fake, Method::POST, "/conversations", Some(body)).await;
    let conv = message["conversation_id"].as_str().expect("id").to_owned();
    assert_eq!(message["created_at"], SATURDAY);

    // Time moves only when told to.
    let (_, _, clock) = call(&fake, Method::POST, "/__fake/clock", Some(json!({"advance_secs": 3600}))).await;
    assert_eq!(clock["unix"], SATURDAY + 3600);
    let reply = json!({"message_type": "comment", "type": "admin", "admin_id": "991267", "body": "Yes!"});
    let (_, _, replied) = call(&fake, Method::POST, &format!("/conversations/{conv}/reply"), Some(reply)).await;
    assert_eq!(replied["updated_at"], SATURDAY + 3600);
    assert_eq!(replied["conversation_parts"]["conversation_parts"][0]["created_at"], SATURDAY + 3600);
    // "In the future" is judged on the fake's clock: a snooze to Monday 09:00 UTC is accepted.
    let monday = SATURDAY + 47 * 3600;
    let snooze = json!({"message_type": "snoozed", "admin_id": "991267", "snoozed_until": monday});
    let (status, _, snoozed) = call(&fake, Method::POST, &format!("/conversations/{conv}/parts"), Some(snooze)).await;
    assert_eq!((status, snoozed["snoozed_until"].as_i64()), (200, Some(monday)));
    let too_early = json!({"message_type": "snoozed", "admin_id": "991267", "snoozed_until": SATURDAY});
    assert_eq!(call(&fake, Method::POST, &format!("/conversations/{conv}/parts"), Some(too_early)).await.0, 400);

    tokio::time::timeout(Duration::from_secs(10), fake.flush_webhooks()).await.expect("flushed");
    let received = received.lock().expect("lock").clone();
    let created = received.iter().find(|v| v["topic"] == "conversation.user.created").expect("created webhook");
    assert_eq!((created["created_at"].as_i64(), created["first_sent_at"].as_i64()), (Some(SATURDAY), Some(SATURDAY)));
    let replied = received.iter().find(|v| v["topic"] == "conversation.admin.replied").expect("reply webhook");
    assert_eq!(replied["created_at"], SATURDAY + 3600);
    assert!(fake.webhook_deliveries().iter().all(|d| d.attempts.iter().all(|a| a.sent_at >= SATURDAY)));

    // Back to real time.
    let (_, headers, clock) = call(&fake, Method::POST, "/__fake/clock", Some(json!({"now": null}))).await;
    assert_eq!(clock["set"], false);
    let real = clock["unix"].as_i64().expect("unix");
    assert!(!(SATURDAY..=SATURDAY + 3600).contains(&real), "real time again");
    assert_ne!(header(&headers, "date"), "Sat, 07 Mar 2026 11:00:00 GMT");
    let (status, _, _) = call(&fake, Method::POST, "/__fake/clock", Some(json!({"now": "Saturday"}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn team_metrics_count_each_teammates_conversations_on_the_fakes_clock() {
    let fake = FakeIntercom::builder().seed_demo().start().await.expect("start");
    fake.set_clock(Some(SATURDAY));
    let billing = fake.teams().into_iter().find(|t| t.name == "Billing").expect("Billing");
    let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
    let grace = fake_intercom::state::DEMO_HUMAN_ADMIN_ID;
    let alan = fake_intercom::state::DEMO_SECOND_BILLING_ADMIN_ID;
    let assign = |to: &str| {
        let id = fake.add_conversation(&jane, "help").expect("conversation").id.to_string();
        fake.with_state(|s| s.assign(&id, "991267", fake_intercom::AssigneeKind::Admin, to, None)).expect("assign");
        id
    };
    let (_a, b, c) = (assign(grace), assign(grace), assign(alan));
    fake.with_state(|s| s.snooze(&b, "991267", SATURDAY + 3600)).expect("snooze");
    fake.with_state(|s| s.close(&c, "991267", None)).expect("close");
    let path = format!("/teams/{}/metrics", billing.id);
    let (_, _, now) = call(&fake, Method::GET, &path, None).await;
    assert_eq!(
        now["data"],
        json!([
            {"type": "team_metric", "admin_id": grace, "open": 1, "idle": 0, "snoozed": 1},
            {"type": "team_metric", "admin_id": alan, "open": 0, "idle": 0, "snoozed": 0},
        ])
    );
    fake.advance_clock(1800);
    let (_, _, later) = call(&fake, Method::GET, &path, None).await;
    assert_eq!(later["data"][0]["idle"], 1, "waiting 30 minutes (the default threshold) is idle");
    let (_, _, strict) = call(&fake, Method::GET, &format!("{path}?idle_threshold=3600"), None).await;
    assert_eq!(strict["data"][0]["idle"], 0);

    // Without the real-time feature, Intercom's 403.
    let (status, _, _) = call(&fake, Method::PUT, "/__fake/config", Some(json!({"realtime_monitoring": false}))).await;
    assert_eq!(status, 204);
    let (status, _, refused) = call(&fake, Method::GET, &path, None).await;
    assert_eq!((status, refused["errors"][0]["code"].as_str()), (403, Some("api_plan_restricted")));
}
