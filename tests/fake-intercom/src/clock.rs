//! The fake's clock: real time, or a time a test sets (`POST /__fake/clock`), which every time the fake
//! reports follows — `created_at` / `updated_at` of what is made or changed, webhooks' times, the
//! `X-RateLimit-Reset` and `Date` headers of every answer.

use std::sync::{Arc, Mutex};

use crate::ids::now_unix;
use crate::lock;

/// Shared by every workspace of a fake (cheap to clone; clones share the time).
#[derive(Clone, Default)]
pub struct Clock {
    /// `Some(t)`: stopped at Unix second `t`; `None`: real time.
    set: Arc<Mutex<Option<i64>>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("set", &*lock(&self.set)).finish()
    }
}

/// Unix seconds from an RFC 3339 time (`2026-03-07T10:00:00Z`, `2026-03-07T11:00:00+01:00`).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// RFC 3339 in UTC (`2026-03-07T10:00:00Z`).
pub fn format_rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        lock(&self.set).unwrap_or_else(now_unix)
    }

    /// `Some(t)`: the clock stands at `t` until set again or advanced; `None`: real time again.
    pub fn set(&self, at: Option<i64>) {
        *lock(&self.set) = at;
    }

    /// Moves a set clock forward (a real-time one is set to now + `secs`).
    pub fn advance(&self, secs: i64) {
        let mut set = lock(&self.set);
        *set = Some(set.unwrap_or_else(now_unix).saturating_add(secs));
    }

    /// Whether a test set it.
    pub fn is_set(&self) -> bool {
        lock(&self.set).is_some()
    }

    /// How far the fake's time is from real time, in seconds (0 when not set).
    pub fn offset(&self) -> i64 {
        lock(&self.set).map_or(0, |t| t - now_unix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_stands_still_until_advanced() {
        let clock = Clock::default();
        assert!((clock.now() - now_unix()).abs() <= 1);
        clock.set(Some(1_772_877_600));
        let shared = clock.clone();
        assert_eq!(shared.now(), 1_772_877_600);
        clock.advance(90);
        assert_eq!(shared.now(), 1_772_877_690);
        clock.set(None);
        assert!(!shared.is_set());
        assert_eq!(parse_rfc3339("2026-03-07T10:00:00Z"), Some(1_772_877_600));
        assert_eq!(parse_rfc3339("2026-03-07T11:00:00+01:00"), Some(1_772_877_600));
        assert_eq!(parse_rfc3339("Saturday"), None);
        assert_eq!(format_rfc3339(1_772_877_600), "2026-03-07T10:00:00Z");
    }
}
