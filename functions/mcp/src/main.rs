//! `mcp`: every agent action as an MCP tool behind one function URL (Streamable HTTP, stateless, JSON answers).
//! The URL is public at the AWS level whatever `AGENT_AUTH` says, so the bearer key is always required.

mod handler;
mod server;

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let workspaces =
        shared::workspace::build::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let service = handler::service(shared::mcp::list_var("MCP_ALLOWED_ORIGINS"));
    let hosts = shared::mcp::HostPolicy::from_env();
    let gate = shared::mcp::Gate { workspaces, hosts, protocol_versions: server::protocol_versions() };
    run(service_fn(|request| shared::metrics::invocation("mcp", handler::handle(&service, &gate, request)))).await
}
