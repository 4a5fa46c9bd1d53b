//! The bodies of the fuzz targets (`fuzz/`, `scripts/fuzz.sh`), here so that `cargo fuzz` and the stable replay test
//! (`shared/tests/fuzz_corpus.rs`, run by `cargo test`) exercise exactly the same code.
//!
//! Each function takes the fuzzer's bytes, feeds them to one parser of outside input through the entry point
//! production uses, and panics when a property that must hold for every input does not (a plain panic in the parser
//! is a finding too). Not an API: the names and input layouts may change with the targets.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::actions::Marker;
use crate::auth::AgentGuard;
use crate::escalation::EscalationSettings;
use crate::escalation::human_request::asks_for_human;
use crate::format::{BodyFormat, comparable_text, text::html_to_text, to_customer_text, to_intercom_html};
use crate::handoff::{Commands, HandoffSettings, OwnershipRule};
use crate::helpdesk::Helpdesk;
use crate::intercom::models::{Attributes, Contact, Conversation as FullConversation, Tag, Team, Teammate};
use crate::intercom::office_hours::{OfficeHoursException, OfficeHoursSchedule};
use crate::intercom::team_metrics::{TeamMetric, TeamMetricsError};
use crate::intercom::{
    AdminMessage, ArticleQuery, ArticleSearch, Assignee, Company, ContactKey, ContactMatches, ContentHit,
    ConversationPage, ConversationQuery, IntercomError, InternalArticle, MessageKind, NewTicket, ResolvedContact,
    StateChange, Ticket, TicketConversion, TicketStateDetails, TicketType, TicketUpdate,
};
use crate::store::Claim;
use crate::store::memory::MemoryStore;
use crate::webhook::{
    HandoffState, Route, RoutePolicy, SignatureError, parse_notification, route, sign_intercom, verify_signature,
};

// ---------------------------------------------------------------------------------------------------------------
// webhook: the X-Hub-Signature check and the notification envelope, as `intercom-webhook` and `relay-to-agent` read
// them.
// ---------------------------------------------------------------------------------------------------------------

/// The client secret deliveries are checked against.
const WEBHOOK_SECRET: &[u8] = b"fuzz-client-secret";
/// An input starting with this line gives the header's value (the rest of the line); the rest is the body.
pub const SIGNATURE_LINE: &[u8] = b"X-Hub-Signature: ";

