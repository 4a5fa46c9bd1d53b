//! The agent actions: what each function URL accepts, validates and answers (JSON is camelCase).
//!
//! One file per action, mirroring `functions/`. Each action is one function over a [`Helpdesk`], so the Lambda
//! handlers stay thin and are tested with a mock, and the end-to-end tests drive the same code against the fake
//! Intercom. The validators they share live in [`crate::validate`].
//!
//! [`Helpdesk`]: crate::helpdesk::Helpdesk

pub mod assign;
pub mod create_conversation;
pub mod escalate;
pub mod find_conversations;
pub mod get_conversation;
pub mod manage;
pub mod reply;
pub mod tag;
pub mod update_attributes;

pub use crate::validate::{MAX_MESSAGE_CHARS, contact_key, conversation_id, email_address, message_body};
pub use assign::*;
pub use create_conversation::*;
pub use escalate::*;
pub use find_conversations::*;
pub use get_conversation::*;
pub use manage::*;
pub use reply::*;
pub use tag::*;
pub use update_attributes::*;
