//! The doctor's examination of one workspace: everything that must hold for the AI to work there, read-only
//! (nothing is created or repaired), each problem with what to do. `connect-workspace` answers it on
//! `GET ?check=true` (every connected workspace in hub mode); `scripts/doctor.sh` reads it and adds what only the
//! deployment shows (the relay queue, the dead-letter queue).
//!
//! It shares its checks with connect-workspace's setup ([`crate::workspace::checks`]): the token, the
//! permissions, the data attributes; then the AI's admin and the routed teams, the webhook URL (Intercom's `HEAD`
//! check and a signed `ping`, as Intercom sends them) and the agent URL (a signed test event).

use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use url::Url;

use crate::config::Region;
use crate::helpdesk::Helpdesk;
use crate::intercom::IntercomError;
use crate::webhook::{sign_for_agent, sign_intercom};
use crate::workspace::checks::{self, AttributeState, IdentifyError};
use crate::workspace::{Workspace, resolve::Deployment};

/// How long the webhook and the agent have to answer the doctor.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One workspace's health.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub workspace_id: Option<String>,
    pub name: Option<String>,
    pub api_version: String,
    pub admin_id: Option<String>,
    /// The checks made, in order (a check not made was not reachable: the token failed first).
    pub checked: Vec<&'static str>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub check: &'static str,
    pub message: String,
    pub fix: String,
}

impl Health {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, check: &'static str, message: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem { check, message: message.into(), fix: fix.into() });
    }
}

/// Examines `workspace`. `webhook_url` is where its Intercom app delivers (`None`: not known to this deployment).
pub async fn examine(workspace: &Workspace, deployment: &Deployment, webhook_url: Option<Url>) -> Health {
    let mut health = Health {
        workspace_id: workspace.id.as_ref().map(|id| id.to_string()),
        name: None,
        api_version: deployment.api_version.clone(),
        admin_id: None,
        checked: Vec::new(),
        problems: Vec::new(),
    };
    let helpdesk = workspace.helpdesk.as_ref();
    if examine_token(helpdesk, &mut health).await {
        examine_permissions(helpdesk, &mut health).await;
        examine_attributes(helpdesk, &mut health).await;
        examine_people(helpdesk, workspace, &mut health).await;
    }
    let secrets = workspace.secrets.get().await.ok();
    let client_secret = secrets.as_ref().and_then(|s| s.client_secret.clone());
    examine_webhook(deployment, webhook_url, client_secret.as_ref(), health.workspace_id.clone(), &mut health).await;
    let agent_secret = secrets.as_ref().and_then(|s| s.agent_webhook_secret.clone());
    examine_agent(deployment, workspace.agent_webhook_url.as_ref(), agent_secret.as_ref(), &mut health).await;
    health
}

/// The token works (`GET /me`); the workspace and the AI's admin as Intercom reports them.
async fn examine_token(helpdesk: &dyn Helpdesk, health: &mut Health) -> bool {
    health.checked.push("token");
    match checks::identify(helpdesk, Region::Us).await {
        Ok(identity) => {
            health.name = Some(identity.name);
            health.workspace_id.get_or_insert_with(|| identity.workspace_id.to_string());
            true
        }
        Err(IdentifyError::Refused { .. }) => {
            health.problem(
                "token",
                "Intercom refuses the access token (401)",
                "regenerate it in Developer Hub → your app → Authentication, then update the secret (single mode) or \
                 connect the workspace again (hub mode)",
            );
            false
        }
        Err(e) => {
            health.problem("token", format!("the token could not be checked: {e}"), "run the doctor again shortly");
            false
        }
    }
}

async fn examine_permissions(helpdesk: &dyn Helpdesk, health: &mut Health) {
    health.checked.push("permissions");
    let admin = match helpdesk.admin_id().await {
        Ok(admin) => admin,
        Err(e) => return health.problem("permissions", format!("the AI's admin could not be read: {e}"), "retry"),
    };
    match checks::missing_permissions(helpdesk, &admin).await {
        Ok(missing) if missing.is_empty() => {}
        Ok(missing) => health.problem(
            "permissions",
            format!("the access token lacks {}", missing.join(", ")),
            "enable read and write on Conversations and on Users and companies, and read on Admins, in Developer \
             Hub → your app → Authentication",
        ),
        Err(e) => health.problem("permissions", format!("the permissions could not be probed: {e}"), "retry"),
    }
    health.admin_id = Some(admin);
}

async fn examine_attributes(helpdesk: &dyn Helpdesk, health: &mut Health) {
    health.checked.push("data_attributes");
    let states = match checks::attribute_states(helpdesk).await {
        Ok(states) => states,
        Err(e) => return health.problem("data_attributes", format!("could not be listed: {e}"), "retry"),
    };
    for (attribute, state) in &states {
        let name = attribute.name;
        match state {
            AttributeState::Present => {}
            AttributeState::Missing => health.problem(
                "data_attributes",
                format!("the contact attribute {name} does not exist, so escalations cannot count hand-offs"),
                "POST to connect-workspace (it creates it), or create it in Intercom → Settings → Data → People",
            ),
            AttributeState::Archived { .. } => health.problem(
                "data_attributes",
                format!("the contact attribute {name} is archived, so escalations cannot count hand-offs"),
                "unarchive it in Intercom → Settings → Data → People",
            ),
            AttributeState::WrongType { data_type } => health.problem(
                "data_attributes",
                format!(
                    "the contact attribute {name} is a {data_type}, the integration writes a {}",
                    attribute.data_type
                ),
                "archive it and let connect-workspace create it with the right type",
            ),
        }
    }
}