/// Input: an optional `X-Hub-Signature: <value>\n` line, then the raw body.
///
/// Properties: a signature is accepted only when it is the HMAC of these very bytes (any case, surrounding space);
/// the signature Intercom would send is always accepted and another secret's never; a refused envelope's message is
/// short (it never quotes the body); a relayed event serialises and names the conversation the item names.
pub fn webhook(data: &[u8]) {
    let (header, body) = match data.strip_prefix(SIGNATURE_LINE) {
        Some(rest) => {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            (std::str::from_utf8(&rest[..end]).ok(), rest.get(end + 1..).unwrap_or_default())
        }
        None => (None, data),
    };

    let genuine = sign_intercom(WEBHOOK_SECRET, body);
    if verify_signature(WEBHOOK_SECRET, body, header).is_ok() {
        let given = header.map(str::trim).unwrap_or_default();
        assert!(given.eq_ignore_ascii_case(&genuine), "accepted a signature that is not the body's HMAC: {given:?}");
    }
    assert_eq!(verify_signature(WEBHOOK_SECRET, body, Some(&genuine)), Ok(()), "refused the genuine signature");
    let forged = sign_intercom(b"another-secret", body);
    assert_eq!(verify_signature(WEBHOOK_SECRET, body, Some(&forged)), Err(SignatureError::Mismatch));

    let notification = match parse_notification(body) {
        Ok(notification) => notification,
        Err(e) => {
            let message = e.to_string();
            assert!(message.len() <= 200, "a parse error this long may quote the body: {message:?}");
            return;
        }
    };
    let conversation = notification.conversation();
    match route(&notification, &RoutePolicy::default()) {
        Ok(Route::Relay(event)) => {
            let conversation = conversation.expect("a relayed delivery has a readable conversation");
            assert_eq!(event.conversation.id, conversation.id);
            serde_json::to_vec(&event).expect("a relay event serialises");
        }
        Ok(Route::Ping | Route::Ignore(_)) => {}
        Err(e) => assert!(e.to_string().len() <= 200, "a parse error this long may quote the body: {e}"),
    }

    // What relaying (webhook/relay.rs) and the hand-off rule read: the item as the REST API's conversation, its notes' commands.
    let Some(item) = notification.item() else { return };
    let Ok(full) = serde_json::from_value::<FullConversation>(item.clone()) else { return };
    let rule = OwnershipRule::new("991267", vec!["5017691".into()], Commands::default());
    let _ = rule.decide_whole(&full);
    let _ = rule.latest_command(&full);
    for part in &full.conversation_parts.conversation_parts {
        let _ = rule.command_in(part);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// agent_request: the JSON bodies of the agent actions, through the handlers' own entry points.
// ---------------------------------------------------------------------------------------------------------------

/// The actions, in the order the first input byte picks them (modulo their number).
pub use crate::routes::AGENT_ACTIONS;

/// The admin id the stub helpdesk answers `/me` with.
const AI_ADMIN_ID: &str = "991267";

/// Input: one byte choosing the action ([`AGENT_ACTIONS`]), then the request body as the function URL receives it.
///
/// Runs the action's handler wiring (`serve`/`serve_write`/`serve_keyed`, with the store and the action function)
/// against a helpdesk that answers reads with an empty conversation and records what reaches it. With the `schema`
/// feature the same arguments also go through the MCP tool dispatch.
///
/// Properties: every answer is JSON with a known status, errors carry a `code`; what reaches Intercom is validated
/// (numeric conversation and admin ids) and every HTML body is on the allow-list ([`check_intercom_html`]).
pub fn agent_request(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let action = AGENT_ACTIONS[usize::from(selector) % AGENT_ACTIONS.len()];
    let response = block_on(call_action(action, StubHelpdesk, MemoryStore::new(), post(body)));
    check_action_response(action, &response);

    #[cfg(feature = "schema")]
    if let Ok(arguments) = serde_json::from_slice::<Value>(body) {
        let tool = crate::mcp::Tool::from_name(&action.replace('-', "_")).expect("every action is an MCP tool");
        let (helpdesk, store) = (StubHelpdesk, MemoryStore::new());
        let settings = EscalationSettings::default();
        let handoff = HandoffSettings::default();
        let outcome =
            block_on(crate::mcp::call_tool(&helpdesk, &store, &settings, &handoff, tool, Some(arguments.clone())));
        let result = crate::mcp::tool_result(&outcome);
        assert_eq!(result["isError"], Value::Bool(outcome.is_err()), "{action}: {result}");
        if let Err(e) = &outcome {
            assert!(e.to_json()["code"].is_string(), "{action}: an MCP refusal without a code: {result}");
        }
    }
}

/// A POST as the function URL delivers it.
fn post(body: &[u8]) -> Request {
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://fuzz.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a fixed method and URI make a valid request")
}

/// The handler of `action`: the same wiring as `functions/<action>` ([`crate::routes`]).
async fn call_action(
    action: &'static str,
    helpdesk: StubHelpdesk,
    store: MemoryStore,
    request: Request,
) -> Response<Body> {
    let workspace = crate::workspace::Workspace::new(
        None,
        std::sync::Arc::new(helpdesk),
        std::sync::Arc::new(crate::secrets::SecretStore::fixed(Default::default())),
        std::sync::Arc::new(store),
        HandoffSettings::default(),
        EscalationSettings::default(),
        None,
    );
    let workspaces = crate::workspace::Workspaces::of(workspace, AgentGuard::iam());
    crate::routes::route(action, &workspaces, request)
        .await
        .unwrap_or_else(|| unreachable!("{action} is not in AGENT_ACTIONS"))
}

fn check_action_response(action: &str, response: &Response<Body>) {
    let status = response.status().as_u16();
    let body: Value = serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|e| panic!("{action}: HTTP {status} answered with a body that is not JSON ({e})"));
    assert!(
        matches!(status, 200 | 400 | 404 | 405 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504),
        "{action}: unexpected HTTP {status}: {body}"
    );
    if status != 200 {
        assert!(body["error"]["code"].is_string(), "{action}: HTTP {status} without error.code: {body}");
        assert!(body["error"]["message"].is_string(), "{action}: HTTP {status} without error.message: {body}");
    }
}

/// Runs `future` on this thread's runtime (the actions use tokio's timers and task-locals).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a current-thread runtime");
    }
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// A helpdesk with nothing in it but an admin and whatever conversation is asked for (open, unassigned, empty), that
/// checks what the actions send it. Other writes answer "not found", so an action stops after its first write.
struct StubHelpdesk;

