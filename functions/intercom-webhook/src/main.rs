//! `intercom-webhook`: receives Intercom's webhook deliveries, verifies their signature, and relays new customer
//! messages to the agent as compact, signed events.

mod handler;

use std::sync::Arc;

use lambda_http::{Error, run, service_fn};
use shared::config::Config;
use shared::handoff::HandoffSettings;
use shared::helpdesk::Helpdesk;
use shared::intercom::IntercomClient;
use shared::secrets::SecretStore;
use shared::webhook::{Ownerships, WebhookService, WebhookSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let settings = WebhookSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let handoff = HandoffSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let mut service =
        WebhookService::from_settings(&settings).inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let secrets = Arc::new(SecretStore::new(&settings.secret_source));
    // The store tells our own messages from the customer's, catches repeats across containers and remembers who
    // handles each conversation; without it every message is the customer's and no hand-off is announced.
    match shared::store::from_env() {
        Ok(store) => service = service.with_store(store),
        Err(e) => tracing::warn!(error = %e, "no store: the loop guard and hand-off announcements are off"),
    }
    // With the relay queue the delivery is answered once enqueued; relay-to-agent does the rest.
    if let Some(queue) = shared::queue::from_env() {
        service = service.with_queue(queue);
    }
    // The access token (same secret) lets the webhook read a conversation the delivery does not settle, ask /me
    // for the AI's admin, and assign a conversation back on '/ai resume'.
    let helpdesk: Option<Arc<dyn Helpdesk>> = match Config::from_env() {
        Ok(config) => Some(Arc::new(IntercomClient::new(&config, secrets.clone()))),
        Err(e) => {
            tracing::warn!(error = %e, "no Intercom access: handling is decided from the deliveries alone");
            None
        }
    };
    service = service.with_ownerships(Ownerships::new(handoff, helpdesk));
    tracing::info!(settings = ?settings, "configured");
    run(service_fn(|request| handler::handle(&service, &secrets, request))).await
}
