//! Contract proof: every endpoint of the fake, driven through `prism proxy --errors` with
//! Intercom's 2.16 OpenAPI spec (and the endpoints 2.14 has, with its spec and `Intercom-Version: 2.14`),
//! answers in the spec's shapes.
//!
//! For statuses an operation does not document (e.g. 404 on `GET /contacts/{id}`, 409 on
//! `POST /contacts`, 401 on `GET /me`), Prism cannot validate the body and only warns
//! "Unable to match the returned status code"; those exchanges accept that one warning and
//! check the `error.list` body here instead.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::routing::get;
use fake_intercom::prism::{self, Prism, contract_problems};
use fake_intercom::{FakeIntercom, FakeServer, Fault};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "contract-token";
const GRACE: &str = "991268";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

struct Exchange {
    status: u16,
    headers: http::HeaderMap,
    raw: Vec<u8>,
    body: Value,
}

struct Contract {
    fake: FakeServer,
    prism: Prism,
    http: reqwest::Client,
    /// Sent as `Intercom-Version`; the spec Prism judges with is the same version's.
    version: &'static str,
}

/// The version the fake's newest shapes are judged against.
const CURRENT: &str = "2.16";

/// Whether the spec documents a response for this status on the operation.
#[derive(Clone, Copy, PartialEq)]
enum Documented {
    Yes,
    No,
}

impl Contract {
    /// The demo workspace behind Prism with `version`'s committed contract; `None` (skipped) without Prism.
    async fn start(version: &'static str) -> Option<Contract> {
        Contract::start_with(version, FakeIntercom::builder().seed_demo().valid_tokens([TOKEN])).await
    }

    async fn start_with(version: &'static str, builder: fake_intercom::FakeIntercomBuilder) -> Option<Contract> {
        let (spec, _) = prism::contract_tools_for_or_skip(version)?;
        let fake = builder.start().await.expect("fake starts");
        let prism = Prism::proxy(&spec, &fake.base_url()).await.expect("prism proxy starts");
        Some(Contract { fake, prism, http: reqwest::Client::new(), version })
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, token: &str) -> Exchange {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.prism.base_url()))
            .bearer_auth(token)
            .header("Intercom-Version", self.version)
            .header("Accept", "application/json");
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request through prism");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let raw = resp.bytes().await.expect("body").to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Exchange { status, headers, raw, body }
    }

    /// Sends, then asserts the status, that Prism found nothing wrong, and the headers every
    /// Intercom answer has.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
        documented: Documented,
    ) -> Value {
        self.expect_with_token(method, path, body, status, documented, TOKEN).await
    }

    async fn expect_with_token(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
        documented: Documented,
        token: &str,
    ) -> Value {
        let what = format!("{method} {path}");
        let ex = self.send(method, path, body, token).await;
        let problems = contract_problems(&ex.headers, &ex.raw, documented == Documented::No);
        assert!(
            problems.is_empty(),
            "{what}: Prism reports contract problems: {problems:#?}\nbody: {}",
            String::from_utf8_lossy(&ex.raw)
        );
        assert_eq!(ex.status, status, "{what}: unexpected status, body: {}", String::from_utf8_lossy(&ex.raw));
        if documented == Documented::Yes {
            assert!(
                prism::violations(&ex.headers).is_empty(),
                "{what}: documented status must come without any sl-violations"
            );
        }
        for h in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
            let v = ex.headers.get(h).and_then(|v| v.to_str().ok());
            assert!(v.is_some_and(|v| v.parse::<i64>().is_ok()), "{what}: header {h} missing or not an integer");
        }
        if status >= 400 {
            assert_error_list(&what, &ex);
        }
        ex.body
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.expect(method, path, body, 200, Documented::Yes).await
    }
}

