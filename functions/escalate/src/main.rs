//! `escalate`: decides whether the AI should hand the customer to a human and, if so, opens the Intercom
//! conversation with the transcript, tags and team routing.

mod handler;

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let workspaces =
        shared::workspace::build::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| shared::metrics::invocation("escalate", handler::handle(&workspaces, request)))).await
}
