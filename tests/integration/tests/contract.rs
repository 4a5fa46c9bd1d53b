//! Contract tests: every Intercom call each action makes goes through `prism proxy --errors` with Intercom's
//! official v2.14 contract, in front of the fake. Prism answers 422 to a request that breaks the contract and
//! 500 to a fake answer that breaks it, so an action that succeeds here sent only valid requests and read only
//! Intercom-shaped answers. Prism's log is checked too, for findings that do not fail a request.
//!
//! Skipped (with a message) where Prism or the spec is missing; never on CI.

use integration_tests::Stack;
use serde_json::{Value, json};
use shared::actions;
use shared::actions::escalate;
use shared::escalation::{EscalationSettings, Routing};

fn ok(step: &str, (status, body): (u16, Value)) -> Value {
    assert_eq!(status, 200, "{step}: {body}");
    body
}

#[tokio::test]
async fn every_action_sends_contract_valid_requests_and_reads_contract_valid_answers() {
    let Some(stack) = Stack::through_prism().await else { return };
    let c = &stack.client;

    // create-conversation: unknown email → search, create contact, open conversation.
    let created = ok(
        "create-conversation (new contact)",
        stack
            .call(json!({"userEmail":"contract@example.com","name":"Contract Test","body":"Hello"}), |i| {
                actions::create_conversation(c, stack.store.as_ref(), i)
            })
            .await,
    );
    let id = created["conversationId"].as_str().unwrap().to_owned();
    // By external id, and through Intercom's 409 (search not yet indexed) path.
    ok(
        "create-conversation (external id)",
        stack
            .call(json!({"userId":"6123abc","body":"Hi again"}), |i| {
                actions::create_conversation(c, stack.store.as_ref(), i)
            })
            .await,
    );
    stack.handle().set_search_index_delay(true);
    ok(
        "create-conversation (409 path)",
        stack
            .call(json!({"userEmail":"late@example.com","body":"one"}), |i| {
                actions::create_conversation(c, stack.store.as_ref(), i)
            })
            .await,
    );
    ok(
        "create-conversation (409 path, second)",
        stack
            .call(json!({"userEmail":"late@example.com","body":"two"}), |i| {
                actions::create_conversation(c, stack.store.as_ref(), i)
            })
            .await,
    );
    stack.handle().set_search_index_delay(false);

    for step in [
        json!({"conversationId": id, "body": "A reply"}),
        json!({"conversationId": id, "body": "A note", "messageType": "note"}),
    ] {
        ok("reply-to-conversation", stack.call(step, |i| actions::reply_to_conversation(c, i)).await);
    }
    ok(
        "update-user-attributes",
        stack
            .call(
                json!({"userId":"6123abc","attributes":{"support_tier":"premium","last_ai_session":"2026-03-14","escalation_count":2}}),
                |i| actions::update_user_attributes(c, i),
            )
            .await,
    );
    ok(
        "update-user-attributes (new contact)",
        stack
            .call(json!({"userEmail":"attrs@example.com","attributes":{"vip":true}}), |i| {
                actions::update_user_attributes(c, i)
            })
            .await,
    );
    ok(
        "tag-conversation",
        stack
            .call(json!({"conversationId": id, "tags": ["contract", "vip"]}), |i| actions::tag_conversation(c, i))
            .await,
    );
    ok(
        "tag-conversation (remove)",
        stack.call(json!({"conversationId": id, "removeTags": ["vip"]}), |i| actions::tag_conversation(c, i)).await,
    );
    for assign in [json!({"teamName": "Support"}), json!({"adminId": "991268"}), json!({"teamId": "0"})] {
        let mut body = json!({"conversationId": id});
        body.as_object_mut().unwrap().extend(assign.as_object().unwrap().clone());
        ok("assign-conversation", stack.call(body, |i| actions::assign_conversation(c, i)).await);
    }
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
    for manage in
        [json!({"action":"close"}), json!({"action":"open"}), json!({"action":"snooze","snoozedUntil": until})]
    {
        let mut body = json!({"conversationId": id});
        body.as_object_mut().unwrap().extend(manage.as_object().unwrap().clone());
        ok("manage-conversation", stack.call(body, |i| actions::manage_conversation(c, i)).await);
    }
    let history =
        ok("get-conversation", stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await);
    assert!(history["messages"].as_array().unwrap().len() >= 8, "{history}");

    // escalate: the whole hand-off flow, for a known and a new customer, and a retry.
    let settings = EscalationSettings {
        routing: Routing::parse(Some("billing=Billing,*=Support")).unwrap(),
        ..Default::default()
    };
    for (session, who) in
        [("c-1", json!({"userEmail":"jane@example.com"})), ("c-2", json!({"userEmail":"escalated@example.com"}))]
    {
        let mut body = json!({"sessionId": session, "confidence": 0.3, "category": "billing", "lastMessage": "I was charged twice",
            "transcript": [{"role":"customer","text":"charged twice"},{"role":"ai","text":"Let me check"}]});
        body.as_object_mut().unwrap().extend(who.as_object().unwrap().clone());
        let first =
            ok("escalate", stack.call(body.clone(), |i| escalate(c, stack.store.as_ref(), &settings, i, None)).await);
        assert_eq!(first["failures"], json!([]), "{first}");
        let again =
            ok("escalate (retry)", stack.call(body, |i| escalate(c, stack.store.as_ref(), &settings, i, None)).await);
        assert_eq!(again["conversationId"], first["conversationId"]);
    }

    // Documented errors keep their shape through the contract too.
    let (status, _) = stack.call(json!({"conversationId":"424242"}), |i| actions::get_conversation(c, i)).await;
    assert_eq!(status, 404);

    if std::env::var_os("SHOW_PRISM_LOG").is_some() {
        eprintln!("{}", stack.prism.as_ref().map(|p| p.log()).unwrap_or_default());
    }
    let violations = stack.contract_violations();
    assert!(violations.is_empty(), "Prism found contract violations:\n{}", violations.join("\n"));
    assert!(!stack.handle().requests().is_empty());
}
