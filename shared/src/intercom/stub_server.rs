//! A canned Intercom on 127.0.0.1 for the resource modules' tests: answers each path as told, logs the paths.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::client::{IntercomClient, RetryPolicy};
use crate::config::Config;
use crate::secrets::{SecretStore, Secrets};

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

pub(super) struct Stub {
    pub client: IntercomClient,
    /// The path of every request, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Stub {
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Serves `answers` by request path (404 for any other) and returns a client pointed at it, without retries.
pub(super) async fn serve(answers: &[(&str, Answer)]) -> Stub {
    let answers: Arc<HashMap<String, Answer>> =
        Arc::new(answers.iter().map(|(path, answer)| (path.to_string(), answer.clone())).collect());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (answers, log) = (Arc::clone(&answers), Arc::clone(&log));
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&raw).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
                log.lock().unwrap().push(path.clone());
                let answer = answers.get(&path).cloned().unwrap_or_else(|| {
                    Answer::json(404, r#"{"type":"error.list","errors":[{"code":"not_found","message":"Not found"}]}"#)
                });
                let mut reply = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    answer.status,
                    answer.body.len()
                );
                for line in &answer.headers {
                    reply.push_str(line);
                    reply.push_str("\r\n");
                }
                reply.push_str("\r\n");
                reply.push_str(&answer.body);
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    let config = Config::from_lookup(|name| match name {
        "INTERCOM_API_BASE" => Some(base.clone()),
        "INTERCOM_ACCESS_TOKEN" => Some("test-token".to_owned()),
        "INTERCOM_ADMIN_ID" => Some("1".to_owned()),
        _ => None,
    })
    .unwrap();
    let secrets = Arc::new(SecretStore::fixed(Secrets::parse("test-token").unwrap()));
    let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    Stub { client: IntercomClient::with_retry_policy(&config, secrets, policy), requests }
}
