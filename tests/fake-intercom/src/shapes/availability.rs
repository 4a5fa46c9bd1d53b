//! Who is there: office hours schedules and exceptions, teams' real-time metrics, away reasons.

use serde_json::{Value, json};

use crate::state::{AwayStatusReason, Interval, OfficeHoursException, OfficeHoursSchedule, TeammateLoad, weekday};

/// `office_hours_time_interval`; `day_of_week` (0 = Monday) is the interval's start day for a schedule,
/// the date's weekday for an exception.
fn interval(i: &Interval, day_of_week: i64) -> Value {
    json!({ "start_minute": i.start_minute, "end_minute": i.end_minute, "day_of_week": day_of_week })
}

/// `office_hours_schedule`.
pub fn office_hours_schedule(s: &OfficeHoursSchedule) -> Value {
    let intervals: Vec<Value> =
        s.intervals.iter().map(|i| interval(i, i.start_minute / crate::state::DAY_MINUTES)).collect();
    json!({
        "type": "office_hours_schedule",
        "id": s.id,
        "name": s.name,
        "time_zone_name": s.time_zone_name,
        "time_intervals": intervals,
        "twenty_four_seven": s.twenty_four_seven(),
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    })
}

/// `office_hours_schedule_list`.
pub fn office_hours_schedule_list(schedules: &[OfficeHoursSchedule]) -> Value {
    let data: Vec<Value> = schedules.iter().map(office_hours_schedule).collect();
    json!({ "type": "office_hours_schedule.list", "data": data })
}

/// `office_hours_exception`.
pub fn office_hours_exception(e: &OfficeHoursException) -> Value {
    let day = weekday(&e.date).unwrap_or_default();
    let intervals = e.intervals.as_ref().map(|list| list.iter().map(|i| interval(i, day)).collect::<Vec<_>>());
    json!({
        "type": "office_hours_exception",
        "id": e.id,
        "office_hours_schedule_id": e.schedule_id,
        "exception_date": e.date,
        "exception_type": e.exception_type.as_str(),
        "name": e.name,
        "time_intervals": intervals,
        "recurring_annually": e.recurring_annually,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    })
}

/// `office_hours_exception_list`.
pub fn office_hours_exception_list(exceptions: &[&OfficeHoursException]) -> Value {
    let data: Vec<Value> = exceptions.iter().map(|e| office_hours_exception(e)).collect();
    json!({ "type": "office_hours_exception.list", "data": data })
}

/// The answer of a `DELETE` of a schedule or an exception.
pub fn deleted(id: &str, object: &str) -> Value {
    json!({ "id": id, "object": object, "deleted": true })
}

/// `team_metric_list`.
pub fn team_metric_list(loads: &[(String, TeammateLoad)]) -> Value {
    let data: Vec<Value> = loads
        .iter()
        .map(|(admin, l)| {
            json!({ "type": "team_metric", "admin_id": admin, "open": l.open, "idle": l.idle, "snoozed": l.snoozed })
        })
        .collect();
    json!({ "type": "team_metric.list", "data": data })
}

/// `away_status_reason_list`.
pub fn away_status_reason_list(reasons: &[AwayStatusReason], created_at: i64) -> Value {
    let data: Vec<Value> = reasons
        .iter()
        .enumerate()
        .map(|(order, r)| {
            json!({
                "type": "away_status_reason",
                "id": r.id,
                "label": r.label,
                "emoji": r.emoji,
                "order": order + 1,
                "deleted": false,
                "created_at": created_at,
                "updated_at": created_at,
            })
        })
        .collect();
    json!({ "type": "list", "data": data })
}
