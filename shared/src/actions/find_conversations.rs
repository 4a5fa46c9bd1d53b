//! `find-conversations`: a customer's conversations, newest update first within a page, one page at a time.
//!
//! One search per call (`POST /conversations/search`), plus a read by id for each conversation our functions
//! opened in the last minutes that search does not list yet (its index lags; [`crate::store::recently_opened`]). Who handles a
//! conversation comes from the search result's own fields: a result carries no parts, so it is decided with
//! [`History::Recent`] and reported only when that settles it.

use futures::future::join_all;
use serde::{Deserialize, Serialize};

use crate::actions::get_conversation::{AssigneeSummary, Author};
use crate::handoff::{Context, Decision, Handling, HandoffSettings, History, OwnershipRule};
use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::Conversation;
use crate::intercom::{ConversationQuery, IntercomError};
use crate::text::html_to_text;
use crate::validate::contact_key;

/// The largest page an agent may ask for.
pub const MAX_LIMIT: u32 = 50;
pub const DEFAULT_LIMIT: u32 = 20;
/// Characters of the last message shown in a preview.
pub const PREVIEW_CHARS: usize = 200;
const MAX_CURSOR_CHARS: usize = 1000;
/// Later than this, `updatedSince` is taken for milliseconds (year 5138 in seconds).
const MAX_UPDATED_SINCE: i64 = 100_000_000_000;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = crate::validate::schema::customer_key))]
pub struct FindConversationsRequest {
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
    /// `open`, `closed`, `snoozed` or `any` (default).
    #[serde(default)]
    pub state: StateFilter,
    /// Only conversations updated at or after this Unix time (seconds).
    #[serde(default, deserialize_with = "crate::validate::whole::option_i64")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = MAX_UPDATED_SINCE)))]
    pub updated_since: Option<i64>,
    /// Conversations per page, 1 to 50 (default 20).
    #[serde(default, deserialize_with = "crate::validate::whole::option_u32")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = MAX_LIMIT)))]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page; absent for the first page.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_CURSOR_CHARS), regex(pattern = crate::validate::schema::NO_CONTROL)))]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum StateFilter {
    Open,
    Closed,
    Snoozed,
    #[default]
    Any,
}

