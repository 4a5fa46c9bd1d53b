use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::manage_conversation(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::StateChange;
    use shared::testing::{conversation, error_of, json_body, post_json, workspace_of};

    use super::*;

    #[tokio::test]
    async fn close_snooze_and_open() {
        let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 3600;
        for (body, expected, state) in [
            (r#"{"conversationId":"7","action":"close"}"#.to_owned(), StateChange::Close, "closed"),
            (
                format!(r#"{{"conversationId":"7","action":"snooze","snoozedUntil":{until}}}"#),
                StateChange::Snooze { until },
                "snoozed",
            ),
            (r#"{"conversationId":"7","action":"open"}"#.to_owned(), StateChange::Open, "open"),
        ] {
            let mut helpdesk = MockHelpdesk::new();
            helpdesk.expect_admin_id().returning(|| Ok("1".into()));
            helpdesk
                .expect_change_state()
                .withf(move |c, a, change| c == "7" && a == "1" && *change == expected)
                .times(1)
                .returning(move |_, _, _| Ok(conversation(serde_json::json!({"id":"7","state":state}))));
            let response = handle(&workspace_of(helpdesk).build(), post_json(&body)).await.unwrap();
            assert_eq!(json_body(&response)["state"], state, "{body}");
        }
    }

    #[tokio::test]
    async fn snooze_needs_a_future_time_and_actions_are_checked() {
        let helpdesk = MockHelpdesk::new();
        let workspaces = workspace_of(helpdesk).build();
        for (body, field) in [
            (r#"{"conversationId":"7","action":"snooze"}"#, "snoozedUntil"),
            (r#"{"conversationId":"7","action":"snooze","snoozedUntil":1000}"#, "snoozedUntil"),
            (r#"{"conversationId":"7","action":"snooze","snoozedUntil":"next week"}"#, "snoozedUntil"),
            (r#"{"conversationId":"7","action":"close","snoozedUntil":9999999999}"#, "snoozedUntil"),
            (r#"{"conversationId":"7","action":"delete"}"#, "action"),
        ] {
            let response = handle(&workspaces, post_json(body)).await.unwrap();
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
    }
}
