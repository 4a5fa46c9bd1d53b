//! `intercom-webhook`: receives Intercom's webhook deliveries, verifies their signature, and relays new customer
//! messages to the agent as compact, signed events.

mod handler;

use lambda_http::{Error, run, service_fn};
use shared::secrets::SecretStore;
use shared::webhook::{WebhookService, WebhookSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let settings = WebhookSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let service =
        WebhookService::from_settings(&settings).inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let secrets = SecretStore::new(&settings.secret_source);
    tracing::info!(settings = ?settings, "configured");
    run(service_fn(|request| handler::handle(&service, &secrets, request))).await
}
