//! Routing and the per-request pipeline (record → latency → faults → auth → scope → handler → headers);
//! the `/__fake/…` control routes are in [`crate::control`].

use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::Value;

use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::ids::{now_unix, request_id};
use crate::record::RecordedRequest;
use crate::routes::{
    admins, companies, contacts, conversations, data_attributes, knowledge, office_hours, tags, tickets,
};
use crate::scopes;
use crate::version::ApiVersion;
use crate::{FakeIntercom, FakeWorkspace, RATE_LIMIT};

const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
const ADMIN_PREFIX: &str = "/__fake";

pub(crate) fn router(fake: FakeIntercom) -> Router {
    let api = Router::new()
        .route("/me", get(admins::me))
        .route("/admins", get(admins::list))
        .route("/admins/{admin_id}", get(admins::show))
        .route("/admins/{admin_id}/away", put(admins::set_away))
        .route("/teams", get(admins::teams))
        .route("/teams/{team_id}", get(admins::team))
        .route("/teams/{team_id}/metrics", get(admins::team_metrics))
        .route("/away_status_reasons", get(admins::away_status_reasons))
        .route("/office_hours_schedules", get(office_hours::list).post(office_hours::create))
        .route(
            "/office_hours_schedules/{schedule_id}",
            get(office_hours::show).put(office_hours::update).delete(office_hours::delete),
        )
        .route(
            "/office_hours_schedules/{schedule_id}/office_hours_exceptions",
            get(office_hours::exceptions).post(office_hours::create_exception),
        )
        .route(
            "/office_hours_schedules/{schedule_id}/office_hours_exceptions/{id}",
            get(office_hours::show_exception)
                .put(office_hours::update_exception)
                .delete(office_hours::delete_exception),
        )
        .route("/tags", get(tags::list).post(tags::create))
        .route("/tags/{tag_id}", get(tags::show))
        .route("/data_attributes", get(data_attributes::list).post(data_attributes::create))
        .route("/data_attributes/{data_attribute_id}", put(data_attributes::update))
        .route("/contacts", post(contacts::create))
        .route("/contacts/search", post(contacts::search))
        .route("/contacts/find_by_external_id/{external_id}", get(contacts::find_by_external_id))
        .route("/contacts/{contact_id}", get(contacts::show).put(contacts::update))
        .route("/contacts/{contact_id}/archive", post(contacts::archive))
        .route("/contacts/{contact_id}/unarchive", post(contacts::unarchive))
        .route("/conversations", post(conversations::create))
        .route("/conversations/search", post(conversations::search))
        .route("/conversations/{conversation_id}", get(conversations::show).put(conversations::update))
        .route("/conversations/{conversation_id}/reply", post(conversations::reply))
        .route("/conversations/{conversation_id}/parts", post(conversations::manage))
        .route("/conversations/{conversation_id}/tags", post(conversations::attach_tag))
        .route("/conversations/{conversation_id}/tags/{tag_id}", axum::routing::delete(conversations::detach_tag))
        .route("/conversations/{conversation_id}/convert", post(tickets::convert))
        .route("/contacts/{contact_id}/companies", get(companies::of_contact).post(companies::attach))
        .route("/contacts/{contact_id}/tags", get(companies::tags_of_contact).post(companies::tag_contact))
        .route("/companies", post(companies::create_or_update))
        .route("/companies/{company_id}", get(companies::show))
        .route("/help_center/help_centers", get(knowledge::help_centers))
        .route("/articles", get(knowledge::list))
        .route("/articles/search", get(knowledge::search))
        .route("/articles/{article_id}", get(knowledge::show))
        .route("/internal_articles", get(knowledge::internal_list))
        .route("/internal_articles/search", get(knowledge::internal_search))
        .route("/internal_articles/{internal_article_id}", get(knowledge::internal_show))
        .route("/ticket_types", get(tickets::types))
        .route("/ticket_types/{ticket_type_id}", get(tickets::show_type))
        .route("/ticket_states", get(tickets::states))
        .route("/tickets", post(tickets::create))
        .route("/tickets/{ticket_id}", get(tickets::show).put(tickets::update))
        .route("/tickets/{ticket_id}/reply", post(tickets::reply));
    api.merge(crate::control::router())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(fake.clone(), pipeline))
        .with_state(fake)
}

