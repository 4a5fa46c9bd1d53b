//! The fake workspace: typed records and the business rules Intercom applies to them, one file per
//! resource (as `routes/`).
//!
//! Everything here is plain data behind the server's mutex. Inspection methods on
//! [`crate::FakeIntercom`] hand out clones of these records; [`crate::shapes`] renders them
//! in the API's JSON shapes. Timestamps are Unix seconds, bodies are stored as HTML (what
//! Intercom stores).

mod admins;
mod articles;
mod companies;
mod contacts;
mod conversations;
mod data_attributes;
mod office_hours;
mod parts;
mod tags;
mod ticket_types;
mod tickets;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::attributes::{self, AttributeModel, DataAttribute, DataType};
use crate::clock::Clock;
use crate::index::{SearchIndex, SearchLag};
use crate::version::ApiVersion;
use crate::webhooks::Event;

pub use admins::{Admin, AwayStatusReason, Team, TeammateLoad};
pub use articles::{Article, ArticleHit, ArticleState, HelpCenter, NewArticle, article_not_found, search_words};
pub use companies::{Company, CompanyUpdate, Plan, company_not_found};
pub use contacts::{Contact, ContactUpdate, NewContact, Role};
pub use conversations::{
    Attachment, Author, Conversation, ConversationState, Part, QuickReplyOption, Reference, ReplyExtras, Source,
    Statistics,
};
pub use data_attributes::AttributeUpdate;
pub use office_hours::{
    DAY_MINUTES, ExceptionFields, ExceptionType, Interval, OfficeHoursException, OfficeHoursSchedule, WEEK_MINUTES,
    data_invalid, object_not_found, weekday,
};
pub use parts::{AdminReplyKind, AssigneeKind};
pub use tags::{AppliedTag, Tag};
pub use ticket_types::{
    DEFAULT_DESCRIPTION, DEFAULT_TITLE, ListOption, NewTicketAttribute, StateCategory, TicketAttributeType,
    TicketCategory, TicketState, TicketType, TicketTypeAttribute, ticket_type_not_found,
};
pub use tickets::{NewTicket, Ticket, TicketPart, TicketUpdate, ticket_not_found};

/// Id of the admin every token belongs to (`GET /me`): the AI agent's bot admin.
pub const ME_ADMIN_ID: &str = "991267";
/// Id of the demo human teammate created by [`State::seed_demo`].
pub const DEMO_HUMAN_ADMIN_ID: &str = "991268";
/// Id of the demo's second Billing teammate (Alan Turing, away at first).
pub const DEMO_SECOND_BILLING_ADMIN_ID: &str = "991269";
/// Workspace (app) id code of the fake workspace.
pub const WORKSPACE_ID: &str = "fk3demo1";
/// Name of the fake workspace (`GET /me`'s `app.name`).
pub const WORKSPACE_NAME: &str = "Fake Intercom workspace";
/// The custom contact attributes the integration writes: a workspace of several (a hub's) has them only
/// once someone creates them through `POST /data_attributes`.
pub const INTEGRATION_ATTRIBUTES: [&str; 2] = ["escalation_count", "last_ai_session"];

/// The custom company attributes of the demo workspace, and Acme Corp's values.
pub const DEMO_COMPANY_ATTRIBUTES: [(&str, DataType); 2] =
    [("company_tier", DataType::String), ("account_manager", DataType::String)];
const DEMO_COMPANY_VALUES: [(&str, &str); 2] = [("company_tier", "gold"), ("account_manager", "Grace Hopper")];

/// The custom contact attributes of the demo workspace: what the AI agent's functions write
/// (escalation bookkeeping, support tier) and what the tests set (plan, seats, vip).
pub const DEMO_CONTACT_ATTRIBUTES: [(&str, DataType); 7] = [
    ("escalation_count", DataType::Integer),
    ("last_ai_session", DataType::String),
    ("ai_escalation", DataType::String),
    ("support_tier", DataType::String),
    ("plan", DataType::String),
    ("seats", DataType::Integer),
    ("vip", DataType::Boolean),
];

