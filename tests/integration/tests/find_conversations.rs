//! find-conversations and create-conversation's `continueOpen` against the fake Intercom, through Prism (the
//! official contract) when it is installed, else directly.

use std::collections::HashSet;

use integration_tests::Stack;
use serde_json::{Value, json};
use shared::actions;
use shared::handoff::HandoffSettings;

async fn stack() -> Stack {
    match Stack::through_prism().await {
        Some(stack) => stack,
        None => Stack::direct().await,
    }
}

fn jane_id(stack: &Stack) -> String {
    stack.handle().with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("seeded")
}

/// Opens a conversation as `contact_id` straight in the fake (not through our functions).
fn open_in_fake(stack: &Stack, contact_id: &str, body: &str) -> String {
    stack.handle().with_state(|s| s.create_conversation(contact_id, body, None)).expect("created").id.to_string()
}

async fn find(stack: &Stack, body: Value) -> (u16, Value) {
    let handoff = HandoffSettings::default(); // the AI's admin from GET /me
    stack.call(body, |i| actions::find_conversations(&stack.client, stack.store.as_ref(), &handoff, i)).await
}

fn ids(page: &Value) -> Vec<String> {
    page["conversations"].as_array().unwrap().iter().map(|c| c["conversationId"].as_str().unwrap().to_owned()).collect()
}

fn no_violations(stack: &Stack) {
    assert!(stack.contract_violations().is_empty(), "{:?}", stack.contract_violations());
}

#[tokio::test]
async fn paging_lists_every_conversation_once_and_ends_with_a_null_cursor() {
    let stack = stack().await;
    let jane = jane_id(&stack);
    let opened: HashSet<String> = (0..57).map(|i| open_in_fake(&stack, &jane, &format!("question {i}"))).collect();

    let (mut seen, mut cursor, mut pages) = (Vec::new(), Value::Null, 0);
    loop {
        let (status, page) =
            find(&stack, json!({"userEmail": "jane@example.com", "limit": 50, "cursor": cursor})).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let page_ids = ids(&page);
        assert!(page_ids.len() <= 50);
        let updated: Vec<i64> =
            page["conversations"].as_array().unwrap().iter().map(|c| c["updatedAt"].as_i64().unwrap()).collect();
        assert!(updated.windows(2).all(|w| w[0] >= w[1]), "newest first within a page: {updated:?}");
        seen.extend(page_ids);
        cursor = page["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
        assert!(pages < 5, "paging does not end");
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 57, "each conversation once");
    let seen: HashSet<String> = seen.into_iter().collect();
    assert_eq!(seen, opened);
    // Previews and handling come from the search result itself.
    let (_, first) = find(&stack, json!({"userEmail": "jane@example.com", "limit": 1})).await;
    let only = &first["conversations"][0];
    assert!(only["lastMessage"]["text"].as_str().unwrap().starts_with("question "), "{only}");
    assert_eq!(only["lastMessage"]["kind"], "message");
    assert_eq!(only["handling"], Value::Null, "unassigned: a search result cannot settle it");
    no_violations(&stack);
}

#[tokio::test]
async fn state_and_updated_since_filter_and_the_assignment_settles_handling() {
    let stack = stack().await;
    let jane = jane_id(&stack);
    let (old, closed, fresh) = (
        open_in_fake(&stack, &jane, "old"),
        open_in_fake(&stack, &jane, "closed"),
        open_in_fake(&stack, &jane, "fresh"),
    );
    let now = shared::store::now_epoch_secs();
    stack.handle().with_state(|s| {
        s.conversations.get_mut(&old.parse().unwrap()).unwrap().updated_at = now - 3 * 24 * 3600;
        s.close(&closed, "991267", None).unwrap();
        s.assign(&fresh, "991267", fake_intercom::AssigneeKind::Admin, "991268", None).unwrap();
    });

    let (status, page) = find(&stack, json!({"userEmail": "jane@example.com", "state": "closed"})).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), [closed.as_str()]);
    assert_eq!(page["conversations"][0]["state"], "closed");

    let since = now - 24 * 3600;
    let (_, page) = find(&stack, json!({"userId": "6123abc", "state": "open", "updatedSince": since})).await;
    assert_eq!(ids(&page), [fresh.as_str()]);
    let fresh_summary = &page["conversations"][0];
    assert_eq!(fresh_summary["assignee"]["adminId"], "991268");
    assert_eq!(fresh_summary["handling"], "human", "assigned to a teammate: the search result settles it");

    let (_, page) = find(&stack, json!({"contactId": jane, "state": "any"})).await;
    assert_eq!(ids(&page).len(), 3);
    no_violations(&stack);
}

