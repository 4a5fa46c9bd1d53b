//! Everything the Lambdas share: configuration, the access-token source, the Intercom client behind the
//! [`helpdesk::Helpdesk`] trait, the agent actions, the escalation rules, webhook verification, and the
//! one place that turns errors into HTTP responses.

pub mod actions;
pub mod admin;
#[cfg(feature = "schema")]
pub mod agent_api;
pub mod app;
pub mod auth;
pub mod config;
pub mod deadline;
pub mod doctor;
pub mod edge;
pub mod escalation;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod handoff;
pub mod helpdesk;
pub mod http;
pub mod idempotency;
pub mod intercom;
#[cfg(feature = "schema")]
pub mod mcp;
pub mod metrics;
pub mod queue;
pub mod routes;
pub mod secrets;
pub mod store;
#[cfg(any(test, feature = "mocks"))]
pub mod testing;
pub mod validate;
pub mod webhook;
pub mod workspace;

pub use app::App;
/// `crate::text::html_to_text` keeps working: the converter lives with the other formatting code.
pub use format::text;
