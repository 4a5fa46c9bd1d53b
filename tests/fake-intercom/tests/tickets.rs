//! Tickets, the help center and companies as Intercom runs them: attributes checked against the ticket
//! type, states and assignees, ticket webhooks with the ticket as `data.item`, article search, and the
//! control routes that seed articles and ticket types.

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

const GRACE: &str = "991268";

async fn call(server: &FakeServer, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", server.base_url())).bearer_auth("t");
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

async fn receive(State(r): State<Arc<Mutex<Vec<Value>>>>, body: Bytes) -> StatusCode {
    r.lock().expect("lock").push(serde_json::from_slice(&body).unwrap_or_default());
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_lifecycle_sends_intercoms_ticket_webhooks() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = Router::new().route("/hooks", post(receive)).with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config = WebhookConfig::new(format!("http://{addr}/hooks"), "secret");
    let fake = FakeIntercom::builder().seed_demo().webhook_config(config).start().await.expect("start");
    let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
    let deletion =
        fake.with_state(|s| s.ticket_types.iter().find(|t| t.name == "Account deletion").cloned()).expect("type");
    let resolved = fake.with_state(|s| {
        s.ticket_states
            .iter()
            .find(|st| st.category == fake_intercom::state::StateCategory::Resolved)
            .map(|st| st.id.clone())
    });

    let (status, ticket) = call(
        &fake,
        Method::POST,
        "/tickets",
        Some(json!({"ticket_type_id": deletion.id, "contacts": [{"id": jane}],
                    "ticket_attributes": {"_default_title_": "Delete my account", "Confirmed identity": true,
                                          "Deletion deadline": 1_800_000_000}})),
    )
    .await;
    assert_eq!(status, 200, "{ticket}");
    let id = ticket["id"].as_str().expect("id").to_owned();
    let path = format!("/tickets/{id}");
    let update = |body: Value| call(&fake, Method::PUT, &path, Some(body));
    assert_eq!(update(json!({"admin_id": "991267", "assignee_id": GRACE})).await.0, 200);
    assert_eq!(
        call(
            &fake,
            Method::POST,
            &format!("{path}/reply"),
            Some(json!({"message_type": "note", "type": "admin", "admin_id": GRACE, "body": "Checked"}))
        )
        .await
        .0,
        200
    );
    let (status, done) = update(json!({"ticket_state_id": resolved, "open": false})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!((done["open"].as_bool(), done["ticket_state"]["category"].as_str()), (Some(false), Some("resolved")));

    tokio::time::timeout(Duration::from_secs(10), fake.flush_webhooks()).await.expect("flushed");
    let received = received.lock().expect("lock").clone();
    let topics: Vec<&str> = received.iter().filter_map(|v| v["topic"].as_str()).collect();
    assert_eq!(
        topics,
        [
            "ticket.created",
            "ticket.admin.assigned",
            "ticket.note.created",
            "ticket.state.updated",
            "ticket.resolved",
            "ticket.closed"
        ]
    );
    for v in &received {
        let item = &v["data"]["item"];
        assert_eq!((item["type"].as_str(), item["id"].as_str()), (Some("ticket"), Some(id.as_str())), "{v}");
        assert_eq!(v["app_id"], "fk3demo1");
    }
    assert_eq!(received[1]["data"]["item"]["admin_assignee_id"], 991268);
    assert_eq!(received[4]["data"]["item"]["ticket_state"]["category"], "resolved");
    let deliveries = fake.webhook_deliveries();
    assert!(deliveries.iter().all(|d| d.conversation_id == id), "ticket deliveries name the ticket");
}

#[tokio::test]
async fn ticket_attributes_are_checked_against_the_type() {
    let fake = FakeIntercom::builder().seed_demo().start().await.expect("start");
    let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
    let legal = fake.with_state(|s| s.ticket_types.iter().find(|t| t.name == "Legal request").cloned()).expect("type");
    let create = |attrs: Value| {
        call(
            &fake,
            Method::POST,
            "/tickets",
            Some(json!({"ticket_type_id": legal.id, "contacts": [{"id": jane}], "ticket_attributes": attrs})),
        )
    };
    let (status, body) = create(json!({"_default_description_": "no title"})).await;
    assert_eq!((status, message(&body)), (400, "Ticket attribute '_default_title_' is required"));
    let (status, body) = create(json!({"_default_title_": "t", "Amount": 3})).await;
    assert_eq!(
        (status, message(&body)),
        (400, "Ticket attribute 'Amount' does not exist on ticket type 'Legal request'")
    );
    let (status, body) = create(json!({"_default_title_": 42})).await;
    assert_eq!((status, message(&body)), (400, "Ticket attribute '_default_title_' must be of type string"));
    let (status, body) = create(json!({"_default_title_": "t", "Jurisdiction": "EU"})).await;
    assert_eq!(status, 400);
    assert!(
        message(&body).starts_with("Ticket attribute 'Jurisdiction' must be the id of one of its list items: "),
        "{body}"
    );
    assert!(message(&body).contains("(EU)"));
    assert_eq!(fake.with_state(|s| s.tickets.len()), 0, "nothing was created");

    let (status, body) = call(
        &fake,
        Method::POST,
        "/tickets",
        Some(json!({"ticket_type_id": "1", "contacts": [{"id": jane}], "ticket_attributes": {"_default_title_": "t"}})),
    )
    .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("ticket_type_id")));
    let (status, _) = call(
        &fake,
        Method::POST,
        "/tickets",
        Some(json!({"ticket_type_id": legal.id, "contacts": [{"email": "nobody@example.com"}], "ticket_attributes": {"_default_title_": "t"}})),
    )
    .await;
    assert_eq!(status, 404);

    // An update checks the same way, and changes nothing when refused.
    let (_, ticket) = create(json!({"_default_title_": "t"})).await;
    let path = format!("/tickets/{}", ticket["id"].as_str().expect("id"));
    let (status, _) =
        call(&fake, Method::PUT, &path, Some(json!({"ticket_attributes": {"_default_title_": "new", "Nope": 1}})))
            .await;
    assert_eq!(status, 400);
    let (_, unchanged) = call(&fake, Method::GET, &path, None).await;
    assert_eq!(unchanged["ticket_attributes"]["_default_title_"], "t");
}

