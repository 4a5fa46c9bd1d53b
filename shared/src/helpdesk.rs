//! The port the handlers depend on. [`IntercomClient`] implements it; tests use `MockHelpdesk`
//! (feature `mocks`) so handlers are exercised without HTTP.

use std::time::Duration;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::intercom::models::{Attributes, Contact, Conversation, Tag, Team, Teammate};
use crate::intercom::office_hours::{OfficeHoursException, OfficeHoursSchedule};
use crate::intercom::setup::{DataAttribute, Me, NewAttribute, Permission, Probe};
use crate::intercom::team_metrics::{TeamMetric, TeamMetricsError};
use crate::intercom::{
    AdminMessage, ArticleQuery, ArticleSearch, Assignee, Company, ContactKey, ContactMatches, ContentHit,
    ConversationPage, ConversationQuery, IntercomClient, IntercomError, InternalArticle, MessageKind, NewTicket,
    ResolvedContact, StateChange, Ticket, TicketConversion, TicketStateDetails, TicketType, TicketUpdate,
};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Helpdesk: Send + Sync {
    /// The admin the AI acts as.
    async fn admin_id(&self) -> Result<String, IntercomError>;
    async fn find_contact(&self, key: &ContactKey) -> Result<Option<Contact>, IntercomError>;
    async fn find_or_create_contact(
        &self,
        key: &ContactKey,
        name: Option<String>,
        attributes: Option<Attributes>,
    ) -> Result<ResolvedContact, IntercomError>;
    async fn update_contact_attributes(
        &self,
        contact_id: &str,
        attributes: &Attributes,
    ) -> Result<Contact, IntercomError>;
    async fn create_conversation(&self, contact: &Contact, body: &str) -> Result<String, IntercomError>;
    async fn reply(
        &self,
        conversation_id: &str,
        kind: MessageKind,
        admin_id: &str,
        message: &AdminMessage,
    ) -> Result<Conversation, IntercomError>;
    async fn get_conversation(&self, conversation_id: &str) -> Result<Conversation, IntercomError>;
    async fn assign_conversation(
        &self,
        conversation_id: &str,
        admin_id: &str,
        assignee: &Assignee,
    ) -> Result<Conversation, IntercomError>;
    async fn change_state(
        &self,
        conversation_id: &str,
        admin_id: &str,
        change: StateChange,
    ) -> Result<Conversation, IntercomError>;
    async fn ensure_tags(&self, names: &[String]) -> Result<Vec<Tag>, IntercomError>;
    async fn find_tag(&self, name: &str) -> Result<Option<Tag>, IntercomError>;
    async fn tag_conversation(&self, conversation_id: &str, admin_id: &str, tag: &Tag) -> Result<(), IntercomError>;
    async fn untag_conversation(&self, conversation_id: &str, admin_id: &str, tag: &Tag) -> Result<(), IntercomError>;
    async fn find_team(&self, name: &str) -> Result<Option<Team>, IntercomError>;
    /// Every admin with away mode, inbox seat and teams; the client answers from a 60 s cache.
    async fn list_admins(&self) -> Result<Vec<Teammate>, IntercomError>;
    async fn update_conversation_attributes(
        &self,
        conversation_id: &str,
        attributes: &Attributes,
    ) -> Result<(), IntercomError>;
    /// One page of a contact's conversations (`POST /conversations/search`; results carry no parts).
    async fn search_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage, IntercomError>;
    /// Adds `body` to the conversation as the contact's own message.
    async fn reply_as_contact(
        &self,
        conversation_id: &str,
        contact: &Contact,
        body: &str,
    ) -> Result<Conversation, IntercomError>;
    /// `GET /me`, uncached: the token's admin and workspace.
    async fn me(&self) -> Result<Me, IntercomError>;
    /// The contact data attributes, archived ones included.
    async fn contact_data_attributes(&self) -> Result<Vec<DataAttribute>, IntercomError>;
    async fn create_contact_attribute(&self, attribute: &NewAttribute) -> Result<DataAttribute, IntercomError>;
    /// Whether the token has `permission` (a harmless probe, see [`Permission`]).
    async fn probe(&self, permission: Permission, admin_id: &str) -> Result<Probe, IntercomError>;

    // ---- customer profile, knowledge and tickets (API 2.16) ----
    /// Every contact the key names (by id one or none; by email or external id all a search finds).
    async fn find_contact_profiles(&self, key: &ContactKey) -> Result<ContactMatches, IntercomError>;
    /// The contact's tags with their names (`GET /contacts/{id}/tags`).
    async fn contact_tags(&self, contact_id: &str) -> Result<Vec<Tag>, IntercomError>;
    /// The contact's companies (`GET /contacts/{id}/companies`).
    async fn contact_companies(&self, contact_id: &str) -> Result<Vec<Company>, IntercomError>;
    /// Published help-center articles with highlights (`GET /articles/search`).
    async fn search_articles(&self, query: &ArticleQuery) -> Result<ArticleSearch, IntercomError>;
    /// Internal articles matching a phrase, best first, without bodies (`GET /content/search`).
    async fn search_internal_articles(&self, phrase: &str, per_page: u32) -> Result<Vec<ContentHit>, IntercomError>;
    async fn get_internal_article(&self, id: &str) -> Result<InternalArticle, IntercomError>;
    /// Ticket types, from memory when read less than `max_age` ago (never more than 5 minutes).
    async fn list_ticket_types(&self, max_age: Duration) -> Result<Vec<TicketType>, IntercomError>;
    /// Ticket states with the types using each, cached as the types are.
    async fn list_ticket_states(&self, max_age: Duration) -> Result<Vec<TicketStateDetails>, IntercomError>;
    /// Creates a ticket (never repeated blindly: a lost answer is `OutcomeUnknown`).
    async fn create_ticket(&self, ticket: &NewTicket) -> Result<Ticket, IntercomError>;
    async fn get_ticket(&self, ticket_id: &str) -> Result<Ticket, IntercomError>;
    async fn update_ticket(&self, ticket_id: &str, update: &TicketUpdate) -> Result<Ticket, IntercomError>;
    /// Converts a conversation to a ticket (never repeated blindly).
    async fn convert_to_ticket(
        &self,
        conversation_id: &str,
        conversion: &TicketConversion,
    ) -> Result<Ticket, IntercomError>;
    /// Every office hours schedule (API 2.16); the client answers from a 5-minute cache.
    async fn office_hours_schedules(&self) -> Result<Vec<OfficeHoursSchedule>, IntercomError>;
    /// One schedule's exceptions (holidays, custom hours); the client caches them 5 minutes per schedule.
    async fn office_hours_exceptions(&self, schedule_id: &str) -> Result<Vec<OfficeHoursException>, IntercomError>;
    /// Each team member's open, idle and snoozed conversations, read fresh; [`TeamMetricsError::Refused`] when
    /// the workspace lacks real-time monitoring.
    async fn team_metrics(&self, team_id: &str) -> Result<Vec<TeamMetric>, TeamMetricsError>;
    /// Intercom's now, from the `Date` of its latest answer; `None` before any (use the own clock then).
    fn intercom_now(&self) -> Option<SystemTime>;
}