/// Intercom's `error` schema, checked here because Prism skips bodies of undocumented
/// statuses: `type` "error.list", `request_id` a UUID (= `X-Request-Id`), errors with codes.
fn assert_error_list(what: &str, ex: &Exchange) {
    let b = &ex.body;
    assert_eq!(b["type"], "error.list", "{what}: {b}");
    let rid = b["request_id"].as_str().unwrap_or_default();
    let groups: Vec<usize> = rid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{what}: request_id {rid:?} is not a UUID");
    assert_eq!(
        ex.headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        Some(rid),
        "{what}: X-Request-Id differs from request_id"
    );
    let errors = b["errors"].as_array().expect("errors array");
    assert!(!errors.is_empty(), "{what}: empty errors");
    for e in errors {
        assert!(e["code"].is_string(), "{what}: error without code: {e}");
        assert!(e["message"].is_string() || e["message"].is_null(), "{what}: {e}");
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_conforms_to_the_2_16_contract() {
    conformance(CURRENT).await;
}

/// Asked for 2.14, the fake answers in 2.14's shapes where they differ (priority, unassigned ids, owner_id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_of_2_14_conforms_to_the_2_14_contract() {
    conformance("2.14").await;
}

async fn conformance(version: &'static str) {
    let Some(c) = Contract::start(version).await else {
        return;
    };
    let v2_16 = version == CURRENT;
    use Documented::{No, Yes};
    use Method as M;

    // --- admins, teams, tags ---
    let me = c.ok(M::GET, "/me", None).await;
    assert_eq!((me["type"].as_str(), me["id"].as_str()), (Some("admin"), Some("991267")));
    let admins = c.ok(M::GET, "/admins", None).await;
    assert_eq!(admins["type"], "admin.list");
    assert_eq!(admins["admins"].as_array().map(Vec::len), Some(3), "Ada, Grace and Alan (Billing's second teammate)");
    let teams = c.ok(M::GET, "/teams", None).await;
    assert_eq!(teams["type"], "team.list");
    let support_team = teams["teams"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "Support"))
        .and_then(|t| t["id"].as_str())
        .expect("Support team")
        .to_owned();
    let grace = c.ok(M::GET, &format!("/admins/{GRACE}"), None).await;
    assert_eq!(grace["name"], "Grace Hopper");
    assert_eq!(grace.get("role").is_some(), v2_16, "2.16 adds role");
    assert_eq!((grace["away_mode_enabled"].as_bool(), grace["has_inbox_seat"].as_bool()), (Some(false), Some(true)));
    let away = c
        .ok(
            M::PUT,
            &format!("/admins/{GRACE}/away"),
            Some(json!({"away_mode_enabled": true, "away_mode_reassign": true, "away_status_reason_id": 12345})),
        )
        .await;
    assert_eq!(
        (away["away_mode_enabled"].as_bool(), away["away_status_reason_id"].as_i64()),
        (Some(true), Some(12345))
    );
    let back = c
        .ok(
            M::PUT,
            &format!("/admins/{GRACE}/away"),
            Some(json!({"away_mode_enabled": false, "away_mode_reassign": false})),
        )
        .await;
    assert_eq!(back["away_mode_enabled"], false);
    c.expect(M::PUT, "/admins/1/away", Some(json!({"away_mode_enabled": true, "away_mode_reassign": false})), 404, Yes)
        .await;
    let team = c.ok(M::GET, &format!("/teams/{support_team}"), None).await;
    assert_eq!(team["admin_ids"], json!([991267, 991268]));
    let tags = c.ok(M::GET, "/tags", None).await;
    assert_eq!(tags, json!({"type": "list", "data": []}));
    let tag = c.ok(M::POST, "/tags", Some(json!({"name": "Billing issue"}))).await;
    assert_eq!(tag["type"], "tag");
    let tag_id = tag["id"].as_str().expect("tag id").to_owned();
    let same = c.ok(M::POST, "/tags", Some(json!({"name": "billing ISSUE"}))).await;
    assert_eq!(same["id"], tag["id"], "POST /tags matches names case-insensitively");
    let tags = c.ok(M::GET, "/tags", None).await;
    assert_eq!(tags["data"].as_array().map(Vec::len), Some(1));
    let shown_tag = c.ok(M::GET, &format!("/tags/{tag_id}"), None).await;
    assert_eq!(shown_tag["name"], "Billing issue");

    // --- contacts ---
    let created = c
        .ok(
            M::POST,
            "/contacts",
            Some(json!({
                "role": "user",
                "email": "sam@example.com",
                "external_id": "ext-sam",
                "name": "Sam Smith",
                "custom_attributes": {"plan": "pro", "seats": 3}
            })),
        )
        .await;
    assert_eq!(created["type"], "contact");
    let sam = created["id"].as_str().expect("contact id").to_owned();
    assert_eq!(sam.len(), 24);
    let lead = c.ok(M::POST, "/contacts", Some(json!({"role": "lead", "name": "Anon"}))).await;
    assert_eq!(lead["role"], "lead");

    let dup = c.expect(M::POST, "/contacts", Some(json!({"email": "SAM@example.com"})), 409, No).await;
    assert_eq!(code(&dup), "conflict");
    assert_eq!(dup["errors"][0]["message"], format!("A contact matching those details already exists with id={sam}"));
    let shown = c.ok(M::GET, &format!("/contacts/{sam}"), None).await;
    assert_eq!(shown["custom_attributes"], json!({"plan": "pro", "seats": 3}));
    let owned = c
        .ok(
            M::PUT,
            &format!("/contacts/{sam}"),
            Some(json!({"owner_id": if v2_16 { json!("991268") } else { json!(991268) }})),
        )
        .await;
    assert_eq!(owned["owner_id"], if v2_16 { json!("991268") } else { json!(991268) }, "2.16 made owner_id a string");
    let missing = c.expect(M::GET, "/contacts/0123456789abcdef01234567", None, 404, No).await;
    assert_eq!(code(&missing), "not_found");
    let updated = c
        .ok(
            M::PUT,
            &format!("/contacts/{sam}"),
            Some(json!({"name": "Samantha Smith", "custom_attributes": {"plan": null, "seats": 4}})),
        )
        .await;
    assert_eq!(updated["name"], "Samantha Smith");
    assert_eq!(updated["custom_attributes"], json!({"seats": 4}));
    c.expect(M::PUT, "/contacts/0123456789abcdef01234567", Some(json!({"name": "x"})), 404, No).await;
    // The demo's Jane works at Acme Corp: her companies are listed in both versions' shape.
    let jane = c.ok(M::GET, "/contacts/find_by_external_id/6123abc", None).await;
    assert_eq!(jane["companies"]["total_count"], 1);
    let by_ext = c.ok(M::GET, "/contacts/find_by_external_id/ext-sam", None).await;
    assert_eq!(by_ext["id"], sam.as_str());
    c.expect(M::GET, "/contacts/find_by_external_id/nobody", None, 404, No).await;

    let found = c
        .ok(
            M::POST,
            "/contacts/search",
            Some(json!({"query": {"field": "email", "operator": "=", "value": "sam@example.com"}})),
        )
        .await;
    assert_eq!((found["type"].as_str(), found["total_count"].as_i64()), (Some("list"), Some(1)));
    let nested = c
        .ok(
            M::POST,
            "/contacts/search",
            Some(json!({
                "query": {"operator": "OR", "value": [
                    {"field": "external_id", "operator": "=", "value": "6123abc"},
                    {"operator": "AND", "value": [
                        {"field": "email", "operator": "=", "value": "sam@example.com"},
                        {"field": "role", "operator": "=", "value": "user"}
                    ]}
                ]},
                "pagination": {"per_page": 1}
            })),
        )
        .await;
    assert_eq!(nested["total_count"], 2);
    let both = c
        .ok(
            M::POST,
            "/contacts/search",
            Some(json!({"query": {"operator": "AND", "value": [
                {"field": "email", "operator": "=", "value": "sam@example.com"},
                {"field": "external_id", "operator": "=", "value": "ext-sam"}
            ]}})),
        )
        .await;
    assert_eq!(both["total_count"], 1);
    assert_eq!(nested["data"].as_array().map(Vec::len), Some(1));
    let cursor = nested["pages"]["next"]["starting_after"].as_str().expect("next cursor").to_owned();
    let page2 = c
        .ok(
            M::POST,
            "/contacts/search",
            Some(json!({
                "query": {"field": "email", "operator": "~", "value": "example.com"},
                "pagination": {"per_page": 1, "starting_after": cursor}
            })),
        )
        .await;
    assert_eq!(page2["pages"]["page"], 2);

    let archived = c.ok(M::POST, &format!("/contacts/{sam}/archive"), None).await;
    assert_eq!(archived, json!({"type": "contact", "id": sam, "external_id": "ext-sam", "archived": true}));
    let hidden =
        c.ok(M::POST, "/contacts/search", Some(json!({"query": {"field": "id", "operator": "=", "value": sam}}))).await;
    assert_eq!(hidden["total_count"], 0, "archived contacts are not searchable");
    let dup = c.expect(M::POST, "/contacts", Some(json!({"external_id": "ext-sam"})), 409, No).await;
    assert_eq!(
        dup["errors"][0]["message"],
        format!("An archived contact matching those details already exists with id={sam}")
    );
    let unarchived = c.ok(M::POST, &format!("/contacts/{sam}/unarchive"), None).await;
    assert_eq!(unarchived["archived"], false);
    c.expect(M::POST, "/contacts/0123456789abcdef01234567/archive", None, 404, No).await;

    // --- data attributes: unknown custom attributes are refused whole ---
    let attrs = c.ok(M::GET, "/data_attributes?model=contact", None).await;
    assert!(attrs["data"].as_array().is_some_and(|d| d.iter().any(|a| a["name"] == "escalation_count")));
    let defined = c
        .ok(
            M::POST,
            "/data_attributes",
            Some(json!({"name": "favourite_colour", "model": "contact", "data_type": "string"})),
        )
        .await;
    assert_eq!(defined["full_name"], "custom_attributes.favourite_colour");
    let dup = c
        .expect(
            M::POST,
            "/data_attributes",
            Some(json!({"name": "favourite_colour", "model": "contact", "data_type": "string"})),
            400,
            Yes,
        )
        .await;
    assert_eq!(code(&dup), "parameter_invalid");
    let unknown = c
        .expect(M::PUT, &format!("/contacts/{sam}"), Some(json!({"custom_attributes": {"shoe_size": 42}})), 400, No)
        .await;
    assert_eq!(unknown["errors"][0]["message"], "Custom attribute 'shoe_size' does not exist");
    c.expect(
        M::POST,
        "/contacts",
        Some(json!({"email": "typed@example.com", "custom_attributes": {"seats": "many"}})),
        400,
        No,
    )
    .await;
    c.ok(M::PUT, &format!("/contacts/{sam}"), Some(json!({"custom_attributes": {"favourite_colour": "teal"}}))).await;

    // --- conversations ---
    let message = c
        .ok(
            M::POST,
            "/conversations",
            Some(json!({"from": {"type": "user", "id": sam}, "body": "My invoice is wrong.\nPlease help."})),
        )
        .await;
    assert_eq!((message["type"].as_str(), message["message_type"].as_str()), (Some("user_message"), Some("inapp")));
    let conv = message["conversation_id"].as_str().expect("conversation_id").to_owned();
    let nobody = c
        .expect(
            M::POST,
            "/conversations",
            Some(json!({"from": {"type": "user", "id": "0123456789abcdef01234567"}, "body": "hi"})),
            404,
            Yes,
        )
        .await;
    assert_eq!(nobody["errors"][0]["message"], "User Not Found");

    let html = c.ok(M::GET, &format!("/conversations/{conv}"), None).await;
    assert_eq!(html["source"]["body"], "<p>My invoice is wrong.</p>\n<p>Please help.</p>");
    assert_eq!(html["state"], "open");
    let plain = c.ok(M::GET, &format!("/conversations/{conv}?display_as=plaintext"), None).await;
    assert_eq!(plain["source"]["body"], "My invoice is wrong.\nPlease help.");
    c.expect(M::GET, "/conversations/999999999", None, 404, Yes).await;

    let replied = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/reply"),
            Some(json!({"message_type": "comment", "type": "admin", "admin_id": "991267", "body": "Looking into it."})),
        )
        .await;
    let parts = &replied["conversation_parts"];
    assert_eq!(parts["total_count"], 1);
    assert_eq!(parts["conversation_parts"][0]["part_type"], "comment");
    assert_eq!(parts["conversation_parts"][0]["author"]["type"], "admin");
    c.ok(
        M::POST,
        &format!("/conversations/{conv}/reply"),
        Some(
            json!({"message_type": "note", "type": "admin", "admin_id": "991267", "body": "<p>Internal: refund?</p>"}),
        ),
    )
    .await;
    let by_user = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/reply"),
            Some(json!({"message_type": "comment", "type": "user", "intercom_user_id": sam, "body": "Thanks!"})),
        )
        .await;
    assert_eq!(by_user["conversation_parts"]["conversation_parts"][2]["author"]["type"], "user");
    c.ok(
        M::POST,
        &format!("/conversations/{conv}/reply"),
        Some(json!({"message_type": "comment", "type": "user", "email": "sam@example.com", "body": "Any news?"})),
    )
    .await;
    let quick = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/reply"),
            Some(
                json!({"message_type": "quick_reply", "type": "admin", "admin_id": "991267", "body": "Did that help?",
                        "reply_options": [{"text": "Yes", "uuid": "0b5d6a4e-1c2f-4a3b-9d8e-7f6a5b4c3d2e"},
                                          {"text": "No", "uuid": "1c6e7b5f-2d3a-4b4c-8e9f-8a7b6c5d4e3f"}]}),
            ),
        )
        .await;
    let last =
        |conv: &Value| conv["conversation_parts"]["conversation_parts"].as_array().and_then(|p| p.last().cloned());
    assert_eq!(last(&quick).map(|p| p["metadata"]["quick_reply_options"][0]["text"].clone()), Some(json!("Yes")));
    let picked = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/reply"),
            Some(json!({"message_type": "comment", "type": "user", "intercom_user_id": sam, "body": "Yes",
                        "reply_options": [{"text": "Yes", "uuid": "0b5d6a4e-1c2f-4a3b-9d8e-7f6a5b4c3d2e"}],
                        "attachment_urls": ["https://files.example.com/receipt.png"]})),
        )
        .await;
    let part = last(&picked).expect("part");
    assert_eq!(part["attachments"][0]["name"], "receipt.png");
    assert_eq!(part["metadata"]["quick_reply_uuid"], "0b5d6a4e-1c2f-4a3b-9d8e-7f6a5b4c3d2e");
    let noted = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/reply"),
            Some(json!({"message_type": "note", "type": "admin", "admin_id": GRACE, "body": "Log attached",
                        "attachment_urls": ["https://files.example.com/server.log"]})),
        )
        .await;
    assert_eq!(
        last(&noted).map(|p| p["attachments"][0]["url"].clone()),
        Some(json!("https://files.example.com/server.log"))
    );
    c.expect(
        M::POST,
        "/conversations/999999999/reply",
        Some(json!({"message_type": "comment", "type": "admin", "admin_id": "991267", "body": "x"})),
        404,
        Yes,
    )
    .await;
    let bad_admin = c
        .expect(
            M::POST,
            &format!("/conversations/{conv}/reply"),
            Some(json!({"message_type": "comment", "type": "admin", "admin_id": "1", "body": "x"})),
            404,
            Yes,
        )
        .await;
    assert_eq!(code(&bad_admin), "admin_not_found");

    let assigned = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/parts"),
            Some(json!({"message_type": "assignment", "type": "admin", "admin_id": "991267", "assignee_id": GRACE, "body": "Over to Grace"})),
        )
        .await;
    assert_eq!(assigned["admin_assignee_id"], 991268);
    let to_team = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/parts"),
            Some(json!({"message_type": "assignment", "type": "team", "admin_id": "991267", "assignee_id": support_team})),
        )
        .await;
    assert_eq!(to_team["team_assignee_id"].as_i64().map(|n| n.to_string()), Some(support_team.clone()));
    let unassigned = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/parts"),
            Some(json!({"message_type": "assignment", "type": "admin", "admin_id": "991267", "assignee_id": "0"})),
        )
        .await;
    assert_eq!(unassigned["admin_assignee_id"], if v2_16 { json!(0) } else { Value::Null });
    assert_eq!(unassigned["priority"], if v2_16 { "none" } else { "not_priority" });
    assert_eq!(unassigned.get("channel").is_some(), v2_16, "2.16 adds channel");
    let no_team = c
        .expect(
            M::POST,
            &format!("/conversations/{conv}/parts"),
            Some(json!({"message_type": "assignment", "type": "team", "admin_id": "991267", "assignee_id": "42"})),
            404,
            Yes,
        )
        .await;
    assert_eq!(code(&no_team), "assignee_not_found");
    let closed = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/parts"),
            Some(json!({"message_type": "close", "type": "admin", "admin_id": "991267", "body": "Refunded."})),
        )
        .await;
    assert_eq!((closed["state"].as_str(), closed["open"].as_bool()), (Some("closed"), Some(false)));
    let reopened = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/parts"),
            Some(json!({"message_type": "open", "admin_id": "991267"})),
        )
        .await;
    assert_eq!(reopened["state"], "open");
    let snoozed = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/parts"),
            Some(json!({"message_type": "snoozed", "admin_id": "991267", "snoozed_until": now() + 3600})),
        )
        .await;
    assert_eq!(snoozed["state"], "snoozed");
    assert!(snoozed["snoozed_until"].is_i64());
    c.expect(
        M::POST,
        "/conversations/999999999/parts",
        Some(json!({"message_type": "open", "admin_id": "991267"})),
        404,
        Yes,
    )
    .await;

    let applied =
        c.ok(M::POST, &format!("/conversations/{conv}/tags"), Some(json!({"id": tag_id, "admin_id": "991267"}))).await;
    assert_eq!((applied["type"].as_str(), applied["id"].as_str()), (Some("tag"), Some(tag_id.as_str())));
    let with_tag = c.ok(M::GET, &format!("/conversations/{conv}"), None).await;
    assert_eq!(with_tag["tags"]["tags"][0]["name"], "Billing issue");
    let unknown_tag = c
        .expect(
            M::POST,
            &format!("/conversations/{conv}/tags"),
            Some(json!({"id": "1", "admin_id": "991267"})),
            404,
            Yes,
        )
        .await;
    assert_eq!(code(&unknown_tag), "tag_not_found");
    c.expect(M::POST, "/conversations/999999999/tags", Some(json!({"id": tag_id, "admin_id": "991267"})), 404, Yes)
        .await;
    let removed =
        c.ok(M::DELETE, &format!("/conversations/{conv}/tags/{tag_id}"), Some(json!({"admin_id": "991267"}))).await;
    assert_eq!(removed["id"], tag_id.as_str());
    c.expect(M::DELETE, &format!("/conversations/{conv}/tags/1"), Some(json!({"admin_id": "991267"})), 404, Yes).await;

    let attrs = c
        .ok(
            M::PUT,
            &format!("/conversations/{conv}"),
            Some(json!({"custom_attributes": {"order_id": "A-1", "refund_cents": 1299}})),
        )
        .await;
    assert_eq!(attrs["custom_attributes"], json!({"order_id": "A-1", "refund_cents": 1299}));
    c.expect(M::PUT, "/conversations/999999999", Some(json!({"custom_attributes": {"order_id": "A-1"}})), 404, Yes)
        .await;

    // --- the 500-part window, rendered through the contract ---
    c.fake.with_state(|s| {
        for i in 0..505 {
            s.reply_as_admin(&conv, "991267", fake_intercom::state::AdminReplyKind::Note, Some(&format!("note {i}")))
                .expect("note");
        }
    });
    let long = c.ok(M::GET, &format!("/conversations/{conv}"), None).await;
    let total = long["conversation_parts"]["total_count"].as_u64().expect("total");
    assert!(total > 500);
    assert_eq!(long["conversation_parts"]["conversation_parts"].as_array().map(Vec::len), Some(500));

    // --- 401s: a token the fake does not know (Prism itself rejects a missing one) ---
    let denied = c.expect_with_token(M::GET, &format!("/contacts/{sam}"), None, 401, Yes, "stale-token").await;
    assert_eq!(denied["errors"][0], json!({"code": "unauthorized", "message": "Access Token Invalid"}));
    c.expect_with_token(M::GET, "/me", None, 401, No, "stale-token").await;
    c.expect_with_token(
        M::POST,
        &format!("/conversations/{conv}/reply"),
        Some(json!({"message_type": "comment", "type": "admin", "admin_id": "991267", "body": "x"})),
        401,
        Yes,
        "stale-token",
    )
    .await;

    // --- faults: 429 is documented (with X-RateLimit-* headers), 5xx are not ---
    c.fake.inject(Fault::rate_limit("POST", "/contacts").reset_after(Duration::from_secs(7)));
    let limited = c.expect(M::POST, "/contacts", Some(json!({"email": "new@example.com"})), 429, Yes).await;
    assert_eq!(code(&limited), "rate_limit_exceeded");
    c.fake.inject(Fault::server_error(503, "GET", "/conversations/*"));
    c.expect(M::GET, &format!("/conversations/{conv}"), None, 503, No).await;
}

