//! `escalate`: decide, then open one Intercom conversation as the customer with everything a human needs.
//!
//! A hand-off is three rounds, each its own step: `gather` (find the contact ‖ ensure the tags ‖ resolve the
//! team and the acting admin, both cached per container ‖ the admins' away mode, cached 60 s), `open` the
//! conversation as the customer, and `annotate` it (the internal note ‖ the tags ‖ the assignment ‖ the
//! contact's attributes ‖ the away reply when nobody is available). A customer who is not yet a contact costs one
//! more round trip (search, then create). The decision, the routing and the note are pure ([`crate::escalation`]).
//!
//! Exactly once per `sessionId`, across containers and retries: the session is claimed in the [`Store`] (a
//! conditional write) before anything is sent to Intercom, and the first answer is kept for replay (see
//! [`crate::idempotency`]). Intercom itself holds no idempotency record any more; the contact attribute
//! `ai_escalation` written by the previous release is still honoured for one release.

use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::deadline;
use crate::escalation::note::{NoteLine, note_html};
use crate::escalation::routing::humans_available;
use crate::escalation::{Decision, ESCALATION_TAG, EscalationSettings, Reason, Signals, decide};
use crate::format::{BodyFormat, to_intercom_html};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::idempotency::{bind_key, lease_for, run_once};
use crate::intercom::models::{Attributes, Contact, Tag, Team};
use crate::intercom::{AdminMessage, Assignee, ContactKey, MessageKind};
use crate::store::{Store, StoreError};
use crate::validate::{contact_key, message_body};

pub use crate::escalation::note::Role;

/// Contact attribute holding the idempotency marker (a text data attribute in Intercom).
pub const MARKER_ATTRIBUTE: &str = "ai_escalation";
/// Contact attributes updated on every escalation, as in the product's documented example.
pub const COUNT_ATTRIBUTE: &str = "escalation_count";
pub const LAST_SESSION_ATTRIBUTE: &str = "last_ai_session";
/// A pending marker older than this is from an attempt that died (functions time out well before).
pub const PENDING_TTL_SECS: i64 = 120;

const MAX_TRANSCRIPT_LINES: usize = 100;
const MAX_SESSION_ID_CHARS: usize = 128;
/// What `session_id` accepts, for the published schema.
#[cfg(feature = "schema")]
const SESSION_ID_PATTERN: &str = "^[A-Za-z0-9_.:@-]{1,128}$";
/// Where an agent's idempotency key is bound to the session it names.
const KEY_SCOPE: &str = "escalate-key";

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranscriptLine {
    pub role: Role,
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub text: String,
    /// When it was said (any text, for example an RFC 3339 time); shown as given.
    #[serde(default)]
    pub at: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = customer_unless_dry_run))]
pub struct EscalateRequest {
    /// The agent's conversation/session id: one escalation per session, however often it is retried.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = SESSION_ID_PATTERN)))]
    pub session_id: String,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(email, length(max = crate::validate::MAX_EMAIL_BYTES), regex(pattern = crate::validate::schema::EMAIL)))]
    pub user_email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_USER_ID_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub user_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::CONTACT_ID)))]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
    /// The AI's confidence in its answer, 0 to 1.
    #[cfg_attr(feature = "schema", schemars(range(min = 0.0, max = 1.0)))]
    pub confidence: f64,
    #[serde(default)]
    pub category: Option<String>,
    /// The customer's latest message: it opens the Intercom conversation.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_MESSAGE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub last_message: String,
    #[serde(default)]
    pub transcript: Vec<TranscriptLine>,
    #[serde(default)]
    pub human_requested: bool,
    /// Decide only: no Intercom call at all.
    #[serde(default)]
    pub dry_run: bool,
}

