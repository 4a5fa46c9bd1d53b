//! The function end to end, through the SDK (the gate's own cases are tested beside it, in `shared::mcp`).

use std::sync::Arc;

use lambda_http::http::{self, HeaderMap, header};
use serde_json::{Value, json};
use shared::config::AgentAuth;
use shared::helpdesk::MockHelpdesk;
use shared::http::AgentGuard;
use shared::mcp::HostPolicy;
use shared::secrets::{SecretStore, Secrets};
use shared::testing::conversation;

use super::*;

/// The Host a deployed function URL receives.
const FUNCTION_URL_HOST: &str = "abc123xyz.lambda-url.eu-west-1.on.aws";
const KEY: &str = "k-123";

fn setup(helpdesk: MockHelpdesk, origins: &[&str]) -> (McpService, Gate) {
    let secrets = Secrets::parse(&json!({"access_token": "t", "agent_api_key": KEY}).to_string()).unwrap();
    let guard = AgentGuard::new(AgentAuth::ApiKey, Arc::new(SecretStore::fixed(secrets)));
    let gate = Gate {
        workspaces: shared::testing::workspace_of(helpdesk).guard(guard).build(),
        hosts: HostPolicy { region: Some("eu-west-1".into()), extra: vec!["mcp.example.com".into()] },
        protocol_versions: crate::server::protocol_versions(),
    };
    (service(origins.iter().map(|o| o.to_string()).collect()), gate)
}

fn request(method: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Request {
    let builder = http::Request::builder()
        .method(method)
        .uri(format!("https://{FUNCTION_URL_HOST}/"))
        .header("host", FUNCTION_URL_HOST)
        .header("authorization", format!("Bearer {KEY}"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    let body = body.map_or(Body::Empty, |b| Body::from(b.to_string()));
    let mut request = builder.body(body).unwrap();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    request
}

fn rpc(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

async fn send(service: &McpService, gate: &Gate, request: Request) -> (u16, HeaderMap, Value) {
    let response = handle(service, gate, request).await.unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (status, response.headers().clone(), body)
}

fn initialize() -> Value {
    let client = json!({"name": "test", "version": "1"});
    rpc("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}))
}

#[tokio::test]
async fn initialize_on_a_function_url_host_answers_json_without_a_session() {
    let (service, gate) = setup(MockHelpdesk::new(), &[]);
    let (status, headers, body) = send(&service, &gate, request("POST", Some(initialize()), &[])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert!(headers.get("mcp-session-id").is_none(), "stateless: no session");
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(body["result"]["serverInfo"]["name"], "intercom-actions");
    assert!(body["result"]["capabilities"]["tools"].is_object());

    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let version = [("mcp-protocol-version", "2025-06-18")];
    let (status, _, _) = send(&service, &gate, request("POST", Some(initialized), &version)).await;
    assert_eq!(status, 202);

    let (status, _, body) = send(&service, &gate, request("POST", Some(rpc("ping", json!({}))), &version)).await;
    assert_eq!((status, &body["result"]), (200, &json!({})), "{body}");
}

#[tokio::test]
async fn tools_are_listed_and_called_with_the_function_urls_validation() {
    let mut helpdesk = MockHelpdesk::new();
    helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
    helpdesk
        .expect_get_conversation()
        .withf(|id| id == "7")
        .times(1)
        .returning(|_| Ok(conversation(json!({"id": "7", "state": "open"}))));
    let (service, gate) = setup(helpdesk, &[]);
    let version = [("mcp-protocol-version", "2025-06-18")];

    let (status, _, body) = send(&service, &gate, request("POST", Some(rpc("tools/list", json!({}))), &version)).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> =
        body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "create_conversation",
            "reply_to_conversation",
            "update_user_attributes",
            "get_conversation",
            "tag_conversation",
            "assign_conversation",
            "manage_conversation",
            "escalate",
            "find_conversations"
        ]
    );

    let call = rpc("tools/call", json!({"name": "get_conversation", "arguments": {"conversationId": "7"}}));
    let (status, _, body) = send(&service, &gate, request("POST", Some(call), &version)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["isError"], false);
    assert_eq!(body["result"]["structuredContent"]["conversationId"], "7");
    assert_eq!(body["result"]["structuredContent"]["state"], "open");

    let refused = rpc("tools/call", json!({"name": "reply_to_conversation", "arguments": {"conversationId": "7"}}));
    let (status, _, body) = send(&service, &gate, request("POST", Some(refused), &version)).await;
    assert_eq!(status, 200, "a refused call is a tool result, not a protocol error: {body}");
    assert_eq!(body["result"]["isError"], true);
    assert_eq!(body["result"]["structuredContent"]["error"]["code"], "invalid_request");
    assert_eq!(body["result"]["structuredContent"]["error"]["field"], "body");
    let text: Value = serde_json::from_str(body["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text["error"]["field"], "body");

    let unknown = rpc("tools/call", json!({"name": "delete_everything", "arguments": {}}));
    let (_, _, body) = send(&service, &gate, request("POST", Some(unknown), &version)).await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown tool \"delete_everything\""));

    let (status, _, body) =
        send(&service, &gate, request("POST", Some(json!({"jsonrpc": "2.0", "id": 2})), &version)).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(-32600)), "{body}");
    let mut not_json = request("POST", None, &version);
    *not_json.body_mut() = Body::from("{\"jsonrpc\": ");
    let (status, _, body) = send(&service, &gate, not_json).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(-32700)), "{body}");
    let plain = request("POST", Some(rpc("ping", json!({}))), &[("content-type", "text/plain")]);
    assert_eq!(send(&service, &gate, plain).await.0, 415, "a wrong Content-Type keeps the SDK's 415");
}

