//! The function URL in front of the SDK's Streamable HTTP server: the `Host` allow-list, the bearer key and the
//! `MCP-Protocol-Version` header are checked here; `Origin`, methods and JSON-RPC are the SDK's.
//!
//! Stateless (no `Mcp-Session-Id`): any container answers any request, and every answer is one JSON body, since a
//! function URL buffers answers anyway. GET and DELETE are 405 (checked first, before the key): there is no stream
//! to resume and no session to end.

use std::sync::Arc;

use http_body_util::BodyExt;
use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Error, Request, RequestExt, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use shared::helpdesk::Helpdesk;
use shared::http::{ActionError, AgentGuard, MAX_BODY_BYTES, json_response};

use crate::server::{Deadline, Handle, McpServer, SUPPORTED_VERSIONS};

pub type McpService<H> = StreamableHttpService<Handle<H>, NeverSessionManager>;

/// The SDK service: stateless, JSON answers, browser `Origin`s refused unless listed in `allowed_origins`.
pub fn service<H: Helpdesk + 'static>(server: McpServer<H>, allowed_origins: Vec<String>) -> McpService<H> {
    let server = Arc::new(server);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        // The SDK's list is exact names and defaults to loopback only; a function URL's host is only known once
        // deployed, so `Gate` checks the Host instead (see `HostPolicy`).
        .disable_allowed_hosts()
        .with_allowed_origins(allowed_origins)
        .enforce_origin_validation();
    StreamableHttpService::new(move || Ok(Handle(server.clone())), Arc::new(NeverSessionManager::default()), config)
}

/// Which `Host` headers are answered: loopback (local runs), this region's function URL hosts
/// (`<id>.lambda-url.<region>.on.aws`), and any listed in `MCP_ALLOWED_HOSTS` (a custom domain in front).
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    pub region: Option<String>,
    pub extra: Vec<String>,
}

impl HostPolicy {
    pub fn from_env() -> Self {
        HostPolicy {
            region: std::env::var("AWS_REGION").ok().filter(|r| !r.trim().is_empty()),
            extra: list_var("MCP_ALLOWED_HOSTS"),
        }
    }

    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host);
        if matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1") {
            return true;
        }
        if self.extra.iter().any(|h| host_name(h) == name) {
            return true;
        }
        let Some(rest) = name.strip_suffix(".on.aws") else { return false };
        let mut labels = rest.split('.');
        let (Some(id), Some("lambda-url"), Some(region), None) =
            (labels.next(), labels.next(), labels.next(), labels.next())
        else {
            return false;
        };
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric())
            && self.region.as_deref().is_none_or(|r| r.eq_ignore_ascii_case(region))
    }
}

/// The comma-separated list in `name`, blanks dropped.
pub fn list_var(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The host without its port, lower-cased (`[::1]:9000` → `::1`).
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => {
            host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(n, _)| n)
        }
    };
    name.to_ascii_lowercase()
}

/// The checks before the SDK sees a request.
pub struct Gate {
    pub guard: AgentGuard,
    pub hosts: HostPolicy,
}

impl Gate {
    async fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Response<Body>> {
        // Before the key: a method that can never work says so to anyone (the local stack probes with GET).
        if method != Method::POST {
            return Err(ActionError::MethodNotAllowed { allowed: "POST" }.to_response());
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        if !self.hosts.allows(host) {
            tracing::warn!(host, "refused: Host not allowed");
            return Err(jsonrpc_error(
                StatusCode::FORBIDDEN,
                -32600,
                format!("Host {host:?} is not served here; add it to MCP_ALLOWED_HOSTS if it fronts this function"),
            ));
        }
        if let Err(error) = self.guard.check(headers).await {
            tracing::warn!(code = error.code(), "refused: {error}");
            let mut response = error.to_response();
            if error == ActionError::Unauthenticated {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            return Err(response);
        }
        // Absent means 2025-03-26 (the spec's rule for clients that predate the header).
        if let Some(version) = headers.get("mcp-protocol-version") {
            let version = version.to_str().unwrap_or_default();
            if !SUPPORTED_VERSIONS.iter().any(|v| v.as_str() == version) {
                let supported: Vec<&str> = SUPPORTED_VERSIONS.iter().map(|v| v.as_str()).collect();
                return Err(jsonrpc_error(
                    StatusCode::BAD_REQUEST,
                    -32600,
                    format!("MCP-Protocol-Version {version:?} is not supported; use one of {}", supported.join(", ")),
                ));
            }
        }
        Ok(())
    }
}

/// A JSON-RPC error outside any request (`id` null), for refusals before the message is read.
fn jsonrpc_error(status: StatusCode, code: i64, message: impl Into<String>) -> Response<Body> {
    let message = message.into();
    json_response(
        status,
        &serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}}),
    )
}

