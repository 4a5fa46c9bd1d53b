//! `relay-to-agent`: consumes the relay queue that `intercom-webhook` fills and posts each event to the agent,
//! signed, with its `Idempotency-Key`; what fails is retried by the queue (partial batch responses).

mod handler;

use std::sync::Arc;

use lambda_runtime::{Error, run, service_fn};
use shared::config::Config;
use shared::handoff::HandoffSettings;
use shared::helpdesk::Helpdesk;
use shared::intercom::IntercomClient;
use shared::secrets::SecretStore;
use shared::webhook::{Ownerships, WebhookService, WebhookSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let cold_start_failed = |e: &dyn std::fmt::Display| tracing::error!(error = %e, "cold start failed");
    let settings = WebhookSettings::from_env().inspect_err(|e| cold_start_failed(e))?;
    let handoff = HandoffSettings::from_env().inspect_err(|e| cold_start_failed(e))?;
    // Without the store a redelivered message could reach the agent twice and hand-offs are not announced.
    let store = shared::store::from_env().inspect_err(|e| cold_start_failed(e))?;
    let secrets = Arc::new(SecretStore::new(&settings.secret_source));
    let helpdesk: Option<Arc<dyn Helpdesk>> = match Config::from_env() {
        Ok(config) => Some(Arc::new(IntercomClient::new(&config, secrets.clone()))),
        Err(e) => {
            tracing::warn!(error = %e, "no Intercom access: handling is decided from the deliveries alone");
            None
        }
    };
    let service = WebhookService::from_settings(&settings)
        .inspect_err(|e| cold_start_failed(e))?
        .with_store(store)
        .with_ownerships(Ownerships::new(handoff, helpdesk));
    tracing::info!(settings = ?settings, "configured");
    run(service_fn(|event| handler::handle(&service, &secrets, event))).await
}
