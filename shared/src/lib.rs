//! Everything the Lambdas share: configuration, the access-token source, the Intercom client behind the
//! [`helpdesk::Helpdesk`] trait, the agent actions, the escalation rules, webhook verification, and the
//! one place that turns errors into HTTP responses.

pub mod escalation;
pub mod webhook;