fn not_found() -> IntercomError {
    IntercomError::Api {
        status: 404,
        code: "not_found".into(),
        message: "Resource Not Found".into(),
        field: None,
        request_id: None,
    }
}

fn assert_intercom_id(what: &str, id: &str) {
    assert!(
        !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()),
        "an unvalidated {what} reached Intercom: {id:?}"
    );
}

fn empty_conversation(id: &str) -> Result<FullConversation, IntercomError> {
    serde_json::from_value(json!({"id": id, "state": "open", "open": true}))
        .map_err(|e| IntercomError::Decode { operation: "fuzz conversation", reason: e.to_string() })
}

#[async_trait]
impl Helpdesk for StubHelpdesk {
    async fn admin_id(&self) -> Result<String, IntercomError> {
        Ok(AI_ADMIN_ID.into())
    }
    async fn find_contact(&self, _key: &ContactKey) -> Result<Option<Contact>, IntercomError> {
        Ok(None)
    }
    async fn find_or_create_contact(
        &self,
        _key: &ContactKey,
        _name: Option<String>,
        _attributes: Option<Attributes>,
    ) -> Result<ResolvedContact, IntercomError> {
        Err(not_found())
    }
    async fn update_contact_attributes(
        &self,
        _contact_id: &str,
        _attributes: &Attributes,
    ) -> Result<Contact, IntercomError> {
        Err(not_found())
    }
    async fn create_conversation(&self, _contact: &Contact, _body: &str) -> Result<String, IntercomError> {
        Err(not_found())
    }
    async fn reply(
        &self,
        conversation_id: &str,
        kind: MessageKind,
        admin_id: &str,
        message: &AdminMessage,
    ) -> Result<FullConversation, IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        assert_intercom_id("admin id", admin_id);
        if let Some(body) = &message.body
            && let Err(problem) = check_intercom_html(body)
        {
            panic!("a {kind:?} body outside the allow-list reached Intercom ({problem}): {body:?}");
        }
        for url in &message.attachment_urls {
            assert!(url.starts_with("https://"), "an attachment URL that is not https reached Intercom: {url:?}");
        }
        empty_conversation(conversation_id)
    }
    async fn get_conversation(&self, conversation_id: &str) -> Result<FullConversation, IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        empty_conversation(conversation_id)
    }
    async fn assign_conversation(
        &self,
        conversation_id: &str,
        admin_id: &str,
        _assignee: &Assignee,
    ) -> Result<FullConversation, IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        assert_intercom_id("admin id", admin_id);
        Err(not_found())
    }
    async fn change_state(
        &self,
        conversation_id: &str,
        admin_id: &str,
        _change: StateChange,
    ) -> Result<FullConversation, IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        assert_intercom_id("admin id", admin_id);
        Err(not_found())
    }
    async fn ensure_tags(&self, names: &[String]) -> Result<Vec<Tag>, IntercomError> {
        assert!(names.iter().all(|n| !n.trim().is_empty()), "an empty tag name reached Intercom: {names:?}");
        Err(not_found())
    }
    async fn find_tag(&self, _name: &str) -> Result<Option<Tag>, IntercomError> {
        Ok(None)
    }
    async fn tag_conversation(&self, conversation_id: &str, admin_id: &str, _tag: &Tag) -> Result<(), IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        assert_intercom_id("admin id", admin_id);
        Err(not_found())
    }
    async fn untag_conversation(&self, conversation_id: &str, admin_id: &str, _tag: &Tag) -> Result<(), IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        assert_intercom_id("admin id", admin_id);
        Err(not_found())
    }
    async fn find_team(&self, _name: &str) -> Result<Option<Team>, IntercomError> {
        Ok(None)
    }
    async fn list_admins(&self) -> Result<Vec<Teammate>, IntercomError> {
        Ok(Vec::new())
    }
    async fn update_conversation_attributes(
        &self,
        conversation_id: &str,
        _attributes: &Attributes,
    ) -> Result<(), IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        Err(not_found())
    }
    async fn search_conversations(&self, _query: &ConversationQuery) -> Result<ConversationPage, IntercomError> {
        Err(not_found())
    }
    async fn reply_as_contact(
        &self,
        conversation_id: &str,
        _contact: &Contact,
        _body: &str,
    ) -> Result<FullConversation, IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        Err(not_found())
    }
    async fn me(&self) -> Result<crate::intercom::setup::Me, IntercomError> {
        Err(not_found())
    }
    async fn contact_data_attributes(&self) -> Result<Vec<crate::intercom::setup::DataAttribute>, IntercomError> {
        Ok(Vec::new())
    }
    async fn create_contact_attribute(
        &self,
        _attribute: &crate::intercom::setup::NewAttribute,
    ) -> Result<crate::intercom::setup::DataAttribute, IntercomError> {
        Err(not_found())
    }
    async fn probe(
        &self,
        _permission: crate::intercom::setup::Permission,
        _admin_id: &str,
    ) -> Result<crate::intercom::setup::Probe, IntercomError> {
        Ok(crate::intercom::setup::Probe::Granted)
    }
    async fn find_contact_profiles(&self, _key: &ContactKey) -> Result<ContactMatches, IntercomError> {
        Ok(ContactMatches::default())
    }
    async fn contact_tags(&self, _contact_id: &str) -> Result<Vec<Tag>, IntercomError> {
        Err(not_found())
    }
    async fn contact_companies(&self, _contact_id: &str) -> Result<Vec<Company>, IntercomError> {
        Err(not_found())
    }
    async fn search_articles(&self, query: &ArticleQuery) -> Result<ArticleSearch, IntercomError> {
        if let Some(id) = &query.help_center_id {
            assert_intercom_id("help center id", id);
        }
        Ok(ArticleSearch::default())
    }
    async fn search_internal_articles(&self, _phrase: &str, _per_page: u32) -> Result<Vec<ContentHit>, IntercomError> {
        Ok(Vec::new())
    }
    async fn get_internal_article(&self, id: &str) -> Result<InternalArticle, IntercomError> {
        assert_intercom_id("internal article id", id);
        Err(not_found())
    }
    async fn list_ticket_types(&self, _max_age: Duration) -> Result<Vec<TicketType>, IntercomError> {
        Ok(Vec::new())
    }
    async fn list_ticket_states(&self, _max_age: Duration) -> Result<Vec<TicketStateDetails>, IntercomError> {
        Ok(Vec::new())
    }
    async fn create_ticket(&self, ticket: &NewTicket) -> Result<Ticket, IntercomError> {
        assert_intercom_id("ticket type id", &ticket.ticket_type_id);
        Err(not_found())
    }
    async fn get_ticket(&self, ticket_id: &str) -> Result<Ticket, IntercomError> {
        assert_intercom_id("ticket id", ticket_id);
        Err(not_found())
    }
    async fn update_ticket(&self, ticket_id: &str, _update: &TicketUpdate) -> Result<Ticket, IntercomError> {
        assert_intercom_id("ticket id", ticket_id);
        Err(not_found())
    }
    async fn convert_to_ticket(
        &self,
        conversation_id: &str,
        conversion: &TicketConversion,
    ) -> Result<Ticket, IntercomError> {
        assert_intercom_id("conversation id", conversation_id);
        assert_intercom_id("ticket type id", &conversion.ticket_type_id);
        Err(not_found())
    }
    // No schedules (every team always open), no metrics: the fuzzed escalation routes and assigns the team.
    async fn office_hours_schedules(&self) -> Result<Vec<OfficeHoursSchedule>, IntercomError> {
        Ok(Vec::new())
    }
    async fn office_hours_exceptions(&self, schedule_id: &str) -> Result<Vec<OfficeHoursException>, IntercomError> {
        assert_intercom_id("office hours schedule id", schedule_id);
        Ok(Vec::new())
    }
    async fn team_metrics(&self, team_id: &str) -> Result<Vec<TeamMetric>, TeamMetricsError> {
        assert_intercom_id("team id", team_id);
        Ok(Vec::new())
    }
    fn intercom_now(&self) -> Option<std::time::SystemTime> {
        None
    }
}

