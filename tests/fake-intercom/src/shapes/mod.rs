//! JSON in the shapes of Intercom's OpenAPI response schemas, for the API version the request asked for
//! (`State::api_version`: 2.16, or 2.14 where the two differ; see [`crate::version`]).
//!
//! Every function renders one schema of the spec (named in its doc) with all of its
//! properties filled, and only with values the schema allows (checked through
//! `prism proxy --errors` in `tests/prism_proxy.rs`, against both versions' contracts).

use serde_json::{Map, Value, json};

use crate::html;
use crate::state::{Admin, AppliedTag, Attachment, Author, Contact, Conversation, Part, Reference, State, Tag, Team};
use crate::version::ApiVersion;

/// Intercom returns at most this many conversation parts (the most recent ones).
pub const MAX_CONVERSATION_PARTS: usize = 500;

mod availability;
mod companies;
mod knowledge;
mod tickets;

pub use availability::{
    away_status_reason_list, deleted, office_hours_exception, office_hours_exception_list, office_hours_schedule,
    office_hours_schedule_list, team_metric_list,
};
pub use companies::{company, company_list};
pub use knowledge::{
    article, article_list, article_search, help_center_list, internal_article, internal_article_list,
    internal_article_search,
};
pub use tickets::{ticket, ticket_reply, ticket_state_list, ticket_type, ticket_type_list};

/// A conversation's `linked_objects`: the tickets linked to it.
fn linked_tickets(state: &State, conv: &Conversation) -> Value {
    let data: Vec<Value> = conv
        .linked_ticket_ids
        .iter()
        .map(|id| {
            let category = state.ticket(id).map(|t| t.category.as_str());
            json!({ "type": "ticket", "id": id, "category": category })
        })
        .collect();
    json!({ "type": "list", "total_count": data.len(), "has_more": false, "data": data })
}

/// `admin_with_app` (`GET /me`).
pub fn admin_with_app(state: &State, admin: &Admin) -> Value {
    json!({
        "type": "admin",
        "id": admin.id,
        "name": admin.name,
        "email": admin.email,
        "job_title": admin.job_title.clone().unwrap_or_default(),
        "away_mode_enabled": admin.away_mode_enabled,
        "away_mode_reassign": admin.away_mode_reassign,
        "has_inbox_seat": admin.has_inbox_seat,
        "team_ids": state.team_ids_of(&admin.id),
        "avatar": { "type": "avatar", "image_url": Value::Null },
        "email_verified": true,
        "app": {
            "type": "app",
            "id_code": state.workspace_id,
            "name": state.workspace_name,
            "region": "US",
            "timezone": "Europe/London",
            "created_at": 1_700_000_000,
            "identity_verification": false,
        },
    })
}

/// `admin` (items of `GET /admins`). Unlike `/me`, `avatar` is a URL string here. 2.16 adds `role`
/// (the fake's admins have none).
pub fn admin(state: &State, admin: &Admin) -> Value {
    let team_ids = state.team_ids_of(&admin.id);
    let mut v = json!({
        "type": "admin",
        "id": admin.id,
        "name": admin.name,
        "email": admin.email,
        "job_title": admin.job_title.clone().unwrap_or_default(),
        "away_mode_enabled": admin.away_mode_enabled,
        "away_mode_reassign": admin.away_mode_reassign,
        "away_status_reason_id": admin.away_status_reason_id,
        "has_inbox_seat": admin.has_inbox_seat,
        "team_ids": team_ids,
        "avatar": Value::Null,
        "team_priority_level": {
            "primary_team_ids": team_ids,
            "secondary_team_ids": [],
        },
    });
    if state.api_version() >= ApiVersion::V2_16 {
        v["role"] = Value::Null;
    }
    v
}

/// `admin_list`.
pub fn admin_list(state: &State) -> Value {
    let admins: Vec<Value> = state.admins.iter().map(|a| admin(state, a)).collect();
    json!({ "type": "admin.list", "admins": admins })
}

