//! The help center: `GET /help_center/help_centers`, `/articles`, `/articles/{id}`, `/articles/search`,
//! `/internal_articles`, `/internal_articles/{id}`, `/internal_articles/search`.

use axum::Json;
use axum::extract::{Path, RawQuery};

use super::{ApiResult, query_param};
use crate::error::ApiError;
use crate::state::{ArticleState, article_not_found};
use crate::{FakeWorkspace, shapes};

pub(crate) async fn help_centers(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::help_center_list(s))))
}

pub(crate) async fn list(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::article_list(s))))
}

pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| s.article(&id, false).map(|a| Json(shapes::article(s, a))).ok_or_else(article_not_found))
}

/// `?phrase=&state=published|draft|all&help_center_id=&highlight=true`. Without `state`, drafts are found
/// too (as Intercom's own example shows); without `phrase`, every article is.
pub(crate) async fn search(ws: FakeWorkspace, RawQuery(query): RawQuery) -> ApiResult {
    let query = query.as_deref();
    let phrase = query_param(query, "phrase").unwrap_or_default();
    let state = match query_param(query, "state").as_deref() {
        None | Some("all") => None,
        Some("published") => Some(ArticleState::Published),
        Some("draft") => Some(ArticleState::Draft),
        Some(other) => {
            return Err(ApiError::invalid("state", format!("state must be published, draft or all, not {other:?}")));
        }
    };
    let help_center = query_param(query, "help_center_id");
    let highlight = query_param(query, "highlight").is_some_and(|v| v == "true");
    ws.with_state(|s| {
        let hits = s.search_articles(&phrase, state, help_center.as_deref());
        Ok(Json(shapes::article_search(s, &hits, highlight)))
    })
}

pub(crate) async fn internal_list(ws: FakeWorkspace) -> ApiResult {
    Ok(Json(ws.with_state(|s| shapes::internal_article_list(s))))
}

pub(crate) async fn internal_show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        s.article(&id, true).map(|a| Json(shapes::internal_article(a))).ok_or_else(|| {
            ApiError::new(axum::http::StatusCode::NOT_FOUND, "internal_article_not_found", "Internal article not found")
        })
    })
}

/// `?folder_id=` (the fake has no folders: every internal article is in none); `phrase` is the fake's own
/// extension, not in the spec: it narrows the answer as public search does.
pub(crate) async fn internal_search(ws: FakeWorkspace, RawQuery(query): RawQuery) -> ApiResult {
    let phrase = query_param(query.as_deref(), "phrase");
    let folder = query_param(query.as_deref(), "folder_id");
    ws.with_state(|s| {
        let found = if folder.is_some() { Vec::new() } else { s.search_internal_articles(phrase.as_deref()) };
        Ok(Json(shapes::internal_article_search(&found)))
    })
}
