//! Who handles the conversation of a relayed event, and whether it just changed hands: the hand-off rule
//! ([`crate::handoff`]) applied to the delivery (read whole from Intercom when the delivery does not settle it),
//! the `/ai stop` and `/ai resume` commands, and the last handling seen, kept on the store per conversation so a
//! change of hands is announced once although deliveries come twice and out of order.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::handoff::{
    Command, Context, Decision, Handoff, HandoffSettings, History, Ownership, OwnershipRule, transition,
};
use crate::helpdesk::Helpdesk;
use crate::intercom::conversations::Assignee;
use crate::intercom::models::{Conversation, Part};
use crate::store::{Expect, KEEP_RECORDS, Store};

/// How many times a compare-and-set on a conversation's state is retried against concurrent deliveries.
const CAS_ATTEMPTS: usize = 3;

/// What the store keeps per conversation under `handoff#<conversation id>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HandoffState {
    /// The ownership the last applied delivery showed.
    pub ownership: Option<Ownership>,
    /// A teammate's `/ai stop`, until `/ai resume`.
    #[serde(default)]
    pub paused: bool,
    /// The notification time (Unix seconds) of that delivery: older deliveries do not overwrite it.
    pub at: Option<i64>,
}

/// The store key of a conversation's [`HandoffState`].
pub fn state_key(conversation_id: &str) -> String {
    format!("handoff#{conversation_id}")
}

/// The ownership of one event, its change of hands, and how to undo the stored state if the relay fails.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ownership: Option<Ownership>,
    pub handoff: Option<Handoff>,
    undo: Option<Undo>,
}

#[derive(Debug)]
struct Undo {
    key: String,
    previous: String,
    version: u64,
}

/// The hand-off side of the webhook: settings, Intercom access (to read a conversation, assign it back to the AI,
/// or ask `/me` for the AI's admin id) and the rule, built once the admin id is known.
pub struct Ownerships {
    settings: HandoffSettings,
    helpdesk: Option<Arc<dyn Helpdesk>>,
    rule: tokio::sync::OnceCell<OwnershipRule>,
}

impl std::fmt::Debug for Ownerships {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ownerships")
            .field("settings", &self.settings)
            .field("intercom", &self.helpdesk.is_some())
            .field("rule", &self.rule.get())
            .finish()
    }
}

impl Ownerships {
    pub fn new(settings: HandoffSettings, helpdesk: Option<Arc<dyn Helpdesk>>) -> Self {
        Ownerships { settings, helpdesk, rule: tokio::sync::OnceCell::new() }
    }

    pub fn settings(&self) -> &HandoffSettings {
        &self.settings
    }

    /// The rule for the AI's admin: `INTERCOM_ADMIN_ID`, else `GET /me` (asked again after a failure).
    pub async fn rule(&self) -> Option<&OwnershipRule> {
        let settings = &self.settings;
        let helpdesk = self.helpdesk.as_ref();
        let built = self
            .rule
            .get_or_try_init(|| async move {
                let admin_id = match (&settings.admin_id, helpdesk) {
                    (Some(id), _) => id.clone(),
                    (None, Some(helpdesk)) => helpdesk.admin_id().await.map_err(|e| e.to_string())?,
                    (None, None) => return Err("INTERCOM_ADMIN_ID is not set and there is no Intercom access".into()),
                };
                Ok::<_, String>(settings.rule(admin_id))
            })
            .await;
        match built {
            Ok(rule) => Some(rule),
            Err(e) => {
                tracing::warn!(error = %e, "the AI's admin id is unknown; events are relayed without handling");
                None
            }
        }
    }

