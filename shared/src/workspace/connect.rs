//! `connect-workspace`: a hub connects a workspace with one call (and lists, changes and disconnects them); in
//! single mode the same call checks the deployment's own workspace and creates what is missing.
//!
//! A connect reads before it writes anything of ours: the token (`GET /me`, region by region), its permissions
//! (harmless probes), the data attributes (created in Intercom when missing); only then are the credentials sealed
//! and the record, the sealed credentials and the key index written in ONE transaction. A failure on the way
//! leaves nothing half-connected.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::WorkspaceId;
use super::checks::{self, IdentifyError, Identity};
use super::directory::{Directory, DirectoryError, Save};
use super::keys::{hash_key, new_agent_key};
use super::record::{Credentials, RetiredKey, WorkspaceRecord};
use super::resolve::{Deployment, Workspace};
use super::seal::Sealer;
use super::settings::SettingsOverrides;
use crate::config::Region;
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::{IntercomClient, IntercomError};
use crate::secrets::{SecretStore, Secrets};
use crate::store::now_epoch_secs;

/// The variable that holds the public base URL of the webhook's HTTP API (template.yaml sets it).
pub const WEBHOOK_BASE_URL_VAR: &str = "WEBHOOK_BASE_URL";
/// The webhook path; a hub's workspaces add `/<workspace id>`.
pub const WEBHOOK_PATH: &str = "/webhook/intercom-events";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectRequest {
    /// The workspace's access token (Developer Hub → your app → Authentication).
    pub access_token: String,
    /// The app's client secret (Basic information): verifies the workspace's webhooks.
    pub client_secret: String,
    /// Where this workspace's events go; default: the deployment's `AGENT_WEBHOOK_URL`.
    #[serde(default)]
    pub agent_webhook_url: Option<String>,
    /// Signs the relayed events; default: the deployment's `agent_webhook_secret`.
    #[serde(default)]
    pub agent_webhook_secret: Option<String>,
    /// The admin the AI acts as; default: the token's owner.
    #[serde(default)]
    pub admin_id: Option<String>,
    /// `us`, `eu` or `au`; default: tried in that order.
    #[serde(default)]
    pub region: Option<String>,
    /// On a reconnect: issue a new agent key (the old one works for the rotation grace period).
    #[serde(default)]
    pub rotate_agent_key: bool,
    /// The workspace's own settings (see `PATCH`).
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub workspace_id: String,
    pub name: String,
    pub region: String,
    pub admin_id: String,
    /// The agent key, shown this once (stored only as a hash); null on a reconnect that kept the key.
    pub agent_api_key: Option<String>,
    /// Paste it in Developer Hub → Webhooks; null when the deployment does not know its public URL.
    pub webhook_url: Option<String>,
    pub webhook_topics: Vec<String>,
    pub created_attributes: Vec<String>,
    pub warnings: Vec<String>,
    /// False on the first connect (201), true on a reconnect (200).
    pub reconnected: bool,
}

/// One workspace as `GET` lists it: no secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub workspace_id: String,
    pub name: String,
    pub region: String,
    pub admin_id: String,
    pub connected_at: i64,
    pub last_used_at: Option<i64>,
    pub settings: SettingsOverrides,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisconnectRequest {
    pub workspace_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchRequest {
    pub workspace_id: String,
    #[serde(default)]
    pub admin_id: Option<String>,
    #[serde(default)]
    pub settings: Option<Map<String, Value>>,
}

/// What connecting needs from the deployment.
pub struct Connector<'a> {
    pub deployment: &'a Deployment,
    pub directory: &'a dyn Directory,
    pub sealer: &'a dyn Sealer,
    /// The topics to subscribe in Developer Hub (the deployment's `WEBHOOK_TOPICS`).
    pub webhook_topics: Vec<String>,
}