impl StateFilter {
    fn intercom_state(self) -> Option<&'static str> {
        match self {
            StateFilter::Open => Some("open"),
            StateFilter::Closed => Some("closed"),
            StateFilter::Snoozed => Some("snoozed"),
            StateFilter::Any => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FoundConversations {
    pub contact_id: String,
    /// Newest update first within this page. Across pages no order holds (Intercom's search has no sort), but
    /// together the pages list each matching conversation once.
    pub conversations: Vec<ConversationSummary>,
    /// Pass it as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub conversation_id: String,
    /// `open`, `closed` or `snoozed`.
    pub state: Option<String>,
    pub title: Option<String>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub assignee: AssigneeSummary,
    pub last_message: Option<MessagePreview>,
    /// `ai` or `human` when the conversation's assignment settles it; null when only its full history would
    /// (call get-conversation then).
    pub handling: Option<Handling>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessagePreview {
    /// `message` for the opening message, else Intercom's part type (comment, note, …). Search results carry
    /// only the opening message, so it is the newest one this answer knows, not always the newest there is.
    pub kind: String,
    pub author: Author,
    /// The first 200 characters, as plain text.
    pub text: String,
    pub created_at: Option<i64>,
}

/// A validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filters {
    state: StateFilter,
    updated_since: Option<i64>,
    limit: u32,
    cursor: Option<String>,
}

pub async fn find_conversations<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn crate::store::Store,
    settings: &HandoffSettings,
    request: FindConversationsRequest,
) -> Result<FoundConversations, ActionError> {
    let filters = filters(&request)?;
    let key = contact_key(request.contact_id, request.user_id, request.user_email)?;
    let contact = helpdesk.find_contact(&key).await?.ok_or_else(|| ActionError::NotFound {
        field: None,
        message: "no Intercom contact matches this customer; check the userEmail, userId or contactId".into(),
        intercom_request_id: None,
    })?;
    let rule = ownership_rule(helpdesk, settings).await?;
    let query = ConversationQuery {
        contact_id: contact.id.clone(),
        state: filters.state.intercom_state().map(str::to_owned),
        updated_since: filters.updated_since,
        per_page: filters.limit,
        starting_after: filters.cursor,
    };
    let (found, next_cursor) = search_page(helpdesk, store, &query).await?;
    let conversations = found.iter().map(|(c, history)| summary(c, handling(&rule, c, *history))).collect();
    Ok(FoundConversations { contact_id: contact.id, conversations, next_cursor })
}

/// Intercom's 400 about pagination when a cursor was sent: the agent's `cursor` is not one Intercom gave (a
/// 400 naming that field, not a 502: Intercom is fine, the cursor is not). Anything else maps as usual.
fn refused_cursor(e: IntercomError, query: &ConversationQuery) -> ActionError {
    let about_cursor = |field: &Option<String>, message: &str| {
        let said = |s: &str| s.contains("starting_after") || s.contains("pagination") || s.contains("cursor");
        field.as_deref().is_some_and(said) || said(&message.to_ascii_lowercase())
    };
    match e {
        IntercomError::Api { status: 400 | 422, ref field, ref message, .. }
            if query.starting_after.is_some() && about_cursor(field, message) =>
        {
            ActionError::bad_request(
                "cursor",
                "Intercom does not accept this cursor; pass the nextCursor of the previous page unchanged, or leave \
                 cursor out for the first page",
            )
        }
        e => e.into(),
    }
}

/// One page of `query`, newest update first, with the cursor of the next. The first page also holds the
/// conversations our functions opened recently that search does not list yet (read whole, hence
/// [`History::Full`]); later pages leave those out, so the walk lists each once.
pub async fn search_page<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    store: &dyn crate::store::Store,
    query: &ConversationQuery,
) -> Result<(Vec<(Conversation, History)>, Option<String>), ActionError> {
    let page = helpdesk.search_conversations(query).await.map_err(|e| refused_cursor(e, query))?;
    let next_cursor = page.next_cursor().map(str::to_owned);
    let recent = match crate::store::recently_opened::recently_opened(store, &query.contact_id).await {
        Ok(ids) => ids,
        Err(e) => {
            // Only the lag's workaround is lost: search still answers.
            tracing::warn!(error = %e, "could not read the recently opened conversations; answering from search alone");
            Vec::new()
        }
    };
    let mut found: Vec<(Conversation, History)> = page
        .conversations
        .into_iter()
        .filter(|c| query.starting_after.is_none() || !recent.contains(&c.id))
        .map(|c| (c, History::Recent))
        .collect();
    if query.starting_after.is_none() {
        let missing: Vec<&String> = recent.iter().filter(|id| !found.iter().any(|(c, _)| &c.id == *id)).collect();
        let reads = join_all(missing.iter().map(|id| helpdesk.get_conversation(id))).await;
        for (id, read) in missing.into_iter().zip(reads) {
            match read {
                Ok(conversation) if matches(&conversation, query) => found.push((conversation, History::Full)),
                Ok(_) => {}
                Err(e) if e.is_not_found() => tracing::debug!(conversation_id = %id, "a recent conversation is gone"),
                Err(e) => return Err(e.into()),
            }
        }
    }
    found.sort_by_key(|(c, _)| std::cmp::Reverse(c.updated_at.unwrap_or(0)));
    Ok((found, next_cursor))
}

/// The search's filters, applied to a conversation read by id.
fn matches(conversation: &Conversation, query: &ConversationQuery) -> bool {
    conversation.contacts.contacts.iter().any(|c| c.id == query.contact_id)
        && query.state.as_deref().is_none_or(|s| conversation.state.as_deref() == Some(s))
        && query.updated_since.is_none_or(|since| conversation.updated_at.is_some_and(|t| t >= since))
}

