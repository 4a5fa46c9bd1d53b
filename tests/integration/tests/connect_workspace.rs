//! Connecting workspaces to one hub deployment, against two real workspaces of the fake Intercom: a good token,
//! a refused one, a missing permission, a rotated token, a disconnect — and nothing crossing between them.

use std::collections::HashMap;
use std::sync::Arc;

use fake_intercom::{FakeIntercom, FakeServer, Scope};
use lambda_http::http::HeaderMap;
use shared::config::AgentAuth;
use shared::http::ActionError;
use shared::secrets::{SecretStore, Secrets};
use shared::store::memory::MemoryStore;
use shared::workspace::connect::{ConnectRequest, Connector, DisconnectRequest};
use shared::workspace::directory::Directory;
use shared::workspace::directory::memory::MemoryDirectory;
use shared::workspace::resolve::{Deployment, Workspaces};
use shared::workspace::seal::MemorySealer;
use shared::workspace::{Tenancy, WorkspaceId};

struct Hub {
    fake: FakeServer,
    deployment: Arc<Deployment>,
    directory: Arc<MemoryDirectory>,
    workspaces: Workspaces,
}

async fn hub() -> Hub {
    let fake = FakeIntercom::builder().workspaces(2).seed_demo().start().await.expect("the fake starts");
    let env = HashMap::from([
        ("TENANCY".to_owned(), "hub".to_owned()),
        ("INTERCOM_API_BASE".to_owned(), fake.base_url()),
        ("WEBHOOK_BASE_URL".to_owned(), "https://hooks.example.com/".to_owned()),
    ]);
    let secrets = Arc::new(SecretStore::fixed(Secrets::default()));
    let store: Arc<MemoryStore> = Arc::default();
    let deployment = Arc::new(
        Deployment::new(Tenancy::Hub, AgentAuth::ApiKey, reqwest::Client::new(), store, secrets, env).unwrap(),
    );
    let directory = Arc::new(MemoryDirectory::new());
    let workspaces = Workspaces::hub(deployment.clone(), directory.clone(), Arc::new(MemorySealer));
    Hub { fake, deployment, directory, workspaces }
}

impl Hub {
    fn connector(&self) -> Connector<'_> {
        Connector {
            deployment: &self.deployment,
            directory: self.directory.as_ref(),
            sealer: &MemorySealer,
            webhook_topics: vec!["conversation.user.created".into()],
        }
    }

    fn request(&self, n: usize) -> ConnectRequest {
        let w = &self.fake.handle().workspaces()[n];
        serde_json::from_value(serde_json::json!({"accessToken": w.access_token, "clientSecret": w.client_secret}))
            .unwrap()
    }
}

fn bearer(key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("authorization", format!("Bearer {key}").parse().unwrap());
    h
}

#[tokio::test]
async fn a_token_connects_its_workspace_and_creates_the_integrations_attributes() {
    let hub = hub().await;
    let info = hub.fake.handle().workspaces()[0].clone();
    let connected = hub.connector().connect(hub.request(0)).await.unwrap();
    assert_eq!(connected.workspace_id, info.workspace_id);
    assert_eq!(connected.admin_id, info.ai_admin_id, "the token's owner is the AI's admin");
    assert!(!connected.reconnected);
    assert_eq!(connected.created_attributes, ["escalation_count", "last_ai_session"]);
    assert_eq!(
        connected.webhook_url.as_deref(),
        Some(format!("https://hooks.example.com/webhook/intercom-events/{}", info.workspace_id).as_str())
    );
    let key = connected.agent_api_key.clone().expect("the agent key is shown once");
    assert!(key.starts_with("iak_"));
    let json = serde_json::to_string(&connected).unwrap();
    assert!(!json.contains(&info.access_token) && !json.contains(&info.client_secret), "no secret in the answer");

    // Intercom now defines them, with the types escalate writes.
    let fake_ws = hub.fake.handle().workspace(&info.workspace_id).unwrap();
    let attributes = fake_ws.data_attributes();
    for (name, data_type) in [("escalation_count", "integer"), ("last_ai_session", "string")] {
        let defined = attributes.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{name} was not created"));
        assert_eq!(serde_json::to_value(defined.data_type).unwrap(), data_type, "{name}");
    }

    // The key opens that workspace, whose helpdesk is that workspace's Intercom.
    let workspace = hub.workspaces.for_agent(&bearer(&key), AgentAuth::ApiKey).await.unwrap();
    assert_eq!(workspace.id.as_ref().map(WorkspaceId::as_str), Some(info.workspace_id.as_str()));
    assert_eq!(workspace.helpdesk.me().await.unwrap().id, info.ai_admin_id);

    // Connecting again keeps the key and creates nothing.
    let again = hub.connector().connect(hub.request(0)).await.unwrap();
    assert!(again.reconnected && again.agent_api_key.is_none() && again.created_attributes.is_empty());
    assert!(hub.workspaces.for_agent(&bearer(&key), AgentAuth::ApiKey).await.is_ok());
}

