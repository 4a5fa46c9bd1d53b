//! The access token from AWS Secrets Manager (moto's local server): read on first use, once per container,
//! and read again when Intercom rejects it (rotation) — no restart needed.

use std::sync::Arc;

use fake_intercom::FakeIntercom;
use integration_tests::{Stack, moto};
use serde_json::json;
use shared::actions;
use shared::config::Config;
use shared::intercom::IntercomClient;
use shared::secrets::SecretStore;

#[tokio::test]
async fn the_token_comes_from_secrets_manager_once_and_rotation_is_picked_up() {
    let Some(moto) = moto::start(None).await else { return };
    // SAFETY: this test binary has one test, and nothing else reads the environment yet.
    unsafe { moto.point_aws_sdk_here() };
    let sdk = aws_sdk_secretsmanager::Client::new(&shared::secrets::aws_sdk_config().await);
    let arn = sdk
        .create_secret()
        .name("intercom-agent")
        .secret_string(json!({"access_token":"tok-v1","client_secret":"cs","agent_api_key":"key"}).to_string())
        .send()
        .await
        .expect("moto creates the secret")
        .arn
        .expect("an ARN");

    let fake = FakeIntercom::builder().seed_demo().valid_tokens(["tok-v1"]).start().await.unwrap();
    let config = Config::from_lookup(|name| match name {
        "INTERCOM_API_BASE" => Some(fake.base_url()),
        "INTERCOM_SECRET_ARN" => Some(arn.clone()),
        _ => None,
    })
    .unwrap();
    let store = Arc::new(SecretStore::new(&config.token_source));
    assert_eq!(store.fetch_count(), 0, "nothing is fetched during init");
    let client = IntercomClient::new(&config, store.clone());
    let stack = Stack { fake, prism: None, client, guard: shared::http::AgentGuard::iam(), store: Default::default() };
    let c = &stack.client;

    for n in 0..3 {
        let (status, body) = stack
            .call(json!({"userEmail":"jane@example.com","body":format!("message {n}")}), |i| {
                actions::create_conversation(c, stack.store.as_ref(), i)
            })
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(store.fetch_count(), 1, "one GetSecretValue per container");

    // Rotation: the secret gets a new token and Intercom stops accepting the old one.
    sdk.put_secret_value()
        .secret_id(&arn)
        .secret_string(json!({"access_token":"tok-v2"}).to_string())
        .send()
        .await
        .unwrap();
    stack.handle().set_valid_tokens(["tok-v2"]);
    let (status, body) = stack.call(json!({"conversationId":"1"}), |i| actions::get_conversation(c, i)).await;
    assert_ne!(status, 503, "{body}");
    assert_ne!(body["error"]["code"], "intercom_unauthorized", "{body}");
    assert_eq!(store.fetch_count(), 2, "fetched again once after the 401");
    let last = stack.handle().requests().last().cloned().unwrap();
    assert_eq!(last.bearer_token(), Some("tok-v2"));

    // A wrong secret id is a 503 that says what to check, without any secret value.
    let missing = Config::from_lookup(|name| match name {
        "INTERCOM_API_BASE" => Some(stack.fake.base_url()),
        "INTERCOM_SECRET_ARN" => Some("does-not-exist".into()),
        _ => None,
    })
    .unwrap();
    let broken = IntercomClient::new(&missing, Arc::new(SecretStore::new(&missing.token_source)));
    let (status, body) = stack.call(json!({"conversationId":"1"}), |i| actions::get_conversation(&broken, i)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("token_unavailable")), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("ResourceNotFoundException") && message.contains("INTERCOM_SECRET_ARN"), "{message}");
}
