//! `mcp`: every agent action as an MCP tool behind one function URL (Streamable HTTP, stateless, JSON answers).
//! The URL is public at the AWS level whatever `AGENT_AUTH` says, so the bearer key is always required.

mod handler;
mod server;

use lambda_http::{Error, run, service_fn};
use shared::config::{AgentAuth, Config};
use shared::escalation::EscalationSettings;
use shared::handoff::HandoffSettings;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let mut config = Config::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    config.agent_auth = AgentAuth::ApiKey;
    let app = shared::App::from_config(config).inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let settings = EscalationSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let handoff = HandoffSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let server = server::McpServer::new(app.intercom, app.store, settings, handoff);
    let service = handler::service(server, shared::mcp::list_var("MCP_ALLOWED_ORIGINS"));
    let hosts = shared::mcp::HostPolicy::from_env();
    let gate = shared::mcp::Gate { guard: app.guard, hosts, protocol_versions: server::protocol_versions() };
    run(service_fn(|request| handler::handle(&service, &gate, request))).await
}