impl Connector<'_> {
    /// Connects (or reconnects) the workspace of `request.access_token`.
    pub async fn connect(&self, request: ConnectRequest) -> Result<Connected, ActionError> {
        let has_default_secret = self.deployment.default_agent_webhook_secret().await.is_some();
        let input = Input::validate(request, has_default_secret)?;
        let (identity, client) = self.identify(&input.access_token, input.region).await?;
        let admin_id = input.admin_id.clone().unwrap_or_else(|| identity.admin_id.clone());
        let mut warnings = self.check_permissions(&client, &admin_id).await?;
        if input.admin_id.as_deref().is_some_and(|given| given != identity.admin_id) {
            warnings.push(format!("the AI acts as admin {admin_id}, not as the token's owner {}", identity.admin_id));
        }
        let (created_attributes, attribute_warnings) = ensure_attributes(&client).await?;
        warnings.extend(attribute_warnings);
        let settings = SettingsOverrides::default().patched(&input.settings).map_err(bad_setting)?;
        self.deployment.settings(Some(&admin_id), &settings).map_err(bad_setting)?;
        if input.agent_webhook_url.is_none() && self.deployment.var("AGENT_WEBHOOK_URL").is_none() {
            warnings.push(
                "no agent webhook URL: this workspace's events are verified and acknowledged but relayed nowhere; \
                 connect again with agentWebhookUrl"
                    .into(),
            );
        }
        let saved = self.save(&identity, &admin_id, input, settings).await?;
        tracing::info!(workspace_id = %identity.workspace_id, reconnected = saved.reconnected, "workspace connected");
        Ok(Connected {
            workspace_id: identity.workspace_id.to_string(),
            name: identity.name,
            region: identity.region.name().to_owned(),
            admin_id,
            agent_api_key: saved.agent_api_key,
            webhook_url: webhook_url(self.deployment, Some(&identity.workspace_id)),
            webhook_topics: self.webhook_topics.clone(),
            created_attributes,
            warnings,
            reconnected: saved.reconnected,
        })
    }

    /// `GET /me` in the region given, else in us, then eu, then au while Intercom answers 401.
    async fn identify(
        &self,
        token: &SecretString,
        region: Option<Region>,
    ) -> Result<(Identity, IntercomClient), ActionError> {
        let regions: Vec<Region> = match (region, self.deployment.api_base_pinned()) {
            (Some(r), _) => vec![r],
            (None, true) => vec![Region::Us],
            (None, false) => Region::ALL.to_vec(),
        };
        for region in &regions {
            let client = client_for(self.deployment, *region, token.clone(), None);
            match checks::identify(&client, *region).await {
                Ok(identity) => return Ok((identity, client)),
                Err(IdentifyError::Refused { .. }) => continue,
                Err(IdentifyError::Intercom(e)) => return Err(e.into()),
                Err(other) => return Err(ActionError::bad_request("accessToken", other.to_string())),
            }
        }
        let tried: Vec<&str> = regions.iter().map(|r| r.name()).collect();
        Err(ActionError::InvalidToken {
            message: IdentifyError::Refused { regions: tried.join(", ") }.to_string() + "; nothing was stored",
        })
    }

    /// The permissions probed at once: a missing one is a 403 naming it; nothing is stored.
    async fn check_permissions(&self, client: &dyn Helpdesk, admin_id: &str) -> Result<Vec<String>, ActionError> {
        let missing = checks::missing_permissions(client, admin_id).await?;
        if !missing.is_empty() {
            return Err(ActionError::MissingScope {
                message: format!(
                    "the access token lacks {}: in Developer Hub → your app → Authentication → Edit permissions, \
                     enable read and write on Conversations and on Users and companies (and read on Admins), save, \
                     then connect again; nothing was stored",
                    missing.join(", ")
                ),
                scopes: missing,
            });
        }
        Ok(Vec::new())
    }

    async fn save(
        &self,
        identity: &Identity,
        admin_id: &str,
        input: Input,
        settings: SettingsOverrides,
    ) -> Result<Saved, ActionError> {
        let id = &identity.workspace_id;
        let existing = self.directory.record(id).await.map_err(directory_error)?;
        let now = now_epoch_secs();
        let grace = self.deployment.rotation_grace_secs as i64;
        let (agent_api_key, key_hash, previous_key) = match &existing {
            Some(old) if !input.rotate_agent_key => (None, old.agent_key_hash.clone(), old.previous_agent_key.clone()),
            Some(old) => {
                let key = new_agent_key();
                let retired = (grace > 0).then(|| RetiredKey { hash: old.agent_key_hash.clone(), until: now + grace });
                (Some(key.clone()), hash_key(&key), retired)
            }
            None => {
                let key = new_agent_key();
                (Some(key.clone()), hash_key(&key), None)
            }
        };
        let previous_secret = match &existing {
            Some(old) => self.changed_client_secret(old, &input.client_secret).await?,
            None => None,
        };
        let record = WorkspaceRecord {
            id: id.clone(),
            name: identity.name.clone(),
            region: identity.region,
            admin_id: admin_id.to_owned(),
            version: existing.as_ref().map_or(1, |old| old.version + 1),
            credentials_version: existing.as_ref().map_or(1, |old| old.version + 1),
            connected_at: existing.as_ref().map_or(now, |old| old.connected_at),
            agent_key_hash: key_hash.clone(),
            previous_agent_key: previous_key.clone(),
            previous_client_secret_until: previous_secret.as_ref().map(|_| now + grace).filter(|_| grace > 0),
            settings: if input.settings.is_empty() {
                existing.as_ref().map(|o| o.settings.clone()).unwrap_or(settings)
            } else {
                settings
            },
        };
        let credentials = Credentials {
            access_token: input.access_token,
            client_secret: input.client_secret,
            previous_client_secret: previous_secret.filter(|_| grace > 0),
            agent_webhook_url: input.agent_webhook_url.map(String::from),
            agent_webhook_secret: input.agent_webhook_secret,
        };
        let sealed = self
            .sealer
            .seal(id, &credentials.to_plaintext())
            .await
            .map_err(|e| ActionError::Unavailable { message: format!("{e}; nothing was stored") })?;
        let mut index_keys = vec![(key_hash.clone(), None)];
        index_keys.extend(previous_key.iter().map(|k| (k.hash.clone(), Some(k.until))));
        let drop_keys = match &existing {
            Some(old) if old.agent_key_hash != key_hash && previous_key.is_none() => vec![old.agent_key_hash.clone()],
            _ => Vec::new(),
        };
        let save = Save {
            record,
            sealed: Some(sealed),
            expected_version: existing.as_ref().map(|o| o.version),
            index_keys,
            drop_keys,
        };
        self.directory.save(save).await.map_err(directory_error)?;
        Ok(Saved { agent_api_key, reconnected: existing.is_some() })
    }

    /// The client secret a reconnect replaces, when it changed (kept for the grace period).
    async fn changed_client_secret(
        &self,
        old: &WorkspaceRecord,
        new: &SecretString,
    ) -> Result<Option<SecretString>, ActionError> {
        let Some(sealed) = self.directory.sealed(&old.id).await.map_err(directory_error)? else { return Ok(None) };
        let Ok(plaintext) = self.sealer.open(&old.id, &sealed.blob).await else { return Ok(None) };
        let Ok(previous) = Credentials::from_plaintext(&plaintext) else { return Ok(None) };
        Ok((previous.client_secret.expose_secret() != new.expose_secret()).then_some(previous.client_secret))
    }

    /// Every connected workspace, without secrets.
    pub async fn list(&self) -> Result<Vec<Listed>, ActionError> {
        let listed = self.directory.list().await.map_err(directory_error)?;
        Ok(listed
            .into_iter()
            .map(|l| Listed {
                workspace_id: l.record.id.to_string(),
                name: l.record.name,
                region: l.record.region.name().to_owned(),
                admin_id: l.record.admin_id,
                connected_at: l.record.connected_at,
                last_used_at: l.last_used_at,
                settings: l.record.settings,
            })
            .collect())
    }

    /// Disconnects at once: its credentials and keys are gone; its other records expire on their own.
    pub async fn disconnect(&self, request: DisconnectRequest) -> Result<Value, ActionError> {
        let id = workspace_id(&request.workspace_id)?;
        match self.directory.remove(&id).await.map_err(directory_error)? {
            Some(_) => {
                tracing::info!(workspace_id = %id, "workspace disconnected");
                Ok(serde_json::json!({"workspaceId": id.as_str(), "disconnected": true}))
            }
            None => Err(not_connected(&id)),
        }
    }

    /// Changes a workspace's AI admin or settings (a JSON merge patch of `settings`).
    pub async fn patch(&self, request: PatchRequest) -> Result<Listed, ActionError> {
        let id = workspace_id(&request.workspace_id)?;
        let mut record =
            self.directory.record(&id).await.map_err(directory_error)?.ok_or_else(|| not_connected(&id))?;
        if let Some(admin) = request.admin_id {
            record.admin_id = digits("adminId", &admin)?;
        }
        if let Some(patch) = &request.settings {
            record.settings = record.settings.patched(patch).map_err(bad_setting)?;
        }
        self.deployment.settings(Some(&record.admin_id), &record.settings).map_err(bad_setting)?;
        let expected = record.version;
        record.version += 1;
        let save = Save {
            record: record.clone(),
            sealed: None,
            expected_version: Some(expected),
            index_keys: vec![],
            drop_keys: vec![],
        };
        self.directory.save(save).await.map_err(directory_error)?;
        Ok(Listed {
            workspace_id: id.to_string(),
            name: record.name,
            region: record.region.name().to_owned(),
            admin_id: record.admin_id,
            connected_at: record.connected_at,
            last_used_at: None,
            settings: record.settings,
        })
    }
}