#[tokio::test]
async fn a_key_of_one_workspace_never_reaches_the_other() {
    let hub = hub().await;
    let infos = hub.fake.handle().workspaces();
    let key_a = hub.connector().connect(hub.request(0)).await.unwrap().agent_api_key.unwrap();
    let key_b = hub.connector().connect(hub.request(1)).await.unwrap().agent_api_key.unwrap();
    let a = hub.workspaces.for_agent(&bearer(&key_a), AgentAuth::ApiKey).await.unwrap();
    let b = hub.workspaces.for_agent(&bearer(&key_b), AgentAuth::ApiKey).await.unwrap();

    // B's Jane has a conversation; A's key asks for it by id.
    let fake_b = hub.fake.handle().workspace(&infos[1].workspace_id).unwrap();
    let jane_b = fake_b.with_state(|s| s.contact_by_email("jane@example.com").cloned()).unwrap();
    let conversation_b = fake_b.add_conversation(&jane_b.id, "B's secret question").unwrap();
    let seen_by_a = a.helpdesk.get_conversation(&conversation_b.id.to_string()).await.unwrap_err();
    assert!(seen_by_a.is_not_found(), "A's token gets Intercom's 404 for B's conversation: {seen_by_a:?}");
    let error = ActionError::from(seen_by_a).to_json().to_string();
    assert!(!error.contains("secret question"), "nothing of B in the answer: {error}");
    assert!(b.helpdesk.get_conversation(&conversation_b.id.to_string()).await.is_ok());
}

#[tokio::test]
async fn a_refused_token_or_a_missing_permission_stores_nothing() {
    let hub = hub().await;
    let mut bad = hub.request(0);
    bad.access_token = "not-a-token".into();
    let refused = hub.connector().connect(bad).await.unwrap_err();
    assert_eq!((refused.status().as_u16(), refused.code()), (401, "invalid_token"));
    assert!(refused.to_string().contains("nothing was stored"), "{refused}");

    let info = hub.fake.handle().workspaces()[0].clone();
    hub.fake.handle().workspace(&info.workspace_id).unwrap().deny_scopes([Scope::WriteConversations]);
    let missing = hub.connector().connect(hub.request(0)).await.unwrap_err();
    assert_eq!((missing.status().as_u16(), missing.code()), (403, "missing_scope"));
    assert_eq!(missing.to_json()["scopes"], serde_json::json!(["write_conversations"]));
    assert!(hub.directory.list().await.unwrap().is_empty(), "nothing half-connected");
    assert!(hub.fake.handle().requests_to("POST", "/data_attributes").is_empty(), "no attribute created either");
}

