use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::get_conversation(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::IntercomError;
    use shared::testing::{conversation, error_of, get_with_query, json_body, post_json, workspace_of};

    use super::*;

    async fn call(helpdesk: MockHelpdesk, request: Request) -> Response<Body> {
        handle(&workspace_of(helpdesk).build(), request).await.unwrap()
    }

    fn helpdesk() -> MockHelpdesk {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        helpdesk
    }

    fn stored() -> shared::intercom::models::Conversation {
        conversation(serde_json::json!({
            "id": "55", "state": "open", "created_at": 100, "admin_assignee_id": 991267, "team_assignee_id": null,
            "tags": {"tags": [{"id": "1", "name": "billing"}]},
            "contacts": {"contacts": [{"id": "c1", "external_id": "6123abc"}]},
            "source": {"id": "s1", "body": "<p>I was charged <b>twice</b></p>",
                       "author": {"type": "user", "id": "c1", "name": "Jane", "email": "jane@example.com"}},
            "conversation_parts": {"total_count": 2, "conversation_parts": [
                {"id": "p1", "part_type": "note", "body": "<p>Checking &amp; refunding</p>", "created_at": 110,
                 "author": {"type": "admin", "id": "991267", "name": "Ada AI"}},
                {"id": "p2", "part_type": "close", "body": null, "created_at": 120,
                 "author": {"type": "admin", "id": "991267"}}
            ]}
        }))
    }

    #[tokio::test]
    async fn history_lists_every_message_in_order_as_plain_text() {
        let mut helpdesk = helpdesk();
        helpdesk.expect_get_conversation().withf(|id| id == "55").returning(|_| Ok(stored()));
        let response = call(helpdesk, post_json(r#"{"conversationId":"55"}"#)).await;
        let body = json_body(&response);
        assert_eq!(body["state"], "open");
        assert_eq!(body["tags"], serde_json::json!(["billing"]));
        assert_eq!(body["assignee"], serde_json::json!({"adminId":"991267","teamId":null}));
        assert_eq!(body["contacts"][0]["email"], "jane@example.com");
        let kinds: Vec<&str> =
            body["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["message", "note", "close"]);
        assert_eq!(body["messages"][0]["text"], "I was charged twice");
        assert_eq!(body["messages"][1]["text"], "Checking & refunding");
        assert_eq!(body["messages"][1]["author"]["type"], "admin");
        assert_eq!(body["truncated"], false);
        // Assigned to the AI's admin (991267): the AI's, decided on the same read.
        assert_eq!(body["handling"], "ai");
        assert_eq!(body["owner"], serde_json::json!({"type":"admin","id":"991267","name":"Ada AI"}));
        assert_eq!(body["handlingReason"]["code"], "assigned_to_ai");
    }

    #[tokio::test]
    async fn a_handed_off_conversation_is_a_humans() {
        let mut helpdesk = helpdesk();
        helpdesk.expect_get_conversation().times(1).returning(|_| {
            Ok(conversation(serde_json::json!({"id":"55","state":"open","team_assignee_id":300,
                "tags":{"tags":[{"id":"1","name":"ai-escalation"}]},
                "source":{"id":"s1","body":"<p>Help</p>","author":{"type":"user","id":"c1"}},
                "conversation_parts":{"total_count":0,"conversation_parts":[]}})))
        });
        let body = json_body(&call(helpdesk, post_json(r#"{"conversationId":"55"}"#)).await);
        assert_eq!(body["handling"], "human");
        assert_eq!(body["owner"], serde_json::json!({"type":"team","id":"300"}));
        assert_eq!(body["handlingReason"]["code"], "assigned_to_team");
    }

    #[tokio::test]
    async fn the_500_part_cap_is_reported() {
        let mut helpdesk = helpdesk();
        helpdesk.expect_get_conversation().returning(|_| {
            let parts: Vec<_> = (0..500)
                .map(|i| serde_json::json!({"id": i.to_string(), "part_type": "comment", "body": "x"}))
                .collect();
            Ok(conversation(
                serde_json::json!({"id":"55","conversation_parts":{"total_count":612,"conversation_parts":parts}}),
            ))
        });
        let response = call(helpdesk, get_with_query(&[("conversationId", "55")])).await;
        let body = json_body(&response);
        assert_eq!(body["truncated"], true);
        assert_eq!(body["totalParts"], 612);
        assert_eq!(body["messages"].as_array().unwrap().len(), 500);
    }

    #[tokio::test]
    async fn unknown_and_malformed_ids() {
        let mut helpdesk = helpdesk();
        helpdesk.expect_get_conversation().returning(|_| {
            Err(IntercomError::Api {
                status: 404,
                code: "not_found".into(),
                message: "Resource Not Found".into(),
                field: None,
                request_id: Some("r9".into()),
            })
        });
        let workspaces = workspace_of(helpdesk).build();
        let response = handle(&workspaces, post_json(r#"{"conversationId":"404"}"#)).await.unwrap();
        assert_eq!(error_of(&response).0, 404);
        assert_eq!(json_body(&response)["error"]["intercomRequestId"], "r9");
        let response = handle(&workspaces, get_with_query(&[("conversationId", "x")])).await.unwrap();
        assert_eq!(error_of(&response), (400, "invalid_request".into(), Some("conversationId".into())));
        let response = handle(&workspaces, get_with_query(&[])).await.unwrap();
        assert_eq!(error_of(&response).0, 400);
    }
}
