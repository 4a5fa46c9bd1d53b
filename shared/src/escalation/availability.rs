//! Who can answer an escalation, and what to promise the customer: routing with fallback teams, the least
//! loaded teammate, `expectedResponse`, and the customer messages. Pure: the flow gathers the facts (schedules,
//! admins, team metrics, Intercom's clock) and these rules decide.

use std::collections::HashMap;

use jiff::{Timestamp, ZonedDateTime};
use serde::{Deserialize, Serialize};

use super::office_hours::{self, OfficeHoursConfigError, OfficeHoursMap};
use crate::intercom::models::Teammate;
use crate::intercom::team_metrics::TeamMetric;

/// `category=Team|Fallback Team,*=Team`: the teams to try for each category, in order.
pub const ROUTING_VAR: &str = "ESCALATION_ROUTING";
/// `team` (default) or `least_loaded`.
pub const ASSIGN_VAR: &str = "ESCALATION_ASSIGN";
/// `assign` (default) or `snooze`.
pub const OUTSIDE_HOURS_VAR: &str = "ESCALATION_OUTSIDE_HOURS";
/// Posted to the customer, as the AI, when the team is open and someone is available.
pub const OPEN_REPLY_VAR: &str = "ESCALATION_OPEN_REPLY";
/// Posted to the customer, as the AI, when the team is closed.
pub const CLOSED_REPLY_VAR: &str = "ESCALATION_CLOSED_REPLY";

/// The placeholder for the chosen team's name, in both replies.
pub const TEAM_PLACEHOLDER: &str = "{team}";
/// The placeholder for the opening time in the schedule's zone (`Monday at 09:00 (Europe/Paris)`).
pub const OPENS_AT_LOCAL_PLACEHOLDER: &str = "{opens_at_local}";

// ---- (a) routing with fallbacks ----

/// Category → the teams to try in order, from `ESCALATION_ROUTING` (`billing=Billing|Support,*=Support`).
/// `category=Team` (one team) is the same as before fallbacks existed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamRouting {
    by_category: HashMap<String, Vec<String>>,
    fallback: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error(
        "{ROUTING_VAR} entry {entry:?} is not category=Team Name or category=Team|Fallback Team \
         (example: billing=Billing|Support,legal=Legal,*=Support)"
    )]
    Malformed { entry: String },
}

impl TeamRouting {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, RoutingError> {
        Self::parse(lookup(ROUTING_VAR).as_deref())
    }

    /// A later entry for the same category replaces an earlier one; a team named twice in one list counts once.
    pub fn parse(raw: Option<&str>) -> Result<Self, RoutingError> {
        let mut routing = TeamRouting::default();
        for entry in raw.unwrap_or_default().split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let malformed = || RoutingError::Malformed { entry: entry.to_owned() };
            let (category, teams) = entry.split_once('=').ok_or_else(malformed)?;
            let category = category.trim();
            let mut list: Vec<String> = Vec::new();
            for team in teams.split('|').map(str::trim) {
                if team.is_empty() || team.contains('=') {
                    return Err(malformed());
                }
                if !list.iter().any(|known| known.eq_ignore_ascii_case(team)) {
                    list.push(team.to_owned());
                }
            }
            if category.is_empty() {
                return Err(malformed());
            }
            if category == "*" {
                routing.fallback = list;
            } else {
                routing.by_category.insert(super::normalize_category(category), list);
            }
        }
        Ok(routing)
    }

    /// The teams to try for this category, in order: its own list, else the `*` list, else none (Intercom's
    /// own assignment rules apply).
    pub fn teams_for(&self, category: Option<&str>) -> &[String] {
        category.map(super::normalize_category).and_then(|c| self.by_category.get(&c)).unwrap_or(&self.fallback)
    }

    /// Every team named anywhere, once each: what the flow resolves and reads the hours of.
    pub fn all_teams(&self) -> Vec<&str> {
        let mut teams: Vec<&str> = Vec::new();
        for team in self.by_category.values().flatten().chain(&self.fallback) {
            if !teams.iter().any(|known| known.eq_ignore_ascii_case(team)) {
                teams.push(team);
            }
        }
        teams
    }
}