/// The AI's admin and every team the routing names exist in the workspace.
async fn examine_people(helpdesk: &dyn Helpdesk, workspace: &Workspace, health: &mut Health) {
    health.checked.push("admin_and_teams");
    match (helpdesk.list_admins().await, &health.admin_id) {
        (Ok(admins), Some(admin)) if !admins.iter().any(|a| &a.id == admin) => health.problem(
            "admin_and_teams",
            format!("the AI's admin {admin} is not a teammate of this workspace"),
            "set INTERCOM_ADMIN_ID (single mode) or adminId (hub mode) to one of its admins, or leave it to the token's owner",
        ),
        (Err(e), _) => health.problem("admin_and_teams", format!("the admins could not be read: {e}"), "retry"),
        _ => {}
    }
    for team in workspace.escalation.routing.teams() {
        match helpdesk.find_team(team).await {
            Ok(Some(_)) => {}
            Ok(None) => health.problem(
                "admin_and_teams",
                format!("ESCALATION_ROUTING names the team {team:?}, which this workspace does not have"),
                "correct the team name in ESCALATION_ROUTING (or the workspace's escalationRouting setting)",
            ),
            Err(e) => health.problem("admin_and_teams", format!("the teams could not be read: {}", short(&e)), "retry"),
        }
    }
}

/// The webhook URL answers Intercom's `HEAD` check and a `ping` signed with the workspace's client secret.
async fn examine_webhook(
    deployment: &Deployment,
    url: Option<Url>,
    client_secret: Option<&secrecy::SecretString>,
    workspace_id: Option<String>,
    health: &mut Health,
) {
    health.checked.push("webhook");
    let Some(url) = url else {
        return health.problem(
            "webhook",
            "this deployment does not know its webhook URL (WEBHOOK_BASE_URL is unset)",
            "set WEBHOOK_BASE_URL (the template does) so its URL can be checked",
        );
    };
    let Some(secret) = client_secret else {
        return health.problem(
            "webhook",
            "the secret has no client_secret, so no webhook can be verified",
            "add the Intercom app's client secret (Developer Hub → Basic information)",
        );
    };
    let http = &deployment.http;
    match http.head(url.clone()).timeout(PROBE_TIMEOUT).send().await {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => health.problem(
            "webhook",
            format!("{url} answers Intercom's HEAD check with HTTP {}", r.status().as_u16()),
            "check the WebhookUrl output and the intercom-webhook function",
        ),
        Err(e) => {
            return health.problem(
                "webhook",
                format!("{url} does not answer ({})", reason(&e)),
                "check the WebhookUrl output and that the stack is deployed",
            );
        }
    }
    let ping = json!({"type": "notification_event", "app_id": workspace_id, "topic": "ping", "id": null,
        "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "doctor"}}});
    let body = ping.to_string();
    let signature = sign_intercom(secrecy::ExposeSecret::expose_secret(secret).as_bytes(), body.as_bytes());
    let answer = http
        .post(url.clone())
        .header("x-hub-signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => {}
        Ok(r) if r.status().as_u16() == 401 => health.problem(
            "webhook",
            format!("{url} refuses a ping signed with this workspace's client secret (401)"),
            "the client secret stored here differs from the Intercom app's: update it (Developer Hub → Basic information)",
        ),
        Ok(r) => health.problem("webhook", format!("{url} answers a signed ping with HTTP {}", r.status().as_u16()), "read the intercom-webhook function's log"),
        Err(e) => health.problem("webhook", format!("{url} did not answer a ping ({})", reason(&e)), "read the intercom-webhook function's log"),
    }
}

/// The agent URL answers a signed test event (any 2xx; our relay treats anything else as a failed delivery).
async fn examine_agent(
    deployment: &Deployment,
    url: Option<&Url>,
    secret: Option<&secrecy::SecretString>,
    health: &mut Health,
) {
    health.checked.push("agent");
    let Some(url) = url else {
        return health.problem(
            "agent",
            "no agent URL: Intercom's events are verified and acknowledged but relayed nowhere",
            "set AgentWebhookUrl (or the workspace's agentWebhookUrl)",
        );
    };
    let Some(secret) = secret else {
        return health.problem(
            "agent",
            "no agent webhook secret: events cannot be signed, so none is relayed",
            "add agent_webhook_secret to the secret (or agentWebhookSecret when connecting)",
        );
    };
    let body = json!({"topic": "doctor.check", "workspaceId": health.workspace_id, "message": "a test event from the doctor; ignore it"}).to_string();
    let signature = sign_for_agent(secrecy::ExposeSecret::expose_secret(secret).as_bytes(), body.as_bytes());
    let answer = deployment
        .http
        .post(url.clone())
        .header("x-signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await;
    let shown = url.origin().ascii_serialization();
    match answer {
        Ok(r) if r.status().is_success() => {}
        Ok(r) if matches!(r.status().as_u16(), 401 | 403) => health.problem(
            "agent",
            format!("the agent at {shown} refuses our signature (HTTP {})", r.status().as_u16()),
            "give the agent the same agent webhook secret as this deployment (or the workspace's agentWebhookSecret)",
        ),
        Ok(r) => health.problem(
            "agent",
            format!("the agent at {shown} answers HTTP {}", r.status().as_u16()),
            "check the agent URL and the agent's own log",
        ),
        Err(e) => health.problem(
            "agent",
            format!("the agent at {shown} does not answer ({})", reason(&e)),
            "check AgentWebhookUrl and that the agent is running",
        ),
    }
}

fn reason(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused"
    } else {
        "request failed"
    }
}

fn short(e: &IntercomError) -> String {
    crate::http::ActionError::from(e.clone()).to_string()
}
