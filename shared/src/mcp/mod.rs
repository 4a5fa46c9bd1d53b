//! The agent actions as MCP tools: the catalogue (`tools/list`) and the dispatch (`tools/call`); and what the
//! `mcp` function checks before the SDK sees a request ([`Gate`]: method, [`HostPolicy`], bearer key, protocol
//! version) with the JSON-RPC errors it answers itself ([`jsonrpc`]).
//!
//! Transport-free on purpose: the `mcp` function puts the official SDK's Streamable HTTP server in front, and
//! these functions decide everything a model sees. Input and output schemas come from the same request and
//! response types as the function URLs (through [`crate::agent_api::operations`]), and a call goes through the
//! same decoder ([`crate::http::from_value`]) and action functions, so a refused call names the same `field`
//! with the same `code` and `message`.

mod gate;
mod host;
pub mod jsonrpc;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::actions;
use crate::agent_api::{operations, without_meta};
use crate::escalation::EscalationSettings;
use crate::handoff::HandoffSettings;
use crate::helpdesk::Helpdesk;
use crate::http::{ActionError, from_value, to_json};
use crate::idempotency::{self, Idempotency, call_write};
use crate::store::Store;
use lambda_http::http::HeaderMap;

pub use gate::Gate;
pub use host::{HostPolicy, list_var};

/// One tool per agent action. Adding an action: a variant, its [`CATALOGUE`] line and its arm in [`call_tool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    CreateConversation,
    ReplyToConversation,
    UpdateUserAttributes,
    GetConversation,
    TagConversation,
    AssignConversation,
    ManageConversation,
    Escalate,
    FindConversations,
}

/// MCP tool annotations: hints a client shows the user or uses to decide whether to ask before calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    pub read_only: bool,
    /// May overwrite or remove what is there (attributes, tags, the assignee, the state).
    pub destructive: bool,
    /// Calling again with the same arguments changes nothing more.
    pub idempotent: bool,
    /// Reaches outside this server: every tool acts in Intercom, and most are seen by people there.
    pub open_world: bool,
}

const READ: Hints = Hints { read_only: true, destructive: false, idempotent: true, open_world: true };
const ADD: Hints = Hints { read_only: false, destructive: false, idempotent: false, open_world: true };
const SET: Hints = Hints { read_only: false, destructive: true, idempotent: true, open_world: true };
const ONCE_PER_SESSION: Hints = Hints { read_only: false, destructive: false, idempotent: true, open_world: true };

/// What a model reads when choosing a tool. `operation` is the function (and OpenAPI path) whose types apply.
pub struct ToolSpec {
    pub tool: Tool,
    pub operation: &'static str,
    pub title: &'static str,
    pub hints: Hints,
    pub description: &'static str,
}

#[rustfmt::skip]
pub const CATALOGUE: &[ToolSpec] = &[
    ToolSpec { tool: Tool::CreateConversation, operation: "create-conversation", title: "Open a conversation as the customer", hints: ADD, description: CREATE },
    ToolSpec { tool: Tool::ReplyToConversation, operation: "reply-to-conversation", title: "Reply to a conversation or leave a note", hints: ADD, description: REPLY },
    ToolSpec { tool: Tool::UpdateUserAttributes, operation: "update-user-attributes", title: "Set custom attributes on a customer", hints: SET, description: ATTRIBUTES },
    ToolSpec { tool: Tool::GetConversation, operation: "get-conversation", title: "Read a conversation's history", hints: READ, description: GET },
    ToolSpec { tool: Tool::TagConversation, operation: "tag-conversation", title: "Tag or untag a conversation", hints: SET, description: TAG },
    ToolSpec { tool: Tool::AssignConversation, operation: "assign-conversation", title: "Assign a conversation", hints: SET, description: ASSIGN },
    ToolSpec { tool: Tool::ManageConversation, operation: "manage-conversation", title: "Close, snooze or reopen a conversation", hints: SET, description: MANAGE },
    ToolSpec { tool: Tool::Escalate, operation: "escalate", title: "Hand the customer over to a human", hints: ONCE_PER_SESSION, description: ESCALATE },
    ToolSpec { tool: Tool::FindConversations, operation: "find-conversations", title: "Find a customer's conversations", hints: READ, description: FIND },
];

