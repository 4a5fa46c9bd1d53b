//! The compact event relayed to the agent, built from an Intercom notification.
//!
//! Shape (JSON, camelCase; nullable fields are always present):
//!
//! ```json
//! {
//!   "topic": "conversation.user.replied",
//!   "notificationId": "notif_5d6e7f80-…",          // null for sample deliveries; also sent as Idempotency-Key
//!   "createdAt": 1718000595,                        // notification time, Unix seconds
//!   "deliveryAttempts": 2,
//!   "conversation": {
//!     "id": "147", "state": "open", "open": true,
//!     "assignee": { "type": "admin", "id": "991267" }, // type "admin" | "team" | null (unassigned)
//!     "adminAssigneeId": "991267", "teamAssigneeId": "5017691",
//!     "tags": ["vip", "billing"]
//!   },
//!   "contact": { "id": "6657add4…", "email": "jane@example.com", "name": "Jane Doe", "externalId": "user-42" },
//!   "message": { "partId": "3004", "text": "Sure — it's 4242.\nThanks!", "authorType": "user", "createdAt": 1718000590,
//!                "quickReply": null },                // { "text": "Yes", "optionId": "<uuid>" }: a button picked
//!   "summary": "Jane Doe (jane@example.com) replied: \"Sure — it's 4242. Thanks!\"",
//!   "origin": "customer",                           // "integration": our functions wrote this message
//!   "handling": "ai",                               // who handles the conversation now: "ai" | "human" | null
//!   "owner": { "type": "admin", "id": "991267", "name": "Sam" }, // type "admin" | "team" | "nobody"; or null
//!   "handoff": null,                                // "human_took_over" | "returned_to_ai" on a change of hands
//!   "teammate": { "id": "991268", "name": "Grace" }, // admin topics only: who acted
//!   "text": "I'll take it from here"                // conversation.admin.replied only: the reply, plain text
//! }
//! ```
//!
//! - `message` is the new customer message: for `conversation.user.created` the conversation's `source`
//!   (`partId` = source id), for `conversation.user.replied` the latest part authored by the user/lead/contact.
//!   A part written by an admin or a bot is never presented as the customer's message. For any other topic
//!   relayed by configuration `message` is null.
//! - `message.text` is plain text (see [`crate::text::html_to_text`]).
//! - `message.quickReply` is set when the customer answered a quick reply by picking a button: `optionId` is
//!   the `optionId` reply-to-conversation returned for it (Intercom's `metadata.quick_reply_uuid`).
//! - `contact.email` and `contact.name` come from the message's (or the source's) author when that author is the
//!   contact: the webhook's contact list has ids only. Otherwise they are null.
//! - `handling`/`owner` come from the hand-off rule ([`crate::handoff`]); null only when the rule could not be
//!   applied (no AI admin id, or the conversation could not be read). `handoff` is set on the one event that
//!   shows a change of hands.
//! - `summary` is one line for humans and logs of the agent: at most 140 characters of the message, no URLs.

use serde::Serialize;

use super::event::{Author, Conversation, Notification, ParseError, TOPIC_USER_CREATED, TOPIC_USER_REPLIED};
use super::loop_guard::Origin;
use crate::handoff::{Handling, Handoff, Owner};
use crate::text::html_to_text;

/// How many characters of the message the summary quotes.
pub const SUMMARY_SNIPPET_CHARS: usize = 140;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentEvent {
    pub topic: String,
    pub notification_id: Option<String>,
    pub created_at: Option<i64>,
    pub delivery_attempts: Option<u32>,
    pub conversation: EventConversation,
    pub contact: EventContact,
    pub message: Option<EventMessage>,
    pub summary: String,
    pub origin: Origin,
    pub handling: Option<Handling>,
    pub owner: Option<Owner>,
    pub handoff: Option<Handoff>,
    /// The teammate who acted (admin topics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teammate: Option<Teammate>,
    /// The teammate's reply as plain text (`conversation.admin.replied` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The admin behind an admin topic's event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Teammate {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventConversation {
    pub id: String,
    pub state: Option<String>,
    pub open: Option<bool>,
    pub assignee: Assignee,
    pub admin_assignee_id: Option<String>,
    pub team_assignee_id: Option<String>,
    pub tags: Vec<String>,
}

