//! `GET /me`, `/admins`, `/admins/{id}`, `PUT /admins/{id}/away`, `GET /away_status_reasons`, `/teams`,
//! `/teams/{id}`, `/teams/{id}/metrics`.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;

use axum::body::Bytes;

use super::{ApiResult, json_object, opt_bool, opt_i64, query_param};
use crate::error::ApiError;
use crate::{FakeWorkspace, shapes};

pub(crate) async fn me(ws: FakeWorkspace) -> ApiResult {
    ws.with_state(|s| {
        let me = s.me().ok_or_else(ApiError::unauthorized)?;
        Ok(Json(shapes::admin_with_app(s, me)))
    })
}

pub(crate) async fn list(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::admin_list(s))))
}

pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        s.admin(&id)
            .map(|a| Json(shapes::admin(s, a)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))
    })
}

pub(crate) async fn teams(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::team_list(s))))
}

pub(crate) async fn team(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        s.team(&id)
            .map(|t| Json(shapes::team(t)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"))
    })
}

/// `PUT /admins/{id}/away` `{away_mode_enabled, away_mode_reassign, away_status_reason_id?}` → the admin.
pub(crate) async fn set_away(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let enabled = opt_bool(&body, "away_mode_enabled")?.ok_or_else(|| ApiError::missing("away_mode_enabled"))?;
    let reassign = opt_bool(&body, "away_mode_reassign")?.ok_or_else(|| ApiError::missing("away_mode_reassign"))?;
    let reason = opt_i64(&body, "away_status_reason_id")?;
    ws.with_state(|s| {
        let admin = s.set_away(&id, enabled, reassign, reason)?;
        Ok(Json(shapes::admin(s, &admin)))
    })
}

/// `?idle_threshold=<seconds>` (default 1800): the team's members' open, idle and snoozed conversations.
pub(crate) async fn team_metrics(
    ws: FakeWorkspace,
    Path(id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> ApiResult {
    let threshold = match query_param(query.as_deref(), "idle_threshold") {
        None => 1800,
        Some(v) => v.parse::<i64>().ok().filter(|t| *t >= 0).ok_or_else(|| {
            ApiError::invalid("idle_threshold", "idle_threshold must be a non-negative integer (seconds)")
        })?,
    };
    ws.with_state(|s| Ok(Json(shapes::team_metric_list(&s.team_metrics(&id, threshold)?))))
}

pub(crate) async fn away_status_reasons(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::away_status_reason_list(&s.away_status_reasons, 1_700_000_000))))
}
