//! The webhook function's settings, read once per container from the environment.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `AGENT_WEBHOOK_URL` | unset | where events are POSTed (http or https); unset = verify and acknowledge, relay nothing |
//! | `AGENT_RELAY_TIMEOUT_MS` | 2000 | how long the agent has to accept an event (1–30000) |
//! | `WEBHOOK_TOPICS` | `conversation.user.created`, `.user.replied`, `.admin.assigned`, `.admin.replied`, `.admin.closed`, `.admin.opened`, `.admin.snoozed`, `.admin.noted` | conversation topics to relay |
//! | `WEBHOOK_LOOP_GUARD` | `flag` | `flag` relays messages our functions wrote as the customer marked `origin: integration`; `drop` skips them |
//! | `RELAY_QUEUE_URL` | unset | `intercom-webhook`: the relay queue (SQS FIFO); set = enqueue and answer at once, `relay-to-agent` relays; unset = relay before answering |
//! | `RELAY_FUNCTION_TIMEOUT_S` | unset | `relay-to-agent`: its Lambda timeout (template.yaml passes it), so a relay timeout that cannot fit is refused at cold start |
//! | `INTERCOM_SECRET_ARN` | unset | the Secrets Manager secret with `client_secret` and `agent_webhook_secret`; unset = read `INTERCOM_CLIENT_SECRET` and `AGENT_WEBHOOK_SECRET` (local runs) |
//!
//! Why 2 s: Intercom favours endpoints that answer within 500 ms, and a healthy agent only has to enqueue the
//! event (well under that). Two seconds absorbs a cold or briefly busy agent; beyond it we answer 503 and
//! Intercom redelivers, which is cheaper than holding deliveries open. The agent dedupes on
//! `Idempotency-Key`, so an event it accepted just after we gave up is not handled twice.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::config::TokenSource;

use super::loop_guard::{LOOP_GUARD_ENV, LoopGuardMode, UnknownLoopGuardMode};
use super::route::{DEFAULT_RELAYED_TOPICS, RoutePolicy};

/// Larger deliveries are refused with 413. Intercom's conversation payloads are tens of kilobytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_RELAY_TIMEOUT_MS: u64 = 2_000;
const MAX_RELAY_TIMEOUT_MS: u64 = 30_000;
/// A queued message is not started when less than this is left of the invocation (after the agent's own timeout):
/// a message cut off by the function's timeout would fail the whole batch. The relay timeout must fit in the
/// function's timeout with this to spare.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `None`: deliveries are verified and acknowledged, nothing is relayed.
    pub agent_webhook_url: Option<Url>,
    pub relay_timeout: Duration,
    pub route: RoutePolicy,
    /// Where `client_secret` and `agent_webhook_secret` come from.
    pub secret_source: TokenSource,
    /// `relay-to-agent`'s Lambda timeout, when given: the relay timeout must fit inside it.
    pub function_timeout: Option<Duration>,
}