#[async_trait]
impl Helpdesk for IntercomClient {
    async fn admin_id(&self) -> Result<String, IntercomError> {
        IntercomClient::admin_id(self).await
    }
    async fn find_contact(&self, key: &ContactKey) -> Result<Option<Contact>, IntercomError> {
        IntercomClient::find_contact(self, key).await
    }
    async fn find_or_create_contact(
        &self,
        key: &ContactKey,
        name: Option<String>,
        attributes: Option<Attributes>,
    ) -> Result<ResolvedContact, IntercomError> {
        IntercomClient::find_or_create_contact(self, key, name.as_deref(), attributes.as_ref()).await
    }
    async fn update_contact_attributes(
        &self,
        contact_id: &str,
        attributes: &Attributes,
    ) -> Result<Contact, IntercomError> {
        IntercomClient::update_contact_attributes(self, contact_id, attributes).await
    }
    async fn create_conversation(&self, contact: &Contact, body: &str) -> Result<String, IntercomError> {
        IntercomClient::create_conversation(self, contact, body).await
    }
    async fn reply(
        &self,
        conversation_id: &str,
        kind: MessageKind,
        admin_id: &str,
        message: &AdminMessage,
    ) -> Result<Conversation, IntercomError> {
        IntercomClient::reply(self, conversation_id, kind, admin_id, message).await
    }
    async fn get_conversation(&self, conversation_id: &str) -> Result<Conversation, IntercomError> {
        IntercomClient::get_conversation(self, conversation_id).await
    }
    async fn assign_conversation(
        &self,
        conversation_id: &str,
        admin_id: &str,
        assignee: &Assignee,
    ) -> Result<Conversation, IntercomError> {
        IntercomClient::assign_conversation(self, conversation_id, admin_id, assignee).await
    }
    async fn change_state(
        &self,
        conversation_id: &str,
        admin_id: &str,
        change: StateChange,
    ) -> Result<Conversation, IntercomError> {
        IntercomClient::change_state(self, conversation_id, admin_id, change).await
    }
    async fn ensure_tags(&self, names: &[String]) -> Result<Vec<Tag>, IntercomError> {
        IntercomClient::ensure_tags(self, names).await
    }
    async fn find_tag(&self, name: &str) -> Result<Option<Tag>, IntercomError> {
        IntercomClient::find_tag(self, name).await
    }
    async fn tag_conversation(&self, conversation_id: &str, admin_id: &str, tag: &Tag) -> Result<(), IntercomError> {
        IntercomClient::tag_conversation(self, conversation_id, admin_id, tag).await
    }
    async fn untag_conversation(&self, conversation_id: &str, admin_id: &str, tag: &Tag) -> Result<(), IntercomError> {
        IntercomClient::untag_conversation(self, conversation_id, admin_id, tag).await
    }
    async fn find_team(&self, name: &str) -> Result<Option<Team>, IntercomError> {
        IntercomClient::find_team(self, name).await
    }
    async fn list_admins(&self) -> Result<Vec<Teammate>, IntercomError> {
        IntercomClient::list_admins(self).await
    }
    async fn update_conversation_attributes(
        &self,
        conversation_id: &str,
        attributes: &Attributes,
    ) -> Result<(), IntercomError> {
        IntercomClient::update_conversation_attributes(self, conversation_id, attributes).await
    }
    async fn search_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage, IntercomError> {
        IntercomClient::search_conversations(self, query).await
    }
    async fn reply_as_contact(
        &self,
        conversation_id: &str,
        contact: &Contact,
        body: &str,
    ) -> Result<Conversation, IntercomError> {
        IntercomClient::reply_as_contact(self, conversation_id, contact, body).await
    }
    async fn me(&self) -> Result<Me, IntercomError> {
        IntercomClient::me(self).await
    }
    async fn contact_data_attributes(&self) -> Result<Vec<DataAttribute>, IntercomError> {
        IntercomClient::contact_data_attributes(self).await
    }
    async fn create_contact_attribute(&self, attribute: &NewAttribute) -> Result<DataAttribute, IntercomError> {
        IntercomClient::create_contact_attribute(self, attribute).await
    }
    async fn probe(&self, permission: Permission, admin_id: &str) -> Result<Probe, IntercomError> {
        IntercomClient::probe(self, permission, admin_id).await
    }

