//! `assign-conversation`: to a team (by id or name), an admin, or nobody.

use serde::{Deserialize, Deserializer, Serialize};

use super::get_conversation::AssigneeSummary;
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::{Assignee, IntercomError};
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
    /// An Intercom team's name (Settings → Teams); a name no team has is 404 not_found.
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
                    return Err(ActionError::not_found(
                        "teamName",
                        format!(
                            "no Intercom team is named {name:?}; check the name in Settings → Teams, or pass teamId"
                        ),
                    ));
                }
            }
        }
        _ => return Err(ActionError::bad_request("teamId", "give exactly one of teamId, adminId or teamName")),
    };
    let admin_id = helpdesk.admin_id().await?;
    let conversation = helpdesk
        .assign_conversation(&conversation_id, &admin_id, &assignee)
        .await
        .map_err(|e| unknown_assignee(e, &assignee))?;
    Ok(AssignResponse {
        conversation_id,
        assignee: AssigneeSummary { admin_id: conversation.admin_assignee_id, team_id: conversation.team_assignee_id },
        state: conversation.state,
    })
}

/// Intercom's 404 `assignee_not_found` names the request field that chose the assignee, so the agent knows
/// which id to fix; anything else maps as usual.
fn unknown_assignee(e: IntercomError, assignee: &Assignee) -> ActionError {
    let (field, what, id, hint) = match assignee {
        Assignee::Team(id) => ("teamId", "team", id, "check it in Settings → Teams, or pass teamName"),
        Assignee::Admin(id) => ("adminId", "admin", id, "check it in Settings → Teammates"),
        Assignee::Nobody => return e.into(),
    };
    match e {
        IntercomError::Api { status: 404, code, request_id, .. } if code == "assignee_not_found" => {
            ActionError::NotFound {
                field: Some(field.into()),
                message: format!("Intercom has no {what} with id {id}; {hint}"),
                intercom_request_id: request_id,
            }
        }
        e => e.into(),
    }
}

/// Distinguishes a field sent as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::MockHelpdesk;

    fn assign(body: serde_json::Value) -> AssignRequest {
        crate::http::from_value(body).unwrap()
    }

    fn unknown_assignee_answer() -> IntercomError {
        IntercomError::Api {
            status: 404,
            code: "assignee_not_found".into(),
            message: "Assignee not found".into(),
            field: None,
            request_id: Some("req-9".into()),
        }
    }

    #[tokio::test]
    async fn an_assignee_intercom_does_not_know_is_a_404_naming_the_field_that_chose_it() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        helpdesk.expect_assign_conversation().returning(|_, _, _| Err(unknown_assignee_answer()));
        for (body, field, says) in [
            (serde_json::json!({"conversationId": "1", "teamId": "42"}), "teamId", "no team with id 42"),
            (serde_json::json!({"conversationId": "1", "adminId": "7"}), "adminId", "no admin with id 7"),
        ] {
            let err = assign_conversation(&helpdesk, assign(body)).await.unwrap_err();
            assert_eq!((err.status().as_u16(), err.code()), (404, "not_found"));
            let json = err.to_json();
            assert_eq!((json["field"].as_str(), json["intercomRequestId"].as_str()), (Some(field), Some("req-9")));
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[tokio::test]
    async fn a_team_name_no_team_has_is_a_404_naming_team_name() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_team().returning(|_| Ok(None));
        let err =
            assign_conversation(&helpdesk, assign(serde_json::json!({"conversationId": "1", "teamName": "Nope"})))
                .await
                .unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (404, "not_found"));
        assert_eq!(err.to_json()["field"], "teamName");
        assert!(err.to_string().contains("no Intercom team is named \"Nope\""), "{err}");
    }

    #[test]
    fn other_refusals_and_unassigning_map_as_usual() {
        let other = IntercomError::Api {
            status: 404,
            code: "not_found".into(),
            message: "Resource Not Found".into(),
            field: None,
            request_id: None,
        };
        let err = unknown_assignee(other, &Assignee::Team("42".into()));
        assert_eq!((err.code(), err.to_json().get("field")), ("not_found", None));
        assert_eq!(unknown_assignee(unknown_assignee_answer(), &Assignee::Nobody).to_json().get("field"), None);
    }
}
