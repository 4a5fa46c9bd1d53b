//! The `/__fake/…` control routes (no auth, not recorded): state, requests, faults, tokens, config,
//! webhooks, workspaces, the clock, and seeding.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::faults::{Fault, FaultSpec};
use crate::record::sequential_round_trips;
use crate::routes::query_param;
use crate::scopes::Scope;
use crate::version::ApiVersion;
use crate::{FakeIntercom, FakeWorkspace};

pub(crate) fn router() -> Router<FakeIntercom> {
    Router::new()
        .route("/__fake/health", get(|| async { Json(json!({ "ok": true })) }))
        .route("/__fake/state", get(control_state))
        .route("/__fake/requests", get(control_requests).delete(control_clear_requests))
        .route("/__fake/faults", get(control_faults).post(control_inject).delete(control_clear_faults))
        .route("/__fake/tokens", put(control_tokens))
        .route("/__fake/search/index", post(control_index))
        .route("/__fake/config", put(control_config))
        .route("/__fake/data_attributes", post(control_define_attribute))
        .route("/__fake/webhooks", get(control_webhooks).put(control_set_webhooks))
        .route("/__fake/webhooks/deliveries", get(control_deliveries).delete(control_clear_deliveries))
        .route("/__fake/webhooks/flush", post(control_flush_webhooks))
        .route("/__fake/conversations/{conversation_id}/customer_reply", post(control_customer_reply))
        .route("/__fake/clock", get(control_clock).post(control_set_clock))
        .route("/__fake/articles", post(control_add_article))
        .route("/__fake/ticket_types", post(control_add_ticket_type))
        .route("/__fake/workspaces", get(control_workspaces))
        .route("/__fake/workspaces/{workspace_id}/rotate-token", post(control_rotate_token))
        .route("/__fake/workspaces/{workspace_id}/scopes", get(control_scopes).post(control_deny_scopes))
}

fn api_version_field(v: &Value) -> Result<ApiVersion, ApiError> {
    v.as_str()
        .and_then(ApiVersion::parse)
        .ok_or_else(|| bad_control_request("api_version must be a version such as \"2.16\" or \"2.14\""))
}

/// The workspace a control request names (`"workspace"` in its body or query), or the only one; with
/// several and none named, an error saying so.
fn named_workspace(fake: &FakeIntercom, name: Option<&str>) -> Result<FakeWorkspace, ApiError> {
    match name {
        Some(id) => fake.workspace(id).ok_or_else(|| unknown_workspace(fake, id)),
        None if fake.workspace_count() == 1 => Ok(fake.first_workspace()),
        None => Err(bad_control_request("this fake serves several workspaces: name one with \"workspace\"")),
    }
}

/// The workspaces a control request acts on: the one it names, else all.
fn named_or_all(fake: &FakeIntercom, name: Option<&str>) -> Result<Vec<FakeWorkspace>, ApiError> {
    match name {
        Some(id) => Ok(vec![fake.workspace(id).ok_or_else(|| unknown_workspace(fake, id))?]),
        None => Ok(fake.all_workspaces()),
    }
}

fn unknown_workspace(fake: &FakeIntercom, id: &str) -> ApiError {
    let known: Vec<String> = fake.all_workspaces().iter().map(FakeWorkspace::id).collect();
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no workspace {id:?} (known: {})", known.join(", ")))
}

fn workspace_field(value: &Value) -> Result<Option<&str>, ApiError> {
    match value.get("workspace") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id)),
        Some(_) => Err(bad_control_request("workspace must be a workspace id (string)")),
    }
}

/// `?workspace=<id>`: that workspace's state; else the whole fake's (see [`FakeIntercom::state_json`]).
async fn control_state(
    State(fake): State<FakeIntercom>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Value>, ApiError> {
    match query_param(query.as_deref(), "workspace") {
        Some(id) => Ok(Json(named_workspace(&fake, Some(&id))?.state_json())),
        None => Ok(Json(fake.state_json())),
    }
}

async fn control_requests(State(fake): State<FakeIntercom>) -> Json<Value> {
    let requests = fake.requests();
    let origin = fake.origin();
    Json(json!({
        "count": requests.len(),
        "sequential_round_trips": sequential_round_trips(&requests),
        "requests": requests.iter().map(|r| r.to_json(origin)).collect::<Vec<_>>(),
    }))
}

async fn control_clear_requests(State(fake): State<FakeIntercom>) -> StatusCode {
    fake.clear_requests();
    StatusCode::NO_CONTENT
}

fn faults_json(fake: &FakeIntercom) -> Json<Value> {
    Json(json!({
        "faults": fake.pending_faults().iter().map(Fault::to_json).collect::<Vec<_>>()
    }))
}

async fn control_faults(State(fake): State<FakeIntercom>) -> Json<Value> {
    faults_json(&fake)
}

fn bad_control_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", message)
}

