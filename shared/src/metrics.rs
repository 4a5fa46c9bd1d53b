//! Metrics as CloudWatch Embedded Metric Format (EMF): what an invocation counted, printed as JSON log lines when
//! it ends. CloudWatch Logs turns them into metrics; nothing calls CloudWatch.
//!
//! An edge wraps each invocation in [`invocation`]; code below it calls the typed helpers ([`escalation`],
//! [`intercom_call`], …), which are no-ops outside an invocation (tools, most tests). Like [`crate::deadline`], the
//! recorder is task-local: nothing is threaded through the calls, and parallel invocations (tests) do not mix.
//!
//! One document carries every metric of the invocation. EMF gives a document one value per dimension key, so a
//! second value of one (an Intercom 429 then a 2xx, two escalation reasons) moves the metrics that need it to one
//! more line; most invocations print one line, one that recorded nothing prints none.
//!
//! Dimensions, kept few: every metric is published without `Function` (totals, for alarms), with `Function` (the
//! function's crate name, e.g. `escalate`), and with `Workspace` when `METRICS_WORKSPACE_DIMENSION=true` (hub
//! mode) — each joined by the metric's own: `Reason`, `StatusClass`, `Topic` + `Result`.
//! Namespace: `METRICS_NAMESPACE` (default [`DEFAULT_NAMESPACE`]; template.yaml gives `IntercomAiAgent/<stack>`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

pub const DEFAULT_NAMESPACE: &str = "IntercomAiAgent";
pub const NAMESPACE_VAR: &str = "METRICS_NAMESPACE";
pub const WORKSPACE_DIMENSION_VAR: &str = "METRICS_WORKSPACE_DIMENSION";

/// EMF: at most 100 values in one metric's array.
const MAX_VALUES_PER_METRIC: usize = 100;
/// Dimension values we did not choose ourselves (topics, workspace ids) are cut to a small alphabet and length:
/// every distinct value is a new custom metric, billed monthly.
const MAX_FREE_DIMENSION_CHARS: usize = 64;

/// Metric names, as the dashboard and alarms in template.yaml name them.
pub mod names {
    pub const ESCALATIONS: &str = "Escalations";
    pub const HUMAN_TOOK_OVER: &str = "HumanTookOver";
    pub const RETURNED_TO_AI: &str = "ReturnedToAi";
    pub const REPLIES_REFUSED_BY_GATE: &str = "RepliesRefusedByGate";
    pub const DRAFTS: &str = "Drafts";
    pub const IDEMPOTENT_REPLAYS: &str = "IdempotentReplays";
    pub const RELAY_DELIVERED: &str = "RelayDelivered";
    pub const RELAY_RETRIED: &str = "RelayRetried";
    pub const RELAY_DEAD_LETTERED: &str = "RelayDeadLettered";
    pub const RELAY_LAG: &str = "RelayLag";
    pub const WEBHOOK_DELIVERIES: &str = "WebhookDeliveries";
    pub const INTERCOM_CALLS: &str = "IntercomCalls";
    pub const INTERCOM_LATENCY: &str = "IntercomLatency";
}

/// Dimension keys.
pub mod dimensions {
    pub const FUNCTION: &str = "Function";
    pub const WORKSPACE: &str = "Workspace";
    pub const REASON: &str = "Reason";
    pub const STATUS_CLASS: &str = "StatusClass";
    pub const TOPIC: &str = "Topic";
    pub const RESULT: &str = "Result";
}

/// Where the metrics go and how they are cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    pub namespace: String,
    /// Adds the `Workspace` dimension (hub mode: one deployment, many workspaces).
    pub workspace_dimension: bool,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings { namespace: DEFAULT_NAMESPACE.into(), workspace_dimension: false }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsSettingsError {
    #[error(
        "METRICS_NAMESPACE must be 1-255 characters of letters, digits and . - _ / # : or space, not starting with AWS/"
    )]
    Namespace,
    #[error("METRICS_WORKSPACE_DIMENSION must be true or false")]
    WorkspaceDimension,
}

impl MetricsSettings {
    pub fn from_env() -> Result<Self, MetricsSettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MetricsSettingsError> {
        let namespace = match lookup(NAMESPACE_VAR).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            None => DEFAULT_NAMESPACE.to_owned(),
            Some(n) if valid_namespace(&n) => n,
            Some(_) => return Err(MetricsSettingsError::Namespace),
        };
        let workspace_dimension = match lookup(WORKSPACE_DIMENSION_VAR).map(|v| v.trim().to_ascii_lowercase()) {
            None => false,
            Some(v) if v.is_empty() || v == "false" => false,
            Some(v) if v == "true" => true,
            Some(_) => return Err(MetricsSettingsError::WorkspaceDimension),
        };
        Ok(MetricsSettings { namespace, workspace_dimension })
    }
}