#[tokio::test]
async fn a_rotated_token_is_used_from_the_next_call_and_a_disconnect_is_at_once() {
    let hub = hub().await;
    let info = hub.fake.handle().workspaces()[0].clone();
    let key = hub.connector().connect(hub.request(0)).await.unwrap().agent_api_key.unwrap();
    let before = hub.workspaces.for_agent(&bearer(&key), AgentAuth::ApiKey).await.unwrap();
    assert!(before.helpdesk.me().await.is_ok());

    // The workspace's admin regenerates the token in Intercom: the stored one is refused there...
    let fake_ws = hub.fake.handle().workspace(&info.workspace_id).unwrap();
    let new_token = fake_ws.rotate_token();
    let stale = hub.workspaces.for_agent(&bearer(&key), AgentAuth::ApiKey).await.unwrap();
    assert!(stale.helpdesk.me().await.is_err(), "the old token gets 401");
    // ...and a reconnect with the new one takes effect on the very next call, with the same agent key.
    let mut reconnect = hub.request(0);
    reconnect.access_token = new_token;
    assert!(hub.connector().connect(reconnect).await.unwrap().reconnected);
    let fresh = hub.workspaces.for_agent(&bearer(&key), AgentAuth::ApiKey).await.unwrap();
    assert_eq!(fresh.helpdesk.me().await.unwrap().id, info.ai_admin_id);

    // rotateAgentKey: a new key works at once; the old one for the grace period.
    let mut rotate = hub.request(0);
    rotate.access_token = fake_ws.info().access_token;
    rotate.rotate_agent_key = true;
    let new_key = hub.connector().connect(rotate).await.unwrap().agent_api_key.expect("a new key");
    assert!(hub.workspaces.for_agent(&bearer(&new_key), AgentAuth::ApiKey).await.is_ok());
    assert!(hub.workspaces.for_agent(&bearer(&key), AgentAuth::ApiKey).await.is_ok(), "inside the grace period");

    let gone = hub.connector().disconnect(DisconnectRequest { workspace_id: info.workspace_id.clone() }).await.unwrap();
    assert_eq!(gone, serde_json::json!({"workspaceId": info.workspace_id, "disconnected": true}));
    for k in [&key, &new_key] {
        let refused = hub.workspaces.for_agent(&bearer(k), AgentAuth::ApiKey).await.unwrap_err();
        assert_eq!(refused, ActionError::Unauthenticated, "a disconnect has no grace period");
    }
    let again = hub.connector().disconnect(DisconnectRequest { workspace_id: info.workspace_id }).await.unwrap_err();
    assert_eq!(again.status().as_u16(), 404);
}

mod over_http {
    use lambda_http::{Body, Request};
    use serde_json::{Value, json};
    use shared::admin::AdminApi;
    use shared::workspace::build;

    use super::*;

    fn request(method: &str, key: Option<&str>, body: Option<Value>) -> Request {
        let mut builder = lambda_http::http::Request::builder().method(method).uri("https://connect.example/");
        if let Some(key) = key {
            builder = builder.header("authorization", format!("Bearer {key}"));
        }
        builder.body(body.map_or(Body::Empty, |b| Body::from(b.to_string()))).unwrap()
    }

    async fn call(api: &AdminApi, request: Request) -> (u16, Value) {
        let response = api.serve(request).await;
        let json = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        (response.status().as_u16(), json)
    }

    const ADMIN_KEY: &str = "hub-admin-key-for-tests";

    async fn hub_api(fake: &FakeServer) -> AdminApi {
        let env = HashMap::from([
            ("TENANCY".to_owned(), "hub".to_owned()),
            ("AGENT_AUTH".to_owned(), "API_KEY".to_owned()),
            ("INTERCOM_API_BASE".to_owned(), fake.base_url()),
            ("HUB_ADMIN_KEY".to_owned(), ADMIN_KEY.to_owned()),
        ]);
        let secrets = Arc::new(SecretStore::fixed(Secrets {
            hub_admin_key: Some(ADMIN_KEY.to_owned().into()),
            ..Default::default()
        }));
        let deployment = Arc::new(
            Deployment::new(
                Tenancy::Hub,
                AgentAuth::ApiKey,
                reqwest::Client::new(),
                Arc::new(MemoryStore::new()),
                secrets,
                env,
            )
            .unwrap(),
        );
        let workspaces = Workspaces::hub(deployment, Arc::new(MemoryDirectory::new()), Arc::new(MemorySealer));
        AdminApi {
            workspaces,
            sealer: Some(Box::new(MemorySealer)),
            webhook_topics: vec!["conversation.user.created".into()],
        }
    }

