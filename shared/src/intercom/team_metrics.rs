//! A team's load per teammate (API 2.16, `GET /teams/{id}/metrics`): open, idle and snoozed conversations.
//!
//! The endpoint needs the workspace's real-time monitoring feature; without it Intercom answers 403, which comes
//! back as [`TeamMetricsError::Refused`] so escalate can fall back to assigning the team and say why.

use serde::Deserialize;

use super::client::IntercomClient;
use super::contacts::segment;
use super::error::IntercomError;
use super::models::{null_as_default, string_id};

/// One admin's conversations in the team, as `team_metric` reports them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TeamMetric {
    #[serde(deserialize_with = "string_id")]
    pub admin_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub open: u32,
    /// Open and waiting for an admin's reply longer than the idle threshold (Intercom's default: 30 minutes).
    #[serde(default, deserialize_with = "null_as_default")]
    pub idle: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub snoozed: u32,
}

#[derive(Debug, Deserialize)]
struct TeamMetricList {
    #[serde(default, deserialize_with = "null_as_default")]
    data: Vec<TeamMetric>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TeamMetricsError {
    /// HTTP 403: the workspace lacks real-time monitoring (`api_plan_restricted`), or the token may not read it.
    #[error("Intercom refused the team's metrics (HTTP 403 {code}): {message}")]
    Refused { code: String, message: String, request_id: Option<String> },
    #[error(transparent)]
    Intercom(#[from] IntercomError),
}

impl TeamMetricsError {
    /// True when Intercom refused the metrics (no real-time monitoring): not worth asking again soon.
    pub fn is_refused(&self) -> bool {
        matches!(self, TeamMetricsError::Refused { .. })
    }

    fn from_intercom(error: IntercomError) -> Self {
        match error {
            IntercomError::Api { status: 403, code, message, request_id, .. } => {
                TeamMetricsError::Refused { code, message, request_id }
            }
            other => TeamMetricsError::Intercom(other),
        }
    }
}

impl IntercomClient {
    /// Each team member's open, idle and snoozed conversations (`GET /teams/{id}/metrics`), read fresh: the
    /// load changes by the minute.
    pub async fn team_metrics(&self, team_id: &str) -> Result<Vec<TeamMetric>, TeamMetricsError> {
        let path = format!("teams/{}/metrics", segment(team_id));
        let list: TeamMetricList = self.get(&path, &[]).await.map_err(TeamMetricsError::from_intercom)?;
        Ok(list.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_contracts_example() {
        let list: TeamMetricList = serde_json::from_str(
            r#"{"type": "team_metric.list", "data": [
                {"type": "team_metric", "admin_id": "123", "open": 5, "idle": 2, "snoozed": 1},
                {"type": "team_metric", "admin_id": "456", "open": 3, "idle": 0, "snoozed": 2}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            list.data,
            [
                TeamMetric { admin_id: "123".into(), open: 5, idle: 2, snoozed: 1 },
                TeamMetric { admin_id: "456".into(), open: 3, idle: 0, snoozed: 2 }
            ]
        );
    }

    #[test]
    fn decodes_leniently() {
        let list: TeamMetricList =
            serde_json::from_str(r#"{"data": [{"admin_id": 991267, "open": null, "extra": true}]}"#).unwrap();
        assert_eq!(list.data, [TeamMetric { admin_id: "991267".into(), open: 0, idle: 0, snoozed: 0 }]);
        assert!(serde_json::from_str::<TeamMetricList>(r#"{"type":"team_metric.list"}"#).unwrap().data.is_empty());
    }

    #[test]
    fn a_403_is_a_refusal_the_caller_can_recognise() {
        // The contract's own 403 example for this endpoint.
        let body = br#"{"type":"error.list","request_id":"req-456","errors":[{"code":"api_plan_restricted",
            "message":"Real-time monitoring is not enabled for your workspace."}]}"#;
        let error = TeamMetricsError::from_intercom(IntercomError::from_response(403, body));
        assert!(error.is_refused());
        match &error {
            TeamMetricsError::Refused { code, request_id, .. } => {
                assert_eq!((code.as_str(), request_id.as_deref()), ("api_plan_restricted", Some("req-456")));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            error.to_string(),
            "Intercom refused the team's metrics (HTTP 403 api_plan_restricted): Real-time monitoring is not \
             enabled for your workspace."
        );
        // The contract's 404 and anything else stay Intercom's errors.
        let missing = br#"{"type":"error.list","errors":[{"code":"team_not_found","message":"Team not found"}]}"#;
        let not_found = TeamMetricsError::from_intercom(IntercomError::from_response(404, missing));
        assert!(!not_found.is_refused());
        assert!(matches!(not_found, TeamMetricsError::Intercom(ref e) if e.is_not_found()));
        let unavailable = TeamMetricsError::from_intercom(IntercomError::from_response(503, b""));
        assert!(matches!(unavailable, TeamMetricsError::Intercom(IntercomError::Unavailable { status: 503, .. })));
    }

    #[tokio::test]
    async fn metrics_are_read_fresh_and_a_refusal_comes_back_typed() {
        use super::super::stub_server::{Answer, serve};
        let refused = r#"{"type":"error.list","request_id":"req-456","errors":[{"code":"api_plan_restricted",
            "message":"Real-time monitoring is not enabled for your workspace."}]}"#;
        let stub = serve(&[
            (
                "/teams/42/metrics",
                Answer::json(200, r#"{"type":"team_metric.list","data":[{"admin_id":"7","open":2}]}"#),
            ),
            ("/teams/43/metrics", Answer::json(403, refused)),
        ])
        .await;
        let c = &stub.client;
        assert_eq!(c.team_metrics("42").await.unwrap()[0].open, 2);
        assert_eq!(c.team_metrics("42").await.unwrap()[0].admin_id, "7");
        assert!(c.team_metrics("43").await.unwrap_err().is_refused());
        assert!(matches!(c.team_metrics("44").await, Err(TeamMetricsError::Intercom(ref e)) if e.is_not_found()));
        assert_eq!(
            stub.requests(),
            ["/teams/42/metrics", "/teams/42/metrics", "/teams/43/metrics", "/teams/44/metrics"]
        );
    }
}
