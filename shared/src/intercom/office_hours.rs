//! Office hours schedules and their exceptions (API 2.16): when each team's inbox is staffed.
//!
//! Intercom keeps exceptions (holidays, reduced hours) under each schedule, not in it: knowing a schedule fully
//! takes `GET /office_hours_schedules` and then `GET /office_hours_schedules/{id}/office_hours_exceptions`. Both
//! are cached per container for [`OFFICE_HOURS_TTL`]: hours change by the week, and escalate must not spend a
//! round trip on them per customer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::client::IntercomClient;
use super::contacts::segment;
use super::error::IntercomError;
use super::models::{null_as_default, opt_string_id, string_id};

/// How long one read of the schedules, or of one schedule's exceptions, answers for per container.
pub const OFFICE_HOURS_TTL: Duration = Duration::from_secs(300);

/// A weekly office hours schedule as `GET /office_hours_schedules` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OfficeHoursSchedule {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The IANA zone the hours are evaluated in (`America/New_York`).
    #[serde(default)]
    pub time_zone_name: Option<String>,
    /// Open intervals in minutes from Monday 00:00 (0 to 10080) in the schedule's zone.
    #[serde(default, deserialize_with = "null_as_default")]
    pub time_intervals: Vec<TimeInterval>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub twenty_four_seven: bool,
}

/// One open interval. `day_of_week`, which Intercom derives from `start_minute`, is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct TimeInterval {
    pub start_minute: i64,
    pub end_minute: i64,
}

/// A date on which a schedule's regular hours do not apply (`office_hours_exception`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OfficeHoursException {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default, deserialize_with = "opt_string_id")]
    pub office_hours_schedule_id: Option<String>,
    /// `YYYY-MM-DD`, a date in the schedule's zone.
    pub exception_date: String,
    pub exception_type: ExceptionType,
    #[serde(default)]
    pub name: Option<String>,
    /// For `custom_hours`: the open intervals that day, in minutes from its midnight (0 to 1440); `null` when
    /// `closed`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub time_intervals: Vec<TimeInterval>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub recurring_annually: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionType {
    /// Closed all day.
    Closed,
    /// The day's regular hours are replaced by the exception's intervals.
    CustomHours,
    /// A kind this release does not know; the schedule cannot be evaluated on that date.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct ScheduleList {
    #[serde(default, deserialize_with = "null_as_default")]
    data: Vec<OfficeHoursSchedule>,
}

#[derive(Debug, Deserialize)]
struct ExceptionList {
    #[serde(default, deserialize_with = "null_as_default")]
    data: Vec<OfficeHoursException>,
}

/// The client's per-container copies of the schedules and of each schedule's exceptions.
#[derive(Default)]
pub(super) struct OfficeHoursCache {
    /// Held across the read, so concurrent callers make one request.
    schedules: Mutex<Option<(Instant, Vec<OfficeHoursSchedule>)>>,
    /// Not held across reads: the exceptions of two schedules are read in parallel.
    exceptions: std::sync::Mutex<HashMap<String, (Instant, Vec<OfficeHoursException>)>>,
}

impl IntercomClient {
    /// Every office hours schedule of the workspace (`GET /office_hours_schedules`), read at most once per
    /// [`OFFICE_HOURS_TTL`].
    pub async fn office_hours_schedules(&self) -> Result<Vec<OfficeHoursSchedule>, IntercomError> {
        let cached = self.cache::<OfficeHoursCache>();
        let mut cache = cached.schedules.lock().await;
        if let Some((read_at, schedules)) = cache.as_ref()
            && read_at.elapsed() < OFFICE_HOURS_TTL
        {
            return Ok(schedules.clone());
        }
        let list: ScheduleList = self.get("office_hours_schedules", &[]).await?;
        *cache = Some((Instant::now(), list.data.clone()));
        Ok(list.data)
    }

