//! [`Store`] on one DynamoDB table: every claim and compare-and-set is ONE conditional write, so containers racing
//! on a key agree without locks or a read-then-write gap.
//!
//! Table: partition key `pk` (S), no sort key, TTL on `expires_at` (template.yaml's `IdempotencyTable`, which
//! scripts/create-table.py also reads for moto). Item attributes: `status` (`in_progress` | `completed` |
//! `value`), `fingerprint`, `response`, `value`, `version` (N), `lease_until` and `expires_at` (N, epoch seconds),
//! and `write_id`, a random id per call: when the SDK retries a write whose first attempt did land, the condition
//! then fails on our own item, and `write_id` tells "that was us" from "someone else won".
//!
//! A failed condition returns the item that failed it (`ReturnValuesOnConditionCheckFailure=ALL_OLD`, which
//! DynamoDB and moto 5 both honour), so a claim answers `InProgress`/`Completed` without a second read. Only if an
//! endpoint returns no item is it read with a consistent `GetItem`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{Claim, Expect, Store, StoreError, Versioned, now_epoch_secs};

/// The environment variable that names the table (template.yaml sets it on every function).
pub const TABLE_ENV: &str = "IDEMPOTENCY_TABLE";
/// One call, retry included: a hung store answers long before a Lambda deadline (the shortest is 10 s).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
/// One attempt (connecting included), so a second attempt fits in [`OPERATION_TIMEOUT`].
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// Attempts per call: one retry for a dropped connection or a throttle, no more.
pub const MAX_ATTEMPTS: u32 = 2;

/// How often a claim or an unconditional put starts over when the record changed between its steps.
const ROUNDS: usize = 4;

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";
const VALUE: &str = "value";

type Item = HashMap<String, AttributeValue>;

/// The DynamoDB adapter of [`Store`]. Cheap to share: wrap it in an `Arc`.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` (its name, or its ARN), with this crate's timeouts and retry limit on top of `config`.
    pub fn new(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        let timeouts = TimeoutConfig::builder()
            .operation_timeout(OPERATION_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .build();
        let config = aws_sdk_dynamodb::config::Builder::from(config)
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .build();
        DynamoStore { client: Client::from_conf(config), table: table.into() }
    }

    /// The store named by `IDEMPOTENCY_TABLE`, on the SDK configuration of [`crate::secrets::aws_sdk_config`]
    /// (the one HTTPS stack); `None` when the variable is unset or blank.
    pub async fn from_env() -> Result<Option<Self>, StoreError> {
        let Some(table) = table_from_lookup(|name| std::env::var(name).ok())? else {
            return Ok(None);
        };
        Ok(Some(Self::new(&crate::secrets::aws_sdk_config().await, table)))
    }

    /// The table this store writes to.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes `item` when `condition` holds; otherwise returns the item that failed it (when the endpoint sent it).
    async fn put_if(&self, item: Item, condition: Condition) -> Result<Put, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(condition.names)
            .set_expression_attribute_values(Some(condition.values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Put::Written),
            Err(SdkError::ServiceError(service)) if service.err().is_conditional_check_failed_exception() => {
                let old = match service.into_err() {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => e.item,
                    _ => None,
                };
                Ok(Put::Refused(old))
            }
            Err(e) => Err(store_error("PutItem", e)),
        }
    }

    /// The item under `key`, read consistently (sees every write acknowledged before it).
    async fn read(&self, key: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        Ok(output.item)
    }

    /// The record that refused a conditional write: the one DynamoDB returned, else a fresh read.
    async fn refusing_record(&self, key: &str, returned: Option<Item>) -> Result<Option<Item>, StoreError> {
        match returned {
            Some(item) => Ok(Some(item)),
            None => self.read(key).await,
        }
    }
}

/// The table name from `lookup` (`IDEMPOTENCY_TABLE`), checked; `None` when unset or blank.
pub fn table_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<String>, StoreError> {
    let Some(table) = lookup(TABLE_ENV).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let is_name = (3..=255).contains(&table.len())
        && table.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    let is_arn = table.starts_with("arn:") && table.contains(":table/") && table.len() <= 1024;
    if !is_name && !is_arn {
        return Err(StoreError::Misconfigured {
            reason: format!(
                "{TABLE_ENV} must be a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.') or a table ARN"
            ),
        });
    }
    Ok(Some(table))
}