/// The customer is needed to escalate; a dry run only decides and needs none.
#[cfg(feature = "schema")]
fn customer_unless_dry_run(schema: &mut schemars::Schema) {
    crate::validate::schema::customer_key(schema);
    if let Some(branches) = schema.get_mut("anyOf").and_then(serde_json::Value::as_array_mut) {
        branches.push(serde_json::json!({"required": ["dryRun"], "properties": {"dryRun": {"const": true}}}));
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct EscalateResponse {
    pub escalated: bool,
    pub dry_run: bool,
    /// `low_confidence`, `human_requested`, `sensitive_category:<name>`.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub reasons: Vec<Reason>,
    pub conversation_id: Option<String>,
    pub contact_id: Option<String>,
    pub assignee: Option<TeamAssignee>,
    /// True when this session had already escalated: the first conversation is returned, nothing is written.
    pub already_escalated: bool,
    /// Whether a teammate who could take the conversation is not in away mode: the routed team's members other
    /// than the AI, or every teammate with an inbox seat when nothing is routed. Away mode is all Intercom shows:
    /// not away is not "online". Null when not escalated or when the admins could not be read.
    #[serde(default)]
    pub humans_available: Option<bool>,
    /// True when `ESCALATION_AWAY_REPLY` was posted to the customer because nobody is available.
    #[serde(default)]
    pub away_reply_posted: bool,
    /// Steps that failed after the conversation was opened (the hand-off still happened).
    pub failures: Vec<StepFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TeamAssignee {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepFailure {
    /// `note`, `tags`, `assign`, `attributes`, `routing`, `availability` or `away_reply`.
    pub step: String,
    pub message: String,
}

impl StepFailure {
    fn new(step: &'static str, message: impl std::fmt::Display) -> Self {
        StepFailure { step: step.to_owned(), message: message.to_string() }
    }
}

/// Decides and, when the rules say so (and it is not a dry run), hands the customer over — once per session.
///
/// The session is claimed in the store first (one conditional write, before anything is sent to Intercom): a
/// concurrent duplicate gets 409 `idempotency_key_in_use` with `retryAfterSeconds`, a later one the first answer
/// with `alreadyEscalated: true`. `idempotency_key`, when the agent gave one, may name only this session.
pub async fn escalate<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    settings: &EscalationSettings,
    request: EscalateRequest,
    idempotency_key: Option<String>,
) -> Result<EscalateResponse, ActionError> {
    let session_id = session_id(&request.session_id)?;
    let last_message = message_body("lastMessage", &request.last_message)?;
    let decision = decision(settings, &request, &last_message)?;
    let customer = contact_key(request.contact_id.clone(), request.user_id.clone(), request.user_email.clone());
    if request.dry_run || !decision.escalate {
        // Say what would happen; a missing customer is only an error when it matters.
        if !request.dry_run {
            tracing::info!(session_id, "no escalation needed");
        }
        return Ok(not_escalated(decision.escalate && request.dry_run, request.dry_run, decision.reasons));
    }
    let escalation = Escalation {
        customer: customer?,
        transcript: transcript(&request.transcript)?,
        session_id,
        last_message,
        decision,
        request,
    };
    if let Some(given) = idempotency_key {
        bind_key(store, KEY_SCOPE, &given, &escalation.session_id).await?;
    }
    once_per_session(helpdesk, store, settings, &escalation).await
}

/// A request the rules escalate, validated.
struct Escalation {
    request: EscalateRequest,
    session_id: String,
    last_message: String,
    customer: ContactKey,
    transcript: Vec<TranscriptLine>,
    decision: Decision,
}

/// What the rules say about the request.
fn decision(
    settings: &EscalationSettings,
    request: &EscalateRequest,
    last_message: &str,
) -> Result<Decision, ActionError> {
    let signals = Signals {
        confidence: request.confidence,
        category: request.category.as_deref(),
        last_message,
        human_requested: request.human_requested,
    };
    decide(&settings.policy, &signals).map_err(|e| ActionError::bad_request("confidence", e.to_string()))
}

/// The hand-off, at most once per session ([`run_once`]); a replay says `alreadyEscalated` and reports no failures.
async fn once_per_session<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    settings: &EscalationSettings,
    escalation: &Escalation,
) -> Result<EscalateResponse, ActionError> {
    let session_id = escalation.session_id.as_str();
    let record = format!("escalate#{session_id}");
    let lease = lease_for(deadline::remaining());
    // The session is the fingerprint: a retry with a longer transcript is the same escalation.
    let outcome = run_once(store, &record, session_id, lease, |_| async {
        let response = hand_off(helpdesk, store, settings, escalation).await?;
        crate::http::to_json(response)
    })
    .await?;
    let mut response: EscalateResponse = serde_json::from_value(outcome.response)
        .map_err(|_| StoreError::Corrupt { reason: "a stored escalation answer is unreadable".into() })?;
    if outcome.replayed {
        tracing::info!(session_id, conversation_id = ?response.conversation_id, "session already escalated");
        response.already_escalated = true;
        response.failures.clear();
    }
    Ok(response)
}

fn not_escalated(escalated: bool, dry_run: bool, reasons: Vec<Reason>) -> EscalateResponse {
    EscalateResponse {
        escalated,
        dry_run,
        reasons,
        conversation_id: None,
        contact_id: None,
        assignee: None,
        already_escalated: false,
        humans_available: None,
        away_reply_posted: false,
        failures: Vec::new(),
    }
}

/// The hand-off itself, run once per session: [`gather`], [`open`], [`annotate`].
async fn hand_off<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    settings: &EscalationSettings,
    escalation: &Escalation,
) -> Result<EscalateResponse, ActionError> {
    let gathered = gather(helpdesk, settings, escalation).await?;
    if let Some(earlier) = escalated_by_the_previous_release(&gathered.contact, escalation) {
        return Ok(earlier);
    }
    let conversation_id = open(helpdesk, store, &gathered.contact, escalation).await?;
    let humans_available = gathered.humans_available;
    let contact_id = gathered.contact.id.clone();
    let annotated = annotate(helpdesk, settings, escalation, gathered, &conversation_id).await;
    if !annotated.failures.is_empty() {
        let failed_steps: Vec<&str> = annotated.failures.iter().map(|f| f.step.as_str()).collect();
        tracing::warn!(session_id = escalation.session_id, %conversation_id, ?failed_steps, "escalation partly failed");
    }
    Ok(EscalateResponse {
        escalated: true,
        dry_run: false,
        reasons: escalation.decision.reasons.clone(),
        conversation_id: Some(conversation_id),
        contact_id: Some(contact_id),
        assignee: annotated.assignee,
        already_escalated: false,
        humans_available,
        away_reply_posted: annotated.away_reply_posted,
        failures: annotated.failures,
    })
}

/// What round 1 found: who, which tags, which team, as whom, and whether anyone could take it.
struct Gathered {
    contact: Contact,
    admin_id: String,
    tags: Vec<Tag>,
    team: Option<Team>,
    humans_available: Option<bool>,
    /// Round 1's steps that failed without stopping the hand-off (tags, routing, availability).
    failures: Vec<StepFailure>,
}

/// Round 1, all at once: the contact (found or created), the tags, the routed team, the acting admin, the admins.
async fn gather<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    settings: &EscalationSettings,
    escalation: &Escalation,
) -> Result<Gathered, ActionError> {
    let request = &escalation.request;
    let user_name = request.user_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    let team_name = settings.routing.team_for(request.category.as_deref());
    let mut tag_names = vec![ESCALATION_TAG.to_owned()];
    tag_names.extend(escalation.decision.reasons.iter().map(Reason::tag_name));
    let (contact, tags, team, admin_id, admins) = tokio::join!(
        helpdesk.find_or_create_contact(&escalation.customer, user_name, None),
        helpdesk.ensure_tags(&tag_names),
        async {
            match team_name {
                Some(name) => helpdesk.find_team(name).await,
                None => Ok(None),
            }
        },
        helpdesk.admin_id(),
        helpdesk.list_admins(),
    );
    let contact = contact?.contact;
    let admin_id = admin_id?;
    let mut failures = Vec::new();
    let tags = tags.unwrap_or_else(|e| {
        failures.push(StepFailure::new("tags", e));
        Vec::new()
    });
    let team = match (team, team_name) {
        (Ok(Some(team)), _) => Some(team),
        (Ok(None), Some(name)) => {
            failures.push(StepFailure::new(
                "routing",
                format!("no Intercom team is named {name:?} (ESCALATION_ROUTING); Intercom's assignment rules apply"),
            ));
            None
        }
        (Ok(None), None) => None,
        (Err(e), _) => {
            failures.push(StepFailure::new("routing", e));
            None
        }
    };
    let humans_available = match admins {
        Ok(admins) => Some(humans_available(&admins, team.as_ref().map(|t| t.id.as_str()), &admin_id)),
        Err(e) => {
            failures.push(StepFailure::new("availability", e));
            None
        }
    };
    Ok(Gathered { contact, admin_id, tags, team, humans_available, failures })
}

