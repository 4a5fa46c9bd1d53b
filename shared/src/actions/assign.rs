//! `assign-conversation`: to a team (by id or name), an admin, or nobody.

use serde::{Deserialize, Deserializer, Serialize};

use super::get_conversation::AssigneeSummary;
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::Assignee;
use crate::validate::{conversation_id, numeric_id, required_text};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = exactly_one_assignee))]
pub struct AssignRequest {
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub conversation_id: String,
    /// `"0"` or null unassigns.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub team_id: Option<Option<String>>,
    /// `"0"` or null unassigns.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>", regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub admin_id: Option<Option<String>>,
    /// An Intercom team's name (Settings → Teams); a name no team has is refused (400).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 255), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub team_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssignResponse {
    pub conversation_id: String,
    pub assignee: AssigneeSummary,
    pub state: Option<String>,
}

/// Exactly one of teamId, adminId (either may be null: unassign) or teamName (a string: null counts as absent).
#[cfg(feature = "schema")]
fn exactly_one_assignee(schema: &mut schemars::Schema) {
    let branches = serde_json::json!([
        {"required": ["teamId"]},
        {"required": ["adminId"]},
        {"required": ["teamName"], "properties": {"teamName": {"type": "string"}}}
    ]);
    schema.insert("oneOf".into(), branches);
}

pub async fn assign_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: AssignRequest,
) -> Result<AssignResponse, ActionError> {
    let conversation_id = conversation_id(&request.conversation_id)?;
    let given = [request.team_id.is_some(), request.admin_id.is_some(), request.team_name.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ActionError::bad_request("teamId", "give exactly one of teamId, adminId or teamName"));
    }
    let unassign = |id: &Option<String>| id.as_deref().is_none_or(|v| v.trim() == "0");
    let assignee = match (request.team_id, request.admin_id, request.team_name) {
        (Some(id), _, _) if unassign(&id) => Assignee::Nobody,
        (Some(Some(id)), _, _) => Assignee::Team(numeric_id("teamId", &id)?),
        (_, Some(id), _) if unassign(&id) => Assignee::Nobody,
        (_, Some(Some(id)), _) => Assignee::Admin(numeric_id("adminId", &id)?),
        (_, _, Some(name)) => {
            let name = required_text("teamName", &name, 255)?;
            match helpdesk.find_team(&name).await? {
                Some(team) => Assignee::Team(team.id),
                None => {
                    return Err(ActionError::bad_request(
                        "teamName",
                        format!("no Intercom team is named {name:?}; check the name in Settings → Teams"),
                    ));
                }
            }
        }
        _ => return Err(ActionError::bad_request("teamId", "give exactly one of teamId, adminId or teamName")),
    };
    let admin_id = helpdesk.admin_id().await?;
    let conversation = helpdesk.assign_conversation(&conversation_id, &admin_id, &assignee).await?;
    Ok(AssignResponse {
        conversation_id,
        assignee: AssigneeSummary { admin_id: conversation.admin_assignee_id, team_id: conversation.team_assignee_id },
        state: conversation.state,
    })
}

/// Distinguishes a field sent as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}
