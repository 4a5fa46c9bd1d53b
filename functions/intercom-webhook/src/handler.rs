//! HTTP in and out for Intercom's webhook deliveries; the work is [`WebhookService::handle`].
//!
//! - `HEAD` → 200 (Intercom checks the URL when the webhook is saved); other methods but `POST` → 405.
//! - `POST` over 1 MiB → 413; bad `X-Hub-Signature` → 401; signed but unreadable → 400;
//!   ping, ignored topics and repeats → 200; with a relay queue (`RELAY_QUEUE_URL`) → 200 `queued` once it is
//!   on the queue (503 if the queue refuses it); without one → 200 `relayed` once the agent accepted it, else 503
//!   so Intercom redelivers.

use lambda_http::RequestExt;
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Error, Request, Response};
use serde_json::json;
use shared::deadline;
use shared::http::json_response;
use shared::secrets::SecretStore;
use shared::webhook::{Delivered, INTERCOM_SIGNATURE_HEADER, MAX_BODY_BYTES, WebhookKeys, WebhookService};

pub async fn handle(
    service: &WebhookService,
    secrets: &SecretStore,
    request: Request,
) -> Result<Response<Body>, Error> {
    // Intercom reads (conversation, /me) and the assignment on '/ai resume' must end within the invocation.
    let deadline_ms = request.lambda_context_ref().map(|ctx| ctx.deadline);
    let deadline = deadline_ms.map(deadline::from_epoch_millis).unwrap_or_else(deadline::current);
    Ok(deadline::scope(deadline, respond(service, secrets, request)).await)
}

