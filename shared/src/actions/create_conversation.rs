//! `create-conversation`: finds or creates the customer, then opens a conversation written as them.

use serde::{Deserialize, Serialize};

use crate::format::{BodyFormat, to_customer_text};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::store::Store;
use crate::validate::{contact_key, message_body, optional_text};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConversationRequest {
    #[serde(default)]
    pub user_email: Option<String>,
    /// The id in the customer's own system (Intercom `external_id`).
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
    /// Used only when the contact is created.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer's message that opens the conversation. Intercom shows it as plain text: Markdown or HTML is
    /// sent as readable text (`**Refund**` reads `Refund`, a link reads `text (url)`).
    pub body: String,
    /// How `body` is written: `markdown`, `text` or `html`. Default: the deployment's `BODY_FORMAT`.
    #[serde(default)]
    pub body_format: Option<BodyFormat>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateConversationResponse {
    pub conversation_id: String,
    pub contact_id: String,
    pub contact_created: bool,
}

/// Finds or creates the contact, then opens a conversation as them with `body`.
pub async fn create_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    request: CreateConversationRequest,
) -> Result<CreateConversationResponse, ActionError> {
    let key = contact_key(request.contact_id, request.user_id, request.user_email)?;
    let body = message_body("body", &request.body)?;
    // `POST /conversations` takes plain text only ("HTML is not supported").
    let body = to_customer_text(&body, request.body_format.unwrap_or_else(crate::config::default_body_format));
    let body = message_body("body", &body)?;
    let name = optional_text("name", request.name, 255)?;
    let resolved = helpdesk.find_or_create_contact(&key, name, None).await?;
    // Before sending: the webhook must know this customer message is ours, even if its event comes first.
    crate::ours::remember_customer_message(store, &resolved.contact.id, &body).await?;
    let conversation_id = helpdesk.create_conversation(&resolved.contact, &body).await?;
    tracing::info!(%conversation_id, contact_id = %resolved.contact.id, contact_created = resolved.created, "conversation opened");
    Ok(CreateConversationResponse {
        conversation_id,
        contact_id: resolved.contact.id,
        contact_created: resolved.created,
    })
}