const FIND: &str = "List a customer's Intercom conversations (by contactId, userId or userEmail), newest update \
    first within a page: state, assignee, last update, a preview and, when it can be told from the result, who \
    handles it (ai or human). Filter by state and updatedSince; page with nextCursor. Call it before opening a new \
    conversation, to continue the customer's open one instead (or use create_conversation's continueOpen).";

const CREATE: &str = "Open a new Intercom conversation on behalf of a customer, with `body` as the customer's first \
    message. Identify the customer by contactId, userId (your system's id) or userEmail; an unknown customer is \
    created. Use it to record a conversation that started outside Intercom. To hand a customer to a human use \
    `escalate` instead (it also attaches the transcript, tags and routes); to answer in an existing conversation use \
    `reply_to_conversation`. Give an idempotencyKey (a UUID per intended conversation) so a retry cannot open a \
    second one.";
const REPLY: &str = "Post a message in an existing conversation as the AI's admin (or adminId). messageType \
    `comment` (default) is seen by the customer; `note` is internal, for teammates only. Reply when you can answer \
    the customer yourself. If you are unsure, the customer asks for a person, or the topic is billing, legal or \
    account deletion, call `escalate` instead of replying. Give an idempotencyKey (a UUID per intended message): \
    a retry with the same key never posts twice, also after an `intercom_outcome_unknown` error.";
const ATTRIBUTES: &str = "Set custom attributes on a customer (contact), e.g. support_tier or last_ai_session. \
    Values are strings, numbers or booleans; null clears one. Attributes are merged: ones not named are kept. The \
    attribute must exist in Intercom (Settings > Data > People) or Intercom refuses it. A customer known only by \
    userId or userEmail is created with the attributes.";
const GET: &str = "Read a conversation: state, customer(s), assignee, tags and every message in order as plain \
    text with its author. Read-only. Call it before replying to catch up on what a human teammate said, and after \
    an `intercom_outcome_unknown` error to see whether the write happened. `truncated` is true when Intercom's \
    500-part limit hid the oldest messages.";
const TAG: &str = "Add tags (`tags`, created when missing) to and remove tags (`removeTags`) from a conversation, by \
    name. Use it to label the topic or outcome for reporting; escalation tags itself, so do not add escalation tags \
    by hand. Names in removeTags that do not exist are reported in notFound, not refused.";
const ASSIGN: &str = "Assign a conversation to a team (teamId or teamName) or a teammate (adminId), or unassign it \
    (\"0\" or null). Prefer `escalate` to hand a customer to a human: it assigns by \
    category and also leaves the transcript for the human. Use this tool to move a conversation that is already \
    with humans.";
const MANAGE: &str = "Change a conversation's state: `close` when the customer's issue is resolved, `snooze` with \
    snoozedUntil (Unix seconds or RFC 3339, in the future, within a year) to bring it back later, `open` to reopen. \
    Do not close a conversation you just escalated: a human is taking it.";
const ESCALATE: &str = "Hand the customer over to a human. Call it instead of replying when your confidence in the \
    answer is low, the customer asks for a person, or the topic is sensitive (by default billing, legal, \
    account_deletion): the rules decide from `confidence`, `category`, `humanRequested` and the wording of \
    `lastMessage`, and answer escalated=false when no hand-off is needed. On a hand-off it opens one Intercom \
    conversation as the customer with lastMessage, puts the transcript in an internal note, tags it and routes it \
    to the category's team. Safe to retry: one conversation per sessionId, a retry returns the first \
    (alreadyEscalated=true). Set dryRun=true to ask only whether the rules would escalate, with no Intercom call \
    at all (no customer needed). After escalating, tell the customer a human will follow up and stop answering \
    in that session.";

