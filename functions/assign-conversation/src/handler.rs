use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::assign_conversation(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::Assignee;
    use shared::intercom::models::Team;
    use shared::testing::{conversation, error_of, json_body, post_json, workspace_of};

    use super::*;

    fn expect_assignment(helpdesk: &mut MockHelpdesk, expected: Assignee, admin: Option<i64>, team: Option<i64>) {
        helpdesk.expect_admin_id().returning(|| Ok("1".into()));
        helpdesk
            .expect_assign_conversation()
            .withf(move |c, a, who| c == "7" && a == "1" && *who == expected)
            .times(1)
            .returning(move |_, _, _| {
                Ok(conversation(
                    serde_json::json!({"id":"7","state":"open","admin_assignee_id":admin,"team_assignee_id":team}),
                ))
            });
    }

    #[tokio::test]
    async fn to_a_team_by_name() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_team()
            .withf(|n| n == "Billing")
            .returning(|_| Ok(Some(Team { id: "300".into(), name: "Billing".into() })));
        expect_assignment(&mut helpdesk, Assignee::Team("300".into()), None, Some(300));
        let response =
            handle(&workspace_of(helpdesk).build(), post_json(r#"{"conversationId":"7","teamName":"Billing"}"#))
                .await
                .unwrap();
        assert_eq!(json_body(&response)["assignee"], serde_json::json!({"adminId":null,"teamId":"300"}));
    }

    #[tokio::test]
    async fn to_an_admin_a_team_id_or_nobody() {
        for (body, expected) in [
            (r#"{"conversationId":"7","adminId":"42"}"#, Assignee::Admin("42".into())),
            (r#"{"conversationId":"7","teamId":"300"}"#, Assignee::Team("300".into())),
            (r#"{"conversationId":"7","adminId":"0"}"#, Assignee::Nobody),
            (r#"{"conversationId":"7","teamId":null}"#, Assignee::Nobody),
        ] {
            let mut helpdesk = MockHelpdesk::new();
            expect_assignment(&mut helpdesk, expected, None, None);
            let response = handle(&workspace_of(helpdesk).build(), post_json(body)).await.unwrap();
            assert_eq!(response.status(), 200, "{body}");
        }
    }

    #[tokio::test]
    async fn exactly_one_assignee_and_a_known_team() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_team().returning(|_| Ok(None));
        let workspaces = workspace_of(helpdesk).build();
        for (body, field) in [
            (r#"{"conversationId":"7"}"#, "teamId"),
            (r#"{"conversationId":"7","teamId":"1","adminId":"2"}"#, "teamId"),
            (r#"{"conversationId":"7","adminId":"ada"}"#, "adminId"),
        ] {
            let response = handle(&workspaces, post_json(body)).await.unwrap();
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
        // A well-formed name no team has is not a malformed request: 404, naming the field to fix.
        let body = r#"{"conversationId":"7","teamName":"Nobody Here"}"#;
        let response = handle(&workspaces, post_json(body)).await.unwrap();
        assert_eq!(error_of(&response), (404, "not_found".into(), Some("teamName".into())));
    }
}