/// `team`.
pub fn team(team: &Team) -> Value {
    let admin_ids: Vec<i64> = team.admin_ids.iter().filter_map(|a| a.parse().ok()).collect();
    json!({
        "type": "team",
        "id": team.id,
        "name": team.name,
        "admin_ids": admin_ids,
        "admin_priority_level": {
            "primary_admin_ids": admin_ids,
            "secondary_admin_ids": [],
        },
        "assignment_limit": Value::Null,
        "distribution_method": "round_robin",
    })
}

/// `team_list`.
pub fn team_list(state: &State) -> Value {
    let teams: Vec<Value> = state.teams.iter().map(team).collect();
    json!({ "type": "team.list", "teams": teams })
}

/// `tag` as `GET /tags`, `POST /tags` and the tag-removal endpoint return it. `applied_at`
/// and `applied_by` are left out: the spec declares `applied_by` nullable but through an
/// `allOf`, so `null` does not validate.
pub fn tag(tag: &Tag) -> Value {
    json!({ "type": "tag", "id": tag.id, "name": tag.name })
}

/// `tag` as applied to a conversation.
pub fn applied_tag(tag: &Tag, applied: &AppliedTag) -> Value {
    json!({
        "type": "tag",
        "id": tag.id,
        "name": tag.name,
        "applied_at": applied.applied_at,
        "applied_by": { "type": "admin", "id": applied.applied_by },
    })
}

/// `tag_list` (`GET /tags`).
pub fn tag_list(state: &State) -> Value {
    let data: Vec<Value> = state.tags.iter().map(tag).collect();
    json!({ "type": "list", "data": data })
}

/// `contact` (plus `enabled_push_messaging` as in the contact endpoints' allOf).
///
/// The spec's `email` is a non-nullable string: a contact without email answers `""`.
/// `companies` lists its companies as `company_data` (`{type: company, id, url}`, up to 10); `tags` its
/// tags as `addressable_list` items `{id, url}` without the `type` Intercom sends ("tag"), because the
/// spec declares that `type` `format: uri`, which no type name satisfies; `notes` is always empty.
pub fn contact(state: &State, c: &Contact) -> Value {
    let email = c.email.clone().unwrap_or_default();
    let email_domain = email.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
    let list = |what: &str, items: Vec<Value>, total: usize| {
        json!({
            "type": "list",
            "data": items,
            "url": format!("/contacts/{}/{what}", c.id),
            "total_count": total,
            "has_more": total > 10,
        })
    };
    let tags: Vec<Value> =
        c.tag_ids.iter().take(10).map(|id| json!({ "id": id, "url": format!("/tags/{id}") })).collect();
    let companies: Vec<Value> = c
        .company_ids
        .iter()
        .take(10)
        .map(|id| json!({ "type": "company", "id": id, "url": format!("/companies/{id}") }))
        .collect();
    let mut v = json!({
        "type": "contact",
        "id": c.id,
        "workspace_id": state.workspace_id,
        "external_id": c.external_id,
        "role": c.role.as_str(),
        "email": email,
        "email_domain": email_domain,
        "phone": c.phone,
        "formatted_phone": c.phone,
        "name": c.name,
        // 2.16 made it a string.
        "owner_id": match state.api_version() {
            ApiVersion::V2_14 => json!(c.owner_id),
            ApiVersion::V2_16 => json!(c.owner_id.map(|o| o.to_string())),
        },
        "has_hard_bounced": false,
        "marked_email_as_spam": false,
        "unsubscribed_from_emails": c.unsubscribed_from_emails,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "signed_up_at": c.signed_up_at,
        "last_seen_at": c.last_seen_at,
        "last_replied_at": c.last_replied_at,
        "last_contacted_at": c.last_contacted_at,
        "custom_attributes": c.custom_attributes,
        "avatar": { "type": "avatar", "image_url": c.avatar },
        "tags": list("tags", tags, c.tag_ids.len()),
        "notes": list("notes", Vec::new(), 0),
        "companies": list("companies", companies, c.company_ids.len()),
        "location": { "type": "location", "country": Value::Null, "region": Value::Null, "city": Value::Null },
        "social_profiles": { "type": "list", "data": [] },
        "enabled_push_messaging": Value::Null,
    });
    for field in UNKNOWN_CONTACT_FIELDS {
        v[field] = Value::Null;
    }
    v
}

