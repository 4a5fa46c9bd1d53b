//! The fake workspace: typed records and the business rules Intercom applies to them.
//!
//! Everything here is plain data behind the server's mutex. Inspection methods on
//! [`crate::FakeIntercom`] hand out clones of these records; [`crate::shapes`] renders them
//! in the API's JSON shapes. Timestamps are Unix seconds, bodies are stored as HTML (what
//! Intercom stores).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::attributes::{self, AttributeModel, DataAttribute, DataType};
use crate::error::ApiError;
use crate::html;
use crate::ids::{contact_id, now_unix};
use crate::index::{SearchIndex, SearchLag};
use crate::shapes;
use crate::webhooks::Event;

/// Id of the admin every token belongs to (`GET /me`): the AI agent's bot admin.
pub const ME_ADMIN_ID: &str = "991267";
/// Id of the demo human teammate created by [`State::seed_demo`].
pub const DEMO_HUMAN_ADMIN_ID: &str = "991268";
/// Workspace (app) id code of the fake workspace.
pub const WORKSPACE_ID: &str = "fk3demo1";

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Lead,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Lead => "lead",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "lead" => Some(Role::Lead),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: String,
    pub role: Role,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub owner_id: Option<i64>,
    pub unsubscribed_from_emails: bool,
    pub custom_attributes: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
    pub signed_up_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub last_replied_at: Option<i64>,
    pub last_contacted_at: Option<i64>,
    pub archived: bool,
}

/// The fields of `POST /contacts` (and of [`crate::FakeIntercom::add_contact`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub role: Role,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub owner_id: Option<i64>,
    pub signed_up_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub unsubscribed_from_emails: Option<bool>,
    pub custom_attributes: Map<String, Value>,
}

impl NewContact {
    /// A user with this email and nothing else.
    pub fn user(email: &str) -> Self {
        Self {
            role: Role::User,
            external_id: None,
            email: Some(email.to_owned()),
            phone: None,
            name: None,
            avatar: None,
            owner_id: None,
            signed_up_at: None,
            last_seen_at: None,
            unsubscribed_from_emails: None,
            custom_attributes: Map::new(),
        }
    }

    pub fn external_id(mut self, external_id: &str) -> Self {
        self.external_id = Some(external_id.to_owned());
        self
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

/// `PUT /contacts/{id}`: `None` = field absent (keep), `Some(None)` = `null` (clear).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactUpdate {
    pub role: Option<Role>,
    pub external_id: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub name: Option<Option<String>>,
    pub avatar: Option<Option<String>>,
    pub owner_id: Option<Option<i64>>,
    pub signed_up_at: Option<Option<i64>>,
    pub last_seen_at: Option<Option<i64>>,
    pub unsubscribed_from_emails: Option<bool>,
    /// Merged into the stored attributes; a `null` value removes the attribute.
    pub custom_attributes: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Open,
    Closed,
    Snoozed,
}

impl ConversationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Open => "open",
            ConversationState::Closed => "closed",
            ConversationState::Snoozed => "snoozed",
        }
    }
}

/// Who wrote a message or made a change (`conversation_part_author`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// `admin`, `user`, `lead` or `bot`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The reference in a part's `assigned_to` (`{type: admin|team|nobody_admin, id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

/// The conversation's first message (its `source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub id: String,
    pub subject: String,
    /// HTML.
    pub body: String,
    pub author: Author,
    pub delivered_as: String,
    pub created_at: i64,
}

/// A file attached to a part (`part_attachment`); the fake keeps the URL it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name: String,
    pub url: String,
    pub content_type: String,
}

impl Attachment {
    /// An attachment from one of a reply's `attachment_urls`: named after the URL's last path
    /// segment, typed by its extension.
    pub fn from_url(url: &str) -> Self {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        let name = path.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("attachment").to_owned();
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let content_type = match ext.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            "csv" => "text/csv",
            "json" => "application/json",
            _ => "application/octet-stream",
        };
        Self { name, url: url.to_owned(), content_type: content_type.to_owned() }
    }
}

/// One button of an admin's `quick_reply` (`quick_reply_option`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuickReplyOption {
    pub text: String,
    pub uuid: String,
}

