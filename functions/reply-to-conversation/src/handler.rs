use lambda_http::{Body, Error, Request, Response};
use shared::actions;
use shared::helpdesk::Helpdesk;
use shared::http::{AgentGuard, Idempotency, serve_write};
use shared::store::Store;

pub async fn handle<H: Helpdesk>(
    helpdesk: &H,
    store: &dyn Store,
    guard: &AgentGuard,
    request: Request,
) -> Result<Response<Body>, Error> {
    let idempotency = Idempotency { store, scope: "reply-to-conversation" };
    Ok(serve_write(request, guard, idempotency, |input| actions::reply_to_conversation(helpdesk, input)).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::{IntercomError, MessageKind};
    use shared::store::memory::MemoryStore;
    use shared::testing::{conversation, error_of, json_body, post_json};

    use super::*;

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
        let response = handle(
            &helpdesk,
            &MemoryStore::new(),
            &AgentGuard::iam(),
            post_json(r#"{"conversationId":"7","body":"Hello **you**!"}"#),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            json_body(&response),
            serde_json::json!({"conversationId":"7","messageType":"comment","partId":"p2","state":"open"})
        );
    }

    #[tokio::test]
    async fn a_note_with_an_explicit_admin() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_reply()
            .withf(|_, kind, admin, _| *kind == MessageKind::Note && admin == "42")
            .returning(|_, _, _, _| Ok(replied("note")));
        let response = handle(
            &helpdesk,
            &MemoryStore::new(),
            &AgentGuard::iam(),
            post_json(r#"{"conversationId":"7","body":"VIP customer","messageType":"note","adminId":"42"}"#),
        )
        .await
        .unwrap();
        assert_eq!(json_body(&response)["messageType"], "note");
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_intercom() {
        let helpdesk = MockHelpdesk::new();
        for (body, field) in [
            (r#"{"conversationId":"7"}"#, "body"),
            (r#"{"conversationId":"abc","body":"x"}"#, "conversationId"),
            (r#"{"conversationId":"7","body":"x","messageType":"shout"}"#, "messageType"),
            (r#"{"conversationId":"7","body":"x","adminId":"ada"}"#, "adminId"),
            (r#"{"body":"x"}"#, "conversationId"),
        ] {
            let response = handle(&helpdesk, &MemoryStore::new(), &AgentGuard::iam(), post_json(body)).await.unwrap();
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
    }

    #[tokio::test]
    async fn a_lost_answer_is_reported_not_retried() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("1".into()));
        helpdesk
            .expect_reply()
            .times(1)
            .returning(|_, _, _, _| Err(IntercomError::OutcomeUnknown { operation: "the reply", request_id: None }));
        let response = handle(
            &helpdesk,
            &MemoryStore::new(),
            &AgentGuard::iam(),
            post_json(r#"{"conversationId":"7","body":"x"}"#),
        )
        .await
        .unwrap();
        let (status, code, _) = error_of(&response);
        assert_eq!((status, code.as_str()), (409, "intercom_outcome_unknown"));
    }
}
