//! `create-conversation`: opens an Intercom conversation as a customer (found or created by email, user id or contact id).

mod handler;

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let workspaces =
        shared::workspace::build::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    shared::actions::continue_window().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| shared::metrics::invocation("create-conversation", handler::handle(&workspaces, request))))
        .await
}
