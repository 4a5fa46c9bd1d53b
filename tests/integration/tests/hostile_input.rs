//! Hostile or broken input from either side: a redirecting "Intercom", values that must not be echoed back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use integration_tests::{Stack, client_for};
use serde_json::json;
use shared::actions;
use shared::intercom::RetryPolicy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that answers every request with `response` and counts the connections it got.
async fn raw_server(response: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 8192];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, hits)
}

#[tokio::test]
async fn intercom_redirects_are_not_followed_so_the_token_stays_home() {
    let (elsewhere, stolen) = raw_server("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".into()).await;
    let redirect =
        format!("HTTP/1.1 302 Found\r\nlocation: {elsewhere}/steal\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let (intercom, _) = raw_server(redirect).await;
    let stack = Stack::direct().await;
    let client = client_for(&intercom, RetryPolicy::default());
    let (status, body) = stack.call(json!({"conversationId": "1"}), |i| actions::get_conversation(&client, i)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (502, Some("intercom_redirected")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("INTERCOM_REGION"), "{body}");
    assert!(!body.to_string().contains(&elsewhere), "the Location is not echoed: {body}");
    assert_eq!(stolen.load(Ordering::SeqCst), 0, "the redirect target never saw a request (nor the token)");
}

#[tokio::test]
async fn a_mistyped_field_is_refused_without_echoing_its_value() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let (status, body) = stack
        .call(json!({"userEmail": "jane@example.com", "body": {"apiKey": "sk_live_DO_NOT_ECHO"}}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("body")), "{body}");
    assert_eq!(body["error"]["message"], "body: expected a string, found map");
    assert!(!body.to_string().contains("DO_NOT_ECHO"));
}

#[tokio::test]
async fn an_unreadable_answer_from_intercom_is_reported_without_its_content() {
    let answer = r#"{"type":"conversation","id":["customer secret text"]}"#;
    let (intercom, _) = raw_server(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
        answer.len()
    ))
    .await;
    let stack = Stack::direct().await;
    let client = client_for(&intercom, RetryPolicy::default());
    let (status, body) = stack.call(json!({"conversationId": "1"}), |i| actions::get_conversation(&client, i)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (502, Some("intercom_unexpected_answer")), "{body}");
    assert!(!body.to_string().contains("customer secret"), "{body}");
}
