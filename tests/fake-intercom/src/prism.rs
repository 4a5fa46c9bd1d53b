//! Stoplight Prism as the judge of Intercom's contract, for tests across the workspace.
//!
//! * [`Prism::mock`] answers from the spec's examples and validates requests.
//! * [`Prism::proxy`] forwards to an upstream (e.g. the fake) and validates requests *and*
//!   the upstream's responses.
//!
//! With `--errors` (always passed), Prism turns a violation into its own error: a request
//! that breaks the contract gets 422 (or the spec's 400 example) and a response that
//! breaks it gets 500, both `application/problem+json` with the details in `validation[]`
//! and an `sl-violations` header. Lesser findings (e.g. "status code not documented for
//! this operation") pass the upstream response through with only an `sl-violations`
//! header of severity "Warning". [`contract_problems`] reads all of that.
//!
//! Tools are found like this: the spec from env `INTERCOM_OPENAPI_SPEC`, else the part of
//! Intercom's contract committed in `<workspace root>/tests/contract/` (derived by
//! `scripts/derive-contract.py`, so a fresh clone needs nothing beside the repository);
//! Prism from env `PRISM_BIN`, else the first `node_modules/.bin/prism` in the ancestors of
//! the test's `CARGO_MANIFEST_DIR`. Use [`contract_tools_or_skip`] at the top of a contract test.
//!
//! Prism is handed a repaired temporary copy of the spec when [`repair_spec_for_prism`]
//! finds something to repair (never for the committed subset, which is derived repaired):
//! without it Prism silently skips validating every response that contains a conversation
//! and rejects valid AND/OR contact searches.

use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

/// Where the committed part of Intercom's contract lives, relative to the workspace root.
pub const CONTRACT_DIR: &str = "tests/contract";
/// The API version whose contract [`spec_path`] gives by default: the one the product sends today (its
/// `INTERCOM_API_VERSION` default). Tests of another version use [`spec_path_for`].
pub const DEFAULT_CONTRACT_VERSION: &str = "2.14";
/// File name of the Prism-ready part of Intercom's spec in [`CONTRACT_DIR`], for [`DEFAULT_CONTRACT_VERSION`].
pub const SPEC_FILE: &str = "intercom-2.14.prism.json";
/// The API versions whose contract subsets are committed (`intercom-<version>.prism.json`).
pub const CONTRACT_VERSIONS: [&str; 2] = ["2.14", "2.16"];

#[derive(Debug, thiserror::Error)]
pub enum PrismError {
    #[error("Prism not found: set PRISM_BIN or run `npm ci` in the workspace root (node_modules/.bin/prism)")]
    BinaryNotFound,
    #[error("OpenAPI spec not found at {0}")]
    SpecNotFound(PathBuf),
    #[error("could not start Prism: {0}")]
    Io(#[from] std::io::Error),
    #[error("Prism exited before it was ready ({status}); its log:\n{log}")]
    Exited { status: String, log: String },
    #[error("Prism did not answer within {secs} s; its log:\n{log}")]
    Timeout { secs: u64, log: String },
}

pub type Result<T, E = PrismError> = std::result::Result<T, E>;

/// A running Prism process (its whole process group is killed on drop).
#[derive(Debug)]
pub struct Prism {
    child: Child,
    base_url: String,
    log_path: PathBuf,
    /// The repaired copy of the spec Prism was given, if one was needed.
    spec_copy: Option<PathBuf>,
}

impl Prism {
    /// `prism mock -h 127.0.0.1 -p <free port> --errors <spec>`, ready to answer.
    pub async fn mock(spec: impl AsRef<Path>) -> Result<Prism> {
        Self::start(spec.as_ref(), None).await
    }

