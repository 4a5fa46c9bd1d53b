//! moto's local AWS server (`moto_server`, installed by scripts/setup.sh) for the Secrets Manager tests.

use std::net::TcpListener;
use std::path::Path;
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

/// Starts `moto_server` (over HTTPS with `tls`) and waits until it answers, or returns `None` (the test is
/// skipped) where it is not installed — never on CI, where that is a failure.
pub async fn start(tls: Option<Tls<'_>>) -> Option<Moto> {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new("moto_server");
    command.args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null());
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
