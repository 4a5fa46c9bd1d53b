//! Office hours as Intercom 2.16 models them: whether a schedule is open at an instant, and when it next opens.
//!
//! A schedule is a set of weekly intervals in minutes from Monday 00:00 (0 to 10080) on the wall clock of its
//! IANA time zone, plus exceptions: dates (in that zone) that are `closed` all day or have `custom_hours`
//! (minutes from that date's midnight, 0 to 1440) instead of the week's, optionally every year. The wall clock
//! decides: "09:00–17:00" is 09:00–17:00 local time on both sides of a DST change. Pure: no I/O, no clock.
//!
//! Which team keeps which schedule is configuration (`OFFICE_HOURS`): Intercom's API does not say.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ZonedDateTime};

use crate::intercom::office_hours::{ExceptionType, OfficeHoursException, OfficeHoursSchedule, TimeInterval};

/// `Team name=Schedule name` pairs, `*` for every other team.
pub const OFFICE_HOURS_VAR: &str = "OFFICE_HOURS";

const MINUTES_PER_DAY: i64 = 1_440;
const MINUTES_PER_WEEK: i64 = 10_080;
/// Days looked at first for the next opening: a week and a day covers every schedule without long closures.
const FIRST_SEARCH_DAYS: usize = 8;
/// How far ahead an opening is looked for at most: two years meets every annual exception twice.
const MAX_SEARCH_DAYS: usize = 2 * 366 + 7;

/// A schedule ready to be asked: its zone resolved, its intervals and exceptions checked.
#[derive(Debug, Clone)]
pub struct Schedule {
    name: String,
    zone: TimeZone,
    zone_name: String,
    /// Open minutes of the week, `[start, end)` within `[0, 10080)`; an interval over Sunday midnight is split.
    weekly: Vec<(i64, i64)>,
    exceptions: Vec<Exception>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Exception {
    date: Date,
    recurring_annually: bool,
    /// Open minutes of the day, `[start, end)` within `[0, 1440)`; empty when closed all day.
    open: Vec<(i64, i64)>,
}

/// Why a schedule from Intercom cannot be evaluated. Messages name the schedule, never customer data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("office hours schedule {schedule:?} has no time zone")]
    MissingTimeZone { schedule: String },
    #[error(
        "office hours schedule {schedule:?} is in time zone {zone:?}, which this release's time zone database lacks"
    )]
    UnknownTimeZone { schedule: String, zone: String },
    #[error(
        "office hours schedule {schedule:?} has an interval from minute {start} to {end}, outside the week \
         (0 to 10080 from Monday 00:00)"
    )]
    IntervalOutOfRange { schedule: String, start: i64, end: i64 },
    #[error("office hours schedule {schedule:?} has an exception dated {date:?}, which is not a YYYY-MM-DD date")]
    InvalidExceptionDate { schedule: String, date: String },
    #[error(
        "office hours schedule {schedule:?} has an exception on {date} from minute {start} to {end}, outside the \
         day (0 to 1440)"
    )]
    ExceptionIntervalOutOfRange { schedule: String, date: Date, start: i64, end: i64 },
    #[error("office hours schedule {schedule:?} has an exception on {date} of a kind this release does not know")]
    UnknownExceptionType { schedule: String, date: Date },
}

