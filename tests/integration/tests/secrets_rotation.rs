//! Rotating the agent API key and the webhook client secret in Secrets Manager (moto): a new agent key works on
//! its first call (an unknown key makes the secret be read again, at most once per 10 s), the previous version
//! (`AWSPREVIOUS`) is accepted for the rotation grace period and never after, and a value two rotations old is
//! refused.

use std::sync::Arc;
use std::time::Duration;

use integration_tests::moto;
use lambda_http::http::{HeaderMap, header};
use serde_json::json;
use shared::config::AgentAuth;
use shared::http::{ActionError, AgentGuard};
use shared::secrets::SecretStore;
use shared::webhook::{Delivered, RoutePolicy, WebhookKeys, WebhookService, sign_intercom};

/// Short, so the test waits for it; deployed it is five minutes.
const TTL: Duration = Duration::from_millis(800);

fn bearer(key: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, format!("Bearer {key}").parse().unwrap());
    headers
}

fn secret(version: u32) -> String {
    json!({"access_token": "tok", "agent_api_key": format!("key-v{version}"), "client_secret": format!("cs-v{version}")})
        .to_string()
}

/// Whether a webhook delivery signed with `client_secret` passes verification with the store's current keys.
async fn webhook_accepts(store: &SecretStore, client_secret: &str) -> bool {
    let secrets = store.get().await.unwrap();
    let keys = WebhookKeys {
        client_secret: secrets.client_secret.as_ref(),
        previous_client_secret: secrets.previous_client_secret(),
        ..Default::default()
    };
    let body = br#"{"type":"notification_event","topic":"ping","id":null}"#;
    let service = WebhookService::new(RoutePolicy::default(), None);
    let signature = sign_intercom(client_secret.as_bytes(), body);
    service.handle(keys, Some(&signature), body).await == Ok(Delivered::Ping)
}

#[tokio::test]
async fn a_new_key_works_at_once_and_the_previous_version_only_inside_its_grace_period() {
    let Some(moto) = moto::start(None).await else { return };
    let sdk = moto.sdk_config().await;
    let admin = aws_sdk_secretsmanager::Client::new(&sdk);
    let arn = admin
        .create_secret()
        .name("intercom-agent-rotation")
        .secret_string(secret(1))
        .send()
        .await
        .expect("moto creates the secret")
        .arn
        .expect("an ARN");
    let rotate = |version: u32| {
        let (admin, arn) = (admin.clone(), arn.clone());
        async move { admin.put_secret_value().secret_id(arn).secret_string(secret(version)).send().await.unwrap() }
    };

    // The grace is counted from the new version's creation, in whole seconds on moto.
    let grace = Duration::from_secs(3);
    let store = Arc::new(SecretStore::secrets_manager(&arn, &sdk, TTL).with_rotation_grace(grace));
    let guard = AgentGuard::new(AgentAuth::ApiKey, store.clone());
    assert_eq!(guard.check(&bearer("key-v1")).await, Ok(()));
    assert!(store.get().await.unwrap().previous_agent_api_key.is_none(), "no previous version yet");

    rotate(2).await;
    // An unknown key makes the secret be read again at once: the new key works on its first call.
    assert_eq!(guard.check(&bearer("key-v2")).await, Ok(()), "a new key is not refused for the cache's TTL");
    assert_eq!(store.fetch_count(), 2);
    assert_eq!(guard.check(&bearer("key-v1")).await, Ok(()), "the AWSPREVIOUS key inside the grace period");
    assert!(webhook_accepts(&store, "cs-v2").await);
    assert!(webhook_accepts(&store, "cs-v1").await, "deliveries signed with the previous client secret pass");
    assert_eq!(guard.check(&bearer("key-v9")).await, Err(ActionError::Unauthenticated));
    assert_eq!(store.fetch_count(), 2, "another unknown key within 10 s forces no second read");

    // After the grace period the previous version is refused, though it is still AWSPREVIOUS.
    tokio::time::sleep(grace + Duration::from_millis(1200)).await;
    assert_eq!(guard.check(&bearer("key-v1")).await, Err(ActionError::Unauthenticated), "never after the grace");
    assert!(!webhook_accepts(&store, "cs-v1").await, "nor its client secret");
    assert_eq!(guard.check(&bearer("key-v2")).await, Ok(()));

    rotate(3).await;
    tokio::time::sleep(TTL + Duration::from_millis(100)).await;
    assert_eq!(guard.check(&bearer("key-v3")).await, Ok(()));
    assert_eq!(guard.check(&bearer("key-v2")).await, Ok(()), "the new previous version, inside its grace");
    assert_eq!(guard.check(&bearer("key-v1")).await, Err(ActionError::Unauthenticated), "rotated out");
    assert!(webhook_accepts(&store, "cs-v3").await && webhook_accepts(&store, "cs-v2").await);
    assert!(!webhook_accepts(&store, "cs-v1").await, "a client secret two rotations old is refused");
}
