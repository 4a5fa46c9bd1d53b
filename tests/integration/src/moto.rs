//! moto's local AWS server (`moto_server`, installed by scripts/setup.sh) for the Secrets Manager and DynamoDB tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server`; stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`, or `https://…` when started with a certificate.
    pub url: String,
}

impl Moto {
    /// Points the AWS SDK of this process at moto (it honours these with no code change; nothing reaches AWS).
    ///
    /// # Safety
    /// Sets process-wide environment variables: call it before other threads read the environment (each test
    /// binary using it runs one test).
    pub unsafe fn point_aws_sdk_here(&self) {
        // SAFETY: per this function's contract.
        unsafe {
            std::env::set_var("AWS_ENDPOINT_URL", &self.url);
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
            std::env::set_var("AWS_REGION", "us-east-1");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        }
    }

    /// An AWS SDK configuration pointed at this moto, leaving the process environment alone (so the tests of
    /// one binary may run in parallel).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.url).await
    }

    /// Creates the idempotency table `name` from template.yaml's definition, with scripts/create-table.py (the
    /// local stack does the same): the tests exercise the table that gets deployed.
    pub fn create_idempotency_table(&self, name: &str) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/create-table.py");
        let output = Command::new(moto_python())
            .arg(&script)
            .args(["--endpoint-url", &self.url, "--table", name])
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
        assert!(output.status.success(), "scripts/create-table.py failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Moto {
    /// Creates hub mode's workspaces table `name` (partition key `pk`, as template.yaml's `WorkspacesTable`).
    pub fn create_workspaces_table(&self, name: &str) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/create-table.py");
        let output = Command::new(moto_python())
            .arg(&script)
            .args(["--endpoint-url", &self.url, "--table", name, "--resource", "WorkspacesTable"])
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
        assert!(output.status.success(), "scripts/create-table.py failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

/// An AWS SDK configuration for `endpoint` with dummy credentials and a fixed region, on the same rustls + ring
/// HTTPS client the functions use; nothing is read from the environment or from instance metadata.
pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    use aws_sdk_dynamodb::config::{Credentials, Region};
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http_client =
        aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// The Python that runs `moto_server` (its directory's `python3`: a venv or pyenv), which has boto3 and PyYAML
/// for scripts/create-table.py; else `python3` from PATH.
fn moto_python() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("moto_server").is_file())
        .map(|dir| dir.join("python3"))
        .filter(|python| python.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate and key (PEM files) for moto to serve HTTPS with.
pub struct Tls<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

/// Starts moto's server (over HTTPS with `tls`) and waits until it answers, or returns `None` (the test is
/// skipped) where it is not installed — never on CI, where that is a failure. It runs through
/// `scripts/moto-server.py`, which serves one request at a time as DynamoDB applies one item's writes: moto's own
/// threaded server lets two racing conditional writes both pass.
pub async fn start(tls: Option<Tls<'_>>) -> Option<Moto> {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let installed = Command::new("moto_server").arg("--help").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if let Err(e) = installed {
        if fake_intercom::prism::on_ci() {
            panic!("moto_server must be installed on CI (scripts/setup.sh): {e}");
        }
        eprintln!("skipped: moto_server is not installed ({e}); run scripts/setup.sh");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/moto-server.py");
    let mut command = Command::new("python3");
    command.arg(script).args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(tls) = &tls {
        command.arg("--ssl-cert").arg(tls.cert).arg("--ssl-key").arg(tls.key);
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) if !fake_intercom::prism::on_ci() => {
            eprintln!("skipped: moto_server is not installed ({e}); run scripts/setup.sh");
            return None;
        }
        Err(e) => panic!("moto_server must be installed on CI (scripts/setup.sh): {e}"),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let moto = Moto { child, url: format!("{scheme}://127.0.0.1:{port}") };
    // Readiness is a plain TCP connect: this probe must not depend on trusting moto's certificate.
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not start on port {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(moto)
}