/// Who the conversation is with: an admin if one is assigned, else a team, else nobody (both null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignee {
    #[serde(rename = "type")]
    pub kind: Option<AssigneeKind>,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AssigneeKind {
    Admin,
    Team,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EventContact {
    pub id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMessage {
    pub part_id: String,
    pub text: String,
    /// user, lead or contact.
    pub author_type: String,
    pub created_at: Option<i64>,
    pub quick_reply: Option<QuickReplyPick>,
}

/// The quick-reply button a customer picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyPick {
    pub text: String,
    pub option_id: String,
}

/// Why a notification yields no event to relay although its topic is relayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoMessage {
    /// The new message was written by an admin, a bot or a team (e.g. a conversation an admin started).
    NotFromCustomer,
}

/// Builds the event for `notification` about `conversation`, or says why there is nothing to relay.
///
/// Errors are shape problems in what this topic needs (`data.item.source is missing`); `Ok(Err(NoMessage))`
/// means the delivery is well formed but carries no customer message.
pub fn build_agent_event(
    notification: &Notification,
    conversation: &Conversation,
    origin: Origin,
) -> Result<Result<AgentEvent, NoMessage>, ParseError> {
    let new_message = match notification.topic.as_str() {
        TOPIC_USER_CREATED => match source_message(conversation)? {
            Some(message) => Some(message),
            None => return Ok(Err(NoMessage::NotFromCustomer)),
        },
        TOPIC_USER_REPLIED => match latest_contact_part(conversation)? {
            Some(message) => Some(message),
            None => return Ok(Err(NoMessage::NotFromCustomer)),
        },
        _ => None,
    };

    let message_author = new_message.as_ref().map(|m| m.author);
    let contact = event_contact(conversation, message_author);
    let message = new_message.map(|m| {
        let text = m.body.map(html_to_text).unwrap_or_default();
        EventMessage {
            part_id: m.part_id.to_string(),
            quick_reply: m.quick_reply_uuid.map(|id| QuickReplyPick { text: text.clone(), option_id: id.to_owned() }),
            text,
            author_type: m.author.kind.as_str().to_string(),
            created_at: m.created_at,
        }
    });
    let summary = summary(&notification.topic, &conversation.id, &contact, message.as_ref());

    Ok(Ok(AgentEvent {
        topic: notification.topic.clone(),
        notification_id: notification.id.clone(),
        created_at: notification.created_at,
        delivery_attempts: notification.delivery_attempts,
        conversation: event_conversation(conversation),
        contact,
        message,
        summary,
        origin,
        handling: None,
        owner: None,
        handoff: None,
        teammate: None,
        text: None,
    }))
}

/// The new message, before conversion to text.
struct NewMessage<'a> {
    part_id: &'a str,
    body: Option<&'a str>,
    author: &'a Author,
    created_at: Option<i64>,
    quick_reply_uuid: Option<&'a str>,
}

/// The conversation's source, if a contact wrote it.
fn source_message(conversation: &Conversation) -> Result<Option<NewMessage<'_>>, ParseError> {
    let source = conversation.source.as_ref().ok_or_else(|| missing("data.item.source"))?;
    let author = source.author.as_ref().ok_or_else(|| missing("data.item.source.author"))?;
    if !author.kind.is_contact() {
        return Ok(None);
    }
    let part_id = source.id.as_deref().ok_or_else(|| missing("data.item.source.id"))?;
    Ok(Some(NewMessage {
        part_id,
        body: source.body.as_deref(),
        author,
        created_at: conversation.created_at,
        quick_reply_uuid: None,
    }))
}

/// The latest part a contact wrote, preferring parts with a body (a reply) over bodiless ones; `None` if the
/// contact wrote none of the parts delivered.
fn latest_contact_part(conversation: &Conversation) -> Result<Option<NewMessage<'_>>, ParseError> {
    if conversation.parts.is_empty() {
        return Err(missing("data.item.conversation_parts.conversation_parts"));
    }
    let latest = conversation
        .parts
        .iter()
        .enumerate()
        .filter_map(|(index, part)| {
            let author = part.author.as_ref().filter(|a| a.kind.is_contact())?;
            let has_body = part.body.as_deref().is_some_and(|b| !b.trim().is_empty());
            Some(((has_body, part.created_at.unwrap_or(i64::MIN), index), part, author))
        })
        .max_by_key(|(key, _, _)| *key);
    Ok(latest.map(|(_, part, author)| NewMessage {
        part_id: &part.id,
        body: part.body.as_deref(),
        author,
        created_at: part.created_at,
        quick_reply_uuid: part.quick_reply_uuid.as_deref(),
    }))
}

