//! A one-purpose HTTP/1.1 server on 127.0.0.1 for the client's resource tests: it records each request (method,
//! path with query, JSON body) and answers what the test says, so a test sees exactly what the client sends.
//! [`client_answering`] answers through a function of the request; [`serve`] from canned answers by path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::IntercomClient;
use super::client::RetryPolicy;
use crate::config::Config;
use crate::secrets::{SecretStore, Secrets};

/// One request as the server read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub method: String,
    /// The path and query, percent-encoded as sent (`/articles/search?phrase=a+b`).
    pub target: String,
    pub body: Option<serde_json::Value>,
}

/// One canned answer: status, extra header lines (`Date: …`) and a JSON body.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub status: u16,
    pub headers: Vec<String>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Self {
        Answer { status, headers: Vec::new(), body: body.to_owned() }
    }

    pub fn with_header(mut self, line: &str) -> Self {
        self.headers.push(line.to_owned());
        self
    }
}

type Respond = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;
/// A test's answer to each request: status and JSON body.
pub type AnswerWith = Box<dyn Fn(&Seen) -> (u16, serde_json::Value) + Send + Sync>;

/// A client of a server that answers with `answer`, and the log of what it was sent.
pub async fn client_answering(answer: AnswerWith) -> (IntercomClient, Arc<Mutex<Vec<Seen>>>) {
    let respond: Respond = Arc::new(move |seen| {
        let (status, body) = answer(seen);
        Answer::json(status, &body.to_string())
    });
    let (base, seen) = start(respond).await;
    let config = Config::from_lookup(|name| match name {
        "INTERCOM_API_BASE" => Some(base.clone()),
        "INTERCOM_ACCESS_TOKEN" => Some("token".into()),
        "INTERCOM_ADMIN_ID" => Some("991267".into()),
        _ => None,
    })
    .expect("a test configuration");
    let secrets = Arc::new(SecretStore::fixed(Secrets::parse("token").expect("a token")));
    (IntercomClient::new(&config, secrets), seen)
}

pub(super) struct Stub {
    pub client: IntercomClient,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    /// The path of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|s| s.target.clone()).collect()
    }
}

/// Serves `answers` by request path (404 for any other) and returns a client pointed at it, without retries.
pub(super) async fn serve(answers: &[(&str, Answer)]) -> Stub {
    let answers: HashMap<String, Answer> = answers.iter().map(|(path, a)| (path.to_string(), a.clone())).collect();
    let respond: Respond = Arc::new(move |seen| {
        answers.get(&seen.target).cloned().unwrap_or_else(|| {
            Answer::json(404, r#"{"type":"error.list","errors":[{"code":"not_found","message":"Not found"}]}"#)
        })
    });
    let (base, seen) = start(respond).await;
    let config = Config::from_lookup(|name| match name {
        "INTERCOM_API_BASE" => Some(base.clone()),
        "INTERCOM_ACCESS_TOKEN" => Some("test-token".to_owned()),
        "INTERCOM_ADMIN_ID" => Some("1".to_owned()),
        _ => None,
    })
    .unwrap();
    let secrets = Arc::new(SecretStore::fixed(Secrets::parse("test-token").unwrap()));
    let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    Stub { client: IntercomClient::with_retry_policy(&config, secrets, policy), seen }
}

/// Starts the server; its base URL and the log of requests.
async fn start(respond: Respond) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a local port");
    let base = format!("http://{}/", listener.local_addr().expect("an address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (log, respond) = (Arc::clone(&log), Arc::clone(&respond));
            tokio::spawn(async move {
                while let Some(request) = read_request(&mut socket).await {
                    let answer = respond(&request);
                    log.lock().unwrap().push(request);
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                        answer.status,
                        answer.body.len()
                    );
                    for line in &answer.headers {
                        head.push_str(line);
                        head.push_str("\r\n");
                    }
                    head.push_str("\r\n");
                    if socket.write_all(head.as_bytes()).await.is_err()
                        || socket.write_all(answer.body.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (base, seen)
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let (head_end, length) = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while raw.len() < head_end + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let mut request_line = head.lines().next()?.split(' ');
    let (method, target) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let body = raw[head_end..head_end + length].to_vec();
    let body = (!body.is_empty()).then(|| serde_json::from_slice(&body).expect("a JSON body"));
    Some(Seen { method, target, body })
}
