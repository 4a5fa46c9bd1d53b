//! What the functions log, at the most verbose level, across a whole flow with faults: never the access token,
//! never what the customer or the AI wrote.

use std::io::Write;
use std::sync::{Arc, Mutex};

use fake_intercom::Fault;
use integration_tests::{Stack, TOKEN};
use serde_json::json;
use shared::actions;
use shared::actions::escalate;
use shared::escalation::EscalationSettings;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_show_the_token_or_message_bodies() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let stack = Stack::direct().await;
    let c = &stack.client;
    let secret_text = "my card number is 4111-1111";
    let (_, created) = stack
        .call(json!({"userEmail":"leak@example.com","body": secret_text}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    let id = created["conversationId"].as_str().unwrap().to_owned();
    stack.handle().inject(Fault::process_then_fail(500, "POST", "/conversations/*/reply"));
    stack
        .call(json!({"conversationId": id, "body": "private reply text"}), |i| actions::reply_to_conversation(c, i))
        .await;
    stack.handle().set_valid_tokens(["rotated"]);
    stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await;
    stack.handle().accept_any_token();
    let settings = EscalationSettings::default();
    stack
        .call(
            json!({"sessionId":"log-1","userEmail":"leak@example.com","confidence":0.1,"lastMessage":"escalation body text",
                   "transcript":[{"role":"ai","text":"transcript line text"}]}),
            |i| escalate(c, stack.store.as_ref(), &settings, i, None),
        )
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("escalation conversation opened"), "the flow was logged at all:\n{logs}");
    for forbidden in [TOKEN, secret_text, "private reply text", "escalation body text", "transcript line text"] {
        assert!(!logs.contains(forbidden), "{forbidden:?} appears in the logs:\n{logs}");
    }
}
