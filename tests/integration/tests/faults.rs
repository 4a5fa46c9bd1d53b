//! Faults injected into the fake Intercom: rate limits, 5xx, slow answers, writes whose answer is lost.

use std::time::{Duration, Instant};

use fake_intercom::Fault;
use integration_tests::Stack;
use serde_json::{Value, json};
use shared::actions;

async fn open_conversation(stack: &Stack) -> String {
    let c = &stack.client;
    let (status, body) = stack
        .call(json!({"userEmail":"jane@example.com","body":"Where is my parcel?"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 200, "{body}");
    body["conversationId"].as_str().unwrap().to_owned()
}

fn comments_with(stack: &Stack, id: &str, text: &str) -> usize {
    let conversation = stack.handle().conversation(id).expect("the conversation exists");
    conversation
        .parts
        .iter()
        .filter(|p| p.part_type == "comment" && p.body.as_deref().is_some_and(|b| b.contains(text)))
        .count()
}

#[tokio::test]
async fn a_429_is_waited_out_until_the_reset() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.clear_requests();
    fake.inject(Fault::rate_limit("GET", "/conversations/*").reset_after(Duration::from_secs(1)));
    let c = &stack.client;
    let (status, body) = stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await;
    assert_eq!(status, 200, "{body}");
    let calls = fake.requests_to("GET", "/conversations/*");
    assert_eq!(calls.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 200]);
    // X-RateLimit-Reset has whole seconds: the retry waits for it, not a fixed short backoff.
    assert!(calls[1].start.duration_since(calls[0].end) >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_rate_limit_beyond_the_deadline_is_returned_with_retry_after() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.clear_requests();
    fake.inject(Fault::rate_limit("GET", "/conversations/*").reset_after(Duration::from_secs(8)));
    let c = &stack.client;
    let deadline = Instant::now() + Duration::from_secs(2);
    let (status, body) = shared::deadline::scope(
        deadline,
        stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    let retry_after = body["error"]["retryAfterSeconds"].as_u64().unwrap();
    assert!((5..=8).contains(&retry_after), "{body}");
    assert!(Instant::now() < deadline, "it answered before the invocation's deadline");
    assert_eq!(fake.requests_to("GET", "/conversations/*").len(), 1);
}

#[tokio::test]
async fn reads_are_retried_through_5xx() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.clear_requests();
    fake.inject(Fault::server_error(503, "GET", "/conversations/*").times(2));
    let c = &stack.client;
    let (status, body) = stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        fake.requests_to("GET", "/conversations/*").iter().map(|r| r.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
}

#[tokio::test]
async fn persistent_5xx_is_a_502_after_bounded_retries() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.clear_requests();
    fake.inject(Fault::server_error(500, "GET", "/conversations/*").times(100));
    let c = &stack.client;
    let (status, body) = stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (502, Some("intercom_unavailable")), "{body}");
    assert_eq!(fake.requests_to("GET", "/conversations/*").len(), 4, "max_attempts bounds the retries");
}

#[tokio::test]
async fn a_reply_whose_answer_is_lost_is_not_posted_twice() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.inject(Fault::process_then_fail(504, "POST", "/conversations/*/reply"));
    let c = &stack.client;
    let (status, body) = stack
        .call(json!({"conversationId": id, "body": "Refund issued"}), |i| actions::reply_to_conversation(c, i))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(comments_with(&stack, &id, "Refund issued"), 1);
    assert_eq!(fake.requests_to("POST", "/conversations/*/reply").len(), 1, "it was read back, not resent");
}

#[tokio::test]
async fn a_reply_that_surely_failed_is_sent_again_once() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.inject(Fault::server_error(502, "POST", "/conversations/*/reply"));
    let c = &stack.client;
    let (status, body) =
        stack.call(json!({"conversationId": id, "body": "Second try"}), |i| actions::reply_to_conversation(c, i)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(comments_with(&stack, &id, "Second try"), 1);
    assert_eq!(fake.requests_to("POST", "/conversations/*/reply").len(), 2);
}

#[tokio::test]
async fn a_lost_conversation_creation_is_reported_not_repeated() {
    let stack = Stack::direct().await;
    let fake = stack.handle();
    fake.inject(Fault::process_then_fail(500, "POST", "/conversations"));
    let c = &stack.client;
    let (status, body): (u16, Value) = stack
        .call(json!({"userEmail":"jane@example.com","body":"hello"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("intercom_outcome_unknown")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("before trying again"));
    assert_eq!(fake.conversations().len(), 1, "created once by Intercom, never repeated");
    assert_eq!(fake.requests_to("POST", "/conversations").len(), 1);
}

#[tokio::test]
async fn a_slow_intercom_is_cut_off_at_the_deadline() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    stack.handle().inject(Fault::delay(Duration::from_secs(5), "GET", "/conversations/*").times(10));
    let c = &stack.client;
    let deadline = Instant::now() + Duration::from_millis(1500);
    let (status, body) = shared::deadline::scope(
        deadline,
        stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (504, Some("intercom_timeout")), "{body}");
    assert!(Instant::now() < deadline + Duration::from_millis(500));
}

#[tokio::test]
async fn a_rejected_token_explains_what_to_fix() {
    let stack = Stack::direct().await;
    stack.handle().set_valid_tokens(["some-other-token"]);
    let c = &stack.client;
    let (status, body) = stack.call(json!({"conversationId":"1"}), |i| actions::get_conversation(c, i)).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "intercom_unauthorized");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("regenerate it in Developer Hub") && !message.contains(integration_tests::TOKEN),
        "{message}"
    );
}
