//! `/office_hours_schedules[/{id}]` and `/office_hours_schedules/{id}/office_hours_exceptions[/{id}]`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::{ApiResult, json_object, opt_bool, opt_str};
use crate::error::ApiError;
use crate::state::{ExceptionFields, ExceptionType, Interval, data_invalid, object_not_found};
use crate::{FakeWorkspace, shapes};

type Created = Result<(StatusCode, Json<Value>), ApiError>;

/// `time_intervals: [{start_minute, end_minute}]` (`day_of_week` is read-only and ignored); `Some(None)` for
/// `null`.
fn intervals(body: &Map<String, Value>) -> Result<Option<Option<Vec<Interval>>>, ApiError> {
    let items = match body.get("time_intervals") {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(None)),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(data_invalid("time_intervals must be a list of {start_minute, end_minute}")),
    };
    let parsed = items
        .iter()
        .map(|i| {
            let minute = |k: &str| i.get(k).and_then(Value::as_i64);
            match (minute("start_minute"), minute("end_minute")) {
                (Some(start_minute), Some(end_minute)) => Ok(Interval { start_minute, end_minute }),
                _ => Err(data_invalid("each time interval needs integer start_minute and end_minute")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Some(parsed)))
}

fn required_str(body: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    opt_str(body, field)?.ok_or_else(|| data_invalid(format!("{field} is required")))
}

pub(crate) async fn list(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::office_hours_schedule_list(&s.office_hours))))
}

/// `create_office_hours_schedule_request` `{name, time_zone_name, time_intervals}` → 201.
pub(crate) async fn create(ws: FakeWorkspace, body: Bytes) -> Created {
    let body = json_object(&body)?;
    let name = required_str(&body, "name")?;
    let zone = required_str(&body, "time_zone_name")?;
    let list = intervals(&body)?.flatten().ok_or_else(|| data_invalid("time_intervals is required"))?;
    ws.with_state(|s| {
        let made = s.create_office_hours(&name, &zone, list)?;
        Ok((StatusCode::CREATED, Json(shapes::office_hours_schedule(&made))))
    })
}

pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        s.office_hours_schedule(&id).map(|o| Json(shapes::office_hours_schedule(o))).ok_or_else(object_not_found)
    })
}

pub(crate) async fn update(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let name = opt_str(&body, "name")?;
    let zone = opt_str(&body, "time_zone_name")?;
    let list = match intervals(&body)? {
        Some(None) => return Err(data_invalid("time_intervals can't be null")),
        other => other.flatten(),
    };
    ws.with_state(|s| Ok(Json(shapes::office_hours_schedule(&s.update_office_hours(&id, name, zone, list)?))))
}

pub(crate) async fn delete(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        s.delete_office_hours(&id)?;
        Ok(Json(shapes::deleted(&id, "office_hours_schedule")))
    })
}

fn exception_fields(body: &Map<String, Value>) -> Result<ExceptionFields, ApiError> {
    let exception_type = match opt_str(body, "exception_type")? {
        None => None,
        Some(t) => Some(
            ExceptionType::parse(&t).ok_or_else(|| data_invalid("exception_type must be closed or custom_hours"))?,
        ),
    };
    Ok(ExceptionFields {
        date: opt_str(body, "exception_date")?,
        exception_type,
        name: opt_str(body, "name")?,
        intervals: intervals(body)?,
        recurring_annually: opt_bool(body, "recurring_annually")?,
    })
}

pub(crate) async fn exceptions(ws: FakeWorkspace, Path(schedule): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        s.office_hours_schedule(&schedule).ok_or_else(object_not_found)?;
        Ok(Json(shapes::office_hours_exception_list(&s.exceptions_of(&schedule))))
    })
}

/// `create_office_hours_exception_request` → 201.
pub(crate) async fn create_exception(ws: FakeWorkspace, Path(schedule): Path<String>, body: Bytes) -> Created {
    let fields = exception_fields(&json_object(&body)?)?;
    ws.with_state(|s| {
        let made = s.save_office_hours_exception(&schedule, None, fields)?;
        Ok((StatusCode::CREATED, Json(shapes::office_hours_exception(&made))))
    })
}

pub(crate) async fn show_exception(ws: FakeWorkspace, Path((schedule, id)): Path<(String, String)>) -> ApiResult {
    ws.with_state(|s| {
        s.office_hours_exception(&schedule, &id)
            .map(|e| Json(shapes::office_hours_exception(e)))
            .ok_or_else(object_not_found)
    })
}

pub(crate) async fn update_exception(
    ws: FakeWorkspace,
    Path((schedule, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let fields = exception_fields(&json_object(&body)?)?;
    ws.with_state(|s| {
        Ok(Json(shapes::office_hours_exception(&s.save_office_hours_exception(&schedule, Some(&id), fields)?)))
    })
}

pub(crate) async fn delete_exception(ws: FakeWorkspace, Path((schedule, id)): Path<(String, String)>) -> ApiResult {
    ws.with_state(|s| {
        s.delete_office_hours_exception(&schedule, &id)?;
        Ok(Json(shapes::deleted(&id, "office_hours_exception")))
    })
}
