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
