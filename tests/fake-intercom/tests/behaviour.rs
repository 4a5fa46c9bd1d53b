//! The fake's state rules, inspection, fault injection and control endpoints, over HTTP.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fake_intercom::state::AdminReplyKind;
use fake_intercom::{DataType, FakeIntercom, FakeServer, Fault, NewContact, SearchLag, sequential_round_trips};
use reqwest::Method;
use serde_json::{Value, json};

const ADA: &str = "991267";
const GRACE: &str = "991268";

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or_default()
    }

    fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or_default()
    }
}

struct Api {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Api {
    fn new(server: &FakeServer, token: &str) -> Api {
        Api { base: server.base_url(), http: reqwest::Client::new(), token: token.to_owned() }
    }

    async fn call_with(&self, token: Option<&str>, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_with(Some(&self.token.clone()), method, path, body).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }
}

async fn demo() -> (FakeServer, Api) {
    let server = FakeIntercom::builder().seed_demo().start().await.expect("start");
    let api = Api::new(&server, "token");
    (server, api)
}

async fn new_conversation(api: &Api, contact_id: &str) -> String {
    let r = api.post("/conversations", json!({"from": {"type": "user", "id": contact_id}, "body": "Hello"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["conversation_id"].as_str().expect("conversation_id").to_owned()
}

fn jane_id(server: &FakeServer) -> String {
    server.contacts().into_iter().find(|c| c.email.as_deref() == Some("jane@example.com")).expect("jane").id
}

#[tokio::test]
async fn demo_seed_and_me() {
    let (server, api) = demo().await;
    let me = api.get("/me").await;
    assert_eq!(me.status, 200);
    assert_eq!((me.body["id"].as_str(), me.body["name"].as_str()), (Some(ADA), Some("Ada AI")));
    let teams = api.get("/teams").await;
    let names: Vec<&str> =
        teams.body["teams"].as_array().expect("teams").iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["Billing", "Legal", "Support"]);
    let jane = api.get("/contacts/find_by_external_id/6123abc").await;
    assert_eq!(jane.body["email"], "jane@example.com");
    assert_eq!(jane.body["id"], jane_id(&server).as_str());
    assert_eq!(server.me().map(|a| a.id), Some(ADA.to_owned()));
}

#[tokio::test]
async fn admins_away_mode() {
    let (server, api) = demo().await;
    let admins = api.get("/admins").await.body;
    for admin in admins["admins"].as_array().expect("admins") {
        // Billing's second teammate, Alan Turing, starts away; every other demo admin is there.
        let away = admin["id"] == fake_intercom::state::DEMO_SECOND_BILLING_ADMIN_ID;
        assert_eq!(
            (admin["away_mode_enabled"].as_bool(), admin["away_mode_reassign"].as_bool()),
            (Some(away), Some(false))
        );
        assert_eq!(admin["has_inbox_seat"], true);
        assert!(admin["team_ids"].is_array());
    }
    let grace = api.get(&format!("/admins/{GRACE}")).await.body;
    assert_eq!(grace["team_ids"].as_array().map(Vec::len), Some(2), "Billing and Support");

    let r = api
        .put(
            &format!("/admins/{GRACE}/away"),
            json!({"away_mode_enabled": true, "away_mode_reassign": true, "away_status_reason_id": 7}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["away_mode_enabled"].as_bool(), r.body["away_status_reason_id"].as_i64()),
        (200, Some(true), Some(7))
    );
    assert!(server.admins().iter().any(|a| a.id == GRACE && a.away_mode_enabled && a.away_mode_reassign));
    assert_eq!(api.get(&format!("/admins/{GRACE}")).await.body["away_mode_reassign"], true);
    let r = api.put(&format!("/admins/{GRACE}/away"), json!({"away_mode_enabled": false})).await;
    assert_eq!((r.status, r.code()), (400, "parameter_not_found"));
    let r = api.put("/admins/1/away", json!({"away_mode_enabled": true, "away_mode_reassign": false})).await;
    assert_eq!((r.status, r.code()), (404, "admin_not_found"));
    let back = server.set_admin_away(GRACE, false, false).expect("grace");
    assert_eq!((back.away_mode_enabled, back.away_status_reason_id), (false, None));
}

#[tokio::test]
async fn conflict_archive_unarchive_flow() {
    let (server, api) = demo().await;
    let jane = jane_id(&server);

    let dup = api.post("/contacts", json!({"role": "user", "email": "JANE@example.com"})).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "conflict");
    assert_eq!(dup.message(), format!("A contact matching those details already exists with id={jane}"));
    let dup = api.post("/contacts", json!({"external_id": "6123abc"})).await;
    assert_eq!(dup.status, 409);

    let archived = api.post(&format!("/contacts/{jane}/archive"), json!({})).await;
    assert_eq!(archived.body, json!({"type": "contact", "id": jane, "external_id": "6123abc", "archived": true}));
    assert_eq!(api.get(&format!("/contacts/{jane}")).await.status, 404);
    assert_eq!(api.get("/contacts/find_by_external_id/6123abc").await.status, 404);
    let search = api
        .post("/contacts/search", json!({"query": {"field": "email", "operator": "=", "value": "jane@example.com"}}))
        .await;
    assert_eq!(search.body["total_count"], 0);
    let dup = api.post("/contacts", json!({"email": "jane@example.com"})).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.message(), format!("An archived contact matching those details already exists with id={jane}"));
    // Conversations cannot be started for an archived contact.
    let conv = api.post("/conversations", json!({"from": {"type": "user", "id": jane}, "body": "hi"})).await;
    assert_eq!((conv.status, conv.message()), (404, "User Not Found"));

    let back = api.post(&format!("/contacts/{jane}/unarchive"), json!({})).await;
    assert_eq!(back.body["archived"], false);
    assert_eq!(api.get(&format!("/contacts/{jane}")).await.status, 200);
    let dup = api.post("/contacts", json!({"email": "jane@example.com"})).await;
    assert!(dup.message().starts_with("A contact matching"), "{}", dup.message());
    assert_eq!(api.post("/contacts/ffffffffffffffffffffffff/unarchive", json!({})).await.status, 404);
}

#[tokio::test]
async fn contacts_create_update_and_validate() {
    let (_server, api) = demo().await;
    let created = api
        .post(
            "/contacts",
            json!({"role": "user", "email": "max@example.com", "external_id": "u-1", "name": "Max",
                   "custom_attributes": {"plan": "free", "seats": 1}}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 24);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    for key in ["workspace_id", "email_domain", "created_at", "updated_at", "tags", "notes", "companies", "location"] {
        assert!(!created.body[key].is_null(), "{key} missing");
    }
    assert_eq!(created.body["tags"]["url"], format!("/contacts/{id}/tags"));

    let updated = api
        .put(&format!("/contacts/{id}"), json!({"custom_attributes": {"plan": null, "seats": 2, "vip": true}}))
        .await;
    assert_eq!(updated.body["custom_attributes"], json!({"seats": 2, "vip": true}));
    let taken = api.put(&format!("/contacts/{id}"), json!({"email": "jane@example.com"})).await;
    assert_eq!(taken.status, 409);

    let bad_role = api.post("/contacts", json!({"role": "visitor", "email": "v@example.com"})).await;
    assert_eq!((bad_role.status, bad_role.code()), (400, "parameter_invalid"));
    let nothing = api.post("/contacts", json!({"name": "No One"})).await;
    assert_eq!((nothing.status, nothing.code()), (400, "parameter_not_found"));
    let bad_email = api.post("/contacts", json!({"email": "not an email"})).await;
    assert_eq!((bad_email.status, bad_email.code()), (400, "parameter_invalid"));
    let bad_json = api
        .http
        .post(format!("{}/contacts", api.base))
        .bearer_auth("token")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(bad_json.status(), 400);
    let body: Value = bad_json.json().await.expect("json");
    assert_eq!(body["errors"][0]["code"], "parameter_invalid");
    let lead = api.post("/contacts", json!({"role": "lead"})).await;
    assert_eq!((lead.status, lead.body["email"].as_str()), (200, Some("")));
}

#[tokio::test]
async fn search_index_delay_hides_new_contacts_until_indexed() {
    let server = FakeIntercom::builder().seed_demo().search_index_delay(true).start().await.expect("start");
    let api = Api::new(&server, "t");
    let by_email = json!({"query": {"field": "email", "operator": "=", "value": "new@example.com"}});

    let created = api.post("/contacts", json!({"email": "new@example.com"})).await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(api.post("/contacts/search", by_email.clone()).await.body["total_count"], 0);
    // The id from POST /contacts works at once; and the seeded contact is searchable.
    assert_eq!(api.get(&format!("/contacts/{id}")).await.status, 200);
    let jane = api
        .post("/contacts/search", json!({"query": {"field": "external_id", "operator": "=", "value": "6123abc"}}))
        .await;
    assert_eq!(jane.body["total_count"], 1);

    server.index_search();
    assert_eq!(api.post("/contacts/search", by_email.clone()).await.body["total_count"], 1);

    // Same over HTTP, and switched off at runtime.
    api.post("/contacts", json!({"email": "later@example.com"})).await;
    let later = json!({"query": {"field": "email", "operator": "=", "value": "later@example.com"}});
    assert_eq!(api.post("/contacts/search", later.clone()).await.body["total_count"], 0);
    let r = api.post("/__fake/search/index", json!({})).await;
    assert_eq!(r.status, 204);
    assert_eq!(api.post("/contacts/search", later).await.body["total_count"], 1);
    server.set_search_index_delay(false);
    api.post("/contacts", json!({"email": "now@example.com"})).await;
    let now = json!({"query": {"field": "email", "operator": "=", "value": "now@example.com"}});
    assert_eq!(api.post("/contacts/search", now).await.body["total_count"], 1);
}

#[tokio::test]
async fn search_serves_the_old_version_of_a_contact_changed_after_indexing() {
    let server = FakeIntercom::builder().seed_demo().search_index_delay(true).start().await.expect("start");
    let api = Api::new(&server, "t");
    let jane = jane_id(&server);
    let by_plan = |plan: &str| json!({"query": {"field": "custom_attributes.plan", "operator": "=", "value": plan}});

    let r =
        api.put(&format!("/contacts/{jane}"), json!({"name": "Jane Roe", "custom_attributes": {"plan": "team"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // GET sees the change; search still matches and renders the indexed (old) version.
    assert_eq!(api.get(&format!("/contacts/{jane}")).await.body["name"], "Jane Roe");
    assert_eq!(api.post("/contacts/search", by_plan("team")).await.body["total_count"], 0);
    let old = api.post("/contacts/search", by_plan("pro")).await.body;
    assert_eq!(old["total_count"], 1);
    assert_eq!(
        (old["data"][0]["name"].as_str(), old["data"][0]["custom_attributes"]["plan"].as_str()),
        (Some("Jane Doe"), Some("pro"))
    );

    server.index_search();
    assert_eq!(api.post("/contacts/search", by_plan("pro")).await.body["total_count"], 0);
    let new = api.post("/contacts/search", by_plan("team")).await.body;
    assert_eq!(new["data"][0]["name"], "Jane Roe");
}

#[tokio::test]
async fn search_lag_in_time_mode_trails_by_the_configured_age() {
    let server =
        FakeIntercom::builder().seed_demo().search_lag(Duration::from_millis(400)).start().await.expect("start");
    let api = Api::new(&server, "t");
    let by_email = json!({"query": {"field": "email", "operator": "=", "value": "lag@example.com"}});
    let created = api.post("/contacts", json!({"email": "lag@example.com", "name": "First"})).await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(api.post("/contacts/search", by_email.clone()).await.body["total_count"], 0, "too young to be found");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(api.post("/contacts/search", by_email.clone()).await.body["data"][0]["name"], "First");

    api.put(&format!("/contacts/{id}"), json!({"name": "Second"})).await;
    assert_eq!(api.post("/contacts/search", by_email.clone()).await.body["data"][0]["name"], "First");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(api.post("/contacts/search", by_email.clone()).await.body["data"][0]["name"], "Second");

    // Over HTTP: a longer lag, then off (search catches up at once).
    let r = api.call_with(None, Method::PUT, "/__fake/config", Some(json!({"search_lag_ms": 60_000}))).await;
    assert_eq!(r.status, 204);
    assert_eq!(server.search_lag(), SearchLag::Time(Duration::from_secs(60)));
    api.put(&format!("/contacts/{id}"), json!({"name": "Third"})).await;
    assert_eq!(api.post("/contacts/search", by_email.clone()).await.body["data"][0]["name"], "Second");
    let r = api.call_with(None, Method::PUT, "/__fake/config", Some(json!({"search_lag_ms": 0}))).await;
    assert_eq!(r.status, 204);
    assert_eq!(api.post("/contacts/search", by_email).await.body["data"][0]["name"], "Third");
    let bad = api.call_with(None, Method::PUT, "/__fake/config", Some(json!({"search_lag_ms": "soon"}))).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_delay_fault_slows_every_search_while_it_lasts() {
    let (server, api) = demo().await;
    let q = json!({"query": {"field": "email", "operator": "=", "value": "jane@example.com"}});
    let r = api
        .call_with(
            None,
            Method::POST,
            "/__fake/faults",
            Some(
                json!({"kind": "delay", "method": "POST", "path": "/contacts/search", "delay_ms": 200, "times": 1000}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for _ in 0..2 {
        let t = Instant::now();
        let r = api.post("/contacts/search", q.clone()).await;
        assert_eq!(r.body["total_count"], 1);
        assert!(t.elapsed() >= Duration::from_millis(200));
    }
    let t = Instant::now();
    assert_eq!(api.get("/me").await.status, 200);
    assert!(t.elapsed() < Duration::from_millis(200), "other routes are not delayed");
    assert_eq!(server.pending_faults()[0].times, 998);
}

#[tokio::test]
async fn search_queries_and_pagination() {
    let (server, api) = demo().await;
    for i in 0..5 {
        server
            .add_contact(NewContact::user(&format!("user{i}@corp.example")).external_id(&format!("c{i}")))
            .expect("contact");
    }
    let q = |query: Value| json!({ "query": query });
    let r = api.post("/contacts/search", q(json!({"field": "email", "operator": "$", "value": "@corp.example"}))).await;
    assert_eq!(r.body["total_count"], 5);
    let r = api
        .post(
            "/contacts/search",
            q(json!({"operator": "AND", "value": [
                {"field": "email", "operator": "~", "value": "corp"},
                {"operator": "OR", "value": [
                    {"field": "external_id", "operator": "=", "value": "c1"},
                    {"field": "external_id", "operator": "IN", "value": ["c3", "c4"]}
                ]}
            ]})),
        )
        .await;
    assert_eq!(r.body["total_count"], 3);
    let r = api
        .post(
            "/contacts/search",
            json!({
                "query": {"field": "email", "operator": "$", "value": "@corp.example"},
                "pagination": {"per_page": 2}
            }),
        )
        .await;
    assert_eq!((r.body["pages"]["total_pages"].as_i64(), r.body["data"].as_array().map(Vec::len)), (Some(3), Some(2)));
    let cursor = r.body["pages"]["next"]["starting_after"].clone();
    let r2 = api
        .post(
            "/contacts/search",
            json!({
                "query": {"field": "email", "operator": "$", "value": "@corp.example"},
                "pagination": {"per_page": 2, "starting_after": cursor}
            }),
        )
        .await;
    assert_eq!(r2.body["pages"]["page"], 2);
    assert_ne!(r2.body["data"][0]["id"], r.body["data"][0]["id"]);
    let bad = api.post("/contacts/search", q(json!({"field": "shoe_size", "operator": "=", "value": 1}))).await;
    assert_eq!((bad.status, bad.code()), (400, "parameter_invalid"));
    let missing = api.post("/contacts/search", json!({})).await;
    assert_eq!((missing.status, missing.code()), (400, "parameter_not_found"));
}

#[tokio::test]
async fn conversation_lifecycle() {
    let (server, api) = demo().await;
    let jane = jane_id(&server);
    let created =
        api.post("/conversations", json!({"from": {"type": "user", "id": jane}, "body": "I was charged twice"})).await;
    assert_eq!(created.body["type"], "user_message");
    assert_eq!(created.body["message_type"], "inapp");
    let id = created.body["conversation_id"].as_str().expect("id").to_owned();
    assert!(id.chars().all(|c| c.is_ascii_digit()));

    let conv = api.get(&format!("/conversations/{id}")).await.body;
    assert_eq!(conv["source"]["author"]["id"], jane.as_str());
    assert_eq!(conv["source"]["body"], "<p>I was charged twice</p>");
    assert_eq!(conv["contacts"]["contacts"][0]["external_id"], "6123abc");
    assert_eq!((conv["state"].as_str(), conv["open"].as_bool()), (Some("open"), Some(true)));
    // Nobody assigned: 0 in 2.16 (the default without `Intercom-Version`), null in 2.14 (prism_proxy.rs).
    assert_eq!(conv["admin_assignee_id"], 0);

    let r = api
        .post(
            &format!("/conversations/{id}/reply"),
            json!({"message_type": "comment", "type": "admin", "admin_id": ADA, "body": "On it"}),
        )
        .await;
    assert_eq!(r.body["conversation_parts"]["conversation_parts"][0]["author"]["name"], "Ada AI");
    assert_eq!(r.body["waiting_since"], Value::Null);
    let r = api
        .post(
            &format!("/conversations/{id}/reply"),
            json!({"message_type": "note", "type": "admin", "admin_id": ADA, "body": "internal"}),
        )
        .await;
    assert_eq!(r.body["conversation_parts"]["conversation_parts"][1]["part_type"], "note");

    let r = api
        .post(
            &format!("/conversations/{id}/parts"),
            json!({"message_type": "assignment", "type": "admin", "admin_id": ADA, "assignee_id": GRACE}),
        )
        .await;
    assert_eq!(r.body["admin_assignee_id"], 991268);
    let part = &r.body["conversation_parts"]["conversation_parts"][2];
    assert_eq!((part["part_type"].as_str(), part["assigned_to"]["id"].as_str()), (Some("assignment"), Some(GRACE)));
    let r = api
        .post(
            &format!("/conversations/{id}/parts"),
            json!({"message_type": "assignment", "type": "admin", "admin_id": ADA, "assignee_id": "0"}),
        )
        .await;
    assert_eq!(r.body["admin_assignee_id"], 0);

    let r = api
        .post(&format!("/conversations/{id}/parts"), json!({"message_type": "close", "type": "admin", "admin_id": ADA}))
        .await;
    assert_eq!((r.body["state"].as_str(), r.body["open"].as_bool()), (Some("closed"), Some(false)));
    // A customer reply reopens a closed conversation.
    let r = api
        .post(
            &format!("/conversations/{id}/reply"),
            json!({"message_type": "comment", "type": "user", "intercom_user_id": jane, "body": "Still broken"}),
        )
        .await;
    assert_eq!(r.body["state"], "open");
    assert_eq!(r.body["statistics"]["count_reopens"], 1);
    let until = unix_now() + 3600;
    let r = api
        .post(
            &format!("/conversations/{id}/parts"),
            json!({"message_type": "snoozed", "admin_id": ADA, "snoozed_until": until}),
        )
        .await;
    assert_eq!((r.body["state"].as_str(), r.body["snoozed_until"].as_i64()), (Some("snoozed"), Some(until)));
    let r = api.post(&format!("/conversations/{id}/parts"), json!({"message_type": "open", "admin_id": ADA})).await;
    assert_eq!((r.body["state"].as_str(), r.body["snoozed_until"].clone()), (Some("open"), Value::Null));

    let stored = server.conversation(&id).expect("stored");
    let kinds: Vec<&str> = stored.parts.iter().map(|p| p.part_type.as_str()).collect();
    assert_eq!(kinds, ["comment", "note", "assignment", "assignment", "close", "comment", "snoozed", "open"]);

    // Validation and unknown references.
    let r = api
        .post(&format!("/conversations/{id}/reply"), json!({"message_type": "comment", "type": "admin", "body": "x"}))
        .await;
    assert_eq!((r.status, r.code()), (400, "parameter_not_found"));
    let r = api
        .post(
            &format!("/conversations/{id}/reply"),
            json!({"message_type": "comment", "type": "admin", "admin_id": "123", "body": "x"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "admin_not_found"));
    let r = api
        .post(
            &format!("/conversations/{id}/parts"),
            json!({"message_type": "snooze", "admin_id": ADA, "snoozed_until": until}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "parameter_invalid"));
    let r = api
        .post(
            &format!("/conversations/{id}/parts"),
            json!({"message_type": "assignment", "type": "team", "admin_id": ADA, "assignee_id": "77"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "assignee_not_found"));
    let r = api.get("/conversations/123").await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = api.get("/conversations/not-a-number").await;
    assert_eq!(r.status, 404);
    let r = api
        .post("/conversations", json!({"from": {"type": "user", "id": "ffffffffffffffffffffffff"}, "body": "x"}))
        .await;
    assert_eq!((r.status, r.message()), (404, "User Not Found"));
    let r = api.post("/conversations", json!({"from": {"type": "user", "id": jane}})).await;
    assert_eq!((r.status, r.code()), (400, "parameter_not_found"));
}

#[tokio::test]
async fn unknown_custom_attributes_refuse_the_whole_request() {
    let (server, api) = demo().await;
    let jane = jane_id(&server);
    let r = api
        .put(
            &format!("/contacts/{jane}"),
            json!({"name": "Changed", "custom_attributes": {"seats": 2, "shoe_size": 42}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.message()),
        (400, "parameter_invalid", "Custom attribute 'shoe_size' does not exist")
    );
    assert_eq!(r.body["type"], "error.list");
    let stored = server.contact(&jane).expect("jane");
    assert_eq!(stored.name.as_deref(), Some("Jane Doe"), "nothing applied");
    assert!(!stored.custom_attributes.contains_key("seats"));

    let r = api.put(&format!("/contacts/{jane}"), json!({"custom_attributes": {"escalation_count": "two"}})).await;
    assert_eq!((r.status, r.message()), (400, "Custom attribute 'escalation_count' must be an integer, not a string"));
    let r = api.post("/contacts", json!({"email": "new@example.com", "custom_attributes": {"favourite": "tea"}})).await;
    assert_eq!((r.status, r.code()), (400, "parameter_invalid"));
    assert!(server.with_state(|s| s.contact_by_email("new@example.com").is_none()), "no contact created");
    let r = api
        .put(
            &format!("/contacts/{jane}"),
            json!({"custom_attributes": {"escalation_count": 2, "last_ai_session": "2026-03-14", "ai_escalation": null, "support_tier": "premium"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Defined at runtime, by method and over HTTP; then accepted.
    server.define_attribute("favourite", DataType::String).expect("define");
    let r = api
        .call_with(None, Method::POST, "/__fake/data_attributes", Some(json!({"name": "score", "data_type": "float"})))
        .await;
    assert_eq!((r.status, r.body["full_name"].as_str()), (200, Some("custom_attributes.score")));
    let r = api
        .post("/contacts", json!({"email": "new@example.com", "custom_attributes": {"favourite": "tea", "score": 4.5}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.post("/data_attributes", json!({"name": "tier", "model": "contact", "data_type": "options", "options": [{"value": "a"}, {"value": "b"}]})).await;
    assert_eq!((r.status, r.body["data_type"].as_str(), r.body["custom"].as_bool()), (200, Some("string"), Some(true)));
    let dup = api.post("/data_attributes", json!({"name": "Tier", "model": "contact", "data_type": "string"})).await;
    assert_eq!((dup.status, dup.code()), (400, "parameter_invalid"));
    let bad = api.post("/data_attributes", json!({"name": "!nv@l!d", "model": "contact", "data_type": "string"})).await;
    assert_eq!(bad.status, 400);

    let listed = api.get("/data_attributes?model=contact").await.body;
    let names: Vec<&str> = listed["data"].as_array().expect("data").iter().filter_map(|a| a["name"].as_str()).collect();
    for name in
        ["email", "escalation_count", "last_ai_session", "ai_escalation", "support_tier", "favourite", "score", "tier"]
    {
        assert!(names.contains(&name), "{name} not listed in {names:?}");
    }
    assert_eq!(api.get("/data_attributes?model=conversation").await.body, json!({"type": "list", "data": []}));

    // The old behaviour, on request.
    let lax = FakeIntercom::builder().seed_demo().accept_unknown_attributes().start().await.expect("start");
    let lax_api = Api::new(&lax, "t");
    let r = lax_api.post("/contacts", json!({"email": "x@example.com", "custom_attributes": {"anything": [1]}})).await;
    assert_eq!(r.status, 400, "arrays are never attribute values");
    let r = lax_api.post("/contacts", json!({"email": "x@example.com", "custom_attributes": {"anything": 1}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let custom =
        FakeIntercom::builder().data_attributes([("team_size", DataType::Integer)]).start().await.expect("start");
    let r = Api::new(&custom, "t")
        .post("/contacts", json!({"email": "y@example.com", "custom_attributes": {"team_size": 9}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn customer_replies_quick_replies_and_attachments() {
    let (server, api) = demo().await;
    let jane = jane_id(&server);
    let id = new_conversation(&api, &jane).await;
    let path = format!("/conversations/{id}/reply");
    let reply = |body: Value| api.post(&path, body);
    let last_part = |conv: &Value| {
        let parts = conv["conversation_parts"]["conversation_parts"].as_array().expect("parts");
        parts[parts.len() - 1].clone()
    };

    // A customer reply (by external user_id) to a snoozed conversation reopens it.
    let until = unix_now() + 3600;
    api.post(
        &format!("/conversations/{id}/parts"),
        json!({"message_type": "snoozed", "admin_id": ADA, "snoozed_until": until}),
    )
    .await;
    let r = reply(json!({"message_type": "comment", "type": "user", "user_id": "6123abc", "body": "Any news?",
                         "attachment_urls": ["https://files.example.com/shots/screen.png?x=1"]}))
    .await;
    assert_eq!((r.status, r.body["state"].as_str()), (200, Some("open")), "{}", r.body);
    let part = last_part(&r.body);
    assert_eq!((part["author"]["type"].as_str(), part["author"]["id"].as_str()), (Some("user"), Some(jane.as_str())));
    assert_eq!(
        part["attachments"],
        json!([{"type": "upload", "name": "screen.png", "url": "https://files.example.com/shots/screen.png?x=1", "content_type": "image/png"}])
    );
    assert!(r.body["waiting_since"].is_i64(), "the customer is waiting again");

    // A lead replies as a lead.
    let lead = api.post("/contacts", json!({"role": "lead", "email": "lead@example.com"})).await.body;
    let r = reply(json!({"message_type": "comment", "type": "user", "intercom_user_id": lead["id"], "body": "Me too"}))
        .await;
    assert_eq!(last_part(&r.body)["author"]["type"], "lead");
    assert_eq!(r.body["contacts"]["contacts"].as_array().map(Vec::len), Some(2));

    // Admin quick reply, then the customer picks an option.
    let options = json!([{"text": "Yes", "uuid": "0b5d6a4e-1c2f-4a3b-9d8e-7f6a5b4c3d2e"}, {"text": "No", "uuid": "1c6e7b5f-2d3a-4b4c-8e9f-8a7b6c5d4e3f"}]);
    let r = reply(json!({"message_type": "quick_reply", "type": "admin", "admin_id": ADA, "body": "Did that help?", "reply_options": options})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let part = last_part(&r.body);
    assert_eq!(part["part_type"], "quick_reply");
    assert_eq!(part["metadata"]["quick_reply_options"][1]["text"], "No");
    let r = reply(json!({"message_type": "comment", "type": "user", "email": "jane@example.com", "body": "Yes",
                         "reply_options": [{"text": "Yes", "uuid": "0b5d6a4e-1c2f-4a3b-9d8e-7f6a5b4c3d2e"}]}))
    .await;
    assert_eq!(last_part(&r.body)["metadata"]["quick_reply_uuid"], "0b5d6a4e-1c2f-4a3b-9d8e-7f6a5b4c3d2e");
    let r = reply(json!({"message_type": "quick_reply", "type": "admin", "admin_id": ADA})).await;
    assert_eq!((r.status, r.code()), (400, "parameter_not_found"));
    let r = reply(json!({"message_type": "quick_reply", "type": "admin", "admin_id": ADA, "reply_options": [{"text": "x", "uuid": "nope"}]})).await;
    assert_eq!((r.status, r.code()), (400, "parameter_invalid"));

    // Attachments on an admin note; bad URLs are refused.
    let r = reply(json!({"message_type": "note", "type": "admin", "admin_id": GRACE, "body": "See log",
                         "attachment_urls": ["https://files.example.com/a.pdf", "https://files.example.com/b"]}))
    .await;
    let part = last_part(&r.body);
    assert_eq!(
        (part["part_type"].as_str(), part["attachments"][0]["content_type"].as_str()),
        (Some("note"), Some("application/pdf"))
    );
    assert_eq!(part["attachments"][1]["name"], "b");
    let r = reply(json!({"message_type": "comment", "type": "admin", "admin_id": ADA, "body": "x", "attachment_urls": ["not a url"]})).await;
    assert_eq!((r.status, r.code()), (400, "parameter_invalid"));
    let stored = server.conversation(&id).expect("stored");
    assert_eq!(stored.parts.iter().filter(|p| !p.attachments.is_empty()).count(), 2);
}

#[tokio::test]
async fn tags_and_custom_attributes() {
    let (server, api) = demo().await;
    let id = new_conversation(&api, &jane_id(&server)).await;
    let tag = api.post("/tags", json!({"name": "Refund"})).await.body;
    let same = api.post("/tags", json!({"name": "REFUND"})).await.body;
    assert_eq!(tag["id"], same["id"]);
    assert_eq!(api.get("/tags").await.body["data"].as_array().map(Vec::len), Some(1));
    let tag_id = tag["id"].as_str().expect("tag id").to_owned();

    let applied = api.post(&format!("/conversations/{id}/tags"), json!({"id": tag_id, "admin_id": ADA})).await;
    assert_eq!((applied.body["type"].as_str(), applied.body["name"].as_str()), (Some("tag"), Some("Refund")));
    assert_eq!(applied.body["applied_by"]["id"], ADA);
    let conv = api.get(&format!("/conversations/{id}")).await.body;
    assert_eq!(conv["tags"]["type"], "tag.list");
    assert_eq!(conv["tags"]["tags"][0]["id"], tag_id.as_str());
    let unknown = api.post(&format!("/conversations/{id}/tags"), json!({"id": "999", "admin_id": ADA})).await;
    assert_eq!((unknown.status, unknown.code()), (404, "tag_not_found"));
    let removed =
        api.call(Method::DELETE, &format!("/conversations/{id}/tags/{tag_id}"), Some(json!({"admin_id": ADA}))).await;
    assert_eq!(removed.body["id"], tag_id.as_str());
    assert!(server.conversation(&id).expect("conv").tags.is_empty());

    let r =
        api.put(&format!("/conversations/{id}"), json!({"custom_attributes": {"order": "A-1", "amount": 12}})).await;
    assert_eq!(r.body["custom_attributes"], json!({"order": "A-1", "amount": 12}));
    let r = api
        .put(&format!("/conversations/{id}"), json!({"custom_attributes": {"order": null, "stage": "refund"}}))
        .await;
    assert_eq!(r.body["custom_attributes"], json!({"amount": 12, "stage": "refund"}));
}

#[tokio::test]
async fn conversation_parts_are_capped_at_500_most_recent() {
    let (server, api) = demo().await;
    let id = new_conversation(&api, &jane_id(&server)).await;
    server.with_state(|s| {
        for i in 0..520 {
            s.reply_as_admin(&id, ADA, AdminReplyKind::Comment, Some(&format!("reply {i}"))).expect("reply");
        }
    });
    let conv = api.get(&format!("/conversations/{id}?display_as=plaintext")).await.body;
    let parts = conv["conversation_parts"]["conversation_parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 500);
    assert_eq!(conv["conversation_parts"]["total_count"], 520);
    assert_eq!(parts[0]["body"], "reply 20", "oldest of the most recent 500 first");
    assert_eq!(parts[499]["body"], "reply 519");
    assert_eq!(server.conversation(&id).expect("stored").parts.len(), 520);
}

#[tokio::test]
async fn display_as_plaintext() {
    let (server, api) = demo().await;
    let id = new_conversation(&api, &jane_id(&server)).await;
    api.post(
        &format!("/conversations/{id}/reply"),
        json!({"message_type": "comment", "type": "admin", "admin_id": ADA, "body": "<p>Hi <b>Jane</b> &amp; team</p><p>Bye</p>"}),
    )
    .await;
    let html = api.get(&format!("/conversations/{id}")).await.body;
    assert_eq!(
        html["conversation_parts"]["conversation_parts"][0]["body"],
        "<p>Hi <b>Jane</b> &amp; team</p><p>Bye</p>"
    );
    let plain = api.get(&format!("/conversations/{id}?display_as=plaintext")).await.body;
    assert_eq!(plain["conversation_parts"]["conversation_parts"][0]["body"], "Hi Jane & team\nBye");
    assert_eq!(plain["source"]["body"], "Hello");
}

#[tokio::test]
async fn auth_and_token_rotation() {
    let server = FakeIntercom::builder().valid_tokens(["old"]).start().await.expect("start");
    let api = Api::new(&server, "old");
    assert_eq!(api.get("/me").await.status, 200);
    let none = api.call_with(None, Method::GET, "/me", None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["errors"][0], json!({"code": "unauthorized", "message": "Access Token Invalid"}));
    assert_eq!(none.body["request_id"].as_str(), none.header("x-request-id"));

    server.set_valid_tokens(["new"]);
    assert_eq!(api.get("/me").await.status, 401);
    assert_eq!(api.call_with(Some("new"), Method::GET, "/me", None).await.status, 200);

    // Over HTTP: back to any token.
    let r = api.call_with(None, Method::PUT, "/__fake/tokens", Some(json!({"tokens": null}))).await;
    assert_eq!(r.status, 204);
    assert_eq!(api.call_with(Some("whatever"), Method::GET, "/me", None).await.status, 200);
    let r = api.call_with(None, Method::PUT, "/__fake/tokens", Some(json!({"tokens": ["x"]}))).await;
    assert_eq!(r.status, 204);
    assert_eq!(api.call_with(Some("whatever"), Method::GET, "/me", None).await.status, 401);
}

#[tokio::test]
async fn every_answer_has_rate_limit_headers_and_unknown_routes_are_404() {
    let (_server, api) = demo().await;
    for r in [api.get("/me").await, api.get("/nope").await, api.call(Method::DELETE, "/me", None).await] {
        let limit = r.header("x-ratelimit-limit").and_then(|v| v.parse::<i64>().ok());
        let remaining = r.header("x-ratelimit-remaining").and_then(|v| v.parse::<i64>().ok());
        let reset = r.header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok());
        assert_eq!(limit, Some(10_000));
        assert!(remaining.is_some_and(|n| n < 10_000));
        assert!(reset.is_some_and(|t| t > unix_now() - 1 && t <= unix_now() + 10));
        assert!(r.header("x-request-id").is_some());
    }
    let r = api.get("/nope").await;
    assert_eq!((r.status, r.code(), r.body["type"].as_str()), (404, "not_found", Some("error.list")));
    let r = api.call(Method::DELETE, "/me", None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn faults_rate_limit_5xx_delay_and_lost_answers() {
    let (server, api) = demo().await;
    let jane = jane_id(&server);

    server.inject(Fault::rate_limit("POST", "/contacts").times(2).reset_after(Duration::from_secs(30)));
    for _ in 0..2 {
        let r = api.post("/contacts", json!({"email": "rl@example.com"})).await;
        assert_eq!((r.status, r.code()), (429, "rate_limit_exceeded"));
        assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
        let reset: i64 = r.header("x-ratelimit-reset").and_then(|v| v.parse().ok()).expect("reset");
        assert!((unix_now() + 29..=unix_now() + 31).contains(&reset), "reset {reset}");
    }
    assert_eq!(api.post("/contacts", json!({"email": "rl@example.com"})).await.status, 200);
    assert_eq!(server.contacts().iter().filter(|c| c.email.as_deref() == Some("rl@example.com")).count(), 1);

    // Method and path must both match; a non-matching request leaves the fault in place.
    server.inject(Fault::server_error(503, "GET", "/conversations/*"));
    assert_eq!(api.get("/me").await.status, 200);
    assert_eq!(server.pending_faults().len(), 1);
    let id = new_conversation(&api, &jane).await;
    let r = api.get(&format!("/conversations/{id}")).await;
    assert_eq!((r.status, r.code()), (503, "service_unavailable"));
    assert_eq!(api.get(&format!("/conversations/{id}")).await.status, 200);

    server.inject(Fault::delay(Duration::from_millis(300), "*", "/me"));
    let t = Instant::now();
    assert_eq!(api.get("/me").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    api.get("/me").await;
    assert!(t.elapsed() < Duration::from_millis(300));

    // The write happens, the answer is lost.
    server.inject(Fault::process_then_fail(504, "POST", "/conversations/*/reply"));
    let r = api
        .post(
            &format!("/conversations/{id}/reply"),
            json!({"message_type": "comment", "type": "admin", "admin_id": ADA, "body": "Refund issued"}),
        )
        .await;
    assert_eq!(r.status, 504);
    let parts = server.conversation(&id).expect("conv").parts;
    assert_eq!(parts.len(), 1, "the reply was stored although the client saw 504");
    assert!(parts[0].body.as_deref().is_some_and(|b| b.contains("Refund issued")));

    // Over HTTP.
    let r = api
        .call_with(
            None,
            Method::POST,
            "/__fake/faults",
            Some(json!([
                {"kind": "server_error", "status": 502, "method": "GET", "path": "/admins", "times": 1},
                {"kind": "rate_limit", "path": "/teams", "reset_after_secs": 5}
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["faults"].as_array().map(Vec::len), Some(2));
    assert_eq!(api.get("/admins").await.status, 502);
    assert_eq!(api.get("/teams").await.status, 429);
    let bad = api.call_with(None, Method::POST, "/__fake/faults", Some(json!({"kind": "explode"}))).await;
    assert_eq!(bad.status, 400);
    server.inject(Fault::server_error(500, "*", ""));
    assert_eq!(api.call_with(None, Method::DELETE, "/__fake/faults", None).await.status, 204);
    assert_eq!(api.get("/me").await.status, 200);
}

#[tokio::test]
async fn requests_are_recorded_and_round_trips_counted() {
    let server = FakeIntercom::builder().seed_demo().latency(Duration::from_millis(60)).start().await.expect("start");
    let api = Api::new(&server, "tok");

    // Three sequential calls.
    api.get("/me").await;
    api.get("/teams").await;
    api.post("/contacts/search", json!({"query": {"field": "email", "operator": "=", "value": "jane@example.com"}}))
        .await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(sequential_round_trips(&reqs), 3);
    assert_eq!(reqs[2].method, "POST");
    assert_eq!(reqs[2].path, "/contacts/search");
    assert_eq!(reqs[2].body.as_ref().map(|b| b["query"]["field"].clone()), Some(json!("email")));
    assert_eq!(reqs[0].bearer_token(), Some("tok"));
    assert_eq!(server.requests_to("GET", "/teams").len(), 1);

    // Two concurrent calls, then one more: two waves.
    server.clear_requests();
    let (a, b) = tokio::join!(api.get("/me"), api.get("/admins"));
    assert_eq!((a.status, b.status), (200, 200));
    api.get("/tags?x=1").await;
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(sequential_round_trips(&reqs), 2);
    assert_eq!(reqs[2].query.as_deref(), Some("x=1"));

    // Control routes are not recorded, and expose the same over HTTP.
    let r = api.call_with(None, Method::GET, "/__fake/requests", None).await;
    assert_eq!((r.body["count"].as_i64(), r.body["sequential_round_trips"].as_i64()), (Some(3), Some(2)));
    assert_eq!(r.body["requests"][2]["path"], "/tags");
    let state = api.call_with(None, Method::GET, "/__fake/state", None).await;
    assert_eq!(state.body["admins"][0]["name"], "Ada AI");
    assert_eq!(api.call_with(None, Method::DELETE, "/__fake/requests", None).await.status, 204);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn server_stops_on_shutdown_or_drop() {
    let client = reqwest::Client::new();
    let me = |base: String| client.get(format!("{base}/me")).bearer_auth("t").timeout(Duration::from_secs(2)).send();
    let server = FakeIntercom::builder().start().await.expect("start");
    let base = server.base_url();
    let handle = server.handle();
    assert!(me(base.clone()).await.is_ok());
    server.shutdown().await;
    assert!(me(base).await.is_err(), "server still answering after shutdown");
    // The handle keeps the state.
    assert_eq!(handle.admins().len(), 1);

    let server = FakeIntercom::builder().start().await.expect("start");
    let base = server.base_url();
    drop(server);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(me(base).await.is_err(), "server still answering after drop");
}
