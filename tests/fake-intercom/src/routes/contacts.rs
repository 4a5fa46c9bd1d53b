//! Contacts: create, show, update, archive/unarchive, find by external id, search.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::{ApiResult, custom_attributes, json_object, opt_bool, opt_i64, opt_str, patch_i64, patch_str};
use crate::FakeWorkspace;
use crate::error::ApiError;
use crate::search::{Query, pagination};
use crate::shapes::{self, looks_like_email};
use crate::state::{ContactUpdate, NewContact, Role};

fn role(body: &Map<String, Value>) -> Result<Option<Role>, ApiError> {
    opt_str(body, "role")?
        .map(|r| {
            Role::parse(&r).ok_or_else(|| ApiError::invalid("role", format!("role must be user or lead, not {r:?}")))
        })
        .transpose()
}

fn check_email(email: Option<&str>) -> Result<(), ApiError> {
    match email {
        Some(e) if !looks_like_email(e) => Err(ApiError::invalid("email", format!("{e:?} is not a valid email"))),
        _ => Ok(()),
    }
}

/// `POST /contacts`.
pub(crate) async fn create(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let role = role(&body)?;
    let email = opt_str(&body, "email")?.filter(|e| !e.is_empty());
    let external_id = opt_str(&body, "external_id")?.filter(|e| !e.is_empty());
    check_email(email.as_deref())?;
    if email.is_none() && external_id.is_none() && role.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            "Please provide at least one of email, external_id or role",
        ));
    }
    let role = role.unwrap_or(Role::User);
    if role == Role::User && email.is_none() && external_id.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            "A user needs an email or an external_id",
        ));
    }
    let new = NewContact {
        role,
        external_id,
        email,
        phone: opt_str(&body, "phone")?,
        name: opt_str(&body, "name")?,
        avatar: opt_str(&body, "avatar")?,
        owner_id: opt_i64(&body, "owner_id")?,
        signed_up_at: opt_i64(&body, "signed_up_at")?,
        last_seen_at: opt_i64(&body, "last_seen_at")?,
        unsubscribed_from_emails: opt_bool(&body, "unsubscribed_from_emails")?,
        custom_attributes: custom_attributes(&body)?.unwrap_or_default(),
    };
    ws.with_state(|s| {
        let contact = s.create_contact(new)?;
        Ok(Json(shapes::contact(s, &contact)))
    })
}

/// `GET /contacts/{id}` (archived contacts are not found).
pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| Ok(Json(shapes::contact(s, s.live_contact(&id)?))))
}

/// `GET /contacts/find_by_external_id/{external_id}`.
pub(crate) async fn find_by_external_id(ws: FakeWorkspace, Path(external_id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        let contact = s.contact_by_external_id(&external_id).ok_or_else(ApiError::contact_not_found)?;
        Ok(Json(shapes::contact(s, contact)))
    })
}

/// `PUT /contacts/{id}`: custom attributes merge, `null` removes one.
pub(crate) async fn update(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let email = patch_str(&body, "email")?;
    check_email(email.as_ref().and_then(|e| e.as_deref()))?;
    let update = ContactUpdate {
        role: role(&body)?,
        external_id: patch_str(&body, "external_id")?,
        email,
        phone: patch_str(&body, "phone")?,
        name: patch_str(&body, "name")?,
        avatar: patch_str(&body, "avatar")?,
        owner_id: patch_i64(&body, "owner_id")?,
        signed_up_at: patch_i64(&body, "signed_up_at")?,
        last_seen_at: patch_i64(&body, "last_seen_at")?,
        unsubscribed_from_emails: opt_bool(&body, "unsubscribed_from_emails")?,
        custom_attributes: custom_attributes(&body)?,
    };
    ws.with_state(|s| {
        let contact = s.update_contact(&id, update)?;
        Ok(Json(shapes::contact(s, &contact)))
    })
}

/// `POST /contacts/{id}/archive`.
pub(crate) async fn archive(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| Ok(Json(shapes::contact_archived(&s.set_archived(&id, true)?))))
}

/// `POST /contacts/{id}/unarchive`.
pub(crate) async fn unarchive(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| Ok(Json(shapes::contact_archived(&s.set_archived(&id, false)?))))
}

/// `POST /contacts/search`, answered from the search index: with a search lag on, contacts not yet
/// indexed are missing and recently changed ones match and render as the index last saw them.
pub(crate) async fn search(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let query = body.get("query").filter(|q| !q.is_null()).ok_or_else(|| ApiError::missing("query"))?;
    let query = Query::parse(query)?;
    let (per_page, offset) = pagination(&body)?;
    ws.with_state(|s| {
        let indexed = s.searchable_contacts();
        let hits: Vec<_> = indexed.iter().filter(|c| query.matches(c)).collect();
        let total = hits.len();
        let page_items: Vec<_> = hits.into_iter().skip(offset).take(per_page).collect();
        let next = (offset + per_page < total).then(|| format!("offset:{}", offset + per_page));
        Ok(Json(shapes::contact_list(s, &page_items, total, offset / per_page + 1, per_page, next)))
    })
}
