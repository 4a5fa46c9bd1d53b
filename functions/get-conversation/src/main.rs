//! `get-conversation`: the full history of a conversation, as plain text the AI can read.

mod handler;

use lambda_http::{Error, run, service_fn};
use shared::handoff::HandoffSettings;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let app = shared::App::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let handoff = HandoffSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| handler::handle(&app.intercom, &handoff, &app.guard, request))).await
}
