//! The function URL in front of the SDK's Streamable HTTP server: [`Gate`] checks the method, the `Host`
//! allow-list, the bearer key and the `MCP-Protocol-Version` header first; `Origin`, methods and JSON-RPC are the
//! SDK's.
//!
//! Stateless (no `Mcp-Session-Id`): any container answers any request, and every answer is one JSON body, since a
//! function URL buffers answers anyway. GET and DELETE are 405 (checked first, before the key): there is no stream
//! to resume and no session to end.

use std::sync::Arc;

use http_body_util::BodyExt;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use shared::http::MAX_BODY_BYTES;
use shared::mcp::{Gate, jsonrpc};

use crate::server::{Deadline, Handle};

pub type McpService = StreamableHttpService<Handle, NeverSessionManager>;

/// The SDK service: stateless, JSON answers, browser `Origin`s refused unless listed in `allowed_origins`.
pub fn service(allowed_origins: Vec<String>) -> McpService {
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
    StreamableHttpService::new(|| Ok(Handle), Arc::new(NeverSessionManager::default()), config)
}

pub async fn handle(service: &McpService, gate: &Gate, request: Request) -> Result<Response<Body>, Error> {
    let workspace = match gate.check(request.method(), request.headers()).await {
        Ok(workspace) => workspace,
        Err(refusal) => return Ok(refusal),
    };
    let deadline = request
        .lambda_context_ref()
        .map(|ctx| shared::deadline::from_epoch_millis(ctx.deadline))
        .unwrap_or_else(shared::deadline::current);
    // The SDK answers a body it cannot read with a plain-text 415, the status it also uses for a wrong
    // Content-Type; under a JSON Content-Type that is a JSON-RPC parse error or invalid request instead.
    let sent_json = jsonrpc::sent_json(request.headers());
    let parses = serde_json::from_slice::<serde_json::Value>(request.body().as_ref()).is_ok();
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(Deadline(deadline));
    parts.extensions.insert(workspace);
    let answer = service.handle(lambda_http::http::Request::from_parts(parts, body)).await;
    let (parts, body) = answer.into_parts();
    if parts.status == StatusCode::UNSUPPORTED_MEDIA_TYPE && sent_json {
        tracing::warn!(parses, "refused: not a JSON-RPC message");
        return Ok(jsonrpc::not_a_message(parses));
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
mod tests;