impl Schedule {
    /// The schedule with its exceptions (`GET /office_hours_schedules/{id}/office_hours_exceptions`).
    pub fn from_intercom(
        schedule: &OfficeHoursSchedule,
        exceptions: &[OfficeHoursException],
    ) -> Result<Self, ScheduleError> {
        let name = schedule.name.clone();
        let zone_name = match schedule.time_zone_name.as_deref().map(str::trim) {
            Some(zone) if !zone.is_empty() => zone.to_owned(),
            _ => return Err(ScheduleError::MissingTimeZone { schedule: name }),
        };
        let zone = TimeZone::get(&zone_name)
            .map_err(|_| ScheduleError::UnknownTimeZone { schedule: name.clone(), zone: zone_name.clone() })?;
        let weekly = if schedule.twenty_four_seven {
            vec![(0, MINUTES_PER_WEEK)]
        } else {
            let mut weekly = Vec::new();
            for interval in &schedule.time_intervals {
                weekly.extend(week_segments(*interval).ok_or_else(|| ScheduleError::IntervalOutOfRange {
                    schedule: name.clone(),
                    start: interval.start_minute,
                    end: interval.end_minute,
                })?);
            }
            weekly
        };
        let exceptions = exceptions.iter().map(|e| exception(&name, e)).collect::<Result<Vec<_>, ScheduleError>>()?;
        Ok(Schedule { name, zone, zone_name, weekly, exceptions })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schedule's IANA zone name, as Intercom gave it (`Europe/Paris`).
    pub fn time_zone_name(&self) -> &str {
        &self.zone_name
    }

    /// Whether the schedule is open at `now`: the wall-clock minute in its zone falls in that date's hours.
    pub fn is_open(&self, now: Timestamp) -> bool {
        let local = self.zone.to_datetime(now);
        let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
        self.hours_on(local.date()).iter().any(|&(start, end)| start <= minute && minute < end)
    }

    /// The first instant at or after `now` at which the schedule is open (`now` itself when it is open), with
    /// the schedule's zone and so its UTC offset at that moment. `None` when it does not open within two years.
    pub fn next_opening(&self, now: Timestamp) -> Option<ZonedDateTime> {
        if self.is_open(now) {
            return Some(now.to_zoned_datetime(self.zone.clone()));
        }
        if self.never_opens() {
            return None;
        }
        let mut from = self.zone.to_datetime(now).date();
        for days in [FIRST_SEARCH_DAYS, MAX_SEARCH_DAYS - FIRST_SEARCH_DAYS] {
            let (candidates, next) = self.opening_candidates(from, days, now)?;
            if let Some(at) = candidates.into_iter().find(|at| self.is_open(*at)) {
                return Some(at.to_zoned_datetime(self.zone.clone()));
            }
            from = next;
        }
        None
    }

    /// Every instant from `now` on, over `days` dates from `from`, at which the schedule may turn open: when
    /// the wall clock reaches the start of an interval (twice when that minute repeats after a DST change), and
    /// when it jumps (a DST change that skips an interval's start opens at the jump). Sorted, with the date after.
    fn opening_candidates(&self, from: Date, days: usize, now: Timestamp) -> Option<(Vec<Timestamp>, Date)> {
        let mut candidates = Vec::new();
        let mut date = from;
        for _ in 0..days {
            for (start, _) in self.hours_on(date) {
                let wall = at_minute(date, start)?;
                match self.zone.to_ambiguous_timestamp(wall).offset() {
                    AmbiguousOffset::Unambiguous { offset } => candidates.extend(offset.to_timestamp(wall).ok()),
                    AmbiguousOffset::Fold { before, after } => {
                        candidates.extend(before.to_timestamp(wall).ok());
                        candidates.extend(after.to_timestamp(wall).ok());
                    }
                    // The minute does not exist that day: the transition below is when the wall clock passes it.
                    AmbiguousOffset::Gap { .. } => {}
                }
            }
            date = date.tomorrow().ok()?;
        }
        let end = self.zone.to_timestamp(date.to_datetime(Time::midnight())).ok()?;
        candidates.extend(self.zone.following(now).map(|t| t.timestamp()).take_while(|t| *t < end));
        candidates.retain(|at| *at >= now);
        candidates.sort();
        Some((candidates, date))
    }

    fn never_opens(&self) -> bool {
        self.weekly.is_empty() && self.exceptions.iter().all(|e| e.open.is_empty())
    }

    /// The open minutes of a local date: its exception's when it has one, else the week's for its weekday.
    fn hours_on(&self, date: Date) -> Vec<(i64, i64)> {
        if let Some(exception) = self.exception_on(date) {
            return exception.open.clone();
        }
        let day_start = i64::from(date.weekday().to_monday_zero_offset()) * MINUTES_PER_DAY;
        let day_end = day_start + MINUTES_PER_DAY;
        self.weekly
            .iter()
            .map(|&(start, end)| (start.max(day_start) - day_start, end.min(day_end) - day_start))
            .filter(|(start, end)| start < end)
            .collect()
    }

    /// An exception for exactly this date wins over one that recurs on its month and day from an earlier year.
    fn exception_on(&self, date: Date) -> Option<&Exception> {
        self.exceptions.iter().find(|e| e.date == date).or_else(|| {
            self.exceptions.iter().find(|e| {
                e.recurring_annually
                    && e.date.year() <= date.year()
                    && (e.date.month(), e.date.day()) == (date.month(), date.day())
            })
        })
    }
}

/// An interval of the week as `[start, end)` segments within `[0, 10080)`. One that passes Sunday midnight
/// (an end past 10080, or before its start) is split in two; one of zero length is no segment. `None` when a
/// minute lies outside the week.
fn week_segments(interval: TimeInterval) -> Option<Vec<(i64, i64)>> {
    let TimeInterval { start_minute: start, end_minute: end } = interval;
    if !(0..=MINUTES_PER_WEEK).contains(&start) || !(0..=2 * MINUTES_PER_WEEK).contains(&end) {
        return None;
    }
    // Minute 10080 is next Monday 00:00, the week's minute 0.
    let (start, end) = if start == MINUTES_PER_WEEK && end >= MINUTES_PER_WEEK {
        (0, end - MINUTES_PER_WEEK)
    } else {
        (start % MINUTES_PER_WEEK, end)
    };
    let end = if end < start { end + MINUTES_PER_WEEK } else { end };
    if end - start > MINUTES_PER_WEEK {
        return None;
    }
    Some(if start == end {
        Vec::new()
    } else if end <= MINUTES_PER_WEEK {
        vec![(start, end)]
    } else {
        vec![(start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]
    })
}

fn exception(schedule: &str, raw: &OfficeHoursException) -> Result<Exception, ScheduleError> {
    let date: Date = raw.exception_date.trim().parse().map_err(|_| ScheduleError::InvalidExceptionDate {
        schedule: schedule.to_owned(),
        date: raw.exception_date.clone(),
    })?;
    let open = match raw.exception_type {
        ExceptionType::Closed => Vec::new(),
        ExceptionType::CustomHours => {
            let mut open = Vec::new();
            for &TimeInterval { start_minute: start, end_minute: end } in &raw.time_intervals {
                if !(0..=MINUTES_PER_DAY).contains(&start) || !(0..=MINUTES_PER_DAY).contains(&end) {
                    return Err(ScheduleError::ExceptionIntervalOutOfRange {
                        schedule: schedule.to_owned(),
                        date,
                        start,
                        end,
                    });
                }
                if start < end {
                    open.push((start, end));
                }
            }
            open
        }
        ExceptionType::Unknown => {
            return Err(ScheduleError::UnknownExceptionType { schedule: schedule.to_owned(), date });
        }
    };
    Ok(Exception { date, recurring_annually: raw.recurring_annually, open })
}

fn at_minute(date: Date, minute: i64) -> Option<DateTime> {
    let time = Time::new(i8::try_from(minute / 60).ok()?, i8::try_from(minute % 60).ok()?, 0, 0).ok()?;
    Some(date.to_datetime(time))
}

/// `at` as RFC 3339 with its UTC offset (`2026-12-14T09:00:00+01:00`): the `opensAt` of an answer.
pub fn rfc3339(at: &ZonedDateTime) -> String {
    at.timestamp().display_with_offset(at.offset()).to_string()
}

/// `at` for a customer: `Monday at 09:00 (Europe/Paris)`, with the date when it is a week or more after `now`
/// (`Monday 4 January at 09:00 (Europe/Paris)`). English; the agent's own `customerMessage` localises.
pub fn local_label(at: &ZonedDateTime, now: Timestamp) -> String {
    let zone = at.time_zone().iana_name().map_or_else(|| at.offset().to_string(), str::to_owned);
    let today = at.time_zone().to_datetime(now).date();
    let format = if at.date().since(today).map_or(true, |span| span.get_days() >= 7) {
        "%A %-d %B at %H:%M"
    } else {
        "%A at %H:%M"
    };
    format!("{} ({zone})", at.strftime(format))
}

/// Team name → schedule name, from `OFFICE_HOURS` (`Billing=Billing hours,*=Standard Support Hours`). A team
/// with no entry (and no `*`) has no schedule: it counts as always open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeHoursMap {
    by_team: Vec<(String, String)>,
    fallback: Option<String>,
}

/// Why `OFFICE_HOURS` was rejected. Messages name the variable and show a valid value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfficeHoursConfigError {
    #[error(
        "{OFFICE_HOURS_VAR} entry {entry:?} is not Team name=Schedule name \
         (example: Billing=Billing hours,*=Standard Support Hours)"
    )]
    Malformed { entry: String },
    #[error("{OFFICE_HOURS_VAR} names the team {team:?} more than once; keep one entry per team")]
    DuplicateTeam { team: String },
}