// ---------------------------------------------------------------------------------------------------------------
// html_to_text: Intercom's HTML bodies as get-conversation, the webhook relay and the hand-off commands read them.
// ---------------------------------------------------------------------------------------------------------------

/// Input: any bytes, read as (lossy) UTF-8 HTML.
///
/// Properties: never panics, output linear in the input (no blow-up), no `<`-tag survives as markup-looking text
/// from an element we render (`<p>`, `<br>`), and the comparison form has no runs of whitespace.
pub fn html_to_text_target(data: &[u8]) {
    let html = String::from_utf8_lossy(data);
    let text = html_to_text(&html);
    assert!(text.len() <= 16 * html.len() + 64, "{} bytes of text from {} bytes of HTML", text.len(), html.len());
    assert_eq!(text, text.trim(), "the text is trimmed");
    let comparable = comparable_text(&html);
    assert!(!comparable.contains("  ") && !comparable.contains('\n'), "comparable text keeps runs: {comparable:?}");
    let _ = html_to_text(&text);
    let _ = Commands::default().parse(&html);
}

// ---------------------------------------------------------------------------------------------------------------
// markdown: the allow-list renderer of every body we send (markdown, text and html body formats).
// ---------------------------------------------------------------------------------------------------------------

/// Input: any bytes, read as (lossy) UTF-8, rendered in each [`BodyFormat`].
///
/// Properties ([`check_intercom_html`]): only allow-listed elements come out, with no attribute but a web or mail
/// `href` on `<a>`, so no `<script`, no event handler, no `javascript:` link; every `&` and `<` is ours; the output
/// is linear in the input. The `text` and `html` formats also close every element they open, in order.
pub fn markdown(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    for format in [BodyFormat::Markdown, BodyFormat::Text, BodyFormat::Html] {
        let html = to_intercom_html(&body, format);
        if let Err(problem) = check_intercom_html(&html) {
            panic!("{format} body gave HTML outside the allow-list ({problem}): {html:?}");
        }
        if format != BodyFormat::Markdown
            && let Err(problem) = check_balanced(&html)
        {
            panic!("{format} body gave unbalanced HTML ({problem}): {html:?}");
        }
        assert!(html.len() <= 16 * body.len() + 64, "{format}: {} bytes of HTML from {}", html.len(), body.len());
        let _ = to_customer_text(&body, format);
    }
}

