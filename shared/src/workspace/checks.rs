//! The checks a workspace must pass before the AI can work in it, shared by `connect-workspace` (which also
//! repairs what it can: it creates the integration's data attributes) and the doctor (which only reads).

use futures::future::join_all;

use super::{InvalidWorkspaceId, WorkspaceId};
use crate::config::Region;
use crate::helpdesk::Helpdesk;
use crate::intercom::IntercomError;
use crate::intercom::setup::{DataAttribute, NewAttribute, Permission, Probe};

/// The contact attributes escalate writes (Intercom refuses a custom attribute the workspace has not defined).
pub const INTEGRATION_ATTRIBUTES: [NewAttribute; 2] = [
    NewAttribute {
        name: "escalation_count",
        data_type: "integer",
        description: "How many times the AI agent handed this customer to a human",
    },
    NewAttribute {
        name: "last_ai_session",
        data_type: "string",
        description: "The day (UTC, YYYY-MM-DD) of the customer's last hand-off from the AI agent",
    },
];

/// Who a token belongs to: its workspace and admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub region: Region,
    pub admin_id: String,
    pub admin_name: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum IdentifyError {
    /// Intercom refused the token in every region tried.
    #[error(
        "Intercom refused this access token (401) in {regions}; copy it again from Developer Hub → your app → Authentication"
    )]
    Refused { regions: String },
    #[error("GET /me answered without the workspace (app.id_code); is this an Intercom access token?")]
    NoWorkspace,
    #[error("GET /me named the workspace {0}")]
    BadId(#[from] InvalidWorkspaceId),
    #[error(transparent)]
    Intercom(IntercomError),
}

/// `GET /me` through `client`: the workspace (`app.id_code`), its name and region, and the token's admin.
/// `fallback_region` is the region `client` talks to, when `/me` does not say.
pub async fn identify(client: &dyn Helpdesk, fallback_region: Region) -> Result<Identity, IdentifyError> {
    let me = client.me().await.map_err(|e| match e {
        IntercomError::Unauthorized { .. } => IdentifyError::Refused { regions: fallback_region.name().to_owned() },
        other => IdentifyError::Intercom(other),
    })?;
    let app = me.app.ok_or(IdentifyError::NoWorkspace)?;
    let region = app.region.as_deref().and_then(Region::parse).unwrap_or(fallback_region);
    Ok(Identity {
        workspace_id: WorkspaceId::parse(&app.id_code)?,
        name: app.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| app.id_code.clone()),
        region,
        admin_id: me.id,
        admin_name: me.name,
    })
}

/// The permissions the token lacks (Intercom's scope names), probed at once; empty when it has them all.
pub async fn missing_permissions(client: &dyn Helpdesk, admin_id: &str) -> Result<Vec<String>, IntercomError> {
    let probes = join_all(Permission::ALL.iter().map(|p| client.probe(*p, admin_id))).await;
    let mut missing = Vec::new();
    for (permission, probe) in Permission::ALL.iter().zip(probes) {
        if let Probe::Missing { scope } = probe? {
            tracing::info!(scope, permission = permission.label(), "the token lacks a permission");
            missing.push(scope);
        }
    }
    Ok(missing)
}

/// Where one of the integration's attributes stands in the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeState {
    Present,
    Missing,
    /// Defined, then archived: Intercom refuses writes to it as to an unknown one.
    Archived {
        id: Option<String>,
    },
    /// Defined with another data type than the integration writes.
    WrongType {
        data_type: String,
    },
}

/// Each integration attribute and its state.
pub async fn attribute_states(client: &dyn Helpdesk) -> Result<Vec<(NewAttribute, AttributeState)>, IntercomError> {
    let defined = client.contact_data_attributes().await?;
    Ok(INTEGRATION_ATTRIBUTES.iter().map(|wanted| (*wanted, state_of(wanted, &defined))).collect())
}

fn state_of(wanted: &NewAttribute, defined: &[DataAttribute]) -> AttributeState {
    let same_name: Vec<&DataAttribute> = defined.iter().filter(|a| a.name == wanted.name).collect();
    match same_name.iter().find(|a| !a.archived) {
        Some(a) => match a.data_type.as_deref() {
            Some(t) if t != wanted.data_type => AttributeState::WrongType { data_type: t.to_owned() },
            _ => AttributeState::Present,
        },
        None => match same_name.first() {
            Some(archived) => AttributeState::Archived { id: archived.id.clone() },
            None => AttributeState::Missing,
        },
    }
}

/// Creates the missing attributes; the names created. Archived or mistyped ones are left to a person (they are
/// reported): unarchiving or retyping would change a setting someone made on purpose.
pub async fn create_missing_attributes(
    client: &dyn Helpdesk,
    states: &[(NewAttribute, AttributeState)],
) -> Result<Vec<String>, (String, IntercomError)> {
    let mut created = Vec::new();
    for (attribute, state) in states {
        if *state == AttributeState::Missing {
            client.create_contact_attribute(attribute).await.map_err(|e| (attribute.name.to_owned(), e))?;
            tracing::info!(attribute = attribute.name, "created the data attribute");
            created.push(attribute.name.to_owned());
        }
    }
    Ok(created)
}

/// A sentence for each attribute that is not usable, saying what to do.
pub fn attribute_problems(states: &[(NewAttribute, AttributeState)]) -> Vec<String> {
    states
        .iter()
        .filter_map(|(a, state)| match state {
            AttributeState::Present | AttributeState::Missing => None,
            AttributeState::Archived { .. } => Some(format!(
                "the contact attribute {} is archived, so escalations cannot count hand-offs: unarchive it in \
                 Intercom (Settings → Data → People)",
                a.name
            )),
            AttributeState::WrongType { data_type } => Some(format!(
                "the contact attribute {} is a {data_type}, the integration writes a {}: recreate it with that type",
                a.name, a.data_type
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(name: &str, data_type: &str, archived: bool) -> DataAttribute {
        DataAttribute { id: Some("1".into()), name: name.into(), data_type: Some(data_type.into()), archived }
    }

    #[test]
    fn attribute_states_tell_missing_archived_and_mistyped_apart() {
        let count = &INTEGRATION_ATTRIBUTES[0];
        assert_eq!(state_of(count, &[]), AttributeState::Missing);
        assert_eq!(state_of(count, &[attribute("escalation_count", "integer", false)]), AttributeState::Present);
        assert_eq!(
            state_of(count, &[attribute("escalation_count", "integer", true)]),
            AttributeState::Archived { id: Some("1".into()) }
        );
        assert_eq!(
            state_of(
                count,
                &[attribute("escalation_count", "integer", true), attribute("escalation_count", "integer", false)]
            ),
            AttributeState::Present,
            "a live definition wins over an archived one"
        );
        let states = [(*count, state_of(count, &[attribute("escalation_count", "string", false)]))];
        assert_eq!(states[0].1, AttributeState::WrongType { data_type: "string".into() });
        assert!(attribute_problems(&states)[0].contains("escalation_count is a string"));
    }
}
