//! [`Directory`] on one DynamoDB table (`WORKSPACES_TABLE`: partition key `pk` (S), TTL on `expires_at`).
//!
//! Items: `ws#<id>` (`record`: the JSON of [`WorkspaceRecord`], `version` N), `ws#<id>#sealed` (`blob` B,
//! `version` N), `key#<sha256>` (`workspace` S, `expires_at` N for a retired key) and `used#<id>` (`at` N).
//! A save or a removal is one `TransactWriteItems`, conditional on the record's version.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::{Directory, DirectoryError, Listed, Save, Sealed, agent_key_key, record_key, sealed_key, used_key};
use crate::workspace::{WorkspaceId, WorkspaceRecord};

/// The variable that names the table (template.yaml sets it on every function in hub mode).
pub const TABLE_VAR: &str = "WORKSPACES_TABLE";
const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);

type Item = HashMap<String, AttributeValue>;

pub struct DynamoDirectory {
    client: tokio::sync::OnceCell<Client>,
    sdk: Option<aws_config::SdkConfig>,
    table: String,
}

impl DynamoDirectory {
    /// The directory on `table` through `config` (tests point it at moto).
    pub fn new(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        DynamoDirectory { client: tokio::sync::OnceCell::new(), sdk: Some(config.clone()), table: table.into() }
    }

    /// The table named by `WORKSPACES_TABLE`, its client built on first use (nothing on the cold start's path).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, DirectoryError> {
        let table = lookup(TABLE_VAR).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).ok_or_else(|| {
            DirectoryError::Misconfigured {
                reason: format!("{TABLE_VAR} is not set; hub mode keeps its workspaces in that DynamoDB table"),
            }
        })?;
        Ok(DynamoDirectory { client: tokio::sync::OnceCell::new(), sdk: None, table })
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let sdk = match &self.sdk {
                    Some(sdk) => sdk.clone(),
                    None => crate::secrets::aws_sdk_config().await,
                };
                let timeouts = TimeoutConfig::builder()
                    .operation_timeout(OPERATION_TIMEOUT)
                    .operation_attempt_timeout(Duration::from_secs(1))
                    .connect_timeout(Duration::from_secs(1))
                    .build();
                let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
                    .timeout_config(timeouts)
                    .retry_config(RetryConfig::standard().with_max_attempts(2))
                    .build();
                Client::from_conf(config)
            })
            .await
    }

    async fn get(&self, key: String) -> Result<Option<Item>, DirectoryError> {
        let output = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| directory_error("GetItem", e))?;
        Ok(output.item)
    }

    fn put(&self, item: Item, condition: Option<(&str, Item)>) -> Result<TransactWriteItem, DirectoryError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((expression, values)) = condition {
            put = put.condition_expression(expression);
            if !values.is_empty() {
                put = put.set_expression_attribute_values(Some(values));
            }
        }
        let put = put.build().map_err(|e| DirectoryError::Misconfigured { reason: e.to_string() })?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete(&self, key: String, condition: Option<(&str, Item)>) -> Result<TransactWriteItem, DirectoryError> {
        let mut delete = Delete::builder().table_name(&self.table).key("pk", s(key));
        if let Some((expression, values)) = condition {
            delete = delete.condition_expression(expression).set_expression_attribute_values(Some(values));
        }
        let delete = delete.build().map_err(|e| DirectoryError::Misconfigured { reason: e.to_string() })?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), DirectoryError> {
        let result = self.client().await.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service)) if service.err().code() == Some("TransactionCanceledException") => {
                tracing::info!(error = %DisplayErrorContext(service.err()), "workspace transaction cancelled");
                Err(DirectoryError::Conflict)
            }
            Err(e) => Err(directory_error("TransactWriteItems", e)),
        }
    }

    /// Every item of the table, page by page.
    async fn scan_all(&self) -> Result<Vec<Item>, DirectoryError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client()
                .await
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| directory_error("Scan", e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

#[async_trait]
impl Directory for DynamoDirectory {
    async fn record(&self, id: &WorkspaceId) -> Result<Option<WorkspaceRecord>, DirectoryError> {
        self.get(record_key(id)).await?.map(|item| parse_record(&item)).transpose()
    }

    async fn sealed(&self, id: &WorkspaceId) -> Result<Option<Sealed>, DirectoryError> {
        let Some(item) = self.get(sealed_key(id)).await? else { return Ok(None) };
        let blob = match item.get("blob") {
            Some(AttributeValue::B(blob)) => blob.as_ref().to_vec(),
            _ => return Err(corrupt("sealed credentials without a blob")),
        };
        Ok(Some(Sealed { version: number(&item, "version")?, blob }))
    }

    async fn workspace_of_key(&self, key_hash: &str) -> Result<Option<WorkspaceId>, DirectoryError> {
        let Some(item) = self.get(agent_key_key(key_hash)).await? else { return Ok(None) };
        // DynamoDB deletes expired items days late: the expiry is compared here.
        if let Some(AttributeValue::N(until)) = item.get("expires_at")
            && until.parse::<i64>().is_ok_and(|u| u <= crate::store::now_epoch_secs())
        {
            return Ok(None);
        }
        match item.get("workspace") {
            Some(AttributeValue::S(id)) => {
                WorkspaceId::parse(id).map(Some).map_err(|_| corrupt("a key index names a bad id"))
            }
            _ => Err(corrupt("a key index without a workspace")),
        }
    }

    async fn save(&self, save: Save) -> Result<(), DirectoryError> {
        let id = save.record.id.clone();
        let json = serde_json::to_string(&save.record).map_err(|e| corrupt(&e.to_string()))?;
        let mut record = Item::new();
        record.insert("pk".into(), s(record_key(&id)));
        record.insert("record".into(), s(json));
        record.insert("version".into(), n(save.record.version));
        let condition = match save.expected_version {
            None => ("attribute_not_exists(pk)", Item::new()),
            Some(v) => ("version = :v", HashMap::from([(":v".to_owned(), n(v))])),
        };
        let mut items = vec![self.put(record, Some(condition))?];
        if let Some(blob) = save.sealed {
            let sealed = HashMap::from([
                ("pk".to_owned(), s(sealed_key(&id))),
                ("blob".to_owned(), AttributeValue::B(Blob::new(blob))),
                ("version".to_owned(), n(save.record.credentials_version)),
            ]);
            items.push(self.put(sealed, None)?);
        }
        for (hash, until) in save.index_keys {
            let mut key =
                HashMap::from([("pk".to_owned(), s(agent_key_key(&hash))), ("workspace".to_owned(), s(id.as_str()))]);
            if let Some(until) = until {
                key.insert("expires_at".into(), n(until));
            }
            items.push(self.put(key, None)?);
        }
        for hash in save.drop_keys {
            items.push(self.delete(agent_key_key(&hash), None)?);
        }
        self.transact(items).await
    }

    async fn remove(&self, id: &WorkspaceId) -> Result<Option<WorkspaceRecord>, DirectoryError> {
        let Some(record) = self.record(id).await? else { return Ok(None) };
        let condition = ("version = :v", HashMap::from([(":v".to_owned(), n(record.version))]));
        let mut items = vec![
            self.delete(record_key(id), Some(condition))?,
            self.delete(sealed_key(id), None)?,
            self.delete(used_key(id), None)?,
            self.delete(agent_key_key(&record.agent_key_hash), None)?,
        ];
        if let Some(retired) = &record.previous_agent_key {
            items.push(self.delete(agent_key_key(&retired.hash), None)?);
        }
        self.transact(items).await?;
        Ok(Some(record))
    }

    async fn list(&self) -> Result<Vec<Listed>, DirectoryError> {
        let items = self.scan_all().await?;
        let mut used: HashMap<String, i64> = HashMap::new();
        let mut records = Vec::new();
        for item in &items {
            let Some(AttributeValue::S(pk)) = item.get("pk") else { continue };
            if let Some(id) = pk.strip_prefix("used#") {
                used.insert(id.to_owned(), number(item, "at")? as i64);
            } else if pk.starts_with("ws#") && item.contains_key("record") {
                records.push(parse_record(item)?);
            }
        }
        let mut listed: Vec<Listed> = records
            .into_iter()
            .map(|record| Listed { last_used_at: used.get(record.id.as_str()).copied(), record })
            .collect();
        listed.sort_by(|a, b| a.record.id.cmp(&b.record.id));
        Ok(listed)
    }

    async fn touch(&self, id: &WorkspaceId, at: i64) -> Result<(), DirectoryError> {
        self.client()
            .await
            .put_item()
            .table_name(&self.table)
            .item("pk", s(used_key(id)))
            .item("at", n(at))
            .send()
            .await
            .map_err(|e| directory_error("PutItem", e))?;
        Ok(())
    }
}

fn parse_record(item: &Item) -> Result<WorkspaceRecord, DirectoryError> {
    match item.get("record") {
        Some(AttributeValue::S(json)) => {
            serde_json::from_str(json).map_err(|_| corrupt("a workspace record is unreadable"))
        }
        _ => Err(corrupt("a workspace item without its record")),
    }
}

fn number(item: &Item, name: &str) -> Result<u64, DirectoryError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt(&format!("{name} is not a number"))),
        _ => Err(corrupt(&format!("{name} is missing"))),
    }
}

