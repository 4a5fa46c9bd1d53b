//! Fault injection: rate limits, 5xx, delays and "processed, then the answer was lost".
//!
//! A [`Fault`] applies to the next `times` requests whose method and path match it; the
//! first matching fault (in injection order) is used and consumed by each request.
//!
//! Over HTTP (`POST /__fake/faults`) a fault is JSON:
//! `{"kind": "rate_limit"|"server_error"|"delay"|"process_then_fail", "method": "POST",
//!   "path": "/conversations/*/reply", "times": 2, "status": 503, "delay_ms": 1500,
//!   "reset_after_secs": 10}` — `method` (default any), `path` (default any), `times`
//! (default 1), `status` (5xx, for `server_error`, default 500, and `process_then_fail`,
//! default 504), `delay_ms` (for `delay`), `reset_after_secs` (for `rate_limit`, default 10).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Which paths a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// Every path.
    Any,
    /// Paths starting with this string (`/contacts` matches `/contacts/search`).
    Prefix(String),
    /// Whole-path pattern: `*` matches exactly one segment, a final `**` any rest
    /// (`/conversations/*/reply`, `/contacts/**`).
    Pattern(String),
}

impl PathMatch {
    /// `""` → any; a string containing `*` → pattern; otherwise → prefix.
    pub fn parse(s: &str) -> Self {
        if s.is_empty() || s == "**" {
            PathMatch::Any
        } else if s.contains('*') {
            PathMatch::Pattern(s.to_owned())
        } else {
            PathMatch::Prefix(s.to_owned())
        }
    }

    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Any => true,
            PathMatch::Prefix(prefix) => path.starts_with(prefix.as_str()),
            PathMatch::Pattern(pattern) => {
                let mut want = pattern.trim_end_matches('/').split('/');
                let mut got = path.trim_end_matches('/').split('/');
                loop {
                    match (want.next(), got.next()) {
                        (Some("**"), _) => return true,
                        (None, None) => return true,
                        (Some("*"), Some(_)) => {}
                        (Some(w), Some(g)) if w == g => {}
                        _ => return false,
                    }
                }
            }
        }
    }

    fn as_str(&self) -> &str {
        match self {
            PathMatch::Any => "",
            PathMatch::Prefix(s) | PathMatch::Pattern(s) => s,
        }
    }
}

/// What happens to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 `rate_limit_exceeded`, `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset` = now +
    /// `reset_after` (whole seconds). The request is not processed.
    RateLimit { reset_after: Duration },
    /// This 5xx status with an `error.list` body; the request is not processed.
    ServerError { status: u16 },
    /// Sleep this long, then answer normally.
    Delay { delay: Duration },
    /// Process the request (writes happen), then answer this 5xx instead of the result:
    /// a POST that reached Intercom but whose answer was lost.
    ProcessThenFail { status: u16 },
}

/// A fault for the next `times` requests that match `method` and `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Upper-case HTTP method, `None` = any.
    pub method: Option<String>,
    pub path: PathMatch,
    pub kind: FaultKind,
    pub times: usize,
    /// Only requests whose token belongs to this workspace (`None`: any request).
    pub workspace: Option<String>,
}

impl Fault {
    /// `method`: `"POST"`, … or `"*"`/`""` for any; `path`: see [`PathMatch::parse`].
    pub fn new(kind: FaultKind, method: &str, path: &str) -> Self {
        let method = match method.trim() {
            "" | "*" => None,
            m => Some(m.to_ascii_uppercase()),
        };
        Self { method, path: PathMatch::parse(path), kind, times: 1, workspace: None }
    }

    /// 429 for the next matching request (reset 10 s from then; see [`Fault::reset_after`]).
    pub fn rate_limit(method: &str, path: &str) -> Self {
        Self::new(FaultKind::RateLimit { reset_after: Duration::from_secs(10) }, method, path)
    }

    /// `status` (500, 502, 503, …) for the next matching request, without processing it.
    pub fn server_error(status: u16, method: &str, path: &str) -> Self {
        Self::new(FaultKind::ServerError { status }, method, path)
    }

    /// Delays the next matching request by `delay`.
    pub fn delay(delay: Duration, method: &str, path: &str) -> Self {
        Self::new(FaultKind::Delay { delay }, method, path)
    }

    /// Processes the next matching request, then answers `status` (500, 504, …).
    pub fn process_then_fail(status: u16, method: &str, path: &str) -> Self {
        Self::new(FaultKind::ProcessThenFail { status }, method, path)
    }

    /// Applies to the next `n` matching requests instead of 1.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    /// Only for requests of this workspace (its `id_code`), when the fake serves several.
    pub fn in_workspace(mut self, workspace_id: &str) -> Self {
        self.workspace = Some(workspace_id.to_owned());
        self
    }