/// The elements [`to_intercom_html`] may write.
const ALLOWED_ELEMENTS: [&str; 15] =
    ["p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li", "code", "pre", "h1", "h2", "h3"];

fn is_allowed_element(name: &str) -> bool {
    ALLOWED_ELEMENTS.contains(&name)
}

/// Checks that `html` is what the allow-list promises: every tag is `<name>` or `</name>` of an allowed element, or
/// `<a href="…">` with an `http:`, `https:` or `mailto:` target free of control characters and quotes; every `&`
/// starts one of the four entities the escaper writes; no stray `>`. `Err` says what is wrong.
pub fn check_intercom_html(html: &str) -> Result<(), String> {
    let mut rest = html;
    while let Some(at) = rest.find(['<', '>', '&']) {
        let tail = &rest[at..];
        if tail.starts_with('>') {
            return Err(format!("a stray '>' at {:?}", snippet(tail)));
        }
        if tail.starts_with('&') {
            let entity = ["&amp;", "&lt;", "&gt;", "&quot;"].into_iter().find(|e| tail.starts_with(e));
            let Some(entity) = entity else { return Err(format!("a bare '&' at {:?}", snippet(tail))) };
            rest = &tail[entity.len()..];
            continue;
        }
        let end = tail.find('>').ok_or_else(|| format!("an unterminated tag at {:?}", snippet(tail)))?;
        let tag = &tail[1..end];
        if let Some(href) = tag.strip_prefix("a href=\"").and_then(|t| t.strip_suffix('"')) {
            check_href(href)?;
        } else {
            let name = tag.strip_prefix('/').unwrap_or(tag);
            if !is_allowed_element(name) || (tag.starts_with('/') && name == "br") || tag == "a" {
                return Err(format!("tag <{tag}> is not on the allow-list"));
            }
        }
        rest = &tail[end + 1..];
    }
    Ok(())
}

