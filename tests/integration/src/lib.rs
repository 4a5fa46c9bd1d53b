//! The harness the integration tests share: the real Intercom client wired to the fake Intercom, directly or
//! through Prism's validating proxy, and agent requests run exactly as the Lambda handlers run them.

use std::future::Future;
use std::sync::Arc;

use fake_intercom::prism::{Prism, contract_tools_or_skip};
use fake_intercom::{FakeIntercom, FakeServer};
use lambda_http::Body;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::config::Config;
use shared::http::{Accepts, ActionError, AgentGuard};
use shared::intercom::{IntercomClient, RetryPolicy};
use shared::secrets::{SecretStore, Secrets};
use shared::store::memory::MemoryStore;

pub mod moto;

pub const TOKEN: &str = "tok-integration";

/// The fake Intercom (seeded with the demo workspace), optionally behind Prism, and a client pointed at it.
pub struct Stack {
    pub fake: FakeServer,
    pub prism: Option<Prism>,
    pub client: IntercomClient,
    pub guard: AgentGuard,
    /// The idempotency store (in memory: one per stack, as one table is per deployment).
    pub store: Arc<MemoryStore>,
}

impl Stack {
    /// Client → fake.
    pub async fn direct() -> Stack {
        let fake = FakeIntercom::builder().seed_demo().valid_tokens([TOKEN]).start().await.expect("the fake starts");
        let base = fake.base_url();
        Stack {
            client: client_for(&base, RetryPolicy::default()),
            fake,
            prism: None,
            guard: AgentGuard::iam(),
            store: Arc::default(),
        }
    }

    /// Client → `prism proxy --errors` (Intercom's official contract) → fake. `None` (skipped) when Prism or
    /// the spec is missing, except on CI where that fails the test.
    pub async fn through_prism() -> Option<Stack> {
        let (spec, _) = contract_tools_or_skip()?;
        let fake = FakeIntercom::builder().seed_demo().valid_tokens([TOKEN]).start().await.expect("the fake starts");
        let prism = Prism::proxy(&spec, &fake.base_url()).await.expect("Prism starts");
        // Prism's own errors (422 request violation, 500 response violation) must fail the test, not be retried.
        let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
        let client = client_for(prism.base_url(), policy);
        Some(Stack { fake, prism: Some(prism), client, guard: AgentGuard::iam(), store: Arc::default() })
    }

    /// The stack as a one-workspace deployment (its client, store and guard), for the edge's serving functions.
    pub fn workspaces(&self) -> shared::workspace::Workspaces {
        deployment(self.client.clone(), self.store.clone(), self.guard.clone())
    }

    pub fn handle(&self) -> FakeIntercom {
        self.fake.handle()
    }

    /// Runs one agent request the way a function's handler does and returns (status, JSON body).
    pub async fn call<I, O, F, Fut>(&self, body: Value, action: F) -> (u16, Value)
    where
        I: DeserializeOwned,
        O: Serialize,
        F: FnOnce(I) -> Fut,
        Fut: Future<Output = Result<O, ActionError>>,
    {
        let request = shared::testing::post_json(&body.to_string());
        let response =
            shared::edge::serve(request, &self.workspaces(), Accepts::PostJson, |_, input| action(input)).await;
        let status = response.status().as_u16();
        let json = match response.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
            other => serde_json::from_slice(other.as_ref()).unwrap_or(Value::Null),
        };
        (status, json)
    }

    /// Prism's findings so far that are errors (not the "undocumented status code" warnings).
    pub fn contract_violations(&self) -> Vec<String> {
        let Some(prism) = &self.prism else { return Vec::new() };
        prism
            .log()
            .lines()
            .filter(|l| l.contains("Violation") || l.contains('✖'))
            .filter(|l| !l.contains("__prism_ready_probe"))
            .filter(|l| !l.to_ascii_lowercase().contains("warning"))
            .map(str::to_owned)
            .collect()
    }
}

/// A client for `base` with the integration token, as `main` builds it from the environment.
pub fn client_for(base: &str, policy: RetryPolicy) -> IntercomClient {
    let config = Config::from_lookup(|name| match name {
        "INTERCOM_API_BASE" => Some(base.to_owned()),
        "INTERCOM_ACCESS_TOKEN" => Some(TOKEN.to_owned()),
        _ => None,
    })
    .expect("a valid test configuration");
    let secrets = Secrets::parse(TOKEN).expect("a token");
    IntercomClient::with_retry_policy(&config, Arc::new(SecretStore::fixed(secrets)), policy)
}

/// A one-workspace deployment around `client`, as the functions run it (the edge resolves the workspace, `guard`
/// checks the caller).
pub fn deployment(
    client: IntercomClient,
    store: Arc<dyn shared::store::Store>,
    guard: AgentGuard,
) -> shared::workspace::Workspaces {
    shared::testing::WorkspaceBuilder::around(Arc::new(client)).store(store).guard(guard).build()
}