fn filters(request: &FindConversationsRequest) -> Result<Filters, ActionError> {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ActionError::bad_request("limit", format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    if let Some(since) = request.updated_since {
        if since < 0 {
            return Err(ActionError::bad_request("updatedSince", "updatedSince must be a Unix time in seconds"));
        }
        if since > MAX_UPDATED_SINCE {
            return Err(ActionError::bad_request(
                "updatedSince",
                "updatedSince must be a Unix time in seconds, not milliseconds",
            ));
        }
    }
    let cursor = match request.cursor.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if c.chars().count() > MAX_CURSOR_CHARS || c.chars().any(|ch| ch.is_control()) => {
            return Err(ActionError::bad_request("cursor", "cursor must be the nextCursor of a previous answer"));
        }
        Some(c) => Some(c.to_owned()),
    };
    Ok(Filters { state: request.state, updated_since: request.updated_since, limit, cursor })
}

/// The ownership rule for the AI's admin: `INTERCOM_ADMIN_ID`, else the token's owner.
async fn ownership_rule<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    settings: &HandoffSettings,
) -> Result<OwnershipRule, ActionError> {
    let admin_id = match &settings.admin_id {
        Some(id) => id.clone(),
        None => helpdesk.admin_id().await?,
    };
    Ok(settings.rule(admin_id))
}

fn handling(rule: &OwnershipRule, conversation: &Conversation, history: History) -> Option<Handling> {
    match rule.decide(conversation, &Context { history, ..Context::default() }) {
        Decision::Decided(ownership) => Some(ownership.handling),
        Decision::NeedsFullConversation { .. } => None,
    }
}

fn summary(conversation: &Conversation, handling: Option<Handling>) -> ConversationSummary {
    ConversationSummary {
        conversation_id: conversation.id.clone(),
        state: conversation.state.clone(),
        title: conversation.title.clone().filter(|t| !t.trim().is_empty()),
        created_at: conversation.created_at,
        updated_at: conversation.updated_at,
        snoozed_until: conversation.snoozed_until,
        assignee: AssigneeSummary {
            admin_id: conversation.admin_assignee_id.clone(),
            team_id: conversation.team_assignee_id.clone(),
        },
        last_message: last_message(conversation),
        handling,
    }
}

/// The newest part with text, else the opening message.
fn last_message(conversation: &Conversation) -> Option<MessagePreview> {
    let newest_part = conversation.conversation_parts.conversation_parts.iter().rev().find_map(|part| {
        let text = part.body.as_deref().map(html_to_text).filter(|t| !t.trim().is_empty())?;
        Some((part.part_type.clone().unwrap_or_else(|| "unknown".into()), part.author.as_ref(), text, part.created_at))
    });
    let (kind, author, text, created_at) = match newest_part {
        Some(found) => found,
        None => {
            let source = conversation.source.as_ref()?;
            let text = source.body.as_deref().map(html_to_text).unwrap_or_default();
            ("message".to_owned(), source.author.as_ref(), text, conversation.created_at)
        }
    };
    let author = author.cloned().unwrap_or_default();
    Some(MessagePreview {
        kind,
        author: Author { kind: author.kind, id: author.id, name: author.name, email: author.email },
        text: preview(&text),
        created_at,
    })
}