impl OfficeHoursMap {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, OfficeHoursConfigError> {
        Self::parse(lookup(OFFICE_HOURS_VAR).as_deref())
    }

    pub fn parse(raw: Option<&str>) -> Result<Self, OfficeHoursConfigError> {
        let mut map = OfficeHoursMap::default();
        for entry in raw.unwrap_or_default().split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let malformed = || OfficeHoursConfigError::Malformed { entry: entry.to_owned() };
            let (team, schedule) = entry.split_once('=').ok_or_else(malformed)?;
            let (team, schedule) = (team.trim(), schedule.trim());
            if team.is_empty() || schedule.is_empty() || schedule.contains('=') {
                return Err(malformed());
            }
            let duplicate = || OfficeHoursConfigError::DuplicateTeam { team: team.to_owned() };
            if team == "*" {
                if map.fallback.replace(schedule.to_owned()).is_some() {
                    return Err(duplicate());
                }
            } else if map.by_team.iter().any(|(known, _)| same_name(known, team)) {
                return Err(duplicate());
            } else {
                map.by_team.push((team.to_owned(), schedule.to_owned()));
            }
        }
        Ok(map)
    }

    /// The schedule name for this team (names compared as Intercom's team lookup does: trimmed, ASCII case
    /// ignored), else the `*` one, else none.
    pub fn schedule_for(&self, team: &str) -> Option<&str> {
        self.by_team
            .iter()
            .find(|(known, _)| same_name(known, team))
            .map(|(_, schedule)| schedule.as_str())
            .or(self.fallback.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        self.by_team.is_empty() && self.fallback.is_none()
    }
}

