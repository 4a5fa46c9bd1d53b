//! End to end against the fake Intercom: the real client, the real actions, the same request handling as the
//! Lambdas — only the network peer is the fake.

use integration_tests::Stack;
use serde_json::{Value, json};
use shared::actions;
use shared::actions::escalate;
use shared::escalation::{EscalationSettings, Routing};

fn settings() -> EscalationSettings {
    EscalationSettings {
        routing: Routing::parse(Some("billing=Billing,legal=Legal,*=Support")).unwrap(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_conversation_lifecycle_from_an_unknown_email() {
    let stack = Stack::direct().await;
    let c = &stack.client;

    let (status, created) = stack
        .call(
            json!({"userEmail":"new.customer@example.com","name":"New Customer","body":"My order never arrived"}),
            |i| actions::create_conversation(c, stack.store.as_ref(), i),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["contactCreated"], true);
    let id = created["conversationId"].as_str().unwrap().to_owned();
    let contact =
        stack.handle().with_state(|s| s.contact_by_email("new.customer@example.com").cloned()).expect("created");
    assert_eq!(created["contactId"], contact.id.as_str());
    assert_eq!(contact.name.as_deref(), Some("New Customer"));

    let steps = [
        json!({"conversationId": id, "body": "Sorry about that, let me check."}),
        json!({"conversationId": id, "body": "Carrier lost it; reship.", "messageType": "note"}),
    ];
    for step in steps {
        let (status, body) = stack.call(step, |i| actions::reply_to_conversation(c, i)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["partId"].is_string(), "{body}");
    }
    let (status, body) = stack
        .call(json!({"conversationId": id, "tags": ["shipping", "vip"]}), |i| actions::tag_conversation(c, i))
        .await;
    assert_eq!((status, &body["added"]), (200, &json!(["shipping", "vip"])), "{body}");
    let (status, body) =
        stack.call(json!({"conversationId": id, "teamName": "billing"}), |i| actions::assign_conversation(c, i)).await;
    assert_eq!(status, 200, "{body}");
    let billing = stack.handle().teams().into_iter().find(|t| t.name == "Billing").unwrap();
    assert_eq!(body["assignee"]["teamId"], billing.id.as_str());
    let (status, body) =
        stack.call(json!({"conversationId": id, "action": "close"}), |i| actions::manage_conversation(c, i)).await;
    assert_eq!((status, &body["state"]), (200, &json!("closed")), "{body}");

    let (status, history) = stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["state"], "closed");
    assert_eq!(history["tags"], json!(["shipping", "vip"]));
    assert_eq!(history["contacts"][0]["email"], "new.customer@example.com");
    let messages = history["messages"].as_array().unwrap();
    let kinds: Vec<&str> = messages.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["message", "comment", "note", "assignment", "close"], "{history}");
    assert_eq!(messages[0]["text"], "My order never arrived");
    assert_eq!(messages[0]["author"]["type"], "user");
    assert_eq!(messages[1]["text"], "Sorry about that, let me check.");
    assert_eq!(messages[2]["text"], "Carrier lost it; reship.");
    assert_eq!(messages[1]["author"]["type"], "admin");
    assert_eq!(history["truncated"], false);

    // Removing a tag, and reopening.
    let (_, body) = stack
        .call(json!({"conversationId": id, "removeTags": ["vip", "never-made"]}), |i| actions::tag_conversation(c, i))
        .await;
    assert_eq!((&body["removed"], &body["notFound"]), (&json!(["vip"]), &json!(["never-made"])), "{body}");
    let (_, body) =
        stack.call(json!({"conversationId": id, "action": "open"}), |i| actions::manage_conversation(c, i)).await;
    assert_eq!(body["state"], "open");
    let (_, history) = stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await;
    assert_eq!(history["tags"], json!(["shipping"]));
}

#[tokio::test]
async fn a_known_customer_is_found_not_duplicated_even_before_search_indexes_them() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    stack.handle().set_search_index_delay(true);
    let ask = json!({"userEmail":"fresh@example.com","body":"first"});
    let (_, first) = stack.call(ask.clone(), |i| actions::create_conversation(c, stack.store.as_ref(), i)).await;
    let (status, second) = stack.call(ask, |i| actions::create_conversation(c, stack.store.as_ref(), i)).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(first["contactId"], second["contactId"]);
    assert_eq!(second["contactCreated"], false);
    let with_email =
        stack.handle().contacts().into_iter().filter(|x| x.email.as_deref() == Some("fresh@example.com")).count();
    assert_eq!(with_email, 1);
}

