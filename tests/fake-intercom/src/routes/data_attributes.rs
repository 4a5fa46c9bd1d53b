//! `GET /data_attributes`, `POST /data_attributes`, `PUT /data_attributes/{id}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use serde_json::{Value, json};

use super::{ApiResult, json_object, opt_bool, opt_str, query_param, req_str};
use crate::FakeWorkspace;
use crate::attributes::{AttributeModel, DataType};
use crate::error::ApiError;
use crate::state::AttributeUpdate;

/// `?model=contact|company|conversation&include_archived=true`: the `data_attribute_list`. The fake
/// keeps no conversation attributes, so `model=conversation` lists none.
pub(crate) async fn list(ws: FakeWorkspace, RawQuery(query): RawQuery) -> ApiResult {
    let model = query_param(query.as_deref(), "model");
    let model = match model.as_deref() {
        None | Some("") => None,
        Some("conversation") => return Ok(Json(json!({ "type": "list", "data": [] }))),
        Some(m) => Some(AttributeModel::parse(m).ok_or_else(|| {
            ApiError::invalid("model", "The Data Attribute model field must be either contact or company")
        })?),
    };
    let include_archived = query_param(query.as_deref(), "include_archived").is_some_and(|v| v == "true");
    let data: Vec<Value> = ws
        .data_attributes()
        .iter()
        .filter(|a| model.is_none_or(|m| a.model == m) && (include_archived || !a.archived))
        .map(|a| a.to_json())
        .collect();
    Ok(Json(json!({ "type": "list", "data": data })))
}

/// `{name, model, data_type, description?, options?: [{value}]}` → the new `data_attribute`.
pub(crate) async fn create(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let name = req_str(&body, "name")?;
    let model = AttributeModel::parse(&req_str(&body, "model")?).ok_or_else(|| {
        ApiError::invalid("model", "The Data Attribute model field must be either contact or company")
    })?;
    let data_type_name = req_str(&body, "data_type")?;
    let data_type =
        DataType::parse(&data_type_name).ok_or_else(|| ApiError::invalid("data_type", "Data Type isn't an option"))?;
    let options: Vec<String> = match body.get("options") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|o| o.get("value").and_then(Value::as_str).map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::invalid("options", "options must be a list of {\"value\": \"…\"}"))?,
        Some(_) => return Err(ApiError::invalid("options", "options must be a list of {\"value\": \"…\"}")),
    };
    if data_type_name == "options" && options.len() < 2 {
        return Err(ApiError::invalid("options", "A list attribute needs at least two options"));
    }
    let description = opt_str(&body, "description")?.unwrap_or_default();
    ws.with_state(|s| {
        let attribute = s.define_attribute(&name, model, data_type, &description, options)?;
        Ok(Json(attribute.to_json()))
    })
}

/// `update_data_attribute_request`: `{archived?, description?, messenger_writable?, options?: [{value}]}`.
pub(crate) async fn update(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let options = match body.get("options") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|o| o.get("value").and_then(Value::as_str).map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ApiError::invalid("options", "Options isn't an array"))?,
        ),
        Some(_) => return Err(ApiError::invalid("options", "Options isn't an array")),
    };
    let update = AttributeUpdate {
        archived: opt_bool(&body, "archived")?,
        description: opt_str(&body, "description")?,
        messenger_writable: opt_bool(&body, "messenger_writable")?,
        options,
    };
    ws.with_state(|s| Ok(Json(s.update_attribute(&id, update)?.to_json())))
}
