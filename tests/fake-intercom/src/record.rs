//! Recorded API requests and round-trip counting.

use std::time::Instant;

use serde_json::{Value, json};

/// One API request the fake answered (`/__fake/…` requests are not recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The `request_id` of the answer (also in its `X-Request-Id` header).
    pub request_id: String,
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Request headers, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; `None` if empty or not JSON (see `raw_body`).
    pub body: Option<Value>,
    pub raw_body: String,
    /// The status the fake answered.
    pub status: u16,
    /// The workspace the token belonged to, when the fake serves several (`None` with one, or when the
    /// token matched none).
    pub workspace_id: Option<String>,
    /// When the fake started handling the request.
    pub start: Instant,
    /// When the fake finished its answer (after any latency or delay fault).
    pub end: Instant,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The bearer token the request carried.
    pub fn bearer_token(&self) -> Option<&str> {
        self.header("authorization").and_then(|h| h.strip_prefix("Bearer "))
    }

    /// `true` if method and path match (see [`crate::PathMatch::parse`] for `path`).
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && crate::PathMatch::parse(path).matches(&self.path)
    }

    /// JSON for `GET /__fake/requests`; instants become milliseconds since `origin`.
    pub fn to_json(&self, origin: Instant) -> Value {
        let ms = |t: Instant| t.saturating_duration_since(origin).as_secs_f64() * 1000.0;
        let mut v = json!({
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "body": self.body,
            "raw_body": self.raw_body,
            "status": self.status,
            "started_ms": ms(self.start),
            "ended_ms": ms(self.end),
        });
        if let Some(workspace) = &self.workspace_id {
            v["workspaceId"] = json!(workspace);
        }
        v
    }
}

/// How many sequential "waves" of requests happened: requests whose `[start, end]`
/// intervals overlap (directly or through others) form one wave. A client that makes its
/// calls one after another gets one wave per call; a client that issues them concurrently
/// gets one wave in total.
///
/// The fake answers in microseconds, so concurrent requests may not overlap by accident:
/// give the server some latency (`FakeIntercomBuilder::latency`, e.g. 50 ms) when counting.
pub fn sequential_round_trips(requests: &[RecordedRequest]) -> usize {
    let mut spans: Vec<(Instant, Instant)> = requests.iter().map(|r| (r.start, r.end)).collect();
    spans.sort_by_key(|s| s.0);
    let mut waves = 0;
    let mut wave_end: Option<Instant> = None;
    for (start, end) in spans {
        match wave_end {
            Some(e) if start <= e => wave_end = Some(e.max(end)),
            _ => {
                waves += 1;
                wave_end = Some(end);
            }
        }
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn req(origin: Instant, start_ms: u64, end_ms: u64) -> RecordedRequest {
        RecordedRequest {
            request_id: String::new(),
            method: "GET".into(),
            path: "/me".into(),
            query: None,
            headers: vec![],
            body: None,
            raw_body: String::new(),
            status: 200,
            workspace_id: None,
            start: origin + Duration::from_millis(start_ms),
            end: origin + Duration::from_millis(end_ms),
        }
    }

    #[test]
    fn waves_merge_overlapping_intervals() {
        let o = Instant::now();
        assert_eq!(sequential_round_trips(&[]), 0);
        // [0,10] [5,20] [15,30] chain into one wave; [40,50] and [60,70] are sequential.
        let reqs = [req(o, 60, 70), req(o, 0, 10), req(o, 15, 30), req(o, 5, 20), req(o, 40, 50)];
        assert_eq!(sequential_round_trips(&reqs), 3);
    }
}
