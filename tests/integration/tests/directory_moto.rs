//! Hub mode's directory and sealed credentials on moto (DynamoDB + KMS), the way they run deployed: a connect is
//! one transaction that two racing admins cannot both win, credentials open only under their own workspace, and
//! a whole connect → act → disconnect against two workspaces of the fake Intercom.

use std::collections::HashMap;
use std::sync::Arc;

use fake_intercom::FakeIntercom;
use integration_tests::moto::{self, Moto};
use lambda_http::http::HeaderMap;
use shared::config::{AgentAuth, Region};
use shared::secrets::{SecretStore, Secrets};
use shared::store::memory::MemoryStore;
use shared::workspace::connect::{ConnectRequest, Connector, DisconnectRequest};
use shared::workspace::directory::dynamodb::DynamoDirectory;
use shared::workspace::directory::{Directory, DirectoryError, Save};
use shared::workspace::keys::hash_key;
use shared::workspace::resolve::{Deployment, Workspaces};
use shared::workspace::seal::{KmsSealer, SealError, Sealer};
use shared::workspace::settings::SettingsOverrides;
use shared::workspace::{Tenancy, WorkspaceId, WorkspaceRecord};
use tokio::task::JoinSet;

const TABLE: &str = "workspaces";

async fn table_and_key(moto: &Moto) -> String {
    let sdk = moto.sdk_config().await;
    moto.create_workspaces_table(TABLE);
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().description("workspace credentials").send().await.unwrap();
    key.key_metadata.unwrap().key_id
}

fn record(id: &str, version: u64) -> WorkspaceRecord {
    WorkspaceRecord {
        id: WorkspaceId::parse(id).unwrap(),
        name: id.into(),
        region: Region::Eu,
        admin_id: "1".into(),
        version,
        credentials_version: version,
        connected_at: 1,
        agent_key_hash: hash_key(&format!("key-{id}-{version}")),
        previous_agent_key: None,
        previous_client_secret_until: None,
        settings: SettingsOverrides::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kms_seals_each_workspaces_credentials_to_its_own_id() {
    let Some(moto) = moto::start(None).await else { return };
    let key = table_and_key(&moto).await;
    let sealer = KmsSealer::with_sdk(key, moto.sdk_config().await);
    let (a, b) = (WorkspaceId::parse("aaa").unwrap(), WorkspaceId::parse("bbb").unwrap());
    let sealed = sealer.seal(&a, br#"{"accessToken":"tok_a"}"#).await.unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("tok_a"), "KMS encrypted it");
    assert_eq!(sealer.open(&a, &sealed).await.unwrap(), br#"{"accessToken":"tok_a"}"#);
    assert_eq!(sealer.open(&b, &sealed).await.unwrap_err(), SealError::Tampered, "another workspace's id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_connects_of_one_workspace_have_one_winner() {
    let Some(moto) = moto::start(None).await else { return };
    table_and_key(&moto).await;
    let mut tasks = JoinSet::new();
    for i in 0..8 {
        // Separate clients, as separate containers would have.
        let directory = DynamoDirectory::new(&moto.sdk_config().await, TABLE);
        tasks.spawn(async move {
            let mut r = record("aaa", 1);
            r.name = format!("admin {i}");
            let save = Save {
                record: r,
                sealed: Some(vec![i]),
                expected_version: None,
                index_keys: vec![],
                drop_keys: vec![],
            };
            directory.save(save).await
        });
    }
    let results = tasks.join_all().await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || *r == Err(DirectoryError::Conflict)));

    let directory = DynamoDirectory::new(&moto.sdk_config().await, TABLE);
    let id = WorkspaceId::parse("aaa").unwrap();
    let stored = directory.record(&id).await.unwrap().unwrap();
    let sealed = directory.sealed(&id).await.unwrap().unwrap();
    assert_eq!(sealed.version, 1);
    assert_eq!(format!("admin {}", sealed.blob[0]), stored.name, "the winner's credentials went with its record");

    // A change on a stale version is refused; on the current one it lands.
    let stale = Save {
        record: record("aaa", 2),
        sealed: None,
        expected_version: Some(7),
        index_keys: vec![],
        drop_keys: vec![],
    };
    assert_eq!(directory.save(stale).await.unwrap_err(), DirectoryError::Conflict);
    let next = Save {
        record: record("aaa", 2),
        sealed: None,
        expected_version: Some(1),
        index_keys: vec![],
        drop_keys: vec![],
    };
    directory.save(next).await.unwrap();
    assert_eq!(directory.record(&id).await.unwrap().unwrap().version, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_act_and_disconnect_two_workspaces_on_dynamodb_and_kms() {
    let Some(moto) = moto::start(None).await else { return };
    let key = table_and_key(&moto).await;
    let fake = FakeIntercom::builder().workspaces(2).seed_demo().start().await.unwrap();
    let env = HashMap::from([("INTERCOM_API_BASE".to_owned(), fake.base_url())]);
    let secrets = Arc::new(SecretStore::fixed(Secrets::default()));
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
    let sdk = moto.sdk_config().await;
    let directory = Arc::new(DynamoDirectory::new(&sdk, TABLE));
    let sealer = Arc::new(KmsSealer::with_sdk(key, sdk));
    let connector = Connector {
        deployment: &deployment,
        directory: directory.as_ref(),
        sealer: sealer.as_ref(),
        webhook_topics: vec![],
    };
    let workspaces = Workspaces::hub(deployment.clone(), directory.clone(), sealer.clone());

    let mut keys = Vec::new();
    for info in fake.handle().workspaces() {
        let request: ConnectRequest = serde_json::from_value(
            serde_json::json!({"accessToken": info.access_token, "clientSecret": info.client_secret}),
        )
        .unwrap();
        keys.push((info.clone(), connector.connect(request).await.unwrap().agent_api_key.unwrap()));
    }
    let listed = connector.list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(!serde_json::to_string(&listed).unwrap().contains(&keys[0].0.access_token), "no secret listed");

    for (info, key) in &keys {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", format!("Bearer {key}").parse().unwrap());
        let workspace = workspaces.for_agent(&headers, AgentAuth::ApiKey).await.unwrap();
        assert_eq!(workspace.helpdesk.me().await.unwrap().id, info.ai_admin_id, "its own token, opened with KMS");
    }
    assert!(connector.list().await.unwrap().iter().all(|w| w.last_used_at.is_some()), "use is recorded");

    let (first, first_key) = &keys[0];
    connector.disconnect(DisconnectRequest { workspace_id: first.workspace_id.clone() }).await.unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {first_key}").parse().unwrap());
    assert_eq!(workspaces.for_agent(&headers, AgentAuth::ApiKey).await.unwrap_err().status(), 401);
    assert_eq!(connector.list().await.unwrap().len(), 1);
}