fn check_href(escaped: &str) -> Result<(), String> {
    if escaped.contains(['"', '<', '>']) {
        return Err(format!("an href with markup characters: {escaped:?}"));
    }
    let href = escaped.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let lower = href.to_ascii_lowercase();
    let scheme_ok = ["http://", "https://", "mailto:"].iter().any(|s| lower.starts_with(s) && lower.len() > s.len());
    if !scheme_ok || href.chars().any(char::is_control) || href != href.trim() {
        return Err(format!("an href that is not a plain web or mail link: {href:?}"));
    }
    Ok(())
}

/// Checks that every element opened is closed, innermost first (`<br>` is void).
pub fn check_balanced(html: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let tail = &rest[at + 1..];
        let end = tail.find('>').ok_or("an unterminated tag")?;
        let tag = &tail[..end];
        rest = &tail[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(opened) if opened == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else {
            let name = tag.split(' ').next().unwrap_or(tag);
            if name != "br" {
                open.push(name);
            }
        }
    }
    match open.is_empty() {
        true => Ok(()),
        false => Err(format!("left open: {open:?}")),
    }
}

fn snippet(s: &str) -> &str {
    let end = s.char_indices().nth(40).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

// ---------------------------------------------------------------------------------------------------------------
// human_request: the phrase matcher the escalation runs on the customer's last message.
// ---------------------------------------------------------------------------------------------------------------

/// Input: any bytes, read as (lossy) UTF-8, the customer's message.
///
/// Properties: never panics; linear time (the fuzz script runs it with a short `-timeout` and long inputs); ASCII
/// case does not change the answer (the message is lower-cased first).
pub fn human_request(data: &[u8]) {
    let message = String::from_utf8_lossy(data);
    let asks = asks_for_human(&message);
    assert_eq!(asks_for_human(&message.to_ascii_uppercase()), asks, "ASCII case changed the answer");
}

// ---------------------------------------------------------------------------------------------------------------
// idempotency_record: what the store reads back (DynamoDB items, and the values the callers keep in them).
// ---------------------------------------------------------------------------------------------------------------

/// The time records are read at.
const READ_AT: i64 = 1_700_000_000;

/// Input: a record in DynamoDB's JSON form (`{"status": {"S": "completed"}, "expires_at": {"N": "…"}, …}`), as a
/// table anyone with write access could hold it.
///
/// Runs the store's record decoders (a refused claim, a value read) and what the callers make of their strings (a
/// stored answer replayed as JSON, a hand-off state, the recent-conversations list, the unknown-outcome marker, the
/// escalation marker). Properties: never panics; an in-progress claim asks to retry in 1 to 5 s; a decoded answer
/// is the record's own strings.
pub fn idempotency_record(data: &[u8]) {
    let Ok(Value::Object(attributes)) = serde_json::from_slice::<Value>(data) else { return };
    let item: HashMap<String, AttributeValue> =
        attributes.iter().map(|(name, value)| (name.clone(), attribute_value(value))).collect();
    let string = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };

    match crate::store::dynamodb::refused_claim(&item, READ_AT) {
        Ok(Some(Claim::Completed { fingerprint, response })) => {
            assert_eq!(Some(fingerprint.as_str()), string("fingerprint"));
            assert_eq!(Some(response.as_str()), string("response"));
            let _ = serde_json::from_str::<Value>(&response);
        }
        Ok(Some(Claim::InProgress { fingerprint, retry_after })) => {
            assert_eq!(Some(fingerprint.as_str()), string("fingerprint"));
            assert!((Duration::from_secs(1)..=Duration::from_secs(5)).contains(&retry_after), "{retry_after:?}");
        }
        Ok(Some(Claim::Acquired)) => panic!("a record read back is never an acquired claim"),
        Ok(None) | Err(_) => {}
    }
    if let Ok(Some(versioned)) = crate::store::dynamodb::live_value(&item, READ_AT) {
        assert_eq!(Some(versioned.value.as_str()), string("value"));
        let value = versioned.value;
        let _ = serde_json::from_str::<HandoffState>(&value);
        let _ = crate::store::recently_opened::parse(&value);
        let _ = value.parse::<i64>();
        let _ = Marker::parse(Some(&Value::String(value)));
    }
}

