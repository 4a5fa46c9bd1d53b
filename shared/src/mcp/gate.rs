//! The checks in front of the MCP SDK: the method, the `Host` allow-list ([`HostPolicy`]), the bearer key (the
//! caller's workspace, from [`Workspaces`]) and the `MCP-Protocol-Version` header. `Origin`, methods the SDK serves and JSON-RPC itself
//! are the SDK's.

use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Response};

use super::host::HostPolicy;
use super::jsonrpc::{INVALID_REQUEST, jsonrpc_error};
use crate::config::AgentAuth;
use crate::http::ActionError;
use crate::workspace::{Workspace, Workspaces};

/// The checks before the SDK sees a request.
pub struct Gate {
    /// Whose key the bearer is: the deployment's agent key (single mode) or one workspace's (hub mode).
    pub workspaces: Workspaces,
    pub hosts: HostPolicy,
    /// The `MCP-Protocol-Version` values served (the server's revisions); absent means 2025-03-26.
    pub protocol_versions: Vec<String>,
}

impl Gate {
    /// The caller's workspace; `Err` is the refusal to answer with.
    pub async fn check(&self, method: &Method, headers: &HeaderMap) -> Result<Workspace, Response<Body>> {
        // Before the key: a method that can never work says so to anyone (the local stack probes with GET).
        if method != Method::POST {
            return Err(ActionError::MethodNotAllowed { allowed: "POST" }.to_response());
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        if !self.hosts.allows(host) {
            tracing::warn!(host, "refused: Host not allowed");
            return Err(jsonrpc_error(
                StatusCode::FORBIDDEN,
                INVALID_REQUEST,
                format!("Host {host:?} is not served here; add it to MCP_ALLOWED_HOSTS if it fronts this function"),
            ));
        }
        // MCP clients send a header, not SigV4: the key is required whatever AGENT_AUTH says.
        let workspace = match self.workspaces.for_agent(headers, AgentAuth::ApiKey).await {
            Ok(workspace) => workspace,
            Err(error) => {
                tracing::warn!(code = error.code(), "refused: {error}");
                let mut response = error.to_response();
                if error == ActionError::Unauthenticated {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                return Err(response);
            }
        };
        match self.unsupported_version(headers) {
            Some(refusal) => Err(refusal),
            None => Ok(workspace),
        }
    }

    /// The refusal of an `MCP-Protocol-Version` not served. Absent means 2025-03-26 (the spec's rule for clients
    /// that predate the header).
    fn unsupported_version(&self, headers: &HeaderMap) -> Option<Response<Body>> {
        let version = headers.get("mcp-protocol-version")?.to_str().unwrap_or_default();
        if self.protocol_versions.iter().any(|v| v == version) {
            return None;
        }
        Some(jsonrpc_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            format!(
                "MCP-Protocol-Version {version:?} is not supported; use one of {}",
                self.protocol_versions.join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::secrets::{SecretStore, Secrets};

    /// The Host a deployed function URL receives.
    const FUNCTION_URL_HOST: &str = "abc123xyz.lambda-url.eu-west-1.on.aws";
    const KEY: &str = "k-123";

    fn gate() -> Gate {
        let secrets = Secrets::parse(&serde_json::json!({"access_token": "t", "agent_api_key": KEY}).to_string());
        let guard = crate::auth::AgentGuard::new(AgentAuth::ApiKey, Arc::new(SecretStore::fixed(secrets.unwrap())));
        let helpdesk = crate::helpdesk::MockHelpdesk::new();
        Gate {
            workspaces: crate::testing::workspace_of(helpdesk).guard(guard).build(),
            hosts: HostPolicy { region: Some("eu-west-1".into()), extra: vec!["mcp.example.com".into()] },
            protocol_versions: ["2025-11-25", "2025-06-18", "2025-03-26"].map(String::from).to_vec(),
        }
    }

    /// What the function URL gets from a client with the key, with `extra` headers set over it.
    fn headers(extra: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, FUNCTION_URL_HOST.parse().unwrap());
        headers.insert(header::AUTHORIZATION, format!("Bearer {KEY}").parse().unwrap());
        for (name, value) in extra {
            headers.insert(*name, value.parse().unwrap());
        }
        headers
    }

    /// The status the function answers: 200 when the gate lets the request through to the SDK.
    async fn status(method: Method, headers: &HeaderMap) -> (u16, HeaderMap, serde_json::Value) {
        match gate().check(&method, headers).await {
            Ok(_) => (200, HeaderMap::new(), serde_json::Value::Null),
            Err(refusal) => (
                refusal.status().as_u16(),
                refusal.headers().clone(),
                serde_json::from_slice(refusal.body().as_ref()).unwrap_or_default(),
            ),
        }
    }

    #[tokio::test]
    async fn the_bearer_key_is_required() {
        let mut missing = headers(&[]);
        missing.remove(header::AUTHORIZATION);
        let (status_code, headers_out, body) = status(Method::POST, &missing).await;
        assert_eq!((status_code, body["error"]["code"].as_str()), (401, Some("unauthenticated")));
        assert_eq!(headers_out[header::WWW_AUTHENTICATE], "Bearer");
        let (status_code, _, _) = status(Method::POST, &headers(&[("authorization", "Bearer k-124")])).await;
        assert_eq!(status_code, 401);
    }

    #[tokio::test]
    async fn hosts_other_than_loopback_and_function_urls_are_refused() {
        for (host, expected) in [
            ("evil.example", 403),
            ("abc.lambda-url.us-east-1.on.aws", 403), // another region: not this function
            ("a.b.lambda-url.eu-west-1.on.aws", 403),
            ("127.0.0.1:9123", 200),
            ("localhost", 200),
            ("[::1]:9000", 200),
            ("MCP.example.com", 200),
        ] {
            let (status, _, body) = status(Method::POST, &headers(&[("host", host)])).await;
            assert_eq!(status, expected, "{host}: {body}");
        }
    }

    #[tokio::test]
    async fn unsupported_protocol_versions_are_refused_and_absent_means_2025_03_26() {
        let (status_code, _, body) = status(Method::POST, &headers(&[("mcp-protocol-version", "2099-01-01")])).await;
        assert_eq!(status_code, 400);
        assert!(body["error"]["message"].as_str().unwrap().contains("2025-06-18"), "{body}");
        let (status_code, _, _) = status(Method::POST, &headers(&[("mcp-protocol-version", "2024-11-05")])).await;
        assert_eq!(status_code, 400, "2024-11-05 is the old HTTP+SSE transport");
        for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
            let (status_code, _, body) = status(Method::POST, &headers(&[("mcp-protocol-version", version)])).await;
            assert_eq!(status_code, 200, "{version}: {body}");
        }
        let (status_code, _, _) = status(Method::POST, &headers(&[])).await;
        assert_eq!(status_code, 200);
    }

    #[tokio::test]
    async fn get_and_delete_are_not_allowed_without_sessions() {
        for method in [Method::GET, Method::DELETE] {
            let (status_code, headers_out, _) = status(method.clone(), &headers(&[])).await;
            assert_eq!(status_code, 405, "{method}");
            assert_eq!(headers_out[header::ALLOW], "POST");
            let mut anonymous = headers(&[]);
            anonymous.remove(header::AUTHORIZATION);
            assert_eq!(status(method.clone(), &anonymous).await.0, 405, "{method} without the key");
        }
    }
}
