//! Relaying: one accepted notification taken to the agent. In this crate "relay" means only that — the
//! delivering half of a webhook delivery, inline in `intercom-webhook` without a queue, or in `relay-to-agent`
//! for a queued one ([`super::relay_batch`]).
//!
//! The steps, in order: the `loop_guard` (a customer message our functions wrote), the `self_filter` (the
//! AI's own action on an admin topic), `enrich_teammate` (who acted, and a teammate's reply as text), the
//! `claim` of the notification id, the `ownership` (who handles the conversation now, and the human-handled
//! drop), and `send`.

use std::time::Instant;

use secrecy::SecretString;

use super::agent::AgentClient;
use super::agent_event::{AgentEvent, Teammate};
use super::claims::{Claimed, Stage, claim, finish, release};
use super::dedupe::RecentNotifications;
use super::delivery::{Delivered, DeliveryError, WebhookKeys};
use super::event::{Notification, TOPIC_ADMIN_REPLIED, TOPIC_USER_CREATED, TOPIC_USER_REPLIED};
use super::loop_guard::{LoopGuardMode, Origin, origin_of_message};
use super::ownership::{Outcome, Ownerships};
use super::route::IgnoreReason;
use crate::handoff::{Handling, HumanHandled, OwnershipRule};
use crate::intercom::models::{Conversation as FullConversation, Part};
use crate::store::Store;
use crate::text::html_to_text;

/// What relaying uses, lent by the webhook service of this container.
pub(super) struct Relay<'a> {
    /// `None`: `AGENT_WEBHOOK_URL` is unset, nothing is relayed.
    pub(super) agent: Option<&'a AgentClient>,
    pub(super) store: Option<&'a dyn Store>,
    pub(super) ownerships: Option<&'a Ownerships>,
    pub(super) loop_guard: LoopGuardMode,
    /// The ids this container relayed.
    pub(super) recent: &'a RecentNotifications,
}

/// The agent and the secret its events are signed with.
struct Agent<'a> {
    client: &'a AgentClient,
    secret: &'a SecretString,
}

/// Relays `event`, built from `notification`, through every step. `Ok` is answered 200 (relayed, ignored or a
/// duplicate); `Err` is retried (by Intercom's redelivery, or by the queue for `Stage::Queued`).
pub(super) async fn relay(
    ctx: &Relay<'_>,
    keys: WebhookKeys<'_>,
    notification: &Notification,
    mut event: AgentEvent,
    stage: Stage,
) -> Result<Delivered, DeliveryError> {
    let topic = notification.topic.as_str();
    let notification_id = notification.id.as_deref();
    let Some(client) = ctx.agent else {
        tracing::info!(topic, notification_id, "AGENT_WEBHOOK_URL is not set; event not relayed");
        return Ok(Delivered::Ignored(IgnoreReason::NoAgent));
    };
    let secret = keys
        .agent_webhook_secret
        .ok_or(DeliveryError::MissingSecret { field: "agent_webhook_secret", env: "AGENT_WEBHOOK_SECRET" })?;
    // The item as the REST API's conversation (what the hand-off rule reads); route() already read it.
    let conversation: Option<FullConversation> =
        notification.item().and_then(|item| serde_json::from_value(item.clone()).ok());
    let rule = match ctx.ownerships {
        Some(ownerships) => ownerships.rule().await,
        None => None,
    };
    let trigger = conversation.as_ref().and_then(|c| trigger(notification, c, &event));

    if is_customer_topic(topic) {
        if let Some(ignored) = loop_guard(ctx, trigger.as_ref(), &mut event).await {
            return Ok(ignored);
        }
    } else if let Some(t) = &trigger {
        if let Some(ignored) = self_filter(rule, t, &event) {
            return Ok(ignored);
        }
        enrich_teammate(t, &mut event);
    }
    let claimed = match claim(ctx.store, stage, topic, notification_id).await {
        Claimed::Ours(claimed) => claimed,
        // Queued, the invocation holding the id may still fail, and this message is the only copy left.
        Claimed::Busy(id) if stage == Stage::Queued => return Err(DeliveryError::InFlight { notification_id: id }),
        Claimed::Done(id) | Claimed::Busy(id) => return Ok(Delivered::Duplicate { notification_id: id }),
    };
    let outcome = ownership(ctx, rule, conversation, trigger.as_ref(), &mut event).await;
    if human_handled_drop(ctx, &event) {
        finish(ctx.store, stage, claimed).await;
        tracing::debug!(topic, notification_id, "webhook delivery ignored: a human handles the conversation");
        return Ok(Delivered::Ignored(IgnoreReason::HumanHandled));
    }
    send(ctx, Agent { client, secret }, &event, stage, claimed, &outcome).await
}

/// Customer topics: a message our functions wrote as the customer is marked `origin: integration`
/// ([`origin_of_message`]), and not relayed with `WEBHOOK_LOOP_GUARD=drop`.
async fn loop_guard(ctx: &Relay<'_>, trigger: Option<&Trigger>, event: &mut AgentEvent) -> Option<Delivered> {
    let author = trigger.and_then(|t| t.author_id.as_deref());
    let body = trigger.and_then(|t| t.body.as_deref()).unwrap_or_default();
    event.origin = origin_of_message(ctx.store, author, body).await;
    if event.origin == Origin::Integration && ctx.loop_guard == LoopGuardMode::Drop {
        let (topic, notification_id) = (event.topic.as_str(), event.notification_id.as_deref());
        tracing::debug!(topic, notification_id, "webhook delivery ignored: our own message");
        return Some(Delivered::Ignored(IgnoreReason::FromIntegration));
    }
    None
}