    /// `prism proxy <spec> <upstream> -h 127.0.0.1 -p <free port> --errors`, ready to answer.
    pub async fn proxy(spec: impl AsRef<Path>, upstream_url: &str) -> Result<Prism> {
        Self::start(spec.as_ref(), Some(upstream_url)).await
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// What Prism has logged so far (one line per request, with its findings).
    pub fn log(&self) -> String {
        read_log(&self.log_path)
    }

    async fn start(spec: &Path, upstream: Option<&str>) -> Result<Prism> {
        let bin = prism_bin().ok_or(PrismError::BinaryNotFound)?;
        if !spec.is_file() {
            return Err(PrismError::SpecNotFound(spec.to_owned()));
        }
        let timeout = std::env::var("PRISM_START_TIMEOUT_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
        // A free port can be taken between probing and Prism's bind: retry then.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(&bin, spec, upstream, timeout).await {
                Err(PrismError::Exited { log, .. }) if attempt < 3 && log.contains("EADDRINUSE") => {}
                other => return other,
            }
        }
    }

    async fn start_once(bin: &Path, spec: &Path, upstream: Option<&str>, timeout_secs: u64) -> Result<Prism> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let stem = std::env::temp_dir().join(format!("prism-{}-{port}", std::process::id()));
        let log_path = stem.with_extension("log");
        let spec_copy = compilable_spec(spec, &stem.with_extension("spec.json"))?;
        let spec = spec_copy.as_deref().unwrap_or(spec);
        let log = File::create(&log_path)?;
        let mut cmd = Command::new(bin);
        match upstream {
            Some(url) => cmd.arg("proxy").arg(spec).arg(url),
            None => cmd.arg("mock").arg(spec),
        };
        cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "--errors"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        let child = cmd.spawn()?;
        let mut prism = Prism { child, base_url: format!("http://127.0.0.1:{port}"), log_path, spec_copy };
        prism.wait_ready(Duration::from_secs(timeout_secs)).await?;
        Ok(prism)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let probe = format!("{}/__prism_ready_probe", self.base_url);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(PrismError::Exited { status: status.to_string(), log: self.log() });
            }
            // Any HTTP answer (Prism's own 404 for an unknown path) means it is serving.
            if client.get(&probe).send().await.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(PrismError::Timeout { secs: timeout.as_secs(), log: self.log() });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let Ok(pgid) = i32::try_from(self.child.id()) else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        };
        // SAFETY: kill(2) on the process group this struct spawned (process_group(0) made
        // the child its leader); no memory is touched.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above; kills anything of the group still alive.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
        if std::env::var_os("PRISM_KEEP_LOG").is_none() {
            let _ = std::fs::remove_file(&self.log_path);
        }
        if let Some(copy) = &self.spec_copy {
            let _ = std::fs::remove_file(copy);
        }
    }
}

