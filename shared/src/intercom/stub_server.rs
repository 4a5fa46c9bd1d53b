//! A one-purpose HTTP/1.1 server on 127.0.0.1 for client tests: it records each request (method, path with
//! query, JSON body) and answers what the test's function says, so a test sees exactly what the client sends.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::IntercomClient;
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

pub type Answer = Box<dyn Fn(&Seen) -> (u16, serde_json::Value) + Send + Sync>;

/// A client of a server that answers with `answer`, and the log of what it was sent.
pub async fn client_answering(answer: Answer) -> (IntercomClient, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a local port");
    let base = format!("http://{}/", listener.local_addr().expect("an address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, answer) = (Arc::clone(&seen), Arc::new(answer));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (log, answer) = (Arc::clone(&log), Arc::clone(&answer));
            tokio::spawn(async move {
                while let Some(request) = read_request(&mut socket).await {
                    let (status, body) = answer(&request);
                    log.lock().unwrap().push(request);
                    let body = body.to_string();
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if socket.write_all(head.as_bytes()).await.is_err()
                        || socket.write_all(body.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
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