impl Tool {
    /// The MCP tool name: the function's name with underscores, as in the LLM tool definitions.
    pub fn name(self) -> String {
        self.spec().operation.replace('-', "_")
    }

    /// The tool called `name`, if there is one (an unknown name is a protocol error, not a refused call).
    pub fn from_name(name: &str) -> Option<Tool> {
        CATALOGUE.iter().find(|s| s.operation.replace('-', "_") == name).map(|s| s.tool)
    }

    pub fn spec(self) -> &'static ToolSpec {
        // A static invariant, not input: every variant has its line (the catalogue test proves it).
        CATALOGUE.iter().find(|s| s.tool == self).expect("every Tool has a CATALOGUE line")
    }
}

/// The `tools/list` result's `tools`: name, title, description, inputSchema, outputSchema and annotations.
pub fn tool_list() -> Vec<Value> {
    let mut by_name: std::collections::HashMap<&str, _> = operations().into_iter().map(|op| (op.name, op)).collect();
    CATALOGUE
        .iter()
        .filter_map(|spec| {
            let op = by_name.remove(spec.operation)?;
            // The rule across fields is in words: tool input schemas cannot say it at their top level.
            let description = match op.rule {
                Some(rule) => format!("{} {rule}", spec.description),
                None => spec.description.to_owned(),
            };
            Some(json!({
                "name": spec.tool.name(),
                "title": spec.title,
                "description": description,
                "inputSchema": op.tool_schema(),
                "outputSchema": without_meta(op.response),
                "annotations": {
                    "title": spec.title,
                    "readOnlyHint": spec.hints.read_only,
                    "destructiveHint": spec.hints.destructive,
                    "idempotentHint": spec.hints.idempotent,
                    "openWorldHint": spec.hints.open_world
                }
            }))
        })
        .collect()
}

/// Runs one tool: the arguments are decoded and validated exactly as the function URL's body would be, and a
/// write tool's `idempotencyKey` argument gives the same guarantees as the `Idempotency-Key` header.
/// Missing arguments count as `{}` (so the answer names the first required field).
pub async fn call_tool<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    settings: &EscalationSettings,
    handoff: &HandoffSettings,
    tool: Tool,
    arguments: Option<Value>,
) -> Result<Value, ActionError> {
    let mut args = arguments.unwrap_or_else(|| json!({}));
    let keyed = Idempotency { store, scope: tool.spec().operation };
    match tool {
        Tool::GetConversation => run(args, |r| actions::get_conversation_with(helpdesk, handoff, r)).await,
        Tool::FindConversations => run(args, |r| actions::find_conversations(helpdesk, store, handoff, r)).await,
        Tool::Escalate => {
            let key = idempotency::take_key(&HeaderMap::new(), &mut args)?;
            run(args, |r| actions::escalate(helpdesk, store, settings, r, key)).await
        }
        Tool::CreateConversation => {
            call_write(keyed, args, |r, _| actions::create_conversation(helpdesk, store, r)).await
        }
        Tool::ReplyToConversation => {
            call_write(keyed, args, |r, attempt| actions::reply_respecting_handoff(helpdesk, handoff, r, attempt)).await
        }
        Tool::UpdateUserAttributes => {
            call_write(keyed, args, |r, _| actions::update_user_attributes(helpdesk, r)).await
        }
        Tool::TagConversation => call_write(keyed, args, |r, _| actions::tag_conversation(helpdesk, r)).await,
        Tool::AssignConversation => call_write(keyed, args, |r, _| actions::assign_conversation(helpdesk, r)).await,
        Tool::ManageConversation => call_write(keyed, args, |r, _| actions::manage_conversation(helpdesk, r)).await,
    }
}

async fn run<I, O, F, Fut>(arguments: Value, action: F) -> Result<Value, ActionError>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(I) -> Fut,
    Fut: Future<Output = Result<O, ActionError>>,
{
    to_json(action(from_value(arguments)?).await?)
}

