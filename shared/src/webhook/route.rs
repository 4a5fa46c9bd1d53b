//! What to do with a verified delivery: answer a ping, ignore it (and why), or relay an event. Pure.

use super::agent_event::{AgentEvent, NoMessage, build_agent_event};
use super::event::{
    Notification, ParseError, TOPIC_ADMIN_ASSIGNED, TOPIC_ADMIN_CLOSED, TOPIC_ADMIN_NOTED, TOPIC_ADMIN_OPENED,
    TOPIC_ADMIN_REPLIED, TOPIC_ADMIN_SNOOZED, TOPIC_USER_CREATED, TOPIC_USER_REPLIED,
};
use super::loop_guard::{LoopGuardMode, Origin};

/// The topics relayed when `WEBHOOK_TOPICS` is not set: the customer's messages and what teammates do.
pub const DEFAULT_RELAYED_TOPICS: [&str; 8] = [
    TOPIC_USER_CREATED,
    TOPIC_USER_REPLIED,
    TOPIC_ADMIN_ASSIGNED,
    TOPIC_ADMIN_REPLIED,
    TOPIC_ADMIN_CLOSED,
    TOPIC_ADMIN_OPENED,
    TOPIC_ADMIN_SNOOZED,
    TOPIC_ADMIN_NOTED,
];

/// Which deliveries become events for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePolicy {
    /// Conversation topics to relay; anything else is answered 200 and dropped.
    pub relayed_topics: Vec<String>,
    /// What to do with messages our own functions wrote (the service tells them apart on the store).
    pub loop_guard_mode: LoopGuardMode,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        RoutePolicy {
            relayed_topics: DEFAULT_RELAYED_TOPICS.iter().map(|t| t.to_string()).collect(),
            loop_guard_mode: LoopGuardMode::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Intercom checking the endpoint: answer 200.
    Ping,
    /// Well formed, but nothing for the agent: answer 200 so Intercom does not retry.
    Ignore(IgnoreReason),
    /// Send this to the agent.
    Relay(Box<AgentEvent>),
}

/// Why a delivery is not relayed; `Display` is a sentence for the response body and the debug log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreReason {
    #[error("topic {topic} is not relayed")]
    TopicNotRelayed { topic: String },
    #[error("the new message was not written by the customer")]
    NotFromCustomer,
    #[error("the message was written by this integration (WEBHOOK_LOOP_GUARD=drop)")]
    FromIntegration,
    #[error("the event was caused by the AI's own admin")]
    ByTheAi,
    #[error("the conversation is handled by a human (WEBHOOK_HUMAN_HANDLED=drop)")]
    HumanHandled,
    #[error("AGENT_WEBHOOK_URL is not set, so nothing is relayed")]
    NoAgent,
}

impl IgnoreReason {
    /// A stable short code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            IgnoreReason::TopicNotRelayed { .. } => "topic_not_relayed",
            IgnoreReason::NotFromCustomer => "not_from_customer",
            IgnoreReason::FromIntegration => "from_integration",
            IgnoreReason::ByTheAi => "by_the_ai",
            IgnoreReason::HumanHandled => "human_handled",
            IgnoreReason::NoAgent => "no_agent",
        }
    }
}

/// Decides what to do with `notification`; a relayed event starts as the customer's (the service asks the store
/// whether the message is ours). Topic filtering comes before the item is read, so an ignored topic
/// is never rejected for its shape; a relayed topic with a malformed item is a [`ParseError`].
pub fn route(notification: &Notification, policy: &RoutePolicy) -> Result<Route, ParseError> {
    if notification.is_ping() {
        return Ok(Route::Ping);
    }
    if !policy.relayed_topics.contains(&notification.topic) {
        return Ok(Route::Ignore(IgnoreReason::TopicNotRelayed { topic: notification.topic.clone() }));
    }
    let conversation = notification.conversation()?;
    match build_agent_event(notification, &conversation, Origin::Customer)? {
        Ok(event) => Ok(Route::Relay(Box::new(event))),
        Err(NoMessage::NotFromCustomer) => Ok(Route::Ignore(IgnoreReason::NotFromCustomer)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::webhook::event::parse_notification;
    use crate::webhook::fixtures;

    fn route_of(body: &str, policy: &RoutePolicy) -> Result<Route, ParseError> {
        route(&parse_notification(body.as_bytes()).unwrap(), policy)
    }

    fn relayed(route: Result<Route, ParseError>) -> AgentEvent {
        match route.unwrap() {
            Route::Relay(event) => *event,
            other => panic!("expected a relay, got {other:?}"),
        }
    }

    #[test]
    fn ping_is_answered_whatever_the_topics() {
        let policy = RoutePolicy { relayed_topics: vec![], ..Default::default() };
        assert_eq!(route_of(fixtures::PING, &policy), Ok(Route::Ping));
    }

    #[test]
    fn default_topics_are_relayed() {
        let policy = RoutePolicy::default();
        assert_eq!(relayed(route_of(fixtures::USER_CREATED, &policy)).topic, TOPIC_USER_CREATED);
        assert_eq!(relayed(route_of(fixtures::USER_REPLIED, &policy)).topic, TOPIC_USER_REPLIED);
        assert_eq!(relayed(route_of(fixtures::ADMIN_REPLIED, &policy)).topic, TOPIC_ADMIN_REPLIED);
    }

    #[test]
    fn other_topics_are_ignored_even_if_malformed() {
        let policy = RoutePolicy { relayed_topics: vec![TOPIC_USER_CREATED.into()], ..Default::default() };
        let r = route_of(fixtures::ADMIN_REPLIED, &policy).unwrap();
        let Route::Ignore(reason) = r else { panic!("{r:?}") };
        assert_eq!(reason.to_string(), "topic conversation.admin.replied is not relayed");
        assert_eq!(reason.code(), "topic_not_relayed");
        let odd = r#"{"type":"notification_event","topic":"contact.user.created","id":"n","data":{"item":"?"}}"#;
        assert!(matches!(route_of(odd, &RoutePolicy::default()), Ok(Route::Ignore(_))));
    }

    #[test]
    fn configured_topics_replace_the_defaults() {
        let policy = RoutePolicy { relayed_topics: vec!["conversation.admin.replied".into()], ..Default::default() };
        assert!(matches!(route_of(fixtures::ADMIN_REPLIED, &policy), Ok(Route::Relay(_))));
        assert!(matches!(route_of(fixtures::USER_CREATED, &policy), Ok(Route::Ignore(_))));
    }

    #[test]
    fn relayed_topics_with_a_malformed_item_are_errors() {
        let body = r#"{"type":"notification_event","topic":"conversation.user.created","id":"n","data":{"item":{}}}"#;
        assert_eq!(route_of(body, &RoutePolicy::default()).unwrap_err().to_string(), "data.item.id is missing");
    }

    #[test]
    fn admin_authored_sources_are_ignored() {
        let mut v: Value = serde_json::from_str(fixtures::USER_CREATED).unwrap();
        v["data"]["item"]["source"]["author"]["type"] = json!("admin");
        let r = route_of(&v.to_string(), &RoutePolicy::default());
        assert_eq!(r, Ok(Route::Ignore(IgnoreReason::NotFromCustomer)));
    }
}