    #[tokio::test]
    async fn each_method_answers_and_only_the_hub_admin_key_is_let_in() {
        let fake = FakeIntercom::builder().workspaces(2).seed_demo().start().await.unwrap();
        let api = hub_api(&fake).await;
        let info = fake.handle().workspaces()[0].clone();
        let connect = json!({"accessToken": info.access_token, "clientSecret": info.client_secret});

        assert_eq!(call(&api, request("POST", None, Some(connect.clone()))).await.0, 401);
        let (status, first) = call(&api, request("POST", Some(ADMIN_KEY), Some(connect.clone()))).await;
        assert_eq!(status, 201, "{first}");
        let agent_key = first["agentApiKey"].as_str().unwrap().to_owned();
        let (status, again) = call(&api, request("POST", Some(ADMIN_KEY), Some(connect))).await;
        assert_eq!((status, again["reconnected"].as_bool()), (200, Some(true)));
        let (status, refused) = call(&api, request("GET", Some(&agent_key), None)).await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (401, Some("unauthenticated")),
            "an agent key is never a hub key"
        );

        let (status, listed) = call(&api, request("GET", Some(ADMIN_KEY), None)).await;
        assert_eq!(status, 200);
        assert_eq!(listed["workspaces"][0]["workspaceId"], info.workspace_id.as_str());
        assert!(!listed.to_string().contains(&info.access_token) && !listed.to_string().contains(&info.client_secret));

        let bad = json!({"workspaceId": info.workspace_id, "settings": {"escalationRouting": "billing"}});
        let (status, error) = call(&api, request("PATCH", Some(ADMIN_KEY), Some(bad))).await;
        assert_eq!((status, error["error"]["field"].as_str()), (400, Some("settings.escalationRouting")), "{error}");
        let good = json!({"workspaceId": info.workspace_id, "settings": {"escalationRouting": "billing=Billing,*=Support", "replyMode": "draft"}});
        let (status, patched) = call(&api, request("PATCH", Some(ADMIN_KEY), Some(good))).await;
        assert_eq!(status, 200, "{patched}");
        let mut headers = HeaderMap::new();
        headers.insert("authorization", format!("Bearer {agent_key}").parse().unwrap());
        let workspace = api.workspaces.for_agent(&headers, AgentAuth::ApiKey).await.unwrap();
        assert_eq!(
            workspace.handoff.reply_mode,
            shared::handoff::ReplyMode::Draft,
            "the new settings on the next call"
        );

        assert_eq!(call(&api, request("PUT", Some(ADMIN_KEY), None)).await.0, 405);
        let gone = json!({"workspaceId": info.workspace_id});
        assert_eq!(call(&api, request("DELETE", Some(ADMIN_KEY), Some(gone.clone()))).await.0, 200);
        assert_eq!(api.workspaces.for_agent(&headers, AgentAuth::ApiKey).await.unwrap_err().status(), 401);
        assert_eq!(call(&api, request("DELETE", Some(ADMIN_KEY), Some(gone))).await.0, 404);
        let (status, malformed) = call(&api, request("POST", Some(ADMIN_KEY), Some(json!({"accessToken": 5})))).await;
        assert_eq!((status, malformed["error"]["field"].as_str()), (400, Some("accessToken")));
    }

    #[tokio::test]
    async fn single_mode_checks_the_deployments_workspace() {
        let fake = FakeIntercom::builder().seed_demo().start().await.unwrap();
        let env = HashMap::from([
            ("INTERCOM_API_BASE".to_owned(), fake.base_url()),
            ("INTERCOM_ACCESS_TOKEN".to_owned(), "tok".to_owned()),
            ("ESCALATION_ROUTING".to_owned(), "billing=Billing,*=Helpdesk".to_owned()),
        ]);
        let workspaces = build::from_vars(env, Arc::new(MemoryStore::new())).unwrap();
        let api = AdminApi { workspaces, sealer: None, webhook_topics: vec![] };
        let (status, report) = call(&api, request("POST", None, Some(json!({})))).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["workspaceId"], fake.handle().workspaces()[0].workspace_id.as_str());
        assert_eq!(report["createdAttributes"], json!([]), "the demo workspace has them");
        let warnings = report["warnings"].to_string();
        assert!(warnings.contains("\\\"Helpdesk\\\""), "an unknown routed team is reported: {warnings}");
        assert_eq!(call(&api, request("GET", None, None)).await.0, 405);
    }
}
