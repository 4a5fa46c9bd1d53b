//! `intercom-webhook`: receives Intercom's webhook deliveries, verifies their signature, and relays new customer
//! messages to the agent as compact, signed events.

mod handler;

use std::sync::Arc;

use lambda_http::{Error, run, service_fn};
use shared::config::Config;
use shared::intercom::IntercomClient;
use shared::secrets::SecretStore;
use shared::webhook::{EscalationCheck, WebhookService, WebhookSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let settings = WebhookSettings::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let mut service =
        WebhookService::from_settings(&settings).inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let secrets = Arc::new(SecretStore::new(&settings.secret_source));
    // The access token (same secret) lets the loop guard read a new conversation's contact; without it the
    // webhook still verifies and relays, and says so once.
    match Config::from_env() {
        Ok(config) => {
            let intercom = IntercomClient::new(&config, secrets.clone());
            service = service.with_escalation_check(EscalationCheck::new(Arc::new(intercom)));
        }
        Err(e) => {
            tracing::warn!(error = %e, "no Intercom access: conversations escalate opens are recognised by their tag only")
        }
    }
    tracing::info!(settings = ?settings, "configured");
    run(service_fn(|request| handler::handle(&service, &secrets, request))).await
}