enum Put {
    Written,
    /// The condition failed; the item that failed it, if the endpoint returned it.
    Refused(Option<Item>),
}

/// A condition expression with only the placeholders it uses (DynamoDB rejects unused ones).
struct Condition {
    expression: &'static str,
    names: Option<HashMap<String, String>>,
    values: HashMap<String, AttributeValue>,
}

impl Condition {
    fn new(expression: &'static str, values: impl IntoIterator<Item = (&'static str, AttributeValue)>) -> Self {
        // `status`, `value` and friends are DynamoDB reserved words: expressions name them through placeholders.
        const NAMES: [(&str, &str); 4] =
            [("#status", "status"), ("#value", "value"), ("#version", "version"), ("#fingerprint", "fingerprint")];
        let names: HashMap<String, String> = NAMES
            .iter()
            .filter(|(placeholder, _)| expression.contains(placeholder))
            .map(|(placeholder, name)| ((*placeholder).to_owned(), (*name).to_owned()))
            .collect();
        Condition {
            expression,
            names: (!names.is_empty()).then_some(names),
            values: values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    /// No live record: absent, or past its expiry (DynamoDB deletes expired items late; moto never does).
    fn no_live_record(now: i64) -> Self {
        Self::new("attribute_not_exists(pk) OR expires_at <= :now", [(":now", n(now))])
    }

    /// The live record is a value at `version`.
    fn live_version(version: u64, now: i64) -> Self {
        Self::new(
            "#status = :value AND #version = :version AND expires_at > :now",
            [(":value", s(VALUE)), (":version", n(version)), (":now", n(now))],
        )
    }

    /// The record is still the (non-value) one we saw.
    fn unchanged(status: &str, expires_at: i64) -> Self {
        Self::new(
            "#status = :status AND expires_at = :expires_at",
            [(":status", s(status)), (":expires_at", n(expires_at))],
        )
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2).max(1)
}

fn new_write_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(StoreError::Corrupt { reason: format!("a record's {name} is missing or not a string") }),
    }
}

fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| StoreError::Corrupt { reason: format!("a record's {name} is missing or not a whole number") })
}

fn is_live(item: &Item, now: i64) -> Result<bool, StoreError> {
    Ok(number::<i64>(item, "expires_at")? > now)
}

/// What the claim condition accepts: an expired record, or an in-progress one whose lease lapsed.
fn is_claimable(item: &Item, now: i64) -> Result<bool, StoreError> {
    Ok(!is_live(item, now)? || (text(item, "status")? == IN_PROGRESS && number::<i64>(item, "lease_until")? <= now))
}

fn written_by(item: &Item, write_id: &str) -> bool {
    matches!(item.get("write_id"), Some(AttributeValue::S(id)) if id == write_id)
}

/// What a record that refused a claim means for the claimant: `None` when it may be claimed again now (expired, or
/// a lapsed lease). `pub(crate)` for [`crate::fuzzing`], which feeds it records as DynamoDB could hold them.
pub(crate) fn refused_claim(record: &Item, now: i64) -> Result<Option<Claim>, StoreError> {
    if is_claimable(record, now)? {
        return Ok(None);
    }
    claim_answer(record, now).map(Some)
}

/// The value a record holds, if it is a live value record (see [`refused_claim`] for the `pub(crate)`).
pub(crate) fn live_value(item: &Item, now: i64) -> Result<Option<Versioned>, StoreError> {
    if !is_live(item, now)? || text(item, "status")? != VALUE {
        return Ok(None);
    }
    Ok(Some(Versioned { value: text(item, "value")?.to_owned(), version: number(item, "version")? }))
}

