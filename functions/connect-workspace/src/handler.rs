use lambda_http::{Body, Error, Request, Response};
use shared::admin::AdminApi;
use shared::webhook::settings::WebhookSettings;
use shared::workspace::seal::KmsSealer;
use shared::workspace::{Tenancy, build};

/// The function's state: the workspaces, the sealer (hub mode) and the topics to subscribe.
pub fn api_from_env() -> Result<AdminApi, Error> {
    let workspaces = build::from_env()?;
    let sealer: Option<Box<dyn shared::workspace::seal::Sealer>> = match workspaces.tenancy() {
        Tenancy::Hub => Some(Box::new(KmsSealer::from_lookup(|name| std::env::var(name).ok())?)),
        Tenancy::Single => None,
    };
    let webhook_topics = WebhookSettings::from_env()?.route.relayed_topics;
    Ok(AdminApi { workspaces, sealer, webhook_topics })
}

pub async fn handle(api: &AdminApi, request: Request) -> Result<Response<Body>, Error> {
    Ok(api.serve(request).await)
}
