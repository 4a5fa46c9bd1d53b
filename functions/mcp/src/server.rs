//! The MCP server the SDK drives: it lists the catalogue from `shared::mcp` and runs tool calls through it.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::time::Instant;

use futures::FutureExt;
use rmcp::ErrorData as McpError;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ServerCapabilities, ServerConfig, Tool as McpTool,
};
use rmcp::service::{RequestContext, RoleServer};
use shared::mcp::{CATALOGUE, Tool, call_tool, tool_result};
use shared::workspace::Workspace;

/// The protocol revisions this server speaks, newest first (the first is offered to clients that ask for a
/// revision it does not know). An `MCP-Protocol-Version` header naming any other is refused with 400.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] =
    &[ProtocolVersion::V_2025_11_25, ProtocolVersion::V_2025_06_18, ProtocolVersion::V_2025_03_26];

/// [`SUPPORTED_VERSIONS`] by name, for the gate that checks the `MCP-Protocol-Version` header.
pub fn protocol_versions() -> Vec<String> {
    SUPPORTED_VERSIONS.iter().map(|v| v.as_str().to_owned()).collect()
}

const INSTRUCTIONS: &str = "Tools that act in the Intercom helpdesk for an AI support agent: read a conversation, \
    reply or leave an internal note, tag, assign, close or snooze it, set customer attributes, and escalate to a \
    human. Escalate instead of replying when unsure, when the customer asks for a person, or for billing, legal \
    and account-deletion topics. A refused call returns isError with error.code, error.message and error.field: \
    fix that field and call again.";

/// The invocation's deadline, put in the request's extensions by the handler (the SDK runs the tool call on
/// another task, where the handler's task-local deadline is not visible).
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Instant);

/// The tool catalogue as published in `agent-tools/mcp-tools.json`, which the drift test
/// (`tests/integration/tests/agent_tools.rs`) keeps equal to what `shared::mcp::tool_list` generates. Read from
/// the file and parsed on first use: generating the schemas at start-up put every cold start, including those
/// that never list a tool, at 1.59x hello world in scripts/bench.sh (1.26x without).
const CATALOGUE_JSON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../agent-tools/mcp-tools.json"));

/// The parsed catalogue, or why it could not be read (a build from a broken checkout; tested below).
fn catalogue() -> Result<&'static [McpTool], &'static str> {
    static TOOLS: OnceLock<Result<Vec<McpTool>, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            serde_json::from_str(CATALOGUE_JSON)
                .map_err(|e| format!("agent-tools/mcp-tools.json is not a valid MCP tool list ({e})"))
        })
        .as_deref()
        .map_err(String::as_str)
}

/// The server the SDK builds per request: stateless, each call acts in the workspace the gate resolved (in the
/// request's extensions).
#[derive(Clone, Copy, Default)]
pub struct Handle;

impl ServerHandler for Handle {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("intercom-actions", env!("CARGO_PKG_VERSION")))
            .with_protocol_version(SUPPORTED_VERSIONS[0].clone())
            .with_instructions(INSTRUCTIONS)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(SUPPORTED_VERSIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = catalogue().map_err(|e| McpError::internal_error(e, None))?;
        Ok(ListToolsResult::with_all_items(tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<McpTool> {
        catalogue().ok()?.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(tool) = Tool::from_name(&request.name) else {
            let known: Vec<String> = CATALOGUE.iter().map(|spec| spec.tool.name()).collect();
            return Err(McpError::invalid_params(
                format!("unknown tool {:?}; this server has {}", request.name, known.join(", ")),
                None,
            ));
        };
        let started = Instant::now();
        let parts = context.extensions.get::<lambda_http::http::request::Parts>();
        let deadline = parts.and_then(|p| p.extensions.get::<Deadline>()).map(|d| d.0);
        let deadline = deadline.unwrap_or_else(shared::deadline::current);
        // The gate put the caller's workspace there; a request that did not pass the gate never gets here.
        let Some(w) = parts.and_then(|p| p.extensions.get::<Workspace>()).cloned() else {
            return Err(McpError::internal_error("the request reached the server without its workspace", None));
        };
        let arguments = request.arguments.map(serde_json::Value::Object);
        let call = shared::deadline::scope(deadline, async move {
            call_tool(w.helpdesk.as_ref(), w.store.as_ref(), &w.escalation, &w.handoff, tool, arguments).await
        });
        // The SDK runs each call on its own task: a panic there would end the task and leave the client waiting
        // for an answer until the function times out. Caught, it is an answer (the panic itself is logged by the
        // panic hook), and the container keeps serving.
        let Ok(outcome) = AssertUnwindSafe(call).catch_unwind().await else {
            tracing::error!(tool = %request.name, "tool call panicked");
            return Err(McpError::internal_error(
                "the tool failed unexpectedly and did not finish; the function's logs say where. Calling again \
                 with the same idempotencyKey does not repeat a write that landed",
                None,
            ));
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Ok(_) => tracing::info!(tool = %request.name, elapsed_ms, "tool call succeeded"),
            Err(e) if e.status().is_server_error() => {
                tracing::error!(tool = %request.name, code = e.code(), error = %e, elapsed_ms, "tool call failed")
            }
            Err(e) => {
                tracing::warn!(tool = %request.name, code = e.code(), error = %e, elapsed_ms, "tool call refused")
            }
        }
        let result: CallToolResult = serde_json::from_value(tool_result(&outcome))
            .map_err(|e| McpError::internal_error(format!("the tool result could not be encoded ({e})"), None))?;
        Ok(result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_catalogue_is_a_valid_mcp_tool_list_naming_every_tool() {
        let tools = catalogue().unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        let expected: Vec<String> = CATALOGUE.iter().map(|spec| spec.tool.name()).collect();
        assert_eq!(names, expected);
        assert_eq!(
            serde_json::to_value(tools).unwrap(),
            serde_json::Value::Array(shared::mcp::tool_list()),
            "agent-tools/mcp-tools.json is stale: UPDATE_AGENT_TOOLS=1 cargo test -p integration-tests --test agent_tools"
        );
    }
}
