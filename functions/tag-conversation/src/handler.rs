use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::tag_conversation(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::models::Tag;
    use shared::testing::{error_of, json_body, post_json, workspace_of};

    use super::*;

    fn tag(id: &str, name: &str) -> Tag {
        Tag { id: id.into(), name: name.into() }
    }

    #[tokio::test]
    async fn adds_tags_by_name_and_removes_others() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_admin_id().returning(|| Ok("1".into()));
        helpdesk
            .expect_ensure_tags()
            .withf(|names| names == ["billing", "vip"])
            .returning(|_| Ok(vec![tag("10", "billing"), tag("11", "vip")]));
        helpdesk.expect_tag_conversation().withf(|c, a, _| c == "7" && a == "1").times(2).returning(|_, _, _| Ok(()));
        helpdesk.expect_find_tag().withf(|n| n == "triage").returning(|_| Ok(Some(tag("12", "triage"))));
        helpdesk.expect_find_tag().withf(|n| n == "ghost").returning(|_| Ok(None));
        helpdesk.expect_untag_conversation().withf(|_, _, t| t.id == "12").times(1).returning(|_, _, _| Ok(()));
        let response = handle(
            &workspace_of(helpdesk).build(),
            post_json(r#"{"conversationId":"7","tags":["billing","vip","Billing"],"removeTags":["triage","ghost"]}"#),
        )
        .await
        .unwrap();
        assert_eq!(
            json_body(&response),
            serde_json::json!({"conversationId":"7","added":["billing","vip"],"removed":["triage"],"notFound":["ghost"]})
        );
    }

    #[tokio::test]
    async fn needs_something_to_do() {
        let helpdesk = MockHelpdesk::new();
        let workspaces = workspace_of(helpdesk).build();
        for (body, field) in [
            (r#"{"conversationId":"7"}"#, "tags"),
            (r#"{"conversationId":"7","tags":[""]}"#, "tags[0]"),
            (r#"{"conversationId":"7","tags":"billing"}"#, "tags"),
            (r#"{"conversationId":"7","tags":["a"],"removeTags":["A"]}"#, "removeTags"),
        ] {
            let response = handle(&workspaces, post_json(body)).await.unwrap();
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
    }
}
