//! Several workspaces in one fake: each token sees only its own workspace (the same requests in two
//! workspaces find two different worlds), tokens rotate, scopes can be withheld, and webhooks are signed
//! per workspace and routed by its id. One workspace stays exactly the fake it always was.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use fake_intercom::{FakeIntercom, FakeServer, Fault, Scope, WebhookConfig, WorkspaceInfo};
use reqwest::Method;
use serde_json::{Value, json};

struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or_default()
    }
}

async fn call(server: &FakeServer, token: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", server.base_url())).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

async fn control(server: &FakeServer, method: Method, path: &str, body: Option<Value>) -> Reply {
    call(server, "unused", method, path, body).await
}

async fn two_workspaces() -> (FakeServer, WorkspaceInfo, WorkspaceInfo) {
    let fake = FakeIntercom::builder().workspaces(2).seed_demo().start().await.expect("start");
    let listed = control(&fake, Method::GET, "/__fake/workspaces", None).await;
    let infos: Vec<WorkspaceInfo> = fake.workspaces();
    assert_eq!(listed.body, serde_json::to_value(&infos).expect("json"), "the control route lists the same");
    let [a, b]: [WorkspaceInfo; 2] = infos.try_into().expect("two workspaces");
    (fake, a, b)
}

async fn open_conversations(fake: &FakeServer, token: &str) -> Vec<String> {
    let search = json!({"query": {"field": "state", "operator": "=", "value": "open"}});
    let found = call(fake, token, Method::POST, "/conversations/search", Some(search)).await;
    let list = found.body["conversations"].as_array().expect("list");
    list.iter().map(|c| c["id"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn each_token_sees_only_its_own_workspace() {
    let (fake, a, b) = two_workspaces().await;
    assert_ne!(a.workspace_id, b.workspace_id);
    assert_ne!(a.access_token, b.access_token);
    assert_ne!(a.client_secret, b.client_secret);

    // `/me` is each workspace's AI admin, with its app.
    for ws in [&a, &b] {
        let me = call(&fake, &ws.access_token, Method::GET, "/me", None).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["id"], ws.ai_admin_id.as_str());
        assert_eq!(me.body["name"], "Ada AI");
        let app = &me.body["app"];
        assert_eq!((app["type"].as_str(), app["id_code"].as_str()), (Some("app"), Some(ws.workspace_id.as_str())));
        assert_eq!(app["name"], ws.name.as_str());
        for field in ["region", "timezone", "created_at", "identity_verification"] {
            assert!(!app[field].is_null(), "app.{field}");
        }
        let teams = call(&fake, &ws.access_token, Method::GET, "/teams", None).await;
        let names: Vec<&str> =
            teams.body["teams"].as_array().expect("teams").iter().filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(names, ["Billing", "Legal", "Support"]);
        let human = ws.human_admin_id.as_deref().expect("a human admin");
        let admins = call(&fake, &ws.access_token, Method::GET, "/admins", None).await;
        let ids: Vec<&str> =
            admins.body["admins"].as_array().expect("admins").iter().filter_map(|a| a["id"].as_str()).collect();
        assert!(ids.contains(&human) && ids.contains(&ws.ai_admin_id.as_str()), "{ids:?}");
        // The integration's own attributes are not defined; the rest of the demo's are.
        let attrs = call(&fake, &ws.access_token, Method::GET, "/data_attributes?model=contact", None).await;
        let names: Vec<&str> =
            attrs.body["data"].as_array().expect("data").iter().filter_map(|a| a["name"].as_str()).collect();
        assert!(names.contains(&"plan") && !names.contains(&"escalation_count") && !names.contains(&"last_ai_session"));
    }
    assert_ne!(a.ai_admin_id, b.ai_admin_id, "ids never collide across workspaces");

    // The same-looking customer exists in both, with different ids.
    let find = json!({"query": {"field": "email", "operator": "=", "value": "jane@example.com"}});
    let jane_a = call(&fake, &a.access_token, Method::POST, "/contacts/search", Some(find.clone())).await;
    let jane_b = call(&fake, &b.access_token, Method::POST, "/contacts/search", Some(find)).await;
    let jane_a = jane_a.body["data"][0]["id"].as_str().expect("jane in a").to_owned();
    let jane_b = jane_b.body["data"][0]["id"].as_str().expect("jane in b").to_owned();
    assert_ne!(jane_a, jane_b);

    // Same requests in both workspaces: each sees only its own conversation.
    let mut conversations = Vec::new();
    for (ws, jane) in [(&a, &jane_a), (&b, &jane_b)] {
        let body = json!({"from": {"type": "user", "id": jane}, "body": "Charged twice"});
        let created = call(&fake, &ws.access_token, Method::POST, "/conversations", Some(body)).await;
        assert_eq!(created.status, 200, "{}", created.body);
        conversations.push(created.body["conversation_id"].as_str().expect("id").to_owned());
    }
    let (conv_a, conv_b) = (&conversations[0], &conversations[1]);
    assert_ne!(conv_a, conv_b);
    assert_eq!(open_conversations(&fake, &a.access_token).await, vec![conv_a.clone()]);
    assert_eq!(open_conversations(&fake, &b.access_token).await, vec![conv_b.clone()]);

    // Another workspace's conversation, contact, admin or team is 404, exactly as an unknown one.
    let foreign = call(&fake, &a.access_token, Method::GET, &format!("/conversations/{conv_b}"), None).await;
    let unknown = call(&fake, &a.access_token, Method::GET, "/conversations/999999999", None).await;
    assert_eq!((foreign.status, foreign.code()), (404, "not_found"));
    assert_eq!(foreign.body["errors"], unknown.body["errors"]);
    let reply = json!({"message_type": "comment", "type": "admin", "admin_id": b.ai_admin_id, "body": "hi"});
    let r = call(&fake, &a.access_token, Method::POST, &format!("/conversations/{conv_b}/reply"), Some(reply)).await;
    assert_eq!(r.status, 404);
    let r = call(&fake, &a.access_token, Method::GET, &format!("/contacts/{jane_b}"), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = call(&fake, &a.access_token, Method::GET, &format!("/admins/{}", b.ai_admin_id), None).await;
    assert_eq!(r.status, 404);
    // Admin A cannot act in A's conversation as B's admin either.
    let as_b = json!({"message_type": "comment", "type": "admin", "admin_id": b.ai_admin_id, "body": "hi"});
    let r = call(&fake, &a.access_token, Method::POST, &format!("/conversations/{conv_a}/reply"), Some(as_b)).await;
    assert_eq!((r.status, r.code()), (404, "admin_not_found"));
    assert_eq!(fake.workspace(&b.workspace_id).expect("b").conversation(conv_b).map(|c| c.parts.len()), Some(0));

    // Tags and attributes created in one workspace are not in the other.
    let tag = call(&fake, &a.access_token, Method::POST, "/tags", Some(json!({"name": "Refund"}))).await;
    let r = call(&fake, &b.access_token, Method::GET, &format!("/tags/{}", tag.body["id"].as_str().expect("id")), None)
        .await;
    assert_eq!(r.status, 404);
    let define = json!({"name": "escalation_count", "model": "contact", "data_type": "integer"});
    let r = call(&fake, &a.access_token, Method::POST, "/data_attributes", Some(define)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let write = json!({"custom_attributes": {"escalation_count": 1}});
    let r = call(&fake, &a.access_token, Method::PUT, &format!("/contacts/{jane_a}"), Some(write.clone())).await;
    assert_eq!(r.status, 200);
    let r = call(&fake, &b.access_token, Method::PUT, &format!("/contacts/{jane_b}"), Some(write)).await;
    assert_eq!(
        (r.status, r.body["errors"][0]["message"].as_str()),
        (400, Some("Custom attribute 'escalation_count' does not exist"))
    );

    // An unknown token is Intercom's 401.
    let r = call(&fake, "not-a-token", Method::GET, "/me", None).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));

    // The state names each record's workspace; `?workspace=` gives one workspace's.
    let state = control(&fake, Method::GET, "/__fake/state", None).await.body;
    for key in ["contacts", "teams", "admins"] {
        let records = state[key].as_array().expect(key);
        assert!(
            records
                .iter()
                .all(|r| r["workspaceId"] == a.workspace_id.as_str() || r["workspaceId"] == b.workspace_id.as_str()),
            "{key}"
        );
        assert!(records.iter().any(|r| r["workspaceId"] == b.workspace_id.as_str()), "{key}");
    }
    assert_eq!(state["conversations"][conv_b.as_str()]["workspaceId"], b.workspace_id.as_str());
    assert_eq!(state["workspaces"].as_array().map(Vec::len), Some(2));
    let only_b = control(&fake, Method::GET, &format!("/__fake/state?workspace={}", b.workspace_id), None).await.body;
    assert_eq!(only_b["workspace_id"], b.workspace_id.as_str());
    assert_eq!(
        only_b["conversations"].as_object().map(|c| c.keys().cloned().collect::<Vec<_>>()),
        Some(vec![conv_b.clone()])
    );
    let r = control(&fake, Method::GET, "/__fake/state?workspace=nope", None).await;
    assert_eq!(r.status, 404);

    // Control routes act on the conversation's owner, or the workspace named.
    let r = control(
        &fake,
        Method::POST,
        &format!("/__fake/conversations/{conv_b}/customer_reply"),
        Some(json!({"body": "Any news?"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fake.workspace(&b.workspace_id).expect("b").conversation(conv_b).map(|c| c.parts.len()), Some(1));
    let r =
        control(&fake, Method::POST, "/__fake/data_attributes", Some(json!({"name": "tier", "data_type": "string"})))
            .await;
    assert_eq!(r.status, 400, "several workspaces: the control route must be told which");
    let r = control(
        &fake,
        Method::POST,
        "/__fake/data_attributes",
        Some(json!({"name": "tier", "data_type": "string", "workspace": b.workspace_id})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(fake.workspace(&b.workspace_id).expect("b").data_attributes().iter().any(|a| a.name == "tier"));
    assert!(!fake.workspace(&a.workspace_id).expect("a").data_attributes().iter().any(|a| a.name == "tier"));

    // A fault can aim at one workspace; the recorded requests name theirs.
    fake.inject(Fault::server_error(503, "GET", "/me").in_workspace(&b.workspace_id));
    assert_eq!(call(&fake, &a.access_token, Method::GET, "/me", None).await.status, 200);
    assert_eq!(call(&fake, &b.access_token, Method::GET, "/me", None).await.status, 503);
    let last = fake.requests().pop().expect("recorded");
    assert_eq!(last.workspace_id.as_deref(), Some(b.workspace_id.as_str()));
}

#[tokio::test]
async fn a_rotated_token_is_refused_at_once() {
    let (fake, a, b) = two_workspaces().await;
    let r = control(&fake, Method::POST, &format!("/__fake/workspaces/{}/rotate-token", a.workspace_id), None).await;
    assert_eq!(r.status, 200);
    let new = r.body["accessToken"].as_str().expect("token").to_owned();
    assert_ne!(new, a.access_token);
    let old = call(&fake, &a.access_token, Method::GET, "/me", None).await;
    assert_eq!((old.status, old.code()), (401, "unauthorized"));
    let me = call(&fake, &new, Method::GET, "/me", None).await;
    assert_eq!((me.status, me.body["app"]["id_code"].as_str()), (200, Some(a.workspace_id.as_str())));
    assert_eq!(fake.workspace(&a.workspace_id).expect("a").info().access_token, new, "the listing shows the new token");
    assert_eq!(call(&fake, &b.access_token, Method::GET, "/me", None).await.status, 200, "b is untouched");
    let r = control(&fake, Method::POST, "/__fake/workspaces/nope/rotate-token", None).await;
    assert_eq!(r.status, 404);

    // With one workspace, any token works until the token is rotated.
    let single = FakeIntercom::builder().seed_demo().start().await.expect("start");
    assert_eq!(call(&single, "anything", Method::GET, "/me", None).await.status, 200);
    let listed = single.workspaces();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].workspace_id.as_str(), listed[0].ai_admin_id.as_str()), ("fk3demo1", "991267"));
    assert_eq!(listed[0].human_admin_id.as_deref(), Some("991268"));
    assert_eq!(call(&single, &listed[0].access_token, Method::GET, "/me", None).await.status, 200);
    let token = single.first_workspace().rotate_token();
    assert_eq!(call(&single, "anything", Method::GET, "/me", None).await.status, 401);
    assert_eq!(call(&single, &token, Method::GET, "/me", None).await.status, 200);
}

#[tokio::test]
async fn withheld_scopes_answer_intercoms_403_before_any_lookup() {
    let (fake, a, b) = two_workspaces().await;
    let deny = json!({"deny": ["write_conversations", "read_contacts"]});
    let r = control(&fake, Method::POST, &format!("/__fake/workspaces/{}/scopes", a.workspace_id), Some(deny)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["denied"], json!(["write_conversations", "read_contacts"]));

    // A write to id "0": 403 without the scope, 404 with it — the cheap, harmless permission probe.
    let probe = json!({"custom_attributes": {}});
    let r = call(&fake, &a.access_token, Method::PUT, "/conversations/0", Some(probe.clone())).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["type"], "error.list");
    assert_eq!(
        r.body["errors"][0],
        json!({"code": "forbidden", "message": "You do not have the required scope (write_conversations) to access this resource"})
    );
    let r = call(&fake, &b.access_token, Method::PUT, "/conversations/0", Some(probe)).await;
    assert_eq!(r.status, 404, "b has every scope");
    let r = call(&fake, &a.access_token, Method::GET, "/contacts/0123456789abcdef01234567", None).await;
    assert_eq!(
        (r.status, r.body["errors"][0]["message"].as_str()),
        (403, Some("You do not have the required scope (read_contacts) to access this resource"))
    );
    // What is not withheld still works; `/me` needs no scope.
    assert_eq!(call(&fake, &a.access_token, Method::GET, "/conversations/0", None).await.status, 404);
    assert_eq!(
        call(&fake, &a.access_token, Method::PUT, "/contacts/0123456789abcdef01234567", Some(json!({}))).await.status,
        404
    );
    assert_eq!(call(&fake, &a.access_token, Method::GET, "/me", None).await.status, 200);
    // A bad token is still 401, not 403.
    assert_eq!(call(&fake, "nope", Method::PUT, "/conversations/0", Some(json!({}))).await.status, 401);

    let r = control(
        &fake,
        Method::POST,
        &format!("/__fake/workspaces/{}/scopes", a.workspace_id),
        Some(json!({"deny": ["fly"]})),
    )
    .await;
    assert_eq!(r.status, 400);
    fake.workspace(&a.workspace_id).expect("a").deny_scopes([]);
    assert_eq!(call(&fake, &a.access_token, Method::PUT, "/conversations/0", Some(json!({}))).await.status, 404);
    fake.workspace(&a.workspace_id).expect("a").deny_scopes([Scope::ReadAdmins]);
    assert_eq!(call(&fake, &a.access_token, Method::GET, "/teams", None).await.status, 403);
}

/// (path, `X-Hub-Signature`, raw body) of one POST.
type Received = (String, String, Vec<u8>);

async fn receive(
    State(r): State<Arc<Mutex<Vec<Received>>>>,
    Path(ws): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    r.lock().expect("lock").push((ws, signature, body.to_vec()));
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_workspace_signs_its_webhooks_and_they_go_to_its_path() {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let app = Router::new().route("/hooks/{ws}", post(receive)).with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config = WebhookConfig {
        backoff: Duration::from_millis(20),
        ..WebhookConfig::new(format!("http://{addr}/hooks"), "ignored-with-several")
    };
    let fake = FakeIntercom::builder().workspaces(2).seed_demo().webhook_config(config).start().await.expect("start");
    for info in fake.workspaces() {
        let ws = fake.workspace(&info.workspace_id).expect("ws");
        let jane = ws.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
        let body = json!({"from": {"type": "user", "id": jane}, "body": "Hello"});
        assert_eq!(call(&fake, &info.access_token, Method::POST, "/conversations", Some(body)).await.status, 200);
    }
    tokio::time::timeout(Duration::from_secs(10), fake.flush_webhooks()).await.expect("flushed");
    let received = received.lock().expect("lock").clone();
    assert_eq!(received.len(), 2);
    for info in fake.workspaces() {
        let (_, signature, raw) =
            received.iter().find(|(ws, _, _)| *ws == info.workspace_id).expect("one per workspace path");
        assert_eq!(
            *signature,
            fake_intercom::webhooks::signature(&info.client_secret, raw),
            "signed with its own secret"
        );
        let envelope: Value = serde_json::from_slice(raw).expect("json");
        assert_eq!(envelope["app_id"], info.workspace_id.as_str());
        assert_eq!(envelope["topic"], "conversation.user.created");
    }
    let deliveries = control(&fake, Method::GET, "/__fake/webhooks/deliveries", None).await.body;
    let ids: Vec<&str> =
        deliveries["deliveries"].as_array().expect("list").iter().filter_map(|d| d["workspaceId"].as_str()).collect();
    assert_eq!(ids.len(), 2);
}

#[tokio::test]
async fn one_workspace_keeps_the_state_it_always_had() {
    let fake = FakeIntercom::builder().seed_demo().start().await.expect("start");
    let state = control(&fake, Method::GET, "/__fake/state", None).await.body;
    for key in ["contacts", "conversations", "teams", "admins"] {
        assert!(state.get(key).is_some(), "{key}");
    }
    assert!(state["contacts"][0].get("workspaceId").is_none());
    assert!(state.get("workspaces").is_none());
    let attrs: Vec<String> = fake.data_attributes().into_iter().map(|a| a.name).collect();
    assert!(attrs.iter().any(|a| a == "escalation_count") && attrs.iter().any(|a| a == "last_ai_session"));
}
