use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::create_conversation(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::{ContactKey, IntercomError, ResolvedContact};
    use shared::testing::{contact, error_of, json_body, post_json, workspace_of};

    use super::*;

    async fn call_in(workspaces: &Workspaces, body: &str) -> Response<Body> {
        handle(workspaces, post_json(body)).await.unwrap()
    }

    async fn call(helpdesk: MockHelpdesk, body: &str) -> Response<Body> {
        handle(&workspace_of(helpdesk).build(), post_json(body)).await.unwrap()
    }

    #[tokio::test]
    async fn an_unknown_email_becomes_a_contact_then_a_conversation() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_or_create_contact()
            .withf(|key, name, attributes| {
                *key == ContactKey::Email("jane@example.com".into())
                    && name.as_deref() == Some("Jane")
                    && attributes.is_none()
            })
            .returning(|_, _, _| Ok(ResolvedContact { contact: contact("c0ffee", "jane@example.com"), created: true }));
        helpdesk
            .expect_create_conversation()
            .withf(|c, body| c.id == "c0ffee" && body == "My invoice is wrong")
            .times(1)
            .returning(|_, _| Ok("4711".into()));
        let response =
            call(helpdesk, r#"{"userEmail":"jane@example.com","name":"Jane","body":"  My invoice is wrong "}"#).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json_body(&response),
            serde_json::json!({"conversationId":"4711","contactId":"c0ffee","contactCreated":true})
        );
    }

    #[tokio::test]
    async fn user_id_is_the_external_id() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_or_create_contact()
            .withf(|key, _, _| *key == ContactKey::ExternalId("6123abc".into()))
            .returning(|_, _, _| Ok(ResolvedContact { contact: contact("c1", "x@y.com"), created: false }));
        helpdesk.expect_create_conversation().returning(|_, _| Ok("9".into()));
        let response = call(helpdesk, r#"{"userId":"6123abc","body":"hi"}"#).await;
        assert_eq!(json_body(&response)["contactCreated"], false);
    }

    #[tokio::test]
    async fn bad_input_names_the_field_and_never_reaches_intercom() {
        let helpdesk = MockHelpdesk::new(); // any call would panic: nothing is expected
        let workspaces = workspace_of(helpdesk).build();
        for (body, field) in [
            (r#"{"userEmail":"jane@example.com"}"#, Some("body")),
            (r#"{"userEmail":"jane@example.com","body":"   "}"#, Some("body")),
            (r#"{"userEmail":"not-an-email","body":"hi"}"#, Some("userEmail")),
            (r#"{"body":"hi"}"#, Some("userEmail")),
            (r#"{"userEmail":42,"body":"hi"}"#, Some("userEmail")),
            (r#"{"userEmail":"a@b.co","body":"hi","priority":"high"}"#, Some("priority")),
            ("{oops", None),
        ] {
            let response = call_in(&workspaces, body).await;
            let (status, code, got_field) = error_of(&response);
            assert_eq!((status, code.as_str()), (400, "invalid_request"), "{body}");
            assert_eq!(got_field.as_deref(), field, "{body}");
        }
    }

    #[tokio::test]
    async fn intercom_failures_become_actionable_errors() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_or_create_contact()
            .returning(|_, _, _| Err(IntercomError::Unauthorized { request_id: None }));
        let response = call(helpdesk, r#"{"userEmail":"jane@example.com","body":"hi"}"#).await;
        assert_eq!(error_of(&response).0, 502);
        assert!(json_body(&response)["error"]["message"].as_str().unwrap().contains("read/write scopes"));

        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_or_create_contact().returning(|_, _, _| {
            Err(IntercomError::Api {
                status: 404,
                code: "not_found".into(),
                message: "contact abc does not exist".into(),
                field: None,
                request_id: None,
            })
        });
        let response = call(helpdesk, r#"{"contactId":"abc","body":"hi"}"#).await;
        assert_eq!(error_of(&response), (404, "not_found".into(), None));
    }

    #[tokio::test]
    async fn only_post_is_accepted() {
        let request = shared::testing::get_with_query(&[("userEmail", "a@b.co")]);
        let response = handle(&workspace_of(MockHelpdesk::new()).build(), request).await.unwrap();
        assert_eq!(response.status(), 405);
    }
}
