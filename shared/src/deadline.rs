//! The invocation deadline, carried through the Intercom client without threading it through every call.
//!
//! `http::serve` scopes each invocation with the Lambda context's deadline; the client's retries and timeouts
//! read it so a retry never outlives the invocation.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Used outside an invocation (tests, tools): generous, but still bounded.
const DEFAULT_BUDGET: Duration = Duration::from_secs(30);

/// Runs `fut` with `deadline` as the limit for every Intercom call made inside it.
pub async fn scope<F: Future>(deadline: Instant, fut: F) -> F::Output {
    DEADLINE.scope(deadline, fut).await
}

/// Anything below this (2001-09-09 in Unix milliseconds) cannot be an epoch deadline.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// Converts the Lambda context's deadline (milliseconds since the Unix epoch) into an `Instant`.
pub fn from_epoch_millis(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    match deadline_ms.checked_sub(now_ms) {
        // No context (tests, tools send 0): fall back to the default budget.
        _ if deadline_ms == 0 => Instant::now() + DEFAULT_BUDGET,
        // `cargo lambda watch` sends the timeout itself (600000), not a point in time.
        _ if deadline_ms < EPOCH_MS_FLOOR => Instant::now() + Duration::from_millis(deadline_ms),
        Some(left) => Instant::now() + Duration::from_millis(left),
        None => Instant::now(),
    }
}

/// The deadline of the current invocation, or now + 30 s outside one.
pub fn current() -> Instant {
    DEADLINE.try_with(|d| *d).unwrap_or_else(|_| Instant::now() + DEFAULT_BUDGET)
}

/// Time left before the deadline, zero once it has passed.
pub fn remaining() -> Duration {
    current().saturating_duration_since(Instant::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scope_sets_and_unsets_the_deadline() {
        let soon = Instant::now() + Duration::from_millis(500);
        let inside = scope(soon, async { current() }).await;
        assert_eq!(inside, soon);
        assert!(remaining() > Duration::from_secs(20));
    }

    #[test]
    fn epoch_deadlines_convert() {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let left = from_epoch_millis(now_ms + 2_000).saturating_duration_since(Instant::now());
        assert!(left > Duration::from_millis(1_500) && left <= Duration::from_millis(2_000));
        assert!(from_epoch_millis(now_ms - 1_000) <= Instant::now());
        assert!(from_epoch_millis(0) > Instant::now() + Duration::from_secs(20));
        let relative = from_epoch_millis(600_000).saturating_duration_since(Instant::now());
        assert!(relative > Duration::from_secs(590) && relative <= Duration::from_secs(600), "{relative:?}");
    }
}