/// CloudWatch's namespace rule; `AWS/` is reserved for AWS's own.
fn valid_namespace(namespace: &str) -> bool {
    (1..=255).contains(&namespace.len())
        && !namespace.starts_with("AWS/")
        && namespace.chars().any(|c| !c.is_whitespace())
        && namespace.chars().all(|c| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c))
}

/// The settings of this process, read once. An invalid value is logged and the defaults are used: metrics must
/// never fail an invocation (template.yaml's parameter patterns keep bad values from being deployed).
fn process_settings() -> &'static MetricsSettings {
    static SETTINGS: OnceLock<MetricsSettings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        MetricsSettings::from_env().unwrap_or_else(|e| {
            tracing::error!(error = %e, "metrics settings refused; using the defaults");
            MetricsSettings::default()
        })
    })
}

// ---- the per-invocation recorder -----------------------------------------------------------------------------

tokio::task_local! {
    static RECORDER: RefCell<Recorder>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric under one set of its own dimension values (`Function`/`Workspace` are the invocation's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SeriesKey {
    name: &'static str,
    dimensions: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone)]
enum Series {
    /// Summed over the invocation: one value in the document.
    Count(u64),
    /// Every observation (EMF arrays of up to 100 values).
    Samples(Unit, Vec<f64>),
}

#[derive(Debug)]
struct Recorder {
    function: &'static str,
    workspace: Workspace,
    series: BTreeMap<SeriesKey, Series>,
}

/// Which workspace the invocation served: a batch may span several, and then no one of them is right.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Workspace {
    Unknown,
    One(String),
    Several,
}

impl Recorder {
    fn new(function: &'static str) -> Self {
        Recorder { function, workspace: Workspace::Unknown, series: BTreeMap::new() }
    }

    fn count(&mut self, name: &'static str, dimensions: Vec<(&'static str, String)>) {
        let entry = self.series.entry(SeriesKey { name, dimensions }).or_insert(Series::Count(0));
        if let Series::Count(n) = entry {
            *n += 1;
        }
    }

    fn sample(&mut self, name: &'static str, unit: Unit, value: f64) {
        let entry =
            self.series.entry(SeriesKey { name, dimensions: Vec::new() }).or_insert(Series::Samples(unit, Vec::new()));
        if let Series::Samples(_, values) = entry {
            values.push(value);
        }
    }
}

fn with_recorder(f: impl FnOnce(&mut Recorder)) {
    // Outside an invocation there is nothing to record into: tools and unit tests of other modules.
    let _ = RECORDER.try_with(|recorder| f(&mut recorder.borrow_mut()));
}

/// Runs one invocation and prints its metrics to stdout (one EMF document a line) when it ends.
///
/// ```ignore
/// run(service_fn(|request| metrics::invocation("get-conversation", handler::handle(&app, request)))).await
/// ```
pub async fn invocation<F: Future>(function: &'static str, fut: F) -> F::Output {
    let (output, documents) = capture_with(process_settings(), function, fut).await;
    print(&documents);
    output
}

/// Runs `fut` as one invocation of `function` with the default settings and returns the EMF documents it would
/// print: what tests assert.
pub async fn capture<F: Future>(function: &'static str, fut: F) -> (F::Output, Vec<Value>) {
    capture_with(&MetricsSettings::default(), function, fut).await
}

/// [`capture`] with given settings.
pub async fn capture_with<F: Future>(
    settings: &MetricsSettings,
    function: &'static str,
    fut: F,
) -> (F::Output, Vec<Value>) {
    // Boxed: a handler's future is already near rustc's layout depth limit (128), and this adds a few levels.
    let fut = Box::pin(fut);
    let (output, recorder) = RECORDER
        .scope(RefCell::new(Recorder::new(function)), async {
            let output = fut.await;
            let recorder = RECORDER.with(|r| std::mem::replace(&mut *r.borrow_mut(), Recorder::new(function)));
            (output, recorder)
        })
        .await;
    (output, documents(settings, &recorder, now_millis()))
}

fn print(documents: &[Value]) {
    if !documents.is_empty() {
        let _ = write_lines(&mut std::io::stdout().lock(), documents);
    }
}

/// One write per document: a log line must be a whole document for CloudWatch to read it.
fn write_lines(out: &mut impl Write, documents: &[Value]) -> std::io::Result<()> {
    for document in documents {
        let mut line = document.to_string();
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

// ---- what the product records --------------------------------------------------------------------------------

/// Why a conversation went to a human (`Reason` of `Escalations`). One value for every sensitive category:
/// the category itself is in the logs and the conversation's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationReason {
    LowConfidence,
    HumanRequested,
    SensitiveCategory,
}

impl EscalationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::LowConfidence => "low_confidence",
            EscalationReason::HumanRequested => "human_requested",
            EscalationReason::SensitiveCategory => "sensitive_category",
        }
    }
}

