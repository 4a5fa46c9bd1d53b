//! `reply-to-conversation`: replies to a conversation as the AI's admin, or leaves an internal note.

mod handler;

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let workspaces =
        shared::workspace::build::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| {
        shared::metrics::invocation("reply-to-conversation", handler::handle(&workspaces, request))
    }))
    .await
}