fn corrupt(reason: &str) -> DirectoryError {
    DirectoryError::Corrupt { reason: reason.to_owned() }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn directory_error<E>(operation: &'static str, error: SdkError<E>) -> DirectoryError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    tracing::warn!(operation, error = %DisplayErrorContext(&error), "DynamoDB call on the workspace directory failed");
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            DirectoryError::Unavailable { reason: format!("DynamoDB did not answer {operation}") }
        }
        SdkError::ConstructionFailure(_) => DirectoryError::Misconfigured {
            reason: format!("the AWS SDK could not build {operation} (credentials or region missing?)"),
        },
        SdkError::ServiceError(service) => match service.err().code().unwrap_or("an unknown error") {
            "ResourceNotFoundException" => DirectoryError::Misconfigured {
                reason: format!("the table named by {TABLE_VAR} does not exist in this account and region"),
            },
            code @ ("AccessDeniedException" | "UnrecognizedClientException" | "InvalidSignatureException") => {
                DirectoryError::Misconfigured {
                    reason: format!("this function may not call dynamodb:{operation} on {TABLE_VAR} ({code})"),
                }
            }
            code => DirectoryError::Unavailable { reason: format!("DynamoDB answered {operation} with {code}") },
        },
        _ => DirectoryError::Unavailable { reason: format!("DynamoDB's answer to {operation} was unreadable") },
    }
}