/// What a live record that refused a claim means for the claimant.
fn claim_answer(item: &Item, now: i64) -> Result<Claim, StoreError> {
    match text(item, "status")? {
        COMPLETED => Ok(Claim::Completed {
            fingerprint: text(item, "fingerprint")?.to_owned(),
            response: text(item, "response")?.to_owned(),
        }),
        IN_PROGRESS => {
            let lease_until: i64 = number(item, "lease_until")?;
            Ok(Claim::InProgress {
                fingerprint: text(item, "fingerprint")?.to_owned(),
                retry_after: Duration::from_secs((lease_until - now).clamp(1, 5) as u64),
            })
        }
        other => Err(StoreError::Corrupt {
            reason: format!(
                "the key holds a {other} record, not an idempotency record (are two callers sharing a key prefix?)"
            ),
        }),
    }
}

/// Maps an SDK failure to what the caller can act on. `Display` of the result never carries the table ARN or
/// request ids; the full SDK error goes to the log.
fn store_error<E>(operation: &'static str, error: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    tracing::warn!(operation, error = %DisplayErrorContext(&error), "DynamoDB call failed");
    match &error {
        SdkError::TimeoutError(_) => StoreError::Unavailable {
            reason: format!("DynamoDB did not answer {operation} within {} s", OPERATION_TIMEOUT.as_secs()),
        },
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            StoreError::Unavailable { reason: format!("connecting to DynamoDB for {operation} timed out") }
        }
        SdkError::DispatchFailure(_) => {
            StoreError::Unavailable { reason: format!("could not reach DynamoDB for {operation}") }
        }
        SdkError::ConstructionFailure(_) => StoreError::Misconfigured {
            reason: format!("the AWS SDK could not build {operation} (credentials or region missing?)"),
        },
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("an unknown error");
            match code {
                "ResourceNotFoundException" => StoreError::Misconfigured {
                    reason: format!(
                        "the table named by {TABLE_ENV} does not exist in this account and region ({code})"
                    ),
                },
                "AccessDeniedException" => StoreError::Misconfigured {
                    reason: format!(
                        "this function may not call dynamodb:{operation} on the table named by {TABLE_ENV}"
                    ),
                },
                "UnrecognizedClientException" | "InvalidSignatureException" | "MissingAuthenticationTokenException" => {
                    StoreError::Misconfigured { reason: format!("AWS rejected the function's credentials ({code})") }
                }
                "ValidationException" => StoreError::Misconfigured {
                    reason: format!(
                        "DynamoDB refused {operation} ({code}); the table named by {TABLE_ENV} must have the partition \
                         key pk (String) and no sort key, and a stored answer must stay under 400 KB"
                    ),
                },
                _ => StoreError::Unavailable { reason: format!("DynamoDB answered {operation} with {code}") },
            }
        }
        SdkError::ResponseError(_) => {
            StoreError::Unavailable { reason: format!("DynamoDB's answer to {operation} could not be read") }
        }
        _ => StoreError::Unavailable { reason: format!("DynamoDB {operation} failed") },
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn claim(&self, key: &str, fingerprint: &str, lease: Duration) -> Result<Claim, StoreError> {
        let write_id = new_write_id();
        for _ in 0..ROUNDS {
            let now = now_epoch_secs();
            let lease_until = now.saturating_add(secs(lease));
            let item = Item::from([
                ("pk".to_owned(), s(key)),
                ("status".to_owned(), s(IN_PROGRESS)),
                ("fingerprint".to_owned(), s(fingerprint)),
                ("lease_until".to_owned(), n(lease_until)),
                ("expires_at".to_owned(), n(lease_until)),
                ("write_id".to_owned(), s(&write_id)),
            ]);
            let condition = Condition::new(
                "attribute_not_exists(pk) OR expires_at <= :now OR (#status = :in_progress AND lease_until <= :now)",
                [(":now", n(now)), (":in_progress", s(IN_PROGRESS))],
            );
            let returned = match self.put_if(item, condition).await? {
                Put::Written => return Ok(Claim::Acquired),
                Put::Refused(returned) => returned,
            };
            // Only without ALL_OLD support can the record have changed since it refused us: then start over.
            let Some(record) = self.refusing_record(key, returned).await? else { continue };
            if written_by(&record, &write_id) {
                return Ok(Claim::Acquired); // our first attempt landed and the SDK retried it
            }
            match refused_claim(&record, now)? {
                Some(answer) => return Ok(answer),
                None => continue,
            }
        }
        Err(StoreError::Unavailable { reason: "the key kept changing while it was claimed".into() })
    }

    async fn complete(&self, key: &str, fingerprint: &str, response: &str, keep: Duration) -> Result<(), StoreError> {
        let now = now_epoch_secs();
        let item = Item::from([
            ("pk".to_owned(), s(key)),
            ("status".to_owned(), s(COMPLETED)),
            ("fingerprint".to_owned(), s(fingerprint)),
            ("response".to_owned(), s(response)),
            ("expires_at".to_owned(), n(now.saturating_add(secs(keep)))),
            ("write_id".to_owned(), s(new_write_id())),
        ]);
        // Still ours (same request), or nobody's: never overwrite another request that took over a lapsed lease.
        let condition = Condition::new(
            "attribute_not_exists(pk) OR expires_at <= :now OR #fingerprint = :fingerprint",
            [(":now", n(now)), (":fingerprint", s(fingerprint))],
        );
        if let Put::Refused(_) = self.put_if(item, condition).await? {
            tracing::warn!(
                "another request took this idempotency key over before this one completed; its record is kept"
            );
        }
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .condition_expression("#status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        match result {
            // Absent or completed: nothing to give back, and an answer is never dropped.
            Err(SdkError::ServiceError(service)) if service.err().is_conditional_check_failed_exception() => Ok(()),
            Err(e) => Err(store_error("DeleteItem", e)),
            Ok(_) => Ok(()),
        }
    }

    async fn get_value(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let now = now_epoch_secs();
        let Some(item) = self.read(key).await? else { return Ok(None) };
        live_value(&item, now)
    }

    async fn put_value(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        keep: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let write_id = new_write_id();
        let mut condition_for = match expect {
            Expect::Absent | Expect::Any => Seen::Nothing,
            Expect::Version(version) => Seen::Value(version),
        };
        for _ in 0..ROUNDS {
            let now = now_epoch_secs();
            let version = match condition_for {
                Seen::Value(version) => version.saturating_add(1),
                Seen::Nothing | Seen::Other { .. } => 1,
            };
            let item = Item::from([
                ("pk".to_owned(), s(key)),
                ("status".to_owned(), s(VALUE)),
                ("value".to_owned(), s(value)),
                ("version".to_owned(), n(version)),
                ("expires_at".to_owned(), n(now.saturating_add(secs(keep)))),
                ("write_id".to_owned(), s(&write_id)),
            ]);
            let condition = match &condition_for {
                Seen::Nothing => Condition::no_live_record(now),
                Seen::Value(version) => Condition::live_version(*version, now),
                Seen::Other { status, expires_at } => Condition::unchanged(status, *expires_at),
            };
            let returned = match self.put_if(item, condition).await? {
                Put::Written => return Ok(Some(version)),
                Put::Refused(returned) => returned,
            };
            let record = self.refusing_record(key, returned).await?;
            if record.as_ref().is_some_and(|r| written_by(r, &write_id)) {
                return Ok(Some(version)); // our first attempt landed and the SDK retried it
            }
            if expect != Expect::Any {
                return Ok(None);
            }
            // Unconditional: write over whatever is there now, with the version that follows it.
            condition_for = match record {
                Some(record) if is_live(&record, now)? => match text(&record, "status")? {
                    VALUE => Seen::Value(number(&record, "version")?),
                    status => Seen::Other { status: status.to_owned(), expires_at: number(&record, "expires_at")? },
                },
                _ => Seen::Nothing,
            };
        }
        Err(StoreError::Unavailable { reason: "the value kept changing while it was written".into() })
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .send()
            .await
            .map_err(|e| store_error("DeleteItem", e))?;
        Ok(())
    }
}