pub async fn handle<H: Helpdesk + 'static>(
    service: &McpService<H>,
    gate: &Gate,
    request: Request,
) -> Result<Response<Body>, Error> {
    if let Err(refusal) = gate.check(request.method(), request.headers()).await {
        return Ok(refusal);
    }
    let deadline = request
        .lambda_context_ref()
        .map(|ctx| shared::deadline::from_epoch_millis(ctx.deadline))
        .unwrap_or_else(shared::deadline::current);
    // The SDK answers a body it cannot read with a plain-text 415, the status it also uses for a wrong
    // Content-Type; under a JSON Content-Type that is a JSON-RPC parse error or invalid request instead.
    let sent_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    let parses = serde_json::from_slice::<serde_json::Value>(request.body().as_ref()).is_ok();
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(Deadline(deadline));
    let answer = service.handle(lambda_http::http::Request::from_parts(parts, body)).await;
    let (parts, body) = answer.into_parts();
    if parts.status == StatusCode::UNSUPPORTED_MEDIA_TYPE && sent_json {
        tracing::warn!(parses, "refused: not a JSON-RPC message");
        return Ok(if parses {
            jsonrpc_error(StatusCode::BAD_REQUEST, -32600, "the body is JSON but not a JSON-RPC 2.0 message")
        } else {
            jsonrpc_error(StatusCode::BAD_REQUEST, -32700, "the body is not valid JSON; send a JSON-RPC 2.0 message")
        });
    }
    // JSON answers are complete bodies (no stream is kept open), so collecting ends with the answer.
    let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let body = match String::from_utf8(bytes.to_vec()) {
        Ok(text) if text.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    if parts.status.is_client_error() {
        tracing::warn!(status = parts.status.as_u16(), "refused by the MCP transport");
    }
    Ok(Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lambda_http::http;
    use serde_json::{Value, json};
    use shared::config::AgentAuth;
    use shared::escalation::EscalationSettings;
    use shared::helpdesk::MockHelpdesk;
    use shared::secrets::{SecretStore, Secrets};
    use shared::testing::conversation;

    use super::*;

    /// The Host a deployed function URL receives.
    const FUNCTION_URL_HOST: &str = "abc123xyz.lambda-url.eu-west-1.on.aws";
    const KEY: &str = "k-123";

    fn setup(helpdesk: MockHelpdesk, origins: &[&str]) -> (McpService<MockHelpdesk>, Gate) {
        let server = McpServer::new(
            helpdesk,
            Arc::new(shared::store::memory::MemoryStore::new()),
            EscalationSettings::default(),
            Default::default(),
        );
        let secrets = Secrets::parse(&json!({"access_token": "t", "agent_api_key": KEY}).to_string()).unwrap();
        let gate = Gate {
            guard: AgentGuard::new(AgentAuth::ApiKey, Arc::new(SecretStore::fixed(secrets))),
            hosts: HostPolicy { region: Some("eu-west-1".into()), extra: vec!["mcp.example.com".into()] },
        };
        (service(server, origins.iter().map(|o| o.to_string()).collect()), gate)
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
            request
                .headers_mut()
                .insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        request
    }

    fn rpc(method: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    }

    async fn send(service: &McpService<MockHelpdesk>, gate: &Gate, request: Request) -> (u16, HeaderMap, Value) {
        let response = handle(service, gate, request).await.unwrap();
        let status = response.status().as_u16();
        let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        (status, response.headers().clone(), body)
    }

    fn initialize() -> Value {
        rpc(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
        )
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

        let (status, _, body) =
            send(&service, &gate, request("POST", Some(rpc("tools/list", json!({}))), &version)).await;
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
    async fn the_bearer_key_is_required() {
        let (service, gate) = setup(MockHelpdesk::new(), &[]);
        let mut missing = request("POST", Some(initialize()), &[]);
        missing.headers_mut().remove(header::AUTHORIZATION);
        let (status, headers, body) = send(&service, &gate, missing).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthenticated")));
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        let (status, _, _) =
            send(&service, &gate, request("POST", Some(initialize()), &[("authorization", "Bearer k-124")])).await;
        assert_eq!(status, 401);
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

    #[tokio::test]
    async fn hosts_other_than_loopback_and_function_urls_are_refused() {
        let (service, gate) = setup(MockHelpdesk::new(), &[]);
        for (host, expected) in [
            ("evil.example", 403),
            ("abc.lambda-url.us-east-1.on.aws", 403), // another region: not this function
            ("a.b.lambda-url.eu-west-1.on.aws", 403),
            ("127.0.0.1:9123", 200),
            ("localhost", 200),
            ("[::1]:9000", 200),
            ("MCP.example.com", 200),
        ] {
            let (status, _, body) = send(&service, &gate, request("POST", Some(initialize()), &[("host", host)])).await;
            assert_eq!(status, expected, "{host}: {body}");
        }
    }

    #[tokio::test]
    async fn unsupported_protocol_versions_are_refused_and_absent_means_2025_03_26() {
        let (service, gate) = setup(MockHelpdesk::new(), &[]);
        let list = || Some(rpc("tools/list", json!({})));
        let (status, _, body) =
            send(&service, &gate, request("POST", list(), &[("mcp-protocol-version", "2099-01-01")])).await;
        assert_eq!(status, 400);
        assert!(body["error"]["message"].as_str().unwrap().contains("2025-06-18"), "{body}");
        let (status, _, _) =
            send(&service, &gate, request("POST", list(), &[("mcp-protocol-version", "2024-11-05")])).await;
        assert_eq!(status, 400, "2024-11-05 is the old HTTP+SSE transport");
        for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
            let (status, _, body) =
                send(&service, &gate, request("POST", list(), &[("mcp-protocol-version", version)])).await;
            assert_eq!(status, 200, "{version}: {body}");
        }
        let (status, _, _) = send(&service, &gate, request("POST", list(), &[])).await;
        assert_eq!(status, 200);
    }

    #[tokio::test]
    async fn get_and_delete_are_not_allowed_without_sessions() {
        let (service, gate) = setup(MockHelpdesk::new(), &[]);
        for method in ["GET", "DELETE"] {
            let (status, headers, _) = send(&service, &gate, request(method, None, &[])).await;
            assert_eq!(status, 405, "{method}");
            assert_eq!(headers[header::ALLOW], "POST");
            let mut anonymous = request(method, None, &[]);
            anonymous.headers_mut().remove(header::AUTHORIZATION);
            assert_eq!(send(&service, &gate, anonymous).await.0, 405, "{method} without the key");
        }
    }
}
