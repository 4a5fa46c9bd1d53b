//! The `connect-workspace` function URL: who may call it, and each method's answer.
//!
//! Hub mode: `POST` connects (201, or 200 for a reconnect), `GET` lists, `PATCH` changes a workspace's settings,
//! `DELETE` disconnects. Single mode: `POST` is the setup check of the deployment's own workspace; the rest
//! answer 405. The caller is the hub's own backend: with `AGENT_AUTH=AWS_IAM` the function URL checked its
//! signature; with `API_KEY` it sends `Authorization: Bearer <hub_admin_key>` — never an agent's key.

use std::time::Instant;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;

use crate::config::AgentAuth;
use crate::deadline;
use crate::http::{Accepts, ActionError, answer, deadline_of, decode_value, from_value};
use crate::workspace::Tenancy;
use crate::workspace::connect::{self, Connector, DisconnectRequest, PatchRequest};
use crate::workspace::keys::{bearer, hash_key, matches_any};
use crate::workspace::resolve::Workspaces;
use crate::workspace::seal::Sealer;

/// Everything the function keeps between calls.
pub struct AdminApi {
    pub workspaces: Workspaces,
    /// The sealer of hub mode (`None` in single mode).
    pub sealer: Option<Box<dyn Sealer>>,
    /// The topics a workspace subscribes its webhook to (the deployment's `WEBHOOK_TOPICS`).
    pub webhook_topics: Vec<String>,
}

impl AdminApi {
    /// Answers one request, within the invocation's deadline; every failure is the usual `{"error": …}`.
    pub async fn serve(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let outcome = deadline::scope(deadline_of(&request), async {
            self.check_caller(&request).await?;
            self.dispatch(request).await
        })
        .await;
        answer(outcome, started)
    }

    /// `API_KEY`: the deployment's `hub_admin_key`, compared in constant time; `AWS_IAM`: the URL checked it.
    async fn check_caller(&self, request: &Request) -> Result<(), ActionError> {
        let deployment = self.workspaces.deployment();
        if deployment.agent_auth == AgentAuth::AwsIam {
            return Ok(());
        }
        let secrets = deployment.secrets.get().await?;
        let Some(admin_key) = &secrets.hub_admin_key else {
            return Err(ActionError::Unavailable {
                message: "AGENT_AUTH=API_KEY but the secret has no hub_admin_key; add one (a long random string) to \
                          call connect-workspace"
                    .into(),
            });
        };
        let expected = hash_key(admin_key.expose_secret());
        if matches_any(bearer(request.headers()), [expected.as_str()]) {
            Ok(())
        } else {
            Err(ActionError::Unauthenticated)
        }
    }

    async fn dispatch(&self, request: Request) -> Result<(StatusCode, serde_json::Value), ActionError> {
        let method = request.method().clone();
        let Some(directory) = self.workspaces.directory() else {
            return self.single(method, &request).await;
        };
        let sealer = self.sealer.as_deref().ok_or_else(|| ActionError::Unavailable {
            message: "hub mode needs WORKSPACE_KMS_KEY to seal credentials".into(),
        })?;
        let connector = Connector {
            deployment: self.workspaces.deployment(),
            directory: directory.as_ref(),
            sealer,
            webhook_topics: self.webhook_topics.clone(),
        };
        let ok = |value: serde_json::Value| Ok((StatusCode::OK, value));
        match method {
            Method::POST => {
                let connected = connector.connect(body(&request)?).await?;
                if let Ok(id) = crate::workspace::WorkspaceId::parse(&connected.workspace_id) {
                    self.workspaces.forget(&id);
                }
                let status = if connected.reconnected { StatusCode::OK } else { StatusCode::CREATED };
                Ok((status, to_value(&connected)?))
            }
            Method::GET if wants_check(&request) => ok(self.check_all().await?),
            Method::GET => ok(serde_json::json!({ "workspaces": connector.list().await? })),
            Method::PATCH => {
                let request: PatchRequest = body(&request)?;
                ok(to_value(&connector.patch(request).await?)?)
            }
            Method::DELETE => {
                let request: DisconnectRequest = body(&request)?;
                ok(connector.disconnect(request).await?)
            }
            _ => Err(ActionError::MethodNotAllowed { allowed: "POST, GET, PATCH, DELETE" }),
        }
    }

    /// Single mode: `POST` checks the deployment's workspace and creates what is missing.
    async fn single(&self, method: Method, _request: &Request) -> Result<(StatusCode, serde_json::Value), ActionError> {
        let Some(workspace) = self.workspaces.the_single() else {
            return Err(ActionError::Unavailable { message: "no workspace is configured".into() });
        };
        if method == Method::GET && wants_check(_request) {
            return Ok((StatusCode::OK, self.check_all().await?));
        }
        if method != Method::POST {
            return Err(ActionError::MethodNotAllowed { allowed: "POST, GET ?check=true" });
        }
        debug_assert_eq!(self.workspaces.tenancy(), Tenancy::Single);
        let report =
            connect::check_single(self.workspaces.deployment(), workspace, self.webhook_topics.clone()).await?;
        Ok((StatusCode::OK, to_value(&report)?))
    }
}

impl AdminApi {
    /// The doctor's examination of every workspace served (read-only): `{"ok", "workspaces": [health…]}`.
    async fn check_all(&self) -> Result<serde_json::Value, ActionError> {
        let deployment = self.workspaces.deployment();
        let mut served = Vec::new();
        match (self.workspaces.the_single(), self.workspaces.directory()) {
            (Some(single), _) => served.push(single.clone()),
            (None, Some(directory)) => {
                let listed =
                    directory.list().await.map_err(|e| ActionError::StoreUnavailable { message: e.to_string() })?;
                for record in listed {
                    if let Some(workspace) = self.workspaces.by_id(&record.record.id).await? {
                        served.push(workspace);
                    }
                }
            }
            (None, None) => {}
        }
        let mut reports = Vec::new();
        for workspace in &served {
            let url = connect::webhook_url(deployment, workspace.id.as_ref()).and_then(|u| url::Url::parse(&u).ok());
            reports.push(crate::doctor::examine(workspace, deployment, url).await);
        }
        let ok = reports.iter().all(crate::doctor::Health::ok);
        Ok(
            serde_json::json!({ "ok": ok, "tenancy": format!("{:?}", self.workspaces.tenancy()).to_lowercase(), "workspaces": reports }),
        )
    }
}

/// `?check=true`: the doctor's read-only examination instead of the list.
fn wants_check(request: &Request) -> bool {
    use lambda_http::RequestExt;
    request.query_string_parameters().first("check").is_some_and(|v| v == "true" || v == "1")
}

fn body<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, ActionError> {
    from_value(decode_value(request, Accepts::PostJson).or_else(|e| match e {
        // PATCH and DELETE carry a JSON body too.
        ActionError::MethodNotAllowed { .. } => decode_any(request),
        other => Err(other),
    })?)
}

fn decode_any(request: &Request) -> Result<serde_json::Value, ActionError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > crate::http::MAX_BODY_BYTES {
        return Err(ActionError::PayloadTooLarge);
    }
    serde_json::from_slice(bytes).map_err(|e| ActionError::BadRequest {
        field: None,
        message: format!(
            "the request body is not valid JSON ({})",
            crate::intercom::error::without_input(&e.to_string())
        ),
    })
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ActionError> {
    serde_json::to_value(value).map_err(|_| ActionError::Upstream {
        code: "internal",
        message: "the answer could not be built".into(),
        intercom_request_id: None,
    })
}