/// Nullable contact properties the fake never learns (devices, email engagement).
const UNKNOWN_CONTACT_FIELDS: [&str; 19] = [
    "last_email_opened_at",
    "last_email_clicked_at",
    "language_override",
    "browser",
    "browser_version",
    "browser_language",
    "os",
    "android_app_name",
    "android_app_version",
    "android_device",
    "android_os_version",
    "android_sdk_version",
    "android_last_seen_at",
    "ios_app_name",
    "ios_app_version",
    "ios_device",
    "ios_os_version",
    "ios_sdk_version",
    "ios_last_seen_at",
];

/// `contact_archived` / `contact_unarchived`.
pub fn contact_archived(c: &Contact) -> Value {
    json!({
        "type": "contact",
        "id": c.id,
        "external_id": c.external_id,
        "archived": c.archived,
    })
}

/// `contact_reference`.
pub fn contact_reference(c: &Contact) -> Value {
    json!({ "type": "contact", "id": c.id, "external_id": c.external_id })
}

/// `contact_list` with cursor `pages`.
pub fn contact_list(
    state: &State,
    page_items: &[&Contact],
    total_count: usize,
    page: usize,
    per_page: usize,
    next_cursor: Option<String>,
) -> Value {
    let data: Vec<Value> = page_items.iter().map(|c| contact(state, c)).collect();
    let total_pages = total_count.div_ceil(per_page.max(1));
    let mut pages = json!({
        "type": "pages",
        "page": page,
        "per_page": per_page,
        "total_pages": total_pages,
    });
    if let Some(cursor) = next_cursor {
        pages["next"] = json!({ "per_page": per_page, "starting_after": cursor });
    }
    json!({
        "type": "list",
        "data": data,
        "total_count": total_count,
        "pages": pages,
    })
}

/// `conversation_list` with cursor `pages` (`POST /conversations/search`): each item is the
/// conversation without `conversation_parts`, as Intercom's `conversation_list_item`.
pub fn conversation_list(
    state: &State,
    page_items: &[&Conversation],
    total_count: usize,
    page: usize,
    per_page: usize,
    next_cursor: Option<String>,
) -> Value {
    let conversations: Vec<Value> = page_items
        .iter()
        .map(|c| {
            let mut item = conversation(state, c, false);
            if let Some(item) = item.as_object_mut() {
                item.remove("conversation_parts");
            }
            item
        })
        .collect();
    let mut pages = json!({
        "type": "pages",
        "page": page,
        "per_page": per_page,
        "total_pages": total_count.div_ceil(per_page.max(1)),
    });
    if let Some(cursor) = next_cursor {
        pages["next"] = json!({ "per_page": per_page, "starting_after": cursor });
    }
    json!({
        "type": "conversation.list",
        "conversations": conversations,
        "total_count": total_count,
        "pages": pages,
    })
}

/// `message` (answer of `POST /conversations`).
pub fn message(conv: &Conversation) -> Value {
    json!({
        "type": "user_message",
        "id": conv.source.id,
        "created_at": conv.source.created_at,
        "subject": conv.source.subject,
        "body": conv.source.body,
        "message_type": "inapp",
        "conversation_id": conv.id.to_string(),
    })
}

/// `conversation_part_author`. `email` is declared `format: email`, so it is left out
/// rather than sent empty when unknown.
fn author(a: &Author) -> Value {
    let mut v = json!({
        "type": a.kind,
        "id": a.id,
        "name": a.name,
        "from_ai_agent": false,
        "is_ai_answer": false,
    });
    if let Some(email) = a.email.as_deref().filter(|e| looks_like_email(e)) {
        v["email"] = json!(email);
    }
    v
}

