//! Office hours schedules (open intervals in minutes from Monday 00:00, in a time zone) and their
//! exceptions (a date closed, or open on custom hours), as Intercom 2.16 models them. The fake only keeps
//! them: deciding whether a team is open now is the client's business.

use axum::http::StatusCode;
use serde::Serialize;

use super::State;
use crate::error::ApiError;

/// Minutes in a week: a schedule's intervals lie in `0..=10080`.
pub const WEEK_MINUTES: i64 = 7 * 24 * 60;
/// Minutes in a day: an exception's intervals lie in `0..=1440`.
pub const DAY_MINUTES: i64 = 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub start_minute: i64,
    pub end_minute: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficeHoursSchedule {
    pub id: String,
    pub name: String,
    pub time_zone_name: String,
    pub intervals: Vec<Interval>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OfficeHoursSchedule {
    /// Open every minute of the week.
    pub fn twenty_four_seven(&self) -> bool {
        let mut sorted = self.intervals.clone();
        sorted.sort_by_key(|i| i.start_minute);
        let mut covered = 0;
        for i in sorted {
            if i.start_minute > covered {
                return false;
            }
            covered = covered.max(i.end_minute);
        }
        covered >= WEEK_MINUTES
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionType {
    Closed,
    CustomHours,
}

impl ExceptionType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::CustomHours => "custom_hours",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Closed, Self::CustomHours].into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficeHoursException {
    pub id: String,
    pub schedule_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub exception_type: ExceptionType,
    pub name: Option<String>,
    /// Minutes from midnight of `date` (custom hours only).
    pub intervals: Option<Vec<Interval>>,
    pub recurring_annually: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What creating or updating an exception gives (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionFields {
    pub date: Option<String>,
    pub exception_type: Option<ExceptionType>,
    pub name: Option<String>,
    /// `Some(None)`: `null`.
    pub intervals: Option<Option<Vec<Interval>>>,
    pub recurring_annually: Option<bool>,
}

/// Intercom's 422 for a schedule or exception it cannot take.
pub fn data_invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "data_invalid", message)
}

pub fn object_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Object not found")
}

/// IANA areas; a zone is `UTC`, `Etc/…`, or `<area>/<location>` (the fake has no zone database).
const TZ_AREAS: [&str; 10] =
    ["Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific", "Etc"];

fn check_time_zone(name: &str) -> Result<(), ApiError> {
    let valid = name == "UTC"
        || name.split_once('/').is_some_and(|(area, rest)| {
            TZ_AREAS.contains(&area)
                && !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_alphanumeric() || "_-+/".contains(c))
        });
    if valid { Ok(()) } else { Err(data_invalid(format!("{name:?} is not an IANA time zone name"))) }
}

/// Intervals within `0..=limit`, start before end, on 15-minute boundaries, not overlapping.
fn check_intervals(intervals: &[Interval], limit: i64) -> Result<(), ApiError> {
    for i in intervals {
        if !(0 <= i.start_minute && i.start_minute < i.end_minute && i.end_minute <= limit) {
            return Err(data_invalid(format!(
                "time interval {}-{} must start before it ends, within 0 to {limit}",
                i.start_minute, i.end_minute
            )));
        }
        if i.start_minute % 15 != 0 || i.end_minute % 15 != 0 {
            return Err(data_invalid("start_minute and end_minute must be on a 15-minute boundary"));
        }
    }
    let mut sorted = intervals.to_vec();
    sorted.sort_by_key(|i| i.start_minute);
    if sorted.windows(2).any(|w| w[1].start_minute < w[0].end_minute) {
        return Err(data_invalid("time intervals must not overlap"));
    }
    Ok(())
}

/// The weekday (0 = Monday … 6 = Sunday) of a valid `YYYY-MM-DD`, `None` for anything else.
pub fn weekday(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(date, &format).ok()?;
    Some(i64::from(date.weekday().number_days_from_monday()))
}

impl State {
    pub fn office_hours_schedule(&self, id: &str) -> Option<&OfficeHoursSchedule> {
        self.office_hours.iter().find(|s| s.id == id)
    }

    pub fn office_hours_exception(&self, schedule_id: &str, id: &str) -> Option<&OfficeHoursException> {
        self.office_hours_exceptions.iter().find(|e| e.schedule_id == schedule_id && e.id == id)
    }

    pub fn exceptions_of(&self, schedule_id: &str) -> Vec<&OfficeHoursException> {
        self.office_hours_exceptions.iter().filter(|e| e.schedule_id == schedule_id).collect()
    }

