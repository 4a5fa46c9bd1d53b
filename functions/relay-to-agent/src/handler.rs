//! An SQS batch in, the messages to retry out (`ReportBatchItemFailures`); the work is [`relay_batch`].
//!
//! A message whose relay failed (and the later messages of its conversation) is listed in
//! `batchItemFailures`: SQS makes it visible again after the queue's visibility timeout and, after
//! `maxReceiveCount` receives, moves it to the dead-letter queue. Secrets that cannot be loaded fail the whole
//! batch the same way.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent};
use shared::deadline;
use shared::secrets::SecretStore;
use shared::webhook::{QueuedMessage, WebhookKeys, WebhookService, relay_batch};

pub async fn handle(
    service: &WebhookService,
    secrets: &SecretStore,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    let deadline = deadline::from_epoch_millis(event.context.deadline);
    let messages: Vec<QueuedMessage> = event.payload.records.into_iter().filter_map(queued).collect();
    let failed = deadline::scope(deadline, relay(service, secrets, &messages)).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    Ok(response)
}

async fn relay(service: &WebhookService, secrets: &SecretStore, messages: &[QueuedMessage]) -> Vec<String> {
    let secrets = match secrets.get().await {
        Ok(secrets) => secrets,
        Err(e) => {
            tracing::error!(error = %e, "webhook secrets unavailable; the whole batch is retried");
            return messages.iter().map(|m| m.message_id.clone()).collect();
        }
    };
    let keys = WebhookKeys {
        client_secret: secrets.client_secret.as_ref(),
        agent_webhook_secret: secrets.agent_webhook_secret.as_ref(),
        previous_client_secret: secrets.previous_client_secret(),
    };
    relay_batch(service, keys, messages).await
}

/// The message as [`relay_batch`] reads it. A record without an id (never seen from SQS) cannot be reported as
/// failed, so it is skipped.
fn queued(message: SqsMessage) -> Option<QueuedMessage> {
    let Some(message_id) = message.message_id else {
        tracing::warn!("an SQS record without a messageId was skipped");
        return None;
    };
    Some(QueuedMessage {
        group_id: message.attributes.get("MessageGroupId").cloned(),
        receive_count: message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()),
        body: message.body.unwrap_or_default(),
        message_id,
    })
}

#[cfg(test)]
mod tests {
    use lambda_runtime::Context;
    use serde_json::{Value, json};
    use shared::secrets::Secrets;
    use shared::webhook::{WebhookSettings, fixtures};

    use super::*;

    fn function(agent_url: &str) -> (WebhookService, SecretStore) {
        let env = [("AGENT_WEBHOOK_URL", agent_url), ("AGENT_RELAY_TIMEOUT_MS", "500")];
        let settings =
            WebhookSettings::from_lookup(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())).unwrap();
        let secrets = Secrets::parse(&json!({"agent_webhook_secret": "agent-secret"}).to_string()).unwrap();
        (WebhookService::from_settings(&settings).unwrap(), SecretStore::fixed(secrets))
    }

    /// What Lambda's event source mapping sends for a FIFO queue (trimmed to the fields that matter).
    fn sqs_event(records: &[(&str, &str, &str)]) -> SqsEvent {
        let records: Vec<Value> = records
            .iter()
            .map(|(message_id, group, notification)| {
                let mut body: Value = serde_json::from_str(fixtures::USER_REPLIED).unwrap();
                body["id"] = json!(notification);
                body["data"]["item"]["id"] = json!(group);
                json!({
                    "messageId": message_id, "receiptHandle": "rh", "body": body.to_string(),
                    "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": group,
                        "MessageDeduplicationId": notification, "SentTimestamp": "1718000595000"},
                    "messageAttributes": {}, "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:relay.fifo", "awsRegion": "us-east-1"
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn an_unreachable_agent_fails_the_messages_for_the_queue_to_retry() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        drop(listener);
        let (service, secrets) = function(&url);
        let event = sqs_event(&[("m1", "147", "notif_1"), ("m2", "147", "notif_2")]);
        let response = handle(&service, &secrets, LambdaEvent::new(event, Context::default())).await.unwrap();
        let answer = serde_json::to_value(&response).unwrap();
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}),
            "the failed message and the later one of its conversation"
        );
    }

    #[tokio::test]
    async fn a_ping_or_an_ignored_topic_is_done_with() {
        let (service, secrets) = function("http://127.0.0.1:9/events");
        let mut event = sqs_event(&[("m1", "147", "notif_1")]);
        event.records[0].body = Some(fixtures::PING.to_string());
        let response = handle(&service, &secrets, LambdaEvent::new(event, Context::default())).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
}
