//! Admins (teammates, the AI agent's bot admin) and teams.

use axum::http::StatusCode;
use serde::Serialize;

use super::State;
use super::conversations::Author;
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admin {
    pub id: String,
    pub name: String,
    pub email: String,
    pub job_title: Option<String>,
    pub away_mode_enabled: bool,
    pub away_mode_reassign: bool,
    pub away_status_reason_id: Option<i64>,
    pub has_inbox_seat: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub admin_ids: Vec<String>,
}

impl State {
    pub fn me(&self) -> Option<&Admin> {
        self.admin(&self.me_admin_id)
    }

    pub fn admin(&self, id: &str) -> Option<&Admin> {
        self.admins.iter().find(|a| a.id == id)
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    /// The admin named by a request's `admin_id`, or 404 `admin_not_found`: the conversation endpoints declare
    /// 404 as their only refusal, and Intercom words an unknown `admin_id` so (`PUT /admins/{id}/away`).
    pub fn require_admin(&self, admin_id: &str) -> Result<Admin, ApiError> {
        self.admin(admin_id).cloned().ok_or_else(ApiError::admin_not_found)
    }

    pub fn add_admin(&mut self, name: &str, email: &str) -> Admin {
        self.counters.admin += 1;
        let admin = Admin {
            id: self.counters.admin.to_string(),
            name: name.to_owned(),
            email: email.to_owned(),
            job_title: None,
            away_mode_enabled: false,
            away_mode_reassign: false,
            away_status_reason_id: None,
            has_inbox_seat: true,
        };
        self.admins.push(admin.clone());
        admin
    }

    /// `PUT /admins/{id}/away`: away mode on or off, and whether new replies are reassigned.
    pub fn set_away(
        &mut self,
        admin_id: &str,
        enabled: bool,
        reassign: bool,
        reason_id: Option<i64>,
    ) -> Result<Admin, ApiError> {
        let admin =
            self.admins.iter_mut().find(|a| a.id == admin_id).ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin for admin_id not found")
            })?;
        admin.away_mode_enabled = enabled;
        admin.away_mode_reassign = reassign;
        admin.away_status_reason_id = if enabled { reason_id } else { None };
        Ok(admin.clone())
    }

    pub fn add_team(&mut self, name: &str, admin_ids: &[&str]) -> Team {
        self.counters.team += 1;
        let team = Team {
            id: self.counters.team.to_string(),
            name: name.to_owned(),
            admin_ids: admin_ids.iter().map(|s| (*s).to_owned()).collect(),
        };
        self.teams.push(team.clone());
        team
    }

    /// Ids (as integers, like the API) of the teams an admin belongs to.
    pub fn team_ids_of(&self, admin_id: &str) -> Vec<i64> {
        self.teams
            .iter()
            .filter(|t| t.admin_ids.iter().any(|a| a == admin_id))
            .filter_map(|t| t.id.parse().ok())
            .collect()
    }

    pub(crate) fn admin_author(admin: &Admin) -> Author {
        Author {
            kind: "admin".to_owned(),
            id: admin.id.clone(),
            name: Some(admin.name.clone()),
            email: Some(admin.email.clone()),
        }
    }
}
