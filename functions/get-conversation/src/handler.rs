use lambda_http::{Body, Error, Request, Response};
use shared::actions;
use shared::helpdesk::Helpdesk;
use shared::http::{Accepts, AgentGuard, serve};

pub async fn handle<H: Helpdesk>(helpdesk: &H, guard: &AgentGuard, request: Request) -> Result<Response<Body>, Error> {
    Ok(serve(request, guard, Accepts::PostJsonOrGetQuery, |input| actions::get_conversation(helpdesk, input)).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::IntercomError;
    use shared::testing::{conversation, error_of, get_with_query, json_body, post_json};

    use super::*;

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
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_get_conversation().withf(|id| id == "55").returning(|_| Ok(stored()));
        let response = handle(&helpdesk, &AgentGuard::iam(), post_json(r#"{"conversationId":"55"}"#)).await.unwrap();
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
    }

    #[tokio::test]
    async fn the_500_part_cap_is_reported() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_get_conversation().returning(|_| {
            let parts: Vec<_> = (0..500)
                .map(|i| serde_json::json!({"id": i.to_string(), "part_type": "comment", "body": "x"}))
                .collect();
            Ok(conversation(
                serde_json::json!({"id":"55","conversation_parts":{"total_count":612,"conversation_parts":parts}}),
            ))
        });
        let response =
            handle(&helpdesk, &AgentGuard::iam(), get_with_query(&[("conversationId", "55")])).await.unwrap();
        let body = json_body(&response);
        assert_eq!(body["truncated"], true);
        assert_eq!(body["totalParts"], 612);
        assert_eq!(body["messages"].as_array().unwrap().len(), 500);
    }

    #[tokio::test]
    async fn unknown_and_malformed_ids() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_get_conversation().returning(|_| {
            Err(IntercomError::Api {
                status: 404,
                code: "not_found".into(),
                message: "Resource Not Found".into(),
                field: None,
                request_id: Some("r9".into()),
            })
        });
        let response = handle(&helpdesk, &AgentGuard::iam(), post_json(r#"{"conversationId":"404"}"#)).await.unwrap();
        assert_eq!(error_of(&response).0, 404);
        assert_eq!(json_body(&response)["error"]["intercomRequestId"], "r9");
        let response = handle(&helpdesk, &AgentGuard::iam(), get_with_query(&[("conversationId", "x")])).await.unwrap();
        assert_eq!(error_of(&response), (400, "invalid_request".into(), Some("conversationId".into())));
        let response = handle(&helpdesk, &AgentGuard::iam(), get_with_query(&[])).await.unwrap();
        assert_eq!(error_of(&response).0, 400);
    }
}