/// Shows the agent URL without its query or credentials, which may carry a token.
impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self
            .agent_webhook_url
            .as_ref()
            .map(|url| format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or_default(), url.path()));
        f.debug_struct("WebhookSettings")
            .field("agent_webhook_url", &shown)
            .field("relay_timeout", &self.relay_timeout)
            .field("route", &self.route)
            .field("secret_source", &self.secret_source)
            .field("function_timeout", &self.function_timeout)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookSettingsError {
    #[error("AGENT_WEBHOOK_URL is not an http(s) URL")]
    InvalidAgentUrl,
    #[error("AGENT_RELAY_TIMEOUT_MS={value:?} must be a whole number of milliseconds from 1 to 30000 (default 2000)")]
    InvalidTimeout { value: String },
    #[error(
        "WEBHOOK_TOPICS has {topic:?}; list conversation topics separated by commas, e.g. \
         conversation.user.created,conversation.user.replied"
    )]
    InvalidTopic { topic: String },
    #[error(
        "AGENT_RELAY_TIMEOUT_MS={relay_ms} does not fit in the function's {function_s} s timeout \
         (RELAY_FUNCTION_TIMEOUT_S) with a second to spare; lower it or raise the function's Timeout"
    )]
    RelayTimeoutTooLong { relay_ms: u64, function_s: u64 },
    #[error("RELAY_FUNCTION_TIMEOUT_S={value:?} must be a whole number of seconds from 1 to 900")]
    InvalidFunctionTimeout { value: String },
    #[error(transparent)]
    LoopGuard(#[from] UnknownLoopGuardMode),
    #[error("{name} must not be empty when set")]
    Empty { name: &'static str },
    #[error(transparent)]
    Provider(#[from] crate::config::ConfigError),
}

impl WebhookSettings {
    pub fn from_env() -> Result<Self, WebhookSettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, WebhookSettingsError> {
        let get = |name: &'static str| -> Result<Option<String>, WebhookSettingsError> {
            match lookup(name).map(|v| v.trim().to_string()) {
                Some(v) if v.is_empty() => Err(WebhookSettingsError::Empty { name }),
                other => Ok(other),
            }
        };

        crate::config::check_provider(lookup("HELPDESK_PROVIDER").as_deref())?;

        let agent_webhook_url = match get("AGENT_WEBHOOK_URL")? {
            None => None,
            Some(raw) => {
                let url = Url::parse(&raw).map_err(|_| WebhookSettingsError::InvalidAgentUrl)?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(WebhookSettingsError::InvalidAgentUrl);
                }
                Some(url)
            }
        };

        let relay_timeout = match get("AGENT_RELAY_TIMEOUT_MS")? {
            None => Duration::from_millis(DEFAULT_RELAY_TIMEOUT_MS),
            Some(raw) => match raw.parse::<u64>() {
                Ok(ms) if (1..=MAX_RELAY_TIMEOUT_MS).contains(&ms) => Duration::from_millis(ms),
                _ => return Err(WebhookSettingsError::InvalidTimeout { value: raw }),
            },
        };

        let relayed_topics = match get("WEBHOOK_TOPICS")? {
            None => DEFAULT_RELAYED_TOPICS.iter().map(|t| t.to_string()).collect(),
            Some(raw) => parse_topics(&raw)?,
        };

        let loop_guard_mode = match get(LOOP_GUARD_ENV)? {
            None => LoopGuardMode::default(),
            Some(raw) => raw.parse()?,
        };

        let secret_source = match get("INTERCOM_SECRET_ARN")? {
            Some(secret_id) => TokenSource::SecretsManager { secret_id },
            None => TokenSource::Environment,
        };

        let function_timeout = match get("RELAY_FUNCTION_TIMEOUT_S")? {
            None => None,
            Some(raw) => match raw.parse::<u64>() {
                Ok(s) if (1..=900).contains(&s) => Some(Duration::from_secs(s)),
                _ => return Err(WebhookSettingsError::InvalidFunctionTimeout { value: raw }),
            },
        };
        if let Some(function) = function_timeout
            && relay_timeout + DEADLINE_MARGIN > function
        {
            return Err(WebhookSettingsError::RelayTimeoutTooLong {
                relay_ms: relay_timeout.as_millis() as u64,
                function_s: function.as_secs(),
            });
        }

        Ok(WebhookSettings {
            agent_webhook_url,
            relay_timeout,
            route: RoutePolicy { relayed_topics, loop_guard_mode },
            secret_source,
            function_timeout,
        })
    }
}