async fn control_inject(State(fake): State<FakeIntercom>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let specs: Vec<Value> = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut faults = Vec::with_capacity(specs.len());
    for spec in specs {
        let spec: FaultSpec = serde_json::from_value(spec).map_err(|e| bad_control_request(e.to_string()))?;
        faults.push(Fault::try_from(spec).map_err(|e| bad_control_request(e.to_string()))?);
    }
    for fault in faults {
        fake.inject(fault);
    }
    Ok(faults_json(&fake))
}

async fn control_clear_faults(State(fake): State<FakeIntercom>) -> StatusCode {
    fake.clear_faults();
    StatusCode::NO_CONTENT
}

/// `{"tokens": [..] | null, "workspace"?}` (default: the first workspace).
async fn control_tokens(State(fake): State<FakeIntercom>, body: Bytes) -> Result<StatusCode, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let workspace = match workspace_field(&value)? {
        Some(id) => named_workspace(&fake, Some(id))?,
        None => fake.first_workspace(),
    };
    match value.get("tokens") {
        Some(Value::Null) => workspace.set_tokens(None),
        Some(Value::Array(tokens)) => {
            let tokens: Option<Vec<String>> = tokens.iter().map(|t| t.as_str().map(str::to_owned)).collect();
            let tokens = tokens.ok_or_else(|| bad_control_request("tokens must be strings"))?;
            workspace.set_tokens(Some(tokens));
        }
        _ => return Err(bad_control_request(r#"expected {"tokens": [..] | null}"#)),
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn control_index(State(fake): State<FakeIntercom>) -> StatusCode {
    fake.index_search();
    StatusCode::NO_CONTENT
}

async fn control_config(State(fake): State<FakeIntercom>, body: Bytes) -> Result<StatusCode, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let workspaces = named_or_all(&fake, workspace_field(&value)?)?;
    if let Some(v) = value.get("search_index_delay") {
        let delayed = v.as_bool().ok_or_else(|| bad_control_request("search_index_delay must be a boolean"))?;
        let lag = if delayed { crate::SearchLag::Manual } else { crate::SearchLag::Off };
        for w in &workspaces {
            w.with_state(|s| s.search_index.set_lag(lag));
        }
    }
    if let Some(v) = value.get("search_lag_ms") {
        let lag = match v {
            Value::Null => crate::SearchLag::Off,
            v => match v.as_u64() {
                Some(0) => crate::SearchLag::Off,
                Some(ms) => crate::SearchLag::Time(std::time::Duration::from_millis(ms)),
                None => return Err(bad_control_request("search_lag_ms must be a non-negative integer or null")),
            },
        };
        for w in &workspaces {
            w.with_state(|s| s.search_index.set_lag(lag));
        }
    }
    if let Some(v) = value.get("accept_unknown_attributes") {
        let accept = v.as_bool().ok_or_else(|| bad_control_request("accept_unknown_attributes must be a boolean"))?;
        for w in &workspaces {
            w.with_state(|s| s.accept_unknown_attributes = accept);
        }
    }
    if let Some(v) = value.get("realtime_monitoring") {
        let on = v.as_bool().ok_or_else(|| bad_control_request("realtime_monitoring must be a boolean"))?;
        for w in &workspaces {
            w.with_state(|s| s.realtime_monitoring = on);
        }
    }
    if let Some(v) = value.get("api_version") {
        let version = api_version_field(v)?;
        for w in &workspaces {
            w.with_state(|s| s.default_api_version = version);
        }
    }
    if let Some(v) = value.get("latency_ms") {
        let ms = v.as_u64().ok_or_else(|| bad_control_request("latency_ms must be a non-negative integer"))?;
        fake.set_latency(std::time::Duration::from_millis(ms));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `{"name", "data_type": "string"|"integer"|"float"|"boolean"|"date", "workspace"?}`: a custom contact
/// attribute (`workspace` required when the fake serves several).
async fn control_define_attribute(State(fake): State<FakeIntercom>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let name = value.get("name").and_then(Value::as_str).ok_or_else(|| bad_control_request("name is required"))?;
    let data_type = value
        .get("data_type")
        .and_then(Value::as_str)
        .and_then(crate::DataType::parse)
        .ok_or_else(|| bad_control_request("data_type must be string, integer, float, boolean or date"))?;
    let workspace = named_workspace(&fake, workspace_field(&value)?)?;
    let attribute = workspace
        .with_state(|s| s.define_attribute(name, crate::AttributeModel::Contact, data_type, "", Vec::new()))?;
    Ok(Json(attribute.to_json()))
}

fn webhook_config_json(fake: &FakeIntercom) -> Json<Value> {
    Json(match fake.webhook_config() {
        None => json!({ "enabled": false }),
        Some(c) => json!({
            "enabled": true,
            "url": c.url,
            "topics": c.topics,
            "max_attempts": c.max_attempts,
            "backoff_ms": u64::try_from(c.backoff.as_millis()).unwrap_or(u64::MAX),
            "timeout_ms": u64::try_from(c.timeout.as_millis()).unwrap_or(u64::MAX),
            "api_version": c.api_version,
        }),
    })
}

async fn control_webhooks(State(fake): State<FakeIntercom>) -> Json<Value> {
    webhook_config_json(&fake)
}

/// `{"url", "client_secret", "topics"?, "max_attempts"?, "backoff_ms"?, "timeout_ms"?}`, or
/// `{"url": null}` to stop sending.
async fn control_set_webhooks(State(fake): State<FakeIntercom>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let url = match value.get("url") {
        Some(Value::Null) => {
            fake.set_webhooks(None);
            return Ok(webhook_config_json(&fake));
        }
        Some(Value::String(u)) if url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) => u,
        _ => return Err(bad_control_request("url must be an http(s) URL, or null to stop sending webhooks")),
    };
    // With several workspaces each signs with its own secret: none is needed here.
    let secret = match value.get("client_secret").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(secret) => secret,
        None if fake.workspace_count() > 1 => "",
        None => return Err(bad_control_request("client_secret is required (the HMAC key of X-Hub-Signature)")),
    };
    let mut config = crate::WebhookConfig::new(url.as_str(), secret);
    if let Some(topics) = value.get("topics").filter(|t| !t.is_null()) {
        let topics: Option<Vec<String>> =
            topics.as_array().and_then(|t| t.iter().map(|x| x.as_str().map(str::to_owned)).collect());
        let topics = topics.ok_or_else(|| bad_control_request("topics must be a list of strings"))?;
        if let Some(unknown) = topics.iter().find(|t| !crate::webhooks::TOPICS.contains(&t.as_str())) {
            return Err(bad_control_request(format!(
                "unknown topic {unknown:?} (known: {})",
                crate::webhooks::TOPICS.join(", ")
            )));
        }
        config.topics = Some(topics);
    }
    let millis = |field: &str| -> Result<Option<std::time::Duration>, ApiError> {
        match value.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|ms| Some(std::time::Duration::from_millis(ms)))
                .ok_or_else(|| bad_control_request(format!("{field} must be a non-negative integer"))),
        }
    };
    if let Some(backoff) = millis("backoff_ms")? {
        config.backoff = backoff;
    }
    if let Some(timeout) = millis("timeout_ms")? {
        config.timeout = timeout;
    }
    if let Some(v) = value.get("api_version").filter(|v| !v.is_null()) {
        config.api_version = api_version_field(v)?;
    }
    if let Some(v) = value.get("max_attempts").filter(|v| !v.is_null()) {
        config.max_attempts = v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=20).contains(n))
            .ok_or_else(|| bad_control_request("max_attempts must be an integer from 1 to 20"))?;
    }
    fake.set_webhooks(Some(config));
    Ok(webhook_config_json(&fake))
}

