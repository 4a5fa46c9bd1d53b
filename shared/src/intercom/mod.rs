//! The Intercom REST client (API v2.14): one module per resource, typed errors, retries within the deadline.

pub mod admins;
pub mod client;
pub mod contacts;
pub mod conversation_search;
pub mod conversations;
pub mod error;
pub mod models;
pub mod tags;
pub mod topics;

pub use client::{IntercomClient, Retry, RetryPolicy};
pub use contacts::{ContactKey, ResolvedContact};
pub use conversation_search::{ConversationPage, ConversationQuery};
pub use conversations::{AdminMessage, Assignee, MessageKind, StateChange};
pub use error::IntercomError;