/// The whole fake workspace.
#[derive(Debug, Clone, Serialize)]
pub struct State {
    /// The app's `id_code`.
    pub workspace_id: String,
    pub workspace_name: String,
    /// The admin `GET /me` returns (every valid token belongs to it).
    pub me_admin_id: String,
    pub admins: Vec<Admin>,
    pub teams: Vec<Team>,
    pub tags: Vec<Tag>,
    /// In creation order, archived ones included.
    pub contacts: Vec<Contact>,
    pub conversations: BTreeMap<u64, Conversation>,
    /// What `POST /contacts/search` sees: it trails the contacts by [`SearchLag`].
    pub search_index: SearchIndex,
    /// Companies (`POST /companies`), in creation order, and their plans.
    pub companies: Vec<Company>,
    pub plans: Vec<Plan>,
    /// The help center (at most one) and its articles, public and internal.
    pub help_centers: Vec<HelpCenter>,
    pub articles: Vec<Article>,
    /// Office hours schedules and their exceptions (`/office_hours_schedules`).
    pub office_hours: Vec<OfficeHoursSchedule>,
    pub office_hours_exceptions: Vec<OfficeHoursException>,
    pub away_status_reasons: Vec<AwayStatusReason>,
    /// Whether the workspace has real-time monitoring (`GET /teams/{id}/metrics`; without it, 403).
    pub realtime_monitoring: bool,
    pub ticket_types: Vec<TicketType>,
    pub ticket_states: Vec<TicketState>,
    pub tickets: Vec<Ticket>,
    /// Standard and custom data attributes (`GET /data_attributes`); a contact's
    /// `custom_attributes` may only use custom contact attributes listed here.
    pub data_attributes: Vec<DataAttribute>,
    /// When true, contacts take any custom attribute (the fake's old, un-Intercom-like behaviour).
    pub accept_unknown_attributes: bool,
    /// The version a request without `Intercom-Version` is answered in (the app's default).
    pub default_api_version: ApiVersion,
    /// The version the answer being rendered is shaped for (set for every request).
    #[serde(skip)]
    pub(crate) api_version: ApiVersion,
    /// The version webhooks are shaped for (the webhook subscription's).
    #[serde(skip)]
    pub(crate) webhook_api_version: ApiVersion,
    /// Whether changes queue webhook events (only while webhooks are configured: rendering costs).
    #[serde(skip)]
    pub(crate) webhooks_on: bool,
    /// The fake's clock, shared by its workspaces.
    #[serde(skip)]
    pub(crate) clock: Clock,
    /// Webhook events not yet handed to the sender (drained after every change).
    #[serde(skip)]
    pub(crate) outbox: Vec<Event>,
    #[serde(skip)]
    counters: Counters,
}

#[derive(Debug, Clone)]
struct Counters {
    conversation: u64,
    part: u64,
    message: u64,
    tag: u64,
    team: u64,
    admin: u64,
    attribute: u64,
    plan: u64,
    help_center: u64,
    article: u64,
    ticket_state: u64,
    ticket_attribute: u64,
    ticket_type: u64,
    ticket: u64,
    /// The Inbox's ticket numbers (`ticket_id`), per workspace from 1.
    ticket_number: u64,
    ticket_part: u64,
    office_hours: u64,
    office_hours_exception: u64,
    away_reason: u64,
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// How far apart the id ranges of two workspaces of one fake start, so that no id (admin, team,
/// conversation, part…) of one workspace is ever an id of another: a 404 across workspaces is isolation,
/// not luck.
const ADMIN_ID_STRIDE: u64 = 1_000;
const ID_STRIDE: u64 = 1_000_000_000;

impl Counters {
    fn for_workspace(index: u64) -> Self {
        Counters {
            conversation: 215_470_000_000_000 + index * ID_STRIDE,
            part: 30_000_000_000 + index * ID_STRIDE,
            message: 403_900_000 + index * ID_STRIDE,
            tag: 8_100_000 + index * ID_STRIDE,
            team: 5_017_690 + index * ADMIN_ID_STRIDE,
            admin: 991_267 + index * ADMIN_ID_STRIDE,
            attribute: 12_870 + index * ID_STRIDE,
            plan: 269_300 + index * ID_STRIDE,
            help_center: 71 + index * ADMIN_ID_STRIDE,
            article: 9_100_000 + index * ID_STRIDE,
            ticket_state: 8_320 + index * ID_STRIDE,
            ticket_attribute: 160 + index * ID_STRIDE,
            ticket_type: 60 + index * ID_STRIDE,
            ticket: 600 + index * ID_STRIDE,
            ticket_number: 0,
            ticket_part: 170_000 + index * ID_STRIDE,
            office_hours: 120 + index * ADMIN_ID_STRIDE,
            office_hours_exception: 450 + index * ADMIN_ID_STRIDE,
            away_reason: 10 + index * ADMIN_ID_STRIDE,
        }
    }
}

impl State {
    /// A workspace with only the bot admin "Ada AI" (id [`ME_ADMIN_ID`]), which `GET /me`
    /// returns.
    pub fn new() -> Self {
        Self::for_workspace(0, WORKSPACE_ID, WORKSPACE_NAME)
    }