#[tokio::test]
async fn control_routes_seed_articles_and_ticket_types_and_search_finds_them() {
    let fake = FakeIntercom::builder().seed_demo().start().await.expect("start");
    let (status, article) = call(
        &fake,
        Method::POST,
        "/__fake/articles",
        Some(json!({"title": "Shipping times", "body": "Parcels arrive in 3 days.", "description": "Delivery"})),
    )
    .await;
    assert_eq!((status, article["state"].as_str()), (200, Some("published")));
    let (_, found) =
        call(&fake, Method::GET, "/articles/search?phrase=when+will+my+parcel+arrive&state=published", None).await;
    assert_eq!(found["data"]["articles"][0]["title"], "Shipping times");
    let (status, internal) = call(
        &fake,
        Method::POST,
        "/__fake/articles",
        Some(json!({"title": "Courier contacts", "body": "Call DHL.", "internal": true})),
    )
    .await;
    assert_eq!((status, internal["type"].as_str()), (200, Some("internal_article")));
    let (_, public) = call(&fake, Method::GET, "/articles/search?phrase=courier", None).await;
    assert_eq!(public["total_count"], 0, "internal articles are never public");
    let (_, internal_found) = call(&fake, Method::GET, "/internal_articles/search?phrase=courier", None).await;
    assert_eq!(internal_found["data"]["internal_articles"][0]["title"], "Courier contacts");

    let (status, made) = call(
        &fake,
        Method::POST,
        "/__fake/ticket_types",
        Some(json!({"name": "Chargeback", "category": "Back-office",
                    "attributes": [{"name": "Bank", "data_type": "list", "options": ["Chase", "HSBC"], "required": true}]})),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let names: Vec<&str> = made["ticket_type_attributes"]["data"]
        .as_array()
        .expect("attrs")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["_default_title_", "_default_description_", "Bank"]);
    let (_, types) = call(&fake, Method::GET, "/ticket_types", None).await;
    assert_eq!(types["data"].as_array().map(Vec::len), Some(5));
    let (status, _) = call(
        &fake,
        Method::POST,
        "/__fake/ticket_types",
        Some(json!({"name": "X", "attributes": [{"name": "Y", "data_type": "list"}]})),
    )
    .await;
    assert_eq!(status, 400, "a list needs options");
}
