//! Agent API keys of connected workspaces: generated here, shown once, stored only as their SHA-256.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every workspace agent key starts with this, so a leaked one is recognisable (and secret scanners can match it).
pub const AGENT_KEY_PREFIX: &str = "iak_";

/// A new agent key: the prefix and 32 random bytes in hex (256 bits from the OS's generator).
pub fn new_agent_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{AGENT_KEY_PREFIX}{}", hex::encode(bytes))
}

/// What the directory stores and looks a key up by: SHA-256 of the key, hex. A 256-bit random key needs no salt
/// or slow hash: nobody can guess one from its digest.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether `presented` hashes to one of `accepted`, comparing every digest in constant time.
pub fn matches_any<'a>(presented: &str, accepted: impl IntoIterator<Item = &'a str>) -> bool {
    let digest = hash_key(presented);
    let hit = accepted
        .into_iter()
        .fold(subtle::Choice::from(0), |any, known| any | digest.as_bytes().ct_eq(known.as_bytes()));
    !presented.is_empty() && bool::from(hit)
}

/// The bearer token of an `Authorization` header, trimmed; empty when there is none.
pub fn bearer(headers: &http::HeaderMap) -> &str {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_stored_only_as_digests() {
        let (a, b) = (new_agent_key(), new_agent_key());
        assert_ne!(a, b);
        assert!(a.starts_with(AGENT_KEY_PREFIX) && a.len() == AGENT_KEY_PREFIX.len() + 64);
        let digest = hash_key(&a);
        assert_eq!(digest.len(), 64);
        assert!(!digest.contains(&a[4..]));
        assert!(matches_any(&a, [digest.as_str(), "x"]));
        assert!(!matches_any(&b, [digest.as_str()]));
        assert!(!matches_any("", [hash_key("").as_str()]), "an empty key never matches");
    }

    #[test]
    fn the_bearer_token_is_read_from_either_spelling() {
        let mut h = http::HeaderMap::new();
        assert_eq!(bearer(&h), "");
        h.insert(http::header::AUTHORIZATION, "Bearer  k1 ".parse().unwrap());
        assert_eq!(bearer(&h), "k1");
        h.insert(http::header::AUTHORIZATION, "Basic k1".parse().unwrap());
        assert_eq!(bearer(&h), "");
    }
}