/// What became of one event on its way to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayOutcome {
    /// The agent accepted it.
    Delivered,
    /// Left on the queue for another attempt.
    Retried,
    /// Given up on: it goes (or went) to the dead-letter queue.
    DeadLettered,
}

/// What the webhook answered one delivery (`Result` of `WebhookDeliveries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookResult {
    /// On the relay queue.
    Queued,
    /// Relayed to the agent directly (no queue).
    Relayed,
    Duplicate,
    Ignored,
    Ping,
    /// Missing or wrong `X-Hub-Signature`.
    InvalidSignature,
    /// Signed, but not a delivery we can read.
    Invalid,
    TooLarge,
    /// Secrets, the queue or the agent failed: Intercom redelivers.
    Unavailable,
}

impl WebhookResult {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookResult::Queued => "queued",
            WebhookResult::Relayed => "relayed",
            WebhookResult::Duplicate => "duplicate",
            WebhookResult::Ignored => "ignored",
            WebhookResult::Ping => "ping",
            WebhookResult::InvalidSignature => "invalid_signature",
            WebhookResult::Invalid => "invalid",
            WebhookResult::TooLarge => "too_large",
            WebhookResult::Unavailable => "unavailable",
        }
    }
}

/// An escalation was opened for a human.
pub fn escalation(reason: EscalationReason) {
    with_recorder(|r| r.count(names::ESCALATIONS, vec![(dimensions::REASON, reason.as_str().into())]));
}

/// A teammate took a conversation over from the AI.
pub fn human_took_over() {
    with_recorder(|r| r.count(names::HUMAN_TOOK_OVER, Vec::new()));
}

/// A teammate gave a conversation back to the AI.
pub fn returned_to_ai() {
    with_recorder(|r| r.count(names::RETURNED_TO_AI, Vec::new()));
}

/// The hand-off gate refused a customer-visible reply (a human handles the conversation).
pub fn reply_refused_by_gate() {
    with_recorder(|r| r.count(names::REPLIES_REFUSED_BY_GATE, Vec::new()));
}

/// A reply was left as a draft (a note for a teammate) instead of being sent.
pub fn draft() {
    with_recorder(|r| r.count(names::DRAFTS, Vec::new()));
}

/// A keyed write answered from its first outcome, nothing sent to Intercom.
pub fn idempotent_replay() {
    with_recorder(|r| r.count(names::IDEMPOTENT_REPLAYS, Vec::new()));
}

/// One event's relay outcome.
pub fn relay(outcome: RelayOutcome) {
    let name = match outcome {
        RelayOutcome::Delivered => names::RELAY_DELIVERED,
        RelayOutcome::Retried => names::RELAY_RETRIED,
        RelayOutcome::DeadLettered => names::RELAY_DEAD_LETTERED,
    };
    with_recorder(|r| r.count(name, Vec::new()));
}

/// From Intercom's `created_at` (Unix seconds) to now, when the agent accepted the event.
pub fn relay_lag_since(created_at_unix_seconds: i64) {
    relay_lag(lag_since(created_at_unix_seconds, now_millis()));
}

/// The relay's lag as measured by the caller.
pub fn relay_lag(lag: Duration) {
    with_recorder(|r| r.sample(names::RELAY_LAG, Unit::Milliseconds, millis(lag)));
}

/// Milliseconds to the microsecond: a call to a nearby service takes less than one.
fn millis(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

fn lag_since(created_at_unix_seconds: i64, now_ms: u64) -> Duration {
    let created_ms = u64::try_from(created_at_unix_seconds).unwrap_or(0).saturating_mul(1000);
    // A `created_at` ahead of our clock (skew) is no lag, not a negative one.
    Duration::from_millis(now_ms.saturating_sub(created_ms))
}

/// One webhook delivery and its answer. `topic` is read only from a delivery whose signature was checked:
/// for an unverified one it is ignored (`unverified`), so strangers cannot mint dimension values.
pub fn webhook_delivery(topic: Option<&str>, result: WebhookResult) {
    let topic = match result {
        WebhookResult::InvalidSignature | WebhookResult::TooLarge => "unverified".to_owned(),
        _ => topic.map_or_else(
            || "unknown".to_owned(),
            |t| free_dimension(t, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c)),
        ),
    };
    with_recorder(|r| {
        r.count(
            names::WEBHOOK_DELIVERIES,
            vec![(dimensions::TOPIC, topic), (dimensions::RESULT, result.as_str().into())],
        )
    });
}