#[tokio::test]
async fn an_archived_customer_is_unarchived_and_used() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let jane = stack.handle().with_state(|s| s.contact_by_email("jane@example.com").cloned()).unwrap();
    stack.handle().with_state(|s| s.set_archived(&jane.id, true)).unwrap();
    let (status, body) = stack
        .call(json!({"userEmail":"jane@example.com","body":"back again"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contactId"], jane.id.as_str());
    assert!(stack.handle().requests().iter().any(|r| r.is("POST", &format!("/contacts/{}/unarchive", jane.id))));
}

#[tokio::test]
async fn the_documented_attribute_payload_updates_jane() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let (status, body) = stack
        .call(
            json!({"userId":"6123abc","attributes":{"support_tier":"premium","last_ai_session":"2026-03-14","escalation_count":2}}),
            |i| actions::update_user_attributes(c, i),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["customAttributes"]["support_tier"], "premium");
    let jane = stack.handle().with_state(|s| s.contact_by_email("jane@example.com").cloned()).unwrap();
    assert_eq!(jane.custom_attributes["escalation_count"], 2);
    assert_eq!(jane.custom_attributes["plan"], "pro", "other attributes are kept");
}

#[tokio::test]
async fn unknown_conversations_and_contacts_are_404s() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let (status, body) = stack.call(json!({"conversationId":"999999"}), |i| actions::get_conversation(c, i)).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["intercomRequestId"].is_string());
    let (status, _) = stack
        .call(json!({"contactId":"0123456789abcdef01234567","body":"x"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 404);
}

async fn escalate_call(stack: &Stack, body: Value) -> (u16, Value) {
    let settings = settings();
    let c = &stack.client;
    stack.call(body, |i| escalate(c, stack.store.as_ref(), &settings, i, None)).await
}

#[tokio::test]
async fn each_trigger_opens_exactly_one_complete_conversation() {
    let cases = [
        (json!({"confidence":0.2,"lastMessage":"How do refunds work?"}), "ai-low-confidence", "Support"),
        (
            json!({"confidence":0.9,"lastMessage":"Can I talk to a real person please?"}),
            "ai-human-requested",
            "Support",
        ),
        (
            json!({"confidence":0.9,"category":"Account Deletion","lastMessage":"Delete my data"}),
            "ai-sensitive-account-deletion",
            "Support",
        ),
        (
            json!({"confidence":0.9,"category":"legal","lastMessage":"My lawyer will call"}),
            "ai-sensitive-legal",
            "Legal",
        ),
    ];
    for (i, (signals, reason_tag, team)) in cases.into_iter().enumerate() {
        let stack = Stack::direct().await;
        let mut request = json!({"sessionId": format!("sess-{i}"), "userEmail": "jane@example.com", "userName": "Jane",
            "transcript": [{"role":"customer","text":"Hello"},{"role":"ai","text":"Hi! How can I help?"}]});
        request.as_object_mut().unwrap().extend(signals.as_object().unwrap().clone());
        let (status, body) = escalate_call(&stack, request).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["escalated"], true);
        assert_eq!(body["failures"], json!([]), "{body}");
        assert_eq!(body["assignee"]["name"], team);
        let fake = stack.handle();
        let conversations = fake.conversations();
        assert_eq!(conversations.len(), 1, "exactly one conversation");
        let conv = &conversations[0];
        assert_eq!(body["conversationId"], conv.id.to_string());
        let team_id: i64 = fake.teams().into_iter().find(|t| t.name == team).unwrap().id.parse().unwrap();
        assert_eq!(conv.team_assignee_id, Some(team_id));
        let tag_names: Vec<String> = conv
            .tags
            .iter()
            .filter_map(|t| fake.tags().into_iter().find(|x| x.id == t.tag_id).map(|x| x.name))
            .collect();
        assert!(
            tag_names.contains(&"ai-escalation".to_owned()) && tag_names.contains(&reason_tag.to_owned()),
            "{tag_names:?}"
        );
        let note = conv.parts.iter().find(|p| p.part_type == "note").expect("a note");
        let note_text = note.body.clone().unwrap_or_default();
        assert!(note_text.contains("Hi! How can I help?") && note_text.contains("AI confidence"), "{note_text}");
        let jane = fake.with_state(|s| s.contact_by_email("jane@example.com").cloned()).unwrap();
        assert_eq!(jane.custom_attributes["escalation_count"], 1);
        assert!(jane.custom_attributes["last_ai_session"].as_str().is_some_and(|d| d.len() == 10));
    }
}

