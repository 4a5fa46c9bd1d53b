//! Rotating the agent API key and the webhook client secret in Secrets Manager (moto): the new value takes
//! effect within the cache's TTL, the previous version (`AWSPREVIOUS`) is still accepted while clients move over,
//! and a value two rotations old is refused.

use std::sync::Arc;
use std::time::Duration;

use integration_tests::moto;
use lambda_http::http::{HeaderMap, header};
use secrecy::ExposeSecret;
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
        previous_client_secret: secrets.previous_client_secret.as_ref(),
        ..Default::default()
    };
    let body = br#"{"type":"notification_event","topic":"ping","id":null}"#;
    let service = WebhookService::new(RoutePolicy::default(), None);
    let signature = sign_intercom(client_secret.as_bytes(), body);
    service.handle(keys, Some(&signature), body).await == Ok(Delivered::Ping)
}

#[tokio::test]
async fn rotated_keys_take_effect_within_the_ttl_and_the_previous_version_is_accepted_until_it_rotates_out() {
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

    let store = Arc::new(SecretStore::secrets_manager(&arn, &sdk, TTL));
    let guard = AgentGuard::new(AgentAuth::ApiKey, store.clone());
    assert_eq!(guard.check(&bearer("key-v1")).await, Ok(()));
    assert!(store.get().await.unwrap().previous_agent_api_key.is_none(), "no previous version yet");

    rotate(2).await;
    // Within the TTL the cached version still decides.
    assert_eq!(guard.check(&bearer("key-v2")).await, Err(ActionError::Unauthenticated));
    tokio::time::sleep(TTL + Duration::from_millis(100)).await;
    assert_eq!(guard.check(&bearer("key-v2")).await, Ok(()), "the new key is accepted once the TTL passed");
    assert_eq!(guard.check(&bearer("key-v1")).await, Ok(()), "the AWSPREVIOUS key is still accepted");
    assert!(webhook_accepts(&store, "cs-v2").await);
    assert!(webhook_accepts(&store, "cs-v1").await, "deliveries signed with the previous client secret pass");
    let secrets = store.get().await.unwrap();
    assert_eq!(secrets.previous_agent_api_key.as_ref().map(|k| k.expose_secret()), Some("key-v1"));

    rotate(3).await;
    tokio::time::sleep(TTL + Duration::from_millis(100)).await;
    assert_eq!(guard.check(&bearer("key-v3")).await, Ok(()));
    assert_eq!(guard.check(&bearer("key-v2")).await, Ok(()));
    assert_eq!(guard.check(&bearer("key-v1")).await, Err(ActionError::Unauthenticated), "rotated out");
    assert!(webhook_accepts(&store, "cs-v3").await && webhook_accepts(&store, "cs-v2").await);
    assert!(!webhook_accepts(&store, "cs-v1").await, "a client secret two rotations old is refused");
    assert_eq!(store.fetch_count(), 3, "read once per TTL, not per request");
}