struct Saved {
    agent_api_key: Option<String>,
    reconnected: bool,
}

/// Single mode's setup check of the deployment's own workspace: the token, its permissions, the data attributes
/// (created when missing) and the routed teams; what it found and did.
pub async fn check_single(
    deployment: &Deployment,
    workspace: &Workspace,
    webhook_topics: Vec<String>,
) -> Result<Connected, ActionError> {
    let client = workspace.helpdesk.as_ref();
    let identity = checks::identify(client, Region::Us).await.map_err(|e| match e {
        IdentifyError::Refused { .. } => ActionError::InvalidToken {
            message: "Intercom refused the deployment's access token (401): regenerate it in Developer Hub and \
                      update the secret's access_token"
                .into(),
        },
        IdentifyError::Intercom(e) => e.into(),
        other => ActionError::Unavailable { message: other.to_string() },
    })?;
    let admin_id = client.admin_id().await?;
    let missing = checks::missing_permissions(client, &admin_id).await?;
    if !missing.is_empty() {
        return Err(ActionError::MissingScope {
            message: format!(
                "the deployment's access token lacks {}; enable them in Developer Hub",
                missing.join(", ")
            ),
            scopes: missing,
        });
    }
    let (created_attributes, mut warnings) = ensure_attributes(client).await?;
    for team in workspace.escalation.routing.teams() {
        if client.find_team(team).await?.is_none() {
            warnings.push(format!("ESCALATION_ROUTING names the team {team:?}, which this workspace does not have"));
        }
    }
    Ok(Connected {
        workspace_id: identity.workspace_id.to_string(),
        name: identity.name,
        region: identity.region.name().to_owned(),
        admin_id,
        agent_api_key: None,
        webhook_url: webhook_url(deployment, None),
        webhook_topics,
        created_attributes,
        warnings,
        reconnected: true,
    })
}

