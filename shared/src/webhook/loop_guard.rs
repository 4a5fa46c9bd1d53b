//! Loop guard: telling the messages our own functions wrote as the customer from the customer's own, so the agent
//! is not woken up by its own writes.
//!
//! `origin` describes the message that triggered an event. Our functions remember every message they write as
//! the customer on the store before sending it ([`crate::store::written_as_customer`]); a `conversation.user.created` or
//! `conversation.user.replied` whose message is one of those has origin [`Origin::Integration`], any other
//! message is the customer's — including later messages in a conversation we opened. `WEBHOOK_LOOP_GUARD` says
//! what to do with our own: `flag` (default) relays them with `"origin": "integration"`, `drop` answers 200
//! without relaying.

use serde::Serialize;

use crate::store::Store;

/// Environment variable choosing [`LoopGuardMode`].
pub const LOOP_GUARD_ENV: &str = "WEBHOOK_LOOP_GUARD";

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A customer (user, lead or contact) did something in Intercom.
    Customer,
    /// Our functions wrote the message (remembered on the store before sending it).
    Integration,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Customer => "customer",
            Origin::Integration => "integration",
        }
    }
}

/// What to do with events of origin [`Origin::Integration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoopGuardMode {
    /// Relay them, marked `"origin": "integration"`; the agent decides.
    #[default]
    Flag,
    /// Do not relay them; answer Intercom 200.
    Drop,
}

/// A `WEBHOOK_LOOP_GUARD` value that is neither `flag` nor `drop`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WEBHOOK_LOOP_GUARD={value:?} is not supported; use flag (default) or drop")]
pub struct UnknownLoopGuardMode {
    pub value: String,
}

impl std::str::FromStr for LoopGuardMode {
    type Err = UnknownLoopGuardMode;

    /// `flag` or `drop`, any case.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "flag" => Ok(Self::Flag),
            "drop" => Ok(Self::Drop),
            _ => Err(UnknownLoopGuardMode { value: value.to_string() }),
        }
    }
}

/// The origin of a customer message: ours when our functions remembered writing `body` as `author_contact_id`
/// ([`crate::store::written_as_customer`]), the customer's otherwise. A store that cannot answer makes it the customer's, with a
/// warning: a real customer message is never held back on a guess.
pub async fn origin_of_message(store: Option<&dyn Store>, author_contact_id: Option<&str>, body: &str) -> Origin {
    let (Some(store), Some(contact_id)) = (store, author_contact_id) else { return Origin::Customer };
    match crate::store::written_as_customer::is_ours(store, contact_id, body).await {
        Ok(true) => Origin::Integration,
        Ok(false) => Origin::Customer,
        Err(e) => {
            tracing::warn!(error = %e, "the loop guard could not read the store; relaying the message as the customer's");
            Origin::Customer
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn only_a_message_we_remembered_writing_as_that_contact_is_ours() {
        let store = MemoryStore::new();
        crate::store::written_as_customer::remember_customer_message(&store, "c1", "I was charged twice")
            .await
            .unwrap();
        let origin = |contact: Option<&'static str>, body: &'static str| {
            let store = &store;
            async move { origin_of_message(Some(store), contact, body).await }
        };
        assert_eq!(origin(Some("c1"), "<p>I was charged twice</p>").await, Origin::Integration);
        assert_eq!(origin(Some("c1"), "<p>Still waiting</p>").await, Origin::Customer);
        assert_eq!(origin(Some("c2"), "<p>I was charged twice</p>").await, Origin::Customer);
        assert_eq!(origin(None, "<p>I was charged twice</p>").await, Origin::Customer);
        assert_eq!(origin_of_message(None, Some("c1"), "I was charged twice").await, Origin::Customer);
    }

    #[test]
    fn mode_parses_flag_and_drop() {
        assert_eq!("flag".parse::<LoopGuardMode>(), Ok(LoopGuardMode::Flag));
        assert_eq!(" DROP ".parse::<LoopGuardMode>(), Ok(LoopGuardMode::Drop));
        let err = "ignore".parse::<LoopGuardMode>().unwrap_err().to_string();
        assert!(err.contains("WEBHOOK_LOOP_GUARD") && err.contains("flag (default) or drop"), "{err}");
        assert_eq!(LoopGuardMode::default(), LoopGuardMode::Flag);
    }
}
