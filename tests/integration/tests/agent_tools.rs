//! The shipped agent tool definitions (OpenAPI, LLM tools, MCP tools) are generated from the request types:
//! regenerate and compare, so they can never drift from what the functions accept. `UPDATE_AGENT_TOOLS=1 cargo test -p integration-tests --test
//! agent_tools` rewrites them.

use std::path::PathBuf;

use serde_json::{Value, json};
use shared::agent_api::{openapi_document, operations, tool_definitions};
use shared::mcp::tool_list;

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
    check("mcp-tools.json", &Value::Array(tool_list()));
}

/// One source: every operation is an MCP tool, and its inputSchema is the LLM tool's parameters, byte for byte.
#[test]
fn every_operation_is_an_mcp_tool_with_the_same_schema() {
    let llm_tools = tool_definitions();
    let mcp_tools = tool_list();
    for op in operations() {
        let name = op.name.replace('-', "_");
        let mcp = mcp_tools.iter().find(|t| t["name"] == name.as_str());
        let mcp = mcp.unwrap_or_else(|| panic!("{} has no MCP tool: add its line to shared::mcp::CATALOGUE", op.name));
        let llm = llm_tools.as_array().unwrap().iter().find(|t| t["function"]["name"] == name.as_str()).unwrap();
        assert_eq!(mcp["inputSchema"], llm["function"]["parameters"], "{name}");
        let annotations = mcp["annotations"].as_object().unwrap();
        for hint in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
            assert!(annotations[hint].is_boolean(), "{name} {hint}");
        }
    }
    assert_eq!(mcp_tools.len(), operations().len(), "an MCP tool without an operation");
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

/// LLM tool APIs refuse `oneOf`/`anyOf`/`allOf` (and `not`, `if`) at the top of an input schema (Anthropic:
/// "input_schema does not support oneOf, allOf, or anyOf at the top level"): every tool's schema is a plain
/// object, and a rule the OpenAPI document states with a combinator is in the tool's description instead.
#[test]
fn tool_input_schemas_have_no_top_level_combinators() {
    let llm_tools = tool_definitions();
    let mcp_tools = tool_list();
    let mut schemas: Vec<(String, Value, String)> = Vec::new();
    // The generated definitions: openapi_and_tool_files_match_the_request_types holds the committed files to them.
    for t in llm_tools.as_array().unwrap() {
        let f = &t["function"];
        schemas.push((f["name"].to_string(), f["parameters"].clone(), f["description"].to_string()));
    }
    for t in &mcp_tools {
        schemas.push((t["name"].to_string(), t["inputSchema"].clone(), t["description"].to_string()));
    }
    assert_eq!(schemas.len(), 2 * operations().len());
    for (name, schema, _) in &schemas {
        assert_eq!(schema["type"], "object", "{name}");
        assert!(schema["properties"].is_object(), "{name}");
        for keyword in ["oneOf", "anyOf", "allOf", "not", "if", "then", "else"] {
            assert!(schema.get(keyword).is_none(), "{name}: tool input schemas cannot have a top-level {keyword}");
        }
    }
    // The OpenAPI document keeps the combinators (HTTP clients and Schemathesis read them); each has its words.
    let doc = openapi_document();
    for op in operations() {
        let request =
            &doc["paths"][format!("/{}/", op.name)]["post"]["requestBody"]["content"]["application/json"]["schema"];
        let combined = ["oneOf", "anyOf", "allOf", "not"].iter().any(|k| request.get(*k).is_some());
        assert_eq!(
            combined,
            op.rule.is_some(),
            "{}: a top-level combinator needs its rule in words, and only one",
            op.name
        );
        if let Some(rule) = op.rule {
            let name = format!("{:?}", op.name.replace('-', "_"));
            let described = schemas.iter().filter(|(n, _, d)| *n == name && d.contains(rule)).count();
            assert_eq!(described, 2, "{}: every tool description says {rule:?}", op.name);
        }
    }
}
