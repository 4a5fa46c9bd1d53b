//! The hand-off: decide, then open one Intercom conversation as the customer with everything a human needs.
//!
//! Round trips on the happy path (a known customer): (1) find the contact ‖ ensure the tags ‖ resolve the team
//! and the acting admin (both cached per container) ‖ the admins' away mode (cached 60 s); (2) open the
//! conversation; (3) the internal note ‖ the tags ‖ the assignment ‖ the contact's attributes ‖ the away reply
//! when nobody is available. A customer who is not yet a contact costs one more (search, then create).
//!
//! Exactly once per `sessionId`, across containers and retries: the session is claimed in the [`Store`] (a
//! conditional write) before anything is sent to Intercom, and the first answer is kept for replay (see
//! [`crate::idempotency`]). Intercom itself holds no idempotency record any more; the contact attribute
//! `ai_escalation` written by the previous release is still honoured for one release.

use std::collections::HashMap;

use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::{Decision, EscalationPolicy, PolicyError, Reason, Signals, decide};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::{Attributes, Contact, Tag, Team, Teammate};
use crate::intercom::{AdminMessage, Assignee, MessageKind};
use crate::store::{Expect, KEEP_RECORDS, Store, StoreError};
use crate::validate::{contact_key, message_body};
use crate::{deadline, idempotency};

/// Tag put on every conversation this flow opens (the webhook's loop guard recognises it too).
pub const ESCALATION_TAG: &str = "ai-escalation";
/// Contact attribute holding the idempotency marker (a text data attribute in Intercom).
pub const MARKER_ATTRIBUTE: &str = "ai_escalation";
/// Contact attributes updated on every escalation, as in the product's documented example.
pub const COUNT_ATTRIBUTE: &str = "escalation_count";
pub const LAST_SESSION_ATTRIBUTE: &str = "last_ai_session";
/// A pending marker older than this is from an attempt that died (functions time out well before).
pub const PENDING_TTL_SECS: i64 = 120;

const MAX_TRANSCRIPT_LINES: usize = 100;
const MAX_LINE_CHARS: usize = 2_000;
const MAX_SESSION_ID_CHARS: usize = 128;
/// What `session_id` accepts, for the published schema.
#[cfg(feature = "schema")]
const SESSION_ID_PATTERN: &str = "^[A-Za-z0-9_.:@-]{1,128}$";
/// The text posted to the customer, as the AI, when nobody who could take the hand-off is available.
pub const AWAY_REPLY_VAR: &str = "ESCALATION_AWAY_REPLY";

/// Category → team name, from `ESCALATION_ROUTING` (`billing=Billing Team,legal=Legal,*=Support`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    by_category: HashMap<String, String>,
    fallback: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RoutingError {
    #[error(
        "ESCALATION_ROUTING entry {entry:?} is not category=Team Name (example: billing=Billing Team,legal=Legal,*=Support)"
    )]
    Malformed { entry: String },
}

impl Routing {
    pub fn parse(raw: Option<&str>) -> Result<Self, RoutingError> {
        let mut routing = Routing::default();
        for entry in raw.unwrap_or_default().split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let malformed = || RoutingError::Malformed { entry: entry.to_owned() };
            let (category, team) = entry.split_once('=').ok_or_else(malformed)?;
            let (category, team) = (category.trim(), team.trim());
            if category.is_empty() || team.is_empty() {
                return Err(malformed());
            }
            if category == "*" {
                routing.fallback = Some(team.to_owned());
            } else {
                routing.by_category.insert(super::normalize_category(category), team.to_owned());
            }
        }
        Ok(routing)
    }

    /// The team for this category, else the `*` team, else none (Intercom's own assignment rules apply).
    pub fn team_for(&self, category: Option<&str>) -> Option<&str> {
        category
            .map(super::normalize_category)
            .and_then(|c| self.by_category.get(&c))
            .or(self.fallback.as_ref())
            .map(String::as_str)
    }
}