/// Repairs two defects of the Prism copy of the 2.14 spec that make Prism misjudge, and
/// returns what it changed (nothing once `shared/intercom-openapi/tools/patch_spec.py`
/// handles them):
///
/// 1. `nullable` without `type` makes ajv refuse a schema, and Prism then silently does
///    *not validate* against it. `content_sources_list` has `nullable: false` without
///    `type`, which switches off response validation of every operation that returns a
///    conversation (`GET`/`PUT /conversations/{id}`, reply, parts, …). The key is removed
///    (`nullable: false` is the default anyway).
/// 2. `multiple_filter_search_request.value` is a `oneOf` of "array of nested AND/OR
///    filters" and "array of single filters"; Prism's bundler turns the recursive reference
///    into a schema that accepts any object, so an array of single filters matches both arms
///    and every `{"operator": "AND"|"OR", "value": [<single filters>]}` search is rejected
///    (422). It becomes an `anyOf` (nested filter items are then not checked by Prism).
pub fn repair_spec_for_prism(spec: &mut Value) -> Vec<String> {
    fn drop_untyped_nullable(v: &mut Value, path: &mut Vec<String>, fixes: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if !map.contains_key("type") && map.get("nullable") == Some(&Value::Bool(false)) {
                    map.remove("nullable");
                    fixes.push(format!("removed `nullable: false` without `type` at #/{}", path.join("/")));
                }
                for (k, child) in map.iter_mut() {
                    path.push(k.clone());
                    drop_untyped_nullable(child, path, fixes);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    path.push(i.to_string());
                    drop_untyped_nullable(child, path, fixes);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut fixes = Vec::new();
    drop_untyped_nullable(spec, &mut Vec::new(), &mut fixes);
    let value = spec
        .pointer_mut("/components/schemas/multiple_filter_search_request/properties/value")
        .and_then(Value::as_object_mut);
    if let Some(value) = value
        && let Some(arms) = value.remove("oneOf")
    {
        value.insert("anyOf".to_owned(), arms);
        fixes.push(
            "multiple_filter_search_request.value: oneOf -> anyOf (recursive arm is unchecked by Prism)".to_owned(),
        );
    }
    fixes
}

/// Writes a repaired copy of a JSON spec to `copy` if [`repair_spec_for_prism`] changes
/// anything; `None` means the spec is used as it is (also when it is not JSON).
fn compilable_spec(spec: &Path, copy: &Path) -> std::io::Result<Option<PathBuf>> {
    let text = std::fs::read_to_string(spec)?;
    let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
        return Ok(None);
    };
    let fixes = repair_spec_for_prism(&mut value);
    if fixes.is_empty() {
        return Ok(None);
    }
    tracing::debug!(?fixes, "handing Prism a repaired copy of the spec");
    std::fs::write(copy, serde_json::to_vec(&value).map_err(std::io::Error::other)?)?;
    Ok(Some(copy.to_owned()))
}

fn read_log(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

// ----- finding the tools -----

/// Directories to search upwards from: the running test's crate (`CARGO_MANIFEST_DIR` at
/// run time) and this crate.
fn start_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("CARGO_MANIFEST_DIR") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dirs
}

/// The Cargo workspace root: the nearest ancestor whose `Cargo.toml` has `[workspace]`.
pub fn workspace_root() -> Option<PathBuf> {
    start_dirs().into_iter().find_map(|dir| {
        dir.ancestors()
            .find(|a| {
                std::fs::read_to_string(a.join("Cargo.toml"))
                    .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
            })
            .map(Path::to_path_buf)
    })
}

/// Where the spec is looked for when `INTERCOM_OPENAPI_SPEC` is not set: the committed subset.
pub fn default_spec_path() -> Option<PathBuf> {
    workspace_root().map(|root| root.join(CONTRACT_DIR).join(SPEC_FILE))
}

/// The committed Prism-ready subset of one API version's contract (`"2.16"`, `"2.14"`), if it exists. Not
/// overridden by `INTERCOM_OPENAPI_SPEC`: a test that names its version means it.
pub fn spec_path_for(version: &str) -> Option<PathBuf> {
    workspace_root()
        .map(|root| root.join(CONTRACT_DIR).join(format!("intercom-{version}.prism.json")))
        .filter(|p| p.is_file())
}

/// `(spec of that version, prism)` like [`contract_tools_or_skip`], for a named API version.
pub fn contract_tools_for_or_skip(version: &str) -> Option<(PathBuf, PathBuf)> {
    let spec = spec_path_for(version);
    let bin = prism_bin();
    if let (Some(spec), Some(bin)) = (&spec, &bin) {
        eprintln!("contract test: Intercom {version} spec {}, Prism {}", spec.display(), bin.display());
        return Some((spec.clone(), bin.clone()));
    }
    let mut missing = Vec::new();
    if spec.is_none() {
        missing.push(format!("the committed {CONTRACT_DIR}/intercom-{version}.prism.json"));
    }
    if bin.is_none() {
        missing.push("Prism (env PRISM_BIN, or `npm ci` in the workspace root for node_modules/.bin/prism)".to_owned());
    }
    let missing = missing.join(" and ");
    if on_ci() {
        panic!("contract test cannot run on CI: missing {missing}");
    }
    eprintln!("skipped: contract test needs {missing}");
    None
}

/// The Prism-ready Intercom spec, if it exists: env `INTERCOM_OPENAPI_SPEC`, else
/// [`default_spec_path`].
pub fn spec_path() -> Option<PathBuf> {
    match std::env::var_os("INTERCOM_OPENAPI_SPEC") {
        Some(p) => Some(PathBuf::from(p)),
        None => default_spec_path(),
    }
    .filter(|p| p.is_file())
}

/// The Prism executable, if it exists: env `PRISM_BIN`, else `node_modules/.bin/prism` in
/// the nearest ancestor of the crate directory that has one.
pub fn prism_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PRISM_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    start_dirs()
        .into_iter()
        .find_map(|dir| dir.ancestors().map(|a| a.join("node_modules/.bin/prism")).find(|p| p.is_file()))
}