/// What a reply carries besides its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyExtras {
    pub attachments: Vec<Attachment>,
    /// The options of an admin's `quick_reply`.
    pub quick_reply_options: Vec<QuickReplyOption>,
    /// The option a contact's reply picked.
    pub quick_reply_uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub id: String,
    /// `comment`, `note`, `quick_reply`, `assignment`, `close`, `snoozed`, `open`.
    pub part_type: String,
    /// HTML, `None` for parts without text.
    pub body: Option<String>,
    pub created_at: i64,
    pub author: Author,
    pub assigned_to: Option<Reference>,
    /// The conversation's state right after this part.
    pub state: ConversationState,
    pub attachments: Vec<Attachment>,
    pub quick_reply_options: Vec<QuickReplyOption>,
    pub quick_reply_uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedTag {
    pub tag_id: String,
    pub applied_at: i64,
    pub applied_by: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Statistics {
    pub first_contact_reply_at: Option<i64>,
    pub last_contact_reply_at: Option<i64>,
    pub first_admin_reply_at: Option<i64>,
    pub last_admin_reply_at: Option<i64>,
    pub first_assignment_at: Option<i64>,
    pub last_assignment_at: Option<i64>,
    pub last_assignment_admin_reply_at: Option<i64>,
    pub first_close_at: Option<i64>,
    pub last_close_at: Option<i64>,
    pub last_closed_by_id: Option<String>,
    pub count_reopens: i64,
    pub count_assignments: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    pub id: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub title: Option<String>,
    pub state: ConversationState,
    pub read: bool,
    pub priority: bool,
    pub admin_assignee_id: Option<i64>,
    pub team_assignee_id: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub waiting_since: Option<i64>,
    pub contact_ids: Vec<String>,
    pub source: Source,
    /// Every part, oldest first (the API shows only the last 500).
    pub parts: Vec<Part>,
    pub tags: Vec<AppliedTag>,
    pub custom_attributes: Map<String, Value>,
    /// Admins who took part, in order of first participation.
    pub teammate_ids: Vec<String>,
    pub statistics: Statistics,
}

/// How `POST /conversations/{id}/reply` posts as an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminReplyKind {
    Comment,
    Note,
    QuickReply,
}

impl AdminReplyKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "comment" => Some(Self::Comment),
            "note" => Some(Self::Note),
            "quick_reply" => Some(Self::QuickReply),
            _ => None,
        }
    }

    fn part_type(self) -> &'static str {
        match self {
            Self::Comment => "comment",
            Self::Note => "note",
            Self::QuickReply => "quick_reply",
        }
    }
}

/// Whom `POST /conversations/{id}/parts` `message_type: assignment` assigns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeKind {
    Admin,
    Team,
}

/// The whole fake workspace.
#[derive(Debug, Clone, Serialize)]
pub struct State {
    pub workspace_id: String,
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
    /// Standard and custom data attributes (`GET /data_attributes`); a contact's
    /// `custom_attributes` may only use custom contact attributes listed here.
    pub data_attributes: Vec<DataAttribute>,
    /// When true, contacts take any custom attribute (the fake's old, un-Intercom-like behaviour).
    pub accept_unknown_attributes: bool,
    /// Whether changes queue webhook events (only while webhooks are configured: rendering costs).
    #[serde(skip)]
    pub(crate) webhooks_on: bool,
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
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    /// A workspace with only the bot admin "Ada AI" (id [`ME_ADMIN_ID`]), which `GET /me`
    /// returns.
    pub fn new() -> Self {
        let mut state = Self {
            workspace_id: WORKSPACE_ID.to_owned(),
            me_admin_id: ME_ADMIN_ID.to_owned(),
            admins: Vec::new(),
            teams: Vec::new(),
            tags: Vec::new(),
            contacts: Vec::new(),
            conversations: BTreeMap::new(),
            search_index: SearchIndex::default(),
            data_attributes: attributes::standard_contact_attributes(1_700_000_000),
            accept_unknown_attributes: false,
            webhooks_on: false,
            outbox: Vec::new(),
            counters: Counters {
                conversation: 215_470_000_000_000,
                part: 30_000_000_000,
                message: 403_900_000,
                tag: 8_100_000,
                team: 5_017_690,
                admin: 991_267,
                attribute: 12_870,
            },
        };
        state.admins.push(Admin {
            id: ME_ADMIN_ID.to_owned(),
            name: "Ada AI".to_owned(),
            email: "ada-ai@fake-intercom.example.com".to_owned(),
            job_title: Some("AI support agent".to_owned()),
            away_mode_enabled: false,
            away_mode_reassign: false,
            away_status_reason_id: None,
            has_inbox_seat: true,
        });
        state
    }