/// Everything `escalate` reads from the environment, once per container.
#[derive(Debug, Clone, Default)]
pub struct EscalationSettings {
    pub policy: EscalationPolicy,
    pub routing: Routing,
    /// `ESCALATION_AWAY_REPLY`: posted to the customer when `humansAvailable` is false; unset = nothing posted.
    pub away_reply: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Routing(#[from] RoutingError),
    #[error("ESCALATION_AWAY_REPLY must not be empty when set; unset it to post no away reply")]
    EmptyAwayReply,
}

impl EscalationSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        let var = |name: &str| std::env::var(name).ok();
        Ok(EscalationSettings {
            policy: EscalationPolicy::from_settings(
                var(super::THRESHOLD_VAR).as_deref(),
                var(super::CATEGORIES_VAR).as_deref(),
            )?,
            routing: Routing::parse(var("ESCALATION_ROUTING").as_deref())?,
            away_reply: match var(AWAY_REPLY_VAR).map(|text| text.trim().to_owned()) {
                Some(text) if text.is_empty() => return Err(SettingsError::EmptyAwayReply),
                other => other,
            },
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Ai,
}

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
    let decision = decide(
        &settings.policy,
        &Signals {
            confidence: request.confidence,
            category: request.category.as_deref(),
            last_message: &last_message,
            human_requested: request.human_requested,
        },
    )
    .map_err(|e| ActionError::bad_request("confidence", e.to_string()))?;
    let key = contact_key(request.contact_id.clone(), request.user_id.clone(), request.user_email.clone());
    if request.dry_run || !decision.escalate {
        // Say what would happen; a missing customer is only an error when it matters.
        if !request.dry_run {
            tracing::info!(session_id, "no escalation needed");
        }
        return Ok(not_escalated(decision.escalate && request.dry_run, request.dry_run, decision.reasons));
    }
    let key = key?;
    let transcript = transcript(&request.transcript)?;
    if let Some(given) = idempotency_key {
        bind_key_to_session(store, &given, &session_id).await?;
    }

    let record = format!("escalate#{session_id}");
    let lease = idempotency::lease_for(deadline::remaining());
    // The session is the fingerprint: a retry with a longer transcript is the same escalation.
    let outcome = idempotency::run_once(store, &record, &session_id, lease, |_| async {
        let response =
            hand_off(helpdesk, store, settings, &request, &session_id, &last_message, key, &transcript, decision)
                .await?;
        serde_json::to_value(response).map_err(|_| ActionError::Upstream {
            code: "internal",
            message: "the answer could not be built".into(),
            intercom_request_id: None,
        })
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

/// An agent's idempotency key names one session: the same key for another session is a mistake (422).
async fn bind_key_to_session(store: &dyn Store, key: &str, session_id: &str) -> Result<(), ActionError> {
    let record = idempotency::record_key("escalate-key", key);
    if store.put_value(&record, session_id, Expect::Absent, KEEP_RECORDS).await?.is_some() {
        return Ok(());
    }
    match store.get_value(&record).await? {
        Some(bound) if bound.value != session_id => Err(ActionError::IdempotencyKeyReused),
        _ => Ok(()),
    }
}

/// The hand-off itself, run once per session. Round trips for a known customer: (1) find the contact ‖ ensure
/// the tags ‖ resolve the team and the acting admin (both cached per container) ‖ the admins; (2) open the
/// conversation; (3) the internal note ‖ the tags ‖ the assignment ‖ the contact's attributes ‖ the away reply.
#[allow(clippy::too_many_arguments)]
async fn hand_off<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    settings: &EscalationSettings,
    request: &EscalateRequest,
    session_id: &str,
    last_message: &str,
    key: crate::intercom::ContactKey,
    transcript: &[TranscriptLine],
    decision: Decision,
) -> Result<EscalateResponse, ActionError> {
    let user_name = request.user_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    let team_name = settings.routing.team_for(request.category.as_deref()).map(str::to_owned);
    let mut tag_names = vec![ESCALATION_TAG.to_owned()];
    tag_names.extend(decision.reasons.iter().map(Reason::tag_name));

    // Round 1: who, which tags, which team, as whom, and who could take it.
    let (contact, tags, team, admin_id, admins) = tokio::join!(
        helpdesk.find_or_create_contact(&key, user_name, None),
        helpdesk.ensure_tags(&tag_names),
        async {
            match &team_name {
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
    let tags: Vec<Tag> = tags.unwrap_or_else(|e| {
        failures.push(StepFailure::new("tags", e));
        Vec::new()
    });
    let team: Option<Team> = match (team, &team_name) {
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
    let available = match admins {
        Ok(admins) => Some(humans_available(&admins, team.as_ref().map(|t| t.id.as_str()), &admin_id)),
        Err(e) => {
            failures.push(StepFailure::new("availability", e));
            None
        }
    };
    let away_reply = settings.away_reply.as_deref().filter(|_| available == Some(false));

    // The previous release kept its record on the contact: honour it, so a retry across the upgrade opens nothing.
    if let Some(Marker::Done { session, conversation_id }) =
        Marker::parse(contact.custom_attributes.get(MARKER_ATTRIBUTE))
        && session == session_id
    {
        tracing::info!(session_id, %conversation_id, "escalated by the previous release; returning its conversation");
        return Ok(EscalateResponse {
            escalated: true,
            dry_run: false,
            reasons: decision.reasons,
            conversation_id: Some(conversation_id),
            contact_id: Some(contact.id),
            assignee: None,
            already_escalated: true,
            humans_available: None,
            away_reply_posted: false,
            failures: Vec::new(),
        });
    }

    // Round 2: open the conversation as the customer (remembered first, for the webhook's loop guard).
    crate::ours::remember_customer_message(store, &contact.id, last_message).await?;
    let conversation_id = helpdesk.create_conversation(&contact, last_message).await?;
    crate::recent::note_opened(store, &contact.id, &conversation_id).await;
    tracing::info!(session_id, %conversation_id, reasons = ?decision.reasons, "escalation conversation opened");

    // Round 3: everything the human needs, at once.
    let note = note_html(session_id, &decision, request.confidence, request.category.as_deref(), transcript);
    // Everything the customer wrote is escaped in `note_html`; the allow-list is a second guard.
    let note = AdminMessage::html(crate::format::to_intercom_html(&note, crate::format::BodyFormat::Html));
    let done = attributes([
        (COUNT_ATTRIBUTE, escalation_count(&contact).saturating_add(1).into()),
        (LAST_SESSION_ATTRIBUTE, today().into()),
    ]);
    let (noted, tagged, assigned, updated, away_replied) = tokio::join!(
        helpdesk.reply(&conversation_id, MessageKind::Note, &admin_id, &note),
        join_all(tags.iter().map(|tag| helpdesk.tag_conversation(&conversation_id, &admin_id, tag))),
        async {
            match &team {
                Some(team) => helpdesk
                    .assign_conversation(&conversation_id, &admin_id, &Assignee::Team(team.id.clone()))
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
        helpdesk.update_contact_attributes(&contact.id, &done),
        async {
            match away_reply {
                Some(text) => {
                    let message =
                        AdminMessage::html(crate::format::to_intercom_html(text, crate::format::BodyFormat::Text));
                    helpdesk.reply(&conversation_id, MessageKind::Comment, &admin_id, &message).await.map(Some)
                }
                None => Ok(None),
            }
        },
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
        (Ok(Some(_)), Some(team)) => Some(TeamAssignee { kind: "team".into(), id: team.id, name: team.name }),
        (Err(e), _) => {
            failures.push(StepFailure::new("assign", e));
            None
        }
        _ => None,
    };
    if let Err(e) = updated {
        failures.push(StepFailure::new("attributes", e));
    }
    let away_reply_posted = match away_replied {
        Ok(posted) => posted.is_some(),
        Err(e) => {
            failures.push(StepFailure::new("away_reply", e));
            false
        }
    };
    if !failures.is_empty() {
        tracing::warn!(session_id, %conversation_id, failed_steps = ?failures.iter().map(|f| f.step.as_str()).collect::<Vec<_>>(), "escalation partly failed");
    }
    Ok(EscalateResponse {
        escalated: true,
        dry_run: false,
        reasons: decision.reasons,
        conversation_id: Some(conversation_id),
        contact_id: Some(contact.id),
        assignee,
        already_escalated: false,
        humans_available: available,
        away_reply_posted,
        failures,
    })
}

/// Whether a teammate who could pick the conversation up is not in away mode: a member of the routed team, or
/// anyone with an inbox seat when nothing is routed; never the AI's own admin, nor an admin without a seat.
pub fn humans_available(admins: &[Teammate], routed_team_id: Option<&str>, ai_admin_id: &str) -> bool {
    admins
        .iter()
        .filter(|a| a.id != ai_admin_id && a.has_inbox_seat != Some(false))
        .filter(|a| routed_team_id.is_none_or(|team| a.team_ids.iter().any(|id| id == team)))
        .any(|a| !a.away_mode_enabled)
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

/// The internal note: why the AI handed over, and the conversation so far.
fn note_html(
    session_id: &str,
    decision: &Decision,
    confidence: f64,
    category: Option<&str>,
    transcript: &[TranscriptLine],
) -> String {
    let reasons: Vec<String> = decision
        .reasons
        .iter()
        .map(|r| match r {
            Reason::LowConfidence => format!("low confidence ({confidence:.2})"),
            Reason::HumanRequested => "the customer asked for a human".to_owned(),
            Reason::SensitiveCategory(c) => format!("sensitive category: {c}"),
        })
        .collect();
    let mut html = format!(
        "<p><b>AI escalation</b> (session {})</p><p>Reasons: {}</p><p>AI confidence: {confidence:.2}{}</p>",
        escape(session_id),
        escape(&reasons.join("; ")),
        category.map(|c| format!(" · category: {}", escape(c))).unwrap_or_default(),
    );
    if !transcript.is_empty() {
        html.push_str("<p><b>Transcript</b></p>");
        for line in transcript {
            let who = match line.role {
                Role::Customer => "Customer",
                Role::Ai => "AI",
            };
            let at = match &line.at {
                Some(Value::String(s)) => format!(" ({})", escape(s)),
                Some(Value::Number(n)) => format!(" ({n})"),
                _ => String::new(),
            };
            let text: String = line.text.trim().chars().take(MAX_LINE_CHARS).collect();
            html.push_str(&format!("<p>{who}{at}: {}</p>", escape(&text)));
        }
    }
    html
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
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
    fn routing_matches_normalized_categories_with_a_fallback() {
        let r = Routing::parse(Some(" billing=Billing Team, legal = Legal ,*=Support,Account-Deletion=Trust")).unwrap();
        assert_eq!(r.team_for(Some("Billing")), Some("Billing Team"));
        assert_eq!(r.team_for(Some("account deletion")), Some("Trust"));
        assert_eq!(r.team_for(Some("shipping")), Some("Support"));
        assert_eq!(r.team_for(None), Some("Support"));
        assert_eq!(Routing::parse(None).unwrap().team_for(Some("billing")), None);
        assert!(Routing::parse(Some("billing")).is_err());
        assert!(Routing::parse(Some("=Team")).is_err());
    }

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
    fn the_note_escapes_what_the_customer_wrote() {
        let decision = Decision {
            escalate: true,
            reasons: vec![Reason::LowConfidence, Reason::SensitiveCategory("billing".into())],
        };
        let lines = vec![TranscriptLine {
            role: Role::Customer,
            text: "<script>x</script> & co".into(),
            at: Some("10:00".into()),
        }];
        let html = note_html("s1", &decision, 0.3, Some("billing"), &lines);
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt; &amp; co"));
        assert!(html.contains("low confidence (0.30); sensitive category: billing"));
        assert!(html.contains("Customer (10:00): "));
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
    fn availability_counts_the_routed_teams_members_other_than_the_ai() {
        let admin = |id: &str, away: bool, seat: Option<bool>, teams: &[&str]| Teammate {
            id: id.into(),
            name: None,
            away_mode_enabled: away,
            has_inbox_seat: seat,
            team_ids: teams.iter().map(|t| t.to_string()).collect(),
        };
        let ai = admin("1", false, Some(true), &["10", "20"]);
        let grace = admin("2", false, Some(true), &["10"]);
        let away = admin("3", true, Some(true), &["20"]);
        let seatless = admin("4", false, Some(false), &["20"]);
        let admins = [ai.clone(), grace.clone(), away.clone(), seatless.clone()];
        assert!(humans_available(&admins, Some("10"), "1"), "Grace is in team 10 and not away");
        assert!(!humans_available(&admins, Some("20"), "1"), "only the AI, an away admin and a seatless one");
        assert!(!humans_available(&admins, Some("30"), "1"), "an empty team");
        assert!(humans_available(&admins, None, "1"), "nothing routed: anyone with a seat");
        assert!(!humans_available(&[ai, away, seatless], None, "1"));
        assert!(humans_available(&[admin("5", false, None, &[])], None, "1"), "a seat Intercom does not show counts");
    }

    #[test]
    fn today_is_an_iso_date() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert_eq!(&t[4..5], "-");
    }
}
