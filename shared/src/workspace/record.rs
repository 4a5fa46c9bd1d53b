//! What hub mode keeps per connected workspace: a small record read on every call, and its credentials, sealed.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::WorkspaceId;
use super::settings::SettingsOverrides;
use crate::config::Region;

/// A connected workspace as the directory keeps it (no secret in it: the agent key only as its SHA-256).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceRecord {
    pub id: WorkspaceId,
    pub name: String,
    #[serde(with = "region_name")]
    pub region: Region,
    /// The admin the AI acts as (the token's owner unless the connect call named another).
    pub admin_id: String,
    /// Bumped by every change (credentials, keys, settings): a container rebuilds its copy when it differs.
    pub version: u64,
    /// The version whose connect sealed the credentials stored now (a settings change keeps them).
    pub credentials_version: u64,
    /// Unix seconds.
    pub connected_at: i64,
    /// SHA-256 (hex) of the current agent API key.
    pub agent_key_hash: String,
    /// The key a `rotateAgentKey` replaced, accepted until `until` (the deployment's rotation grace period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_agent_key: Option<RetiredKey>,
    /// Until when the client secret a reconnect replaced still verifies webhooks (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_client_secret_until: Option<i64>,
    #[serde(default)]
    pub settings: SettingsOverrides,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetiredKey {
    pub hash: String,
    /// Unix seconds; refused from then on.
    pub until: i64,
}

impl WorkspaceRecord {
    /// The agent-key hashes accepted at `now`: the current one, and the retired one inside its grace period.
    pub fn accepted_key_hashes(&self, now: i64) -> impl Iterator<Item = &str> {
        let retired = self.previous_agent_key.as_ref().filter(|k| now < k.until).map(|k| k.hash.as_str());
        std::iter::once(self.agent_key_hash.as_str()).chain(retired)
    }
}

/// A workspace's secrets, sealed at rest. `Debug` names the fields present, never their values.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    #[serde(with = "secret")]
    pub access_token: SecretString,
    #[serde(with = "secret")]
    pub client_secret: SecretString,
    /// The client secret a reconnect replaced: verifies webhooks until the record's `previousClientSecretUntil`.
    #[serde(default, with = "optional_secret", skip_serializing_if = "Option::is_none")]
    pub previous_client_secret: Option<SecretString>,
    /// Where this workspace's events go; unset = the deployment's `AGENT_WEBHOOK_URL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_webhook_url: Option<String>,
    #[serde(default, with = "optional_secret", skip_serializing_if = "Option::is_none")]
    pub agent_webhook_secret: Option<SecretString>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_token", &"[REDACTED]")
            .field("client_secret", &"[REDACTED]")
            .field("previous_client_secret", &self.previous_client_secret.as_ref().map(|_| "[REDACTED]"))
            .field("agent_webhook_url", &self.agent_webhook_url.as_ref().map(|_| "[set]"))
            .field("agent_webhook_secret", &self.agent_webhook_secret.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl Credentials {
    /// The JSON that is sealed (it holds the secrets in clear: only ever handed to [`super::seal::Sealer`]).
    pub fn to_plaintext(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_plaintext(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

mod secret {
    use super::*;

    pub fn serialize<S: serde::Serializer>(value: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.expose_secret())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        String::deserialize(d).map(SecretString::from)
    }
}

mod optional_secret {
    use super::*;

    pub fn serialize<S: serde::Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_some(v.expose_secret()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
    }
}

/// Regions as Intercom names them in `app.region` and as the connect call takes them: `us`, `eu`, `au`.
pub mod region_name {
    use super::*;

    pub fn serialize<S: serde::Serializer>(region: &Region, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(region.name())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Region, D::Error> {
        let raw = String::deserialize(d)?;
        Region::parse(&raw).ok_or_else(|| serde::de::Error::custom("region must be us, eu or au"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> WorkspaceRecord {
        WorkspaceRecord {
            id: WorkspaceId::parse("abc").unwrap(),
            name: "Acme".into(),
            region: Region::Eu,
            admin_id: "1".into(),
            version: 3,
            credentials_version: 3,
            connected_at: 100,
            agent_key_hash: "new".into(),
            previous_agent_key: Some(RetiredKey { hash: "old".into(), until: 200 }),
            previous_client_secret_until: None,
            settings: SettingsOverrides::default(),
        }
    }

    #[test]
    fn a_retired_key_is_accepted_only_inside_its_grace_period() {
        let r = record();
        assert_eq!(r.accepted_key_hashes(199).collect::<Vec<_>>(), ["new", "old"]);
        assert_eq!(r.accepted_key_hashes(200).collect::<Vec<_>>(), ["new"]);
    }

    #[test]
    fn records_round_trip_with_the_region_by_name() {
        let json = serde_json::to_value(record()).unwrap();
        assert_eq!(json["region"], "eu");
        let back: WorkspaceRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record());
    }

    #[test]
    fn credentials_never_show_in_debug_and_round_trip_when_sealed() {
        let c = Credentials {
            access_token: "tok_visible".to_owned().into(),
            client_secret: "cs_visible".to_owned().into(),
            previous_client_secret: None,
            agent_webhook_url: Some("https://n8n.example.com/webhook/x?token=visible".into()),
            agent_webhook_secret: Some("aws_visible".to_owned().into()),
        };
        assert!(!format!("{c:?}").contains("visible"), "{c:?}");
        let back = Credentials::from_plaintext(&c.to_plaintext()).unwrap();
        assert_eq!(back.access_token.expose_secret(), "tok_visible");
        assert_eq!(back.agent_webhook_secret.unwrap().expose_secret(), "aws_visible");
        assert!(back.previous_client_secret.is_none());
    }
}