/// One HTTP answer from Intercom (each attempt counts) and how long it took.
pub fn intercom_call(status: u16, elapsed: Duration) {
    with_recorder(|r| {
        r.count(names::INTERCOM_CALLS, vec![(dimensions::STATUS_CLASS, status_class(status).into())]);
        r.sample(names::INTERCOM_LATENCY, Unit::Milliseconds, millis(elapsed));
    });
}

/// `2xx`, `3xx`, `4xx`, `5xx`, with `429` apart: throttling is its own alarm.
pub fn status_class(status: u16) -> &'static str {
    match status {
        429 => "429",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// The workspace this invocation serves (hub mode); a dimension only with `METRICS_WORKSPACE_DIMENSION=true`.
/// An invocation that serves two (a relay batch) publishes its metrics without it, in the totals only.
pub fn set_workspace(workspace_id: &str) {
    let id = free_dimension(workspace_id, |c| c.is_ascii_alphanumeric() || "-_".contains(c));
    with_recorder(|r| {
        r.workspace = match std::mem::replace(&mut r.workspace, Workspace::Unknown) {
            Workspace::Unknown => Workspace::One(id),
            Workspace::One(same) if same == id => Workspace::One(same),
            Workspace::One(_) | Workspace::Several => Workspace::Several,
        }
    });
}

/// A value from outside, as a dimension value: short and of a known alphabet, else `other`.
fn free_dimension(value: &str, allowed: impl Fn(char) -> bool) -> String {
    if value.is_empty() || value.len() > MAX_FREE_DIMENSION_CHARS || !value.chars().all(allowed) {
        "other".to_owned()
    } else {
        value.to_owned()
    }
}

// ---- the EMF documents ---------------------------------------------------------------------------------------

/// One metric (or a slice of its samples) waiting for a document.
struct Group<'a> {
    name: &'static str,
    unit: Unit,
    dimensions: &'a [(&'static str, String)],
    value: Value,
}

/// A document being filled: the dimension values it fixed and the metrics it carries.
#[derive(Default)]
struct Draft<'a> {
    values: BTreeMap<&'static str, &'a str>,
    groups: Vec<Group<'a>>,
}

impl<'a> Draft<'a> {
    fn fits(&self, group: &Group<'a>) -> bool {
        self.groups.iter().all(|g| g.name != group.name)
            && group.dimensions.iter().all(|(k, v)| self.values.get(k).is_none_or(|existing| *existing == v))
    }

    fn add(&mut self, group: Group<'a>) {
        for (k, v) in group.dimensions {
            self.values.insert(k, v);
        }
        self.groups.push(group);
    }
}

fn groups(recorder: &Recorder) -> Vec<Group<'_>> {
    let mut groups = Vec::new();
    for (key, series) in &recorder.series {
        match series {
            Series::Count(n) => {
                groups.push(Group { name: key.name, unit: Unit::Count, dimensions: &key.dimensions, value: json!(n) })
            }
            Series::Samples(unit, values) => {
                for chunk in values.chunks(MAX_VALUES_PER_METRIC) {
                    let value = if chunk.len() == 1 { json!(chunk[0]) } else { json!(chunk) };
                    groups.push(Group { name: key.name, unit: *unit, dimensions: &key.dimensions, value });
                }
            }
        }
    }
    groups
}

/// The invocation's metrics as few EMF documents as EMF allows (see the module's documentation).
fn documents(settings: &MetricsSettings, recorder: &Recorder, timestamp_ms: u64) -> Vec<Value> {
    let mut drafts: Vec<Draft> = Vec::new();
    for group in groups(recorder) {
        match drafts.iter_mut().find(|d| d.fits(&group)) {
            Some(draft) => draft.add(group),
            None => {
                let mut draft = Draft::default();
                draft.add(group);
                drafts.push(draft);
            }
        }
    }
    let workspace = match &recorder.workspace {
        Workspace::One(id) if settings.workspace_dimension => Some(id.as_str()),
        _ => None,
    };
    drafts.into_iter().map(|d| document(settings, recorder.function, workspace, d, timestamp_ms)).collect()
}

fn document(
    settings: &MetricsSettings,
    function: &str,
    workspace: Option<&str>,
    draft: Draft,
    timestamp_ms: u64,
) -> Value {
    // Metrics with the same own dimension keys share one directive.
    let mut directives: BTreeMap<Vec<&str>, Vec<Value>> = BTreeMap::new();
    let mut root = Map::new();
    root.insert(dimensions::FUNCTION.into(), function.into());
    if let Some(workspace) = workspace {
        root.insert(dimensions::WORKSPACE.into(), workspace.into());
    }
    for (key, value) in &draft.values {
        root.insert((*key).into(), (*value).into());
    }
    for group in draft.groups {
        let own: Vec<&str> = group.dimensions.iter().map(|(k, _)| *k).collect();
        directives.entry(own).or_default().push(json!({"Name": group.name, "Unit": group.unit.as_str()}));
        root.insert(group.name.into(), group.value);
    }
    let directives: Vec<Value> = directives
        .into_iter()
        .map(|(own, metrics)| {
            let with = |first: &'static str| std::iter::once(first).chain(own.iter().copied()).collect::<Vec<_>>();
            let mut sets = vec![with(dimensions::FUNCTION), own.clone()];
            if workspace.is_some() {
                sets.push(with(dimensions::WORKSPACE));
            }
            json!({"Namespace": settings.namespace, "Dimensions": sets, "Metrics": metrics})
        })
        .collect();
    root.insert("_aws".into(), json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}));
    Value::Object(root)
}

