//! Webhook signatures: Intercom's `X-Hub-Signature` (HMAC-SHA1, checked here) and the `X-Signature`
//! (HMAC-SHA256) we put on what we relay to the agent.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// Header in which Intercom sends `sha1=<40 hex>`.
pub const INTERCOM_SIGNATURE_HEADER: &str = "x-hub-signature";
/// Header in which we send `sha256=<64 hex>` to the agent.
pub const AGENT_SIGNATURE_HEADER: &str = "x-signature";

const INTERCOM_PREFIX: &str = "sha1=";
const AGENT_PREFIX: &str = "sha256=";
/// A SHA-1 digest in hex.
const SHA1_HEX_LEN: usize = 40;

type HmacSha1 = Hmac<Sha1>;
type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused. [`SignatureError::reason`] is short and safe to log: it never
/// contains the header, the body or the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `X-Hub-Signature` header.
    #[error("X-Hub-Signature header is missing")]
    Missing,
    /// The header is not `sha1=` followed by 40 hex digits.
    #[error("X-Hub-Signature header is malformed: {reason}")]
    Malformed {
        /// What is wrong with it, e.g. "expected the sha1= prefix".
        reason: &'static str,
    },
    /// Well formed, but not the HMAC of this body with our secret (tampered body or another secret).
    #[error("X-Hub-Signature does not match the body")]
    Mismatch,
    /// We have no secret to check against; refusing is safer than accepting everything.
    #[error("no webhook secret is configured")]
    NoSecret,
}

impl SignatureError {
    /// A short, log-safe reason: `missing`, `mismatch`, `no secret configured` or what is malformed.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed { reason } => reason,
            Self::Mismatch => "mismatch",
            Self::NoSecret => "no secret configured",
        }
    }
}

/// Checks Intercom's `X-Hub-Signature: sha1=<hex>` against HMAC-SHA1 of the raw body keyed with the app's
/// client secret. Hex may be upper or lower case; the comparison is constant time (`Mac::verify_slice`).
/// Call it on the bytes exactly as received, before any parsing.
pub fn verify_signature(secret: &[u8], raw_body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.map(str::trim).ok_or(SignatureError::Missing)?;
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let hex_digest = strip_prefix_ignore_case(header, INTERCOM_PREFIX).ok_or(SignatureError::Malformed {
        reason: if header.contains('=') { "expected the sha1= prefix" } else { "no sha1= prefix" },
    })?;
    if hex_digest.len() != SHA1_HEX_LEN {
        return Err(SignatureError::Malformed { reason: "digest is not 40 hex digits" });
    }
    let expected =
        hex::decode(hex_digest).map_err(|_| SignatureError::Malformed { reason: "digest is not hexadecimal" })?;
    let mut mac = HmacSha1::new_from_slice(secret).map_err(|_| SignatureError::NoSecret)?;
    mac.update(raw_body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature` value Intercom would send for `body`: lets tests sign deliveries the way Intercom does.
pub fn sign_intercom(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha1::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("{INTERCOM_PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// The `X-Signature` value for a body relayed to the agent: `sha256=<hex>` of HMAC-SHA256 keyed with the
/// agent webhook secret, computed over the exact bytes sent.
pub fn sign_for_agent(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("{AGENT_PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &value[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"intercom-client-secret";
    const BODY: &[u8] = br#"{"type":"notification_event","topic":"ping","id":null}"#;

    #[test]
    fn accepts_the_signature_intercom_sends() {
        let header = sign_intercom(SECRET, BODY);
        assert!(header.starts_with("sha1="));
        assert_eq!(header.len(), 5 + 40);
        assert_eq!(verify_signature(SECRET, BODY, Some(&header)), Ok(()));
    }

    #[test]
    fn matches_a_known_vector() {
        // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog"), from RFC 2104's usual example.
        let header = sign_intercom(b"key", b"The quick brown fox jumps over the lazy dog");
        assert_eq!(header, "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
        // HMAC-SHA256 of the same pair.
        assert_eq!(
            sign_for_agent(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn accepts_upper_case_hex_and_surrounding_space() {
        let header = sign_intercom(SECRET, BODY);
        let upper = format!("sha1={}", header["sha1=".len()..].to_ascii_uppercase());
        assert_eq!(verify_signature(SECRET, BODY, Some(&upper)), Ok(()));
        assert_eq!(verify_signature(SECRET, BODY, Some(&format!(" {header} "))), Ok(()));
    }

    #[test]
    fn rejects_a_tampered_body() {
        let header = sign_intercom(SECRET, BODY);
        let tampered = br#"{"type":"notification_event","topic":"ping","id":"x"}"#;
        assert_eq!(verify_signature(SECRET, tampered, Some(&header)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn rejects_another_secret() {
        let header = sign_intercom(b"another-secret", BODY);
        assert_eq!(verify_signature(SECRET, BODY, Some(&header)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn rejects_a_missing_or_blank_header() {
        assert_eq!(verify_signature(SECRET, BODY, None), Err(SignatureError::Missing));
        assert_eq!(verify_signature(SECRET, BODY, Some("  ")), Err(SignatureError::Missing));
        assert_eq!(SignatureError::Missing.reason(), "missing");
    }

    #[test]
    fn rejects_a_sha256_signature() {
        let sha256 = sign_for_agent(SECRET, BODY);
        let err = verify_signature(SECRET, BODY, Some(&sha256)).unwrap_err();
        assert_eq!(err, SignatureError::Malformed { reason: "expected the sha1= prefix" });
    }

    #[test]
    fn rejects_bare_hex_without_prefix() {
        let header = sign_intercom(SECRET, BODY);
        let err = verify_signature(SECRET, BODY, Some(&header["sha1=".len()..])).unwrap_err();
        assert!(matches!(err, SignatureError::Malformed { .. }));
    }

    #[test]
    fn rejects_non_hex_and_wrong_length() {
        let non_hex = format!("sha1={}", "z".repeat(40));
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&non_hex)),
            Err(SignatureError::Malformed { reason: "digest is not hexadecimal" })
        );
        for bad in ["sha1=", "sha1=abc", &format!("sha1={}", "a".repeat(41)), &format!("sha1={}", "é".repeat(20))] {
            assert!(
                matches!(verify_signature(SECRET, BODY, Some(bad)), Err(SignatureError::Malformed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn signs_and_checks_an_empty_body() {
        let header = sign_intercom(SECRET, b"");
        assert_eq!(verify_signature(SECRET, b"", Some(&header)), Ok(()));
        assert_eq!(verify_signature(SECRET, b"{}", Some(&header)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn refuses_to_check_without_a_secret() {
        let header = sign_intercom(b"", BODY);
        assert_eq!(verify_signature(b"", BODY, Some(&header)), Err(SignatureError::NoSecret));
    }

    #[test]
    fn reasons_never_echo_the_header() {
        let header = "sha1=SECRETLOOKINGVALUE";
        let err = verify_signature(SECRET, BODY, Some(header)).unwrap_err();
        assert!(!err.reason().contains("SECRETLOOKING"));
        assert!(!err.to_string().contains("SECRETLOOKING"));
    }

    #[test]
    fn agent_signature_is_sha256_hex() {
        let header = sign_for_agent(b"agent-secret", b"{}");
        assert!(header.starts_with("sha256="));
        assert_eq!(header.len(), 7 + 64);
        assert_ne!(header, sign_for_agent(b"agent-secret", b"{ }"));
    }
}
