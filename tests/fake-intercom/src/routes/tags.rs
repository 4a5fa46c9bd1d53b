//! `GET /tags`, `POST /tags`, `GET /tags/{id}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;

use super::{ApiResult, json_object, opt_str};
use crate::error::ApiError;
use crate::{FakeWorkspace, shapes};

pub(crate) async fn list(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::tag_list(s))))
}

pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| s.tag(&id).map(|t| Json(shapes::tag(t))).ok_or_else(ApiError::tag_not_found))
}

/// `{name}` finds (case-insensitively) or creates; `{id, name}` renames. Tagging companies
/// or users in bulk is not supported by the fake (400).
pub(crate) async fn create(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let invalid = || ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", "invalid tag parameters");
    if body.contains_key("companies") || body.contains_key("users") {
        return Err(invalid());
    }
    let name = opt_str(&body, "name")?.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).ok_or_else(invalid)?;
    let id = opt_str(&body, "id")?;
    ws.with_state(|s| {
        let tag = match id {
            Some(id) => s.rename_tag(&id, &name)?,
            None => s.find_or_create_tag(&name),
        };
        Ok(Json(shapes::tag(&tag)))
    })
}