fn deliveries_json(fake: &FakeIntercom) -> Json<Value> {
    let deliveries = fake.webhook_deliveries();
    Json(json!({ "count": deliveries.len(), "deliveries": deliveries }))
}

async fn control_deliveries(State(fake): State<FakeIntercom>) -> Json<Value> {
    deliveries_json(&fake)
}

async fn control_clear_deliveries(State(fake): State<FakeIntercom>) -> Result<StatusCode, ApiError> {
    if fake.clear_webhook_deliveries() {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(StatusCode::CONFLICT, "conflict", "deliveries are still pending: flush first"))
    }
}

/// Waits (up to 30 s) until queued webhooks are delivered or given up; 504 if they are not by then.
async fn control_flush_webhooks(State(fake): State<FakeIntercom>) -> Result<Json<Value>, ApiError> {
    tokio::time::timeout(std::time::Duration::from_secs(30), fake.flush_webhooks())
        .await
        .map_err(|_| ApiError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", "webhooks still pending after 30 s"))?;
    Ok(deliveries_json(&fake))
}

/// `{"body", "contact_id"?}`: the customer replies (default: the conversation's first contact),
/// as from the Messenger; answers the conversation.
async fn control_customer_reply(
    State(fake): State<FakeIntercom>,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let text = value
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| bad_control_request("body is required"))?;
    let contact = value.get("contact_id").and_then(Value::as_str).map(str::to_owned);
    let owner = fake.conversation_owner(&id).ok_or_else(ApiError::conversation_not_found)?;
    owner.with_state(|s| {
        let conv = s.conversation(&id).ok_or_else(ApiError::conversation_not_found)?;
        let contact_id = match contact {
            Some(c) => c,
            None => conv.contact_ids.first().cloned().ok_or_else(ApiError::contact_not_found)?,
        };
        s.reply_as_contact(&id, &contact_id, text)?;
        let conv = s.conversation(&id).ok_or_else(ApiError::conversation_not_found)?;
        Ok(Json(crate::shapes::conversation(s, conv, false)))
    })
}

