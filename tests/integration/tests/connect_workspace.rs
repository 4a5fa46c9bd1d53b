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
