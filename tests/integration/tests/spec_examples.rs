//! Every example answer Intercom's contract gives for the operations we call, decoded with our models, and
//! every field we read compared with the example's. The examples come from the raw YAML
//! (`tests/contract/intercom-2.14.examples.json`, derived by `scripts/derive-contract.py`), not the
//! Prism-ready copy, which coerces ids to strings: Intercom writes some as numbers (conversation part ids,
//! assignee ids), and the decoders must take what Intercom sends.

use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::intercom::models::{
    Admin, Author, Contact, ContactList, Conversation, CreatedMessage, Tag, TagList, Team, TeamList,
};

const EXAMPLES: &str = include_str!("../../contract/intercom-2.14.examples.json");

/// The success examples (2xx) of one operation, `(name, answer)`; fails if it has none, so a regeneration
/// that loses them cannot make this test pass by checking nothing.
fn success_examples(operation: &str) -> Vec<(String, Value)> {
    let all: Value = serde_json::from_str(EXAMPLES).expect("tests/contract/intercom-2.14.examples.json is JSON");
    let by_status = all
        .get(operation)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{operation} is not in the examples: add it to scripts/derive-contract.py"));
    let found: Vec<(String, Value)> = by_status
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
        .filter_map(|(status, named)| Some((status, named.as_object()?)))
        .flat_map(|(status, named)| {
            named.iter().map(move |(name, v)| (format!("{operation} {status} {name:?}"), v.clone()))
        })
        .collect();
    assert!(!found.is_empty(), "{operation} has no success example");
    found
}

fn decode<T: DeserializeOwned>(what: &str, v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{what}: our decoder refuses Intercom's example: {e}"))
}

/// An id as the product holds it: the string, or the number's digits; absent or null is `None`.
fn id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn items<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("{what}: not an array in the example"))
}

fn check_author(what: &str, ours: Option<&Author>, example: &Value) {
    if example.is_null() {
        assert!(ours.is_none(), "{what}: author");
        return;
    }
    let ours = ours.unwrap_or_else(|| panic!("{what}: author lost"));
    assert_eq!(ours.kind, text(&example["type"]), "{what}: author.type");
    assert_eq!(ours.id, id(&example["id"]), "{what}: author.id");
    assert_eq!(ours.name, text(&example["name"]), "{what}: author.name");
    assert_eq!(ours.email, text(&example["email"]), "{what}: author.email");
}

fn check_conversation(what: &str, c: &Conversation, v: &Value) {
    assert_eq!(Some(c.id.clone()), id(&v["id"]), "{what}: id");
    assert_eq!(c.created_at, v["created_at"].as_i64(), "{what}: created_at");
    assert_eq!(c.updated_at, v["updated_at"].as_i64(), "{what}: updated_at");
    assert_eq!(c.title, text(&v["title"]), "{what}: title");
    assert_eq!(c.state, text(&v["state"]), "{what}: state");
    assert_eq!(c.snoozed_until, v["snoozed_until"].as_i64(), "{what}: snoozed_until");
    // "0" / 0 means unassigned.
    let assignee = |v: &Value| id(v).filter(|s| s != "0");
    assert_eq!(c.admin_assignee_id, assignee(&v["admin_assignee_id"]), "{what}: admin_assignee_id");
    assert_eq!(c.team_assignee_id, assignee(&v["team_assignee_id"]), "{what}: team_assignee_id");

    let tags: Vec<(Option<String>, Option<String>)> =
        c.tags.tags.iter().map(|t| (Some(t.id.clone()), Some(t.name.clone()))).collect();
    let example_tags: Vec<_> = v["tags"]["tags"]
        .as_array()
        .map(|ts| ts.iter().map(|t| (id(&t["id"]), text(&t["name"]))).collect())
        .unwrap_or_default();
    assert_eq!(tags, example_tags, "{what}: tags");

    let contacts: Vec<(Option<String>, Option<String>)> =
        c.contacts.contacts.iter().map(|r| (Some(r.id.clone()), r.external_id.clone())).collect();
    let example_contacts: Vec<_> = v["contacts"]["contacts"]
        .as_array()
        .map(|cs| cs.iter().map(|r| (id(&r["id"]), text(&r["external_id"]))).collect())
        .unwrap_or_default();
    assert_eq!(contacts, example_contacts, "{what}: contacts");

    let source = &v["source"];
    match &c.source {
        None => assert!(source.is_null(), "{what}: source lost"),
        Some(s) => {
            assert_eq!(s.id, id(&source["id"]), "{what}: source.id");
            assert_eq!(s.subject, text(&source["subject"]), "{what}: source.subject");
            assert_eq!(s.body, text(&source["body"]), "{what}: source.body");
            assert_eq!(s.delivered_as, text(&source["delivered_as"]), "{what}: source.delivered_as");
            check_author(&format!("{what}: source"), s.author.as_ref(), &source["author"]);
        }
    }

    let parts = &c.conversation_parts.conversation_parts;
    let example_parts = v["conversation_parts"]["conversation_parts"].as_array().cloned().unwrap_or_default();
    assert_eq!(parts.len(), example_parts.len(), "{what}: conversation_parts");
    assert_eq!(
        c.conversation_parts.total_count,
        v["conversation_parts"]["total_count"].as_u64(),
        "{what}: total_count"
    );
    for (p, e) in parts.iter().zip(&example_parts) {
        let at = format!("{what}: part {}", p.id);
        assert_eq!(Some(p.id.clone()), id(&e["id"]), "{at}: id");
        assert_eq!(p.part_type, text(&e["part_type"]), "{at}: part_type");
        assert_eq!(p.body, text(&e["body"]), "{at}: body");
        assert_eq!(p.created_at, e["created_at"].as_i64(), "{at}: created_at");
        assert_eq!(p.assigned_to.clone().unwrap_or(Value::Null), e["assigned_to"], "{at}: assigned_to");
        check_author(&at, p.author.as_ref(), &e["author"]);
    }

    let attributes = v["custom_attributes"].as_object().cloned().unwrap_or_default();
    assert_eq!(c.custom_attributes, attributes, "{what}: custom_attributes");
}

