//! The agent actions: what each function URL accepts, validates and answers (JSON is camelCase).
//!
//! One file per action, mirroring `functions/`. Each action is one function over a [`Helpdesk`], so the Lambda
//! handlers stay thin and are tested with a mock, and the end-to-end tests drive the same code against the fake
//! Intercom. The validators they share live in [`crate::validate`].
//!
//! [`Helpdesk`]: crate::helpdesk::Helpdesk

pub mod assign;
pub mod convert_to_ticket;
pub mod create_conversation;
pub mod create_ticket;
pub mod escalate;
pub mod find_conversations;
pub mod get_contact;
pub mod get_conversation;
pub mod get_ticket;
pub mod manage;
pub mod reply;
pub mod search_knowledge;
pub mod tag;
pub mod ticket_rules;
pub mod update_attributes;
pub mod update_ticket;

pub use crate::validate::{MAX_MESSAGE_CHARS, contact_key, conversation_id, email_address, message_body};
pub use assign::*;
pub use convert_to_ticket::{ConvertToTicketRequest, ConvertToTicketResponse, convert_to_ticket};
pub use create_conversation::*;
pub use create_ticket::{CreateTicketRequest, CreateTicketResponse, create_ticket};
pub use escalate::*;
pub use find_conversations::*;
pub use get_contact::{CompanySummary, ContactProfileAnswer, GetContactRequest, LocationSummary, get_contact};
pub use get_conversation::*;
pub use get_ticket::{GetTicketRequest, TicketAnswer, get_ticket};
pub use manage::*;
pub use reply::*;
pub use search_knowledge::{
    KnowledgeArticle, KnowledgeResults, KnowledgeSource, SearchKnowledgeRequest, search_knowledge,
};
pub use tag::*;
pub use update_attributes::*;
pub use update_ticket::{TicketAssignee, UPDATE_TICKET_RULE, UpdateTicketRequest, update_ticket};
