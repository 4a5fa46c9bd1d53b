//! [`Queue`] on Amazon SQS. A `.fifo` queue URL gets the group and deduplication ids; a standard queue gets
//! neither (SQS would refuse the deduplication id).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::retry::RetryConfig;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::{Outgoing, QUEUE_URL_ENV, Queue, QueueError};

/// One send, retry included: the webhook answers Intercom well within its 10 s, and a hung queue is a 503.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
/// One attempt (connecting included), so a second attempt fits in [`OPERATION_TIMEOUT`].
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1_400);
/// Attempts per send: one retry for a dropped connection or a throttle. A retried send whose first attempt
/// landed is dropped by the FIFO deduplication id.
pub const MAX_ATTEMPTS: u32 = 2;
/// SQS's message size limit we plan for (the long-standing 256 KiB; Intercom's payloads are tens of KB).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The SQS adapter of [`Queue`]. Cheap to share: wrap it in an `Arc`.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
    fifo: bool,
}

impl SqsQueue {
    /// A queue at `url`, with this crate's timeouts and retry limit on top of `config`.
    pub fn new(config: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        let timeouts = TimeoutConfig::builder()
            .operation_timeout(OPERATION_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .build();
        let config = aws_sdk_sqs::config::Builder::from(config)
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .build();
        let url = url.into();
        SqsQueue { client: Client::from_conf(config), fifo: url.ends_with(".fifo"), url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, message: &Outgoing) -> Result<(), QueueError> {
        if message.body.len() > MAX_MESSAGE_BYTES {
            return Err(QueueError::TooLarge { bytes: message.body.len(), limit: MAX_MESSAGE_BYTES });
        }
        let mut request = self.client.send_message().queue_url(&self.url).message_body(&message.body);
        if self.fifo {
            request = request.message_group_id(&message.group_id).message_deduplication_id(&message.deduplication_id);
        }
        request.send().await.map(|_| ()).map_err(queue_error)
    }
}

fn queue_error<E, R>(error: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    tracing::warn!(error = %DisplayErrorContext(&error), "SQS SendMessage failed");
    match &error {
        SdkError::TimeoutError(_) => {
            QueueError::Unavailable { reason: format!("SQS did not answer within {} s", OPERATION_TIMEOUT.as_secs()) }
        }
        SdkError::DispatchFailure(_) => QueueError::Unavailable { reason: "could not reach SQS".into() },
        SdkError::ConstructionFailure(_) => QueueError::Misconfigured {
            reason: "the AWS SDK could not build SendMessage (credentials or region missing?)".into(),
        },
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("an unknown error");
            match code {
                "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" => QueueError::Misconfigured {
                    reason: format!("the queue named by {QUEUE_URL_ENV} does not exist ({code})"),
                },
                "AccessDenied" | "AccessDeniedException" | "KMS.AccessDeniedException" => QueueError::Misconfigured {
                    reason: format!("this function may not send to the queue named by {QUEUE_URL_ENV} ({code})"),
                },
                "MissingParameter" | "InvalidParameterValue" | "InvalidParameterValueException" => {
                    QueueError::Misconfigured {
                        reason: format!(
                            "SQS refused the message ({code}); {QUEUE_URL_ENV} must name the FIFO queue template.yaml \
                             creates"
                        ),
                    }
                }
                _ => QueueError::Unavailable { reason: format!("SQS answered SendMessage with {code}") },
            }
        }
        _ => QueueError::Unavailable { reason: "SQS SendMessage failed".into() },
    }
}

/// The deployment's relay queue, when `RELAY_QUEUE_URL` is set: SQS, its client built on first use (nothing on
/// the cold start's path). `None` when unset or blank.
pub fn from_env() -> Option<Arc<dyn Queue>> {
    let url = std::env::var(QUEUE_URL_ENV).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())?;
    Some(Arc::new(LazySqsQueue { url, queue: tokio::sync::OnceCell::new() }))
}

struct LazySqsQueue {
    url: String,
    queue: tokio::sync::OnceCell<SqsQueue>,
}

#[async_trait]
impl Queue for LazySqsQueue {
    async fn send(&self, message: &Outgoing) -> Result<(), QueueError> {
        let queue = self
            .queue
            .get_or_init(|| async { SqsQueue::new(&crate::secrets::aws_sdk_config().await, &self.url) })
            .await;
        queue.send(message).await
    }
}
