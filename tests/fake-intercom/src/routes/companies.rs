//! Companies and what is attached to a contact: `POST /companies`, `GET /companies/{id}`,
//! `GET`/`POST /contacts/{id}/companies`, `GET`/`POST /contacts/{id}/tags`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;

use super::{ApiResult, custom_attributes, json_object, opt_bool, opt_i64, opt_str, req_str};
use crate::state::{CompanyUpdate, company_not_found};
use crate::{FakeWorkspace, shapes};

/// `create_or_update_company_request`: by `company_id` (required), the company is created or updated.
pub(crate) async fn create_or_update(ws: FakeWorkspace, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let update = CompanyUpdate {
        company_id: req_str(&body, "company_id")?,
        name: opt_str(&body, "name")?,
        plan: opt_str(&body, "plan")?,
        size: opt_i64(&body, "size")?,
        website: opt_str(&body, "website")?,
        industry: opt_str(&body, "industry")?,
        monthly_spend: opt_i64(&body, "monthly_spend")?,
        remote_created_at: opt_i64(&body, "remote_created_at")?,
        custom_attributes: custom_attributes(&body)?,
        update_last_request_at: opt_bool(&body, "update_last_request_at")?.unwrap_or(false),
    };
    ws.with_state(|s| {
        let company = s.create_or_update_company(update)?;
        Ok(Json(shapes::company(s, &company)))
    })
}

pub(crate) async fn show(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| s.company(&id).map(|c| Json(shapes::company(s, c))).ok_or_else(company_not_found))
}

pub(crate) async fn of_contact(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        let companies = s.companies_of(&id)?;
        Ok(Json(shapes::company_list(s, &companies)))
    })
}

/// `{id}`: the company's Intercom id.
pub(crate) async fn attach(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let company_id = req_str(&body, "id")?;
    ws.with_state(|s| {
        let company = s.attach_company(&id, &company_id)?;
        Ok(Json(shapes::company(s, &company)))
    })
}

pub(crate) async fn tags_of_contact(ws: FakeWorkspace, Path(id): Path<String>) -> ApiResult {
    ws.with_state(|s| {
        let tags: Vec<serde_json::Value> = s.tags_of(&id)?.into_iter().map(shapes::tag).collect();
        Ok(Json(serde_json::json!({ "type": "list", "data": tags })))
    })
}

/// `{id}`: the tag's id.
pub(crate) async fn tag_contact(ws: FakeWorkspace, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = json_object(&body)?;
    let tag_id = req_str(&body, "id")?;
    ws.with_state(|s| Ok(Json(shapes::tag(&s.tag_contact(&id, &tag_id)?))))
}
