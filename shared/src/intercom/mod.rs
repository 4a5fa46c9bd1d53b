//! The Intercom REST client (API v2.14): one module per resource, typed errors, retries within the deadline.

pub mod admins;
pub mod articles;
pub mod client;
pub mod clock;
pub mod contact_profile;
pub mod contacts;
pub mod conversation_search;
pub mod conversations;
pub mod error;
pub mod models;
pub mod office_hours;
pub mod setup;
#[cfg(test)]
mod stub_server;
pub mod tags;
pub mod team_metrics;
pub mod tickets;
pub mod topics;

pub use articles::{ArticleQuery, ArticleSearch, ContentHit, InternalArticle};
pub use client::{IntercomClient, Retry, RetryPolicy};
pub use contact_profile::{Company, ContactMatches, ContactProfile};
pub use contacts::{ContactKey, ResolvedContact};
pub use conversation_search::{ConversationPage, ConversationQuery};
pub use conversations::{AdminMessage, Assignee, MessageKind, StateChange};
pub use error::IntercomError;
pub use tickets::{NewTicket, Ticket, TicketConversion, TicketStateDetails, TicketType, TicketUpdate};