#[tokio::test]
async fn a_retried_session_returns_the_first_conversation() {
    let stack = Stack::direct().await;
    let request = json!({"sessionId":"retry-1","userEmail":"jane@example.com","confidence":0.1,"lastMessage":"help"});
    let (_, first) = escalate_call(&stack, request.clone()).await;
    let (status, second) = escalate_call(&stack, request.clone()).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(first["conversationId"], second["conversationId"]);
    assert_eq!(second["alreadyEscalated"], true);
    assert_eq!(stack.handle().conversations().len(), 1);
    // Another container (a fresh client: cold caches) sees the same record in Intercom.
    let other = integration_tests::client_for(&stack.fake.base_url(), Default::default());
    let settings = settings();
    let (_, third) = stack.call(request, |i| escalate(&other, stack.store.as_ref(), &settings, i, None)).await;
    assert_eq!(third["conversationId"], first["conversationId"]);
    assert_eq!(stack.handle().conversations().len(), 1);
    let jane = stack.handle().with_state(|s| s.contact_by_email("jane@example.com").cloned()).unwrap();
    assert_eq!(jane.custom_attributes["escalation_count"], 1, "counted once");
}

#[tokio::test]
async fn no_escalation_and_dry_runs_touch_nothing_in_intercom() {
    let stack = Stack::direct().await;
    stack.handle().clear_requests();
    let (_, body) = escalate_call(
        &stack,
        json!({"sessionId":"calm","userEmail":"jane@example.com","confidence":0.95,"lastMessage":"thanks!"}),
    )
    .await;
    assert_eq!(body["escalated"], false);
    let (_, body) = escalate_call(
        &stack,
        json!({"sessionId":"dry","userEmail":"jane@example.com","confidence":0.1,"lastMessage":"help","dryRun":true}),
    )
    .await;
    assert_eq!((&body["escalated"], &body["dryRun"]), (&json!(true), &json!(true)));
    assert!(stack.handle().requests().is_empty(), "{:?}", stack.handle().requests());
}

#[tokio::test]
async fn a_known_customer_is_escalated_in_three_round_trips() {
    let stack = Stack::direct().await;
    let fake = stack.handle();
    // Concurrent calls overlap in time only if the fake takes a moment to answer.
    fake.set_latency(std::time::Duration::from_millis(60));
    fake.clear_requests();
    let (status, body) = escalate_call(
        &stack,
        json!({"sessionId":"fast","userEmail":"jane@example.com","confidence":0.9,"category":"billing","lastMessage":"double charge"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let requests = fake.requests();
    assert_eq!(
        fake_intercom::sequential_round_trips(&requests),
        3,
        "{:#?}",
        requests.iter().map(|r| format!("{} {}", r.method, r.path)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_attribute_the_workspace_lacks_is_the_callers_mistake_named_not_a_502() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let (status, body): (u16, Value) = stack
        .call(json!({"userEmail":"jane@example.com","attributes":{"shoe_size":"42","support_tier":"gold"}}), |i| {
            actions::update_user_attributes(c, i)
        })
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "unknown_attribute");
    assert_eq!(body["error"]["field"], "attributes.shoe_size");
    assert!(body["error"]["message"].as_str().unwrap().contains("Settings → Data"), "{body}");
    let jane = stack.handle().with_state(|s| s.contact_by_email("jane@example.com").cloned()).unwrap();
    assert_ne!(jane.custom_attributes.get("support_tier"), Some(&json!("gold")), "refused whole, nothing applied");
}

/// What the agent named does not exist: a 404 naming the field to fix, never a 502 (Intercom did not fail).
#[tokio::test]
async fn an_unknown_admin_or_team_is_a_404_naming_the_field() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let (status, created) = stack
        .call(json!({"userEmail": "jane@example.com", "body": "Where is my parcel?"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["conversationId"].as_str().unwrap().to_owned();
    let (status, body) = stack
        .call(json!({"conversationId": id, "body": "Hi", "adminId": "0", "messageType": "note"}), |i| {
            actions::reply_to_conversation(c, i)
        })
        .await;
    assert_eq!(
        (status, &body["error"]["code"], &body["error"]["field"]),
        (404, &json!("not_found"), &json!("adminId"))
    );
    for (request, field) in [
        (json!({"conversationId": id, "teamId": "424242"}), "teamId"),
        (json!({"conversationId": id, "adminId": "424242"}), "adminId"),
        (json!({"conversationId": id, "teamName": "Nobody Here"}), "teamName"),
    ] {
        let (status, body) = stack.call(request.clone(), |i| actions::assign_conversation(c, i)).await;
        assert_eq!((status, &body["error"]["field"]), (404, &json!(field)), "{request}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let (status, body) =
        stack.call(json!({"conversationId": id, "teamName": "Billing"}), |i| actions::assign_conversation(c, i)).await;
    assert_eq!(status, 200, "{body}");
}
