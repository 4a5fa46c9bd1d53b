//! `POST /conversations/search` (a contact's conversations, by state and last update) and the customer's reply
//! (`POST /conversations/{id}/reply` with `type: user`).
//!
//! Intercom's search index trails writes by seconds to minutes and has no sort order: callers that need a
//! conversation they just opened read it by id (see [`crate::store::recently_opened`]).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::MessageKind;
use super::client::{IntercomClient, Retry};
use super::contacts::segment;
use super::conversations::{AdminMessage, contains_reply};
use super::error::IntercomError;
use super::models::{Contact, Conversation};

/// Intercom's largest search page.
pub const MAX_SEARCH_PAGE: u32 = 150;

/// Which of a contact's conversations to list. Every filter is optional but the contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationQuery {
    pub contact_id: String,
    /// `open`, `closed` or `snoozed`; `None` for every state.
    pub state: Option<String>,
    /// Only conversations updated at or after this Unix time (seconds).
    pub updated_since: Option<i64>,
    pub per_page: u32,
    /// Intercom's `starting_after` cursor from the previous page.
    pub starting_after: Option<String>,
}

/// One page of a search.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConversationPage {
    /// Search results carry the conversation without its parts (only `source`, the opening message).
    #[serde(default)]
    pub conversations: Vec<Conversation>,
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub pages: Option<Pages>,
}

impl ConversationPage {
    /// The cursor of the next page; `None` on the last one.
    pub fn next_cursor(&self) -> Option<&str> {
        self.pages
            .as_ref()
            .and_then(|p| p.next.as_ref())
            .and_then(|n| n.starting_after.as_deref())
            .filter(|c| !c.is_empty())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Pages {
    #[serde(default)]
    pub next: Option<NextPage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NextPage {
    #[serde(default)]
    pub starting_after: Option<String>,
}

/// The `search_request` body: an `AND` of single filters, and the page.
#[derive(Debug, Serialize)]
pub(crate) struct SearchConversations<'a> {
    query: AllOf<'a>,
    pagination: Pagination<'a>,
}

#[derive(Debug, Serialize)]
struct AllOf<'a> {
    operator: &'static str,
    value: Vec<Filter<'a>>,
}

#[derive(Debug, Serialize)]
struct Filter<'a> {
    field: &'static str,
    operator: &'static str,
    value: FilterValue<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum FilterValue<'a> {
    Text(&'a str),
    Number(i64),
}

#[derive(Debug, Serialize)]
struct Pagination<'a> {
    per_page: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_after: Option<&'a str>,
}

impl<'a> SearchConversations<'a> {
    pub(crate) fn new(query: &'a ConversationQuery) -> Self {
        let mut filters =
            vec![Filter { field: "contact_ids", operator: "=", value: FilterValue::Text(&query.contact_id) }];
        if let Some(state) = &query.state {
            filters.push(Filter { field: "state", operator: "=", value: FilterValue::Text(state) });
        }
        if let Some(since) = query.updated_since {
            filters.push(Filter { field: "updated_at", operator: ">=", value: FilterValue::Number(since) });
        }
        SearchConversations {
            query: AllOf { operator: "AND", value: filters },
            pagination: Pagination {
                per_page: query.per_page.clamp(1, MAX_SEARCH_PAGE),
                starting_after: query.starting_after.as_deref(),
            },
        }
    }
}

/// `POST /conversations/{id}/reply` as the customer.
#[derive(Debug, Serialize)]
struct ContactReply<'a> {
    message_type: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    intercom_user_id: &'a str,
    body: &'a str,
}

impl IntercomClient {
    /// One page of the contact's conversations. A search is a read: safe to retry.
    pub async fn search_conversations(&self, query: &ConversationQuery) -> Result<ConversationPage, IntercomError> {
        let body = SearchConversations::new(query);
        self.send(Method::POST, "conversations/search", &[], Some(&body), Retry::Idempotent, "a conversation search")
            .await
    }

    /// Adds `body` to the conversation as the contact's own message (it reopens a closed or snoozed one).
    ///
    /// Like an admin reply it is never sent twice: a lost answer is settled by reading the conversation back.
    pub async fn reply_as_contact(
        &self,
        conversation_id: &str,
        contact: &Contact,
        body: &str,
    ) -> Result<Conversation, IntercomError> {
        let path = format!("conversations/{}/reply", segment(conversation_id));
        // Intercom takes `type: user` for leads too; the id says who writes.
        let request = ContactReply { message_type: "comment", kind: "user", intercom_user_id: &contact.id, body };
        let sent_at =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        match self.send(Method::POST, &path, &[], Some(&request), Retry::Once, "the customer's reply").await {
            Err(IntercomError::OutcomeUnknown { operation, request_id }) => {
                tracing::warn!(conversation_id, "the customer reply's answer was lost; checking whether it was posted");
                match self.get_conversation(conversation_id).await {
                    Ok(conversation)
                        if contains_reply(
                            &conversation,
                            MessageKind::Comment,
                            &contact.id,
                            &AdminMessage::html(body),
                            sent_at,
                        )
                        .is_some() =>
                    {
                        Ok(conversation)
                    }
                    // Absent or unreadable: the caller must not treat this as a failure it can simply repeat.
                    _ => Err(IntercomError::OutcomeUnknown { operation, request_id }),
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_body_is_an_and_of_the_filters_given() {
        let query = ConversationQuery {
            contact_id: "c1".into(),
            state: Some("open".into()),
            updated_since: Some(1_700_000_000),
            per_page: 20,
            starting_after: Some("WzE3MDAwMDAwMDBd".into()),
        };
        assert_eq!(
            serde_json::to_value(SearchConversations::new(&query)).unwrap(),
            serde_json::json!({
                "query": {"operator": "AND", "value": [
                    {"field": "contact_ids", "operator": "=", "value": "c1"},
                    {"field": "state", "operator": "=", "value": "open"},
                    {"field": "updated_at", "operator": ">=", "value": 1_700_000_000}
                ]},
                "pagination": {"per_page": 20, "starting_after": "WzE3MDAwMDAwMDBd"}
            })
        );
        let bare = ConversationQuery { state: None, updated_since: None, starting_after: None, ..query };
        assert_eq!(
            serde_json::to_value(SearchConversations::new(&bare)).unwrap(),
            serde_json::json!({
                "query": {"operator": "AND", "value": [{"field": "contact_ids", "operator": "=", "value": "c1"}]},
                "pagination": {"per_page": 20}
            })
        );
    }

    #[test]
    fn the_next_cursor_is_read_from_pages_next() {
        let page: ConversationPage = serde_json::from_value(serde_json::json!({
            "type": "conversation.list", "conversations": [{"id": "1"}], "total_count": 3,
            "pages": {"type": "pages", "page": 1, "per_page": 1, "total_pages": 3,
                      "next": {"per_page": 1, "starting_after": "abc"}}
        }))
        .unwrap();
        assert_eq!(page.next_cursor(), Some("abc"));
        let last: ConversationPage =
            serde_json::from_value(serde_json::json!({"conversations": [], "pages": {"page": 3}})).unwrap();
        assert_eq!(last.next_cursor(), None);
    }
}
