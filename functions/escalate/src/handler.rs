use lambda_http::{Body, Error, Request, Response};
use shared::escalation::flow::{EscalationSettings, escalate};
use shared::helpdesk::Helpdesk;
use shared::http::{Accepts, AgentGuard, serve};

pub async fn handle<H: Helpdesk>(
    helpdesk: &H,
    settings: &EscalationSettings,
    guard: &AgentGuard,
    request: Request,
) -> Result<Response<Body>, Error> {
    Ok(serve(request, guard, Accepts::PostJson, |input| escalate(helpdesk, settings, input)).await)
}

#[cfg(test)]
mod tests {
    use shared::escalation::flow::{ESCALATION_TAG, MARKER_ATTRIBUTE, Routing};
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::models::{Tag, Team};
    use shared::intercom::{Assignee, ContactKey, IntercomError, MessageKind, ResolvedContact};
    use shared::testing::{contact, conversation, error_of, json_body, post_json};

    use super::*;

    fn settings() -> EscalationSettings {
        EscalationSettings { routing: Routing::parse(Some("billing=Billing,*=Support")).unwrap(), ..Default::default() }
    }

    async fn call(helpdesk: &MockHelpdesk, body: &str) -> Response<Body> {
        handle(helpdesk, &settings(), &AgentGuard::iam(), post_json(body)).await.unwrap()
    }

    /// Round 1 expectations: the contact (with `marker` as its ai_escalation attribute), tags, team, admin.
    fn round_one(helpdesk: &mut MockHelpdesk, marker: Option<&'static str>) {
        helpdesk
            .expect_find_or_create_contact()
            .withf(|key, _, _| *key == ContactKey::Email("jane@example.com".into()))
            .returning(move |_, _, _| {
                let mut c = contact("c1", "jane@example.com");
                if let Some(m) = marker {
                    c.custom_attributes.insert(MARKER_ATTRIBUTE.into(), m.into());
                }
                c.custom_attributes.insert("escalation_count".into(), 2.into());
                Ok(ResolvedContact { contact: c, created: false })
            });
        helpdesk.expect_ensure_tags().returning(|names| {
            Ok(names.iter().enumerate().map(|(i, n)| Tag { id: i.to_string(), name: n.clone() }).collect())
        });
        helpdesk
            .expect_find_team()
            .withf(|n| n == "Billing")
            .returning(|_| Ok(Some(Team { id: "300".into(), name: "Billing".into() })));
        helpdesk.expect_admin_id().returning(|| Ok("1".into()));
    }

