//! `find-conversations`: a customer's conversations with state, assignee, last update, a preview and who handles
//! them, a page at a time.

mod handler;

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let workspaces =
        shared::workspace::build::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| shared::metrics::invocation("find-conversations", handler::handle(&workspaces, request))))
        .await
}