/// The previous release kept its record on the contact: honoured, so a retry across the upgrade opens nothing.
fn escalated_by_the_previous_release(contact: &Contact, escalation: &Escalation) -> Option<EscalateResponse> {
    let Some(Marker::Done { session, conversation_id }) =
        Marker::parse(contact.custom_attributes.get(MARKER_ATTRIBUTE))
    else {
        return None;
    };
    if session != escalation.session_id {
        return None;
    }
    let session_id = escalation.session_id.as_str();
    tracing::info!(session_id, %conversation_id, "escalated by the previous release; returning its conversation");
    Some(EscalateResponse {
        escalated: true,
        dry_run: false,
        reasons: escalation.decision.reasons.clone(),
        conversation_id: Some(conversation_id),
        contact_id: Some(contact.id.clone()),
        assignee: None,
        already_escalated: true,
        humans_available: None,
        away_reply_posted: false,
        failures: Vec::new(),
    })
}

/// Round 2: the conversation, opened as the customer with the last message (remembered first, for the webhook's
/// loop guard, and remembered after, for searches that lag).
async fn open<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    contact: &Contact,
    escalation: &Escalation,
) -> Result<String, ActionError> {
    let last_message = escalation.last_message.as_str();
    crate::store::written_as_customer::remember_customer_message(store, &contact.id, last_message).await?;
    let conversation_id = helpdesk.create_conversation(contact, last_message).await?;
    crate::store::recently_opened::note_opened(store, &contact.id, &conversation_id).await;
    let reasons = &escalation.decision.reasons;
    tracing::info!(session_id = escalation.session_id, %conversation_id, ?reasons, "escalation conversation opened");
    Ok(conversation_id)
}

