//! JSON-RPC errors the MCP function answers itself, outside any request (`id` null): refusals before the SDK
//! reads the message, and a body the SDK could not read under a JSON `Content-Type`.

use lambda_http::http::{HeaderMap, StatusCode, header};
use lambda_http::{Body, Response};

use crate::http::json_response;

/// JSON-RPC's "invalid request".
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC's "parse error".
pub const PARSE_ERROR: i64 = -32700;

/// A JSON-RPC error outside any request (`id` null), for refusals before the message is read.
pub fn jsonrpc_error(status: StatusCode, code: i64, message: impl Into<String>) -> Response<Body> {
    let message = message.into();
    json_response(
        status,
        &serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}}),
    )
}

/// Whether the request says its body is JSON (`application/json`, any parameters).
pub fn sent_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")))
}

/// The answer to a body sent as JSON that is not a JSON-RPC message: the SDK says 415 (the status it also uses
/// for a wrong `Content-Type`), JSON-RPC says invalid request (JSON, but not a message) or parse error.
pub fn not_a_message(parses: bool) -> Response<Body> {
    if parses {
        jsonrpc_error(StatusCode::BAD_REQUEST, INVALID_REQUEST, "the body is JSON but not a JSON-RPC 2.0 message")
    } else {
        jsonrpc_error(StatusCode::BAD_REQUEST, PARSE_ERROR, "the body is not valid JSON; send a JSON-RPC 2.0 message")
    }
}
