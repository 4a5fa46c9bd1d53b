use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::reply_to_conversation(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::handoff::HandoffSettings;
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::{IntercomError, MessageKind};
    use shared::testing::{conversation, error_of, json_body, post_json, workspace_of};

    use super::*;

    async fn call_in(workspaces: &Workspaces, body: &str) -> Response<Body> {
        handle(workspaces, post_json(body)).await.unwrap()
    }

    async fn call(helpdesk: MockHelpdesk, body: &str) -> Response<Body> {
        call_with(helpdesk, &Default::default(), body).await
    }

    async fn call_with(
        helpdesk: MockHelpdesk,
        handoff: &shared::handoff::HandoffSettings,
        body: &str,
    ) -> Response<Body> {
        handle(&workspace_of(helpdesk).handoff(handoff.clone()).build(), post_json(body)).await.unwrap()
    }

    /// The conversation the gate reads: the customer's, `assignee` (an admin id) assigned, `parts` after it.
    fn read_back(assignee: Option<&str>, parts: serde_json::Value) -> shared::intercom::models::Conversation {
        conversation(serde_json::json!({"id":"7","state":"open","admin_assignee_id":assignee,
            "source":{"id":"s","body":"<p>Help</p>","author":{"type":"user","id":"c1"}},
            "conversation_parts":{"conversation_parts":parts,"total_count":parts.as_array().map_or(0, Vec::len)}}))
    }

    fn replied(kind: &str) -> shared::intercom::models::Conversation {
        conversation(serde_json::json!({"id":"7","state":"open","conversation_parts":{"conversation_parts":[
            {"id":"p1","part_type":"comment"},{"id":"p2","part_type":kind}], "total_count": 2}}))
    }

    #[tokio::test]
    async fn replies_as_the_configured_admin_by_default() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        helpdesk
            .expect_reply()
            .withf(|id, kind, admin, body| {
                id == "7"
                    && *kind == MessageKind::Comment
                    && admin == "991267"
                    && body.body.as_deref() == Some("<p>Hello <strong>you</strong>!</p>")
            })
            .times(1)
            .returning(|_, _, _, _| Ok(replied("comment")));
        helpdesk.expect_get_conversation().times(1).returning(|_| Ok(read_back(None, serde_json::json!([]))));
        let response = call(helpdesk, r#"{"conversationId":"7","body":"Hello **you**!"}"#).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json_body(&response),
            serde_json::json!({"conversationId":"7","messageType":"comment","partId":"p2","state":"open","draft":false})
        );
    }

    #[tokio::test]
    async fn a_note_with_an_explicit_admin() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_reply()
            .withf(|_, kind, admin, _| *kind == MessageKind::Note && admin == "42")
            .returning(|_, _, _, _| Ok(replied("note")));
        let response =
            call(helpdesk, r#"{"conversationId":"7","body":"VIP customer","messageType":"note","adminId":"42"}"#).await;
        assert_eq!(json_body(&response)["messageType"], "note");
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_intercom() {
        let helpdesk = MockHelpdesk::new();
        let workspaces = workspace_of(helpdesk).build();
        for (body, field) in [
            (r#"{"conversationId":"7"}"#, "body"),
            (r#"{"conversationId":"abc","body":"x"}"#, "conversationId"),
            (r#"{"conversationId":"7","body":"x","messageType":"shout"}"#, "messageType"),
            (r#"{"conversationId":"7","body":"x","adminId":"ada"}"#, "adminId"),
            (r#"{"body":"x"}"#, "conversationId"),
        ] {
            let response = call_in(&workspaces, body).await;
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
    }

    #[tokio::test]
    async fn a_lost_answer_is_reported_not_retried() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("1".into()));
        helpdesk.expect_get_conversation().returning(|_| Ok(read_back(None, serde_json::json!([]))));
        helpdesk
            .expect_reply()
            .times(1)
            .returning(|_, _, _, _| Err(IntercomError::OutcomeUnknown { operation: "the reply", request_id: None }));
        let response = call(helpdesk, r#"{"conversationId":"7","body":"x"}"#).await;
        let (status, code, _) = error_of(&response);
        assert_eq!((status, code.as_str()), (409, "intercom_outcome_unknown"));
    }

    fn grace_took_over() -> serde_json::Value {
        serde_json::json!([{"id":"p1","part_type":"comment","body":"<p>I'll take it from here</p>",
            "author":{"type":"admin","id":"991268","name":"Grace Hopper"}}])
    }

    #[tokio::test]
    async fn a_comment_in_a_conversation_a_human_handles_is_409_naming_the_owner() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        helpdesk.expect_get_conversation().times(1).returning(|_| Ok(read_back(Some("991268"), grace_took_over())));
        // No expect_reply: posting would panic the mock.
        let response = call(helpdesk, r#"{"conversationId":"7","body":"Hello!"}"#).await;
        assert_eq!(error_of(&response), (409, "human_handles_conversation".into(), None));
        let error = &json_body(&response)["error"];
        assert_eq!(error["owner"], serde_json::json!({"type":"admin","id":"991268","name":"Grace Hopper"}));
        assert!(error["message"].as_str().unwrap().contains("leave a note (messageType note)"), "{error}");
    }

    #[tokio::test]
    async fn a_teammate_replying_after_the_ai_takes_the_conversation_even_if_the_ai_is_assigned() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        helpdesk.expect_get_conversation().returning(|_| Ok(read_back(Some("991267"), grace_took_over())));
        let response = call(helpdesk, r#"{"conversationId":"7","body":"Hello!"}"#).await;
        assert_eq!(error_of(&response).1, "human_handles_conversation");
    }

    #[tokio::test]
    async fn force_notes_and_other_admins_skip_the_gate() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        // Not one conversation read: none of these is the AI talking over a human.
        helpdesk.expect_get_conversation().never();
        helpdesk.expect_reply().times(3).returning(|_, kind, _, _| Ok(replied(kind.as_str())));
        let workspaces = workspace_of(helpdesk).build();
        for body in [
            r#"{"conversationId":"7","body":"Grace asked me to send this","force":true}"#,
            r#"{"conversationId":"7","body":"Checked Stripe","messageType":"note"}"#,
            r#"{"conversationId":"7","body":"Hi, Grace here","adminId":"991268"}"#,
        ] {
            assert_eq!(call_in(&workspaces, body).await.status(), 200, "{body}");
        }
    }

    #[tokio::test]
    async fn a_draft_is_a_marked_note_per_call_or_by_deployment() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
        helpdesk.expect_get_conversation().never();
        helpdesk
            .expect_reply()
            .withf(|_, kind, admin, body| {
                *kind == MessageKind::Note
                    && admin == "991267"
                    && body.body.as_deref() == Some("<p><b>AI draft — review and send:</b></p><p>Refund issued</p>")
            })
            .times(2)
            .returning(|_, _, _, _| Ok(replied("note")));
        // One helpdesk, two deployments: a draft asked for per call, then by the deployment's REPLY_MODE.
        let helpdesk: std::sync::Arc<dyn shared::helpdesk::Helpdesk> = std::sync::Arc::new(helpdesk);
        let send_mode = shared::testing::WorkspaceBuilder::around(helpdesk.clone()).build();
        let body = r#"{"conversationId":"7","body":"<p>Refund issued</p>","draft":true}"#;
        let per_call = handle(&send_mode, post_json(body)).await.unwrap();
        let body = json_body(&per_call);
        assert_eq!(
            (&body["draft"], &body["messageType"], &body["partId"]),
            (&true.into(), &"note".into(), &"p2".into())
        );
        let draft_mode = HandoffSettings { reply_mode: shared::handoff::ReplyMode::Draft, ..Default::default() };
        let draft_deployment = shared::testing::WorkspaceBuilder::around(helpdesk).handoff(draft_mode).build();
        let body = r#"{"conversationId":"7","body":"<p>Refund issued</p>"}"#;
        let deployed = handle(&draft_deployment, post_json(body)).await.unwrap();
        assert_eq!(json_body(&deployed)["draft"], true);
    }
}