/// What round 3 did: the team it assigned, whether the away reply went out, and every step that failed.
struct Annotated {
    assignee: Option<TeamAssignee>,
    away_reply_posted: bool,
    failures: Vec<StepFailure>,
}

/// Round 3, everything the human needs at once: the note, the tags, the assignment, the contact's attributes, and
/// the away reply when nobody could take it. A failed step is reported, not retried: the hand-off happened.
async fn annotate<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    settings: &EscalationSettings,
    escalation: &Escalation,
    gathered: Gathered,
    conversation_id: &str,
) -> Annotated {
    let Gathered { contact, admin_id, tags, team, humans_available, mut failures } = gathered;
    let request = &escalation.request;
    let lines: Vec<NoteLine> = escalation
        .transcript
        .iter()
        .map(|line| NoteLine { role: line.role, at: line.at.as_ref(), text: &line.text })
        .collect();
    let decision = &escalation.decision;
    let note = note_html(&escalation.session_id, decision, request.confidence, request.category.as_deref(), &lines);
    // Everything the customer wrote is escaped in `note_html`; the allow-list is a second guard.
    let note = AdminMessage::html(to_intercom_html(&note, BodyFormat::Html));
    let done = attributes([
        (COUNT_ATTRIBUTE, escalation_count(&contact).saturating_add(1).into()),
        (LAST_SESSION_ATTRIBUTE, today().into()),
    ]);
    let away_reply = settings.away_reply.as_deref().filter(|_| humans_available == Some(false));
    let (noted, tagged, assigned, updated, away_replied) = tokio::join!(
        helpdesk.reply(conversation_id, MessageKind::Note, &admin_id, &note),
        join_all(tags.iter().map(|tag| helpdesk.tag_conversation(conversation_id, &admin_id, tag))),
        assign_to_team(helpdesk, conversation_id, &admin_id, team.as_ref()),
        helpdesk.update_contact_attributes(&contact.id, &done),
        post_away_reply(helpdesk, conversation_id, &admin_id, away_reply),
    );
    if let Err(e) = noted {
        failures.push(StepFailure::new("note", e));
    }
    for (tag, result) in tags.iter().zip(tagged) {
        if let Err(e) = result {
            failures.push(StepFailure::new("tags", format!("{}: {e}", tag.name)));
        }
    }
    let assignee = match (assigned, team) {
        (Ok(true), Some(team)) => Some(TeamAssignee { kind: "team".into(), id: team.id, name: team.name }),
        (Err(e), _) => {
            failures.push(StepFailure::new("assign", e));
            None
        }
        _ => None,
    };
    if let Err(e) = updated {
        failures.push(StepFailure::new("attributes", e));
    }
    let away_reply_posted = away_replied.unwrap_or_else(|e| {
        failures.push(StepFailure::new("away_reply", e));
        false
    });
    Annotated { assignee, away_reply_posted, failures }
}