/// Admin topics: what the AI's own admin did is not relayed back to it.
fn self_filter(rule: Option<&OwnershipRule>, trigger: &Trigger, event: &AgentEvent) -> Option<Delivered> {
    let by_the_ai = rule.is_some_and(|r| trigger.admin_id.as_deref() == Some(r.ai_admin_id()));
    if !by_the_ai {
        return None;
    }
    let (topic, notification_id) = (event.topic.as_str(), event.notification_id.as_deref());
    tracing::debug!(topic, notification_id, "webhook delivery ignored: the AI's own action");
    Some(Delivered::Ignored(IgnoreReason::ByTheAi))
}

/// Admin topics: the teammate who acted, and a teammate's reply as plain text.
fn enrich_teammate(trigger: &Trigger, event: &mut AgentEvent) {
    if trigger.admin_id.is_some() {
        event.teammate = Some(Teammate { id: trigger.admin_id.clone(), name: trigger.admin_name.clone() });
    }
    if event.topic == TOPIC_ADMIN_REPLIED {
        event.text = trigger.body.as_deref().map(html_to_text);
    }
}

/// Who handles the conversation now (the hand-off rule, carrying out a teammate's command), put on the event.
/// Without the rule (no admin id) or the conversation, the event carries no handling.
async fn ownership(
    ctx: &Relay<'_>,
    rule: Option<&OwnershipRule>,
    conversation: Option<FullConversation>,
    trigger: Option<&Trigger>,
    event: &mut AgentEvent,
) -> Outcome {
    let outcome = match (ctx.ownerships, rule, conversation) {
        (Some(ownerships), Some(rule), Some(conversation)) => {
            let part = trigger.and_then(|t| t.part.as_ref());
            ownerships.apply(rule, ctx.store, &event.topic, event.created_at, conversation, part).await
        }
        _ => Outcome::default(),
    };
    event.handling = outcome.ownership.as_ref().map(|o| o.handling);
    event.owner = outcome.ownership.as_ref().map(|o| o.owner.clone());
    event.handoff = outcome.handoff;
    outcome
}

/// With `WEBHOOK_HUMAN_HANDLED=drop`, a customer message in a conversation a human handles is not relayed (a
/// change of hands still is).
fn human_handled_drop(ctx: &Relay<'_>, event: &AgentEvent) -> bool {
    let dropping = ctx.ownerships.is_some_and(|o| o.settings().human_handled == HumanHandled::Drop);
    dropping && is_customer_topic(&event.topic) && event.handling == Some(Handling::Human) && event.handoff.is_none()
}

/// Sends the event to the agent: the claim is completed when the agent accepted it, given back (and the recorded
/// ownership undone) when it did not, so the retry relays it again.
async fn send(
    ctx: &Relay<'_>,
    agent: Agent<'_>,
    event: &AgentEvent,
    stage: Stage,
    claimed: Option<&str>,
    outcome: &Outcome,
) -> Result<Delivered, DeliveryError> {
    let started = Instant::now();
    let (topic, notification_id) = (event.topic.as_str(), event.notification_id.as_deref());
    let conversation_id = event.conversation.id.as_str();
    let origin = event.origin.as_str();
    match agent.client.send(event, agent.secret).await {
        Ok(()) => {
            ctx.recent.mark_relayed(notification_id);
            finish(ctx.store, stage, claimed).await;
            tracing::info!(
                topic,
                notification_id,
                conversation_id,
                origin,
                handling = ?event.handling,
                handoff = ?event.handoff,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "webhook event relayed"
            );
            Ok(Delivered::Relayed { notification_id: notification_id.map(str::to_string) })
        }
        Err(e) => {
            tracing::warn!(
                topic,
                notification_id,
                conversation_id,
                code = e.code(),
                error = %e,
                elapsed_ms = started.elapsed().as_millis() as u64,
                retry = stage.retry(),
                "relay to the agent failed"
            );
            Ownerships::undo(ctx.store, outcome).await;
            release(ctx.store, stage, claimed).await;
            Err(DeliveryError::Relay(e))
        }
    }
}

fn is_customer_topic(topic: &str) -> bool {
    topic == TOPIC_USER_CREATED || topic == TOPIC_USER_REPLIED
}

/// The message or action that triggered an event.
struct Trigger {
    part: Option<Part>,
    author_id: Option<String>,
    /// Set when the author is an admin.
    admin_id: Option<String>,
    admin_name: Option<String>,
    body: Option<String>,
}

/// For customer topics the relayed message (the source, or the part relayed); for the others the newest part.
fn trigger(notification: &Notification, conversation: &FullConversation, event: &AgentEvent) -> Option<Trigger> {
    let parts = &conversation.conversation_parts.conversation_parts;
    let (part, author, body) = match notification.topic.as_str() {
        TOPIC_USER_CREATED => {
            let source = conversation.source.as_ref()?;
            (None, source.author.clone(), source.body.clone())
        }
        TOPIC_USER_REPLIED => {
            let id = event.message.as_ref()?.part_id.as_str();
            let part = parts.iter().find(|p| p.id == id)?;
            (Some(part.clone()), part.author.clone(), part.body.clone())
        }
        _ => {
            let part = parts
                .iter()
                .enumerate()
                .max_by_key(|(index, p)| (p.created_at.unwrap_or(i64::MIN), *index))
                .map(|(_, p)| p)?;
            (Some(part.clone()), part.author.clone(), part.body.clone())
        }
    };
    let is_admin = author.as_ref().is_some_and(|a| a.kind.as_deref() == Some("admin"));
    Some(Trigger {
        part,
        author_id: author.as_ref().and_then(|a| a.id.clone()),
        admin_id: author.as_ref().filter(|_| is_admin).and_then(|a| a.id.clone()),
        admin_name: author.as_ref().filter(|_| is_admin).and_then(|a| a.name.clone()),
        body,
    })
}
