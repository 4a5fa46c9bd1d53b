//! The shipped agent tool definitions are generated from the request types: regenerate and compare, so they can
//! never drift from what the functions accept. `UPDATE_AGENT_TOOLS=1 cargo test -p integration-tests --test
//! agent_tools` rewrites them.

use std::path::PathBuf;

use serde_json::{Value, json};
use shared::agent_api::{openapi_document, tool_definitions};

fn check(file: &str, generated: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../agent-tools").join(file);
    let text = serde_json::to_string_pretty(generated).unwrap() + "\n";
    if std::env::var_os("UPDATE_AGENT_TOOLS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is out of date: run UPDATE_AGENT_TOOLS=1 cargo test -p integration-tests --test agent_tools",
        path.display()
    );
}

#[test]
fn openapi_and_tool_files_match_the_request_types() {
    check("openapi.json", &openapi_document());
    check("tools.json", &tool_definitions());
}

#[test]
fn every_function_is_described_with_its_required_fields() {
    let doc = openapi_document();
    let paths = doc["paths"].as_object().unwrap();
    for name in [
        "create-conversation",
        "reply-to-conversation",
        "update-user-attributes",
        "get-conversation",
        "tag-conversation",
        "assign-conversation",
        "manage-conversation",
        "escalate",
    ] {
        assert!(paths.contains_key(&format!("/{name}/")), "{name}");
    }
    let escalate = &paths["/escalate/"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let required: Vec<&str> = escalate["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for field in ["sessionId", "confidence", "lastMessage"] {
        assert!(required.contains(&field), "{required:?}");
    }
    assert_eq!(escalate["additionalProperties"], json!(false), "unknown fields are refused, so the schema says so");
    let tools = tool_definitions();
    let reply = tools.as_array().unwrap().iter().find(|t| t["function"]["name"] == "reply_to_conversation").unwrap();
    assert_eq!(reply["function"]["parameters"]["properties"]["messageType"]["enum"], json!(["comment", "note"]));
}

/// A request built from the tool schema's own example shape is accepted by the real decoder.
#[test]
fn the_documented_seed_payload_decodes() {
    let payload = json!({"userId":"6123abc","attributes":{"support_tier":"premium","last_ai_session":"2026-03-14","escalation_count":2}});
    let decoded: shared::actions::UpdateAttributesRequest = serde_json::from_value(payload).unwrap();
    assert_eq!(decoded.user_id.as_deref(), Some("6123abc"));
}
