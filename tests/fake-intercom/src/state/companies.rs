//! Companies (with a plan and custom attributes) and the contacts attached to them.

use serde::Serialize;
use serde_json::{Map, Value};

use super::State;
use crate::attributes::{self, AttributeModel};
use crate::error::ApiError;
use crate::ids::random_hex;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Company {
    /// Intercom's id (24 hex characters).
    pub id: String,
    /// The id the workspace gave it (`company_id`), unique in the workspace.
    pub company_id: String,
    pub name: String,
    /// The plan's id (see [`Plan`]).
    pub plan_id: Option<String>,
    pub size: Option<i64>,
    pub website: Option<String>,
    pub industry: Option<String>,
    pub monthly_spend: Option<i64>,
    pub custom_attributes: Map<String, Value>,
    pub remote_created_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_request_at: Option<i64>,
}

/// A company's plan (`{type: plan, id, name}`), one per name in a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub id: String,
    pub name: String,
}

/// `POST /companies`: the fields of `create_or_update_company_request` (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanyUpdate {
    pub company_id: String,
    pub name: Option<String>,
    pub plan: Option<String>,
    pub size: Option<i64>,
    pub website: Option<String>,
    pub industry: Option<String>,
    pub monthly_spend: Option<i64>,
    pub remote_created_at: Option<i64>,
    pub custom_attributes: Option<Map<String, Value>>,
    pub update_last_request_at: bool,
}

impl CompanyUpdate {
    pub fn new(company_id: &str, name: &str) -> Self {
        Self { company_id: company_id.to_owned(), name: Some(name.to_owned()), ..Self::default() }
    }
}

pub fn company_not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "company_not_found", "Company Not Found")
}

impl State {
    pub fn company(&self, id: &str) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// The plan with this name (case-insensitive), created on first use.
    fn plan_named(&mut self, name: &str) -> String {
        if let Some(plan) = self.plans.iter().find(|p| p.name.eq_ignore_ascii_case(name)) {
            return plan.id.clone();
        }
        self.counters.plan += 1;
        let plan = Plan { id: self.counters.plan.to_string(), name: name.to_owned() };
        self.plans.push(plan.clone());
        plan.id
    }

    /// `POST /companies`: creates the company with this `company_id`, or updates it. Custom attributes must
    /// be defined company attributes of the right type (as for contacts); nothing is applied otherwise.
    pub fn create_or_update_company(&mut self, update: CompanyUpdate) -> Result<Company, ApiError> {
        if let Some(attrs) = &update.custom_attributes
            && !self.accept_unknown_attributes
        {
            attributes::check_attributes(&self.data_attributes, AttributeModel::Company, attrs)?;
        }
        let now = self.now();
        let plan_id = update.plan.as_deref().map(|p| self.plan_named(p));
        let index = match self.companies.iter().position(|c| c.company_id == update.company_id) {
            Some(index) => index,
            None => {
                self.companies.push(Company {
                    id: random_hex(12),
                    company_id: update.company_id.clone(),
                    name: String::new(),
                    plan_id: None,
                    size: None,
                    website: None,
                    industry: None,
                    monthly_spend: None,
                    custom_attributes: Map::new(),
                    remote_created_at: None,
                    created_at: now,
                    updated_at: now,
                    last_request_at: None,
                });
                self.companies.len() - 1
            }
        };
        let company = &mut self.companies[index];
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = update.$field { company.$field = Some(v); }
            )*};
        }
        set!(size, website, industry, monthly_spend, remote_created_at);
        if let Some(name) = update.name {
            company.name = name;
        }
        if plan_id.is_some() {
            company.plan_id = plan_id;
        }
        for (k, v) in update.custom_attributes.unwrap_or_default() {
            if v.is_null() {
                company.custom_attributes.remove(&k);
            } else {
                company.custom_attributes.insert(k, v);
            }
        }
        if update.update_last_request_at {
            company.last_request_at = Some(now);
        }
        company.updated_at = now;
        Ok(company.clone())
    }

    /// `POST /contacts/{id}/companies {id}`: attaching twice is a no-op.
    pub fn attach_company(&mut self, contact_id: &str, company_id: &str) -> Result<Company, ApiError> {
        self.live_contact(contact_id)?;
        let company = self.company(company_id).cloned().ok_or_else(company_not_found)?;
        let now = self.now();
        let contact = self.contact_mut(contact_id).ok_or_else(ApiError::contact_not_found)?;
        if !contact.company_ids.contains(&company.id) {
            contact.company_ids.push(company.id.clone());
            contact.updated_at = now;
        }
        self.contact_changed(contact_id);
        Ok(company)
    }

    /// The companies a contact is attached to, in attachment order.
    pub fn companies_of(&self, contact_id: &str) -> Result<Vec<&Company>, ApiError> {
        let contact = self.live_contact(contact_id)?;
        Ok(contact.company_ids.iter().filter_map(|id| self.company(id)).collect())
    }

    /// How many (non-archived) contacts a company has.
    pub fn user_count(&self, company_id: &str) -> usize {
        self.contacts.iter().filter(|c| !c.archived && c.company_ids.iter().any(|id| id == company_id)).count()
    }
}