/// The resources 2.16 adds that the product uses: a contact's companies and tags, the help center and
/// internal articles, ticket types and states, tickets (create, read, update, reply) and conversion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_companies_and_tickets_conform_to_the_2_16_contract() {
    let Some(c) = Contract::start(CURRENT).await else {
        return;
    };
    use Documented::{No, Yes};
    use Method as M;
    let jane = c.fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");

    // --- a contact's companies and tags ---
    let companies = c.ok(M::GET, &format!("/contacts/{jane}/companies"), None).await;
    assert_eq!(companies["total_count"], 1);
    let acme = &companies["companies"][0];
    assert_eq!((acme["name"].as_str(), acme["plan"]["name"].as_str()), (Some("Acme Corp"), Some("Pro")));
    assert_eq!(acme["custom_attributes"]["company_tier"], "gold");
    let globex = c
        .ok(
            M::POST,
            "/companies",
            Some(json!({"company_id": "globex", "name": "Globex", "plan": "Enterprise", "size": 900,
                        "custom_attributes": {"company_tier": "silver"}})),
        )
        .await;
    let globex_id = globex["id"].as_str().expect("id").to_owned();
    let refused = c
        .expect(
            M::POST,
            "/companies",
            Some(json!({"company_id": "x", "custom_attributes": {"shoe_size": "9"}})),
            400,
            Yes,
        )
        .await;
    assert_eq!(code(&refused), "parameter_invalid");
    c.ok(M::GET, &format!("/companies/{globex_id}"), None).await;
    c.expect(M::GET, "/companies/0123456789abcdef01234567", None, 404, Yes).await;
    let attached = c.ok(M::POST, &format!("/contacts/{jane}/companies"), Some(json!({"id": globex_id}))).await;
    assert_eq!(attached["user_count"], 1);
    c.expect(M::POST, &format!("/contacts/{jane}/companies"), Some(json!({"id": "nope"})), 404, Yes).await;
    let tag = c.ok(M::POST, "/tags", Some(json!({"name": "VIP"}))).await;
    let tag_id = tag["id"].as_str().expect("tag id").to_owned();
    c.ok(M::POST, &format!("/contacts/{jane}/tags"), Some(json!({"id": tag_id}))).await;
    c.expect(M::POST, &format!("/contacts/{jane}/tags"), Some(json!({"id": "1"})), 404, Yes).await;
    let tags = c.ok(M::GET, &format!("/contacts/{jane}/tags"), None).await;
    assert_eq!(tags["data"][0]["name"], "VIP");
    let contact = c.ok(M::GET, &format!("/contacts/{jane}"), None).await;
    assert_eq!(
        (contact["companies"]["total_count"].as_i64(), contact["tags"]["total_count"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(contact["tags"]["data"][0]["id"], tag_id.as_str());
    c.expect(M::GET, "/contacts/0123456789abcdef01234567/companies", None, 404, Yes).await;

    // --- the help center ---
    let centers = c.ok(M::GET, "/help_center/help_centers", None).await;
    let center = centers["data"][0]["id"].as_str().expect("help center").to_owned();
    let all = c.ok(M::GET, "/articles", None).await;
    assert_eq!(all["total_count"], 4, "three published, one draft");
    let found = c.ok(M::GET, "/articles/search?phrase=refund&state=published&highlight=true", None).await;
    let titles: Vec<&str> =
        found["data"]["articles"].as_array().expect("articles").iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(titles, ["Refund policy"], "the draft that mentions refunds is not published");
    assert_eq!(found["data"]["highlights"][0]["highlighted_title"][0], json!({"type": "highlight", "text": "Refund"}));
    let url = found["data"]["articles"][0]["url"].as_str().expect("url");
    assert!(url.starts_with("https://"), "{url}");
    let with_drafts = c.ok(M::GET, &format!("/articles/search?phrase=refund&help_center_id={center}"), None).await;
    assert_eq!(with_drafts["total_count"], 2, "without state, drafts are found too");
    let none = c.ok(M::GET, "/articles/search?phrase=xylophone", None).await;
    assert_eq!((none["total_count"].as_i64(), none["data"]["articles"].as_array().map(Vec::len)), (Some(0), Some(0)));
    let deletion = c.ok(M::GET, "/articles/search?phrase=how+do+I+delete+my+account&state=published", None).await;
    assert_eq!(deletion["data"]["articles"][0]["title"], "Delete your account");
    let id = deletion["data"]["articles"][0]["id"].as_str().expect("id").to_owned();
    c.ok(M::GET, &format!("/articles/{id}"), None).await;
    c.expect(M::GET, "/articles/1", None, 404, Yes).await;
    let internal = c.ok(M::GET, "/internal_articles", None).await;
    assert_eq!(internal["total_count"], 2);
    let internal_id = internal["data"][0]["id"].as_str().expect("id").to_owned();
    c.ok(M::GET, &format!("/internal_articles/{internal_id}"), None).await;
    c.expect(M::GET, "/internal_articles/1", None, 404, Yes).await;
    let searched = c.ok(M::GET, "/internal_articles/search", None).await;
    assert_eq!(searched["data"]["internal_articles"].as_array().map(Vec::len), Some(2));

    // --- ticket types and states ---
    let types = c.ok(M::GET, "/ticket_types", None).await;
    let by_name = |name: &str| {
        types["data"].as_array().and_then(|t| t.iter().find(|t| t["name"] == name)).cloned().expect("ticket type")
    };
    let legal = by_name("Legal request");
    let deletion_type = by_name("Account deletion");
    assert_eq!(legal["category"], "Back-office");
    let legal_id = legal["id"].as_str().expect("id").to_owned();
    c.ok(M::GET, &format!("/ticket_types/{legal_id}"), None).await;
    c.expect(M::GET, "/ticket_types/1", None, 404, No).await;
    let states = c.ok(M::GET, "/ticket_states", None).await;
    let state_id = |category: &str| {
        states["data"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["category"] == category))
            .and_then(|s| s["id"].as_str())
            .expect("state")
            .to_owned()
    };
    let eu = legal["ticket_type_attributes"]["ticket_type_attributes"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "Jurisdiction"))
        .and_then(|a| a["input_options"]["list"].as_array())
        .and_then(|l| l.iter().find(|o| o["label"] == "EU"))
        .and_then(|o| o["id"].as_str())
        .expect("EU item")
        .to_owned();

    // --- tickets ---
    let message = c
        .ok(
            M::POST,
            "/conversations",
            Some(json!({"from": {"type": "user", "id": jane}, "body": "Please erase my data"})),
        )
        .await;
    let conv = message["conversation_id"].as_str().expect("conversation").to_owned();
    let ticket = c
        .ok(
            M::POST,
            "/tickets",
            Some(json!({"ticket_type_id": legal_id, "contacts": [{"email": "jane@example.com"}],
                        "conversation_to_link_id": conv,
                        "ticket_attributes": {"_default_title_": "GDPR erasure", "_default_description_": "From chat",
                                              "Jurisdiction": eu}})),
        )
        .await;
    assert_eq!(
        (ticket["ticket_state"]["category"].as_str(), ticket["open"].as_bool()),
        (Some("submitted"), Some(true))
    );
    assert_eq!(ticket["linked_objects"]["data"][0], json!({"type": "conversation", "id": conv, "category": null}));
    let ticket_id = ticket["id"].as_str().expect("id").to_owned();
    let linked = c.ok(M::GET, &format!("/conversations/{conv}"), None).await;
    assert_eq!(linked["linked_objects"]["data"][0]["id"], ticket_id.as_str());
    let unknown_attr = c
        .expect(
            M::POST,
            "/tickets",
            Some(json!({"ticket_type_id": legal_id, "contacts": [{"id": jane}],
                        "ticket_attributes": {"_default_title_": "x", "Severity": "High"}})),
            400,
            No,
        )
        .await;
    assert_eq!(code(&unknown_attr), "parameter_invalid");
    let label = c
        .expect(
            M::POST,
            "/tickets",
            Some(json!({"ticket_type_id": legal_id, "contacts": [{"id": jane}],
                        "ticket_attributes": {"_default_title_": "x", "Jurisdiction": "EU"}})),
            400,
            No,
        )
        .await;
    assert!(label["errors"][0]["message"].as_str().is_some_and(|m| m.contains(&eu)), "{label}");
    c.expect(
        M::POST,
        "/tickets",
        Some(json!({"ticket_type_id": deletion_type["id"], "contacts": [{"id": jane}],
                    "ticket_attributes": {"_default_title_": "x", "Confirmed identity": "yes"}})),
        400,
        No,
    )
    .await;
    c.ok(M::GET, &format!("/tickets/{ticket_id}"), None).await;
    c.expect(M::GET, "/tickets/1", None, 404, No).await;
    let progressed = c
        .ok(
            M::PUT,
            &format!("/tickets/{ticket_id}"),
            Some(json!({"ticket_state_id": state_id("in_progress"), "admin_id": 991267, "assignee_id": GRACE,
                        "ticket_attributes": {"_default_description_": "Verified"}})),
        )
        .await;
    assert_eq!(progressed["ticket_state"]["category"], "in_progress");
    assert_eq!(progressed["admin_assignee_id"], 991268);
    let bad_state =
        c.expect(M::PUT, &format!("/tickets/{ticket_id}"), Some(json!({"ticket_state_id": "1"})), 400, Yes).await;
    assert_eq!(code(&bad_state), "ticket_state_id_invalid");
    let nobody = c.expect(M::PUT, &format!("/tickets/{ticket_id}"), Some(json!({"assignee_id": "1"})), 404, Yes).await;
    assert_eq!(code(&nobody), "assignee_not_found");
    c.expect(M::PUT, "/tickets/1", Some(json!({"open": false})), 404, Yes).await;
    let note = c
        .ok(
            M::POST,
            &format!("/tickets/{ticket_id}/reply"),
            Some(json!({"message_type": "note", "type": "admin", "admin_id": GRACE, "body": "Identity checked"})),
        )
        .await;
    assert_eq!((note["type"].as_str(), note["part_type"].as_str()), (Some("ticket_part"), Some("note")));
    c.ok(
        M::POST,
        &format!("/tickets/{ticket_id}/reply"),
        Some(json!({"message_type": "comment", "type": "user", "intercom_user_id": jane, "body": "Thanks"})),
    )
    .await;
    c.expect(
        M::POST,
        "/tickets/1/reply",
        Some(json!({"message_type": "note", "type": "admin", "admin_id": GRACE, "body": "x"})),
        404,
        Yes,
    )
    .await;
    let resolved = c
        .ok(
            M::PUT,
            &format!("/tickets/{ticket_id}"),
            Some(json!({"ticket_state_id": state_id("resolved"), "open": false})),
        )
        .await;
    assert_eq!((resolved["open"].as_bool(), resolved["previous_ticket_state_id"].is_string()), (Some(false), true));

    // --- conversion ---
    let bug = by_name("Bug report");
    let converted = c
        .ok(
            M::POST,
            &format!("/conversations/{conv}/convert"),
            Some(json!({"ticket_type_id": bug["id"], "attributes": {"_default_title_": "Erase data"}})),
        )
        .await;
    assert_eq!(converted["ticket_parts"]["ticket_parts"][0]["body"], "<p>Please erase my data</p>");
    assert_eq!(converted["category"], "Customer");
    c.expect(M::POST, &format!("/conversations/{conv}/convert"), Some(json!({"ticket_type_id": "1"})), 404, No).await;
    c.expect(M::POST, "/conversations/999999999/convert", Some(json!({"ticket_type_id": bug["id"]})), 404, No).await;
}