async fn respond(service: &WebhookService, secrets: &SecretStore, request: Request) -> Response<Body> {
    match *request.method() {
        Method::POST => {}
        Method::HEAD => return empty(StatusCode::OK),
        _ => {
            let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "POST or HEAD only");
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, HEAD"));
            return response;
        }
    }

    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        tracing::warn!(bytes = body.len(), "webhook delivery too large");
        let message = format!("the body is larger than {MAX_BODY_BYTES} bytes");
        return error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", &message);
    }

    let secrets = match secrets.get().await {
        Ok(secrets) => secrets,
        Err(e) => {
            tracing::error!(error = %e, "webhook secrets unavailable");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "secrets_unavailable",
                "the webhook secrets could not be loaded",
            );
        }
    };
    let keys = WebhookKeys {
        client_secret: secrets.client_secret.as_ref(),
        agent_webhook_secret: secrets.agent_webhook_secret.as_ref(),
        previous_client_secret: secrets.previous_client_secret(),
    };
    // A header that is not valid UTF-8 still reaches verification, which calls it malformed rather than missing.
    let signature = request.headers().get(INTERCOM_SIGNATURE_HEADER).map(|v| String::from_utf8_lossy(v.as_bytes()));

    match service.handle(keys, signature.as_deref(), body).await {
        Ok(Delivered::Ping) => json_response(StatusCode::OK, &json!({"status": "pong"})),
        Ok(Delivered::Ignored(reason)) => {
            json_response(StatusCode::OK, &json!({"status": "ignored", "reason": reason.to_string()}))
        }
        Ok(Delivered::Duplicate { notification_id }) => {
            json_response(StatusCode::OK, &json!({"status": "duplicate", "notificationId": notification_id}))
        }
        Ok(Delivered::Relayed { notification_id }) => {
            json_response(StatusCode::OK, &json!({"status": "relayed", "notificationId": notification_id}))
        }
        Ok(Delivered::Queued { notification_id }) => {
            json_response(StatusCode::OK, &json!({"status": "queued", "notificationId": notification_id}))
        }
        Err(e) => error(e.status(), e.code(), &e.to_string()),
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json_response(status, &json!({"error": {"code": code, "message": message}}))
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::body::Bytes;
    use axum::extract::State;
    use lambda_http::http;
    use serde_json::Value;
    use shared::secrets::Secrets;
    use shared::webhook::{WebhookSettings, fixtures, sign_for_agent, sign_intercom};

    use super::*;

    const CLIENT_SECRET: &str = "intercom-client-secret-1";
    const AGENT_SECRET: &str = "agent-webhook-secret-1";

    /// One request as the agent received it.
    #[derive(Debug, Clone)]
    struct Received {
        signature: Option<String>,
        idempotency_key: Option<String>,
        content_type: Option<String>,
        body: Bytes,
    }

    impl Received {
        fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap()
        }
    }

    /// The agent's webhook, on 127.0.0.1: records requests, answers `status` after `delay_ms`.
    struct Agent {
        url: String,
        received: Mutex<Vec<Received>>,
        status: AtomicU16,
        delay_ms: AtomicU64,
    }

    impl Agent {
        async fn start() -> Arc<Agent> {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let agent = Arc::new(Agent {
                url: format!("http://{}/events", listener.local_addr().unwrap()),
                received: Mutex::new(Vec::new()),
                status: AtomicU16::new(202),
                delay_ms: AtomicU64::new(0),
            });
            let app = axum::Router::new().route("/events", axum::routing::post(receive)).with_state(Arc::clone(&agent));
            tokio::spawn(async move { axum::serve(listener, app).await });
            agent
        }

        fn answer(&self, status: u16) {
            self.status.store(status, Ordering::SeqCst);
        }

        fn received(&self) -> Vec<Received> {
            self.received.lock().unwrap().clone()
        }
    }

    async fn receive(State(agent): State<Arc<Agent>>, headers: http::HeaderMap, body: Bytes) -> StatusCode {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        agent.received.lock().unwrap().push(Received {
            signature: header("x-signature"),
            idempotency_key: header("idempotency-key"),
            content_type: header("content-type"),
            body,
        });
        tokio::time::sleep(Duration::from_millis(agent.delay_ms.load(Ordering::SeqCst))).await;
        StatusCode::from_u16(agent.status.load(Ordering::SeqCst)).unwrap()
    }

    /// The function as deployed, pointed at `agent_url`, with extra environment `vars`.
    fn function(agent_url: Option<&str>, vars: &[(&str, &str)]) -> (WebhookService, SecretStore) {
        let mut env: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if let Some(url) = agent_url {
            env.push(("AGENT_WEBHOOK_URL".into(), url.into()));
        }
        let settings =
            WebhookSettings::from_lookup(|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap();
        let service = WebhookService::from_settings(&settings).unwrap();
        let secrets =
            Secrets::parse(&json!({"client_secret": CLIENT_SECRET, "agent_webhook_secret": AGENT_SECRET}).to_string())
                .unwrap();
        (service, SecretStore::fixed(secrets))
    }

    fn post(body: &str, signature: Option<&str>) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("https://hooks.example/webhook/intercom-events");
        if let Some(signature) = signature {
            builder = builder.header("X-Hub-Signature", signature);
        }
        builder.header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()
    }

    fn signed(body: &str) -> Request {
        post(body, Some(&sign_intercom(CLIENT_SECRET.as_bytes(), body.as_bytes())))
    }

    async fn call(service: &WebhookService, secrets: &SecretStore, request: Request) -> (StatusCode, Value) {
        let response = handle(service, secrets, request).await.unwrap();
        let body = match response.body() {
            Body::Empty => Value::Null,
            other => serde_json::from_slice(other.as_ref()).unwrap(),
        };
        (response.status(), body)
    }

    fn with_topic(fixture: &str, topic: &str) -> String {
        let mut value: Value = serde_json::from_str(fixture).unwrap();
        value["topic"] = json!(topic);
        value.to_string()
    }

    fn with_item(fixture: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut value: Value = serde_json::from_str(fixture).unwrap();
        change(&mut value["data"]["item"]);
        value.to_string()
    }

    #[tokio::test]
    async fn a_signed_user_created_is_relayed_signed_for_the_agent() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"status": "relayed", "notificationId": "notif_b3a1f9e0-2c4d-4e5f-9a6b-7c8d9e0f1a2b"}));

        let received = agent.received();
        assert_eq!(received.len(), 1);
        let relay = &received[0];
        assert_eq!(relay.content_type.as_deref(), Some("application/json"));
        assert_eq!(relay.idempotency_key.as_deref(), Some("notif_b3a1f9e0-2c4d-4e5f-9a6b-7c8d9e0f1a2b"));
        assert_eq!(relay.signature, Some(sign_for_agent(AGENT_SECRET.as_bytes(), &relay.body)));
        let event = relay.json();
        assert_eq!(event["topic"], "conversation.user.created");
        assert_eq!(event["conversation"]["id"], "147");
        assert_eq!(event["contact"]["email"], "jane@example.com");
        assert_eq!(event["message"]["partId"], "2001");
        assert!(event["message"]["text"].as_str().unwrap().starts_with("Hi there,\nI was charged twice"));
        assert_eq!(event["origin"], "customer");
    }

    #[tokio::test]
    async fn with_the_relay_queue_a_delivery_is_answered_queued_while_the_agent_hangs() {
        let agent = Agent::start().await;
        agent.delay_ms.store(5_000, Ordering::SeqCst);
        let (service, secrets) = function(Some(&agent.url), &[]);
        let queue = Arc::new(shared::queue::memory::MemoryQueue::new());
        let service = service.with_queue(queue.clone());
        let started = std::time::Instant::now();
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"status": "queued", "notificationId": "notif_b3a1f9e0-2c4d-4e5f-9a6b-7c8d9e0f1a2b"}));
        assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
        assert!(agent.received().is_empty());
        assert_eq!(queue.sent().len(), 1);

        queue.set_down(true);
        let (status, body) =
            call(&service, &secrets, signed(&with_topic(fixtures::USER_REPLIED, "conversation.user.replied"))).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("queue_unavailable")));
    }

    #[tokio::test]
    async fn a_user_reply_relays_the_latest_customer_part() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_REPLIED)).await;
        assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("relayed")));
        let event = agent.received()[0].json();
        assert_eq!(event["topic"], "conversation.user.replied");
        assert_eq!(event["message"]["partId"], "3004");
        assert_eq!(event["message"]["text"], "Sure — it's 4242.\nThanks!");
        assert_eq!(event["conversation"]["assignee"], json!({"type": "admin", "id": "991267"}));
        assert_eq!(event["conversation"]["tags"], json!(["vip", "billing"]));
        assert_eq!(event["summary"], "Jane Doe (jane@example.com) replied: \"Sure — it's 4242. Thanks!\"");
    }

    #[tokio::test]
    async fn bad_signatures_are_refused_and_nothing_is_relayed() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let body = fixtures::USER_CREATED;
        let good = sign_intercom(CLIENT_SECRET.as_bytes(), body.as_bytes());
        let tampered = body.replace("twice", "thrice");
        let cases = [
            ("tampered body", post(&tampered, Some(&good))),
            ("wrong secret", post(body, Some(&sign_intercom(b"another-app-secret", body.as_bytes())))),
            ("missing header", post(body, None)),
            ("sha256 prefix", post(body, Some(&sign_for_agent(CLIENT_SECRET.as_bytes(), body.as_bytes())))),
            ("not hex", post(body, Some(&format!("sha1={}", "g".repeat(40))))),
            ("unsigned empty body", post("", None)),
        ];
        for (case, request) in cases {
            let (status, response) = call(&service, &secrets, request).await;
            assert_eq!(status, 401, "{case}");
            assert_eq!(response["error"]["code"], "invalid_signature", "{case}");
        }
        assert!(agent.received().is_empty());
    }

    #[tokio::test]
    async fn upper_case_hex_is_accepted() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let signature = sign_intercom(CLIENT_SECRET.as_bytes(), fixtures::USER_CREATED.as_bytes());
        let upper = format!("sha1={}", signature["sha1=".len()..].to_uppercase());
        let (status, _) = call(&service, &secrets, post(fixtures::USER_CREATED, Some(&upper))).await;
        assert_eq!(status, 200);
        assert_eq!(agent.received().len(), 1);
    }

    #[tokio::test]
    async fn signed_but_unreadable_bodies_are_400_with_the_reason() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let (status, body) = call(&service, &secrets, signed("")).await;
        assert_eq!(status, 400);
        assert!(body["error"]["message"].as_str().unwrap().starts_with("body is not valid JSON"), "{body}");

        let (status, body) =
            call(&service, &secrets, signed(r#"{"type":"notification_event","topic":"conversation.user"#)).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_payload")));

        let no_id = with_item(fixtures::USER_CREATED, |item| item["id"] = Value::Null);
        let (status, body) = call(&service, &secrets, signed(&no_id)).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["message"], "data.item.id is missing");
        assert!(agent.received().is_empty());
    }

    #[tokio::test]
    async fn head_is_ok_and_other_methods_are_405() {
        let (service, secrets) = function(None, &[]);
        let head = http::Request::builder().method("HEAD").uri("https://x/").body(Body::Empty).unwrap();
        let response = handle(&service, &secrets, head).await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.body().as_ref().is_empty());

        for method in ["GET", "PUT", "DELETE"] {
            let request = http::Request::builder().method(method).uri("https://x/").body(Body::Empty).unwrap();
            let response = handle(&service, &secrets, request).await.unwrap();
            assert_eq!(response.status(), 405, "{method}");
            assert_eq!(response.headers()[header::ALLOW], "POST, HEAD");
        }
    }

    #[tokio::test]
    async fn pings_are_answered_every_time() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        for _ in 0..2 {
            let (status, body) = call(&service, &secrets, signed(fixtures::PING)).await;
            assert_eq!((status, body), (StatusCode::OK, json!({"status": "pong"})));
        }
        assert!(agent.received().is_empty());
    }

    #[tokio::test]
    async fn other_topics_are_acknowledged_and_ignored() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let other = with_topic(fixtures::ADMIN_REPLIED, "conversation.admin.unsnoozed");
        let (status, body) = call(&service, &secrets, signed(&other)).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"status": "ignored", "reason": "topic conversation.admin.unsnoozed is not relayed"}));
        assert!(agent.received().is_empty());
    }

    #[tokio::test]
    async fn webhook_topics_chooses_what_is_relayed() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[("WEBHOOK_TOPICS", "conversation.admin.replied")]);
        assert_eq!(call(&service, &secrets, signed(fixtures::ADMIN_REPLIED)).await.1["status"], "relayed");
        assert_eq!(call(&service, &secrets, signed(fixtures::USER_CREATED)).await.1["status"], "ignored");
        let received = agent.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].json()["message"], Value::Null);
    }

    #[tokio::test]
    async fn a_repeated_notification_is_relayed_once() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        assert_eq!(call(&service, &secrets, signed(fixtures::USER_REPLIED)).await.1["status"], "relayed");
        // Intercom's redelivery carries the same id with a higher attempt count.
        let again = fixtures::USER_REPLIED.replace("\"delivery_attempts\": 2", "\"delivery_attempts\": 3");
        let (status, body) = call(&service, &secrets, signed(&again)).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"status": "duplicate", "notificationId": "notif_5d6e7f80-91a2-4b3c-8d4e-5f60718293a4"})
        );
        assert_eq!(agent.received().len(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_agent_is_503() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (service, secrets) = function(Some(&format!("http://127.0.0.1:{port}/events")), &[]);
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("agent_unreachable")));
    }

    #[tokio::test]
    async fn a_slow_agent_is_503_after_the_relay_timeout() {
        let agent = Agent::start().await;
        agent.delay_ms.store(1_500, Ordering::SeqCst);
        let (service, secrets) = function(Some(&agent.url), &[("AGENT_RELAY_TIMEOUT_MS", "200")]);
        let started = std::time::Instant::now();
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("agent_timeout")));
        assert!(started.elapsed() < Duration::from_millis(1_200), "gave up at the timeout, not the agent's pace");
    }

    #[tokio::test]
    async fn a_failed_relay_succeeds_on_redelivery() {
        let agent = Agent::start().await;
        agent.answer(500);
        let (service, secrets) = function(Some(&agent.url), &[]);
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!(status, 503);
        assert_eq!(body["error"]["message"], "the agent answered HTTP 500");

        agent.answer(200);
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("relayed")));
        assert_eq!(agent.received().len(), 2, "the redelivery was relayed, not taken for a duplicate");
        assert_eq!(call(&service, &secrets, signed(fixtures::USER_CREATED)).await.1["status"], "duplicate");
    }

    #[tokio::test]
    async fn oversize_deliveries_are_413() {
        let (service, secrets) = function(None, &[]);
        let huge = format!("{{\"topic\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let (status, body) = call(&service, &secrets, signed(&huge)).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::PAYLOAD_TOO_LARGE, &json!("payload_too_large")));
    }

    #[tokio::test]
    async fn markers_no_longer_make_a_message_ours() {
        // Tags and attributes describe conversations, not messages: without the store's memory of our own
        // messages, every customer message is the customer's.
        let escalated = with_item(fixtures::USER_REPLIED, |item| {
            item["tags"]["tags"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "tag", "id": "90", "name": "ai-escalation"}))
        });
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[("WEBHOOK_LOOP_GUARD", "drop")]);
        assert_eq!(call(&service, &secrets, signed(&escalated)).await.1["status"], "relayed");
        assert_eq!(agent.received()[0].json()["origin"], "customer");
    }

    #[tokio::test]
    async fn an_admin_authored_message_is_not_relayed_as_the_customers() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let body = with_item(fixtures::USER_CREATED, |item| {
            item["source"]["author"] =
                json!({"type": "admin", "id": "991267", "name": "Sam", "email": "sam@company.example"})
        });
        let (status, response) = call(&service, &secrets, signed(&body)).await;
        assert_eq!((status, &response["status"]), (StatusCode::OK, &json!("ignored")));
        assert!(agent.received().is_empty());
    }

    #[tokio::test]
    async fn without_an_agent_url_deliveries_are_acknowledged() {
        let (service, secrets) = function(None, &[]);
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"status": "ignored", "reason": "AGENT_WEBHOOK_URL is not set, so nothing is relayed"}));
    }

    #[tokio::test]
    async fn a_secret_without_client_secret_is_a_configuration_error() {
        let (service, _) = function(None, &[]);
        let secrets = SecretStore::fixed(Secrets::parse("just-an-access-token").unwrap());
        let (status, body) = call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        assert_eq!((status, &body["error"]["code"]), (StatusCode::INTERNAL_SERVER_ERROR, &json!("not_configured")));
        assert!(body["error"]["message"].as_str().unwrap().contains("client_secret"));
    }

    #[tokio::test]
    async fn an_http_api_event_with_a_base64_body_verifies() {
        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let body = fixtures::USER_REPLIED;
        let event = json!({
            "version": "2.0",
            "routeKey": "POST /webhook/intercom-events",
            "rawPath": "/webhook/intercom-events",
            "rawQueryString": "",
            "headers": {
                "content-type": "application/json",
                "x-hub-signature": sign_intercom(CLIENT_SECRET.as_bytes(), body.as_bytes()),
            },
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "hooks.example", "domainPrefix": "hooks",
                "http": {"method": "POST", "path": "/webhook/intercom-events", "protocol": "HTTP/1.1",
                         "sourceIp": "34.231.68.152", "userAgent": "Intercom-Webhooks"},
                "requestId": "r1", "routeKey": "POST /webhook/intercom-events", "stage": "$default",
                "time": "10/Jun/2024:06:23:15 +0000", "timeEpoch": 1718000595000u64
            },
            "body": base64(body.as_bytes()),
            "isBase64Encoded": true
        });
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let (status, response) = call(&service, &secrets, request).await;
        assert_eq!((status, &response["status"]), (StatusCode::OK, &json!("relayed")));
        assert_eq!(agent.received()[0].json()["message"]["partId"], "3004");
    }

    /// Standard base64, enough for the test event.
    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn logs_never_carry_secrets_signatures_or_customer_text() {
        let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = {
            let logs = Arc::clone(&logs);
            move || LogWriter(Arc::clone(&logs))
        };
        let subscriber = tracing_subscriber::fmt().with_writer(writer).with_max_level(tracing::Level::TRACE).finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let agent = Agent::start().await;
        let (service, secrets) = function(Some(&agent.url), &[]);
        let signature = sign_intercom(CLIENT_SECRET.as_bytes(), fixtures::USER_CREATED.as_bytes());
        call(&service, &secrets, signed(fixtures::USER_CREATED)).await;
        call(&service, &secrets, post(fixtures::USER_REPLIED, Some(&signature))).await;
        call(&service, &secrets, signed(fixtures::ADMIN_REPLIED)).await;
        agent.answer(500);
        call(&service, &secrets, signed(fixtures::USER_REPLIED)).await;

        let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("webhook event relayed") && logs.contains("signature refused"), "{logs}");
        for secret in [
            CLIENT_SECRET,
            AGENT_SECRET,
            &signature["sha1=".len()..],
            "charged",
            "s <b>4242",
            "it's 4242",
            "jane@example.com",
        ] {
            assert!(!logs.contains(secret), "logs contain {secret:?}:\n{logs}");
        }
    }

    struct LogWriter(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for LogWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