fn preview(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::{ContactKey, ConversationPage, IntercomError};
    use crate::store::memory::MemoryStore;
    use crate::testing::{contact, conversation};
    use serde_json::json;

    fn request(body: serde_json::Value) -> FindConversationsRequest {
        serde_json::from_value(body).unwrap()
    }

    fn settings() -> HandoffSettings {
        HandoffSettings { admin_id: Some("991267".into()), ..HandoffSettings::default() }
    }

    fn page(conversations: serde_json::Value, next: Option<&str>) -> ConversationPage {
        serde_json::from_value(json!({"conversations": conversations, "pages": {"next": {"starting_after": next}}}))
            .unwrap()
    }

    fn jane(helpdesk: &mut MockHelpdesk) {
        helpdesk
            .expect_find_contact()
            .withf(|key| *key == ContactKey::Email("jane@example.com".into()))
            .returning(|_| Ok(Some(contact("c1", "jane@example.com"))));
    }

    #[tokio::test]
    async fn a_page_is_newest_first_with_previews_and_the_handling_the_assignment_settles() {
        let mut helpdesk = MockHelpdesk::new();
        jane(&mut helpdesk);
        helpdesk
            .expect_search_conversations()
            .withf(|q| {
                q.contact_id == "c1"
                    && q.state.as_deref() == Some("open")
                    && q.updated_since == Some(1_700_000_000)
                    && q.per_page == 2
                    && q.starting_after.is_none()
            })
            .returning(|_| {
                Ok(page(
                    json!([
                        {"id": "1", "state": "open", "updated_at": 10, "admin_assignee_id": 991268,
                         "source": {"body": "<p>Old   one</p>", "author": {"type": "user", "id": "c1"}}},
                        {"id": "2", "state": "open", "updated_at": 20, "admin_assignee_id": null,
                         "source": {"body": "<p>New</p>", "author": {"type": "user", "id": "c1"}}}
                    ]),
                    Some("cur2"),
                ))
            });
        let found = find_conversations(
            &helpdesk,
            &MemoryStore::new(),
            &settings(),
            request(
                json!({"userEmail": "jane@example.com", "state": "open", "updatedSince": 1_700_000_000, "limit": 2}),
            ),
        )
        .await
        .unwrap();
        let ids: Vec<_> = found.conversations.iter().map(|c| c.conversation_id.as_str()).collect();
        assert_eq!(ids, ["2", "1"]);
        assert_eq!(found.next_cursor.as_deref(), Some("cur2"));
        assert_eq!(found.conversations[1].handling, Some(Handling::Human), "assigned to another admin");
        assert_eq!(found.conversations[0].handling, None, "unassigned: only the full history settles it");
        let preview = found.conversations[1].last_message.as_ref().unwrap();
        assert_eq!((preview.kind.as_str(), preview.text.as_str()), ("message", "Old one"));
        assert_eq!(found.conversations[1].assignee.admin_id.as_deref(), Some("991268"));
    }

    #[tokio::test]
    async fn a_conversation_search_does_not_list_yet_is_read_on_the_first_page_only() {
        let store = MemoryStore::new();
        crate::store::recently_opened::remember_opened(&store, "c1", "9").await.unwrap();
        let mut helpdesk = MockHelpdesk::new();
        jane(&mut helpdesk);
        helpdesk.expect_search_conversations().returning(|q| {
            Ok(if q.starting_after.is_none() {
                page(json!([{"id": "1", "state": "open", "updated_at": 10}]), Some("cur2"))
            } else {
                // The index caught up: search lists it now, on a later page.
                page(json!([{"id": "9", "state": "open", "updated_at": 30}, {"id": "3", "updated_at": 5}]), None)
            })
        });
        helpdesk.expect_get_conversation().withf(|id| id == "9").times(1).returning(|_| {
            Ok(conversation(json!({"id": "9", "state": "open", "updated_at": 30,
                "contacts": {"contacts": [{"id": "c1"}]},
                "source": {"body": "<p>Hi</p>", "author": {"type": "user", "id": "c1"}},
                "conversation_parts": {"total_count": 1, "conversation_parts": [
                    {"id": "p1", "part_type": "comment", "body": "<p>Any news?</p>", "created_at": 30,
                     "author": {"type": "user", "id": "c1"}}]}})))
        });
        let ask = |cursor: Option<&str>| request(json!({"userEmail": "jane@example.com", "cursor": cursor}));
        let first = find_conversations(&helpdesk, &store, &settings(), ask(None)).await.unwrap();
        let ids: Vec<_> = first.conversations.iter().map(|c| c.conversation_id.as_str()).collect();
        assert_eq!(ids, ["9", "1"]);
        assert_eq!(first.conversations[0].last_message.as_ref().unwrap().text, "Any news?");
        assert_eq!(first.conversations[0].handling, Some(Handling::Ai), "read whole: unassigned, never handed off");
        let second = find_conversations(&helpdesk, &store, &settings(), ask(Some("cur2"))).await.unwrap();
        let ids: Vec<_> = second.conversations.iter().map(|c| c.conversation_id.as_str()).collect();
        assert_eq!(ids, ["3"]);
        assert_eq!(second.next_cursor, None);
    }

    #[tokio::test]
    async fn a_recent_conversation_that_does_not_match_the_filters_is_left_out() {
        let store = MemoryStore::new();
        crate::store::recently_opened::remember_opened(&store, "c1", "9").await.unwrap();
        let mut helpdesk = MockHelpdesk::new();
        jane(&mut helpdesk);
        helpdesk.expect_search_conversations().returning(|_| Ok(page(json!([]), None)));
        helpdesk.expect_get_conversation().returning(|_| {
            Ok(conversation(json!({"id": "9", "state": "closed", "updated_at": 30,
                "contacts": {"contacts": [{"id": "c1"}]}})))
        });
        let found = find_conversations(
            &helpdesk,
            &store,
            &settings(),
            request(json!({"userEmail": "jane@example.com", "state": "open"})),
        )
        .await
        .unwrap();
        assert!(found.conversations.is_empty());
    }

    #[tokio::test]
    async fn bad_filters_are_refused_before_any_call() {
        let helpdesk = MockHelpdesk::new();
        let cases = [
            (json!({"userEmail": "jane@example.com", "limit": 51}), "limit", "limit must be between 1 and 50"),
            (json!({"userEmail": "jane@example.com", "limit": 0}), "limit", "limit must be between 1 and 50"),
            (
                json!({"userEmail": "jane@example.com", "updatedSince": 1_700_000_000_000i64}),
                "updatedSince",
                "not milliseconds",
            ),
            (json!({"userEmail": "jane@example.com", "updatedSince": -1}), "updatedSince", "Unix time in seconds"),
            (json!({"userEmail": "jane@example.com", "cursor": "a\nb"}), "cursor", "nextCursor"),
            (json!({"limit": 5}), "userEmail", "userEmail, userId or contactId"),
        ];
        for (body, field, message) in cases {
            let err = find_conversations(&helpdesk, &MemoryStore::new(), &settings(), request(body.clone()))
                .await
                .unwrap_err();
            match err {
                ActionError::BadRequest { field: Some(f), message: m } => {
                    assert_eq!(f, field, "{body}");
                    assert!(m.contains(message), "{body}: {m}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let err =
            serde_json::from_value::<FindConversationsRequest>(json!({"userEmail": "a@b.co", "state": "pending"}))
                .unwrap_err();
        assert!(err.to_string().contains("unknown variant `pending`"), "{err}");
    }

    #[tokio::test]
    async fn an_unknown_customer_is_a_404_and_intercom_errors_pass_through() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_contact().returning(|_| Ok(None));
        let err = find_conversations(&helpdesk, &MemoryStore::new(), &settings(), request(json!({"userId": "u-1"})))
            .await
            .unwrap_err();
        assert!(matches!(err, ActionError::NotFound { .. }), "{err:?}");

        let mut helpdesk = MockHelpdesk::new();
        jane(&mut helpdesk);
        helpdesk.expect_search_conversations().returning(|_| Err(IntercomError::DeadlineExceeded));
        let err = find_conversations(
            &helpdesk,
            &MemoryStore::new(),
            &settings(),
            request(json!({"userEmail": "jane@example.com"})),
        )
        .await
        .unwrap_err();
        assert!(!matches!(err, ActionError::BadRequest { .. }), "{err:?}");
    }

    #[test]
    fn previews_are_cut_at_200_characters() {
        assert_eq!(preview("a  b\n c"), "a b c");
        let long = "x".repeat(300);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    fn refusal(status: u16, field: Option<&str>, message: &str) -> IntercomError {
        IntercomError::Api {
            status,
            code: "parameter_invalid".into(),
            message: message.into(),
            field: field.map(str::to_owned),
            request_id: None,
        }
    }

    #[tokio::test]
    async fn a_cursor_intercom_refuses_is_a_400_naming_cursor_not_a_502() {
        let mut helpdesk = MockHelpdesk::new();
        jane(&mut helpdesk);
        helpdesk.expect_search_conversations().returning(|q| match q.starting_after.as_deref() {
            Some(_) => Err(refusal(400, Some("pagination"), "starting_after is not a valid cursor")),
            None => Ok(page(json!([]), None)),
        });
        let ask = |cursor: Option<&str>| request(json!({"userEmail": "jane@example.com", "cursor": cursor}));
        let err =
            find_conversations(&helpdesk, &MemoryStore::new(), &settings(), ask(Some("made-up"))).await.unwrap_err();
        assert_eq!((err.status().as_u16(), err.code()), (400, "invalid_request"));
        assert_eq!(err.to_json()["field"], "cursor");
        assert!(err.to_string().contains("nextCursor of the previous page"), "{err}");
        assert!(find_conversations(&helpdesk, &MemoryStore::new(), &settings(), ask(None)).await.is_ok());
    }

    #[test]
    fn only_a_refusal_about_pagination_with_a_cursor_blames_the_cursor() {
        let with = |cursor: Option<&str>| ConversationQuery {
            contact_id: "c1".into(),
            state: None,
            updated_since: None,
            per_page: 20,
            starting_after: cursor.map(str::to_owned),
        };
        let about = refusal(400, None, "Invalid starting_after parameter");
        assert_eq!(refused_cursor(about.clone(), &with(Some("x"))).to_json()["field"], "cursor");
        // Without a cursor, or about something else, Intercom's refusal stays what it is.
        assert_eq!(refused_cursor(about, &with(None)).code(), "intercom_rejected");
        let other = refusal(400, Some("query"), "Invalid query");
        assert_eq!(refused_cursor(other, &with(Some("x"))).code(), "intercom_rejected");
        let gone = IntercomError::Api {
            status: 404,
            code: "not_found".into(),
            message: "Resource Not Found".into(),
            field: None,
            request_id: None,
        };
        assert_eq!(refused_cursor(gone, &with(Some("x"))).code(), "not_found");
    }

    #[test]
    fn whole_number_floats_are_integers_and_fractions_are_refused_by_name() {
        let decoded: FindConversationsRequest = crate::http::from_value(
            json!({"userEmail": "jane@example.com", "updatedSince": 1_700_000_000.0, "limit": 5.0}),
        )
        .unwrap();
        assert_eq!((decoded.updated_since, decoded.limit), (Some(1_700_000_000), Some(5)));
        for (body, field) in [
            (json!({"userEmail": "a@b.co", "updatedSince": 5.5}), "updatedSince"),
            (json!({"userEmail": "a@b.co", "limit": 2.5}), "limit"),
            (json!({"userEmail": "a@b.co", "limit": -1}), "limit"),
            (json!({"userEmail": "a@b.co", "updatedSince": 1e300}), "updatedSince"),
        ] {
            match crate::http::from_value::<FindConversationsRequest>(body.clone()) {
                Err(ActionError::BadRequest { field: Some(f), message }) => {
                    assert_eq!(f, field, "{body}");
                    assert!(message.contains("expected a whole number"), "{message}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let strings = crate::http::from_value::<FindConversationsRequest>(json!({"userEmail": "a@b.co", "limit": "5"}));
        assert!(matches!(strings, Err(ActionError::BadRequest { .. })), "{strings:?}");
    }
}