fn missing(field: &str) -> ParseError {
    ParseError::Missing { field: field.to_string() }
}

fn event_conversation(conversation: &Conversation) -> EventConversation {
    // Intercom's "assign to nobody" is id 0.
    let assigned = |id: &Option<String>| id.clone().filter(|id| id != "0");
    let admin = assigned(&conversation.admin_assignee_id);
    let team = assigned(&conversation.team_assignee_id);
    let assignee = match (&admin, &team) {
        (Some(id), _) => Assignee { kind: Some(AssigneeKind::Admin), id: Some(id.clone()) },
        (None, Some(id)) => Assignee { kind: Some(AssigneeKind::Team), id: Some(id.clone()) },
        (None, None) => Assignee { kind: None, id: None },
    };
    EventConversation {
        id: conversation.id.clone(),
        state: conversation.state.clone(),
        open: conversation.open,
        assignee,
        admin_assignee_id: admin,
        team_assignee_id: team,
        tags: conversation.tag_names().map(str::to_string).collect(),
    }
}

/// The contact: its id from the conversation's contact list (the one who wrote the message when there are
/// several), its name and email from the message's or the source's author when that author is the contact.
fn event_contact(conversation: &Conversation, message_author: Option<&Author>) -> EventContact {
    let source_author = conversation.source.as_ref().and_then(|s| s.author.as_ref());
    let author = message_author.or(source_author).filter(|a| a.kind.is_contact());
    let listed = author
        .and_then(|a| a.id.as_deref())
        .and_then(|id| conversation.contacts.iter().find(|c| c.id == id))
        .or_else(|| conversation.contacts.first());
    let author = author.filter(|a| match (listed, a.id.as_deref()) {
        (Some(contact), Some(author_id)) => contact.id == author_id,
        _ => true,
    });
    EventContact {
        id: listed.map(|c| c.id.clone()).or_else(|| author.and_then(|a| a.id.clone())),
        email: author.and_then(|a| a.email.clone()),
        name: author.and_then(|a| a.name.clone()),
        external_id: listed.and_then(|c| c.external_id.clone()),
    }
}

/// One line: who did what, quoting the start of the message without URLs.
fn summary(topic: &str, conversation_id: &str, contact: &EventContact, message: Option<&EventMessage>) -> String {
    let who = match (contact.name.as_deref().map(str::trim), contact.email.as_deref().map(str::trim)) {
        (Some(name), Some(email)) if !name.is_empty() && !email.is_empty() => format!("{name} ({email})"),
        (Some(name), _) if !name.is_empty() => name.to_string(),
        (_, Some(email)) if !email.is_empty() => email.to_string(),
        _ => "A customer".to_string(),
    };
    let who = without_urls(&who);
    let action = match topic {
        TOPIC_USER_CREATED => "opened a conversation",
        TOPIC_USER_REPLIED => "replied",
        _ => return format!("{topic} on conversation {conversation_id} with {who}"),
    };
    let snippet = message.map(|m| snippet(&m.text)).unwrap_or_default();
    if snippet.is_empty() { format!("{who} {action} (no text)") } else { format!("{who} {action}: \"{snippet}\"") }
}

/// The message on one line, URLs removed, cut to [`SUMMARY_SNIPPET_CHARS`] characters with an ellipsis.
fn snippet(text: &str) -> String {
    let one_line = without_urls(text);
    let mut chars = one_line.chars();
    let mut cut: String = chars.by_ref().take(SUMMARY_SNIPPET_CHARS).collect();
    if chars.next().is_some() {
        cut = cut.trim_end().to_string();
        cut.push('…');
    }
    cut
}