async fn not_found() -> ApiError {
    ApiError::route_not_found()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Renders an [`ApiError`] left in the response extensions as an `error.list` body; an
/// extractor's plain-text 4xx rejection becomes a `parameter_invalid` one.
async fn render_error(response: Response, request_id: &str) -> Response {
    if let Some(err) = response.extensions().get::<ApiError>().cloned() {
        return (err.status, Json(err.body(request_id))).into_response();
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !response.status().is_client_error() || is_json {
        return response;
    }
    let status = response.status();
    let text = to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let message = if text.is_empty() { "Invalid request".to_owned() } else { text };
    let err = ApiError::new(status, "parameter_invalid", message);
    (status, Json(err.body(request_id))).into_response()
}

/// `Date` on the fake's clock (hyper only adds its own when there is none).
fn set_date(response: &mut Response, fake: &FakeIntercom) {
    let secs = u64::try_from(fake.now()).unwrap_or_default();
    let date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    if let Ok(v) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, v);
    }
}

fn set_header(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

/// 401 unless the token belongs to a workspace; 403 when the route needs a scope the workspace's tokens
/// lack (checked before anything is looked up); else the handler, with the workspace in the request.
async fn authorized(workspace: Option<FakeWorkspace>, mut req: Request, next: Next) -> Response {
    let Some(workspace) = workspace else {
        return ApiError::unauthorized().into_response();
    };
    if let Some(scope) = scopes::required(req.method().as_str(), req.uri().path())
        && workspace.denied_scopes().contains(&scope)
    {
        return scope.missing().into_response();
    }
    let mut workspace = workspace;
    workspace.requested_version =
        req.headers().get("intercom-version").and_then(|v| v.to_str().ok()).and_then(ApiVersion::parse);
    req.extensions_mut().insert(workspace);
    next.run(req).await
}

async fn pipeline(State(fake): State<FakeIntercom>, req: Request, next: Next) -> Response {
    let rid = request_id();
    let path = req.uri().path().to_owned();
    if path == ADMIN_PREFIX || path.starts_with("/__fake/") {
        let mut response = render_error(next.run(req).await, &rid).await;
        set_header(&mut response, "x-request-id", &rid);
        set_date(&mut response, &fake);
        return response;
    }

    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let (parts, body) = req.into_parts();
    let (bytes, body_error) = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => (b, None),
        Err(_) => (
            Bytes::new(),
            Some(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                "Request body too large or unreadable",
            )),
        ),
    };
    let raw_body = String::from_utf8_lossy(&bytes).into_owned();
    let json_body = serde_json::from_slice::<Value>(&bytes).ok();
    let req = Request::from_parts(parts, Body::from(bytes));

    let latency = fake.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let workspace = bearer_token(req.headers()).and_then(|t| fake.workspace_for_token(t));
    let workspace_id = workspace.as_ref().filter(|_| fake.workspace_count() > 1).map(FakeWorkspace::id);
    let now = now_unix();
    let mut rate = fake.count_request(now);
    let response = if let Some(err) = body_error {
        err.into_response()
    } else {
        match fake.take_fault(&method, &path, workspace.as_ref().map(FakeWorkspace::id).as_deref()) {
            Some(FaultKind::RateLimit { reset_after }) => {
                let secs = i64::try_from(reset_after.as_secs()).unwrap_or(i64::MAX);
                rate = Err(now.saturating_add(secs.max(1)));
                ApiError::rate_limited().into_response()
            }
            Some(FaultKind::ServerError { status }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                ApiError::server_error(status).into_response()
            }
            Some(FaultKind::Delay { delay }) => {
                tokio::time::sleep(delay).await;
                authorized(workspace, req, next).await
            }
            Some(FaultKind::ProcessThenFail { status }) => {
                let processed = authorized(workspace, req, next).await;
                tracing::debug!(status = %processed.status(), "processed, answering a failure instead");
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::GATEWAY_TIMEOUT);
                ApiError::server_error(status).into_response()
            }
            None if rate.is_err() => ApiError::rate_limited().into_response(),
            None => authorized(workspace, req, next).await,
        }
    };

    let mut response = render_error(response, &rid).await;
    set_header(&mut response, "x-request-id", &rid);
    set_header(&mut response, "x-ratelimit-limit", RATE_LIMIT);
    let (remaining, reset) = match rate {
        Ok((remaining, reset)) => (remaining, reset),
        Err(reset) => (0, reset),
    };
    set_header(&mut response, "x-ratelimit-remaining", remaining);
    // Windows run on real time (a stopped clock must not exhaust one); the reset is told on the fake's.
    set_header(&mut response, "x-ratelimit-reset", reset.saturating_add(fake.clock().offset()));
    set_date(&mut response, &fake);

    let status = response.status().as_u16();
    tracing::debug!(%method, %path, status, "fake-intercom request");
    fake.record(RecordedRequest {
        request_id: rid,
        method,
        path,
        query,
        headers,
        body: json_body,
        raw_body,
        status,
        workspace_id,
        start,
        end: Instant::now(),
    });
    response
}