/// Creates the integration's attributes that are missing; the names created and a warning per unusable one.
async fn ensure_attributes(client: &dyn Helpdesk) -> Result<(Vec<String>, Vec<String>), ActionError> {
    let states = checks::attribute_states(client).await?;
    let created = checks::create_missing_attributes(client, &states).await.map_err(|(name, e)| match e {
        IntercomError::Api { status: 403, .. } => ActionError::MissingScope {
            message: format!(
                "Intercom refused to create the contact attribute {name} (403): give the app permission to write \
                 data attributes, or create it in Settings → Data → People; nothing was stored"
            ),
            scopes: vec!["write_data_attributes".into()],
        },
        other => {
            let error = ActionError::from(other);
            ActionError::Upstream {
                code: "intercom_rejected",
                message: format!("creating the contact attribute {name} failed ({error}); nothing was stored"),
                intercom_request_id: None,
            }
        }
    })?;
    Ok((created, checks::attribute_problems(&states)))
}

fn client_for(
    deployment: &Deployment,
    region: Region,
    token: SecretString,
    admin_id: Option<String>,
) -> IntercomClient {
    let secrets = Secrets { access_token: Some(token), ..Default::default() };
    IntercomClient::with_http(
        deployment.http.clone(),
        deployment.api_base(region),
        &deployment.api_version,
        Arc::new(SecretStore::fixed(secrets)),
        admin_id,
        deployment.retry.clone(),
    )
}

