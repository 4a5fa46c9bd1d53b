//! Admins (teammates, the AI agent's bot admin), their away status, teams and the teams' real-time metrics.

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

/// A reason an admin gives for being away (`GET /away_status_reasons`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwayStatusReason {
    pub id: String,
    pub label: String,
    pub emoji: String,
}

/// One teammate's line of `GET /teams/{id}/metrics`: conversations assigned to them now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TeammateLoad {
    pub open: usize,
    /// Open and waiting for a reply longer than the idle threshold.
    pub idle: usize,
    pub snoozed: usize,
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

    /// `GET /teams/{id}/metrics`: for each member, the conversations assigned to them that are open, open and
    /// waiting longer than `idle_threshold` seconds for a reply, and snoozed. 403 `api_plan_restricted`
    /// when the workspace lacks real-time monitoring ([`State::realtime_monitoring`]); 404 `team_not_found`.
    pub fn team_metrics(&self, team_id: &str, idle_threshold: i64) -> Result<Vec<(String, TeammateLoad)>, ApiError> {
        if !self.realtime_monitoring {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "api_plan_restricted",
                "Real-time monitoring is not enabled for your workspace.",
            ));
        }
        let team = self
            .team(team_id)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"))?;
        let now = self.now();
        Ok(team
            .admin_ids
            .iter()
            .map(|admin| {
                let mut load = TeammateLoad { open: 0, idle: 0, snoozed: 0 };
                let mine = self
                    .conversations
                    .values()
                    .filter(|c| c.admin_assignee_id.map(|a| a.to_string()).as_deref() == Some(admin));
                for c in mine {
                    match c.state {
                        super::ConversationState::Open => {
                            load.open += 1;
                            if c.waiting_since.is_some_and(|w| now - w >= idle_threshold) {
                                load.idle += 1;
                            }
                        }
                        super::ConversationState::Snoozed => load.snoozed += 1,
                        super::ConversationState::Closed => {}
                    }
                }
                (admin.clone(), load)
            })
            .collect())
    }

    /// Intercom's default away reasons, once.
    pub(super) fn seed_away_reasons(&mut self) {
        for (label, emoji) in [("On a break", "☕"), ("In a meeting", "📅"), ("Out for the day", "🏠")] {
            self.counters.away_reason += 1;
            let id = self.counters.away_reason.to_string();
            self.away_status_reasons.push(AwayStatusReason { id, label: label.to_owned(), emoji: emoji.to_owned() });
        }
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
