//! `create-conversation`: finds or creates the customer, then opens a conversation written as them.

use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::actions::find_conversations::{MAX_LIMIT, search_page};
use crate::format::{BodyFormat, to_customer_text};

use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::ConversationQuery;
use crate::intercom::models::Contact;
use crate::store::Store;
use crate::validate::{contact_key, message_body, optional_text};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = crate::validate::schema::customer_key))]
pub struct CreateConversationRequest {
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(email, length(max = crate::validate::MAX_EMAIL_BYTES), regex(pattern = crate::validate::schema::EMAIL)))]
    pub user_email: Option<String>,
    /// The id in the customer's own system (Intercom `external_id`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_USER_ID_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub user_id: Option<String>,
    /// The Intercom contact id (letters and digits); wins over userId and userEmail.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::CONTACT_ID)))]
    pub contact_id: Option<String>,
    /// Used only when the contact is created (blank: none).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_NAME_CHARS)))]
    pub name: Option<String>,
    /// The customer's message that opens the conversation. Intercom shows it as plain text: Markdown or HTML is
    /// sent as readable text (`**Refund**` reads `Refund`, a link reads `text (url)`).
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_MESSAGE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub body: String,
    /// How `body` is written: `markdown`, `text` or `html`. Default: the deployment's `BODY_FORMAT`.
    #[serde(default)]
    pub body_format: Option<BodyFormat>,
    /// When the customer has an open conversation updated within `CONTINUE_WINDOW_HOURS` (default 24), add the
    /// message to it as their reply instead of opening a new one.
    #[serde(default)]
    pub continue_open: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateConversationResponse {
    pub conversation_id: String,
    pub contact_id: String,
    pub contact_created: bool,
    /// Present (true) when the message was added to an open conversation (`continueOpen`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continued: bool,
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
    if request.continue_open
        && !resolved.created
        && let Some(continued) = continue_open_conversation(helpdesk, store, &resolved.contact, &body).await?
    {
        return Ok(continued);
    }
    // Before sending: the webhook must know this customer message is ours, even if its event comes first.
    crate::store::written_as_customer::remember_customer_message(store, &resolved.contact.id, &body).await?;
    let conversation_id = helpdesk.create_conversation(&resolved.contact, &body).await?;
    crate::store::recently_opened::note_opened(store, &resolved.contact.id, &conversation_id).await;
    tracing::info!(%conversation_id, contact_id = %resolved.contact.id, contact_created = resolved.created, "conversation opened");
    Ok(CreateConversationResponse {
        conversation_id,
        contact_id: resolved.contact.id,
        contact_created: resolved.created,
        continued: false,
    })
}

/// How recently an open conversation must have been updated for `continueOpen` to add to it.
pub const CONTINUE_WINDOW_VAR: &str = "CONTINUE_WINDOW_HOURS";
pub const DEFAULT_CONTINUE_WINDOW_HOURS: u64 = 24;

/// `CONTINUE_WINDOW_HOURS` read once per container; `main` calls it so a bad value fails the cold start.
pub fn continue_window() -> Result<Duration, ActionError> {
    static WINDOW: OnceLock<Result<Duration, String>> = OnceLock::new();
    WINDOW
        .get_or_init(|| parse_continue_window(std::env::var(CONTINUE_WINDOW_VAR).ok().as_deref()))
        .clone()
        .map_err(|message| ActionError::Unavailable { message })
}

/// Whole hours from 1 to 720 (30 days); unset or blank is the default.
pub fn parse_continue_window(raw: Option<&str>) -> Result<Duration, String> {
    let hours = match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => DEFAULT_CONTINUE_WINDOW_HOURS,
        Some(v) => v.parse::<u64>().ok().filter(|h| (1..=720).contains(h)).ok_or_else(|| {
            format!("{CONTINUE_WINDOW_VAR}={v:?} must be a whole number of hours from 1 to 720 (default 24)")
        })?,
    };
    Ok(Duration::from_secs(hours * 3600))
}

/// `continueOpen`: the customer's newest open conversation updated within the window gets `body` as their reply.
/// `None` when there is none (then a new conversation is opened).
async fn continue_open_conversation<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn Store,
    contact: &Contact,
    body: &str,
) -> Result<Option<CreateConversationResponse>, ActionError> {
    let window = continue_window()?;
    let since = crate::store::now_epoch_secs().saturating_sub(window.as_secs() as i64);
    let query = ConversationQuery {
        contact_id: contact.id.clone(),
        state: Some("open".into()),
        updated_since: Some(since),
        per_page: MAX_LIMIT,
        starting_after: None,
    };
    // Newest update first, with the conversations search does not list yet.
    let (open, _) = search_page(helpdesk, store, &query).await?;
    let Some((conversation, _)) = open.into_iter().next() else { return Ok(None) };
    crate::store::written_as_customer::remember_customer_message(store, &contact.id, body).await?;
    helpdesk.reply_as_contact(&conversation.id, contact, body).await?;
    tracing::info!(conversation_id = %conversation.id, contact_id = %contact.id, "customer message added to their open conversation");
    Ok(Some(CreateConversationResponse {
        conversation_id: conversation.id,
        contact_id: contact.id.clone(),
        contact_created: false,
        continued: true,
    }))
}