/// `[{workspaceId, name, accessToken, clientSecret, aiAdminId, humanAdminId}]`.
async fn control_workspaces(State(fake): State<FakeIntercom>) -> Json<Value> {
    Json(json!(fake.workspaces()))
}

/// A new access token for the workspace; its old tokens get 401 from now on.
async fn control_rotate_token(
    State(fake): State<FakeIntercom>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    let workspace = named_workspace(&fake, Some(&id))?;
    let token = workspace.rotate_token();
    Ok(Json(json!({ "workspaceId": id, "accessToken": token })))
}

fn scopes_json(workspace: &FakeWorkspace) -> Json<Value> {
    Json(json!({ "workspaceId": workspace.id(), "denied": workspace.denied_scopes() }))
}

async fn control_scopes(
    State(fake): State<FakeIntercom>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(scopes_json(&named_workspace(&fake, Some(&id))?))
}

/// `{"deny": ["write_conversations", …]}`: the workspace's tokens lack these scopes from now on (`[]`:
/// none withheld).
async fn control_deny_scopes(
    State(fake): State<FakeIntercom>,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let workspace = named_workspace(&fake, Some(&id))?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let names =
        value.get("deny").and_then(Value::as_array).ok_or_else(|| bad_control_request(r#"expected {"deny": [..]}"#))?;
    let known = || Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    let denied = names
        .iter()
        .map(|n| {
            n.as_str()
                .and_then(Scope::parse)
                .ok_or_else(|| bad_control_request(format!("unknown scope {n} (known: {})", known())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    workspace.deny_scopes(denied);
    Ok(scopes_json(&workspace))
}

/// `{"title", "body", "description"?, "state"?: "published"|"draft", "internal"?: bool, "workspace"?}`: an
/// article of the help center (or an internal one); answers it as `GET /articles/{id}` would.
async fn control_add_article(State(fake): State<FakeIntercom>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let text = |field: &str| value.get(field).and_then(Value::as_str).filter(|t| !t.trim().is_empty());
    let title = text("title").ok_or_else(|| bad_control_request("title is required"))?;
    let body_text = text("body").ok_or_else(|| bad_control_request("body is required"))?;
    let internal = value.get("internal").and_then(Value::as_bool).unwrap_or(false);
    let mut new = if internal {
        crate::state::NewArticle::internal(title, body_text)
    } else {
        crate::state::NewArticle::published(title, text("description").unwrap_or_default(), body_text)
    };
    match value.get("state").and_then(Value::as_str) {
        None | Some("published") => {}
        Some("draft") => new = new.draft(),
        Some(_) => return Err(bad_control_request("state must be published or draft")),
    }
    let workspace = named_workspace(&fake, workspace_field(&value)?)?;
    Ok(Json(workspace.with_state(|s| {
        let article = s.add_article(new);
        if internal { crate::shapes::internal_article(&article) } else { crate::shapes::article(s, &article) }
    })))
}

/// `{"name", "category"?: "Customer"|"Back-office"|"Tracker", "icon"?, "attributes"?: [{"name", "data_type":
/// "string"|"list"|"integer"|"decimal"|"boolean"|"datetime", "required"?, "options"?: ["label", …]}],
/// "workspace"?}`: a ticket type (with the default title and description); answers it as
/// `GET /ticket_types/{id}` would.
async fn control_add_ticket_type(State(fake): State<FakeIntercom>, body: Bytes) -> Result<Json<Value>, ApiError> {
    use crate::state::{NewTicketAttribute, TicketAttributeType, TicketCategory};
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    let name = value.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty());
    let name = name.ok_or_else(|| bad_control_request("name is required"))?;
    let category = match value.get("category").and_then(Value::as_str) {
        None => TicketCategory::BackOffice,
        Some(c) => TicketCategory::parse(c)
            .ok_or_else(|| bad_control_request("category must be Customer, Back-office or Tracker"))?,
    };
    let icon = value.get("icon").and_then(Value::as_str).unwrap_or("🎟️");
    let mut attributes = Vec::new();
    for item in value.get("attributes").and_then(Value::as_array).into_iter().flatten() {
        let attr_name =
            item.get("name").and_then(Value::as_str).ok_or_else(|| bad_control_request("attributes need a name"))?;
        let data_type =
            item.get("data_type").and_then(Value::as_str).and_then(TicketAttributeType::parse).ok_or_else(|| {
                bad_control_request("data_type must be string, list, integer, decimal, boolean or datetime")
            })?;
        let options: Vec<String> = item
            .get("options")
            .and_then(Value::as_array)
            .map(|o| o.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        if data_type == TicketAttributeType::List && options.is_empty() {
            return Err(bad_control_request(format!("list attribute {attr_name:?} needs options")));
        }
        let required = item.get("required").and_then(Value::as_bool).unwrap_or(false);
        attributes.push(NewTicketAttribute { required, options, ..NewTicketAttribute::new(attr_name, data_type) });
    }
    let workspace = named_workspace(&fake, workspace_field(&value)?)?;
    Ok(Json(workspace.with_state(|s| {
        let made = s.add_ticket_type(name, category, icon, attributes);
        crate::shapes::ticket_type(s, &made)
    })))
}

fn clock_json(fake: &FakeIntercom) -> Json<Value> {
    let now = fake.now();
    Json(json!({ "now": crate::clock::format_rfc3339(now), "unix": now, "set": fake.clock().is_set() }))
}

async fn control_clock(State(fake): State<FakeIntercom>) -> Json<Value> {
    clock_json(&fake)
}

/// `{"now": "<RFC 3339>"}` stops the clock there, `{"now": null}` returns to real time,
/// `{"advance_secs": n}` moves it forward; answers `{now, unix, set}`.
async fn control_set_clock(State(fake): State<FakeIntercom>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| bad_control_request(format!("invalid JSON: {e}")))?;
    match value.get("now") {
        None => {}
        Some(Value::Null) => fake.set_clock(None),
        Some(Value::String(s)) => {
            let at = crate::clock::parse_rfc3339(s)
                .ok_or_else(|| bad_control_request(format!("now must be an RFC 3339 time, not {s:?}")))?;
            fake.set_clock(Some(at));
        }
        Some(_) => return Err(bad_control_request("now must be an RFC 3339 time or null")),
    }
    if let Some(v) = value.get("advance_secs") {
        let secs = v
            .as_i64()
            .filter(|s| *s >= 0)
            .ok_or_else(|| bad_control_request("advance_secs must be a non-negative integer"))?;
        fake.advance_clock(secs);
    }
    Ok(clock_json(&fake))
}