    async fn find_contact_profiles(&self, key: &ContactKey) -> Result<ContactMatches, IntercomError> {
        IntercomClient::find_contact_profiles(self, key).await
    }
    async fn contact_tags(&self, contact_id: &str) -> Result<Vec<Tag>, IntercomError> {
        IntercomClient::contact_tags(self, contact_id).await
    }
    async fn contact_companies(&self, contact_id: &str) -> Result<Vec<Company>, IntercomError> {
        IntercomClient::contact_companies(self, contact_id).await
    }
    async fn search_articles(&self, query: &ArticleQuery) -> Result<ArticleSearch, IntercomError> {
        IntercomClient::search_articles(self, query).await
    }
    async fn search_internal_articles(&self, phrase: &str, per_page: u32) -> Result<Vec<ContentHit>, IntercomError> {
        IntercomClient::search_internal_articles(self, phrase, per_page).await
    }
    async fn get_internal_article(&self, id: &str) -> Result<InternalArticle, IntercomError> {
        IntercomClient::get_internal_article(self, id).await
    }
    async fn list_ticket_types(&self, max_age: Duration) -> Result<Vec<TicketType>, IntercomError> {
        IntercomClient::list_ticket_types(self, max_age).await
    }
    async fn list_ticket_states(&self, max_age: Duration) -> Result<Vec<TicketStateDetails>, IntercomError> {
        IntercomClient::list_ticket_states(self, max_age).await
    }
    async fn create_ticket(&self, ticket: &NewTicket) -> Result<Ticket, IntercomError> {
        IntercomClient::create_ticket(self, ticket).await
    }
    async fn get_ticket(&self, ticket_id: &str) -> Result<Ticket, IntercomError> {
        IntercomClient::get_ticket(self, ticket_id).await
    }
    async fn update_ticket(&self, ticket_id: &str, update: &TicketUpdate) -> Result<Ticket, IntercomError> {
        IntercomClient::update_ticket(self, ticket_id, update).await
    }
    async fn convert_to_ticket(
        &self,
        conversation_id: &str,
        conversion: &TicketConversion,
    ) -> Result<Ticket, IntercomError> {
        IntercomClient::convert_to_ticket(self, conversation_id, conversion).await
    }
    async fn office_hours_schedules(&self) -> Result<Vec<OfficeHoursSchedule>, IntercomError> {
        IntercomClient::office_hours_schedules(self).await
    }
    async fn office_hours_exceptions(&self, schedule_id: &str) -> Result<Vec<OfficeHoursException>, IntercomError> {
        IntercomClient::office_hours_exceptions(self, schedule_id).await
    }
    async fn team_metrics(&self, team_id: &str) -> Result<Vec<TeamMetric>, TeamMetricsError> {
        IntercomClient::team_metrics(self, team_id).await
    }
    fn intercom_now(&self) -> Option<SystemTime> {
        IntercomClient::intercom_now(self)
    }
}
