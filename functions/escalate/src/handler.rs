use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::escalate(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::actions::MARKER_ATTRIBUTE;
    use shared::escalation::{ESCALATION_TAG, Routing};
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::models::{Tag, Team, Teammate};
    use shared::intercom::{Assignee, ContactKey, IntercomError, MessageKind, ResolvedContact};
    use std::sync::Arc;

    use shared::store::memory::MemoryStore;
    use shared::testing::{contact, conversation, error_of, json_body, post_json, workspace_of};

    use super::*;

    fn settings() -> shared::escalation::EscalationSettings {
        shared::escalation::EscalationSettings {
            routing: Routing::parse(Some("billing=Billing,*=Support")).unwrap(),
            ..Default::default()
        }
    }

    async fn call_in(workspaces: &Workspaces, body: &str) -> Response<Body> {
        handle(workspaces, post_json(body)).await.unwrap()
    }

    async fn call(helpdesk: MockHelpdesk, body: &str) -> Response<Body> {
        call_in(&deploy(helpdesk, Arc::new(MemoryStore::new())), body).await
    }

    /// One escalate deployment: the mock Intercom, `store` and the billing routing.
    fn deploy(helpdesk: MockHelpdesk, store: Arc<MemoryStore>) -> Workspaces {
        workspace_of(helpdesk).store(store).escalation(settings()).build()
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
        // Grace (2) is in Billing (300) and not away; the AI's admin (1) never counts.
        helpdesk
            .expect_list_admins()
            .returning(|| Ok(vec![teammate("1", false, &["300"]), teammate("2", false, &["300"])]));
    }

    fn teammate(id: &str, away: bool, teams: &[&str]) -> Teammate {
        Teammate {
            id: id.into(),
            name: None,
            away_mode_enabled: away,
            has_inbox_seat: Some(true),
            team_ids: teams.iter().map(|t| t.to_string()).collect(),
        }
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
            .withf(|_, a| {
                a.get(MARKER_ATTRIBUTE).is_none() && a["escalation_count"] == 3 && a["last_ai_session"].is_string()
            })
            .times(1)
            .returning(|_, _| Ok(contact("c1", "jane@example.com")));
        helpdesk
            .expect_reply()
            .withf(|id, kind, admin, body| {
                id == "77"
                    && *kind == MessageKind::Note
                    && admin == "1"
                    && body.body.as_deref().is_some_and(|b| b.contains("sensitive category: billing"))
                    && body.body.as_deref().is_some_and(|b| b.contains("AI: Hello"))
            })
            .times(1)
            .returning(|_, _, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        helpdesk.expect_tag_conversation().withf(|id, _, _| id == "77").times(2).returning(|_, _, _| Ok(()));
        helpdesk
            .expect_assign_conversation()
            .withf(|id, _, who| id == "77" && *who == Assignee::Team("300".into()))
            .times(1)
            .returning(|_, _, _| Ok(conversation(serde_json::json!({"id":"77","team_assignee_id":300}))));
        let response = call(helpdesk, BILLING).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json_body(&response),
            serde_json::json!({"escalated":true,"dryRun":false,"reasons":["sensitive_category:billing"],"conversationId":"77",
                "contactId":"c1","assignee":{"type":"team","id":"300","name":"Billing"},"alreadyEscalated":false,
                "humansAvailable":true,"awayReplyPosted":false,"failures":[]})
        );
    }

    /// Everything one successful escalation of session s-1 calls, each at most once.
    fn one_escalation(helpdesk: &mut MockHelpdesk) {
        round_one(helpdesk, None);
        helpdesk.expect_create_conversation().times(1).returning(|_, _| Ok("77".into()));
        helpdesk.expect_update_contact_attributes().times(1).returning(|_, _| Ok(contact("c1", "jane@example.com")));
        helpdesk.expect_reply().times(1).returning(|_, _, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        helpdesk.expect_tag_conversation().times(2).returning(|_, _, _| Ok(()));
        helpdesk
            .expect_assign_conversation()
            .times(1)
            .returning(|_, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
    }

    #[tokio::test]
    async fn a_retry_of_the_same_session_replays_the_first_answer_and_writes_nothing() {
        let mut helpdesk = MockHelpdesk::new();
        one_escalation(&mut helpdesk);
        let store = Arc::new(MemoryStore::new());
        let deployment = deploy(helpdesk, store.clone());
        let first = json_body(&call_in(&deployment, BILLING).await);
        assert_eq!(first["alreadyEscalated"], false);
        // A longer transcript is still the same session; `.times(1)` above fails on a second write.
        let longer = BILLING.replace(
            r#"{"role":"ai","text":"Hello"}"#,
            r#"{"role":"ai","text":"Hello"},{"role":"customer","text":"??"}"#,
        );
        let again = json_body(&call_in(&deployment, &longer).await);
        assert_eq!(again["conversationId"], "77");
        assert_eq!(again["alreadyEscalated"], true);
        assert_eq!(again["assignee"], first["assignee"]);
    }

    #[tokio::test]
    async fn a_session_escalated_by_the_previous_release_is_honoured() {
        let mut helpdesk = MockHelpdesk::new();
        round_one(&mut helpdesk, Some("s-1|77"));
        // No create, no note, no tags: the mock panics on any unexpected call.
        let body = json_body(&call(helpdesk, BILLING).await);
        assert_eq!(body["conversationId"], "77");
        assert_eq!(body["alreadyEscalated"], true);
    }

    #[tokio::test]
    async fn a_retry_while_the_first_is_running_gets_409() {
        let helpdesk = MockHelpdesk::new();
        let store = Arc::new(MemoryStore::new());
        shared::store::Store::claim(store.as_ref(), "escalate#s-1", "s-1", std::time::Duration::from_secs(30))
            .await
            .unwrap();
        let deployment = deploy(helpdesk, store.clone());
        let response = call_in(&deployment, BILLING).await;
        assert_eq!(error_of(&response).0, 409);
        assert_eq!(error_of(&response).1, "idempotency_key_in_use");
        assert!(json_body(&response)["error"]["retryAfterSeconds"].as_u64().unwrap() >= 1);
    }

    #[tokio::test]
    async fn an_idempotency_key_names_one_session() {
        let mut helpdesk = MockHelpdesk::new();
        one_escalation(&mut helpdesk);
        let store = Arc::new(MemoryStore::new());
        let keyed = BILLING.replacen('{', r#"{"idempotencyKey":"k-1","#, 1);
        let deployment = deploy(helpdesk, store.clone());
        assert_eq!(call_in(&deployment, &keyed).await.status(), 200);
        let other_session = keyed.replace(r#""sessionId":"s-1""#, r#""sessionId":"s-9""#);
        assert_eq!(error_of(&call_in(&deployment, &other_session).await).1, "idempotency_key_reused");
    }

    #[tokio::test]
    async fn a_store_outage_is_503_and_nothing_reaches_intercom() {
        let helpdesk = MockHelpdesk::new();
        let store = Arc::new(MemoryStore::new());
        store.set_down(true);
        let deployment = deploy(helpdesk, store.clone());
        let response = call_in(&deployment, BILLING).await;
        assert_eq!(error_of(&response).0, 503);
        assert_eq!(error_of(&response).1, "idempotency_unavailable");
    }

    #[tokio::test]
    async fn no_trigger_means_no_intercom_call_and_dry_run_never_writes() {
        // Any call would panic: nothing is expected.
        let deployment = deploy(MockHelpdesk::new(), Arc::new(MemoryStore::new()));
        let calm = r#"{"sessionId":"s-2","userEmail":"jane@example.com","confidence":0.9,"lastMessage":"Thanks, that worked"}"#;
        let body = json_body(&call_in(&deployment, calm).await);
        assert_eq!(body["escalated"], false);
        assert_eq!(body["reasons"], serde_json::json!([]));

        let dry = r#"{"sessionId":"s-3","confidence":0.2,"lastMessage":"can I talk to a human?","dryRun":true}"#;
        let body = json_body(&call_in(&deployment, dry).await);
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
        let response = call(helpdesk, BILLING).await;
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
        let store = Arc::new(MemoryStore::new());
        let deployment = deploy(helpdesk, store.clone());
        assert_eq!(error_of(&call_in(&deployment, BILLING).await).0, 404);
        // The session was given back: the next attempt may run.
        let claim =
            shared::store::Store::claim(store.as_ref(), "escalate#s-1", "s-1", std::time::Duration::from_secs(30));
        assert_eq!(claim.await.unwrap(), shared::store::Claim::Acquired);
    }

    #[tokio::test]
    async fn bad_input_is_refused() {
        let helpdesk = MockHelpdesk::new();
        let workspaces = workspace_of(helpdesk).build();
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
            let response = call_in(&workspaces, body).await;
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
    }

    #[tokio::test]
    async fn nobody_available_posts_the_away_reply_as_the_ai() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_or_create_contact()
            .returning(|_, _, _| Ok(ResolvedContact { contact: contact("c1", "jane@example.com"), created: false }));
        helpdesk.expect_ensure_tags().returning(|names| {
            Ok(names.iter().enumerate().map(|(i, n)| Tag { id: i.to_string(), name: n.clone() }).collect())
        });
        helpdesk.expect_find_team().returning(|_| Ok(Some(Team { id: "300".into(), name: "Billing".into() })));
        helpdesk.expect_admin_id().returning(|| Ok("1".into()));
        // Grace is away; Sam is not, but not in Billing.
        helpdesk.expect_list_admins().returning(|| {
            Ok(vec![teammate("1", false, &["300"]), teammate("2", true, &["300"]), teammate("3", false, &[])])
        });
        helpdesk.expect_create_conversation().returning(|_, _| Ok("77".into()));
        helpdesk.expect_update_contact_attributes().returning(|_, _| Ok(contact("c1", "jane@example.com")));
        helpdesk.expect_tag_conversation().returning(|_, _, _| Ok(()));
        helpdesk.expect_assign_conversation().returning(|_, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        helpdesk
            .expect_reply()
            .withf(|_, kind, _, _| *kind == MessageKind::Note)
            .times(1)
            .returning(|_, _, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        helpdesk
            .expect_reply()
            .withf(|id, kind, admin, body| {
                id == "77"
                    && *kind == MessageKind::Comment
                    && admin == "1"
                    && body.body.as_deref() == Some("<p>We're away; we'll answer by 9am.</p>")
            })
            .times(1)
            .returning(|_, _, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        let settings = shared::escalation::EscalationSettings {
            away_reply: Some("We're away; we'll answer by 9am.".into()),
            ..settings()
        };
        let response = handle(&workspace_of(helpdesk).escalation(settings).build(), post_json(BILLING)).await.unwrap();
        let body = json_body(&response);
        assert_eq!((&body["humansAvailable"], &body["awayReplyPosted"]), (&false.into(), &true.into()), "{body}");
        assert_eq!(body["failures"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn unreadable_admins_are_a_reported_step_not_a_failed_escalation() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_or_create_contact()
            .returning(|_, _, _| Ok(ResolvedContact { contact: contact("c1", "jane@example.com"), created: false }));
        helpdesk.expect_ensure_tags().returning(|_| Ok(Vec::new()));
        helpdesk.expect_find_team().returning(|_| Ok(None));
        helpdesk.expect_admin_id().returning(|| Ok("1".into()));
        helpdesk.expect_list_admins().returning(|| Err(IntercomError::Unavailable { status: 503, request_id: None }));
        helpdesk.expect_create_conversation().returning(|_, _| Ok("77".into()));
        helpdesk.expect_update_contact_attributes().returning(|_, _| Ok(contact("c1", "jane@example.com")));
        // Only the note: without knowing who is away, no away reply.
        helpdesk.expect_reply().times(1).returning(|_, _, _, _| Ok(conversation(serde_json::json!({"id":"77"}))));
        let settings = shared::escalation::EscalationSettings { away_reply: Some("away".into()), ..settings() };
        let response = handle(&workspace_of(helpdesk).escalation(settings).build(), post_json(BILLING)).await.unwrap();
        let body = json_body(&response);
        assert_eq!(body["conversationId"], "77");
        assert_eq!(body["humansAvailable"], serde_json::Value::Null);
        let steps: Vec<&str> =
            body["failures"].as_array().unwrap().iter().map(|f| f["step"].as_str().unwrap()).collect();
        assert!(steps.contains(&"availability"), "{body}");
    }
}