    /// Adds the demo data: human teammate "Grace Hopper" (id [`DEMO_HUMAN_ADMIN_ID`]),
    /// teams "Billing", "Legal" and "Support" (Ada and Grace in Support, Grace in Billing),
    /// the custom contact attributes of [`DEMO_CONTACT_ATTRIBUTES`], and the user "Jane Doe"
    /// <jane@example.com> with external_id "6123abc" and plan "pro".
    pub fn seed_demo(&mut self) {
        for (name, data_type) in DEMO_CONTACT_ATTRIBUTES {
            let _ = self.define_attribute(name, AttributeModel::Contact, data_type, "", Vec::new());
        }
        let grace = self.add_admin("Grace Hopper", "grace@fake-intercom.example.com");
        debug_assert_eq!(grace.id, DEMO_HUMAN_ADMIN_ID);
        self.add_team("Billing", &[grace.id.as_str()]);
        self.add_team("Legal", &[]);
        self.add_team("Support", &[ME_ADMIN_ID, grace.id.as_str()]);
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

    // ----- lookups -----

    pub fn me(&self) -> Option<&Admin> {
        self.admin(&self.me_admin_id)
    }

    pub fn admin(&self, id: &str) -> Option<&Admin> {
        self.admins.iter().find(|a| a.id == id)
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    pub fn tag(&self, id: &str) -> Option<&Tag> {
        self.tags.iter().find(|t| t.id == id)
    }

    /// Any contact with this id, archived or not.
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id == id)
    }

    pub fn contact_mut(&mut self, id: &str) -> Option<&mut Contact> {
        self.contacts.iter_mut().find(|c| c.id == id)
    }

    /// A non-archived contact, or Intercom's 404.
    pub fn live_contact(&self, id: &str) -> Result<&Contact, ApiError> {
        self.contact(id).filter(|c| !c.archived).ok_or_else(ApiError::contact_not_found)
    }