    /// One schedule's exceptions (`GET /office_hours_schedules/{id}/office_hours_exceptions`), read at most once
    /// per [`OFFICE_HOURS_TTL`] per schedule.
    pub async fn office_hours_exceptions(&self, schedule_id: &str) -> Result<Vec<OfficeHoursException>, IntercomError> {
        let fresh = |cache: &HashMap<String, (Instant, Vec<OfficeHoursException>)>| {
            cache.get(schedule_id).filter(|(read_at, _)| read_at.elapsed() < OFFICE_HOURS_TTL).map(|(_, e)| e.clone())
        };
        let cache = self.cache::<OfficeHoursCache>();
        // A panic while holding this lock left a map of complete entries; keep using it.
        let exceptions = || cache.exceptions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = fresh(&exceptions()) {
            return Ok(found);
        }
        let path = format!("office_hours_schedules/{}/office_hours_exceptions", segment(schedule_id));
        let list: ExceptionList = self.get(&path, &[]).await?;
        exceptions().insert(schedule_id.to_owned(), (Instant::now(), list.data.clone()));
        Ok(list.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET /office_hours_schedules`, the 2.16 contract's own example.
    const SPEC_SCHEDULES: &str = r#"{
        "type": "office_hours_schedule.list",
        "data": [{
            "type": "office_hours_schedule", "id": "123", "name": "Standard Support Hours",
            "time_zone_name": "America/New_York",
            "time_intervals": [
                {"start_minute": 540, "end_minute": 1020, "day_of_week": 0},
                {"start_minute": 1980, "end_minute": 2460, "day_of_week": 1}
            ],
            "twenty_four_seven": false, "created_at": 1717200000, "updated_at": 1717200000
        }]
    }"#;

    /// `GET /office_hours_schedules/{id}/office_hours_exceptions`, the contract's own example.
    const SPEC_EXCEPTIONS: &str = r#"{
        "type": "office_hours_exception.list",
        "data": [
            {"type": "office_hours_exception", "id": "456", "office_hours_schedule_id": "123",
             "exception_date": "2026-12-25", "exception_type": "closed", "name": "Christmas Day",
             "time_intervals": null, "recurring_annually": true, "created_at": 1717200000, "updated_at": 1717200000},
            {"type": "office_hours_exception", "id": "457", "office_hours_schedule_id": "123",
             "exception_date": "2026-12-24", "exception_type": "custom_hours", "name": "Christmas Eve",
             "time_intervals": [{"start_minute": 540, "end_minute": 780, "day_of_week": 3}],
             "recurring_annually": true, "created_at": 1717200000, "updated_at": 1717200000}
        ]
    }"#;

    #[test]
    fn decodes_the_contracts_schedule_list() {
        let list: ScheduleList = serde_json::from_str(SPEC_SCHEDULES).unwrap();
        assert_eq!(list.data.len(), 1);
        let s = &list.data[0];
        assert_eq!((s.id.as_str(), s.name.as_str()), ("123", "Standard Support Hours"));
        assert_eq!(s.time_zone_name.as_deref(), Some("America/New_York"));
        assert_eq!(
            s.time_intervals,
            [
                TimeInterval { start_minute: 540, end_minute: 1020 },
                TimeInterval { start_minute: 1980, end_minute: 2460 }
            ]
        );
        assert!(!s.twenty_four_seven);
    }

    #[test]
    fn decodes_the_contracts_exception_list() {
        let list: ExceptionList = serde_json::from_str(SPEC_EXCEPTIONS).unwrap();
        let [christmas, eve] = &list.data[..] else { panic!("two exceptions: {:?}", list.data) };
        assert_eq!(christmas.exception_type, ExceptionType::Closed);
        assert!(christmas.time_intervals.is_empty(), "null intervals read as none");
        assert!(christmas.recurring_annually);
        assert_eq!(christmas.office_hours_schedule_id.as_deref(), Some("123"));
        assert_eq!(eve.exception_type, ExceptionType::CustomHours);
        assert_eq!(eve.exception_date, "2026-12-24");
        assert_eq!(eve.time_intervals, [TimeInterval { start_minute: 540, end_minute: 780 }]);
    }

    #[test]
    fn decodes_leniently() {
        let s: OfficeHoursSchedule = serde_json::from_value(serde_json::json!({
            "id": 7, "name": null, "time_intervals": null, "twenty_four_seven": null, "something_new": {}
        }))
        .unwrap();
        assert_eq!((s.id.as_str(), s.name.as_str(), s.time_zone_name), ("7", "", None));
        assert!(s.time_intervals.is_empty() && !s.twenty_four_seven);
        let e: OfficeHoursException = serde_json::from_value(serde_json::json!({
            "id": "1", "exception_date": "2027-01-01", "exception_type": "half_day", "recurring_annually": null
        }))
        .unwrap();
        assert_eq!(e.exception_type, ExceptionType::Unknown, "a new kind is not a decoding failure");
        assert!(!e.recurring_annually);
        let list: ScheduleList = serde_json::from_str(r#"{"type":"office_hours_schedule.list","data":null}"#).unwrap();
        assert!(list.data.is_empty());
    }

    #[tokio::test]
    async fn schedules_and_each_schedules_exceptions_are_read_once_per_ttl() {
        use super::super::stub_server::{Answer, serve};
        let stub = serve(&[
            ("/office_hours_schedules", Answer::json(200, SPEC_SCHEDULES)),
            ("/office_hours_schedules/123/office_hours_exceptions", Answer::json(200, SPEC_EXCEPTIONS)),
            ("/office_hours_schedules/124/office_hours_exceptions", Answer::json(200, r#"{"data":[]}"#)),
        ])
        .await;
        let c = &stub.client;
        assert_eq!(c.office_hours_schedules().await.unwrap()[0].name, "Standard Support Hours");
        assert_eq!(c.office_hours_schedules().await.unwrap().len(), 1);
        let (a, b) = tokio::join!(c.office_hours_exceptions("123"), c.office_hours_exceptions("124"));
        assert_eq!((a.unwrap().len(), b.unwrap().len()), (2, 0));
        assert_eq!(c.office_hours_exceptions("123").await.unwrap()[1].name.as_deref(), Some("Christmas Eve"));
        let mut requests = stub.requests();
        requests.sort();
        assert_eq!(
            requests,
            [
                "/office_hours_schedules",
                "/office_hours_schedules/123/office_hours_exceptions",
                "/office_hours_schedules/124/office_hours_exceptions"
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_read_is_not_cached() {
        use super::super::stub_server::{Answer, serve};
        let stub =
            serve(&[("/office_hours_schedules", Answer::json(403, r#"{"type":"error.list","errors":[]}"#))]).await;
        assert!(stub.client.office_hours_schedules().await.is_err());
        assert!(stub.client.office_hours_exceptions("9").await.unwrap_err().is_not_found());
        assert!(stub.client.office_hours_schedules().await.is_err());
        assert!(stub.client.office_hours_exceptions("9").await.is_err());
        assert_eq!(stub.requests().len(), 4, "{:?}", stub.requests());
    }
}
