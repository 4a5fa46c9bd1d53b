//! A customer's profile as the agent reads it: the contact with its times and location, every contact a key
//! matches, and its tags and companies (`GET /contacts/{id}/tags`, `GET /contacts/{id}/companies`).
//!
//! Intercom's contact embeds its tags and companies as references only (`{type, id, url}`, at most 10): names,
//! plans and company attributes need the two list calls, which are skipped when the embedded list says it is empty.

use reqwest::Method;
use serde::Deserialize;

use super::client::{IntercomClient, Retry};
use super::contacts::{ContactKey, segment};
use super::error::IntercomError;
use super::models::{
    Attributes, SearchContacts, SingleFilter, Tag, TagList, null_as_default, opt_string_id, string_id,
};

/// A contact with everything a profile shows (`contact` in the 2.16 contract).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContactProfile {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    /// `user` or `lead`.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "opt_string_id")]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_attributes: Attributes,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub signed_up_at: Option<i64>,
    #[serde(default)]
    pub last_seen_at: Option<i64>,
    #[serde(default)]
    pub last_replied_at: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub location: Location,
    /// References only; `None` when Intercom left the field out.
    #[serde(default)]
    pub tags: Option<References>,
    #[serde(default)]
    pub companies: Option<References>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Location {
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
}

/// `contact_tags` / `contact_companies`: up to 10 references and the total.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct References {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<Reference>,
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub has_more: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Reference {
    #[serde(default, deserialize_with = "opt_string_id")]
    pub id: Option<String>,
}

impl References {
    /// Whether the embedded list says for certain that there is nothing to list (then the list call is skipped).
    pub fn surely_empty(&self) -> bool {
        self.total_count == Some(0) || (self.data.is_empty() && self.has_more == Some(false))
    }
}

/// Every contact a key matches, the one a profile shows first (see [`IntercomClient::find_contact_profiles`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactMatches {
    /// In Intercom's order; empty when nothing matches.
    pub contacts: Vec<ContactProfile>,
    /// How many contacts match in all (may exceed `contacts.len()` when the search has more pages).
    pub total: u64,
}

#[derive(Debug, Deserialize)]
struct ProfileList {
    #[serde(default, deserialize_with = "null_as_default")]
    data: Vec<ContactProfile>,
    #[serde(default)]
    total_count: Option<u64>,
}

/// A company a contact belongs to (`company` in the contract).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Company {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    /// The id in the customer's own system.
    #[serde(default, deserialize_with = "opt_string_id")]
    pub company_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub plan: Plan,
    #[serde(default)]
    pub monthly_spend: Option<f64>,
    #[serde(default)]
    pub user_count: Option<u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_attributes: Attributes,
}

/// A company's plan; Intercom answers `{}` when it has none.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Plan {
    #[serde(default, deserialize_with = "opt_string_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `contact_attached_companies`: the contract names the array `companies`, its own example (and Intercom) `data`.
#[derive(Debug, Deserialize)]
struct CompanyList {
    #[serde(default, deserialize_with = "null_as_default")]
    data: Vec<Company>,
    #[serde(default, deserialize_with = "null_as_default")]
    companies: Vec<Company>,
}

impl IntercomClient {
    /// Every contact `key` names: by id one (or none), by email or external id all that a search finds (a user
    /// and a lead may share an email). Archived contacts are not found.
    pub async fn find_contact_profiles(&self, key: &ContactKey) -> Result<ContactMatches, IntercomError> {
        let (field, value) = match key {
            ContactKey::Id(id) => {
                return match self.get::<ContactProfile>(&format!("contacts/{}", segment(id)), &[]).await {
                    Ok(contact) => Ok(ContactMatches { contacts: vec![contact], total: 1 }),
                    Err(e) if e.is_not_found() => Ok(ContactMatches::default()),
                    Err(e) => Err(e),
                };
            }
            ContactKey::Email(email) => ("email", email.as_str()),
            ContactKey::ExternalId(external_id) => ("external_id", external_id.as_str()),
        };
        let search = SearchContacts { query: SingleFilter { field, operator: "=", value } };
        let found: ProfileList = self
            .send(Method::POST, "contacts/search", &[], Some(&search), Retry::Idempotent, "a contact search")
            .await?;
        let total = found.total_count.unwrap_or(0).max(found.data.len() as u64);
        Ok(ContactMatches { contacts: found.data, total })
    }

    /// The contact's tags, with names (`GET /contacts/{id}/tags`).
    pub async fn contact_tags(&self, contact_id: &str) -> Result<Vec<Tag>, IntercomError> {
        let list: TagList = self.get(&format!("contacts/{}/tags", segment(contact_id)), &[]).await?;
        Ok(list.data)
    }

