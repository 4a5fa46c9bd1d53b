//! `relay-to-agent`'s batch: the queued notifications one SQS event carries, relayed with FIFO order kept.
//!
//! Messages of one group (one conversation) go one after another; once one fails, the later ones of its group
//! fail too without being sent, so the agent never sees a conversation's events out of order. Groups are
//! independent and run at the same time. What fails stays on the queue and comes back after the visibility
//! timeout; after the queue's `maxReceiveCount` receives it moves to the dead-letter queue.

use std::collections::HashSet;

use futures::future::join_all;

use super::service::{Delivered, WebhookKeys, WebhookService};
use super::settings::DEADLINE_MARGIN;

/// One queued notification as the event source mapping hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub message_id: String,
    /// FIFO message group (the conversation); `None` on a standard queue: then every message stands alone.
    pub group_id: Option<String>,
    pub body: String,
    /// SQS's `ApproximateReceiveCount`: 1 on the first attempt.
    pub receive_count: Option<u32>,
}

/// Relays `messages` (in queue order) and returns the ids of those to retry, in the order given.
pub async fn relay_batch(service: &WebhookService, keys: WebhookKeys<'_>, messages: &[QueuedMessage]) -> Vec<String> {
    let mut groups: Vec<Vec<&QueuedMessage>> = Vec::new();
    for message in messages {
        let same_group = message
            .group_id
            .as_ref()
            .and_then(|g| groups.iter().position(|members| members[0].group_id.as_ref() == Some(g)));
        match same_group {
            Some(index) => groups[index].push(message),
            None => groups.push(vec![message]),
        }
    }
    let failed: HashSet<String> =
        join_all(groups.iter().map(|group| relay_group(service, keys, group))).await.into_iter().flatten().collect();
    messages.iter().filter(|m| failed.contains(&m.message_id)).map(|m| m.message_id.clone()).collect()
}

/// One group in order; the ids that failed or were held back behind a failure.
async fn relay_group(service: &WebhookService, keys: WebhookKeys<'_>, group: &[&QueuedMessage]) -> Vec<String> {
    for (index, message) in group.iter().enumerate() {
        let held_back = || group[index + 1..].iter().map(|m| m.message_id.clone());
        if crate::deadline::remaining() < service.relay_timeout() + DEADLINE_MARGIN {
            tracing::warn!(message_id = %message.message_id, "too little time left in this invocation; retried later");
            return std::iter::once(message.message_id.clone()).chain(held_back()).collect();
        }
        match service.relay_queued(keys, message.body.as_bytes()).await {
            Ok(outcome) => log_done(message, &outcome),
            Err(e) => {
                tracing::warn!(
                    message_id = %message.message_id,
                    group_id = message.group_id.as_deref(),
                    attempt = message.receive_count,
                    code = e.code(),
                    error = %e,
                    held_back = group.len() - index - 1,
                    "queued event not relayed; it and the later events of its conversation are retried"
                );
                return std::iter::once(message.message_id.clone()).chain(held_back()).collect();
            }
        }
    }
    Vec::new()
}

fn log_done(message: &QueuedMessage, outcome: &Delivered) {
    match outcome {
        Delivered::Relayed { .. } => {}
        other => tracing::info!(message_id = %message.message_id, outcome = ?other, "queued event done"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use secrecy::SecretString;
    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use std::time::Duration;

    use super::*;
    use crate::webhook::agent::AgentClient;
    use crate::webhook::fixtures;
    use crate::webhook::route::RoutePolicy;

    /// An agent that refuses (503) events of `failing` conversations and records (notification id, status).
    async fn agent(failing: &'static str) -> (url::Url, Arc<Mutex<Vec<(String, u16)>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = url::Url::parse(&format!("http://{}/events", listener.local_addr().unwrap())).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut raw = Vec::new();
                let mut buf = [0u8; 8192];
                let body = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .to_ascii_lowercase()
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                            .unwrap_or(0usize);
                        if body.len() >= length {
                            break body.to_string();
                        }
                    }
                    if n == 0 {
                        break String::new();
                    }
                };
                let event: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let status = if event["conversation"]["id"] == failing { 503 } else { 200 };
                log.lock().unwrap().push((event["notificationId"].as_str().unwrap_or_default().to_string(), status));
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (url, seen)
    }

    fn message(conversation: &str, id: &str) -> QueuedMessage {
        let mut value: Value = serde_json::from_str(fixtures::USER_REPLIED).unwrap();
        value["id"] = json!(id);
        value["data"]["item"]["id"] = json!(conversation);
        QueuedMessage {
            message_id: format!("m-{id}"),
            group_id: Some(conversation.to_string()),
            body: value.to_string(),
            receive_count: Some(1),
        }
    }

    #[tokio::test]
    async fn a_failure_holds_back_the_rest_of_its_conversation_only() {
        let (url, seen) = agent("666").await;
        let service =
            WebhookService::new(RoutePolicy::default(), Some(AgentClient::new(url, Duration::from_secs(2)).unwrap()));
        let secret = SecretString::from("agent-secret");
        let keys = WebhookKeys { client_secret: None, agent_webhook_secret: Some(&secret), ..Default::default() };
        let batch = [
            message("147", "n1"),
            message("666", "p1"),
            message("147", "n2"),
            message("666", "p2"),
            message("200", "o1"),
        ];
        let failed = relay_batch(&service, keys, &batch).await;
        assert_eq!(failed, ["m-p1", "m-p2"], "the failed event and the one behind it in its conversation");
        let mut seen = seen.lock().unwrap().clone();
        seen.sort();
        let expected = [("n1", 200), ("n2", 200), ("o1", 200), ("p1", 503)].map(|(n, s)| (n.to_string(), s));
        assert_eq!(seen, expected, "p2 was never sent ahead of p1");
    }

    #[tokio::test]
    async fn nothing_is_started_that_the_invocation_cannot_finish() {
        let (url, seen) = agent("none").await;
        let service =
            WebhookService::new(RoutePolicy::default(), Some(AgentClient::new(url, Duration::from_secs(2)).unwrap()));
        let secret = SecretString::from("agent-secret");
        let keys = WebhookKeys { client_secret: None, agent_webhook_secret: Some(&secret), ..Default::default() };
        let batch = [message("147", "n1"), message("200", "o1")];
        let soon = std::time::Instant::now() + Duration::from_millis(2_500);
        let failed = crate::deadline::scope(soon, relay_batch(&service, keys, &batch)).await;
        assert_eq!(failed, ["m-n1", "m-o1"]);
        assert!(seen.lock().unwrap().is_empty());
    }
}
