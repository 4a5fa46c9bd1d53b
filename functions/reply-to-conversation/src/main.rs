//! `reply-to-conversation`: replies to a conversation as the AI's admin, or leaves an internal note.

mod handler;

use lambda_http::{Error, run, service_fn};
use shared::handoff::HandoffSettings;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let app = shared::App::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let handoff = HandoffSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| handler::handle(&app.intercom, app.store.as_ref(), &handoff, &app.guard, request))).await
}
