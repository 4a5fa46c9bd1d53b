//! Builders for handler tests (feature `mocks`): requests as a function URL delivers them, and fixtures.

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt, Response, http};
use serde_json::Value;

use crate::intercom::models::{Contact, Conversation};

pub fn post_json(body: &str) -> Request {
    http::Request::builder()
        .method("POST")
        .uri("https://example.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("a valid test request")
}

pub fn get_with_query(params: &[(&str, &str)]) -> Request {
    let query: HashMap<String, String> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    http::Request::builder()
        .method("GET")
        .uri("https://example.lambda-url.us-east-1.on.aws/")
        .body(Body::Empty)
        .expect("a valid test request")
        .with_query_string_parameters(query)
}

/// `request` as the Lambda runtime delivers it with `left` of the invocation remaining (its context's deadline),
/// for tests that a slow dependency still gets a defined answer in time.
pub fn with_deadline(request: Request, left: std::time::Duration) -> Request {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let mut context = lambda_http::Context::default();
    context.deadline = now_ms.saturating_add(left.as_millis() as u64);
    request.with_lambda_context(context)
}

pub fn json_body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("the response body is JSON")
}

/// The `error.code` and `error.field` of an error response.
pub fn error_of(response: &Response<Body>) -> (u16, String, Option<String>) {
    let body = json_body(response);
    (
        response.status().as_u16(),
        body["error"]["code"].as_str().unwrap_or_default().to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

pub fn contact(id: &str, email: &str) -> Contact {
    Contact {
        id: id.to_owned(),
        role: Some("user".into()),
        email: Some(email.to_owned()),
        name: None,
        external_id: None,
        custom_attributes: Default::default(),
    }
}

/// A conversation as Intercom returns it, from JSON fields.
pub fn conversation(json: Value) -> Conversation {
    serde_json::from_value(json).expect("a conversation fixture")
}