    pub fn contact_by_external_id(&self, external_id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| !c.archived && c.external_id.as_deref() == Some(external_id))
    }

    pub fn contact_by_email(&self, email: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| !c.archived && c.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    }

    /// Parses a conversation id as the API gets it (a numeric string).
    pub fn conversation(&self, id: &str) -> Option<&Conversation> {
        id.parse::<u64>().ok().and_then(|n| self.conversations.get(&n))
    }

    fn conversation_mut(&mut self, id: &str) -> Result<&mut Conversation, ApiError> {
        id.parse::<u64>().ok().and_then(|n| self.conversations.get_mut(&n)).ok_or_else(ApiError::conversation_not_found)
    }

    /// The admin named by a request's `admin_id`, or 404 `admin_not_found`: the conversation endpoints declare
    /// 404 as their only refusal, and Intercom words an unknown `admin_id` so (`PUT /admins/{id}/away`).
    pub fn require_admin(&self, admin_id: &str) -> Result<Admin, ApiError> {
        self.admin(admin_id).cloned().ok_or_else(ApiError::admin_not_found)
    }

    // ----- admins, teams, tags -----

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

    /// `POST /data_attributes`: a new custom attribute. Refused (400 `parameter_invalid`) when the name
    /// breaks Intercom's rule or is taken (by a standard or custom attribute of any model).
    pub fn define_attribute(
        &mut self,
        name: &str,
        model: AttributeModel,
        data_type: DataType,
        description: &str,
        options: Vec<String>,
    ) -> Result<DataAttribute, ApiError> {
        attributes::check_name(name)?;
        if let Some(existing) = self.data_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name)) {
            return Err(attributes::already_exists(name, existing.model, model));
        }
        self.counters.attribute += 1;
        let attribute = DataAttribute {
            id: Some(self.counters.attribute),
            name: name.to_owned(),
            model,
            data_type,
            description: description.to_owned(),
            options,
            custom: true,
            archived: false,
            created_at: now_unix(),
        };
        self.data_attributes.push(attribute.clone());
        Ok(attribute)
    }

    /// Refuses custom attributes the workspace does not define, or values of the wrong type.
    fn check_custom_attributes(&self, attrs: &Map<String, Value>) -> Result<(), ApiError> {
        if self.accept_unknown_attributes {
            return Ok(());
        }
        attributes::check_contact_attributes(&self.data_attributes, attrs)
    }

    /// Ids (as integers, like the API) of the teams an admin belongs to.
    pub fn team_ids_of(&self, admin_id: &str) -> Vec<i64> {
        self.teams
            .iter()
            .filter(|t| t.admin_ids.iter().any(|a| a == admin_id))
            .filter_map(|t| t.id.parse().ok())
            .collect()
    }

    /// `POST /tags {name}`: the existing tag whose name matches case-insensitively, or a
    /// new one.
    pub fn find_or_create_tag(&mut self, name: &str) -> Tag {
        if let Some(tag) = self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
            return tag.clone();
        }
        self.counters.tag += 1;
        let tag = Tag { id: self.counters.tag.to_string(), name: name.to_owned() };
        self.tags.push(tag.clone());
        tag
    }

    /// `POST /tags {id, name}`: renames an existing tag.
    pub fn rename_tag(&mut self, id: &str, name: &str) -> Result<Tag, ApiError> {
        let tag = self.tags.iter_mut().find(|t| t.id == id).ok_or_else(ApiError::tag_not_found)?;
        tag.name = name.to_owned();
        Ok(tag.clone())
    }

    // ----- contacts -----

    /// A contact other than `except` with the same email (case-insensitive) or
    /// external_id; non-archived matches first.
    fn conflicting_contact(
        &self,
        email: Option<&str>,
        external_id: Option<&str>,
        except: Option<&str>,
    ) -> Option<&Contact> {
        let matches = |c: &&Contact| {
            Some(c.id.as_str()) != except
                && (email.is_some_and(|e| c.email.as_deref().is_some_and(|ce| ce.eq_ignore_ascii_case(e)))
                    || external_id.is_some_and(|x| c.external_id.as_deref() == Some(x)))
        };
        self.contacts.iter().filter(matches).min_by_key(|c| c.archived)
    }

    fn conflict_error(contact: &Contact) -> ApiError {
        if contact.archived {
            ApiError::conflict(format!(
                "An archived contact matching those details already exists with id={}",
                contact.id
            ))
        } else {
            ApiError::conflict(format!("A contact matching those details already exists with id={}", contact.id))
        }
    }

    /// `POST /contacts`: 409 `conflict` when the email or external_id is taken; 400 when a custom
    /// attribute is not defined or has the wrong type.
    pub fn create_contact(&mut self, new: NewContact) -> Result<Contact, ApiError> {
        self.check_custom_attributes(&new.custom_attributes)?;
        if let Some(existing) = self.conflicting_contact(new.email.as_deref(), new.external_id.as_deref(), None) {
            return Err(Self::conflict_error(existing));
        }
        let now = now_unix();
        let mut custom_attributes = new.custom_attributes;
        custom_attributes.retain(|_, v| !v.is_null());
        let contact = Contact {
            id: contact_id(),
            role: new.role,
            external_id: new.external_id,
            email: new.email,
            phone: new.phone,
            name: new.name,
            avatar: new.avatar,
            owner_id: new.owner_id,
            unsubscribed_from_emails: new.unsubscribed_from_emails.unwrap_or(false),
            custom_attributes,
            created_at: now,
            updated_at: now,
            signed_up_at: new.signed_up_at,
            last_seen_at: new.last_seen_at,
            last_replied_at: None,
            last_contacted_at: None,
            archived: false,
        };
        self.contacts.push(contact.clone());
        self.search_index.record(&contact);
        Ok(contact)
    }

    /// `PUT /contacts/{id}`: all or nothing (an undefined custom attribute refuses the whole update).
    pub fn update_contact(&mut self, id: &str, update: ContactUpdate) -> Result<Contact, ApiError> {
        self.live_contact(id)?;
        if let Some(attrs) = &update.custom_attributes {
            self.check_custom_attributes(attrs)?;
        }
        let email = update.email.as_ref().and_then(|e| e.as_deref());
        let external_id = update.external_id.as_ref().and_then(|e| e.as_deref());
        if let Some(existing) = self.conflicting_contact(email, external_id, Some(id)) {
            return Err(Self::conflict_error(existing));
        }
        let contact = self.contact_mut(id).ok_or_else(ApiError::contact_not_found)?;
        if let Some(role) = update.role {
            contact.role = role;
        }
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = update.$field { contact.$field = v; }
            )*};
        }
        set!(external_id, email, phone, name, avatar, owner_id, signed_up_at, last_seen_at);
        if let Some(v) = update.unsubscribed_from_emails {
            contact.unsubscribed_from_emails = v;
        }
        if let Some(attrs) = update.custom_attributes {
            for (k, v) in attrs {
                if v.is_null() {
                    contact.custom_attributes.remove(&k);
                } else {
                    contact.custom_attributes.insert(k, v);
                }
            }
        }
        contact.updated_at = now_unix();
        let contact = contact.clone();
        self.search_index.record(&contact);
        Ok(contact)
    }

    /// `POST /contacts/{id}/archive` and `/unarchive`.
    pub fn set_archived(&mut self, id: &str, archived: bool) -> Result<Contact, ApiError> {
        let contact = self.contact_mut(id).ok_or_else(ApiError::contact_not_found)?;
        if contact.archived != archived {
            contact.archived = archived;
            contact.updated_at = now_unix();
            let contact = contact.clone();
            self.search_index.record(&contact);
            return Ok(contact);
        }
        Ok(contact.clone())
    }

    /// The search index catches up with every change so far.
    pub fn index_search(&mut self) {
        self.search_index.catch_up();
    }

    /// The contacts `POST /contacts/search` sees now, in creation order: each as the index holds it
    /// (possibly an older version), archived ones and ones not indexed yet left out.
    pub fn searchable_contacts(&mut self) -> Vec<Contact> {
        self.search_index.advance(std::time::Instant::now());
        self.contacts.iter().filter_map(|c| self.search_index.indexed(&c.id)).filter(|c| !c.archived).cloned().collect()
    }

    /// The conversations `POST /conversations/search` lists now, in creation order (new ones appear once
    /// the search lag allows; listed ones show their current data).
    pub fn searchable_conversations(&mut self) -> Vec<Conversation> {
        self.search_index.advance(std::time::Instant::now());
        self.conversations.values().filter(|c| self.search_index.lists_conversation(c.id)).cloned().collect()
    }

    /// Records a change of a contact made outside the contact endpoints (e.g. `last_replied_at`).
    fn contact_changed(&mut self, id: &str) {
        if let Some(c) = self.contact(id).cloned() {
            self.search_index.record(&c);
        }
    }

    // ----- conversations -----

    /// Queues a webhook event for the conversation, carrying its last `parts` parts.
    fn emit(&mut self, topic: &'static str, conversation_id: &str, parts: usize) {
        if !self.webhooks_on {
            return;
        }
        let Some(conv) = self.conversation(conversation_id) else {
            return;
        };
        let shown = &conv.parts[conv.parts.len().saturating_sub(parts)..];
        let item = shapes::webhook_conversation(self, conv, shown);
        let event = Event { topic, conversation_id: conv.id.to_string(), item, created_at: now_unix() };
        self.outbox.push(event);
    }

    fn next_part_id(&mut self) -> String {
        self.counters.part += 1;
        self.counters.part.to_string()
    }

    fn contact_author(contact: &Contact) -> Author {
        Author {
            kind: contact.role.as_str().to_owned(),
            id: contact.id.clone(),
            name: contact.name.clone(),
            email: contact.email.clone(),
        }
    }

    fn admin_author(admin: &Admin) -> Author {
        Author {
            kind: "admin".to_owned(),
            id: admin.id.clone(),
            name: Some(admin.name.clone()),
            email: Some(admin.email.clone()),
        }
    }

    /// `POST /conversations`: a conversation started by a contact; `body` is plain text or
    /// HTML. Returns the new conversation.
    pub fn create_conversation(
        &mut self,
        contact_id: &str,
        body: &str,
        subject: Option<&str>,
    ) -> Result<Conversation, ApiError> {
        let author = Self::contact_author(self.live_contact(contact_id)?);
        let now = now_unix();
        self.counters.conversation += 1;
        self.counters.message += 1;
        let id = self.counters.conversation;
        let conversation = Conversation {
            id,
            created_at: now,
            updated_at: now,
            title: None,
            state: ConversationState::Open,
            read: false,
            priority: false,
            admin_assignee_id: None,
            team_assignee_id: None,
            snoozed_until: None,
            waiting_since: Some(now),
            contact_ids: vec![contact_id.to_owned()],
            source: Source {
                id: self.counters.message.to_string(),
                subject: subject.unwrap_or_default().to_owned(),
                body: html::to_html(body),
                author,
                delivered_as: "customer_initiated".to_owned(),
                created_at: now,
            },
            parts: Vec::new(),
            tags: Vec::new(),
            custom_attributes: Map::new(),
            teammate_ids: Vec::new(),
            statistics: Statistics {
                first_contact_reply_at: Some(now),
                last_contact_reply_at: Some(now),
                ..Statistics::default()
            },
        };
        self.conversations.insert(id, conversation.clone());
        self.search_index.record_conversation(id);
        self.emit("conversation.user.created", &id.to_string(), 0);
        Ok(conversation)
    }

    /// `POST /conversations/{id}/reply` as an admin.
    pub fn reply_as_admin(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        kind: AdminReplyKind,
        body: Option<&str>,
    ) -> Result<(), ApiError> {
        self.reply_as_admin_with(conversation_id, admin_id, kind, body, ReplyExtras::default())
    }

    /// `POST /conversations/{id}/reply` as an admin, with attachments or quick-reply options.
    pub fn reply_as_admin_with(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        kind: AdminReplyKind,
        body: Option<&str>,
        extras: ReplyExtras,
    ) -> Result<(), ApiError> {
        let admin = self.require_admin(admin_id)?;
        self.conversation_mut(conversation_id)?;
        let part_id = self.next_part_id();
        let now = now_unix();
        let conv = self.conversation_mut(conversation_id)?;
        if kind != AdminReplyKind::Note {
            conv.waiting_since = None;
            let stats = &mut conv.statistics;
            stats.first_admin_reply_at.get_or_insert(now);
            stats.last_admin_reply_at = Some(now);
            if conv.admin_assignee_id.is_some() || conv.team_assignee_id.is_some() {
                stats.last_assignment_admin_reply_at = Some(now);
            }
        }
        if !conv.teammate_ids.contains(&admin.id) {
            conv.teammate_ids.push(admin.id.clone());
        }
        let state = conv.state;
        let contact_ids = conv.contact_ids.clone();
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: kind.part_type().to_owned(),
                body: body.map(html::to_html),
                created_at: now,
                author: Self::admin_author(&admin),
                assigned_to: None,
                state,
                attachments: extras.attachments,
                quick_reply_options: extras.quick_reply_options,
                quick_reply_uuid: None,
            },
        );
        if kind != AdminReplyKind::Note {
            for id in contact_ids {
                if let Some(c) = self.contact_mut(&id) {
                    c.last_contacted_at = Some(now);
                }
                self.contact_changed(&id);
            }
        }
        let topic = match kind {
            AdminReplyKind::Note => "conversation.admin.noted",
            AdminReplyKind::Comment | AdminReplyKind::QuickReply => "conversation.admin.replied",
        };
        self.emit(topic, conversation_id, 1);
        Ok(())
    }

    /// `POST /conversations/{id}/reply` as the contact (`type: user`). A reply to a closed
    /// or snoozed conversation reopens it, as in Intercom.
    pub fn reply_as_contact(&mut self, conversation_id: &str, contact_id: &str, body: &str) -> Result<(), ApiError> {
        self.reply_as_contact_with(conversation_id, contact_id, body, ReplyExtras::default())
    }

    /// A contact's reply with attachments or a picked quick-reply option.
    pub fn reply_as_contact_with(
        &mut self,
        conversation_id: &str,
        contact_id: &str,
        body: &str,
        extras: ReplyExtras,
    ) -> Result<(), ApiError> {
        self.conversation_mut(conversation_id)?;
        let author = Self::contact_author(self.live_contact(contact_id)?);
        let part_id = self.next_part_id();
        let now = now_unix();
        let conv = self.conversation_mut(conversation_id)?;
        if conv.state != ConversationState::Open {
            conv.state = ConversationState::Open;
            conv.snoozed_until = None;
            conv.statistics.count_reopens += 1;
        }
        conv.waiting_since.get_or_insert(now);
        conv.statistics.first_contact_reply_at.get_or_insert(now);
        conv.statistics.last_contact_reply_at = Some(now);
        if !conv.contact_ids.iter().any(|c| c == contact_id) {
            conv.contact_ids.push(contact_id.to_owned());
        }
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: "comment".to_owned(),
                body: Some(html::to_html(body)),
                created_at: now,
                author,
                assigned_to: None,
                state: ConversationState::Open,
                attachments: extras.attachments,
                quick_reply_options: Vec::new(),
                quick_reply_uuid: extras.quick_reply_uuid,
            },
        );
        if let Some(c) = self.contact_mut(contact_id) {
            c.last_replied_at = Some(now);
        }
        self.contact_changed(contact_id);
        self.emit("conversation.user.replied", conversation_id, 1);
        Ok(())
    }

    /// Shared part of close / snooze / open: checks, then applies `change` and records a
    /// part of `part_type`.
    fn state_change(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        part_type: &str,
        topic: &'static str,
        body: Option<&str>,
        change: impl FnOnce(&mut Conversation, i64, &Admin),
    ) -> Result<(), ApiError> {
        self.conversation_mut(conversation_id)?;
        let admin = self.require_admin(admin_id)?;
        let part_id = self.next_part_id();
        let now = now_unix();
        let conv = self.conversation_mut(conversation_id)?;
        change(conv, now, &admin);
        let state = conv.state;
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: part_type.to_owned(),
                body: body.map(html::to_html),
                created_at: now,
                author: Self::admin_author(&admin),
                assigned_to: None,
                state,
                attachments: Vec::new(),
                quick_reply_options: Vec::new(),
                quick_reply_uuid: None,
            },
        );
        self.emit(topic, conversation_id, 1);
        Ok(())
    }

    pub fn close(&mut self, conversation_id: &str, admin_id: &str, body: Option<&str>) -> Result<(), ApiError> {
        self.state_change(conversation_id, admin_id, "close", "conversation.admin.closed", body, |c, now, admin| {
            c.state = ConversationState::Closed;
            c.snoozed_until = None;
            c.waiting_since = None;
            c.statistics.first_close_at.get_or_insert(now);
            c.statistics.last_close_at = Some(now);
            c.statistics.last_closed_by_id = Some(admin.id.clone());
        })
    }

    pub fn snooze(&mut self, conversation_id: &str, admin_id: &str, snoozed_until: i64) -> Result<(), ApiError> {
        if snoozed_until <= now_unix() {
            self.conversation_mut(conversation_id)?;
            return Err(ApiError::invalid("snoozed_until", "snoozed_until must be in the future"));
        }
        self.state_change(conversation_id, admin_id, "snoozed", "conversation.admin.snoozed", None, |c, _, _| {
            c.state = ConversationState::Snoozed;
            c.snoozed_until = Some(snoozed_until);
        })
    }

    pub fn open(&mut self, conversation_id: &str, admin_id: &str) -> Result<(), ApiError> {
        self.state_change(conversation_id, admin_id, "open", "conversation.admin.opened", None, |c, _, _| {
            if c.state == ConversationState::Closed {
                c.statistics.count_reopens += 1;
            }
            c.state = ConversationState::Open;
            c.snoozed_until = None;
        })
    }

    /// `message_type: assignment`. `assignee_id` "0" unassigns.
    pub fn assign(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        kind: AssigneeKind,
        assignee_id: &str,
        body: Option<&str>,
    ) -> Result<(), ApiError> {
        self.conversation_mut(conversation_id)?;
        let admin = self.require_admin(admin_id)?;
        let unassign = assignee_id == "0";
        let assignee: Option<i64> = if unassign {
            None
        } else {
            let exists = match kind {
                AssigneeKind::Admin => self.admin(assignee_id).is_some(),
                AssigneeKind::Team => self.team(assignee_id).is_some(),
            };
            let parsed = assignee_id.parse::<i64>().ok().filter(|_| exists);
            match parsed {
                Some(n) => Some(n),
                None => return Err(ApiError::assignee_not_found()),
            }
        };
        let part_id = self.next_part_id();
        let now = now_unix();
        let conv = self.conversation_mut(conversation_id)?;
        let assigned_to = match (kind, assignee) {
            (AssigneeKind::Admin, Some(n)) => Reference { kind: "admin".to_owned(), id: Some(n.to_string()) },
            (AssigneeKind::Team, Some(n)) => Reference { kind: "team".to_owned(), id: Some(n.to_string()) },
            (_, None) => Reference { kind: "nobody_admin".to_owned(), id: None },
        };
        match kind {
            AssigneeKind::Admin => conv.admin_assignee_id = assignee,
            AssigneeKind::Team => conv.team_assignee_id = assignee,
        }
        if assignee.is_some() {
            let stats = &mut conv.statistics;
            stats.count_assignments += 1;
            stats.first_assignment_at.get_or_insert(now);
            stats.last_assignment_at = Some(now);
        }
        if !conv.teammate_ids.contains(&admin.id) {
            conv.teammate_ids.push(admin.id.clone());
        }
        let state = conv.state;
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: "assignment".to_owned(),
                body: body.map(html::to_html),
                created_at: now,
                author: Self::admin_author(&admin),
                assigned_to: Some(assigned_to),
                state,
                attachments: Vec::new(),
                quick_reply_options: Vec::new(),
                quick_reply_uuid: None,
            },
        );
        self.emit("conversation.admin.assigned", conversation_id, 1);
        Ok(())
    }

    /// `POST /conversations/{id}/tags`: applying a tag twice is a no-op.
    pub fn tag_conversation(
        &mut self,
        conversation_id: &str,
        tag_id: &str,
        admin_id: &str,
    ) -> Result<(Tag, AppliedTag), ApiError> {
        if self.conversation(conversation_id).is_none() {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found"));
        }
        let tag = self.tag(tag_id).cloned().ok_or_else(ApiError::tag_not_found)?;
        self.require_admin(admin_id)?;
        let conv = self.conversation_mut(conversation_id)?;
        if let Some(applied) = conv.tags.iter().find(|t| t.tag_id == tag.id) {
            return Ok((tag, applied.clone()));
        }
        let applied = AppliedTag { tag_id: tag.id.clone(), applied_at: now_unix(), applied_by: admin_id.to_owned() };
        conv.tags.push(applied.clone());
        conv.updated_at = applied.applied_at;
        Ok((tag, applied))
    }

    /// `DELETE /conversations/{id}/tags/{tag_id}`: removing a tag that is not applied
    /// answers the tag all the same.
    pub fn untag_conversation(&mut self, conversation_id: &str, tag_id: &str, admin_id: &str) -> Result<Tag, ApiError> {
        if self.conversation(conversation_id).is_none() {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found"));
        }
        let tag = self.tag(tag_id).cloned().ok_or_else(ApiError::tag_not_found)?;
        self.require_admin(admin_id)?;
        let conv = self.conversation_mut(conversation_id)?;
        let before = conv.tags.len();
        conv.tags.retain(|t| t.tag_id != tag.id);
        if conv.tags.len() != before {
            conv.updated_at = now_unix();
        }
        Ok(tag)
    }

    /// `PUT /conversations/{id}`: custom attributes are merged (`null` removes one).
    pub fn update_conversation(
        &mut self,
        conversation_id: &str,
        custom_attributes: Option<Map<String, Value>>,
        read: Option<bool>,
        title: Option<String>,
    ) -> Result<(), ApiError> {
        let conv = self.conversation_mut(conversation_id)?;
        if let Some(attrs) = custom_attributes {
            for (k, v) in attrs {
                if v.is_null() {
                    conv.custom_attributes.remove(&k);
                } else {
                    conv.custom_attributes.insert(k, v);
                }
            }
        }
        if let Some(read) = read {
            conv.read = read;
        }
        if let Some(title) = title {
            conv.title = Some(title);
        }
        conv.updated_at = now_unix();
        Ok(())
    }
}

fn push_part(conv: &mut Conversation, part: Part) {
    conv.updated_at = part.created_at;
    conv.parts.push(part);
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn conflict_with_an_archived_contact_says_so() {
        let mut s = State::new();
        let a = s.create_contact(NewContact::user("a@example.com")).expect("a");
        s.set_archived(&a.id, true).expect("archive");
        let err = s.create_contact(NewContact::user("A@example.com")).expect_err("conflict");
        assert!(err.message.starts_with("An archived contact"), "{err}");
    }
}
