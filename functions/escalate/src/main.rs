//! `escalate`: decides whether the AI should hand the customer to a human and, if so, opens the Intercom
//! conversation with the transcript, tags and team routing.

mod handler;

use lambda_http::{Error, run, service_fn};
use shared::escalation::EscalationSettings;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let app = shared::App::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let settings = EscalationSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|request| handler::handle(&app.intercom, app.store.as_ref(), &settings, &app.guard, request))).await
}
