//! `connect-workspace`: a hub connects, lists, changes and disconnects Intercom workspaces with one call each;
//! in single mode it checks the deployment's own workspace and creates the data attributes it needs.

mod handler;

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let api = handler::api_from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| handler::handle(&api, request))).await
}