    /// The `index`-th workspace (from 0) of a fake serving several: only its bot admin "Ada AI", with ids
    /// in a range of their own ([`State::new`] is index 0).
    pub fn for_workspace(index: u32, workspace_id: &str, name: &str) -> Self {
        let counters = Counters::for_workspace(u64::from(index));
        let me_admin_id = counters.admin.to_string();
        let mut state = Self {
            workspace_id: workspace_id.to_owned(),
            workspace_name: name.to_owned(),
            me_admin_id: me_admin_id.clone(),
            admins: Vec::new(),
            teams: Vec::new(),
            tags: Vec::new(),
            contacts: Vec::new(),
            conversations: BTreeMap::new(),
            companies: Vec::new(),
            plans: Vec::new(),
            help_centers: Vec::new(),
            articles: Vec::new(),
            office_hours: Vec::new(),
            office_hours_exceptions: Vec::new(),
            away_status_reasons: Vec::new(),
            realtime_monitoring: true,
            ticket_types: Vec::new(),
            ticket_states: Vec::new(),
            tickets: Vec::new(),
            search_index: SearchIndex::default(),
            data_attributes: attributes::standard_contact_attributes(1_700_000_000),
            accept_unknown_attributes: false,
            default_api_version: ApiVersion::default(),
            api_version: ApiVersion::default(),
            webhook_api_version: ApiVersion::default(),
            webhooks_on: false,
            clock: Clock::default(),
            outbox: Vec::new(),
            counters,
        };
        let email = if index == 0 {
            "ada-ai@fake-intercom.example.com".to_owned()
        } else {
            format!("ada-ai@{workspace_id}.fake-intercom.example.com")
        };
        state.admins.push(Admin {
            id: me_admin_id,
            name: "Ada AI".to_owned(),
            email,
            job_title: Some("AI support agent".to_owned()),
            away_mode_enabled: false,
            away_mode_reassign: false,
            away_status_reason_id: None,
            has_inbox_seat: true,
        });
        state.seed_away_reasons();
        state
    }

    /// Adds the demo data: human teammates "Grace Hopper" (id [`DEMO_HUMAN_ADMIN_ID`]) and "Alan Turing"
    /// ([`DEMO_SECOND_BILLING_ADMIN_ID`], away), teams "Billing" (Grace, Alan), "Legal" and "Support" (Ada,
    /// Grace), the custom contact attributes of [`DEMO_CONTACT_ATTRIBUTES`], the user "Jane Doe"
    /// <jane@example.com> with external_id "6123abc" and plan "pro" at Acme Corp, the help center, ticket
    /// types and office hours schedules.
    pub fn seed_demo(&mut self) {
        for (name, data_type) in DEMO_CONTACT_ATTRIBUTES {
            let _ = self.define_attribute(name, AttributeModel::Contact, data_type, "", Vec::new());
        }
        let grace = self.seed_people();
        debug_assert!(self.workspace_id != WORKSPACE_ID || grace.id == DEMO_HUMAN_ADMIN_ID);
        debug_assert!(self.workspace_id != WORKSPACE_ID || self.admin(DEMO_SECOND_BILLING_ADMIN_ID).is_some());
        self.seed_jane();
        self.seed_knowledge_and_tickets();
    }