    const BILLING: &str = r#"{"sessionId":"s-1","userEmail":"jane@example.com","confidence":0.82,"category":"Billing",
        "lastMessage":"I was charged twice","transcript":[{"role":"customer","text":"Hi"},{"role":"ai","text":"Hello"}]}"#;

    #[tokio::test]
    async fn a_billing_question_opens_a_tagged_routed_conversation_with_a_note() {
        let mut helpdesk = MockHelpdesk::new();
        round_one(&mut helpdesk, None);
        helpdesk
            .expect_create_conversation()
            .withf(|c, body| c.id == "c1" && body == "I was charged twice")
            .times(1)
            .returning(|_, _| Ok("77".into()));
        helpdesk
            .expect_update_contact_attributes()
            .withf(|_, a| a[MARKER_ATTRIBUTE].as_str().is_some_and(|m| m.starts_with("s-1|pending|")))
            .times(1)
            .returning(|_, _| Ok(contact("c1", "jane@example.com")));
        helpdesk
            .expect_update_contact_attributes()
            .withf(|_, a| {
                a[MARKER_ATTRIBUTE] == "s-1|77" && a["escalation_count"] == 3 && a["last_ai_session"].is_string()
            })
            .times(1)
            .returning(|_, _| Ok(contact("c1", "jane@example.com")));
        helpdesk
            .expect_reply()
            .withf(|id, kind, admin, body| {
                id == "77"
                    && *kind == MessageKind::Note
                    && admin == "1"
                    && body.contains("sensitive category: billing")
                    && body.contains("AI: Hello")
            })
            .times(1)
            .returning(|_, _, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        helpdesk.expect_tag_conversation().withf(|id, _, _| id == "77").times(2).returning(|_, _, _| Ok(()));
        helpdesk
            .expect_assign_conversation()
            .withf(|id, _, who| id == "77" && *who == Assignee::Team("300".into()))
            .times(1)
            .returning(|_, _, _| Ok(conversation(serde_json::json!({"id":"77","team_assignee_id":300}))));
        let response = call(&helpdesk, BILLING).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json_body(&response),
            serde_json::json!({"escalated":true,"dryRun":false,"reasons":["sensitive_category:billing"],"conversationId":"77",
                "contactId":"c1","assignee":{"type":"team","id":"300","name":"Billing"},"alreadyEscalated":false,"failures":[]})
        );
    }

    #[tokio::test]
    async fn a_retry_of_the_same_session_returns_the_first_conversation() {
        let mut helpdesk = MockHelpdesk::new();
        round_one(&mut helpdesk, Some("s-1|77"));
        // No create, no note, no tags: the mock panics on any unexpected call.
        let body = json_body(&call(&helpdesk, BILLING).await);
        assert_eq!(body["conversationId"], "77");
        assert_eq!(body["alreadyEscalated"], true);
    }

    #[tokio::test]
    async fn a_retry_while_the_first_is_opening_waits() {
        let mut helpdesk = MockHelpdesk::new();
        let pending: &'static str = Box::leak(format!("s-1|pending|{}", time_now()).into_boxed_str());
        round_one(&mut helpdesk, Some(pending));
        let response = call(&helpdesk, BILLING).await;
        assert_eq!(error_of(&response).0, 409);
        assert!(json_body(&response)["error"]["retryAfterSeconds"].as_u64().unwrap() >= 1);
    }

    #[tokio::test]
    async fn no_trigger_means_no_intercom_call_and_dry_run_never_writes() {
        let helpdesk = MockHelpdesk::new();
        let calm = r#"{"sessionId":"s-2","userEmail":"jane@example.com","confidence":0.9,"lastMessage":"Thanks, that worked"}"#;
        let body = json_body(&call(&helpdesk, calm).await);
        assert_eq!(body["escalated"], false);
        assert_eq!(body["reasons"], serde_json::json!([]));

        let dry = r#"{"sessionId":"s-3","confidence":0.2,"lastMessage":"can I talk to a human?","dryRun":true}"#;
        let body = json_body(&call(&helpdesk, dry).await);
        assert_eq!(body["escalated"], true);
        assert_eq!(body["dryRun"], true);
        assert_eq!(body["reasons"], serde_json::json!(["low_confidence", "human_requested"]));
    }

    #[tokio::test]
    async fn partial_failure_is_reported_with_the_conversation() {
        let mut helpdesk = MockHelpdesk::new();
        round_one(&mut helpdesk, None);
        helpdesk.expect_create_conversation().returning(|_, _| Ok("77".into()));
        helpdesk.expect_update_contact_attributes().returning(|_, _| Ok(contact("c1", "jane@example.com")));
        helpdesk.expect_reply().returning(|_, _, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        helpdesk
            .expect_tag_conversation()
            .returning(|_, _, _| Err(IntercomError::Unavailable { status: 503, request_id: None }));
        helpdesk.expect_assign_conversation().returning(|_, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        let response = call(&helpdesk, BILLING).await;
        assert_eq!(response.status(), 200);
        let body = json_body(&response);
        assert_eq!(body["conversationId"], "77");
        let steps: Vec<&str> =
            body["failures"].as_array().unwrap().iter().map(|f| f["step"].as_str().unwrap()).collect();
        assert_eq!(steps, ["tags", "tags"]);
        let _ = ESCALATION_TAG;
    }

    #[tokio::test]
    async fn a_failed_open_releases_the_session() {
        let mut helpdesk = MockHelpdesk::new();
        round_one(&mut helpdesk, None);
        helpdesk.expect_create_conversation().returning(|_, _| {
            Err(IntercomError::Api {
                status: 404,
                code: "not_found".into(),
                message: "User Not Found".into(),
                field: None,
                request_id: None,
            })
        });
        helpdesk
            .expect_update_contact_attributes()
            .withf(|_, a| a[MARKER_ATTRIBUTE].is_string())
            .times(1)
            .returning(|_, _| Ok(contact("c1", "j@x.co")));
        helpdesk
            .expect_update_contact_attributes()
            .withf(|_, a| a[MARKER_ATTRIBUTE].is_null())
            .times(1)
            .returning(|_, _| Ok(contact("c1", "j@x.co")));
        assert_eq!(error_of(&call(&helpdesk, BILLING).await).0, 404);
    }

    #[tokio::test]
    async fn bad_input_is_refused() {
        let helpdesk = MockHelpdesk::new();
        for (body, field) in [
            (r#"{"sessionId":"s","userEmail":"a@b.co","confidence":1.5,"lastMessage":"x"}"#, "confidence"),
            (r#"{"sessionId":"s","userEmail":"a@b.co","confidence":"high","lastMessage":"x"}"#, "confidence"),
            (r#"{"sessionId":"s","userEmail":"a@b.co","lastMessage":"x"}"#, "confidence"),
            (r#"{"sessionId":"s|x","userEmail":"a@b.co","confidence":0.1,"lastMessage":"x"}"#, "sessionId"),
            (r#"{"sessionId":"s","confidence":0.1,"lastMessage":"x"}"#, "userEmail"),
            (r#"{"sessionId":"s","userEmail":"a@b.co","confidence":0.1,"lastMessage":" "}"#, "lastMessage"),
            (
                r#"{"sessionId":"s","userEmail":"a@b.co","confidence":0.1,"lastMessage":"x","transcript":[{"role":"bot","text":"x"}]}"#,
                "transcript[0].role",
            ),
        ] {
            let response = call(&helpdesk, body).await;
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
    }

    fn time_now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
    }
}