    fn check_schedule_name(&self, name: &str, except: Option<&str>) -> Result<(), ApiError> {
        if name.trim().is_empty() {
            return Err(data_invalid("name can't be blank"));
        }
        if self.office_hours.iter().any(|s| Some(s.id.as_str()) != except && s.name.eq_ignore_ascii_case(name)) {
            return Err(data_invalid("name has already been taken"));
        }
        Ok(())
    }

    /// `POST /office_hours_schedules`: 422 `data_invalid` for a blank or taken name, a zone that is not
    /// IANA's, or intervals out of the week, off the 15-minute grid or overlapping.
    pub fn create_office_hours(
        &mut self,
        name: &str,
        time_zone_name: &str,
        intervals: Vec<Interval>,
    ) -> Result<OfficeHoursSchedule, ApiError> {
        self.check_schedule_name(name, None)?;
        check_time_zone(time_zone_name)?;
        check_intervals(&intervals, WEEK_MINUTES)?;
        self.counters.office_hours += 1;
        let now = self.now();
        let schedule = OfficeHoursSchedule {
            id: self.counters.office_hours.to_string(),
            name: name.to_owned(),
            time_zone_name: time_zone_name.to_owned(),
            intervals,
            created_at: now,
            updated_at: now,
        };
        self.office_hours.push(schedule.clone());
        Ok(schedule)
    }

    /// `PUT /office_hours_schedules/{id}`: what is given replaces what was (checked as on create).
    pub fn update_office_hours(
        &mut self,
        id: &str,
        name: Option<String>,
        time_zone_name: Option<String>,
        intervals: Option<Vec<Interval>>,
    ) -> Result<OfficeHoursSchedule, ApiError> {
        self.office_hours_schedule(id).ok_or_else(object_not_found)?;
        if let Some(name) = &name {
            self.check_schedule_name(name, Some(id))?;
        }
        if let Some(zone) = &time_zone_name {
            check_time_zone(zone)?;
        }
        if let Some(intervals) = &intervals {
            check_intervals(intervals, WEEK_MINUTES)?;
        }
        let now = self.now();
        let schedule = self.office_hours.iter_mut().find(|s| s.id == id).ok_or_else(object_not_found)?;
        if let Some(name) = name {
            schedule.name = name;
        }
        if let Some(zone) = time_zone_name {
            schedule.time_zone_name = zone;
        }
        if let Some(intervals) = intervals {
            schedule.intervals = intervals;
        }
        schedule.updated_at = now;
        Ok(schedule.clone())
    }

    /// `DELETE /office_hours_schedules/{id}`, its exceptions with it.
    pub fn delete_office_hours(&mut self, id: &str) -> Result<(), ApiError> {
        self.office_hours_schedule(id).ok_or_else(object_not_found)?;
        self.office_hours.retain(|s| s.id != id);
        self.office_hours_exceptions.retain(|e| e.schedule_id != id);
        Ok(())
    }

    /// `POST` / `PUT …/office_hours_exceptions[/{id}]`: a real date, once per schedule; `closed` without
    /// intervals, `custom_hours` with intervals within the day.
    pub fn save_office_hours_exception(
        &mut self,
        schedule_id: &str,
        id: Option<&str>,
        fields: ExceptionFields,
    ) -> Result<OfficeHoursException, ApiError> {
        self.office_hours_schedule(schedule_id).ok_or_else(object_not_found)?;
        let existing = match id {
            Some(id) => Some(self.office_hours_exception(schedule_id, id).cloned().ok_or_else(object_not_found)?),
            None => None,
        };
        let date = fields
            .date
            .or_else(|| existing.as_ref().map(|e| e.date.clone()))
            .ok_or_else(|| data_invalid("exception_date is required"))?;
        weekday(&date).ok_or_else(|| data_invalid(format!("exception_date {date:?} is not a YYYY-MM-DD date")))?;
        if self.exceptions_of(schedule_id).iter().any(|e| Some(e.id.as_str()) != id && e.date == date) {
            return Err(data_invalid("exception_date has already been taken"));
        }
        let exception_type = fields
            .exception_type
            .or(existing.as_ref().map(|e| e.exception_type))
            .ok_or_else(|| data_invalid("exception_type is required"))?;
        let intervals = match fields.intervals {
            Some(given) => given,
            None => existing.as_ref().and_then(|e| e.intervals.clone()),
        }
        .filter(|i| !i.is_empty());
        match (exception_type, &intervals) {
            (ExceptionType::Closed, Some(_)) => return Err(data_invalid("a closed day has no time_intervals")),
            (ExceptionType::CustomHours, None) => return Err(data_invalid("custom_hours needs time_intervals")),
            (ExceptionType::CustomHours, Some(i)) => check_intervals(i, DAY_MINUTES)?,
            (ExceptionType::Closed, None) => {}
        }
        let now = self.now();
        let id = match id {
            Some(id) => id.to_owned(),
            None => {
                self.counters.office_hours_exception += 1;
                self.counters.office_hours_exception.to_string()
            }
        };
        let exception = OfficeHoursException {
            id: id.clone(),
            schedule_id: schedule_id.to_owned(),
            date,
            exception_type,
            name: fields.name.or_else(|| existing.as_ref().and_then(|e| e.name.clone())),
            intervals,
            recurring_annually: fields
                .recurring_annually
                .or(existing.as_ref().map(|e| e.recurring_annually))
                .unwrap_or(false),
            created_at: existing.as_ref().map_or(now, |e| e.created_at),
            updated_at: now,
        };
        self.office_hours_exceptions.retain(|e| !(e.schedule_id == schedule_id && e.id == id));
        self.office_hours_exceptions.push(exception.clone());
        Ok(exception)
    }