    /// For a rate-limit fault: how far in the future `X-RateLimit-Reset` points.
    pub fn reset_after(mut self, after: Duration) -> Self {
        if let FaultKind::RateLimit { reset_after } = &mut self.kind {
            *reset_after = after;
        }
        self
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)) && self.path.matches(path)
    }

    /// Whether it applies to this request of this workspace (`None`: the token matched none).
    pub fn matches_in(&self, method: &str, path: &str, workspace: Option<&str>) -> bool {
        self.matches(method, path) && self.workspace.as_deref().is_none_or(|w| Some(w) == workspace)
    }

    /// The JSON form accepted by `POST /__fake/faults` (with the remaining `times`).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "method": self.method.clone().unwrap_or_else(|| "*".to_owned()),
            "path": self.path.as_str(),
            "times": self.times,
        });
        if let Some(workspace) = &self.workspace {
            v["workspace"] = json!(workspace);
        }
        match &self.kind {
            FaultKind::RateLimit { reset_after } => {
                v["kind"] = json!("rate_limit");
                v["reset_after_secs"] = json!(reset_after.as_secs());
            }
            FaultKind::ServerError { status } => {
                v["kind"] = json!("server_error");
                v["status"] = json!(status);
            }
            FaultKind::Delay { delay } => {
                v["kind"] = json!("delay");
                v["delay_ms"] = json!(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
            }
            FaultKind::ProcessThenFail { status } => {
                v["kind"] = json!("process_then_fail");
                v["status"] = json!(status);
            }
        }
        v
    }
}

/// The JSON body of `POST /__fake/faults`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub times: Option<usize>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub reset_after_secs: Option<u64>,
    /// Only requests of this workspace.
    #[serde(default)]
    pub workspace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault: {0}")]
pub struct InvalidFault(pub String);

impl TryFrom<FaultSpec> for Fault {
    type Error = InvalidFault;

    fn try_from(spec: FaultSpec) -> Result<Self, Self::Error> {
        let five_xx = |default: u16| {
            let status = spec.status.unwrap_or(default);
            if (500..600).contains(&status) {
                Ok(status)
            } else {
                Err(InvalidFault(format!("status must be 5xx, got {status}")))
            }
        };
        let kind = match spec.kind.as_str() {
            "rate_limit" => {
                FaultKind::RateLimit { reset_after: Duration::from_secs(spec.reset_after_secs.unwrap_or(10)) }
            }
            "server_error" => FaultKind::ServerError { status: five_xx(500)? },
            "delay" => FaultKind::Delay {
                delay: Duration::from_millis(
                    spec.delay_ms.ok_or_else(|| InvalidFault("delay needs delay_ms".to_owned()))?,
                ),
            },
            "process_then_fail" => FaultKind::ProcessThenFail { status: five_xx(504)? },
            other => {
                return Err(InvalidFault(format!(
                    "unknown kind {other:?} (rate_limit, server_error, delay, process_then_fail)"
                )));
            }
        };
        let mut fault = Fault::new(kind, spec.method.as_deref().unwrap_or("*"), spec.path.as_deref().unwrap_or(""));
        fault.times = spec.times.unwrap_or(1);
        fault.workspace = spec.workspace;
        Ok(fault)
    }
}

/// Injected faults, in injection order.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    faults: Vec<Fault>,
}

impl FaultBook {
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn pending(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    /// Consumes one use of the first fault matching this request.
    pub(crate) fn take(&mut self, method: &str, path: &str, workspace: Option<&str>) -> Option<FaultKind> {
        let idx = self.faults.iter().position(|f| f.matches_in(method, path, workspace))?;
        let fault = &mut self.faults[idx];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.faults.remove(idx);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_prefixes() {
        let p = PathMatch::parse("/conversations/*/reply");
        assert!(p.matches("/conversations/123/reply"));
        assert!(!p.matches("/conversations/123/parts"));
        assert!(!p.matches("/conversations/123/reply/x"));
        assert!(PathMatch::parse("/contacts/**").matches("/contacts/abc/archive"));
        assert!(PathMatch::parse("/contacts").matches("/contacts/search"));
        assert!(PathMatch::parse("").matches("/anything"));
    }

    #[test]
    fn faults_are_consumed_in_order() {
        let mut book = FaultBook::default();
        book.push(Fault::server_error(503, "post", "/contacts").times(2));
        book.push(Fault::rate_limit("*", ""));
        assert_eq!(book.take("GET", "/me", None), Some(FaultKind::RateLimit { reset_after: Duration::from_secs(10) }));
        assert_eq!(book.take("POST", "/contacts", None), Some(FaultKind::ServerError { status: 503 }));
        assert_eq!(book.take("POST", "/contacts", None), Some(FaultKind::ServerError { status: 503 }));
        assert_eq!(book.take("POST", "/contacts", None), None);
        book.push(Fault::server_error(502, "GET", "/me").in_workspace("fkws0002"));
        assert_eq!(book.take("GET", "/me", Some("fkws0001")), None, "another workspace's fault");
        assert_eq!(book.take("GET", "/me", Some("fkws0002")), Some(FaultKind::ServerError { status: 502 }));
    }

    #[test]
    fn spec_json_round_trips() {
        let spec: FaultSpec = serde_json::from_value(json!({
            "kind": "process_then_fail", "method": "POST", "path": "/conversations/*/reply", "times": 2
        }))
        .expect("spec");
        let fault = Fault::try_from(spec).expect("fault");
        assert_eq!(fault.kind, FaultKind::ProcessThenFail { status: 504 });
        assert_eq!(fault.to_json()["path"], "/conversations/*/reply");
        let bad: FaultSpec = serde_json::from_value(json!({"kind": "server_error", "status": 404})).expect("spec");
        assert!(Fault::try_from(bad).is_err());
    }
}
