//! The agent-facing API described for machines: an OpenAPI 3.1 document and LLM tool (function-calling)
//! definitions, both generated from the Rust request and response types so they cannot drift from what the
//! functions accept. `agent-tools/` in the repository holds the generated files; a test regenerates them and
//! fails when they differ (`UPDATE_AGENT_TOOLS=1` rewrites them).

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use crate::actions::*;

/// One agent action: its function (and URL path segment), what it does, and its types.
pub struct Operation {
    pub name: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    pub request: Schema,
    pub response: Schema,
    /// Writes something a customer or teammate sees: takes an idempotency key.
    pub writes: bool,
    /// Also answers GET with the request's fields as query parameters (`Accepts::PostJsonOrGetQuery`).
    pub get: bool,
    /// The rule across fields that the request schema states with a top-level `anyOf`/`oneOf`/`not`, in words:
    /// LLM tool APIs refuse those combinators at the top of an input schema, so tool schemas leave them out and
    /// the tool's description says this instead.
    pub rule: Option<&'static str>,
}

/// Keywords a tool input schema must not have at its top level (Anthropic: "input_schema does not support oneOf,
/// allOf, or anyOf at the top level"; OpenAI's function parameters likewise).
pub const TOP_LEVEL_COMBINATORS: &[&str] = &["oneOf", "anyOf", "allOf", "not", "if", "then", "else"];

/// The customer-key rule of the actions that find a customer ([`crate::validate::schema::customer_key`]).
const CUSTOMER_RULE: &str = "Give at least one of contactId, userId or userEmail (contactId wins, then userId).";

/// What every write action's description says about idempotency keys (the README says it at length).
const IDEMPOTENCY_NOTE: &str = " Safe to retry with an idempotency key (`Idempotency-Key` header or `idempotencyKey`): \
     the same key and request replay the first answer without writing again; the same key with another request is \
     422 idempotency_key_reused; while the first is still running, 409 idempotency_key_in_use with retryAfterSeconds.";

fn schema<T: JsonSchema>() -> Schema {
    // Inlined subschemas keep each tool's parameters self-contained, as function-calling APIs expect.
    SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true).into_generator().into_root_schema_for::<T>()
}

fn op<Req: JsonSchema, Resp: JsonSchema>(
    name: &'static str,
    summary: &'static str,
    description: &'static str,
) -> Operation {
    Operation {
        name,
        summary,
        description,
        request: schema::<Req>(),
        response: schema::<Resp>(),
        writes: true,
        get: false,
        rule: None,
    }
}

fn read<Req: JsonSchema, Resp: JsonSchema>(
    name: &'static str,
    summary: &'static str,
    description: &'static str,
) -> Operation {
    Operation { writes: false, ..op::<Req, Resp>(name, summary, description) }
}

impl Operation {
    /// What the model reads: the description, the rule across fields, and the idempotency contract on writes.
    pub fn full_description(&self) -> String {
        let mut text = self.description.to_owned();
        if let Some(rule) = self.rule {
            text = format!("{text} {rule}");
        }
        if self.writes {
            text.push_str(IDEMPOTENCY_NOTE);
        }
        text
    }

    fn with_rule(self, rule: &'static str) -> Operation {
        Operation { rule: Some(rule), ..self }
    }

    /// The request schema as LLM tool APIs take it: a plain top-level object with per-property constraints; the
    /// top-level combinators [`Operation::request_schema`] has are left out (their rule is in [`Operation::rule`]).
    pub fn tool_schema(&self) -> Value {
        let mut schema = self.request_schema();
        if let Some(map) = schema.as_object_mut() {
            for keyword in TOP_LEVEL_COMBINATORS {
                map.remove(*keyword);
            }
        }
        schema
    }

    /// The request's JSON Schema as the agent sends it: write actions also take `idempotencyKey`.
    pub fn request_schema(&self) -> Value {
        let mut schema = without_meta(self.request.clone());
        if self.writes
            && let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut)
        {
            properties.insert(
                "idempotencyKey".into(),
                json!({
                    "type": ["string", "null"],
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": "^[!-~]+$",
                    "description": "Makes retries safe: the same key and request run once (a UUID per intended write). \
                                    Same as the Idempotency-Key header."
                }),
            );
        }
        schema
    }
}