/// Whether `s` passes the `email` format of the spec's validator (ajv): a dot-atom local
/// part, `@`, and dot-separated alphanumeric/hyphen labels.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty() && atom.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
        });
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    local_ok && domain_ok
}

fn body(html_body: &str, plaintext: bool) -> String {
    if plaintext { html::to_plain(html_body) } else { html_body.to_owned() }
}

fn reference(r: &Reference) -> Value {
    json!({ "type": r.kind, "id": r.id })
}

/// `part_attachment`.
fn attachment(a: &Attachment) -> Value {
    json!({ "type": "upload", "name": a.name, "url": a.url, "content_type": a.content_type })
}

/// `conversation_part_metadata`: a quick reply's options, or the option a contact picked.
fn part_metadata(p: &Part) -> Value {
    if !p.quick_reply_options.is_empty() {
        let options: Vec<Value> = p
            .quick_reply_options
            .iter()
            .map(|o| json!({ "text": o.text, "uuid": o.uuid, "translations": Value::Null }))
            .collect();
        json!({ "quick_reply_options": options })
    } else if let Some(uuid) = &p.quick_reply_uuid {
        json!({ "quick_reply_uuid": uuid })
    } else {
        Value::Null
    }
}

/// `conversation_part`.
fn part(p: &Part, plaintext: bool) -> Value {
    json!({
        "type": "conversation_part",
        "id": p.id,
        "part_type": p.part_type,
        "body": p.body.as_deref().map(|b| body(b, plaintext)),
        "created_at": p.created_at,
        "updated_at": p.created_at,
        "notified_at": p.created_at,
        "assigned_to": p.assigned_to.as_ref().map(reference),
        "author": author(&p.author),
        "attachments": p.attachments.iter().map(attachment).collect::<Vec<_>>(),
        "external_id": Value::Null,
        "redacted": false,
        "email_message_metadata": Value::Null,
        "metadata": part_metadata(p),
        "state": p.state.as_str(),
        "tags": [],
        "event_details": Value::Null,
        "app_package_code": Value::Null,
    })
}

fn statistics(conv: &Conversation) -> Value {
    let s = &conv.statistics;
    let mut v = Map::new();
    v.insert("type".into(), json!("conversation_statistics"));
    let mut put = |k: &str, val: Option<i64>| {
        if let Some(val) = val {
            v.insert(k.to_owned(), json!(val));
        }
    };
    let since = |t: Option<i64>| t.map(|t| (t - conv.created_at).max(0));
    put("time_to_assignment", since(s.first_assignment_at));
    put("time_to_admin_reply", since(s.first_admin_reply_at));
    put("time_to_first_close", since(s.first_close_at));
    put("time_to_last_close", since(s.last_close_at));
    put("first_contact_reply_at", s.first_contact_reply_at);
    put("first_assignment_at", s.first_assignment_at);
    put("first_admin_reply_at", s.first_admin_reply_at);
    put("first_close_at", s.first_close_at);
    put("last_assignment_at", s.last_assignment_at);
    put("last_assignment_admin_reply_at", s.last_assignment_admin_reply_at);
    put("last_contact_reply_at", s.last_contact_reply_at);
    put("last_admin_reply_at", s.last_admin_reply_at);
    put("last_close_at", s.last_close_at);
    put("count_reopens", Some(s.count_reopens));
    put("count_assignments", Some(s.count_assignments));
    put("count_conversation_parts", Some(i64::try_from(conv.parts.len() + 1).unwrap_or(i64::MAX)));
    if let Some(by) = &s.last_closed_by_id {
        v.insert("last_closed_by_id".into(), json!(by));
    }
    v.insert("assigned_team_first_response_time".into(), json!([]));
    v.insert("assigned_team_first_response_time_in_office_hours".into(), json!([]));
    Value::Object(v)
}

