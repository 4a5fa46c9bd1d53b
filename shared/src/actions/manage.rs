//! `manage-conversation`: close, snooze or reopen.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::StateChange;
use crate::validate::conversation_id;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ManageAction {
    Close,
    Snooze,
    Open,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = snooze_needs_a_time))]
pub struct ManageRequest {
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub conversation_id: String,
    pub action: ManageAction,
    /// For `snooze` (and only then): Unix seconds, or an RFC 3339 time such as `2026-12-01T09:00:00Z`; in the
    /// future, within a year.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "snooze_time_schema"))]
    pub snoozed_until: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ManageResponse {
    pub conversation_id: String,
    pub state: Option<String>,
    pub snoozed_until: Option<i64>,
}

/// `snoozedUntil` is required with action snooze and refused with the others.
#[cfg(feature = "schema")]
fn snooze_needs_a_time(schema: &mut schemars::Schema) {
    let branches = serde_json::json!([
        {"properties": {"action": {"const": "snooze"}, "snoozedUntil": {"not": {"type": "null"}}}, "required": ["snoozedUntil"]},
        {"properties": {"action": {"enum": ["close", "open"]}, "snoozedUntil": {"type": "null"}}}
    ]);
    schema.insert("oneOf".into(), branches);
}

/// Unix seconds (a number, or digits in a string), or an RFC 3339 time; null or absent when not snoozing.
#[cfg(feature = "schema")]
fn snooze_time_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_SNOOZE_SECONDS},
            {"type": "string", "pattern": "^[0-9]{1,11}$"},
            {"type": "string", "format": "date-time"},
            {"type": "null"}
        ]
    })
}

/// A Unix time far beyond the one-year limit, bounding the schema's integers (the limit itself moves with time).
#[cfg(feature = "schema")]
const MAX_SNOOZE_SECONDS: i64 = 99_999_999_999;

pub async fn manage_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: ManageRequest,
) -> Result<ManageResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let change = match (request.action, &request.snoozed_until) {
        (ManageAction::Snooze, Some(until)) => StateChange::Snooze { until: snooze_time(until)? },
        (ManageAction::Snooze, None) => {
            return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil is required to snooze"));
        }
        (_, Some(_)) => {
            return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil only applies to action snooze"));
        }
        (ManageAction::Close, None) => StateChange::Close,
        (ManageAction::Open, None) => StateChange::Open,
    };
    let admin_id = helpdesk.admin_id().await?;
    let conversation = helpdesk.change_state(&conversation_id, &admin_id, change).await?;
    Ok(ManageResponse { conversation_id, state: conversation.state, snoozed_until: conversation.snoozed_until })
}

fn snooze_time(value: &Value) -> Result<i64, ActionError> {
    let invalid = || {
        ActionError::bad_request(
            "snoozedUntil",
            "snoozedUntil must be Unix seconds or an RFC 3339 time such as 2026-12-01T09:00:00Z",
        )
    };
    let until = match value {
        Value::Number(n) => crate::validate::whole_number(n).ok_or_else(invalid)?,
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
                .map_err(|_| invalid())?
                .unix_timestamp(),
        },
        _ => return Err(invalid()),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if until <= now {
        return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil must be in the future"));
    }
    if until > now + 366 * 24 * 3600 {
        return Err(ActionError::bad_request("snoozedUntil", "snoozedUntil must be within a year"));
    }
    Ok(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snooze_times_accept_unix_or_rfc3339_in_the_future() {
        let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        assert_eq!(snooze_time(&Value::from(soon)).unwrap(), soon);
        assert_eq!(snooze_time(&Value::from(soon.to_string())).unwrap(), soon);
        let rfc = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        assert!(snooze_time(&Value::from(rfc)).is_ok());
        assert!(snooze_time(&Value::from(1_000)).is_err());
        assert!(snooze_time(&Value::from("tomorrow")).is_err());
        assert!(snooze_time(&Value::Bool(true)).is_err());
        // JSON Schema's integer admits 1.7e9 written as a float; a fraction is refused.
        assert_eq!(snooze_time(&serde_json::json!(soon as f64)).unwrap(), soon);
        assert!(snooze_time(&serde_json::json!(soon as f64 + 0.5)).is_err());
    }
}