/// What a write of a value expects to find (and so, which version it writes).
enum Seen {
    Nothing,
    Value(u64),
    Other { status: String, expires_at: i64 },
}

/// The deployment's store: DynamoDB on `IDEMPOTENCY_TABLE`, its client built on first use (nothing on the cold
/// start's path). Unset, the function cannot promise "nothing twice", so it refuses to start.
pub fn from_env() -> Result<std::sync::Arc<dyn Store>, StoreError> {
    match table_from_lookup(|name| std::env::var(name).ok())? {
        Some(table) => Ok(std::sync::Arc::new(LazyDynamoStore { table, store: tokio::sync::OnceCell::new() })),
        None => Err(StoreError::Misconfigured {
            reason: format!(
                "{} is not set; it names the DynamoDB table of idempotency records (template.yaml creates it, \
                 scripts/run-local.sh creates one on moto)",
                TABLE_ENV
            ),
        }),
    }
}

struct LazyDynamoStore {
    table: String,
    store: tokio::sync::OnceCell<DynamoStore>,
}

impl LazyDynamoStore {
    async fn get(&self) -> &DynamoStore {
        self.store
            .get_or_init(|| async { DynamoStore::new(&crate::secrets::aws_sdk_config().await, &self.table) })
            .await
    }
}

#[async_trait]
impl Store for LazyDynamoStore {
    async fn claim(&self, key: &str, fingerprint: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.get().await.claim(key, fingerprint, lease).await
    }
    async fn complete(&self, key: &str, fingerprint: &str, response: &str, keep: Duration) -> Result<(), StoreError> {
        self.get().await.complete(key, fingerprint, response, keep).await
    }
    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.get().await.release(key).await
    }
    async fn get_value(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.get().await.get_value(key).await
    }
    async fn put_value(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
        keep: Duration,
    ) -> Result<Option<u64>, StoreError> {
        self.get().await.put_value(key, value, expect, keep).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.get().await.delete(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(value: Option<&str>) -> impl Fn(&str) -> Option<String> {
        let value = value.map(str::to_owned);
        move |name| if name == TABLE_ENV { value.clone() } else { None }
    }

    #[test]
    fn the_table_comes_from_idempotency_table() {
        assert_eq!(table_from_lookup(lookup(None)).unwrap(), None);
        assert_eq!(table_from_lookup(lookup(Some("  "))).unwrap(), None);
        assert_eq!(
            table_from_lookup(lookup(Some(" my-stack-Idempotency.1 "))).unwrap().as_deref(),
            Some("my-stack-Idempotency.1")
        );
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/idem";
        assert_eq!(table_from_lookup(lookup(Some(arn))).unwrap().as_deref(), Some(arn));
    }

    #[test]
    fn a_bad_table_name_says_which_variable_to_fix_without_echoing_it() {
        for bad in ["q9", "has space", "x/y"] {
            let err = table_from_lookup(lookup(Some(bad))).unwrap_err();
            assert!(matches!(err, StoreError::Misconfigured { .. }), "{bad}: {err:?}");
            let shown = err.to_string();
            assert!(shown.contains("IDEMPOTENCY_TABLE") && !shown.contains(bad), "{shown}");
        }
    }

    #[test]
    fn conditions_name_only_the_placeholders_they_use() {
        let c = Condition::no_live_record(5);
        assert!(c.names.is_none());
        let c = Condition::live_version(3, 5);
        let names = c.names.unwrap();
        assert_eq!(names.len(), 2);
        assert_eq!(names["#status"], "status");
        assert_eq!(names["#version"], "version");
        assert_eq!(c.values[":version"], AttributeValue::N("3".into()));
    }

    #[test]
    fn a_refusing_record_is_read_as_the_claim_answer() {
        let mut item = Item::from([
            ("pk".to_owned(), s("k")),
            ("status".to_owned(), s(IN_PROGRESS)),
            ("fingerprint".to_owned(), s("f")),
            ("lease_until".to_owned(), n(130)),
            ("expires_at".to_owned(), n(130)),
        ]);
        assert_eq!(
            claim_answer(&item, 100).unwrap(),
            Claim::InProgress { fingerprint: "f".into(), retry_after: Duration::from_secs(5) }
        );
        item.insert("status".into(), s(COMPLETED));
        assert!(matches!(claim_answer(&item, 100), Err(StoreError::Corrupt { .. })), "no response stored");
        item.insert("response".into(), s("{}"));
        assert_eq!(
            claim_answer(&item, 100).unwrap(),
            Claim::Completed { fingerprint: "f".into(), response: "{}".into() }
        );
        item.insert("status".into(), s(VALUE));
        assert!(matches!(claim_answer(&item, 100), Err(StoreError::Corrupt { .. })));
    }
}