pub fn operations() -> Vec<Operation> {
    vec![
        op::<CreateConversationRequest, CreateConversationResponse>(
            "create-conversation",
            "Open an Intercom conversation as a customer",
            "Finds the customer by contactId, userId (your system's id) or userEmail, creating the contact when it does \
             not exist, then opens a conversation with `body` as the customer's first message. Intercom shows it as \
             plain text: Markdown (bodyFormat, default markdown) is sent as readable text, without markup. With \
             continueOpen, a customer's open conversation updated within CONTINUE_WINDOW_HOURS (default 24) gets \
             `body` as their reply instead, answered with `continued: true`.",
        )
        .with_rule(CUSTOMER_RULE),
        op::<ReplyRequest, ReplyResponse>(
            "reply-to-conversation",
            "Reply to a conversation, or leave an internal note",
            "Posts `body` as the AI's admin (or `adminId`). messageType `comment` is seen by the customer; `note` only \
             by teammates. Write Markdown (bold, italics, links, lists, code; bodyFormat `text` or `html` otherwise): \
             it is shown formatted, and anything that could run a script is removed. `options` (2-10 short answers) \
             adds quick-reply buttons under the comment; the customer's pick comes back in the webhook event's \
             message.quickReply.optionId. `attachmentUrls` (up to 10 https URLs) shows files with the message. A reply \
             whose confirmation is lost is checked before it could be posted twice.",
        )
        .with_rule("`options` go with messageType comment only (not with note)."),
        op::<UpdateAttributesRequest, UpdateAttributesResponse>(
            "update-user-attributes",
            "Set custom attributes on a customer",
            "Merges flat custom attributes (string, number, boolean; null clears) into the contact; a customer known \
             only by userId or userEmail is created with them.",
        )
        .with_rule(CUSTOMER_RULE),
        Operation {
            get: true,
            ..read::<GetConversationRequest, ConversationHistory>(
                "get-conversation",
                "Read a conversation's full history",
                "State, contacts, assignee, tags and every message in order as plain text. `truncated` is true when \
                 Intercom's 500-part limit hid older parts.",
            )
        },
        read::<FindConversationsRequest, FoundConversations>(
            "find-conversations",
            "List a customer's conversations",
            "The customer's conversations (by contactId, userId or userEmail), newest update first within a page: \
             state, assignee, last update, a preview of the newest message the search result carries, and `handling` \
             (ai or human) when the assignment settles it, else null. Filter by state (open, closed, snoozed, any) \
             and updatedSince (Unix seconds); `limit` 1-50 (default 20). Pass `nextCursor` as `cursor` for the next \
             page; it is null on the last. Conversations opened seconds ago are included.",
        )
        .with_rule(CUSTOMER_RULE),
        op::<TagRequest, TagResponse>(
            "tag-conversation",
            "Add or remove tags on a conversation by name",
            "Tags in `tags` are created when missing and added; tags in `removeTags` are removed.",
        )
        .with_rule("Give at least one tag in tags or removeTags; a name (in any case) cannot be in both."),
        op::<AssignRequest, AssignResponse>(
            "assign-conversation",
            "Assign a conversation to a team or an admin, or unassign it",
            "\"0\" or null as teamId or adminId unassigns; a teamName no team has is 404 not_found.",
        )
        .with_rule("Give exactly one of teamId, adminId or teamName."),
        op::<ManageRequest, ManageResponse>(
            "manage-conversation",
            "Close, snooze or reopen a conversation",
            "snoozedUntil is Unix seconds or RFC 3339, in the future.",
        )
        .with_rule("action snooze needs snoozedUntil; close and open take none."),
        op::<EscalateRequest, EscalateResponse>(
            "escalate",
            "Hand the customer over to a human when the rules say so",
            "Escalates when confidence is below the threshold (default 0.40), the customer asks for a human, or the \
             category is sensitive (default billing, legal, account_deletion): opens one conversation per sessionId \
             with the transcript as an internal note, tags it and routes it to a team. dryRun only decides.",
        )
        .with_rule("Give at least one of contactId, userId or userEmail (contactId wins, then userId), unless dryRun."),
    ]
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "invalid_request, not_found, conflict, rate_limited, intercom_unauthorized, intercom_unavailable, intercom_outcome_unknown, token_unavailable, idempotency_key_reused, idempotency_key_in_use, idempotency_unavailable, …"},
                "message": {"type": "string", "description": "What went wrong and what to do about it."},
                "field": {"type": "string", "description": "The request field to fix (400), or the one naming what does not exist (404)."},
                "intercomRequestId": {"type": "string"},
                "retryAfterSeconds": {"type": "integer"},
                "idempotencyKey": {"type": "string", "description": "With intercom_outcome_unknown: retry with this key."}
            }
        }}
    })
}