    /// The companies the contact belongs to (`GET /contacts/{id}/companies`; its first page of 50).
    pub async fn contact_companies(&self, contact_id: &str) -> Result<Vec<Company>, IntercomError> {
        let list: CompanyList = self.get(&format!("contacts/{}/companies", segment(contact_id)), &[]).await?;
        Ok(if list.data.is_empty() { list.companies } else { list.data })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The 2.16 contract's example of a contact (`PUT /contacts/{id}`, 200), as Intercom writes it.
    fn contract_contact() -> serde_json::Value {
        json!({
            "type": "contact", "id": "6762f0cd1bb69f9f2193bb7c", "workspace_id": "this_is_an_id279_that_should_be_at_least_",
            "external_id": "70", "role": "user", "email": "joebloggs@intercom.io", "phone": null, "name": "joe bloggs",
            "avatar": null, "owner_id": null, "social_profiles": {"type": "list", "data": []},
            "has_hard_bounced": false, "marked_email_as_spam": false, "unsubscribed_from_emails": false,
            "created_at": 1734537421, "updated_at": 1734537422, "signed_up_at": 1734537421, "last_seen_at": null,
            "last_replied_at": null, "last_contacted_at": null, "last_email_opened_at": null,
            "last_email_clicked_at": null, "language_override": null, "browser": null, "browser_version": null,
            "browser_language": null, "os": null,
            "location": {"type": "location", "country": null, "region": null, "city": null, "country_code": null,
                         "continent_code": null},
            "android_app_name": null, "ios_last_seen_at": null, "custom_attributes": {},
            "tags": {"type": "list", "data": [], "url": "/contacts/6762f0cd1bb69f9f2193bb7c/tags", "total_count": 0,
                     "has_more": false},
            "notes": {"type": "list", "data": [], "url": "/contacts/6762f0cd1bb69f9f2193bb7c/notes", "total_count": 0,
                      "has_more": false},
            "companies": {"type": "list", "data": [], "url": "/contacts/6762f0cd1bb69f9f2193bb7c/companies",
                          "total_count": 0, "has_more": false},
            "opted_out_subscription_types": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "utm_campaign": null, "referrer": null, "enabled_push_messaging": null
        })
    }

    #[test]
    fn the_contracts_contact_decodes_and_says_it_has_no_tags_or_companies() {
        let contact: ContactProfile = serde_json::from_value(contract_contact()).unwrap();
        assert_eq!(contact.id, "6762f0cd1bb69f9f2193bb7c");
        assert_eq!(
            (contact.role.as_deref(), contact.external_id.as_deref(), contact.name.as_deref()),
            (Some("user"), Some("70"), Some("joe bloggs"))
        );
        assert_eq!((contact.created_at, contact.last_seen_at), (Some(1734537421), None));
        assert_eq!(contact.location, Location::default());
        assert!(contact.tags.unwrap().surely_empty());
        assert!(contact.companies.unwrap().surely_empty());
    }

    #[test]
    fn embedded_references_that_may_hold_more_are_not_taken_for_empty() {
        let mut json = contract_contact();
        json["tags"] =
            json!({"type": "list", "data": [{"type": "tag", "id": 80, "url": "/tags/80"}], "total_count": 1});
        json["companies"] = json!({"data": [], "has_more": true});
        json["location"] = json!(null);
        json["external_id"] = json!(70);
        let contact: ContactProfile = serde_json::from_value(json).unwrap();
        let tags = contact.tags.unwrap();
        assert_eq!(tags.data[0].id.as_deref(), Some("80"));
        assert!(!tags.surely_empty());
        assert!(!contact.companies.unwrap().surely_empty());
        assert_eq!(contact.external_id.as_deref(), Some("70"));
        assert_eq!(contact.location, Location::default());
        // Without the field at all, nothing is known: the list call is made.
        let mut bare = contract_contact();
        bare.as_object_mut().unwrap().remove("tags");
        assert_eq!(serde_json::from_value::<ContactProfile>(bare).unwrap().tags, None);
    }

    #[test]
    fn the_contracts_company_list_and_tag_list_decode() {
        // `GET /contacts/{id}/companies`, 200: the example puts the companies under `data`.
        let list: CompanyList = serde_json::from_value(json!({
            "type": "list",
            "data": [{"type": "company", "company_id": "1", "id": "6762f0a61bb69f9f2193bb55",
                      "app_id": "this_is_an_id213_that_should_be_at_least_", "name": "company12",
                      "remote_created_at": 1734537382, "created_at": 1734537382, "updated_at": 1734537382,
                      "last_request_at": 1734364582, "monthly_spend": 0, "session_count": 0, "user_count": 1,
                      "tags": {"type": "tag.list", "tags": []}, "segments": {"type": "segment.list", "segments": []},
                      "plan": {}, "custom_attributes": {}}],
            "pages": {"type": "pages", "next": null, "page": 1, "per_page": 50, "total_pages": 1},
            "total_count": 1
        }))
        .unwrap();
        let company = &list.data[0];
        assert_eq!((company.id.as_str(), company.company_id.as_deref()), ("6762f0a61bb69f9f2193bb55", Some("1")));
        assert_eq!((company.name.as_deref(), company.plan.name.as_deref()), (Some("company12"), None));
        assert_eq!((company.monthly_spend, company.user_count), (Some(0.0), Some(1)));
        // The contract's schema names the array `companies`, and custom attributes hold any JSON value.
        let by_schema: CompanyList = serde_json::from_value(json!({"type": "list", "companies": [
            {"id": "531ee472cce572a6ec000006", "name": "Blue Sun", "plan": {"type": "plan", "id": "269315", "name": "Pro"},
             "custom_attributes": {"paid_subscriber": true, "monthly_spend": 155.5, "team_mates": 9}}]}))
        .unwrap();
        let company = &by_schema.companies[0];
        assert_eq!((company.plan.id.as_deref(), company.plan.name.as_deref()), (Some("269315"), Some("Pro")));
        assert_eq!(company.custom_attributes["monthly_spend"], 155.5);
        // `GET /contacts/{id}/tags`, 200.
        let tags: TagList = serde_json::from_value(json!({"type": "list", "data": [
            {"type": "tag", "id": "80", "name": "Manual tag", "applied_at": 1663597223,
             "applied_by": {"type": "admin", "id": "456"}}]}))
        .unwrap();
        assert_eq!(tags.data[0].name, "Manual tag");
    }

    #[test]
    fn a_search_answer_counts_every_match() {
        let list: ProfileList = serde_json::from_value(json!({
            "type": "list", "total_count": 3,
            "data": [{"id": "a", "role": "lead"}, {"id": "b", "role": "user", "location": null, "tags": null}],
            "pages": {"type": "pages", "page": 1, "per_page": 2, "total_pages": 2}
        }))
        .unwrap();
        assert_eq!(list.data.len(), 2);
        assert_eq!(list.total_count, Some(3));
        assert_eq!(list.data[1].tags, None);
    }

    #[tokio::test]
    async fn the_client_reads_profiles_tags_and_companies_where_the_contract_says() {
        use crate::intercom::stub_server::client_answering;
        let (client, seen) = client_answering(Box::new(|request| match request.target.as_str() {
            "/contacts/search" => (
                200,
                json!({"type": "list", "total_count": 2,
                                               "data": [{"id": "l1", "role": "lead"}, {"id": "u1", "role": "user"}]}),
            ),
            "/contacts/missing" => {
                (404, json!({"type": "error.list", "errors": [{"code": "not_found", "message": "User Not Found"}]}))
            }
            "/contacts/u1/tags" => (200, json!({"type": "list", "data": [{"type": "tag", "id": "80", "name": "vip"}]})),
            "/contacts/u1/companies" => (200, json!({"type": "list", "data": [{"id": "c1", "name": "Acme"}]})),
            _ => (200, contract_contact()),
        }))
        .await;
        let found = client.find_contact_profiles(&ContactKey::Email("jane@example.com".into())).await.unwrap();
        assert_eq!((found.contacts.len(), found.total), (2, 2));
        let by_id = client.find_contact_profiles(&ContactKey::Id("6762f0cd1bb69f9f2193bb7c".into())).await.unwrap();
        assert_eq!(by_id.contacts[0].id, "6762f0cd1bb69f9f2193bb7c");
        assert_eq!(
            client.find_contact_profiles(&ContactKey::Id("missing".into())).await.unwrap(),
            ContactMatches::default()
        );
        assert_eq!(client.contact_tags("u1").await.unwrap()[0].name, "vip");
        assert_eq!(client.contact_companies("u1").await.unwrap()[0].name.as_deref(), Some("Acme"));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen[0].body,
            Some(json!({"query": {"field": "email", "operator": "=", "value": "jane@example.com"}}))
        );
        let targets: Vec<String> = seen.iter().map(|s| format!("{} {}", s.method, s.target)).collect();
        assert_eq!(
            targets,
            [
                "POST /contacts/search",
                "GET /contacts/6762f0cd1bb69f9f2193bb7c",
                "GET /contacts/missing",
                "GET /contacts/u1/tags",
                "GET /contacts/u1/companies",
            ]
        );
    }
}