#[tokio::test]
async fn limits_and_filters_are_validated_before_intercom_is_asked() {
    let stack = Stack::direct().await;
    for (body, field) in [
        (json!({"userEmail": "jane@example.com", "limit": 51}), "limit"),
        (json!({"userEmail": "jane@example.com", "limit": 0}), "limit"),
        (json!({"userEmail": "jane@example.com", "state": "pending"}), "state"),
        (json!({"userEmail": "jane@example.com", "updatedSince": 1_700_000_000_000i64}), "updatedSince"),
    ] {
        let (status, answer) = find(&stack, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    assert!(stack.handle().requests().is_empty(), "nothing reached Intercom");
    let (status, answer) = find(&stack, json!({"userEmail": "nobody@example.com"})).await;
    assert_eq!(status, 404, "{answer}");
}

#[tokio::test]
async fn a_conversation_opened_seconds_ago_is_found_despite_search_lag() {
    let stack = stack().await;
    let c = &stack.client;
    stack.handle().set_search_index_delay(true);
    let (status, created) = stack
        .call(json!({"userEmail": "jane@example.com", "body": "Where is my refund?"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["conversationId"].as_str().unwrap().to_owned();
    let listed = stack.handle().with_state(|s| s.searchable_conversations().iter().any(|c| c.id.to_string() == id));
    assert!(!listed, "the fake's search has not indexed it yet");

    let (status, page) = find(&stack, json!({"userEmail": "jane@example.com", "state": "open"})).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), [id.as_str()]);
    assert_eq!(page["conversations"][0]["lastMessage"]["text"], "Where is my refund?");
    assert_eq!(page["conversations"][0]["handling"], "ai", "read whole: unassigned and never handed off");

    stack.handle().index_search();
    let (_, page) = find(&stack, json!({"userEmail": "jane@example.com"})).await;
    assert_eq!(ids(&page), [id], "once, when search lists it too");
    no_violations(&stack);
}

#[tokio::test]
async fn continue_open_adds_to_an_open_conversation_within_the_window_only() {
    let stack = stack().await;
    let c = &stack.client;
    stack.handle().set_search_index_delay(true);
    let create = |body: Value| stack.call(body, |i| actions::create_conversation(c, stack.store.as_ref(), i));

    let (_, first) = create(json!({"userEmail": "jane@example.com", "body": "My card was declined"})).await;
    let id = first["conversationId"].as_str().unwrap().to_owned();
    // Seconds later, search has not indexed it: the store knows it.
    let (status, again) =
        create(json!({"userEmail": "jane@example.com", "body": "I tried another card", "continueOpen": true})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["conversationId"], id.as_str());
    assert_eq!(again["continued"], true);
    let last = stack.handle().with_state(|s| s.conversation(&id).and_then(|c| c.parts.last().cloned())).unwrap();
    assert_eq!(last.part_type, "comment");
    assert_eq!(last.author.kind, "user", "the customer's own reply");
    assert!(last.body.as_deref().unwrap_or_default().contains("I tried another card"));

    // Outside the window (default 24 h) a new conversation is opened.
    let now = shared::store::now_epoch_secs();
    stack.handle().with_state(|s| s.conversations.get_mut(&id.parse().unwrap()).unwrap().updated_at = now - 25 * 3600);
    stack.handle().index_search();
    let (status, third) =
        create(json!({"userEmail": "jane@example.com", "body": "Something else", "continueOpen": true})).await;
    assert_eq!(status, 200, "{third}");
    assert_ne!(third["conversationId"], id.as_str());
    assert!(third.get("continued").is_none(), "{third}");
    no_violations(&stack);
}

/// A cursor no page gave is the agent's to fix (400 naming `cursor`), not Intercom failing (502). Directly on
/// the fake: the contract declares no refusal for search at all, so Prism would flag the fake's 400.
#[tokio::test]
async fn a_made_up_cursor_is_a_400_naming_cursor() {
    let stack = Stack::direct().await;
    let (status, body) = find(&stack, json!({"userEmail": "jane@example.com", "cursor": "not-a-cursor"})).await;
    assert_eq!(
        (status, &body["error"]["code"], &body["error"]["field"]),
        (400, &json!("invalid_request"), &json!("cursor"))
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("nextCursor"), "{body}");
    let (status, body) =
        find(&stack, json!({"userEmail": "jane@example.com", "updatedSince": 5.0, "limit": 2.0})).await;
    assert_eq!(status, 200, "whole-number floats are integers: {body}");
}
