//! The Secrets Manager client talks TLS the way it will to AWS: over HTTPS, trusting the system's root store
//! (here a test CA given through `SSL_CERT_FILE`, which the native store honours), on the same rustls stack
//! as the Intercom client. Its own test binary because it sets process-wide environment variables.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use shared::config::TokenSource;
use shared::secrets::SecretStore;

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it, written as PEM files into `dir`
/// (python3 and `cryptography` come with moto).
fn write_test_pki(dir: &Path) {
    const SCRIPT: &str = r#"
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID

out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
def name(cn): return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
ca_key = ec.generate_private_key(ec.SECP256R1())
ca = (x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
      .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
      .sign(ca_key, hashes.SHA256()))
key = ec.generate_private_key(ec.SECP256R1())
leaf = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256()))
open(out + "/ca.pem", "wb").write(ca.public_bytes(serialization.Encoding.PEM))
open(out + "/server.pem", "wb").write(leaf.public_bytes(serialization.Encoding.PEM))
open(out + "/server.key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
"#;
    let status = Command::new("python3").arg("-c").arg(SCRIPT).arg(dir).status().expect("python3 runs");
    assert!(status.success(), "could not write the test certificates (python3 with `cryptography`, from moto)");
}

#[tokio::test]
async fn the_secret_is_fetched_over_https_trusting_the_system_roots() {
    let dir = std::env::temp_dir().join(format!("secrets-https-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if Command::new("moto_server").arg("--help").output().is_err() && !fake_intercom::prism::on_ci() {
        eprintln!("skipped: moto_server is not installed; run scripts/setup.sh");
        return;
    }
    write_test_pki(&dir);
    let tls = integration_tests::moto::Tls { cert: &dir.join("server.pem"), key: &dir.join("server.key") };
    let Some(moto) = integration_tests::moto::start(Some(tls)).await else { return };
    assert!(moto.url.starts_with("https://"));
    // SAFETY: this test binary has one test, and it sets these before any thread reads the environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
        moto.point_aws_sdk_here();
    }
    let sdk = aws_sdk_secretsmanager::Client::new(&shared::secrets::aws_sdk_config().await);
    let arn = sdk
        .create_secret()
        .name("intercom-agent-tls")
        .secret_string(json!({"access_token":"tok-tls"}).to_string())
        .send()
        .await
        .expect("moto creates the secret over HTTPS")
        .arn
        .expect("an ARN");

    let store = SecretStore::new(&TokenSource::SecretsManager { secret_id: arn });
    let secrets = store.get().await.expect("the function's store reads the secret over HTTPS");
    use secrecy::ExposeSecret;
    assert_eq!(secrets.access_token().unwrap().expose_secret(), "tok-tls");
    let _ = std::fs::remove_dir_all(&dir);
}