/// The schedule called `name` (trimmed, ASCII case ignored) among those Intercom listed.
pub fn find_schedule<'a>(schedules: &'a [OfficeHoursSchedule], name: &str) -> Option<&'a OfficeHoursSchedule> {
    schedules.iter().find(|s| same_name(&s.name, name))
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const NINE_TO_FIVE_WEEKDAYS: [(i64, i64); 5] =
        [(540, 1020), (1980, 2460), (3420, 3900), (4860, 5340), (6300, 6780)];

    fn schedule(zone: &str, intervals: &[(i64, i64)], exceptions: Value) -> Schedule {
        let schedule: OfficeHoursSchedule = serde_json::from_value(json!({
            "id": "1", "name": "Support hours", "time_zone_name": zone,
            "time_intervals": intervals.iter().map(|(s, e)| json!({"start_minute": s, "end_minute": e})).collect::<Vec<_>>(),
        }))
        .unwrap();
        let exceptions: Vec<OfficeHoursException> = serde_json::from_value(exceptions).unwrap();
        Schedule::from_intercom(&schedule, &exceptions).unwrap()
    }

    fn at(rfc3339: &str) -> Timestamp {
        rfc3339.parse().unwrap()
    }

    fn opening(s: &Schedule, now: &str) -> Option<String> {
        s.next_opening(at(now)).map(|z| rfc3339(&z))
    }

    #[test]
    fn open_inside_the_week_closed_outside() {
        let s = schedule("Europe/Paris", &NINE_TO_FIVE_WEEKDAYS, json!([]));
        // 2026-12-14 is a Monday; Paris is UTC+1 in winter.
        assert!(!s.is_open(at("2026-12-14T07:59:59Z")), "08:59:59 local");
        assert!(s.is_open(at("2026-12-14T08:00:00Z")), "09:00 local");
        assert!(s.is_open(at("2026-12-14T15:59:59Z")), "16:59:59 local");
        assert!(!s.is_open(at("2026-12-14T16:00:00Z")), "17:00 local: the end is not included");
        assert!(!s.is_open(at("2026-12-19T10:00:00Z")), "Saturday");
        assert_eq!(opening(&s, "2026-12-14T10:00:00Z"), Some("2026-12-14T11:00:00+01:00".into()), "open: now");
        assert_eq!(opening(&s, "2026-12-14T17:00:00Z"), Some("2026-12-15T09:00:00+01:00".into()), "after hours");
        assert_eq!(opening(&s, "2026-12-19T10:00:00Z"), Some("2026-12-21T09:00:00+01:00".into()), "weekend");
        assert_eq!(opening(&s, "2026-12-14T06:30:00Z"), Some("2026-12-14T09:00:00+01:00".into()), "early");
    }

    #[test]
    fn the_contracts_example_is_in_new_york_hours() {
        let list: Value = json!({"id": "123", "name": "Standard Support Hours", "time_zone_name": "America/New_York",
            "time_intervals": [{"start_minute": 540, "end_minute": 1020, "day_of_week": 0},
                               {"start_minute": 1980, "end_minute": 2460, "day_of_week": 1}],
            "twenty_four_seven": false});
        let s = Schedule::from_intercom(&serde_json::from_value(list).unwrap(), &[]).unwrap();
        assert_eq!((s.name(), s.time_zone_name()), ("Standard Support Hours", "America/New_York"));
        assert!(s.is_open(at("2026-12-14T14:00:00Z")), "Monday 09:00 EST");
        assert!(!s.is_open(at("2026-12-16T14:00:00Z")), "Wednesday has no hours");
        assert_eq!(opening(&s, "2026-12-16T14:00:00Z"), Some("2026-12-21T09:00:00-05:00".into()));
    }

    #[test]
    fn spring_forward_week_keeps_wall_clock_hours() {
        // America/New_York springs forward on Sunday 2026-03-08 at 02:00 (-05:00 → -04:00).
        let s = schedule("America/New_York", &NINE_TO_FIVE_WEEKDAYS, json!([]));
        assert_eq!(opening(&s, "2026-03-06T23:00:00Z"), Some("2026-03-09T09:00:00-04:00".into()));
        assert!(s.is_open(at("2026-03-09T13:00:00Z")), "09:00 EDT");
        assert!(!s.is_open(at("2026-03-09T12:30:00Z")), "08:30 EDT, though 09:30 in last week's offset");
        assert!(s.is_open(at("2026-03-06T14:00:00Z")), "the Friday before: 09:00 EST");
    }

    #[test]
    fn fall_back_week_keeps_wall_clock_hours() {
        // Europe/Paris falls back on Sunday 2026-10-25 at 03:00 (+02:00 → +01:00).
        let s = schedule("Europe/Paris", &NINE_TO_FIVE_WEEKDAYS, json!([]));
        assert_eq!(opening(&s, "2026-10-23T16:00:00Z"), Some("2026-10-26T09:00:00+01:00".into()));
        assert!(s.is_open(at("2026-10-23T07:00:00Z")), "Friday 09:00 CEST");
        assert!(!s.is_open(at("2026-10-26T07:30:00Z")), "Monday 08:30 CET");
        assert!(s.is_open(at("2026-10-26T08:00:00Z")), "Monday 09:00 CET");
    }

    #[test]
    fn hours_inside_the_changing_hour() {
        // Open 02:00–04:00 on Sundays (minutes 8760–8880). On 2026-03-08 New York has no 02:00–03:00: it opens
        // at the jump, 03:00 EDT. On 2026-11-01 01:00–02:00 happens twice; 01:30–02:30 opens at the first 01:30.
        let spring = schedule("America/New_York", &[(8760, 8880)], json!([]));
        assert_eq!(opening(&spring, "2026-03-08T06:00:00Z"), Some("2026-03-08T03:00:00-04:00".into()));
        assert!(spring.is_open(at("2026-03-08T07:00:00Z")), "03:00 EDT");
        assert!(!spring.is_open(at("2026-03-08T06:59:59Z")), "01:59:59 EST");
        let fall = schedule("America/New_York", &[(8730, 8790)], json!([]));
        assert_eq!(opening(&fall, "2026-11-01T04:00:00Z"), Some("2026-11-01T01:30:00-04:00".into()));
        assert!(fall.is_open(at("2026-11-01T06:45:00Z")), "01:45 EST, the second time round");
    }

    #[test]
    fn an_interval_may_wrap_from_sunday_to_monday() {
        // Sunday 22:00 to Monday 02:00, written both ways Intercom's minutes allow.
        for interval in [(9960, 10200), (9960, 120)] {
            let s = schedule("UTC", &[interval], json!([]));
            assert!(s.is_open(at("2026-12-13T23:00:00Z")), "Sunday 23:00 {interval:?}");
            assert!(s.is_open(at("2026-12-14T01:59:00Z")), "Monday 01:59 {interval:?}");
            assert!(!s.is_open(at("2026-12-14T02:00:00Z")), "Monday 02:00 {interval:?}");
            assert!(!s.is_open(at("2026-12-13T21:59:00Z")), "Sunday 21:59 {interval:?}");
            assert_eq!(opening(&s, "2026-12-14T03:00:00Z"), Some("2026-12-20T22:00:00+00:00".into()));
        }
        for monday_first_hour in [(10080, 10140), (10080, 60)] {
            let s = schedule("UTC", &[monday_first_hour], json!([]));
            assert!(s.is_open(at("2026-12-14T00:30:00Z")), "{monday_first_hour:?}");
            assert!(!s.is_open(at("2026-12-14T01:00:00Z")), "{monday_first_hour:?}");
        }
        let whole_week = schedule("UTC", &[(0, 10080)], json!([]));
        assert!(whole_week.is_open(at("2026-12-13T23:59:59Z")) && whole_week.is_open(at("2026-12-14T00:00:00Z")));
    }

    #[test]
    fn a_closed_exception_closes_a_normally_open_day() {
        let s = schedule(
            "Europe/Paris",
            &NINE_TO_FIVE_WEEKDAYS,
            json!([{"id": "1", "exception_date": "2026-12-25", "exception_type": "closed", "time_intervals": null,
                    "recurring_annually": true}]),
        );
        assert!(!s.is_open(at("2026-12-25T10:00:00Z")), "Christmas, a Friday");
        assert_eq!(opening(&s, "2026-12-24T17:00:00Z"), Some("2026-12-28T09:00:00+01:00".into()));
        assert!(!s.is_open(at("2028-12-25T10:00:00Z")), "recurs: Monday 2028-12-25");
        assert!(s.is_open(at("2025-12-25T10:00:00Z")), "not before the year it was set for");
    }

    #[test]
    fn a_custom_exception_opens_a_normally_closed_day() {
        let s = schedule(
            "Europe/Paris",
            &NINE_TO_FIVE_WEEKDAYS,
            json!([{"id": "2", "exception_date": "2026-12-19", "exception_type": "custom_hours",
                    "time_intervals": [{"start_minute": 600, "end_minute": 720, "day_of_week": 5}]}]),
        );
        assert!(s.is_open(at("2026-12-19T09:30:00Z")), "Saturday 10:30 local");
        assert!(!s.is_open(at("2026-12-19T11:00:00Z")), "Saturday 12:00 local");
        assert_eq!(opening(&s, "2026-12-18T20:00:00Z"), Some("2026-12-19T10:00:00+01:00".into()));
        assert_eq!(opening(&s, "2026-12-26T20:00:00Z"), Some("2026-12-28T09:00:00+01:00".into()), "one year only");
    }

    #[test]
    fn custom_hours_replace_the_days_regular_hours() {
        let s = schedule(
            "Europe/Paris",
            &NINE_TO_FIVE_WEEKDAYS,
            json!([{"id": "3", "exception_date": "2026-12-24", "exception_type": "custom_hours",
                    "time_intervals": [{"start_minute": 540, "end_minute": 780}], "recurring_annually": true},
                   {"id": "4", "exception_date": "2027-12-24", "exception_type": "closed"}]),
        );
        assert!(s.is_open(at("2026-12-24T11:00:00Z")), "12:00 local, within 09:00–13:00");
        assert!(!s.is_open(at("2026-12-24T13:00:00Z")), "14:00 local: the regular 17:00 does not apply");
        assert!(!s.is_open(at("2027-12-24T11:00:00Z")), "that year's own exception wins over the recurring one");
        assert!(!s.is_open(at("2028-12-24T07:30:00Z")), "Sunday 2028-12-24, 08:30 local");
        assert!(s.is_open(at("2028-12-24T08:00:00Z")), "the recurring custom hours open that Sunday at 09:00");
    }

    #[test]
    fn exceptions_over_a_long_closure_push_the_opening_out() {
        let closed: Vec<Value> = (21..=31)
            .map(|day| json!({"id": day.to_string(), "exception_date": format!("2026-12-{day}"), "exception_type": "closed"}))
            .chain((1..=8).map(|day| json!({"id": day.to_string(), "exception_date": format!("2027-01-0{day}"), "exception_type": "closed"})))
            .collect();
        let s = schedule("Europe/Paris", &NINE_TO_FIVE_WEEKDAYS, Value::Array(closed));
        assert_eq!(opening(&s, "2026-12-19T10:00:00Z"), Some("2027-01-11T09:00:00+01:00".into()));
    }

    #[test]
    fn no_intervals_never_opens() {
        let s = schedule("Europe/Paris", &[], json!([]));
        assert!(!s.is_open(at("2026-12-14T10:00:00Z")));
        assert_eq!(opening(&s, "2026-12-14T10:00:00Z"), None);
        let past_only = schedule(
            "Europe/Paris",
            &[],
            json!([{"id": "1", "exception_date": "2020-01-06", "exception_type": "custom_hours",
                    "time_intervals": [{"start_minute": 540, "end_minute": 600}]}]),
        );
        assert_eq!(opening(&past_only, "2026-12-14T10:00:00Z"), None, "a one-off opening in the past");
        let zero_length = schedule("UTC", &[(540, 540)], json!([]));
        assert_eq!(opening(&zero_length, "2026-12-14T10:00:00Z"), None);
    }

    #[test]
    fn twenty_four_seven_is_always_open_but_for_exceptions() {
        let raw: OfficeHoursSchedule = serde_json::from_value(
            json!({"id": "9", "name": "Always", "time_zone_name": "Asia/Tokyo", "twenty_four_seven": true}),
        )
        .unwrap();
        let closed_day: Vec<OfficeHoursException> =
            serde_json::from_value(json!([{"id": "1", "exception_date": "2027-01-01", "exception_type": "closed"}]))
                .unwrap();
        let s = Schedule::from_intercom(&raw, &closed_day).unwrap();
        assert!(s.is_open(at("2026-12-19T03:00:00Z")), "a Saturday");
        assert!(!s.is_open(at("2026-12-31T15:00:00Z")), "00:00 on 2027-01-01 in Tokyo");
        assert_eq!(opening(&s, "2026-12-31T15:00:00Z"), Some("2027-01-02T00:00:00+09:00".into()));
    }

    #[test]
    fn schedules_that_cannot_be_evaluated_say_why() {
        let raw = |v: Value| -> OfficeHoursSchedule { serde_json::from_value(v).unwrap() };
        let exceptions = |v: Value| -> Vec<OfficeHoursException> { serde_json::from_value(v).unwrap() };
        let check =
            |schedule: Value, exc: Value| Schedule::from_intercom(&raw(schedule), &exceptions(exc)).unwrap_err();
        assert_eq!(
            check(json!({"id": "1", "name": "X"}), json!([])),
            ScheduleError::MissingTimeZone { schedule: "X".into() }
        );
        let unknown = check(json!({"id": "1", "name": "X", "time_zone_name": "Mars/Olympus"}), json!([]));
        assert_eq!(
            unknown.to_string(),
            "office hours schedule \"X\" is in time zone \"Mars/Olympus\", which this release's time zone database lacks"
        );
        let zone = "Europe/Paris";
        for (start, end) in [(-15, 60), (10_095, 10_200), (0, 20_175), (540, 10_080 + 600)] {
            let e = check(
                json!({"id": "1", "name": "X", "time_zone_name": zone,
                       "time_intervals": [{"start_minute": start, "end_minute": end}]}),
                json!([]),
            );
            assert_eq!(e, ScheduleError::IntervalOutOfRange { schedule: "X".into(), start, end }, "{start}..{end}");
        }
        let ok = json!({"id": "1", "name": "X", "time_zone_name": zone});
        assert!(matches!(
            check(ok.clone(), json!([{"id": "1", "exception_date": "25/12/2026", "exception_type": "closed"}])),
            ScheduleError::InvalidExceptionDate { .. }
        ));
        assert!(matches!(
            check(
                ok.clone(),
                json!([{"id": "1", "exception_date": "2026-12-24", "exception_type": "custom_hours",
                        "time_intervals": [{"start_minute": 540, "end_minute": 1500}]}])
            ),
            ScheduleError::ExceptionIntervalOutOfRange { start: 540, end: 1500, .. }
        ));
        assert!(matches!(
            check(ok, json!([{"id": "1", "exception_date": "2026-12-24", "exception_type": "half_day"}])),
            ScheduleError::UnknownExceptionType { .. }
        ));
    }

    #[test]
    fn labels_for_the_customer() {
        let s = schedule("Europe/Paris", &NINE_TO_FIVE_WEEKDAYS, json!([]));
        let saturday = at("2026-12-19T10:00:00Z");
        let monday = s.next_opening(saturday).unwrap();
        assert_eq!(local_label(&monday, saturday), "Monday at 09:00 (Europe/Paris)");
        assert_eq!(rfc3339(&monday), "2026-12-21T09:00:00+01:00");
        let weeks_ahead = at("2027-01-11T08:00:00Z").to_zoned_datetime(TimeZone::get("Europe/Paris").unwrap());
        assert_eq!(local_label(&weeks_ahead, saturday), "Monday 11 January at 09:00 (Europe/Paris)");
    }

    #[test]
    fn office_hours_map_parses_pairs_and_a_default() {
        let map = OfficeHoursMap::parse(Some(" Billing = Billing hours , *=Standard Support Hours,Legal=Legal hours"))
            .unwrap();
        assert_eq!(map.schedule_for("Billing"), Some("Billing hours"));
        assert_eq!(map.schedule_for(" billing "), Some("Billing hours"), "as Intercom's team lookup matches");
        assert_eq!(map.schedule_for("Legal"), Some("Legal hours"));
        assert_eq!(map.schedule_for("Support"), Some("Standard Support Hours"));
        let none = OfficeHoursMap::from_lookup(|_| None).unwrap();
        assert!(none.is_empty());
        assert_eq!(none.schedule_for("Support"), None, "no entry: always open");
        let only = OfficeHoursMap::parse(Some("Billing=Billing hours")).unwrap();
        assert_eq!(only.schedule_for("Support"), None);
    }

    #[test]
    fn office_hours_map_errors_name_the_variable_and_the_entry() {
        for bad in ["Billing", "=Billing hours", "Billing=", "Billing=a=b"] {
            let e = OfficeHoursMap::parse(Some(&format!("*=Support hours,{bad}"))).unwrap_err();
            assert_eq!(e, OfficeHoursConfigError::Malformed { entry: bad.into() });
            assert!(e.to_string().starts_with(&format!("OFFICE_HOURS entry {bad:?} is not Team name=Schedule name")));
        }
        let twice = OfficeHoursMap::parse(Some("Billing=a,billing=b")).unwrap_err();
        assert_eq!(
            twice.to_string(),
            "OFFICE_HOURS names the team \"billing\" more than once; keep one entry per team"
        );
        assert!(OfficeHoursMap::parse(Some("*=a,*=b")).is_err());
        let looked_up = OfficeHoursMap::from_lookup(|name| (name == "OFFICE_HOURS").then(|| "nope".to_owned()));
        assert_eq!(looked_up.unwrap_err(), OfficeHoursConfigError::Malformed { entry: "nope".into() });
    }

    #[test]
    fn schedules_are_found_by_name_as_teams_are() {
        let list: Vec<OfficeHoursSchedule> = serde_json::from_value(json!([
            {"id": "1", "name": "Standard Support Hours"}, {"id": "2", "name": "Billing hours"}
        ]))
        .unwrap();
        assert_eq!(find_schedule(&list, "billing HOURS ").map(|s| s.id.as_str()), Some("2"));
        assert_eq!(find_schedule(&list, "Weekend"), None);
    }
}
