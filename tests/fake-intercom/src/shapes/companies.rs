//! `company` and the company lists.

use serde_json::{Value, json};

use crate::state::{Company, State};

/// `company`. `custom_attributes` values are strings in the spec; `website` / `industry` are `""` when
/// unknown (non-nullable strings); `user_count` counts its contacts.
pub fn company(state: &State, c: &Company) -> Value {
    let plan = match c.plan_id.as_deref().and_then(|id| state.plan(id)) {
        Some(plan) => json!({ "type": "plan", "id": plan.id, "name": plan.name }),
        None => json!({}),
    };
    json!({
        "type": "company",
        "id": c.id,
        "name": c.name,
        "app_id": state.workspace_id,
        "plan": plan,
        "company_id": c.company_id,
        "remote_created_at": c.remote_created_at.unwrap_or(c.created_at),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "last_request_at": c.last_request_at.unwrap_or(0),
        "size": c.size.unwrap_or(0),
        "website": c.website.clone().unwrap_or_default(),
        "industry": c.industry.clone().unwrap_or_default(),
        "monthly_spend": c.monthly_spend.unwrap_or(0),
        "session_count": 0,
        "user_count": state.user_count(&c.id),
        "custom_attributes": c.custom_attributes,
        "tags": { "type": "tag.list", "tags": [] },
        "segments": { "type": "segment.list", "segments": [] },
        "notes": { "type": "note.list", "notes": [] },
    })
}

/// `contact_attached_companies` (`GET /contacts/{id}/companies`): one page holds them all.
pub fn company_list(state: &State, companies: &[&Company]) -> Value {
    let data: Vec<Value> = companies.iter().map(|c| company(state, c)).collect();
    json!({
        "type": "list",
        "companies": data,
        "total_count": companies.len(),
        "pages": { "type": "pages", "page": 1, "per_page": 50, "total_pages": 1, "next": Value::Null },
    })
}
