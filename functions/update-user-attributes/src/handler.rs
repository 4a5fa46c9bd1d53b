use lambda_http::{Body, Error, Request, Response};
use shared::workspace::Workspaces;

pub async fn handle(workspaces: &Workspaces, request: Request) -> Result<Response<Body>, Error> {
    Ok(shared::routes::update_user_attributes(workspaces, request).await)
}

#[cfg(test)]
mod tests {
    use shared::helpdesk::MockHelpdesk;
    use shared::intercom::{ContactKey, ResolvedContact};
    use shared::testing::{contact, error_of, json_body, post_json, workspace_of};

    use super::*;

    const SEED_PAYLOAD: &str = r#"{"userId":"6123abc","attributes":{"support_tier":"premium","last_ai_session":"2026-03-14","escalation_count":2}}"#;

    #[tokio::test]
    async fn the_seed_payload_updates_an_existing_contact() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_or_create_contact()
            .withf(|key, _, _| *key == ContactKey::ExternalId("6123abc".into()))
            .returning(|_, _, _| Ok(ResolvedContact { contact: contact("c1", "jane@example.com"), created: false }));
        helpdesk
            .expect_update_contact_attributes()
            .withf(|id, attrs| id == "c1" && attrs["support_tier"] == "premium" && attrs["escalation_count"] == 2)
            .times(1)
            .returning(|_, attrs| {
                let mut updated = contact("c1", "jane@example.com");
                updated.custom_attributes = attrs.clone();
                Ok(updated)
            });
        let response = handle(&workspace_of(helpdesk).build(), post_json(SEED_PAYLOAD)).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = json_body(&response);
        assert_eq!(body["contactId"], "c1");
        assert_eq!(body["contactCreated"], false);
        assert_eq!(body["customAttributes"]["last_ai_session"], "2026-03-14");
    }

    #[tokio::test]
    async fn a_new_customer_is_created_with_the_attributes() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_or_create_contact().withf(|_, _, attrs| attrs.is_some()).returning(|_, _, attrs| {
            let mut created = contact("c2", "new@example.com");
            created.custom_attributes = attrs.clone().unwrap_or_default();
            Ok(ResolvedContact { contact: created, created: true })
        });
        let response = handle(&workspace_of(helpdesk).build(), post_json(SEED_PAYLOAD)).await.unwrap();
        let body = json_body(&response);
        assert_eq!(body["contactCreated"], true);
        assert_eq!(body["customAttributes"]["support_tier"], "premium");
    }

    #[tokio::test]
    async fn bad_attributes_are_refused() {
        let helpdesk = MockHelpdesk::new();
        let workspaces = workspace_of(helpdesk).build();
        for (body, field) in [
            (r#"{"userId":"u1","attributes":{}}"#, "attributes"),
            (r#"{"userId":"u1","attributes":{"plan":{"tier":1}}}"#, "attributes.plan"),
            (r#"{"userId":"u1","attributes":["x"]}"#, "attributes"),
            (r#"{"userId":"u1"}"#, "attributes"),
            (r#"{"userEmail":"nope","attributes":{"a":1}}"#, "userEmail"),
        ] {
            let response = handle(&workspaces, post_json(body)).await.unwrap();
            assert_eq!(error_of(&response), (400, "invalid_request".into(), Some(field.into())), "{body}");
        }
    }
}
