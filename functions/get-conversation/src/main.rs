//! `get-conversation`: the full history of a conversation, as plain text the AI can read.

mod handler;

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let workspaces =
        shared::workspace::build::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| shared::metrics::invocation("get-conversation", handler::handle(&workspaces, request))))
        .await
}