/// `true` when env `CI` is `true` (or `1`).
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `(spec, prism)` when both exist. Otherwise prints `skipped: …` and returns `None` — except
/// on CI (`CI=true`), where it panics: contract tests must never be skipped silently there.
pub fn contract_tools_or_skip() -> Option<(PathBuf, PathBuf)> {
    let spec = spec_path();
    let bin = prism_bin();
    if let (Some(spec), Some(bin)) = (&spec, &bin) {
        let from =
            if std::env::var_os("INTERCOM_OPENAPI_SPEC").is_some() { "env INTERCOM_OPENAPI_SPEC" } else { "default" };
        eprintln!("contract test: Intercom spec {} ({from}), Prism {}", spec.display(), bin.display());
        return Some((spec.clone(), bin.clone()));
    }
    let mut missing = Vec::new();
    if spec.is_none() {
        let default = default_spec_path()
            .map_or_else(|| format!("<workspace>/{CONTRACT_DIR}/{SPEC_FILE}"), |p| p.display().to_string());
        missing.push(format!("the Intercom OpenAPI spec (env INTERCOM_OPENAPI_SPEC, or {default})"));
    }
    if bin.is_none() {
        missing.push("Prism (env PRISM_BIN, or `npm ci` in the workspace root for node_modules/.bin/prism)".to_owned());
    }
    let missing = missing.join(" and ");
    if on_ci() {
        panic!("contract test cannot run on CI: missing {missing}");
    }
    eprintln!("skipped: contract test needs {missing}");
    None
}

// ----- reading Prism's verdict -----

/// One entry of Prism's `sl-violations` header (or of `validation[]` in its errors).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Violation {
    #[serde(default)]
    pub location: Vec<String>,
    pub severity: String,
    #[serde(default)]
    pub code: Option<Value>,
    pub message: String,
}

impl Violation {
    /// The warning Prism gives when the upstream answers a status the operation does not
    /// document (e.g. 404 on `GET /contacts/{id}`, which documents only 200/401/429).
    pub fn is_undocumented_status(&self) -> bool {
        self.location == ["response"] && self.message.starts_with("Unable to match the returned status code")
    }
}

/// The `sl-violations` header, parsed (an unparsable header is reported as one violation).
pub fn violations(headers: &http::HeaderMap) -> Vec<Violation> {
    headers
        .get_all("sl-violations")
        .iter()
        .flat_map(|raw| {
            let text = String::from_utf8_lossy(raw.as_bytes()).into_owned();
            serde_json::from_str::<Vec<Violation>>(&text).unwrap_or_else(|_| {
                vec![Violation {
                    location: vec![],
                    severity: "Error".to_owned(),
                    code: None,
                    message: format!("unparsable sl-violations header: {text}"),
                }]
            })
        })
        .collect()
}