    /// Jane's company, the help center's articles and the ticket types of the demo.
    fn seed_knowledge_and_tickets(&mut self) {
        for (name, data_type) in DEMO_COMPANY_ATTRIBUTES {
            let _ = self.define_attribute(name, AttributeModel::Company, data_type, "", Vec::new());
        }
        let mut acme = CompanyUpdate::new("acme", "Acme Corp");
        acme.plan = Some("Pro".to_owned());
        acme.size = Some(120);
        acme.website = Some("https://acme.example.com".to_owned());
        acme.industry = Some("Software".to_owned());
        acme.custom_attributes =
            Some(DEMO_COMPANY_VALUES.iter().map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned()))).collect());
        if let (Ok(company), Some(jane)) =
            (self.create_or_update_company(acme), self.contact_by_email("jane@example.com").map(|c| c.id.clone()))
        {
            let _ = self.attach_company(&jane, &company.id);
        }
        self.seed_articles();
        self.seed_ticket_types();
        self.seed_office_hours();
    }

    /// One workspace of several (a hub's): the human teammate and the teams of [`State::seed_demo`]; with
    /// `demo`, also Jane Doe and the demo attributes except the integration's own
    /// ([`INTEGRATION_ATTRIBUTES`]), which are not there until someone creates them.
    pub fn seed_hub_workspace(&mut self, demo: bool) {
        if demo {
            for (name, data_type) in DEMO_CONTACT_ATTRIBUTES {
                if !INTEGRATION_ATTRIBUTES.contains(&name) {
                    let _ = self.define_attribute(name, AttributeModel::Contact, data_type, "", Vec::new());
                }
            }
        }
        self.seed_people();
        if demo {
            self.seed_jane();
            self.seed_knowledge_and_tickets();
        }
    }

    /// Grace Hopper and the teams Billing (Grace), Legal (nobody) and Support (the AI and Grace).
    ///
    /// Billing's second teammate, Alan Turing, starts away ("Out for the day"): so a team of one available
    /// human (Grace) stays what the demo always was, and "least loaded" gets a choice once he is back
    /// (`PUT /admins/{id}/away {"away_mode_enabled": false, …}`).
    fn seed_people(&mut self) -> Admin {
        let email = |who: &str| {
            if self.workspace_id == WORKSPACE_ID {
                format!("{who}@fake-intercom.example.com")
            } else {
                format!("{who}@{}.fake-intercom.example.com", self.workspace_id)
            }
        };
        let (grace_email, alan_email) = (email("grace"), email("alan"));
        let grace = self.add_admin("Grace Hopper", &grace_email);
        let alan = self.add_admin("Alan Turing", &alan_email);
        let out_for_the_day = self.away_status_reasons.last().and_then(|r| r.id.parse().ok());
        let _ = self.set_away(&alan.id, true, false, out_for_the_day);
        let me = self.me_admin_id.clone();
        self.add_team("Billing", &[grace.id.as_str(), alan.id.as_str()]);
        self.add_team("Legal", &[]);
        self.add_team("Support", &[me.as_str(), grace.id.as_str()]);
        grace
    }

    /// The user Jane Doe <jane@example.com>, external_id "6123abc", plan "pro", already searchable.
    fn seed_jane(&mut self) {
        let jane = NewContact::user("jane@example.com").external_id("6123abc").name("Jane Doe");
        if let Ok(contact) = self.create_contact(jane) {
            if let Some(c) = self.contact_mut(&contact.id) {
                c.custom_attributes.insert("plan".to_owned(), Value::String("pro".to_owned()));
            }
            // Seeded long ago: already in the search index, whatever the lag.
            if let Some(c) = self.contact(&contact.id).cloned() {
                let lag = self.search_index.lag();
                self.search_index.set_lag(SearchLag::Off);
                self.search_index.record(&c);
                self.search_index.set_lag(lag);
            }
        }
    }

    /// The time the fake reports (Unix seconds): its [`Clock`]'s.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The version the answer being rendered is shaped for.
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// The human teammate the seed added (the first admin after the AI's), if any.
    pub fn human_admin_id(&self) -> Option<&str> {
        self.admins.iter().find(|a| a.id != self.me_admin_id).map(|a| a.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn demo_seed_has_the_documented_records() {
        let mut s = State::new();
        s.seed_demo();
        assert_eq!(s.me().map(|a| a.name.as_str()), Some("Ada AI"));
        let names: Vec<_> = s.teams.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Billing", "Legal", "Support"]);
        let jane = s.contact_by_email("JANE@example.com").expect("jane");
        assert_eq!(jane.external_id.as_deref(), Some("6123abc"));
        let jane_id = jane.id.clone();
        assert!(s.searchable_contacts().iter().any(|c| c.id == jane_id));
    }

    #[test]
    fn an_archived_attribute_is_refused_as_an_unknown_one_is() {
        let mut s = State::new();
        s.seed_demo();
        let jane = s.contact_by_email("jane@example.com").map(|c| c.id.clone()).expect("jane");
        let write = |n: i64| ContactUpdate {
            custom_attributes: Some(
                serde_json::json!({"escalation_count": n}).as_object().cloned().unwrap_or_default(),
            ),
            ..ContactUpdate::default()
        };
        assert!(s.update_contact(&jane, write(1)).is_ok());
        assert!(s.set_attribute_archived("escalation_count", true).expect("archived").archived);
        let err = s.update_contact(&jane, write(2)).expect_err("refused");
        assert_eq!(err.message, "Custom attribute 'escalation_count' does not exist");
        assert_eq!(s.contact(&jane).and_then(|c| c.custom_attributes.get("escalation_count").cloned()), Some(1.into()));
        s.set_attribute_archived("escalation_count", false).expect("restored");
        assert!(s.update_contact(&jane, write(2)).is_ok());
        assert_eq!(s.set_attribute_archived("email", true).expect_err("standard").status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn conflict_with_an_archived_contact_says_so() {
        let mut s = State::new();
        let a = s.create_contact(NewContact::user("a@example.com")).expect("a");
        s.set_archived(&a.id, true).expect("archive");
        let err = s.create_contact(NewContact::user("A@example.com")).expect_err("conflict");
        assert!(err.message.starts_with("An archived contact"), "{err}");
    }
}