/// A team's office hours at the moment of the escalation.
#[derive(Debug, Clone, PartialEq)]
pub enum Hours {
    /// Inside its schedule's hours, or no schedule applies to it (no `OFFICE_HOURS` entry: always open).
    Open,
    /// Outside its hours; `opens_at` is `None` when the schedule does not open again (no intervals).
    Closed { opens_at: Option<ZonedDateTime> },
    /// Its schedule could not be read or evaluated: counted as open for routing, promised nothing.
    Unknown,
}

impl Hours {
    /// Open, or unknown and so given the benefit of the doubt.
    fn may_be_open(&self) -> bool {
        !matches!(self, Hours::Closed { .. })
    }
}

/// What the flow knows of one team it could route to.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub team: &'a str,
    pub hours: Hours,
    /// Whether a member other than the AI is not away; `None` when the admins could not be read.
    pub available: Option<bool>,
}

/// The index of the team to route to: (1) the first that is open and has an available teammate; (2) else the
/// first open one (inside hours, its people may be back any minute); (3) else, all closed, the first one — it
/// sees the conversation when it opens. A team whose hours or people are unknown is given the benefit of the
/// doubt. `None` only when there is no candidate.
pub fn choose_team(candidates: &[Candidate<'_>]) -> Option<usize> {
    let staffed = |c: &Candidate<'_>| c.hours.may_be_open() && c.available != Some(false);
    candidates
        .iter()
        .position(staffed)
        .or_else(|| candidates.iter().position(|c| c.hours.may_be_open()))
        .or(if candidates.is_empty() { None } else { Some(0) })
}

// ---- (b) who takes it ----

/// How the conversation is assigned, from `ESCALATION_ASSIGN`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssignMode {
    /// To the team only (Intercom's own assignment rules may pick a teammate).
    #[default]
    Team,
    /// To the team and to its available member with the fewest open conversations.
    LeastLoaded,
}

/// The team member to assign: available (not away, with an inbox seat unless Intercom does not say), never the
/// AI's own admin, with the fewest open conversations; ties go to the fewest idle ones, then to the order of
/// `admins`. A member the metrics leave out has none. `None` when no member is available.
pub fn least_loaded<'a>(
    admins: &'a [Teammate],
    team_id: &str,
    metrics: &[TeamMetric],
    ai_admin_id: &str,
) -> Option<&'a Teammate> {
    let load = |id: &str| metrics.iter().find(|m| m.admin_id == id).map_or((0, 0), |m| (m.open, m.idle));
    admins
        .iter()
        .filter(|a| a.id != ai_admin_id && !a.away_mode_enabled && a.has_inbox_seat != Some(false))
        .filter(|a| a.team_ids.iter().any(|id| id == team_id))
        .min_by_key(|a| load(&a.id))
}

// ---- (c) the promise ----

/// When a human is expected to answer: the answer's `expectedResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "when", rename_all = "lowercase")]
pub enum ExpectedResponse {
    /// Inside office hours, with a teammate who is not away.
    Now,
    /// Outside office hours: the team's next opening, RFC 3339 with the schedule's UTC offset.
    At {
        #[serde(rename = "opensAt")]
        opens_at: String,
        team: String,
    },
    /// Nobody can tell: hours or people unknown, everyone away, or a schedule that never opens.
    Unknown,
}

/// The promise for the chosen team, given its hours and whether someone is available.
pub fn expected_response(team: &str, hours: &Hours, available: Option<bool>) -> ExpectedResponse {
    match (hours, available) {
        (Hours::Open, Some(true)) => ExpectedResponse::Now,
        (Hours::Closed { opens_at: Some(at) }, _) => {
            ExpectedResponse::At { opens_at: office_hours::rfc3339(at), team: team.to_owned() }
        }
        _ => ExpectedResponse::Unknown,
    }
}

// ---- (d) customer messages ----

/// `template` with `{team}` and, when given, `{opens_at_local}` filled in. Used for the configured replies and
/// for an agent's own `customerMessage` (where a placeholder without a value is left as written).
pub fn render_reply(template: &str, team: &str, opens_at_local: Option<&str>) -> String {
    let text = template.replace(TEAM_PLACEHOLDER, team);
    match opens_at_local {
        Some(label) => text.replace(OPENS_AT_LOCAL_PLACEHOLDER, label),
        None => text,
    }
}

/// The opening as a customer reads it: `Monday at 09:00 (Europe/Paris)`; for `{opens_at_local}`.
pub fn opens_at_local(at: &ZonedDateTime, now: Timestamp) -> String {
    office_hours::local_label(at, now)
}