/// The URL a workspace's Intercom app delivers its webhooks to (`None`: the deployment does not know its own).
pub fn webhook_url(deployment: &Deployment, id: Option<&WorkspaceId>) -> Option<String> {
    let base = deployment.var(WEBHOOK_BASE_URL_VAR)?;
    let base = base.trim_end_matches('/');
    Some(match id {
        Some(id) => format!("{base}{WEBHOOK_PATH}/{id}"),
        None => format!("{base}{WEBHOOK_PATH}"),
    })
}

/// A connect request, checked.
struct Input {
    access_token: SecretString,
    client_secret: SecretString,
    agent_webhook_url: Option<Url>,
    agent_webhook_secret: Option<SecretString>,
    admin_id: Option<String>,
    region: Option<Region>,
    rotate_agent_key: bool,
    settings: Map<String, Value>,
}

impl Input {
    fn validate(r: ConnectRequest, has_default_secret: bool) -> Result<Self, ActionError> {
        let access_token = credential("accessToken", &r.access_token, 1024)?;
        let client_secret = credential("clientSecret", &r.client_secret, 512)?;
        let agent_webhook_url = r.agent_webhook_url.as_deref().map(agent_url).transpose()?;
        let agent_webhook_secret =
            r.agent_webhook_secret.as_deref().map(|s| credential("agentWebhookSecret", s, 512)).transpose()?;
        if agent_webhook_url.is_some() && agent_webhook_secret.is_none() && !has_default_secret {
            return Err(ActionError::bad_request(
                "agentWebhookSecret",
                "agentWebhookSecret is required with agentWebhookUrl (it signs the events sent there)",
            ));
        }
        let region = match r.region.as_deref() {
            None => None,
            Some(raw) => Some(
                Region::parse(raw).ok_or_else(|| ActionError::bad_request("region", "region must be us, eu or au"))?,
            ),
        };
        let admin_id = r.admin_id.as_deref().map(|a| digits("adminId", a)).transpose()?;
        Ok(Input {
            access_token,
            client_secret,
            agent_webhook_url,
            agent_webhook_secret,
            admin_id,
            region,
            rotate_agent_key: r.rotate_agent_key,
            settings: r.settings.unwrap_or_default(),
        })
    }
}

fn credential(field: &str, raw: &str, max: usize) -> Result<SecretString, ActionError> {
    let value = raw.trim();
    let ok = !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        return Err(ActionError::bad_request(
            field,
            format!("{field} must be 1 to {max} printable ASCII characters without spaces, as Intercom shows it"),
        ));
    }
    Ok(SecretString::from(value.to_owned()))
}

/// An agent URL: https, or http on loopback (a local agent).
fn agent_url(raw: &str) -> Result<Url, ActionError> {
    let invalid =
        || ActionError::bad_request("agentWebhookUrl", "agentWebhookUrl must be an https URL (http only on localhost)");
    let url = Url::parse(raw.trim()).map_err(|_| invalid())?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(invalid()),
    }
}

fn digits(field: &str, raw: &str) -> Result<String, ActionError> {
    let value = raw.trim();
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ActionError::bad_request(field, format!("{field} must be an Intercom admin id (digits)")));
    }
    Ok(value.to_owned())
}

fn workspace_id(raw: &str) -> Result<WorkspaceId, ActionError> {
    WorkspaceId::parse(raw).map_err(|e| ActionError::bad_request("workspaceId", e.to_string()))
}

fn not_connected(id: &WorkspaceId) -> ActionError {
    ActionError::not_found("workspaceId", format!("no workspace {id} is connected here"))
}

fn bad_setting((field, message): (String, String)) -> ActionError {
    ActionError::bad_request(&field, message)
}

fn directory_error(e: DirectoryError) -> ActionError {
    match e {
        DirectoryError::Conflict => ActionError::Conflict { message: e.to_string(), retry_after_seconds: Some(1) },
        other => ActionError::StoreUnavailable { message: format!("{other}; nothing was stored") },
    }
}