/// Who is there: office hours schedules and exceptions (201 on create, 422 `data_invalid`, 404), team
/// metrics (and their 403 without real-time monitoring), away reasons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_hours_metrics_and_away_reasons_conform_to_the_2_16_contract() {
    let Some(c) = Contract::start(CURRENT).await else {
        return;
    };
    use Documented::{No, Yes};
    use Method as M;

    let listed = c.ok(M::GET, "/office_hours_schedules", None).await;
    let names: Vec<&str> = listed["data"].as_array().expect("data").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["Standard Support Hours", "Billing hours"]);
    let weekend = json!({"name": "Weekend", "time_zone_name": "Europe/Paris",
                         "time_intervals": [{"start_minute": 7200, "end_minute": 7800}, {"start_minute": 8640, "end_minute": 9240}]});
    let made = c.expect(M::POST, "/office_hours_schedules", Some(weekend.clone()), 201, Yes).await;
    assert_eq!(made["time_intervals"][1]["day_of_week"], 6, "Sunday");
    let id = made["id"].as_str().expect("id").to_owned();
    let taken = c.expect(M::POST, "/office_hours_schedules", Some(weekend), 422, Yes).await;
    assert_eq!(code(&taken), "data_invalid");
    c.expect(
        M::POST,
        "/office_hours_schedules",
        Some(
            json!({"name": "Odd", "time_zone_name": "UTC", "time_intervals": [{"start_minute": 7, "end_minute": 60}]}),
        ),
        422,
        Yes,
    )
    .await;
    c.ok(M::GET, &format!("/office_hours_schedules/{id}"), None).await;
    let renamed =
        c.ok(M::PUT, &format!("/office_hours_schedules/{id}"), Some(json!({"name": "Weekend support"}))).await;
    assert_eq!(renamed["name"], "Weekend support");
    c.expect(M::GET, "/office_hours_schedules/1", None, 404, Yes).await;
    c.expect(M::PUT, "/office_hours_schedules/1", Some(json!({"name": "x"})), 404, Yes).await;
    let exceptions = format!("/office_hours_schedules/{id}/office_hours_exceptions");
    let closed = c
        .expect(
            M::POST,
            &exceptions,
            Some(json!({"exception_date": "2026-12-26", "exception_type": "closed", "name": "Boxing Day", "recurring_annually": true})),
            201,
            Yes,
        )
        .await;
    let exception = closed["id"].as_str().expect("id").to_owned();
    let custom = c
        .expect(
            M::POST,
            &exceptions,
            Some(json!({"exception_date": "2026-12-31", "exception_type": "custom_hours",
                        "time_intervals": [{"start_minute": 600, "end_minute": 900}]})),
            201,
            Yes,
        )
        .await;
    assert_eq!(custom["time_intervals"][0]["day_of_week"], 3, "a Thursday");
    c.expect(M::POST, &exceptions, Some(json!({"exception_date": "2026-12-26", "exception_type": "closed"})), 422, Yes)
        .await;
    c.expect(
        M::POST,
        &exceptions,
        Some(json!({"exception_date": "2027-01-01", "exception_type": "custom_hours"})),
        422,
        Yes,
    )
    .await;
    let all = c.ok(M::GET, &exceptions, None).await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(2));
    c.ok(M::GET, &format!("{exceptions}/{exception}"), None).await;
    let moved = c.ok(M::PUT, &format!("{exceptions}/{exception}"), Some(json!({"exception_date": "2026-12-24"}))).await;
    assert_eq!(moved["exception_date"], "2026-12-24");
    let gone = c.ok(M::DELETE, &format!("{exceptions}/{exception}"), None).await;
    assert_eq!(gone, json!({"id": exception, "object": "office_hours_exception", "deleted": true}));
    c.expect(M::GET, &format!("{exceptions}/{exception}"), None, 404, Yes).await;
    c.expect(M::GET, "/office_hours_schedules/1/office_hours_exceptions", None, 404, Yes).await;
    let deleted = c.ok(M::DELETE, &format!("/office_hours_schedules/{id}"), None).await;
    assert_eq!(deleted["deleted"], true);
    c.expect(M::DELETE, &format!("/office_hours_schedules/{id}"), None, 404, Yes).await;

    // Team metrics from the conversations: one open conversation assigned to Grace.
    let teams = c.ok(M::GET, "/teams", None).await;
    let billing = teams["teams"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "Billing"))
        .and_then(|t| t["id"].as_str())
        .expect("Billing")
        .to_owned();
    let jane = c.fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
    let conv = c.fake.add_conversation(&jane, "Refund?").expect("conversation").id.to_string();
    c.fake
        .with_state(|s| s.assign(&conv, "991267", fake_intercom::AssigneeKind::Admin, GRACE, None))
        .expect("assigned to Grace");
    let metrics = c.ok(M::GET, &format!("/teams/{billing}/metrics?idle_threshold=0"), None).await;
    assert_eq!(metrics["type"], "team_metric.list");
    assert_eq!(
        metrics["data"][0],
        json!({"type": "team_metric", "admin_id": GRACE, "open": 1, "idle": 1, "snoozed": 0})
    );
    c.expect(M::GET, "/teams/1/metrics", None, 404, Yes).await;
    c.fake.with_state(|s| s.realtime_monitoring = false);
    let refused = c.expect(M::GET, &format!("/teams/{billing}/metrics"), None, 403, Yes).await;
    assert_eq!(code(&refused), "api_plan_restricted");

    let reasons = c.ok(M::GET, "/away_status_reasons", None).await;
    assert_eq!(reasons["data"][0]["label"], "On a break");
    let _ = No;
}