/// A DynamoDB JSON attribute value: `{"S": …}`, `{"N": …}`, `{"BOOL": …}`, `{"NULL": …}`; anything else is a
/// binary value of its JSON text (a type the decoders never expect).
fn attribute_value(value: &Value) -> AttributeValue {
    let single = value.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next());
    match single {
        Some((kind, Value::String(s))) if kind == "S" => AttributeValue::S(s.clone()),
        Some((kind, Value::String(n))) if kind == "N" => AttributeValue::N(n.clone()),
        Some((kind, Value::Bool(b))) if kind == "BOOL" => AttributeValue::Bool(*b),
        Some((kind, Value::Bool(b))) if kind == "NULL" => AttributeValue::Null(*b),
        _ => AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_check_accepts_the_allow_list_and_refuses_the_rest() {
        assert_eq!(check_intercom_html(r#"<p>a &amp; <a href="https://x.example/?a=1&amp;b">b</a><br></p>"#), Ok(()));
        for bad in [
            "<script>x</script>",
            "<p onclick=\"x\">",
            r#"<a href="javascript:alert(1)">x</a>"#,
            r#"<a href="https://x" title="y">x</a>"#,
            "<img src=x>",
            "a > b",
            "a & b",
            "<p",
            "</br>",
        ] {
            assert!(check_intercom_html(bad).is_err(), "{bad}");
        }
        assert_eq!(check_balanced("<p><b>x</b><br></p>"), Ok(()));
        assert!(check_balanced("<p><b>x</p></b>").is_err());
        assert!(check_balanced("<p>").is_err());
    }

    #[test]
    fn each_target_takes_an_empty_and_a_typical_input() {
        for target in [webhook, agent_request, html_to_text_target, markdown, human_request, idempotency_record] {
            target(b"");
            target(b"\x01{\"conversationId\":\"7\",\"body\":\"<p>Hi</p>\"}");
        }
    }
}