#[cfg(test)]
mod continue_open_tests {
    use serde_json::json;

    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::{ConversationPage, ResolvedContact};
    use crate::store::memory::MemoryStore;
    use crate::testing::{contact, conversation};

    fn request(continue_open: bool) -> CreateConversationRequest {
        serde_json::from_value(
            json!({"userEmail": "jane@example.com", "body": "Still broken", "continueOpen": continue_open}),
        )
        .unwrap()
    }

    fn existing_jane(helpdesk: &mut MockHelpdesk) {
        helpdesk
            .expect_find_or_create_contact()
            .returning(|_, _, _| Ok(ResolvedContact { contact: contact("c1", "jane@example.com"), created: false }));
    }

    #[test]
    fn the_window_is_whole_hours_with_a_default() {
        assert_eq!(parse_continue_window(None), Ok(Duration::from_secs(24 * 3600)));
        assert_eq!(parse_continue_window(Some(" ")), Ok(Duration::from_secs(24 * 3600)));
        assert_eq!(parse_continue_window(Some("2")), Ok(Duration::from_secs(2 * 3600)));
        for bad in ["0", "1.5", "-3", "721", "day"] {
            let err = parse_continue_window(Some(bad)).unwrap_err();
            assert!(err.starts_with(&format!("CONTINUE_WINDOW_HOURS=\"{bad}\" must be a whole number")), "{err}");
        }
    }

    #[tokio::test]
    async fn an_open_conversation_in_the_window_gets_the_message_as_the_customers_reply() {
        let store = MemoryStore::new();
        let mut helpdesk = MockHelpdesk::new();
        existing_jane(&mut helpdesk);
        helpdesk
            .expect_search_conversations()
            .withf(|q| {
                let window_start = crate::store::now_epoch_secs() - 24 * 3600;
                q.contact_id == "c1"
                    && q.state.as_deref() == Some("open")
                    && q.updated_since.is_some_and(|s| (s - window_start).abs() <= 5)
            })
            .returning(|_| {
                Ok(serde_json::from_value::<ConversationPage>(
                    json!({"conversations": [{"id": "7", "state": "open", "updated_at": 5}, {"id": "8", "state": "open", "updated_at": 9}]}),
                )
                .unwrap())
            });
        helpdesk
            .expect_reply_as_contact()
            .withf(|id, c, body| id == "8" && c.id == "c1" && body == "Still broken")
            .times(1)
            .returning(|_, _, _| Ok(conversation(json!({"id": "8"}))));
        let answer = create_conversation(&helpdesk, &store, request(true)).await.unwrap();
        assert_eq!((answer.conversation_id.as_str(), answer.continued), ("8", true));
        assert_eq!(serde_json::to_value(&answer).unwrap()["continued"], true);
        assert!(
            crate::store::written_as_customer::is_ours(&store, "c1", "<p>Still broken</p>").await.unwrap(),
            "the webhook knows it is ours"
        );
    }

    #[tokio::test]
    async fn without_an_open_conversation_a_new_one_is_opened_and_remembered() {
        let store = MemoryStore::new();
        let mut helpdesk = MockHelpdesk::new();
        existing_jane(&mut helpdesk);
        helpdesk
            .expect_search_conversations()
            .returning(|_| Ok(serde_json::from_value::<ConversationPage>(json!({"conversations": []})).unwrap()));
        helpdesk.expect_create_conversation().times(1).returning(|_, _| Ok("9".into()));
        let answer = create_conversation(&helpdesk, &store, request(true)).await.unwrap();
        assert_eq!((answer.conversation_id.as_str(), answer.continued), ("9", false));
        assert!(serde_json::to_value(&answer).unwrap().get("continued").is_none());
        assert_eq!(crate::store::recently_opened::recently_opened(&store, "c1").await.unwrap(), ["9"]);
    }

    #[tokio::test]
    async fn without_continue_open_nothing_is_searched() {
        let mut helpdesk = MockHelpdesk::new(); // a search would panic: none is expected
        existing_jane(&mut helpdesk);
        helpdesk.expect_create_conversation().times(1).returning(|_, _| Ok("9".into()));
        let answer = create_conversation(&helpdesk, &MemoryStore::new(), request(false)).await.unwrap();
        assert!(!answer.continued);
    }
}