/// `PUT /data_attributes/{id}` archives an attribute (as the doctor's broken-setup check does to
/// `escalation_count`): it leaves the list, and a contact write using it is refused as an unknown one is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_attribute_is_refused_on_contact_writes() {
    let Some(c) = Contract::start(CURRENT).await else {
        return;
    };
    use Documented::{No, Yes};
    use Method as M;
    let listed = c.ok(M::GET, "/data_attributes?model=contact", None).await;
    let id_of = |list: &Value, name: &str| {
        list["data"].as_array().and_then(|d| d.iter().find(|a| a["name"] == name)).and_then(|a| a["id"].as_i64())
    };
    let id = id_of(&listed, "escalation_count").expect("escalation_count has an id");
    let jane = c.fake.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
    let write = json!({"custom_attributes": {"escalation_count": 1}});
    c.ok(M::PUT, &format!("/contacts/{jane}"), Some(write.clone())).await;

    let archived = c.ok(M::PUT, &format!("/data_attributes/{id}"), Some(json!({"archived": true}))).await;
    assert_eq!((archived["archived"].as_bool(), archived["name"].as_str()), (Some(true), Some("escalation_count")));
    let active = c.ok(M::GET, "/data_attributes?model=contact", None).await;
    assert_eq!(id_of(&active, "escalation_count"), None, "archived attributes are not listed");
    let all = c.ok(M::GET, "/data_attributes?model=contact&include_archived=true", None).await;
    assert_eq!(id_of(&all, "escalation_count"), Some(id));
    let refused = c.expect(M::PUT, &format!("/contacts/{jane}"), Some(write.clone()), 400, No).await;
    assert_eq!(refused["errors"][0]["message"], "Custom attribute 'escalation_count' does not exist");
    c.expect(
        M::POST,
        "/contacts",
        Some(json!({"email": "archived@example.com", "custom_attributes": {"escalation_count": 1}})),
        400,
        No,
    )
    .await;

    let restored = c
        .ok(
            M::PUT,
            &format!("/data_attributes/{id}"),
            Some(json!({"archived": false, "description": "Escalations so far"})),
        )
        .await;
    assert_eq!(
        (restored["archived"].as_bool(), restored["description"].as_str()),
        (Some(false), Some("Escalations so far"))
    );
    c.ok(M::PUT, &format!("/contacts/{jane}"), Some(write)).await;
    let missing = c.expect(M::PUT, "/data_attributes/1", Some(json!({"archived": true})), 404, Yes).await;
    assert_eq!(code(&missing), "field_not_found");
    c.expect(M::PUT, &format!("/data_attributes/{id}"), Some(json!({"options": {"value": "x"}})), 400, Yes).await;
}

