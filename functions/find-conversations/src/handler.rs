use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::find_conversations(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::handoff::HandoffSettings;
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::{ContactKey, ConversationPage};
    use shared::testing::{contact, error_of, get_with_query, json_body, post_json, workspace_of};

    use super::*;

    fn handoff() -> HandoffSettings {
        HandoffSettings { admin_id: Some("991267".into()), ..HandoffSettings::default() }
    }

    async fn call_in(workspaces: &Workspaces, request: Request) -> Response<Body> {
        handle(workspaces, request).await.unwrap()
    }

    async fn call(helpdesk: MockHelpdesk, request: Request) -> Response<Body> {
        handle(&workspace_of(helpdesk).handoff(handoff()).build(), request).await.unwrap()
    }

    #[tokio::test]
    async fn a_page_of_the_customers_conversations_with_the_next_cursor() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_contact()
            .withf(|key| *key == ContactKey::ExternalId("6123abc".into()))
            .returning(|_| Ok(Some(contact("c1", "jane@example.com"))));
        helpdesk
            .expect_search_conversations()
            .withf(|q| q.contact_id == "c1" && q.state.as_deref() == Some("closed") && q.per_page == 20)
            .returning(|_| {
                Ok(serde_json::from_value::<ConversationPage>(serde_json::json!({
                    "conversations": [{"id": "55", "state": "closed", "updated_at": 120, "created_at": 100,
                        "admin_assignee_id": 991268, "team_assignee_id": null,
                        "source": {"body": "<p>I was charged <b>twice</b></p>",
                                   "author": {"type": "user", "id": "c1", "name": "Jane"}}}],
                    "pages": {"next": {"starting_after": "WzEyMF0="}}
                }))
                .unwrap())
            });
        let response = call(helpdesk, post_json(r#"{"userId":"6123abc","state":"closed"}"#)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json_body(&response),
            serde_json::json!({
                "contactId": "c1",
                "conversations": [{
                    "conversationId": "55", "state": "closed", "title": null, "createdAt": 100, "updatedAt": 120,
                    "snoozedUntil": null, "assignee": {"adminId": "991268", "teamId": null},
                    "lastMessage": {"kind": "message", "text": "I was charged twice", "createdAt": 100,
                                    "author": {"type": "user", "id": "c1", "name": "Jane", "email": null}},
                    "handling": "human"
                }],
                "nextCursor": "WzEyMF0="
            })
        );
    }

    #[tokio::test]
    async fn bad_input_names_the_field_and_never_reaches_intercom() {
        let helpdesk = MockHelpdesk::new(); // any call would panic: nothing is expected
        let workspaces = workspace_of(helpdesk).build();
        for (body, field) in [
            (r#"{"userEmail":"jane@example.com","limit":51}"#, "limit"),
            (r#"{"userEmail":"jane@example.com","limit":-1}"#, "limit"),
            (r#"{"userEmail":"jane@example.com","state":"pending"}"#, "state"),
            (r#"{"userEmail":"jane@example.com","updatedSince":"yesterday"}"#, "updatedSince"),
            (r#"{"limit":5}"#, "userEmail"),
            (r#"{"userEmail":"jane@example.com","sort":"asc"}"#, "sort"),
        ] {
            let response = call_in(&workspaces, post_json(body)).await;
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
        let response = call_in(&workspaces, get_with_query(&[("userEmail", "jane@example.com")])).await;
        assert_eq!(response.status(), 405);
    }

    #[tokio::test]
    async fn an_unknown_customer_is_404() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_contact().returning(|_| Ok(None));
        let response = call(helpdesk, post_json(r#"{"userEmail":"nobody@example.com"}"#)).await;
        assert_eq!(error_of(&response).0, 404);
        assert!(json_body(&response)["error"]["message"].as_str().unwrap().contains("no Intercom contact"));
    }
}