fn check_contact(what: &str, c: &Contact, v: &Value) {
    assert_eq!(Some(c.id.clone()), id(&v["id"]), "{what}: id");
    assert_eq!(c.role, text(&v["role"]), "{what}: role");
    assert_eq!(c.email, text(&v["email"]), "{what}: email");
    assert_eq!(c.name, text(&v["name"]), "{what}: name");
    assert_eq!(c.external_id, text(&v["external_id"]), "{what}: external_id");
    let attributes = v["custom_attributes"].as_object().cloned().unwrap_or_default();
    assert_eq!(c.custom_attributes, attributes, "{what}: custom_attributes");
}

fn check_admin(what: &str, a: &Admin, v: &Value) {
    assert_eq!(Some(a.id.clone()), id(&v["id"]), "{what}: id");
    assert_eq!(a.name, text(&v["name"]), "{what}: name");
}

fn check_tag(what: &str, t: &Tag, v: &Value) {
    assert_eq!((Some(t.id.clone()), Some(t.name.clone())), (id(&v["id"]), text(&v["name"])), "{what}");
}

fn check_team(what: &str, t: &Team, v: &Value) {
    assert_eq!((Some(t.id.clone()), Some(t.name.clone())), (id(&v["id"]), text(&v["name"])), "{what}");
}

#[test]
fn conversation_answers_decode_as_intercom_wrote_them() {
    let mut parts_seen = 0;
    for op in [
        "GET /conversations/{conversation_id}",
        "PUT /conversations/{conversation_id}",
        "POST /conversations/{conversation_id}/reply",
        "POST /conversations/{conversation_id}/parts",
    ] {
        for (what, v) in success_examples(op) {
            let c: Conversation = decode(&what, &v);
            check_conversation(&what, &c, &v);
            parts_seen += c.conversation_parts.conversation_parts.len();
        }
    }
    // GET /conversations/{id}'s example has parts whose ids are numbers: the case that must keep working.
    assert!(parts_seen > 0, "no example had conversation parts; the test would prove little");
}

#[test]
fn conversation_search_answers_decode() {
    for (what, v) in success_examples("POST /conversations/search") {
        let found = items(&v["conversations"], &what);
        assert!(!found.is_empty(), "{what}: the example lists no conversation");
        for (i, e) in found.iter().enumerate() {
            let what = format!("{what} conversations[{i}]");
            let c: Conversation = decode(&what, e);
            check_conversation(&what, &c, e);
        }
    }
}

#[test]
fn created_conversation_answer_gives_its_id() {
    for (what, v) in success_examples("POST /conversations") {
        let created: CreatedMessage = decode(&what, &v);
        assert!(created.conversation_id.is_some(), "{what}: conversation_id");
        assert_eq!(created.conversation_id, id(&v["conversation_id"]), "{what}: conversation_id");
    }
}

#[test]
fn contact_answers_decode() {
    for op in [
        "POST /contacts",
        "PUT /contacts/{contact_id}",
        "GET /contacts/{contact_id}",
        "GET /contacts/find_by_external_id/{external_id}",
    ] {
        for (what, v) in success_examples(op) {
            let c: Contact = decode(&what, &v);
            check_contact(&what, &c, &v);
        }
    }
    for (what, v) in success_examples("POST /contacts/search") {
        let list: ContactList = decode(&what, &v);
        let example = items(&v["data"], &what);
        assert_eq!(list.data.len(), example.len(), "{what}: data");
        for (c, e) in list.data.iter().zip(example) {
            check_contact(&what, c, e);
        }
    }
}

#[test]
fn admin_answers_decode() {
    for op in ["GET /me", "GET /admins/{admin_id}"] {
        for (what, v) in success_examples(op) {
            let a: Admin = decode(&what, &v);
            check_admin(&what, &a, &v);
        }
    }
    for (what, v) in success_examples("GET /admins") {
        let admins = items(&v["admins"], &what);
        assert!(!admins.is_empty(), "{what}: the example lists no admin");
        for e in admins {
            let a: Admin = decode(&what, e);
            check_admin(&what, &a, e);
        }
    }
}

#[test]
fn team_and_tag_answers_decode() {
    for (what, v) in success_examples("GET /teams") {
        let list: TeamList = decode(&what, &v);
        let example = items(&v["teams"], &what);
        assert_eq!(list.teams.len(), example.len(), "{what}: teams");
        for (t, e) in list.teams.iter().zip(example) {
            check_team(&what, t, e);
        }
    }
    for (what, v) in success_examples("GET /teams/{team_id}") {
        check_team(&what, &decode(&what, &v), &v);
    }
    for (what, v) in success_examples("GET /tags") {
        let list: TagList = decode(&what, &v);
        let example = items(&v["data"], &what);
        assert_eq!(list.data.len(), example.len(), "{what}: data");
        for (t, e) in list.data.iter().zip(example) {
            check_tag(&what, t, e);
        }
    }
    for op in [
        "POST /tags",
        "GET /tags/{tag_id}",
        "POST /conversations/{conversation_id}/tags",
        "DELETE /conversations/{conversation_id}/tags/{tag_id}",
    ] {
        for (what, v) in success_examples(op) {
            check_tag(&what, &decode(&what, &v), &v);
        }
    }
}