/// Several workspaces: `/me` with each token, another workspace's conversation, a withheld scope (403) and
/// an unknown token (401), all in the contract's shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_workspaces_answer_in_the_contracts_shapes() {
    let builder = FakeIntercom::builder().workspaces(2).seed_demo().valid_tokens(["token-a", "token-b"]);
    let Some(c) = Contract::start_with(CURRENT, builder).await else {
        return;
    };
    use Documented::{No, Yes};
    use Method as M;
    let infos = c.fake.workspaces();
    for info in &infos {
        let me = c.expect_with_token(M::GET, "/me", None, 200, Yes, &info.access_token).await;
        assert_eq!(
            (me["id"].as_str(), me["app"]["id_code"].as_str()),
            (Some(info.ai_admin_id.as_str()), Some(info.workspace_id.as_str()))
        );
    }
    let b = c.fake.workspace(&infos[1].workspace_id).expect("b");
    let jane = b.with_state(|s| s.contact_by_email("jane@example.com").map(|c| c.id.clone())).expect("jane");
    let conv = b.add_conversation(&jane, "Hello").expect("conversation").id.to_string();
    c.expect_with_token(M::GET, &format!("/conversations/{conv}"), None, 200, Yes, "token-b").await;
    let foreign = c.expect_with_token(M::GET, &format!("/conversations/{conv}"), None, 404, Yes, "token-a").await;
    assert_eq!(code(&foreign), "not_found");
    c.fake.workspace(&infos[0].workspace_id).expect("a").deny_scopes([fake_intercom::Scope::WriteConversations]);
    let probe = Some(json!({"custom_attributes": {}}));
    let denied = c.expect_with_token(M::PUT, "/conversations/0", probe.clone(), 403, Yes, "token-a").await;
    assert_eq!(code(&denied), "forbidden");
    c.expect_with_token(M::PUT, "/conversations/0", probe, 404, Yes, "token-b").await;
    c.expect_with_token(M::GET, "/me", None, 401, No, "token-c").await;
}

