//! Where a hand-off goes: the category's team (`ESCALATION_ROUTING`), and whether anyone there could take it.

use std::collections::HashMap;

use crate::intercom::models::Teammate;

/// Category → team name, from `ESCALATION_ROUTING` (`billing=Billing Team,legal=Legal,*=Support`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    by_category: HashMap<String, String>,
    fallback: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RoutingError {
    #[error(
        "ESCALATION_ROUTING entry {entry:?} is not category=Team Name (example: billing=Billing Team,legal=Legal,*=Support)"
    )]
    Malformed { entry: String },
}

impl Routing {
    pub fn parse(raw: Option<&str>) -> Result<Self, RoutingError> {
        let mut routing = Routing::default();
        for entry in raw.unwrap_or_default().split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let malformed = || RoutingError::Malformed { entry: entry.to_owned() };
            let (category, team) = entry.split_once('=').ok_or_else(malformed)?;
            let (category, team) = (category.trim(), team.trim());
            if category.is_empty() || team.is_empty() {
                return Err(malformed());
            }
            if category == "*" {
                routing.fallback = Some(team.to_owned());
            } else {
                routing.by_category.insert(super::rules::normalize_category(category), team.to_owned());
            }
        }
        Ok(routing)
    }

    /// The team for this category, else the `*` team, else none (Intercom's own assignment rules apply).
    pub fn team_for(&self, category: Option<&str>) -> Option<&str> {
        category
            .map(super::rules::normalize_category)
            .and_then(|c| self.by_category.get(&c))
            .or(self.fallback.as_ref())
            .map(String::as_str)
    }
}

/// Whether a teammate who could pick the conversation up is not in away mode: a member of the routed team, or
/// anyone with an inbox seat when nothing is routed; never the AI's own admin, nor an admin without a seat.
pub fn humans_available(admins: &[Teammate], routed_team_id: Option<&str>, ai_admin_id: &str) -> bool {
    admins
        .iter()
        .filter(|a| a.id != ai_admin_id && a.has_inbox_seat != Some(false))
        .filter(|a| routed_team_id.is_none_or(|team| a.team_ids.iter().any(|id| id == team)))
        .any(|a| !a.away_mode_enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_matches_normalized_categories_with_a_fallback() {
        let r = Routing::parse(Some(" billing=Billing Team, legal = Legal ,*=Support,Account-Deletion=Trust")).unwrap();
        assert_eq!(r.team_for(Some("Billing")), Some("Billing Team"));
        assert_eq!(r.team_for(Some("account deletion")), Some("Trust"));
        assert_eq!(r.team_for(Some("shipping")), Some("Support"));
        assert_eq!(r.team_for(None), Some("Support"));
        assert_eq!(Routing::parse(None).unwrap().team_for(Some("billing")), None);
        assert!(Routing::parse(Some("billing")).is_err());
        assert!(Routing::parse(Some("=Team")).is_err());
    }

    #[test]
    fn availability_counts_the_routed_teams_members_other_than_the_ai() {
        let admin = |id: &str, away: bool, seat: Option<bool>, teams: &[&str]| Teammate {
            id: id.into(),
            name: None,
            away_mode_enabled: away,
            has_inbox_seat: seat,
            team_ids: teams.iter().map(|t| t.to_string()).collect(),
        };
        let ai = admin("1", false, Some(true), &["10", "20"]);
        let grace = admin("2", false, Some(true), &["10"]);
        let away = admin("3", true, Some(true), &["20"]);
        let seatless = admin("4", false, Some(false), &["20"]);
        let admins = [ai.clone(), grace.clone(), away.clone(), seatless.clone()];
        assert!(humans_available(&admins, Some("10"), "1"), "Grace is in team 10 and not away");
        assert!(!humans_available(&admins, Some("20"), "1"), "only the AI, an away admin and a seatless one");
        assert!(!humans_available(&admins, Some("30"), "1"), "an empty team");
        assert!(humans_available(&admins, None, "1"), "nothing routed: anyone with a seat");
        assert!(!humans_available(&[ai, away, seatless], None, "1"));
        assert!(humans_available(&[admin("5", false, None, &[])], None, "1"), "a seat Intercom does not show counts");
    }
}