#[tokio::test]
async fn a_tool_that_panics_answers_with_an_error_and_the_container_keeps_serving() {
    let mut helpdesk = MockHelpdesk::new();
    helpdesk.expect_admin_id().returning(|| Ok("991267".into()));
    helpdesk.expect_get_conversation().withf(|id| id == "7").returning(|_| panic!("a bug in a decoder"));
    let (service, gate) = setup(helpdesk, &[]);
    let version = [("mcp-protocol-version", "2025-06-18")];

    let call = rpc("tools/call", json!({"name": "get_conversation", "arguments": {"conversationId": "7"}}));
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        send(&service, &gate, request("POST", Some(call), &version)),
    )
    .await
    .expect("a panicking tool must still answer, not leave the client waiting");
    let (status, _, body) = answered;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error"]["code"], -32603, "an internal error: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("failed unexpectedly"), "{body}");
    assert!(!body.to_string().contains("a bug in a decoder"), "the panic message stays in the logs: {body}");

    let (status, _, body) = send(&service, &gate, request("POST", Some(rpc("ping", json!({}))), &version)).await;
    assert_eq!((status, &body["result"]), (200, &json!({})), "the container still serves: {body}");
}

#[tokio::test]
async fn the_gate_answers_before_the_sdk() {
    let (service, gate) = setup(MockHelpdesk::new(), &[]);
    let wrong_key = request("POST", Some(initialize()), &[("authorization", "Bearer k-124")]);
    assert_eq!(send(&service, &gate, wrong_key).await.0, 401);
}

#[tokio::test]
async fn origins_are_refused_unless_listed() {
    let (service, gate) = setup(MockHelpdesk::new(), &["https://agent.example.com"]);
    let evil = [("origin", "https://evil.example")];
    let (status, _, _) = send(&service, &gate, request("POST", Some(initialize()), &evil)).await;
    assert_eq!(status, 403);
    let listed = [("origin", "https://agent.example.com")];
    let (status, _, _) = send(&service, &gate, request("POST", Some(initialize()), &listed)).await;
    assert_eq!(status, 200);

    let (service, gate) = setup(MockHelpdesk::new(), &[]);
    let (status, _, _) = send(&service, &gate, request("POST", Some(initialize()), &listed)).await;
    assert_eq!(status, 403, "no list: every browser Origin is refused");
}