/// Collapses whitespace and removes URLs: a parenthesised URL (how [`html_to_text`] shows a link target)
/// disappears, a bare one becomes `[link]`.
fn without_urls(text: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let Some(start) = url_start(word) else {
            words.push(word.to_string());
            continue;
        };
        // The URL runs to the end of the word, less trailing punctuation that belongs to the sentence.
        let url_and_tail = &word[start..];
        let url_len = url_and_tail.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'', ']']).len();
        let (head, tail) = (&word[..start], &url_and_tail[url_len..]);
        if head.ends_with('(') && tail.starts_with(')') {
            let rest = format!("{}{}", &head[..head.len() - 1], &tail[1..]);
            match words.last_mut() {
                Some(previous) if head.len() == 1 => previous.push_str(&rest),
                _ if rest.is_empty() => {}
                _ => words.push(rest),
            }
        } else {
            words.push(format!("{head}[link]{tail}"));
        }
    }
    words.join(" ")
}

/// Byte offset of the first `http://` or `https://` in `word`, or of a `www.` that starts a word part (so
/// "awww." is not a URL), any case.
fn url_start(word: &str) -> Option<usize> {
    let lower = word.to_ascii_lowercase();
    let scheme = ["http://", "https://"].iter().filter_map(|marker| lower.find(marker)).min();
    let www = lower
        .match_indices("www.")
        .map(|(at, _)| at)
        .find(|&at| !lower[..at].chars().next_back().is_some_and(char::is_alphanumeric));
    scheme.into_iter().chain(www).min()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::webhook::event::parse_notification;
    use crate::webhook::fixtures;

    fn build(body: &str) -> Result<Result<AgentEvent, NoMessage>, ParseError> {
        let notification = parse_notification(body.as_bytes()).unwrap();
        let conversation = notification.conversation().unwrap();
        build_agent_event(&notification, &conversation, Origin::Customer)
    }

    fn event(body: &str) -> AgentEvent {
        build(body).unwrap().unwrap()
    }

    #[test]
    fn user_created_relays_the_source() {
        let e = event(fixtures::USER_CREATED);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            json!({
                "topic": "conversation.user.created",
                "notificationId": "notif_b3a1f9e0-2c4d-4e5f-9a6b-7c8d9e0f1a2b",
                "createdAt": 1718000000,
                "deliveryAttempts": 1,
                "conversation": {
                    "id": "147", "state": "open", "open": true,
                    "assignee": {"type": null, "id": null},
                    "adminAssigneeId": null, "teamAssigneeId": null, "tags": []
                },
                "contact": {
                    "id": "6657add46abd0167d9419cd2", "email": "jane@example.com",
                    "name": "Jane Doe", "externalId": "user-42"
                },
                "message": {
                    "partId": "2001",
                    "text": "Hi there,\nI was charged twice for my June invoice & need a refund. See invoice 123 \
                             (https://example.com/invoices/123) or https://example.com/billing for details.",
                    "authorType": "user",
                    "createdAt": 1717999990,
                    "quickReply": null
                },
                "summary": "Jane Doe (jane@example.com) opened a conversation: \"Hi there, I was charged twice for my \
                            June invoice & need a refund. See invoice 123 or [link] for details.\"",
                "origin": "customer",
                "handling": null, "owner": null, "handoff": null
            })
        );
    }

    #[test]
    fn user_replied_relays_the_latest_contact_part_not_admin_notes() {
        let e = event(fixtures::USER_REPLIED);
        let message = e.message.as_ref().unwrap();
        assert_eq!(message.part_id, "3004");
        assert_eq!(message.text, "Sure — it's 4242.\nThanks!");
        assert_eq!(message.author_type, "user");
        assert_eq!(message.created_at, Some(1_718_000_590));
        assert_eq!(e.summary, "Jane Doe (jane@example.com) replied: \"Sure — it's 4242. Thanks!\"");
        assert_eq!(e.conversation.assignee, Assignee { kind: Some(AssigneeKind::Admin), id: Some("991267".into()) });
        assert_eq!(e.conversation.team_assignee_id.as_deref(), Some("5017691"));
        assert_eq!(e.conversation.tags, ["vip", "billing"]);
        assert_eq!(e.delivery_attempts, Some(2));
    }

    fn mutate(fixture: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut value: Value = serde_json::from_str(fixture).unwrap();
        change(&mut value);
        value.to_string()
    }

    #[test]
    fn latest_is_by_time_not_position() {
        let body = mutate(fixtures::USER_REPLIED, |v| {
            v["data"]["item"]["conversation_parts"]["conversation_parts"][0]["created_at"] = json!(1_718_009_999);
        });
        assert_eq!(event(&body).message.unwrap().part_id, "3001");
    }

    #[test]
    fn admin_and_bot_parts_are_never_the_customer_message() {
        let body = mutate(fixtures::USER_REPLIED, |v| {
            let parts = v["data"]["item"]["conversation_parts"]["conversation_parts"].as_array_mut().unwrap();
            parts.retain(|p| p["author"]["type"] != "user");
            parts.push(json!({"id": "3005", "part_type": "comment", "body": "<p>bot</p>", "author": {"type": "bot", "id": "1"}}));
        });
        assert_eq!(build(&body).unwrap(), Err(NoMessage::NotFromCustomer));

        let body = mutate(fixtures::USER_CREATED, |v| {
            v["data"]["item"]["source"]["author"] =
                json!({"type": "admin", "id": "991267", "name": "Sam", "email": "sam@x"});
        });
        assert_eq!(build(&body).unwrap(), Err(NoMessage::NotFromCustomer));
    }

    #[test]
    fn a_picked_quick_reply_names_its_option() {
        let uuid = "a5e1c524-5ddd-4c3e-9328-6bca5d6e3edb";
        let body = mutate(fixtures::USER_REPLIED, |v| {
            let parts = v["data"]["item"]["conversation_parts"]["conversation_parts"].as_array_mut().unwrap();
            parts.push(json!({"id": "3007", "part_type": "comment", "body": "<p>Yes</p>", "created_at": 1_718_000_999,
                "metadata": {"quick_reply_uuid": uuid}, "author": {"type": "user", "id": "6657add46abd0167d9419cd2"}}));
        });
        let message = event(&body).message.unwrap();
        assert_eq!(message.part_id, "3007");
        assert_eq!(serde_json::to_value(&message.quick_reply).unwrap(), json!({"text": "Yes", "optionId": uuid}));
        assert_eq!(event(fixtures::USER_REPLIED).message.unwrap().quick_reply, None);
    }

    #[test]
    fn a_reply_with_a_body_wins_over_a_later_bodiless_part() {
        let body = mutate(fixtures::USER_REPLIED, |v| {
            let parts = v["data"]["item"]["conversation_parts"]["conversation_parts"].as_array_mut().unwrap();
            parts.push(json!({"id": "3006", "part_type": "open", "body": null, "created_at": 1_718_000_999,
                "author": {"type": "user", "id": "6657add46abd0167d9419cd2"}}));
        });
        assert_eq!(event(&body).message.unwrap().part_id, "3004");
    }

    #[test]
    fn missing_pieces_are_named() {
        let no_source = mutate(fixtures::USER_CREATED, |v| v["data"]["item"]["source"] = Value::Null);
        assert_eq!(build(&no_source).unwrap_err().to_string(), "data.item.source is missing");
        let no_source_id = mutate(fixtures::USER_CREATED, |v| v["data"]["item"]["source"]["id"] = Value::Null);
        assert_eq!(build(&no_source_id).unwrap_err().to_string(), "data.item.source.id is missing");
        let no_parts = mutate(fixtures::USER_REPLIED, |v| {
            v["data"]["item"]["conversation_parts"]["conversation_parts"] = json!([]);
        });
        assert_eq!(
            build(&no_parts).unwrap_err().to_string(),
            "data.item.conversation_parts.conversation_parts is missing"
        );
    }

    #[test]
    fn contact_details_come_only_from_the_contact_as_author() {
        // A lead replying: the part author gives name and email.
        let body = mutate(fixtures::USER_REPLIED, |v| {
            let part = &mut v["data"]["item"]["conversation_parts"]["conversation_parts"][3];
            part["author"] = json!({"type": "lead", "id": "6657add46abd0167d9419cd2", "name": "J.", "email": null});
        });
        let e = event(&body);
        assert_eq!((e.contact.name.as_deref(), e.contact.email.as_deref()), (Some("J."), None));
        assert_eq!(e.summary, "J. replied: \"Sure — it's 4242. Thanks!\"");

        // A message by another contact than the listed one does not lend its details to the listed one.
        let body = mutate(fixtures::USER_REPLIED, |v| {
            v["data"]["item"]["conversation_parts"]["conversation_parts"][3]["author"]["id"] = json!("someone-else");
        });
        let e = event(&body);
        assert_eq!(e.contact.id.as_deref(), Some("6657add46abd0167d9419cd2"));
        assert_eq!((e.contact.name, e.contact.email), (None, None));
        assert!(e.summary.starts_with("A customer replied: "), "{}", e.summary);

        // No contact list: the author's id stands in.
        let body = mutate(fixtures::USER_CREATED, |v| v["data"]["item"]["contacts"] = json!({"contacts": []}));
        let e = event(&body);
        assert_eq!(e.contact.id.as_deref(), Some("6657add46abd0167d9419cd2"));
        assert_eq!(e.contact.external_id, None);
    }

    #[test]
    fn team_assignment_and_unassigned() {
        let team = mutate(fixtures::USER_REPLIED, |v| v["data"]["item"]["admin_assignee_id"] = json!(0));
        let e = event(&team);
        assert_eq!(e.conversation.assignee, Assignee { kind: Some(AssigneeKind::Team), id: Some("5017691".into()) });
        assert_eq!(e.conversation.admin_assignee_id, None);
        let json = serde_json::to_value(&e.conversation.assignee).unwrap();
        assert_eq!(json, json!({"type": "team", "id": "5017691"}));
    }

    #[test]
    fn other_topics_relay_without_a_message() {
        let notification = parse_notification(fixtures::ADMIN_REPLIED.as_bytes()).unwrap();
        let conversation = notification.conversation().unwrap();
        let e = build_agent_event(&notification, &conversation, Origin::Integration).unwrap().unwrap();
        assert_eq!(e.message, None);
        assert_eq!(e.origin, Origin::Integration);
        assert_eq!(e.summary, "conversation.admin.replied on conversation 147 with Jane Doe (jane@example.com)");
        assert_eq!(serde_json::to_value(&e).unwrap()["origin"], "integration");
    }

    #[test]
    fn summary_is_short_and_has_no_urls() {
        let long =
            format!("<p>Look at https://evil.example/phish?x=1 and www.example.com now. {}</p>", "ab ".repeat(100));
        let body = mutate(fixtures::USER_CREATED, |v| v["data"]["item"]["source"]["body"] = json!(long));
        let e = event(&body);
        assert!(!e.summary.contains("http") && !e.summary.contains("www."), "{}", e.summary);
        let quoted = e.summary.split_once(": \"").unwrap().1.trim_end_matches('"');
        assert!(quoted.ends_with('…'));
        assert!(quoted.chars().count() <= SUMMARY_SNIPPET_CHARS + 1);
        assert!(quoted.starts_with("Look at [link] and [link] now. ab ab"), "{quoted}");
        assert!(e.message.unwrap().text.contains("https://evil.example/phish?x=1"), "the message itself is intact");
    }

    #[test]
    fn empty_messages_are_summarised_without_a_quote() {
        let body = mutate(fixtures::USER_CREATED, |v| v["data"]["item"]["source"]["body"] = json!("<p></p>"));
        assert_eq!(event(&body).summary, "Jane Doe (jane@example.com) opened a conversation (no text)");
    }

    #[test]
    fn url_removal_keeps_the_sentence() {
        assert_eq!(without_urls("See invoice (https://x.example/1). Thanks"), "See invoice. Thanks");
        assert_eq!(without_urls("go (https://x.example) now"), "go now");
        assert_eq!(without_urls("see:https://x.example, ok"), "see:[link], ok");
        assert_eq!(without_urls("HTTPS://X.EXAMPLE"), "[link]");
        assert_eq!(without_urls("awww. so www.example.com"), "awww. so [link]");
        assert_eq!(without_urls("  many\n\nlines\there "), "many lines here");
        assert_eq!(without_urls("(https://x.example)"), "");
        assert_eq!(without_urls("é (https://x.example/ü). é"), "é. é");
    }

    #[test]
    fn snippet_cuts_on_characters() {
        let text = "é".repeat(200);
        let s = snippet(&text);
        assert_eq!(s.chars().count(), SUMMARY_SNIPPET_CHARS + 1);
        assert_eq!(snippet("short"), "short");
        assert_eq!(snippet(&"x".repeat(SUMMARY_SNIPPET_CHARS)), "x".repeat(SUMMARY_SNIPPET_CHARS));
    }
}