// ---- (e) outside hours ----

/// What to do with a conversation routed to a closed team, from `ESCALATION_OUTSIDE_HOURS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutsideHours {
    /// Assign it now; the team sees it when it opens.
    #[default]
    Assign,
    /// Assign it and snooze it until the opening, so it surfaces in the team's inbox when they arrive.
    Snooze,
}

// ---- settings ----

/// Everything about availability that escalate reads from its configuration, once per container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AvailabilitySettings {
    pub routing: TeamRouting,
    pub office_hours: OfficeHoursMap,
    pub assign: AssignMode,
    pub outside_hours: OutsideHours,
    /// `ESCALATION_OPEN_REPLY`; unset = nothing posted.
    pub open_reply: Option<String>,
    /// `ESCALATION_CLOSED_REPLY`; unset = nothing posted.
    pub closed_reply: Option<String>,
}

/// Why an availability setting was rejected. Messages name the variable and show a valid value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvailabilitySettingsError {
    #[error(transparent)]
    Routing(#[from] RoutingError),
    #[error(transparent)]
    OfficeHours(#[from] OfficeHoursConfigError),
    #[error("{ASSIGN_VAR} must be team or least_loaded, got {value:?}; unset it to assign to the team")]
    UnknownAssign { value: String },
    #[error("{OUTSIDE_HOURS_VAR} must be assign or snooze, got {value:?}; unset it to assign without snoozing")]
    UnknownOutsideHours { value: String },
    #[error("{var} must not be empty when set; unset it to post nothing")]
    EmptyReply { var: &'static str },
    #[error("{var} uses the placeholder {placeholder}, which it cannot fill; it accepts {accepted}")]
    UnknownPlaceholder { var: &'static str, placeholder: String, accepted: &'static str },
}

impl AvailabilitySettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, AvailabilitySettingsError> {
        let assign = match lookup(ASSIGN_VAR).map(|v| v.trim().to_ascii_lowercase()) {
            None => AssignMode::Team,
            Some(v) if v == "team" => AssignMode::Team,
            Some(v) if v == "least_loaded" => AssignMode::LeastLoaded,
            Some(value) => return Err(AvailabilitySettingsError::UnknownAssign { value }),
        };
        let outside_hours = match lookup(OUTSIDE_HOURS_VAR).map(|v| v.trim().to_ascii_lowercase()) {
            None => OutsideHours::Assign,
            Some(v) if v == "assign" => OutsideHours::Assign,
            Some(v) if v == "snooze" => OutsideHours::Snooze,
            Some(value) => return Err(AvailabilitySettingsError::UnknownOutsideHours { value }),
        };
        Ok(AvailabilitySettings {
            routing: TeamRouting::from_lookup(&lookup)?,
            office_hours: OfficeHoursMap::from_lookup(&lookup)?,
            assign,
            outside_hours,
            open_reply: reply(&lookup, OPEN_REPLY_VAR, &[TEAM_PLACEHOLDER], "{team}")?,
            closed_reply: reply(
                &lookup,
                CLOSED_REPLY_VAR,
                &[TEAM_PLACEHOLDER, OPENS_AT_LOCAL_PLACEHOLDER],
                "{team} and {opens_at_local}",
            )?,
        })
    }

    /// The configured reply for this promise, placeholders filled: the open reply for `now`, the closed one for
    /// `at`, none when nobody can tell (`ESCALATION_AWAY_REPLY` covers everyone being away).
    pub fn customer_reply(
        &self,
        expected: &ExpectedResponse,
        team: &str,
        opens_at_local: Option<&str>,
    ) -> Option<String> {
        let template = match expected {
            ExpectedResponse::Now => self.open_reply.as_deref()?,
            ExpectedResponse::At { .. } => self.closed_reply.as_deref()?,
            ExpectedResponse::Unknown => return None,
        };
        Some(render_reply(template, team, opens_at_local))
    }
}

/// A reply template: trimmed, not empty, and with no `{placeholder}` it cannot fill (a typo would reach the
/// customer verbatim).
fn reply(
    lookup: impl Fn(&str) -> Option<String>,
    var: &'static str,
    placeholders: &[&str],
    accepted: &'static str,
) -> Result<Option<String>, AvailabilitySettingsError> {
    let Some(text) = lookup(var).map(|t| t.trim().to_owned()) else { return Ok(None) };
    if text.is_empty() {
        return Err(AvailabilitySettingsError::EmptyReply { var });
    }
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        let placeholder = &rest[open..open + close + 2];
        let looks_like_one = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if looks_like_one && !placeholders.contains(&placeholder) {
            return Err(AvailabilitySettingsError::UnknownPlaceholder {
                var,
                placeholder: placeholder.to_owned(),
                accepted,
            });
        }
        rest = &after[close + 1..];
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<AvailabilitySettings, AvailabilitySettingsError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AvailabilitySettings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn routing_reads_ordered_fallbacks() {
        let r = TeamRouting::parse(Some(
            " billing=Billing | Support ,legal=Legal,*=Support|Tier 2, Account-Deletion=Trust",
        ))
        .unwrap();
        assert_eq!(r.teams_for(Some("billing")), ["Billing", "Support"]);
        assert_eq!(r.teams_for(Some("Billing")), ["Billing", "Support"], "categories are normalised");
        assert_eq!(r.teams_for(Some("account deletion")), ["Trust"]);
        assert_eq!(r.teams_for(Some("legal")), ["Legal"]);
        assert_eq!(r.teams_for(Some("shipping")), ["Support", "Tier 2"]);
        assert_eq!(r.teams_for(None), ["Support", "Tier 2"]);
        let mut all = r.all_teams();
        all.sort_unstable();
        assert_eq!(all, ["Billing", "Legal", "Support", "Tier 2", "Trust"]);
    }

    #[test]
    fn routing_accepts_todays_syntax() {
        let r = TeamRouting::parse(Some("billing=Billing Team,legal=Legal,*=Support")).unwrap();
        assert_eq!(r.teams_for(Some("billing")), ["Billing Team"]);
        assert_eq!(r.teams_for(Some("other")), ["Support"]);
        let none = TeamRouting::parse(None).unwrap();
        assert!(none.teams_for(Some("billing")).is_empty() && none.all_teams().is_empty());
        let later_wins = TeamRouting::parse(Some("billing=A,billing=B|b|A")).unwrap();
        assert_eq!(later_wins.teams_for(Some("billing")), ["B", "A"], "a repeated team counts once");
    }

    #[test]
    fn routing_errors_name_the_variable_and_the_entry() {
        for bad in ["billing", "=Billing", "billing=", "billing=Billing||Support", "billing=|Support", "billing=A=B"] {
            let e = TeamRouting::parse(Some(&format!("*=Support,{bad}"))).unwrap_err();
            assert_eq!(e, RoutingError::Malformed { entry: bad.into() });
            assert!(e.to_string().starts_with(&format!("ESCALATION_ROUTING entry {bad:?} is not category=Team Name")));
        }
    }

    fn candidate(team: &str, hours: Hours, available: Option<bool>) -> Candidate<'_> {
        Candidate { team, hours, available }
    }

    fn closed() -> Hours {
        Hours::Closed { opens_at: None }
    }

    #[test]
    fn the_first_open_team_with_someone_available_wins() {
        let c = [
            candidate("Billing", closed(), Some(true)),
            candidate("Support", Hours::Open, Some(false)),
            candidate("Tier 2", Hours::Open, Some(true)),
        ];
        assert_eq!(choose_team(&c), Some(2));
        let c = [candidate("Billing", Hours::Open, Some(true)), candidate("Support", Hours::Open, Some(true))];
        assert_eq!(choose_team(&c), Some(0), "order decides among equals");
    }

    #[test]
    fn open_but_everyone_away_beats_closed() {
        let c = [candidate("Billing", closed(), Some(true)), candidate("Support", Hours::Open, Some(false))];
        assert_eq!(choose_team(&c), Some(1));
    }

    #[test]
    fn all_closed_goes_to_the_first() {
        let c = [candidate("Billing", closed(), Some(true)), candidate("Support", closed(), Some(true))];
        assert_eq!(choose_team(&c), Some(0));
        assert_eq!(choose_team(&[]), None);
    }

    #[test]
    fn unknown_hours_and_people_get_the_benefit_of_the_doubt() {
        let c = [candidate("Billing", closed(), None), candidate("Support", Hours::Unknown, None)];
        assert_eq!(choose_team(&c), Some(1));
        let c = [candidate("Billing", Hours::Open, None), candidate("Support", Hours::Open, Some(true))];
        assert_eq!(choose_team(&c), Some(0));
    }

    fn admin(id: &str, away: bool, seat: Option<bool>, teams: &[&str]) -> Teammate {
        Teammate {
            id: id.into(),
            name: Some(format!("Admin {id}")),
            away_mode_enabled: away,
            has_inbox_seat: seat,
            team_ids: teams.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn metric(admin_id: &str, open: u32, idle: u32) -> TeamMetric {
        TeamMetric { admin_id: admin_id.into(), open, idle, snoozed: 0 }
    }

    #[test]
    fn least_loaded_picks_the_available_member_with_fewest_open() {
        let admins = [
            admin("1", false, Some(true), &["10"]), // the AI
            admin("2", false, Some(true), &["10"]),
            admin("3", true, Some(true), &["10"]), // away, though idle
            admin("4", false, Some(true), &["10", "20"]),
            admin("5", false, Some(true), &["20"]),  // another team
            admin("6", false, Some(false), &["10"]), // no seat
        ];
        let metrics = [metric("1", 0, 0), metric("2", 5, 1), metric("3", 0, 0), metric("4", 3, 2), metric("5", 0, 0)];
        let metrics_with_seatless = [&metrics[..], &[metric("6", 0, 0)]].concat();
        let pick = |m: &[TeamMetric]| least_loaded(&admins, "10", m, "1").map(|a| a.id.as_str());
        assert_eq!(pick(&metrics_with_seatless), Some("4"));
        assert_eq!(pick(&[metric("2", 3, 0), metric("4", 3, 2)]), Some("2"), "a tie goes to the fewest idle");
        assert_eq!(pick(&[metric("2", 3, 1), metric("4", 3, 1)]), Some("2"), "then to the admins' order");
        assert_eq!(pick(&[metric("2", 1, 0)]), Some("4"), "left out of the metrics: nothing open");
        assert_eq!(least_loaded(&admins, "30", &metrics, "1"), None, "an empty team");
        assert_eq!(least_loaded(&admins[..4], "10", &metrics, "2").map(|a| a.id.as_str()), Some("1"));
        let nobody = [admin("1", false, None, &["10"]), admin("3", true, None, &["10"])];
        assert_eq!(least_loaded(&nobody, "10", &metrics, "1"), None, "only the AI and an away teammate");
    }

    #[test]
    fn the_promise_follows_hours_and_people() {
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let monday = "2026-12-21T08:00:00Z".parse::<Timestamp>().unwrap().to_zoned_datetime(paris);
        let at = Hours::Closed { opens_at: Some(monday) };
        assert_eq!(expected_response("Billing", &Hours::Open, Some(true)), ExpectedResponse::Now);
        assert_eq!(
            expected_response("Billing", &at, Some(true)),
            ExpectedResponse::At { opens_at: "2026-12-21T09:00:00+01:00".into(), team: "Billing".into() }
        );
        assert!(matches!(expected_response("Billing", &at, None), ExpectedResponse::At { .. }));
        for (hours, available) in
            [(Hours::Open, Some(false)), (Hours::Open, None), (Hours::Unknown, Some(true)), (closed(), Some(true))]
        {
            assert_eq!(expected_response("Billing", &hours, available), ExpectedResponse::Unknown, "{hours:?}");
        }
    }

    #[test]
    fn expected_response_serialises_as_the_answer_documents() {
        let at = ExpectedResponse::At { opens_at: "2026-12-21T09:00:00+01:00".into(), team: "Billing".into() };
        assert_eq!(serde_json::to_value(&ExpectedResponse::Now).unwrap(), json!({"when": "now"}));
        assert_eq!(
            serde_json::to_value(&at).unwrap(),
            json!({"when": "at", "opensAt": "2026-12-21T09:00:00+01:00", "team": "Billing"})
        );
        assert_eq!(serde_json::to_value(&ExpectedResponse::Unknown).unwrap(), json!({"when": "unknown"}));
        let back: ExpectedResponse =
            serde_json::from_value(json!({"when": "at", "opensAt": "x", "team": "T"})).unwrap();
        assert_eq!(back, ExpectedResponse::At { opens_at: "x".into(), team: "T".into() });
    }

    #[test]
    fn replies_fill_their_placeholders() {
        let s = settings(&[
            (OPEN_REPLY_VAR, " A teammate from {team} will reply shortly "),
            (CLOSED_REPLY_VAR, "Our {team} team is back {opens_at_local}; we have your message"),
        ])
        .unwrap();
        assert_eq!(
            s.customer_reply(&ExpectedResponse::Now, "Billing", None).as_deref(),
            Some("A teammate from Billing will reply shortly")
        );
        let at = ExpectedResponse::At { opens_at: "2026-12-21T09:00:00+01:00".into(), team: "Billing".into() };
        assert_eq!(
            s.customer_reply(&at, "Billing", Some("Monday at 09:00 (Europe/Paris)")).as_deref(),
            Some("Our Billing team is back Monday at 09:00 (Europe/Paris); we have your message")
        );
        assert_eq!(s.customer_reply(&ExpectedResponse::Unknown, "Billing", None), None);
        assert_eq!(settings(&[]).unwrap().customer_reply(&ExpectedResponse::Now, "Billing", None), None);
        assert_eq!(
            render_reply("Nous revenons {opens_at_local} ({team}, {unknown})", "Support", None),
            "Nous revenons {opens_at_local} (Support, {unknown})",
            "an agent's own text: nothing to fill is left as written"
        );
    }

    #[test]
    fn opens_at_local_reads_as_a_customer_would() {
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let monday = "2026-12-21T08:00:00Z".parse::<Timestamp>().unwrap().to_zoned_datetime(paris);
        let saturday = "2026-12-19T10:00:00Z".parse().unwrap();
        assert_eq!(opens_at_local(&monday, saturday), "Monday at 09:00 (Europe/Paris)");
    }

    #[test]
    fn settings_default_to_team_assign_and_no_replies() {
        let s = settings(&[]).unwrap();
        assert_eq!((s.assign, s.outside_hours), (AssignMode::Team, OutsideHours::Assign));
        assert_eq!((s.open_reply, s.closed_reply), (None, None));
        assert!(s.office_hours.is_empty());
        let s = settings(&[
            (ASSIGN_VAR, "Least_Loaded"),
            (OUTSIDE_HOURS_VAR, " snooze "),
            (ROUTING_VAR, "billing=Billing|Support"),
            ("OFFICE_HOURS", "Billing=Billing hours,*=Standard Support Hours"),
        ])
        .unwrap();
        assert_eq!((s.assign, s.outside_hours), (AssignMode::LeastLoaded, OutsideHours::Snooze));
        assert_eq!(s.routing.teams_for(Some("billing")), ["Billing", "Support"]);
        assert_eq!(s.office_hours.schedule_for("Support"), Some("Standard Support Hours"));
    }

    #[test]
    fn settings_errors_name_the_variable() {
        let e = settings(&[(ASSIGN_VAR, "round_robin")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ESCALATION_ASSIGN must be team or least_loaded, got \"round_robin\"; unset it to assign to the team"
        );
        let e = settings(&[(OUTSIDE_HOURS_VAR, "")]).unwrap_err();
        assert!(e.to_string().starts_with("ESCALATION_OUTSIDE_HOURS must be assign or snooze, got \"\""), "{e}");
        let e = settings(&[(OPEN_REPLY_VAR, "  ")]).unwrap_err();
        assert_eq!(e, AvailabilitySettingsError::EmptyReply { var: OPEN_REPLY_VAR });
        let e = settings(&[(OPEN_REPLY_VAR, "Back {opens_at_local}")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ESCALATION_OPEN_REPLY uses the placeholder {opens_at_local}, which it cannot fill; it accepts {team}"
        );
        let e = settings(&[(CLOSED_REPLY_VAR, "Back {opens_at} to {team}")]).unwrap_err();
        assert!(
            matches!(e, AvailabilitySettingsError::UnknownPlaceholder { ref placeholder, .. } if placeholder == "{opens_at}")
        );
        assert!(
            settings(&[(CLOSED_REPLY_VAR, "Back {opens_at_local} :-{ } {}")]).is_ok(),
            "braces that are no placeholder"
        );
        assert!(matches!(settings(&[(ROUTING_VAR, "billing")]), Err(AvailabilitySettingsError::Routing(_))));
        assert!(matches!(settings(&[("OFFICE_HOURS", "Billing")]), Err(AvailabilitySettingsError::OfficeHours(_))));
    }
}