    /// Decides who handles `conversation` after the delivery of `topic` at `at`, carrying out the command `trigger`
    /// holds (`/ai resume` assigns the conversation to the AI's admin), and records the handling on `store`.
    pub async fn apply(
        &self,
        rule: &OwnershipRule,
        store: Option<&dyn Store>,
        topic: &str,
        at: Option<i64>,
        mut conversation: Conversation,
        trigger: Option<&Part>,
    ) -> Outcome {
        let key = state_key(&conversation.id);
        let mut stored = match store {
            Some(store) => read_state(store, &key).await,
            None => None,
        };
        let command = trigger.and_then(|p| rule.command_in(p));
        let mut paused = stored.as_ref().is_some_and(|(s, _)| s.paused);
        match command {
            Some(Command::Resume) => {
                paused = false;
                if self.assign_to_ai(rule, &conversation.id).await {
                    conversation.admin_assignee_id = Some(rule.ai_admin_id().to_owned());
                }
            }
            Some(Command::Stop) => paused = true,
            None => {}
        }
        // Assigning the conversation to the AI's admin hands it back as `/ai resume` does.
        if conversation.admin_assignee_id.as_deref() == Some(rule.ai_admin_id())
            && command.is_none()
            && topic_is_assignment(topic)
        {
            paused = false;
        }

        let previous = stored.as_ref().and_then(|(s, _)| s.ownership.clone());
        let context =
            Context { history: History::for_topic(topic), handed_off: false, paused, previous: previous.as_ref() };
        let ownership = match rule.decide(&conversation, &context) {
            Decision::Decided(ownership) => Some(ownership),
            Decision::NeedsFullConversation { why } => {
                self.decide_whole(rule, &conversation.id, paused, previous.as_ref(), why).await
            }
        };
        let Some(ownership) = ownership else { return Outcome::default() };
        let Some(store) = store else { return Outcome { ownership: Some(ownership), ..Outcome::default() } };

        for _ in 0..CAS_ATTEMPTS {
            let (state, version) = match &stored {
                Some((state, version)) => (state.clone(), Some(*version)),
                None => (HandoffState::default(), None),
            };
            if let (Some(seen), Some(now)) = (state.at, at)
                && now < seen
            {
                // An older delivery: it tells who handled the conversation then, not a change of hands now.
                return Outcome { ownership: Some(ownership), ..Outcome::default() };
            }
            let last = state.ownership.as_ref().map(|o| o.handling);
            let handoff = transition(last, ownership.handling);
            let next = HandoffState { ownership: Some(ownership.clone()), paused, at: at.or(state.at) };
            let (Ok(next_json), Ok(previous_json)) = (serde_json::to_string(&next), serde_json::to_string(&state))
            else {
                return Outcome { ownership: Some(ownership), ..Outcome::default() };
            };
            let expect = version.map_or(Expect::Absent, Expect::Version);
            match store.put_value(&key, &next_json, expect, KEEP_RECORDS).await {
                Ok(Some(new_version)) => {
                    let undo = Undo { key, previous: previous_json, version: new_version };
                    return Outcome { ownership: Some(ownership), handoff, undo: Some(undo) };
                }
                Ok(None) => stored = read_state(store, &key).await,
                Err(e) => {
                    tracing::warn!(error = %e, "could not record the conversation's handling; no hand-off announced");
                    return Outcome { ownership: Some(ownership), ..Outcome::default() };
                }
            }
        }
        tracing::warn!(conversation_key = %key, "the conversation's handling kept changing under us; no hand-off announced");
        Outcome { ownership: Some(ownership), ..Outcome::default() }
    }

    /// Puts the stored state back after a relay the agent did not accept, so Intercom's redelivery announces the
    /// change of hands again. Best effort: a newer delivery may already have moved it on.
    pub async fn undo(store: Option<&dyn Store>, outcome: &Outcome) {
        let (Some(store), Some(undo)) = (store, &outcome.undo) else { return };
        if let Err(e) = store.put_value(&undo.key, &undo.previous, Expect::Version(undo.version), KEEP_RECORDS).await {
            tracing::warn!(error = %e, "could not restore the conversation's handling after a failed relay");
        }
    }

    async fn decide_whole(
        &self,
        rule: &OwnershipRule,
        conversation_id: &str,
        paused: bool,
        previous: Option<&Ownership>,
        why: &'static str,
    ) -> Option<Ownership> {
        let Some(helpdesk) = &self.helpdesk else {
            tracing::warn!(
                why,
                "the delivery does not settle who handles the conversation and there is no Intercom access"
            );
            return None;
        };
        match helpdesk.get_conversation(conversation_id).await {
            Ok(whole) => {
                let context = Context { history: History::Full, handed_off: false, paused, previous };
                rule.decide(&whole, &context).ownership().cloned()
            }
            Err(e) => {
                tracing::warn!(why, error = %e, "could not read the conversation; relaying without handling");
                None
            }
        }
    }

    async fn assign_to_ai(&self, rule: &OwnershipRule, conversation_id: &str) -> bool {
        let Some(helpdesk) = &self.helpdesk else {
            tracing::warn!("a teammate wrote the resume command but there is no Intercom access to assign the AI");
            return false;
        };
        let ai = rule.ai_admin_id();
        match helpdesk.assign_conversation(conversation_id, ai, &Assignee::Admin(ai.to_owned())).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not assign the conversation to the AI's admin after the resume command");
                false
            }
        }
    }
}

fn topic_is_assignment(topic: &str) -> bool {
    topic == super::event::TOPIC_ADMIN_ASSIGNED
}

async fn read_state(store: &dyn Store, key: &str) -> Option<(HandoffState, u64)> {
    match store.get_value(key).await {
        Ok(Some(v)) => match serde_json::from_str::<HandoffState>(&v.value) {
            Ok(state) => Some((state, v.version)),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable hand-off state; starting afresh");
                Some((HandoffState::default(), v.version))
            }
        },
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the conversation's hand-off state");
            None
        }
    }
}