// ---- reading them back (tests) -------------------------------------------------------------------------------

/// Reads EMF documents back, from [`capture`] or from a log (the local stack's `.local/run-local/functions.log`).
pub mod inspect {
    use serde_json::Value;

    /// The EMF documents among a log's lines (other lines, JSON or not, are skipped).
    pub fn documents_in_log(log: &str) -> Vec<Value> {
        log.lines()
            .filter_map(|line| {
                // `cargo lambda watch` may prefix a process's lines; the document starts at the first brace.
                let start = line.find('{')?;
                let value: Value = serde_json::from_str(line[start..].trim_end()).ok()?;
                value.get("_aws").is_some().then_some(value)
            })
            .collect()
    }

    /// One metric as a document publishes it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Emitted {
        pub function: String,
        pub unit: String,
        /// Every value (a count is one value, samples are many).
        pub values: Vec<f64>,
        pub dimension_sets: Vec<Vec<String>>,
        /// The document's value of each dimension key the metric is published under.
        pub dimensions: Vec<(String, String)>,
    }

    /// `name` wherever the documents publish it under every given dimension value (e.g. `[("Reason",
    /// "low_confidence")]`), one entry per document.
    pub fn find(documents: &[Value], name: &str, with: &[(&str, &str)]) -> Vec<Emitted> {
        documents.iter().filter_map(|doc| emitted(doc, name)).filter(|e| with.iter().all(|w| has(e, w))).collect()
    }

    /// The sum of `name`'s values over the documents (a counter's total), 0 when never emitted.
    pub fn total(documents: &[Value], name: &str, with: &[(&str, &str)]) -> f64 {
        find(documents, name, with).iter().flat_map(|e| e.values.iter()).sum()
    }

    fn has(emitted: &Emitted, (key, value): &(&str, &str)) -> bool {
        emitted.dimensions.iter().any(|(k, v)| k == key && v == value)
    }

    fn emitted(doc: &Value, name: &str) -> Option<Emitted> {
        let directive = doc["_aws"]["CloudWatchMetrics"]
            .as_array()?
            .iter()
            .find(|d| d["Metrics"].as_array().is_some_and(|m| m.iter().any(|m| m["Name"] == name)))?;
        let unit = directive["Metrics"].as_array()?.iter().find(|m| m["Name"] == name)?["Unit"].as_str()?.to_owned();
        let dimension_sets: Vec<Vec<String>> = serde_json::from_value(directive["Dimensions"].clone()).ok()?;
        let mut keys: Vec<&String> = dimension_sets.iter().flatten().collect();
        keys.sort();
        keys.dedup();
        let dimensions: Vec<(String, String)> =
            keys.iter().map(|k| ((*k).clone(), doc[k.as_str()].as_str().unwrap_or_default().to_owned())).collect();
        let values = match &doc[name] {
            Value::Array(values) => values.iter().filter_map(Value::as_f64).collect(),
            value => value.as_f64().into_iter().collect(),
        };
        Some(Emitted {
            function: doc["Function"].as_str().unwrap_or_default().to_owned(),
            unit,
            values,
            dimension_sets,
            dimensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::inspect::{documents_in_log, find, total};
    use super::*;

    const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];

    /// The rules of CloudWatch's EMF specification (and its JSON schema) that a document can break.
    fn assert_valid_emf(doc: &Value) {
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].is_u64(), "Timestamp: {doc}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics");
        assert!(!directives.is_empty(), "{doc}");
        let mut names = Vec::new();
        for directive in directives {
            let namespace = directive["Namespace"].as_str().expect("Namespace");
            assert!((1..=1024).contains(&namespace.len()));
            let sets = directive["Dimensions"].as_array().expect("Dimensions");
            assert!(!sets.is_empty(), "at least one dimension set: {doc}");
            for set in sets {
                let keys = set.as_array().expect("a dimension set is an array");
                assert!(keys.len() <= 30);
                for key in keys {
                    let value = doc[key.as_str().expect("dimension key")].as_str();
                    let value = value.unwrap_or_else(|| panic!("dimension {key} has no string target: {doc}"));
                    assert!((1..=1024).contains(&value.len()));
                }
            }
            let metrics = directive["Metrics"].as_array().expect("Metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for metric in metrics {
                let name = metric["Name"].as_str().expect("Name");
                assert!(UNITS.contains(&metric["Unit"].as_str().expect("Unit")), "{metric}");
                match &doc[name] {
                    Value::Number(_) => {}
                    Value::Array(values) => assert!(values.len() <= 100 && values.iter().all(Value::is_number)),
                    other => panic!("metric {name} has no numeric target: {other}"),
                }
                names.push(name.to_owned());
            }
        }
        let before = names.len();
        names.sort();
        names.dedup();
        assert_eq!(before, names.len(), "a metric twice in one document: {doc}");
    }

    fn recorded(function: &'static str, record: impl FnOnce(&mut Recorder)) -> Recorder {
        let mut recorder = Recorder::new(function);
        record(&mut recorder);
        recorder
    }

    #[test]
    fn settings_default_and_from_the_environment() {
        let none = MetricsSettings::from_lookup(|_| None).unwrap();
        assert_eq!(none, MetricsSettings { namespace: "IntercomAiAgent".into(), workspace_dimension: false });
        let env = [("METRICS_NAMESPACE", " Support/Prod "), ("METRICS_WORKSPACE_DIMENSION", "TRUE")];
        let lookup = |n: &str| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string());
        let set = MetricsSettings::from_lookup(lookup).unwrap();
        assert_eq!(set, MetricsSettings { namespace: "Support/Prod".into(), workspace_dimension: true });
    }

    #[test]
    fn bad_settings_are_refused() {
        for namespace in ["AWS/Lambda", "a{b}", &"x".repeat(256), "a\tb"] {
            let lookup = |n: &str| (n == NAMESPACE_VAR).then(|| namespace.to_owned());
            assert_eq!(MetricsSettings::from_lookup(lookup), Err(MetricsSettingsError::Namespace), "{namespace:?}");
        }
        let lookup = |n: &str| (n == WORKSPACE_DIMENSION_VAR).then(|| "yes".to_owned());
        assert_eq!(MetricsSettings::from_lookup(lookup), Err(MetricsSettingsError::WorkspaceDimension));
    }

    #[test]
    fn an_escalation_is_one_document_with_every_metric() {
        let recorder = recorded("escalate", |r| {
            r.count(names::ESCALATIONS, vec![(dimensions::REASON, "low_confidence".into())]);
            for ms in [120.0, 80.0, 95.0] {
                r.count(names::INTERCOM_CALLS, vec![(dimensions::STATUS_CLASS, "2xx".into())]);
                r.sample(names::INTERCOM_LATENCY, Unit::Milliseconds, ms);
            }
            r.count(names::IDEMPOTENT_REPLAYS, Vec::new());
        });
        let docs = documents(&MetricsSettings::default(), &recorder, 1_718_000_000_123);
        assert_eq!(
            docs,
            vec![json!({
                "_aws": {
                    "Timestamp": 1_718_000_000_123u64,
                    "CloudWatchMetrics": [
                        {"Namespace": "IntercomAiAgent", "Dimensions": [["Function"], []],
                         "Metrics": [{"Name": "IdempotentReplays", "Unit": "Count"},
                                     {"Name": "IntercomLatency", "Unit": "Milliseconds"}]},
                        {"Namespace": "IntercomAiAgent", "Dimensions": [["Function", "Reason"], ["Reason"]],
                         "Metrics": [{"Name": "Escalations", "Unit": "Count"}]},
                        {"Namespace": "IntercomAiAgent", "Dimensions": [["Function", "StatusClass"], ["StatusClass"]],
                         "Metrics": [{"Name": "IntercomCalls", "Unit": "Count"}]}
                    ]
                },
                "Function": "escalate",
                "Reason": "low_confidence",
                "StatusClass": "2xx",
                "Escalations": 1,
                "IdempotentReplays": 1,
                "IntercomCalls": 3,
                "IntercomLatency": [120.0, 80.0, 95.0]
            })]
        );
        assert_valid_emf(&docs[0]);
    }

    #[test]
    fn a_second_value_of_a_dimension_takes_a_second_document() {
        let recorder = recorded("reply-to-conversation", |r| {
            r.count(names::INTERCOM_CALLS, vec![(dimensions::STATUS_CLASS, "429".into())]);
            r.count(names::INTERCOM_CALLS, vec![(dimensions::STATUS_CLASS, "2xx".into())]);
            r.count(names::INTERCOM_CALLS, vec![(dimensions::STATUS_CLASS, "2xx".into())]);
            r.count(names::DRAFTS, Vec::new());
        });
        let docs = documents(&MetricsSettings::default(), &recorder, 1);
        assert_eq!(docs.len(), 2, "{docs:#?}");
        docs.iter().for_each(assert_valid_emf);
        assert_eq!(total(&docs, "IntercomCalls", &[("StatusClass", "2xx")]), 2.0);
        assert_eq!(total(&docs, "IntercomCalls", &[("StatusClass", "429")]), 1.0);
        assert_eq!(total(&docs, "Drafts", &[]), 1.0);
        assert!(docs.iter().all(|d| d["Function"] == "reply-to-conversation"));
    }

    #[test]
    fn the_workspace_is_a_dimension_only_when_the_deployment_says_so() {
        let recorder = recorded("mcp", |r| {
            r.workspace = Workspace::One("ws_a1".into());
            r.count(names::ESCALATIONS, vec![(dimensions::REASON, "human_requested".into())]);
        });
        let off = documents(&MetricsSettings::default(), &recorder, 1);
        assert!(off[0].get("Workspace").is_none());
        let on = MetricsSettings { namespace: "Custom".into(), workspace_dimension: true };
        let docs = documents(&on, &recorder, 1);
        assert_valid_emf(&docs[0]);
        assert_eq!(docs[0]["Workspace"], "ws_a1");
        assert_eq!(
            docs[0]["_aws"]["CloudWatchMetrics"][0],
            json!({"Namespace": "Custom", "Dimensions": [["Function", "Reason"], ["Reason"], ["Workspace", "Reason"]],
                   "Metrics": [{"Name": "Escalations", "Unit": "Count"}]})
        );
    }

    #[tokio::test]
    async fn an_invocation_that_served_two_workspaces_names_neither() {
        let on = MetricsSettings { workspace_dimension: true, ..Default::default() };
        let ((), one) = capture_with(&on, "relay-to-agent", async {
            set_workspace("ws_a");
            relay(RelayOutcome::Delivered);
            set_workspace("ws_a");
        })
        .await;
        assert_eq!(one[0]["Workspace"], "ws_a");
        let ((), two) = capture_with(&on, "relay-to-agent", async {
            set_workspace("ws_a");
            relay(RelayOutcome::Delivered);
            set_workspace("ws_b");
            relay(RelayOutcome::Delivered);
        })
        .await;
        assert_valid_emf(&two[0]);
        assert!(two[0].get("Workspace").is_none(), "{}", two[0]);
        assert_eq!(total(&two, "RelayDelivered", &[]), 2.0);
    }

    #[test]
    fn more_than_100_samples_are_split_over_documents() {
        let recorder = recorded("relay-to-agent", |r| {
            (0..150).for_each(|i| r.sample(names::RELAY_LAG, Unit::Milliseconds, f64::from(i)));
        });
        let docs = documents(&MetricsSettings::default(), &recorder, 1);
        assert_eq!(docs.len(), 2);
        docs.iter().for_each(assert_valid_emf);
        let values: Vec<f64> = find(&docs, "RelayLag", &[]).into_iter().flat_map(|e| e.values).collect();
        assert_eq!(values, (0..150).map(f64::from).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn the_helpers_record_inside_an_invocation_only() {
        escalation(EscalationReason::SensitiveCategory); // outside: nothing to record into, no panic
        let ((), docs) = capture("intercom-webhook", async {
            webhook_delivery(Some("conversation.user.replied"), WebhookResult::Queued);
            human_took_over();
            intercom_call(200, Duration::from_micros(42_250));
        })
        .await;
        assert_eq!(docs.len(), 1, "{docs:#?}");
        assert_valid_emf(&docs[0]);
        let delivery = &find(&docs, "WebhookDeliveries", &[])[0];
        assert_eq!(delivery.function, "intercom-webhook");
        assert_eq!(delivery.unit, "Count");
        assert_eq!(
            delivery.dimensions,
            vec![
                ("Function".to_owned(), "intercom-webhook".to_owned()),
                ("Result".to_owned(), "queued".to_owned()),
                ("Topic".to_owned(), "conversation.user.replied".to_owned())
            ]
        );
        assert_eq!(delivery.dimension_sets, vec![vec!["Function", "Topic", "Result"], vec!["Topic", "Result"]]);
        assert_eq!(total(&docs, "HumanTookOver", &[]), 1.0);
        assert_eq!(find(&docs, "IntercomLatency", &[])[0].unit, "Milliseconds");
        assert_eq!(total(&docs, "IntercomLatency", &[]), 42.25, "to the microsecond");

        let ((), nothing) = capture("get-conversation", async {}).await;
        assert!(nothing.is_empty(), "an invocation that recorded nothing prints nothing");
    }

    #[tokio::test]
    async fn every_typed_helper_names_its_metric() {
        let ((), docs) = capture("relay-to-agent", async {
            escalation(EscalationReason::LowConfidence);
            returned_to_ai();
            reply_refused_by_gate();
            draft();
            idempotent_replay();
            relay(RelayOutcome::Delivered);
            relay(RelayOutcome::Delivered);
            relay(RelayOutcome::Retried);
            relay(RelayOutcome::DeadLettered);
            relay_lag(Duration::from_millis(1500));
        })
        .await;
        assert_eq!(docs.len(), 1);
        assert_valid_emf(&docs[0]);
        for (name, expected) in [
            ("Escalations", 1.0),
            ("ReturnedToAi", 1.0),
            ("RepliesRefusedByGate", 1.0),
            ("Drafts", 1.0),
            ("IdempotentReplays", 1.0),
            ("RelayDelivered", 2.0),
            ("RelayRetried", 1.0),
            ("RelayDeadLettered", 1.0),
            ("RelayLag", 1500.0),
        ] {
            assert_eq!(total(&docs, name, &[]), expected, "{name}");
        }
        assert_eq!(docs[0]["Reason"], "low_confidence");
        assert_eq!(find(&docs, "RelayLag", &[])[0].unit, "Milliseconds");
    }

    #[tokio::test]
    async fn parallel_invocations_keep_their_own_metrics() {
        let one = capture("escalate", async {
            tokio::task::yield_now().await;
            escalation(EscalationReason::HumanRequested);
        });
        let two = capture("reply-to-conversation", async {
            tokio::task::yield_now().await;
            reply_refused_by_gate();
        });
        let (((), a), ((), b)) = tokio::join!(one, two);
        assert_eq!(total(&a, "Escalations", &[]), 1.0);
        assert_eq!(total(&a, "RepliesRefusedByGate", &[]), 0.0);
        assert_eq!(total(&b, "RepliesRefusedByGate", &[]), 1.0);
        assert_eq!(total(&b, "Escalations", &[]), 0.0);
    }

    #[tokio::test]
    async fn outside_values_cannot_mint_dimension_values() {
        let long = "a".repeat(65);
        let ((), docs) = capture_with(
            &MetricsSettings { workspace_dimension: true, ..Default::default() },
            "intercom-webhook",
            async {
                set_workspace("ws\"; DROP");
                webhook_delivery(Some("attacker.chosen.topic"), WebhookResult::InvalidSignature);
                webhook_delivery(Some("Conversation User Replied"), WebhookResult::Ignored);
                webhook_delivery(Some(&long), WebhookResult::Duplicate);
                webhook_delivery(None, WebhookResult::Invalid);
            },
        )
        .await;
        docs.iter().for_each(assert_valid_emf);
        assert!(docs.iter().all(|d| d["Workspace"] == "other"));
        assert_eq!(total(&docs, "WebhookDeliveries", &[("Topic", "unverified"), ("Result", "invalid_signature")]), 1.0);
        assert_eq!(total(&docs, "WebhookDeliveries", &[("Topic", "other"), ("Result", "ignored")]), 1.0);
        assert_eq!(total(&docs, "WebhookDeliveries", &[("Topic", "other"), ("Result", "duplicate")]), 1.0);
        assert_eq!(total(&docs, "WebhookDeliveries", &[("Topic", "unknown"), ("Result", "invalid")]), 1.0);
    }

    #[test]
    fn status_classes() {
        let cases = [(200, "2xx"), (204, "2xx"), (302, "3xx"), (404, "4xx"), (429, "429"), (500, "5xx"), (503, "5xx")];
        for (status, class) in cases {
            assert_eq!(status_class(status), class, "{status}");
        }
        assert_eq!(status_class(101), "other");
    }

    #[test]
    fn relay_lag_runs_from_intercoms_created_at() {
        assert_eq!(lag_since(1_718_000_000, 1_718_000_002_500), Duration::from_millis(2_500));
        assert_eq!(lag_since(1_718_000_010, 1_718_000_002_500), Duration::ZERO, "clock skew is no lag");
        assert_eq!(lag_since(-5, 1_000), Duration::from_millis(1_000));
    }

    #[tokio::test]
    async fn the_lines_written_are_one_document_each_and_read_back_from_a_log() {
        let ((), docs) = capture("relay-to-agent", async {
            relay(RelayOutcome::DeadLettered);
            intercom_call(429, Duration::from_millis(5));
            intercom_call(200, Duration::from_millis(7));
        })
        .await;
        let mut out = Vec::new();
        write_lines(&mut out, &docs).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), docs.len());
        assert!(text.ends_with('\n'));
        let log = format!("INFO relay done\n[relay-to-agent] {}{{\"level\":\"INFO\"}}\nnot json {{", text);
        let read = documents_in_log(&log);
        assert_eq!(read, docs);
        assert_eq!(total(&read, "RelayDeadLettered", &[("Function", "relay-to-agent")]), 1.0);
        assert_eq!(total(&read, "IntercomCalls", &[("StatusClass", "429")]), 1.0);
    }
}