/// Prism's own error answer (`application/problem+json` with a stoplight `type`), if this
/// is one.
pub fn prism_error(headers: &http::HeaderMap, body: &[u8]) -> Option<Value> {
    let is_problem = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    let value: Value = serde_json::from_slice(body).ok()?;
    let from_prism =
        value.get("type").and_then(Value::as_str).is_some_and(|t| t.starts_with("https://stoplight.io/prism/errors"));
    (is_problem || from_prism).then_some(value)
}

/// Everything Prism found wrong with an exchange it proxied, as readable lines; empty
/// means the request and the response both conform. With `allow_undocumented_status`, the
/// "status code not documented" warning is accepted (and nothing else).
pub fn contract_problems(headers: &http::HeaderMap, body: &[u8], allow_undocumented_status: bool) -> Vec<String> {
    let mut problems: Vec<String> = violations(headers)
        .into_iter()
        .filter(|v| !(allow_undocumented_status && v.is_undocumented_status()))
        .map(|v| format!("{} at {}: {}", v.severity, v.location.join("."), v.message))
        .collect();
    if let Some(err) = prism_error(headers, body) {
        problems.push(format!("Prism answered its own error: {err}"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_workspace_tools_or_says_why_not() {
        // In this repository both exist; elsewhere this only checks the lookup doesn't panic.
        let _ = workspace_root();
        let _ = spec_path();
        let _ = prism_bin();
    }

    #[test]
    fn the_committed_contract_is_found_and_needs_no_repair() {
        if std::env::var_os("INTERCOM_OPENAPI_SPEC").is_some() {
            return; // another spec was chosen on purpose
        }
        let spec = spec_path().expect("tests/contract/intercom-2.14.prism.json is committed");
        assert!(spec.ends_with(Path::new(CONTRACT_DIR).join(SPEC_FILE)), "{}", spec.display());
        assert!(SPEC_FILE.contains(DEFAULT_CONTRACT_VERSION));
        for version in CONTRACT_VERSIONS {
            let spec = spec_path_for(version).unwrap_or_else(|| panic!("the {version} subset is committed"));
            let text = std::fs::read_to_string(&spec).expect("readable");
            let mut value: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(repair_spec_for_prism(&mut value), Vec::<String>::new(), "re-run scripts/derive-contract.py");
        }
    }

    #[test]
    fn repairs_what_prism_misjudges() {
        let mut spec = serde_json::json!({"components": {"schemas": {
            "content_sources_list": {"nullable": false, "properties": {}},
            "typed": {"type": "object", "nullable": false},
            "multiple_filter_search_request": {"properties": {"value": {"oneOf": [{}, {}]}}}
        }}});
        let fixes = repair_spec_for_prism(&mut spec);
        assert_eq!(fixes.len(), 2, "{fixes:?}");
        let schemas = &spec["components"]["schemas"];
        assert!(schemas["content_sources_list"].get("nullable").is_none());
        assert_eq!(schemas["typed"]["nullable"], false);
        assert!(schemas["multiple_filter_search_request"]["properties"]["value"]["anyOf"].is_array());
        assert!(repair_spec_for_prism(&mut spec).is_empty());
    }

    #[test]
    fn reads_violations() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "sl-violations",
            http::HeaderValue::from_static(
                r#"[{"location":["response"],"severity":"Warning","message":"Unable to match the returned status code with those defined in the document: 200,401,429"}]"#,
            ),
        );
        let v = violations(&h);
        assert_eq!(v.len(), 1);
        assert!(v[0].is_undocumented_status());
        assert!(contract_problems(&h, b"{}", true).is_empty());
        assert_eq!(contract_problems(&h, b"{}", false).len(), 1);
        let mut p = http::HeaderMap::new();
        p.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/problem+json"));
        let body = br#"{"type":"https://stoplight.io/prism/errors#VIOLATIONS","status":500}"#;
        assert_eq!(contract_problems(&p, body, true).len(), 1);
    }
}