/// The `tools/call` result: the answer (or the refusal's `{"error": {code, message, field?…}}`) as JSON text
/// and as structuredContent, with `isError` on a refusal so the model sees it and can correct the call.
pub fn tool_result(outcome: &Result<Value, ActionError>) -> Value {
    let (structured, is_error) = match outcome {
        Ok(value) => (value.clone(), false),
        Err(error) => (json!({ "error": error.to_json() }), true),
    };
    let text = serde_json::to_string(&structured).unwrap_or_default();
    json!({
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured,
        "isError": is_error
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::MockHelpdesk;

    #[test]
    fn every_tool_is_listed_once_with_an_object_schema() {
        let tools = tool_list();
        assert_eq!(tools.len(), CATALOGUE.len());
        for (spec, listed) in CATALOGUE.iter().zip(&tools) {
            assert_eq!(spec.tool.spec().operation, spec.operation, "{} has its own line", spec.operation);
            assert_eq!(Tool::from_name(listed["name"].as_str().unwrap()), Some(spec.tool));
            assert_eq!(listed["inputSchema"]["type"], "object", "{}", spec.operation);
            assert_eq!(listed["outputSchema"]["type"], "object", "{}", spec.operation);
            assert!(listed["inputSchema"].get("$schema").is_none());
        }
        let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), names.iter().collect::<std::collections::HashSet<_>>().len());
        let get = tools.iter().find(|t| t["name"] == "get_conversation").unwrap();
        assert_eq!(get["annotations"]["readOnlyHint"], true);
        let escalate = tools.iter().find(|t| t["name"] == "escalate").unwrap();
        assert_eq!(escalate["annotations"]["idempotentHint"], true);
        assert!(escalate["description"].as_str().unwrap().contains("dryRun"));
        assert_eq!(Tool::from_name("escalate-now"), None);
        assert_eq!(Tool::from_name("reply-to-conversation"), None, "MCP names use underscores");
    }

    #[tokio::test]
    async fn a_refused_call_names_the_field_like_the_function_url() {
        let helpdesk = MockHelpdesk::new();
        let settings = EscalationSettings::default();
        let outcome = call_tool(
            &helpdesk,
            &crate::store::memory::MemoryStore::new(),
            &settings,
            &HandoffSettings::default(),
            Tool::ReplyToConversation,
            Some(json!({"conversationId": "abc", "body": "hi"})),
        )
        .await;
        let result = tool_result(&outcome);
        assert_eq!(result["isError"], true);
        assert_eq!(result["structuredContent"]["error"]["code"], "invalid_request");
        assert_eq!(result["structuredContent"]["error"]["field"], "conversationId");
        let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text, result["structuredContent"]);

        let missing = call_tool(
            &helpdesk,
            &crate::store::memory::MemoryStore::new(),
            &settings,
            &HandoffSettings::default(),
            Tool::GetConversation,
            None,
        )
        .await;
        assert_eq!(
            missing.unwrap_err(),
            ActionError::bad_request("conversationId", "conversationId: missing field `conversationId`")
        );
    }

    #[tokio::test]
    async fn a_dry_run_escalation_answers_without_intercom() {
        let helpdesk = MockHelpdesk::new(); // any Intercom call would panic
        let outcome = call_tool(
            &helpdesk,
            &crate::store::memory::MemoryStore::new(),
            &EscalationSettings::default(),
            &HandoffSettings::default(),
            Tool::Escalate,
            Some(json!({"sessionId":"s-1","confidence":0.1,"lastMessage":"I want a human","dryRun":true})),
        )
        .await
        .unwrap();
        assert_eq!(outcome["escalated"], true);
        assert_eq!(outcome["dryRun"], true);
        let result = tool_result(&Ok(outcome));
        assert_eq!(result["isError"], false);
        assert_eq!(result["structuredContent"]["escalated"], true);
    }
}