/// `conversation` (`GET /conversations/{id}` and the answers of reply / parts / PUT).
/// Bodies are HTML unless `plaintext`; only the last [`MAX_CONVERSATION_PARTS`] parts are
/// listed, `total_count` is the real count.
pub fn conversation(state: &State, conv: &Conversation, plaintext: bool) -> Value {
    let skip = conv.parts.len().saturating_sub(MAX_CONVERSATION_PARTS);
    conversation_with_parts(state, conv, &conv.parts[skip..], conv.parts.len(), plaintext)
}

/// `conversation` as a webhook's `data.item`: `conversation_parts` holds only the part(s) that
/// triggered the notification (none for `conversation.user.created`, whose message is the source).
pub fn webhook_conversation(state: &State, conv: &Conversation, parts: &[Part]) -> Value {
    conversation_with_parts(state, conv, parts, parts.len(), false)
}

fn conversation_with_parts(
    state: &State,
    conv: &Conversation,
    shown_parts: &[Part],
    total_parts: usize,
    plaintext: bool,
) -> Value {
    let tags: Vec<Value> = conv.tags.iter().filter_map(|a| state.tag(&a.tag_id).map(|t| applied_tag(t, a))).collect();
    let contacts: Vec<Value> = conv
        .contact_ids
        .iter()
        .map(|id| match state.contact(id) {
            Some(c) => contact_reference(c),
            None => json!({ "type": "contact", "id": id, "external_id": Value::Null }),
        })
        .collect();
    let teammates: Vec<Value> = conv.teammate_ids.iter().map(|id| json!({ "type": "admin", "id": id })).collect();
    let parts: Vec<Value> = shown_parts.iter().map(|p| part(p, plaintext)).collect();
    let v2_16 = state.api_version() >= ApiVersion::V2_16;
    // 2.14: `priority`/`not_priority` and `null` for nobody; 2.16: `none`…`urgent` and `0` for nobody.
    let priority = match (v2_16, conv.priority) {
        (false, true) => "priority",
        (false, false) => "not_priority",
        (true, true) => "high",
        (true, false) => "none",
    };
    let assignee = |id: Option<i64>| if v2_16 { json!(id.unwrap_or(0)) } else { json!(id) };
    let mut v = json!({
        "type": "conversation",
        "id": conv.id.to_string(),
        "title": conv.title,
        "created_at": conv.created_at,
        "updated_at": conv.updated_at,
        "waiting_since": conv.waiting_since,
        "snoozed_until": conv.snoozed_until,
        "open": conv.state != crate::state::ConversationState::Closed,
        "state": conv.state.as_str(),
        "read": conv.read,
        "priority": priority,
        "admin_assignee_id": assignee(conv.admin_assignee_id),
        "team_assignee_id": assignee(conv.team_assignee_id),
        "tags": { "type": "tag.list", "tags": tags },
        "conversation_rating": Value::Null,
        "source": {
            "type": "conversation",
            "id": conv.source.id,
            "delivered_as": conv.source.delivered_as,
            "subject": conv.source.subject,
            "body": body(&conv.source.body, plaintext),
            "author": author(&conv.source.author),
            "attachments": [],
            "url": Value::Null,
            "redacted": false,
        },
        "contacts": { "type": "contact.list", "contacts": contacts },
        "teammates": { "type": "admin.list", "teammates": teammates },
        "custom_attributes": conv.custom_attributes,
        "first_contact_reply": {
            "created_at": conv.created_at,
            "type": "conversation",
            "url": Value::Null,
        },
        "sla_applied": Value::Null,
        "statistics": statistics(conv),
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": parts,
            "total_count": total_parts,
        },
        "linked_objects": linked_tickets(state, conv),
        "ai_agent_participated": false,
        "ai_agent": Value::Null,
    });
    if v2_16 {
        v["channel"] = json!({ "initial": "messenger", "current": "messenger" });
        v["company"] = Value::Null;
        v["external_references"] = json!([]);
        v["monitor_evaluations"] = json!([]);
        v["sales_agent"] = Value::Null;
        v["sales_agent_participated"] = json!(false);
        v["scorecards"] = json!([]);
        v["source"]["recipients"] = Value::Null;
        v["source"]["reply_to"] = Value::Null;
    }
    v
}