/// Comma-separated conversation topics; blanks between commas are skipped, repeats kept once.
fn parse_topics(raw: &str) -> Result<Vec<String>, WebhookSettingsError> {
    let mut topics: Vec<String> = Vec::new();
    for topic in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let valid = topic.starts_with("conversation.")
            && topic.len() > "conversation.".len()
            && topic.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'));
        if !valid {
            return Err(WebhookSettingsError::InvalidTopic { topic: topic.to_string() });
        }
        if !topics.iter().any(|t| t == topic) {
            topics.push(topic.to_string());
        }
    }
    if topics.is_empty() {
        return Err(WebhookSettingsError::Empty { name: "WEBHOOK_TOPICS" });
    }
    Ok(topics)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<WebhookSettings, WebhookSettingsError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        WebhookSettings::from_lookup(|name| map.get(name).cloned())
    }

    const URL: (&str, &str) = ("AGENT_WEBHOOK_URL", "https://agent.example/hooks/intercom");

    #[test]
    fn defaults() {
        let s = settings(&[URL]).unwrap();
        assert_eq!(s.agent_webhook_url.unwrap().as_str(), "https://agent.example/hooks/intercom");
        assert_eq!(s.relay_timeout, Duration::from_millis(2_000));
        assert_eq!(s.route, RoutePolicy::default());
        assert_eq!(s.route.relayed_topics, DEFAULT_RELAYED_TOPICS);
        assert_eq!(s.route.loop_guard_mode, LoopGuardMode::Flag);
        assert_eq!(s.secret_source, TokenSource::Environment);
    }

    #[test]
    fn the_helpdesk_provider_must_be_intercom() {
        assert!(settings(&[URL, ("HELPDESK_PROVIDER", "intercom")]).is_ok());
        let err = settings(&[URL, ("HELPDESK_PROVIDER", "zendesk")]).unwrap_err();
        assert!(err.to_string().contains("set HELPDESK_PROVIDER=intercom"), "{err}");
    }

    #[test]
    fn the_secret_comes_from_secrets_manager_when_named() {
        let s = settings(&[URL, ("INTERCOM_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:x")]).unwrap();
        assert_eq!(
            s.secret_source,
            TokenSource::SecretsManager { secret_id: "arn:aws:secretsmanager:eu-west-1:1:secret:x".into() }
        );
    }

    #[test]
    fn the_agent_url_is_optional_and_must_be_http() {
        assert_eq!(settings(&[]).unwrap().agent_webhook_url, None);
        assert_eq!(settings(&[("AGENT_WEBHOOK_URL", "ftp://x")]).unwrap_err(), WebhookSettingsError::InvalidAgentUrl);
        assert_eq!(settings(&[("AGENT_WEBHOOK_URL", "agent")]).unwrap_err(), WebhookSettingsError::InvalidAgentUrl);
        assert_eq!(
            settings(&[("AGENT_WEBHOOK_URL", " ")]).unwrap_err(),
            WebhookSettingsError::Empty { name: "AGENT_WEBHOOK_URL" }
        );
        assert!(settings(&[("AGENT_WEBHOOK_URL", "http://127.0.0.1:9000/events")]).is_ok());
    }

    #[test]
    fn timeout_is_bounded() {
        let s = settings(&[URL, ("AGENT_RELAY_TIMEOUT_MS", "450")]).unwrap();
        assert_eq!(s.relay_timeout, Duration::from_millis(450));
        for bad in ["0", "-1", "2s", "30001"] {
            let err = settings(&[URL, ("AGENT_RELAY_TIMEOUT_MS", bad)]).unwrap_err();
            assert!(matches!(err, WebhookSettingsError::InvalidTimeout { .. }), "{bad}");
            assert!(err.to_string().contains("from 1 to 30000"));
        }
    }

    #[test]
    fn the_relay_timeout_must_fit_in_the_relay_functions_timeout() {
        let s = settings(&[URL, ("AGENT_RELAY_TIMEOUT_MS", "2000"), ("RELAY_FUNCTION_TIMEOUT_S", "30")]).unwrap();
        assert_eq!(s.function_timeout, Some(Duration::from_secs(30)));
        let err = settings(&[URL, ("AGENT_RELAY_TIMEOUT_MS", "9500"), ("RELAY_FUNCTION_TIMEOUT_S", "10")]).unwrap_err();
        assert_eq!(err, WebhookSettingsError::RelayTimeoutTooLong { relay_ms: 9500, function_s: 10 });
        assert!(err.to_string().contains("lower it or raise the function's Timeout"), "{err}");
        for bad in ["0", "901", "30s"] {
            let err = settings(&[URL, ("RELAY_FUNCTION_TIMEOUT_S", bad)]).unwrap_err();
            assert!(matches!(err, WebhookSettingsError::InvalidFunctionTimeout { .. }), "{bad}");
        }
    }

    #[test]
    fn topics_are_a_comma_separated_list_of_conversation_topics() {
        let s = settings(&[
            URL,
            ("WEBHOOK_TOPICS", " conversation.user.replied, ,conversation.admin.noted,conversation.user.replied"),
        ])
        .unwrap();
        assert_eq!(s.route.relayed_topics, ["conversation.user.replied", "conversation.admin.noted"]);
        for bad in ["contact.user.created", "conversation.", "conversation.user created", "ping"] {
            let err = settings(&[URL, ("WEBHOOK_TOPICS", bad)]).unwrap_err();
            assert!(matches!(err, WebhookSettingsError::InvalidTopic { .. }), "{bad}: {err}");
        }
        assert_eq!(
            settings(&[URL, ("WEBHOOK_TOPICS", ",,")]).unwrap_err(),
            WebhookSettingsError::Empty { name: "WEBHOOK_TOPICS" }
        );
    }

    #[test]
    fn loop_guard_mode() {
        assert_eq!(
            settings(&[URL, ("WEBHOOK_LOOP_GUARD", "drop")]).unwrap().route.loop_guard_mode,
            LoopGuardMode::Drop
        );
        let err = settings(&[URL, ("WEBHOOK_LOOP_GUARD", "skip")]).unwrap_err();
        assert!(err.to_string().contains("use flag (default) or drop"), "{err}");
    }

    #[test]
    fn debug_hides_the_url_query_and_credentials() {
        let s = settings(&[("AGENT_WEBHOOK_URL", "https://user:pw@agent.example/hook?token=abc123")]).unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains("https://agent.example/hook"), "{shown}");
        assert!(!shown.contains("abc123") && !shown.contains("pw"), "{shown}");
    }
}
