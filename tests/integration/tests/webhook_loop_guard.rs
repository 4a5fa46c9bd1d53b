//! The webhook's loop guard against the fake Intercom, on the store: the first `conversation.user.created` of a
//! conversation `escalate` opened carries the message escalate wrote as the customer (remembered on the store),
//! so it is ours; the same customer's later reply there, and a conversation they start, are theirs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use integration_tests::Stack;
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::actions;
use shared::actions::escalate;
use shared::escalation::{EscalationSettings, Routing};
use shared::webhook::verify::sign_intercom;
use shared::webhook::{AgentClient, Delivered, IgnoreReason, LoopGuardMode, RoutePolicy, WebhookKeys, WebhookService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An agent endpoint that answers 200 and keeps the bodies it got (one request per connection).
async fn agent() -> (url::Url, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}/events", listener.local_addr().unwrap())).unwrap();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut raw = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                raw.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&raw).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        seen.lock().unwrap().push(serde_json::from_str(body).unwrap_or(Value::Null));
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
        }
    });
    (url, bodies)
}

/// Intercom's delivery for the conversation as the fake holds it, with no tags (as when it was just opened).
fn user_created(stack: &Stack, conversation_id: &str) -> String {
    delivery(stack, conversation_id, "conversation.user.created")
}

fn delivery(stack: &Stack, conversation_id: &str, topic: &str) -> String {
    let mut item = stack.handle().conversation_json(conversation_id, false).expect("the conversation exists");
    if topic == "conversation.user.created" {
        item["tags"] = json!({"type": "tag.list", "tags": []});
    }
    json!({"type": "notification_event", "app_id": "app", "data": {"type": "notification_event_data", "item": item},
        "links": {}, "id": format!("notif_{conversation_id}_{topic}"), "topic": topic,
        "delivery_status": "pending", "delivery_attempts": 1, "delivered_at": 0, "first_sent_at": 1_717_000_000,
        "created_at": 1_717_000_000, "self": null})
    .to_string()
}

/// The same event under another notification id (the first service already claimed the first ids on the store).
fn again(body: &str) -> String {
    body.replace("\"notif_", "\"notif_again_")
}

async fn deliver(service: &WebhookService, body: &str) -> Delivered {
    let client = SecretString::from("client-secret");
    let agent = SecretString::from("agent-secret");
    let keys = WebhookKeys { client_secret: Some(&client), agent_webhook_secret: Some(&agent), ..Default::default() };
    let signature = sign_intercom(b"client-secret", body.as_bytes());
    service.handle(keys, Some(&signature), body.as_bytes()).await.expect("the delivery is accepted")
}

fn service(stack: &Stack, url: url::Url, mode: LoopGuardMode) -> WebhookService {
    let policy = RoutePolicy { loop_guard_mode: mode, ..RoutePolicy::default() };
    WebhookService::new(policy, Some(AgentClient::new(url, Duration::from_secs(2)).unwrap()))
        .with_store(stack.store.clone())
}

#[tokio::test]
async fn the_first_event_of_an_escalation_is_ours_and_a_customers_new_conversation_is_theirs() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let settings = EscalationSettings {
        routing: Routing::parse(Some("billing=Billing,*=Support")).unwrap(),
        ..Default::default()
    };
    let (status, escalated) = stack
        .call(
            json!({"sessionId":"sess-loop","userEmail":"jane@example.com","confidence":0.2,
                "lastMessage":"I was charged twice"}),
            |i| escalate(c, stack.store.as_ref(), &settings, i, None),
        )
        .await;
    assert_eq!(status, 200, "{escalated}");
    let escalated_id = escalated["conversationId"].as_str().unwrap().to_owned();

    // The same customer then opens a conversation of their own in the Messenger.
    let contact_id = stack.handle().conversation_json(&escalated_id, false).unwrap()["contacts"]["contacts"][0]["id"]
        .as_str()
        .expect("the escalated conversation has its contact")
        .to_owned();
    let own_id =
        stack.handle().add_conversation(&contact_id, "Another question").expect("the customer writes").id.to_string();
    // create-conversation writes as the customer too: ours.
    let (status, created) = stack
        .call(json!({"userEmail":"jane@example.com","body":"Created for you"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 200, "{created}");
    let created_id = created["conversationId"].as_str().unwrap().to_owned();

    let (url, relayed) = agent().await;
    let flag = service(&stack, url, LoopGuardMode::Flag);
    assert!(matches!(deliver(&flag, &user_created(&stack, &escalated_id)).await, Delivered::Relayed { .. }));
    assert!(matches!(deliver(&flag, &user_created(&stack, &own_id)).await, Delivered::Relayed { .. }));
    assert!(matches!(deliver(&flag, &user_created(&stack, &created_id)).await, Delivered::Relayed { .. }));
    // The customer answers in the conversation escalate opened: that message is theirs.
    stack.handle().add_contact_reply(&escalated_id, "Any news?").expect("the customer replies");
    let reply = delivery(&stack, &escalated_id, "conversation.user.replied");
    assert!(matches!(deliver(&flag, &reply).await, Delivered::Relayed { .. }));
    let relayed = relayed.lock().unwrap().clone();
    assert_eq!(relayed.len(), 4);
    assert_eq!(
        (relayed[2]["conversation"]["id"].as_str(), relayed[2]["origin"].as_str()),
        (Some(created_id.as_str()), Some("integration"))
    );
    assert_eq!(
        (
            relayed[3]["conversation"]["id"].as_str(),
            relayed[3]["origin"].as_str(),
            relayed[3]["message"]["text"].as_str()
        ),
        (Some(escalated_id.as_str()), Some("customer"), Some("Any news?"))
    );
    assert_eq!(
        (relayed[0]["conversation"]["id"].as_str(), relayed[0]["origin"].as_str()),
        (Some(escalated_id.as_str()), Some("integration"))
    );
    assert_eq!(
        (relayed[1]["conversation"]["id"].as_str(), relayed[1]["origin"].as_str()),
        (Some(own_id.as_str()), Some("customer"))
    );

    let (url, relayed) = agent().await;
    let drop = service(&stack, url, LoopGuardMode::Drop);
    assert_eq!(
        deliver(&drop, &again(&user_created(&stack, &escalated_id))).await,
        Delivered::Ignored(IgnoreReason::FromIntegration)
    );
    assert_eq!(
        deliver(&drop, &again(&user_created(&stack, &created_id))).await,
        Delivered::Ignored(IgnoreReason::FromIntegration)
    );
    assert!(matches!(deliver(&drop, &again(&user_created(&stack, &own_id))).await, Delivered::Relayed { .. }));
    assert!(matches!(deliver(&drop, &again(&reply)).await, Delivered::Relayed { .. }));
    assert_eq!(relayed.lock().unwrap().len(), 2, "only the customer's own messages reach the agent");
}