/// Assigns the conversation to the routed team, if any; whether it did.
async fn assign_to_team<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    conversation_id: &str,
    admin_id: &str,
    team: Option<&Team>,
) -> Result<bool, crate::intercom::IntercomError> {
    let Some(team) = team else { return Ok(false) };
    helpdesk.assign_conversation(conversation_id, admin_id, &Assignee::Team(team.id.clone())).await?;
    Ok(true)
}

/// Posts `ESCALATION_AWAY_REPLY` to the customer as the AI, when it is due; whether it did.
async fn post_away_reply<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    conversation_id: &str,
    admin_id: &str,
    away_reply: Option<&str>,
) -> Result<bool, crate::intercom::IntercomError> {
    let Some(text) = away_reply else { return Ok(false) };
    let message = AdminMessage::html(to_intercom_html(text, BodyFormat::Text));
    helpdesk.reply(conversation_id, MessageKind::Comment, admin_id, &message).await?;
    Ok(true)
}

/// The idempotency record the previous release kept in the contact's `ai_escalation` attribute. Only read now
/// (for one release), so a retry across the upgrade opens nothing new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// `<session>|pending|<unix time>`: the conversation is being opened.
    Pending { session: String, since: i64 },
    /// `<session>|<conversation id>`: the session's conversation.
    Done { session: String, conversation_id: String },
}

impl Marker {
    /// The marker in a contact attribute's value; `None` for anything else (unset, another format).
    pub fn parse(value: Option<&Value>) -> Option<Marker> {
        let mut fields = value?.as_str()?.split('|');
        let session = fields.next()?.to_owned();
        match (fields.next()?, fields.next()) {
            ("pending", Some(since)) => Some(Marker::Pending { session, since: since.parse().ok()? }),
            (id, None) if !id.is_empty() => Some(Marker::Done { session, conversation_id: id.to_owned() }),
            _ => None,
        }
    }

    /// A pending marker younger than [`PENDING_TTL_SECS`]: an escalation that may still be running.
    pub fn is_fresh_pending(&self) -> bool {
        matches!(self, Marker::Pending { since, .. } if now() - since < PENDING_TTL_SECS)
    }

    #[cfg(test)]
    fn pending(session: &str) -> String {
        format!("{session}|pending|{}", now())
    }

    #[cfg(test)]
    fn done(session: &str, conversation_id: &str) -> String {
        format!("{session}|{conversation_id}")
    }
}