    pub fn delete_office_hours_exception(&mut self, schedule_id: &str, id: &str) -> Result<(), ApiError> {
        self.office_hours_exception(schedule_id, id).ok_or_else(object_not_found)?;
        self.office_hours_exceptions.retain(|e| !(e.schedule_id == schedule_id && e.id == id));
        Ok(())
    }

    /// The demo's schedules: "Standard Support Hours" (Europe/London, Monday–Friday 09:00–17:00, closed on
    /// Christmas Day every year) and "Billing hours" (America/New_York, Monday–Friday 08:00–20:00).
    pub(super) fn seed_office_hours(&mut self) {
        let weekdays = |from: i64, to: i64| -> Vec<Interval> {
            (0..5)
                .map(|d| Interval { start_minute: d * DAY_MINUTES + from, end_minute: d * DAY_MINUTES + to })
                .collect()
        };
        if let Ok(standard) = self.create_office_hours("Standard Support Hours", "Europe/London", weekdays(540, 1020)) {
            let christmas = ExceptionFields {
                date: Some("2026-12-25".to_owned()),
                exception_type: Some(ExceptionType::Closed),
                name: Some("Christmas Day".to_owned()),
                intervals: None,
                recurring_annually: Some(true),
            };
            let _ = self.save_office_hours_exception(&standard.id, None, christmas);
        }
        let _ = self.create_office_hours("Billing hours", "America/New_York", weekdays(480, 1200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_checked_as_intercom_does() {
        let mut s = State::new();
        let nine_to_five = vec![Interval { start_minute: 540, end_minute: 1020 }];
        let made = s.create_office_hours("Support", "Europe/Paris", nine_to_five.clone()).expect("made");
        assert!(!made.twenty_four_seven());
        assert_eq!(
            s.create_office_hours("support", "Europe/Paris", nine_to_five.clone()).expect_err("taken").status,
            422
        );
        assert!(s.create_office_hours("B", "Mars/Olympus", nine_to_five.clone()).is_err());
        assert!(s.create_office_hours("C", "UTC", vec![Interval { start_minute: 545, end_minute: 600 }]).is_err());
        assert!(s.create_office_hours("D", "UTC", vec![Interval { start_minute: 0, end_minute: 10095 }]).is_err());
        let overlapping =
            vec![Interval { start_minute: 0, end_minute: 600 }, Interval { start_minute: 540, end_minute: 700 }];
        assert!(s.create_office_hours("E", "UTC", overlapping).is_err());
        let always = s
            .create_office_hours("F", "UTC", vec![Interval { start_minute: 0, end_minute: WEEK_MINUTES }])
            .expect("24/7");
        assert!(always.twenty_four_seven());
        assert_eq!(weekday("2026-03-07"), Some(5), "a Saturday");
        assert_eq!(weekday("2026-02-30"), None);
        let closed = ExceptionFields {
            date: Some("2026-03-09".to_owned()),
            exception_type: Some(ExceptionType::Closed),
            intervals: Some(Some(nine_to_five)),
            ..ExceptionFields::default()
        };
        assert!(s.save_office_hours_exception(&made.id, None, closed).is_err(), "closed with hours");
    }
}