/// The assertions above must be able to fail: a deliberately wrong upstream is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_proxy_catches_a_wrong_response() {
    let Some((spec, _)) = prism::contract_tools_for_or_skip(CURRENT) else {
        return;
    };
    // An upstream that gets Intercom's shapes wrong on purpose.
    let app = axum::Router::new()
        .route(
            "/contacts/{id}",
            get(|| async { Json(json!({"type": "contact", "id": 12345, "created_at": "yesterday"})) }),
        )
        .route(
            "/conversations/{id}",
            get(|| async {
                Json(json!({"type": "conversation", "id": "1", "admin_assignee_id": "991267", "state": "pending"}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let prism = Prism::proxy(&spec, &format!("http://{addr}")).await.expect("prism");
    let http = reqwest::Client::new();
    for path in ["/contacts/0123456789abcdef01234567", "/conversations/1"] {
        let resp = http.get(format!("{}{path}", prism.base_url())).bearer_auth("t").send().await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let raw = resp.bytes().await.expect("body");
        let problems = contract_problems(&headers, &raw, true);
        assert!(!problems.is_empty(), "{path}: a wrong body went unnoticed");
        assert_eq!(status, 500, "{path}: Prism answers 500 for a response that breaks the spec");
        assert!(!prism::violations(&headers).is_empty(), "{path}: no sl-violations header");
    }
    drop(prism);
    server.abort();
}

/// `Prism::mock` serves the spec and rejects requests that break it (what client tests rely on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_mock_rejects_bad_requests() {
    let Some((spec, _)) = prism::contract_tools_for_or_skip(CURRENT) else {
        return;
    };
    let prism = Prism::mock(&spec).await.expect("prism mock");
    let http = reqwest::Client::new();
    let good = http.get(format!("{}/me", prism.base_url())).bearer_auth("t").send().await.expect("send");
    let headers = good.headers().clone();
    assert_eq!(good.status(), 200);
    assert!(contract_problems(&headers, &good.bytes().await.expect("body"), false).is_empty());

    // `from.type` outside the enum and `body` missing.
    let bad = http
        .post(format!("{}/conversations", prism.base_url()))
        .bearer_auth("t")
        .json(&json!({"from": {"type": "visitor", "id": "0123456789abcdef01234567"}}))
        .send()
        .await
        .expect("send");
    let status = bad.status().as_u16();
    let headers = bad.headers().clone();
    let raw = bad.bytes().await.expect("body");
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&raw));
    assert!(!contract_problems(&headers, &raw, false).is_empty());
}