fn session_id(raw: &str) -> Result<String, ActionError> {
    let id = raw.trim();
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_SESSION_ID_CHARS
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c));
    if !ok {
        return Err(ActionError::bad_request(
            "sessionId",
            "sessionId must be 1 to 128 characters: letters, digits and - _ . : @",
        ));
    }
    Ok(id.to_owned())
}

fn transcript(lines: &[TranscriptLine]) -> Result<Vec<TranscriptLine>, ActionError> {
    for (i, line) in lines.iter().enumerate() {
        if line.text.trim().is_empty() {
            return Err(ActionError::bad_request(&format!("transcript[{i}].text"), "transcript lines need text"));
        }
    }
    // Keep the most recent lines: they are what the human needs to pick up.
    let skip = lines.len().saturating_sub(MAX_TRANSCRIPT_LINES);
    Ok(lines[skip..].to_vec())
}

/// The count so far, as anyone may have written it (through Intercom's UI or API): a negative, fractional or
/// unreadable value counts as 0, a huge one stays at `i64::MAX` (the `as` cast saturates).
fn escalation_count(contact: &Contact) -> i64 {
    let count = match contact.custom_attributes.get(COUNT_ATTRIBUTE) {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    count.unwrap_or(0).max(0)
}

fn attributes<const N: usize>(pairs: [(&str, Value); N]) -> Attributes {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Today's UTC date as `YYYY-MM-DD`, the format of `last_ai_session`.
fn today() -> String {
    let date = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        let done = Value::from(Marker::done("s-1", "42"));
        assert_eq!(
            Marker::parse(Some(&done)),
            Some(Marker::Done { session: "s-1".into(), conversation_id: "42".into() })
        );
        let pending = Value::from(Marker::pending("s-1"));
        assert!(matches!(Marker::parse(Some(&pending)), Some(Marker::Pending { session, .. }) if session == "s-1"));
        assert_eq!(Marker::parse(Some(&Value::from("garbage"))), None);
        assert_eq!(Marker::parse(Some(&Value::from(3))), None);
        assert_eq!(Marker::parse(None), None);
    }

    #[test]
    fn session_ids_cannot_break_the_marker() {
        assert!(session_id("chat-2026.11.24:abc@web").is_ok());
        assert!(session_id("a|b").is_err());
        assert!(session_id(" ").is_err());
        assert!(session_id(&"x".repeat(129)).is_err());
    }

    #[test]
    fn escalation_count_reads_numbers_and_numeric_text() {
        let mut c = crate::intercom::models::Contact {
            id: "c".into(),
            role: None,
            email: None,
            name: None,
            external_id: None,
            custom_attributes: Attributes::new(),
        };
        assert_eq!(escalation_count(&c), 0);
        c.custom_attributes.insert(COUNT_ATTRIBUTE.into(), 2.into());
        assert_eq!(escalation_count(&c), 2);
        c.custom_attributes.insert(COUNT_ATTRIBUTE.into(), "5".into());
        assert_eq!(escalation_count(&c), 5);
        for (hostile, read) in [
            (serde_json::json!(i64::MAX), i64::MAX),
            (serde_json::json!(u64::MAX), i64::MAX),
            (serde_json::json!(1e300), i64::MAX),
            (serde_json::json!(-3), 0),
            (serde_json::json!(2.7), 2),
            (serde_json::json!("99999999999999999999999"), 0),
            (serde_json::json!(true), 0),
        ] {
            c.custom_attributes.insert(COUNT_ATTRIBUTE.into(), hostile.clone());
            assert_eq!(escalation_count(&c), read, "{hostile}");
            assert!(escalation_count(&c).checked_add(0).is_some());
        }
        c.custom_attributes.insert(COUNT_ATTRIBUTE.into(), i64::MAX.into());
        assert_eq!(escalation_count(&c).saturating_add(1), i64::MAX, "the next count does not overflow");
    }

    #[test]
    fn today_is_an_iso_date() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert_eq!(&t[4..5], "-");
    }
}
