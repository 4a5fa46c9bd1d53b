//! Intercom's clock, read from the `Date` header of its answers: office hours are judged by the helpdesk's time,
//! not the container's (and a test stack's fake Intercom can stand on a Saturday).

use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use reqwest::header::{DATE, HeaderMap};

/// The latest `Date` an answer carried, and when it arrived.
#[derive(Debug, Default)]
pub(super) struct IntercomClock {
    seen: Mutex<Option<(SystemTime, Instant)>>,
}

impl IntercomClock {
    /// Keeps the answer's `Date`, if it has a readable one; an answer without one leaves the last one in place.
    pub(super) fn note(&self, headers: &HeaderMap) {
        if let Some(date) = date_header(headers) {
            *self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((date, Instant::now()));
        }
    }

    /// The latest `Date` plus the time since that answer arrived; `None` before one came.
    pub(super) fn now(&self) -> Option<SystemTime> {
        let seen = *self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.map(|(date, at)| date + at.elapsed())
    }
}

/// An HTTP date (`Sun, 06 Dec 2026 21:30:27 GMT`, or the obsolete forms HTTP still allows).
fn date_header(headers: &HeaderMap) -> Option<SystemTime> {
    let value = headers.get(DATE)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn with_date(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DATE, value.parse().unwrap());
        headers
    }

    #[test]
    fn reads_an_http_date() {
        let saturday = UNIX_EPOCH + Duration::from_secs(1_797_033_600); // 2026-12-12T00:00:00Z
        assert_eq!(date_header(&with_date("Sat, 12 Dec 2026 00:00:00 GMT")), Some(saturday));
        assert_eq!(date_header(&with_date("Saturday, 12-Dec-26 00:00:00 GMT")), Some(saturday), "RFC 850 form");
        assert_eq!(date_header(&with_date("yesterday")), None);
        assert_eq!(date_header(&HeaderMap::new()), None);
    }

    #[test]
    fn keeps_the_latest_readable_date_and_lets_it_tick() {
        let clock = IntercomClock::default();
        assert_eq!(clock.now(), None, "no answer yet");
        clock.note(&with_date("Sat, 12 Dec 2026 00:00:00 GMT"));
        let first = clock.now().unwrap();
        assert!(first >= UNIX_EPOCH + Duration::from_secs(1_797_033_600));
        assert!(first < UNIX_EPOCH + Duration::from_secs(1_797_033_660), "{first:?}");
        clock.note(&with_date("not a date"));
        clock.note(&HeaderMap::new());
        assert!(clock.now().unwrap() >= first, "an answer without a Date keeps the last one");
        clock.note(&with_date("Mon, 14 Dec 2026 09:00:00 GMT"));
        let later = clock.now().unwrap().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!((1_797_238_800..1_797_238_860).contains(&later), "{later}");
    }

    #[tokio::test]
    async fn the_client_learns_intercoms_now_from_any_answer() {
        use super::super::stub_server::{Answer, serve};
        let stub = serve(&[
            (
                "/office_hours_schedules",
                Answer::json(200, r#"{"data":[]}"#).with_header("Date: Sat, 12 Dec 2026 00:00:00 GMT"),
            ),
            ("/teams/1/metrics", Answer::json(403, "{}").with_header("Date: Mon, 14 Dec 2026 09:00:00 GMT")),
            ("/teams/2/metrics", Answer::json(200, r#"{"data":[]}"#)),
        ])
        .await;
        let c = &stub.client;
        assert_eq!(c.intercom_now(), None, "no answer yet");
        c.office_hours_schedules().await.unwrap();
        let saturday = c.intercom_now().unwrap().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!((1_797_033_600..1_797_033_660).contains(&saturday), "{saturday}");
        assert!(c.team_metrics("1").await.is_err());
        let monday = c.intercom_now().unwrap().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!((1_797_238_800..1_797_238_860).contains(&monday), "an error answer tells the time too: {monday}");
        c.team_metrics("2").await.unwrap();
        // The stub's plain answer has no Date: the last one stays (real Intercom always sends one).
        assert!(c.intercom_now().unwrap().duration_since(UNIX_EPOCH).unwrap().as_secs() >= monday);
    }
}