/// The error statuses an operation can answer: every one may be refused (400), unauthenticated (401, with
/// AgentAuth=API_KEY), miss a conversation or contact (404), be rate-limited (429) or find Intercom or the token
/// unavailable (502, 503, 504); writes can also conflict (409: a human handles it, a key in use, an outcome to
/// check) and reuse a key or name an undefined attribute (422); bodies can be too large (413).
fn error_statuses(op: &Operation, method: &str) -> Vec<&'static str> {
    let mut statuses = vec!["400", "401", "404"];
    if op.writes {
        statuses.extend(["409", "422"]);
    }
    if method == "post" {
        statuses.push("413");
    }
    statuses.extend(["429", "502", "503", "504"]);
    statuses
}

fn responses(op: &Operation, method: &str) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "Done", "content": {"application/json": {"schema": without_meta(op.response.clone())}}}),
    );
    for status in error_statuses(op, method) {
        responses.insert(status.into(), json!({"$ref": "#/components/responses/Error"}));
    }
    Value::Object(responses)
}

/// The request's fields as query parameters (a GET's query values are strings, so only string fields qualify).
fn query_parameters(op: &Operation) -> Vec<Value> {
    let schema = op.request_schema();
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let properties = schema["properties"].as_object().cloned().unwrap_or_default();
    properties
        .into_iter()
        .map(|(name, schema)| {
            assert_eq!(schema["type"], "string", "{}: GET query parameter {name} must be a string field", op.name);
            let mut parameter =
                json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": schema});
            if let Some(description) = parameter["schema"].as_object_mut().and_then(|s| s.remove("description")) {
                parameter["description"] = description;
            }
            parameter
        })
        .collect()
}

/// OpenAPI 3.1: one path per function URL (`/<function-name>/`, locally under `/lambda-url`): POST with a JSON
/// body, and GET with query parameters where the function answers it.
pub fn openapi_document() -> Value {
    let mut paths = Map::new();
    for op in operations() {
        let mut post = json!({
            "operationId": op.name.replace('-', "_"),
            "summary": op.summary,
            "description": op.full_description(),
            "requestBody": {"required": true, "content": {"application/json": {"schema": op.request_schema()}}},
            "responses": responses(&op, "post")
        });
        if op.writes {
            post["parameters"] = json!([{
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "Makes retries safe (see the operation's description); or send idempotencyKey in the \
                                body (not both with different values).",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}
            }]);
        }
        let mut item = json!({ "post": post });
        if op.get {
            item["get"] = json!({
                "operationId": format!("{}_get", op.name.replace('-', "_")),
                "summary": op.summary,
                "description": format!("{} The same as POST, with the fields as query parameters.", op.full_description()),
                "parameters": query_parameters(&op),
                "responses": responses(&op, "get")
            });
        }
        paths.insert(format!("/{}/", op.name), item);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Intercom actions for AI support agents",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Each path is one Lambda function URL. Authenticate with SigV4 (AgentAuth=AWS_IAM) or \
                            `Authorization: Bearer <agent_api_key>` (AgentAuth=API_KEY)."
        },
        "servers": [{"url": "http://127.0.0.1:9000/lambda-url", "description": "the local stack (scripts/run-local.sh)"}],
        // The bearer key with AgentAuth=API_KEY; none at this level with AWS_IAM (the function URL checks SigV4).
        "security": [{"agentApiKey": []}, {}],
        "paths": paths,
        "components": {
            "responses": {"Error": {"description": "An error the agent can act on", "content": {"application/json": {"schema": error_schema()}}}},
            "securitySchemes": {"agentApiKey": {"type": "http", "scheme": "bearer"}}
        }
    })
}

/// Function-calling tool definitions (`{"type":"function","function":{name, description, parameters}}`).
pub fn tool_definitions() -> Value {
    let tools: Vec<Value> = operations()
        .into_iter()
        .map(|op| {
            json!({"type": "function", "function": {
                "name": op.name.replace('-', "_"),
                "description": format!("{}. {}", op.summary, op.full_description()),
                "parameters": op.tool_schema()
            }})
        })
        .collect();
    Value::Array(tools)
}

/// The schema as a plain JSON object, without `$schema` and `title` (tool definitions carry their own name).
pub(crate) fn without_meta(schema: Schema) -> Value {
    let mut value = schema.to_value();
    if let Some(map) = value.as_object_mut() {
        map.remove("$schema");
        map.remove("title");
    }
    value
}
