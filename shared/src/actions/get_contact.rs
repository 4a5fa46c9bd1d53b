//! `get-contact`: who the customer is — profile, custom attributes, tags, companies and how many conversations
//! they have — in one answer.
//!
//! Rounds: find the contact (one read), then in parallel its tags and companies (each skipped when the contact
//! says it has none) and two conversation searches that count its open and all conversations.

use serde::{Deserialize, Serialize};

use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::Attributes;
use crate::intercom::{Company, ContactKey, ContactProfile, ConversationQuery};
use crate::validate::contact_key;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = crate::validate::schema::customer_key))]
pub struct GetContactRequest {
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(email, length(max = crate::validate::MAX_EMAIL_BYTES), regex(pattern = crate::validate::schema::EMAIL)))]
    pub user_email: Option<String>,
    /// The id in the customer's own system (Intercom `external_id`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_USER_ID_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub user_id: Option<String>,
    /// The Intercom contact id (letters and digits); wins over userId and userEmail.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::CONTACT_ID)))]
    pub contact_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContactProfileAnswer {
    pub contact_id: String,
    /// `user` or `lead`.
    pub role: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The id in the customer's own system (Intercom `external_id`).
    pub user_id: Option<String>,
    pub phone: Option<String>,
    pub custom_attributes: Attributes,
    /// Tag names.
    pub tags: Vec<String>,
    pub companies: Vec<CompanySummary>,
    /// Unix seconds.
    pub created_at: Option<i64>,
    pub signed_up_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub last_replied_at: Option<i64>,
    pub location: LocationSummary,
    /// Counted with Intercom's conversation search, which trails new conversations by seconds to minutes.
    pub open_conversations: u64,
    pub total_conversations: u64,
    /// How many other contacts the key matches (a user and leads may share an email); this answer shows the user
    /// first. Read another with its `contactId`.
    pub other_matches: u64,
    /// Their ids (at most the first page of the search).
    pub other_contact_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CompanySummary {
    /// Intercom's id.
    pub id: String,
    /// The id in your own system (Intercom `company_id`).
    pub company_id: Option<String>,
    pub name: Option<String>,
    /// The plan's name.
    pub plan: Option<String>,
    pub monthly_spend: Option<f64>,
    pub custom_attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LocationSummary {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
}

pub async fn get_contact<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: GetContactRequest,
) -> Result<ContactProfileAnswer, ActionError> {
    let key = contact_key(request.contact_id, request.user_id, request.user_email)?;
    let matches = helpdesk.find_contact_profiles(&key).await?;
    let total = matches.total;
    let (contact, others) = pick_contact(matches.contacts).ok_or_else(|| contact_not_found(&key))?;
    let (tags, companies, open, all) = tokio::try_join!(
        tag_names(helpdesk, &contact),
        companies(helpdesk, &contact),
        conversation_count(helpdesk, &contact.id, Some("open")),
        conversation_count(helpdesk, &contact.id, None),
    )?;
    let other_contact_ids: Vec<String> = others.into_iter().map(|c| c.id).collect();
    Ok(ContactProfileAnswer {
        other_matches: total.saturating_sub(1).max(other_contact_ids.len() as u64),
        other_contact_ids,
        contact_id: contact.id,
        role: contact.role,
        name: contact.name,
        email: contact.email,
        user_id: contact.external_id,
        phone: contact.phone,
        custom_attributes: contact.custom_attributes,
        tags,
        companies,
        created_at: contact.created_at,
        signed_up_at: contact.signed_up_at,
        last_seen_at: contact.last_seen_at,
        last_replied_at: contact.last_replied_at,
        location: LocationSummary {
            country: contact.location.country,
            region: contact.location.region,
            city: contact.location.city,
        },
        open_conversations: open,
        total_conversations: all.max(open),
    })
}

/// The contact a profile shows: the first user, else the first lead, in Intercom's order — the same rule the
/// other actions use to resolve a customer, so they all mean the same person. The rest are the other matches.
pub fn pick_contact(mut contacts: Vec<ContactProfile>) -> Option<(ContactProfile, Vec<ContactProfile>)> {
    // A stable sort: users first, each group in Intercom's order.
    contacts.sort_by_key(|c| c.role.as_deref() != Some("user"));
    let mut contacts = contacts.into_iter();
    let first = contacts.next()?;
    Some((first, contacts.collect()))
}

/// 404 `contact_not_found`, naming the request field whose value was looked up.
pub fn contact_not_found(key: &ContactKey) -> ActionError {
    let (field, how) = match key {
        ContactKey::Id(_) => ("contactId", "with this contactId"),
        ContactKey::ExternalId(_) => ("userId", "with this userId (external_id)"),
        ContactKey::Email(_) => ("userEmail", "with this userEmail"),
    };
    ActionError::Refused {
        status: lambda_http::http::StatusCode::NOT_FOUND,
        code: "contact_not_found",
        field: field.into(),
        message: format!(
            "no Intercom contact {how}; check it, or name the customer another way (contactId, userId or userEmail)"
        ),
        allowed: Vec::new(),
    }
}

async fn tag_names<H: Helpdesk + ?Sized>(helpdesk: &H, contact: &ContactProfile) -> Result<Vec<String>, ActionError> {
    if contact.tags.as_ref().is_some_and(|t| t.surely_empty()) {
        return Ok(Vec::new());
    }
    Ok(helpdesk.contact_tags(&contact.id).await?.into_iter().map(|t| t.name).collect())
}

async fn companies<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    contact: &ContactProfile,
) -> Result<Vec<CompanySummary>, ActionError> {
    if contact.companies.as_ref().is_some_and(|c| c.surely_empty()) {
        return Ok(Vec::new());
    }
    Ok(helpdesk.contact_companies(&contact.id).await?.into_iter().map(company_summary).collect())
}

fn company_summary(company: Company) -> CompanySummary {
    CompanySummary {
        id: company.id,
        company_id: company.company_id,
        name: company.name,
        plan: company.plan.name,
        monthly_spend: company.monthly_spend,
        custom_attributes: company.custom_attributes,
    }
}

/// How many of the contact's conversations are in `state` (all when `None`): one search asking for one result,
/// read for its `total_count`.
async fn conversation_count<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    contact_id: &str,
    state: Option<&str>,
) -> Result<u64, ActionError> {
    let query = ConversationQuery {
        contact_id: contact_id.to_owned(),
        state: state.map(str::to_owned),
        updated_since: None,
        per_page: 1,
        starting_after: None,
    };
    let page = helpdesk.search_conversations(&query).await?;
    Ok(page.total_count.unwrap_or(page.conversations.len() as u64))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::models::Tag;
    use crate::intercom::{ContactMatches, ConversationPage};

    fn request(body: serde_json::Value) -> GetContactRequest {
        crate::http::from_value(body).unwrap()
    }

    fn profile(json: serde_json::Value) -> ContactProfile {
        serde_json::from_value(json).unwrap()
    }

    fn counts(helpdesk: &mut MockHelpdesk, open: u64, total: u64) {
        helpdesk.expect_search_conversations().times(2).returning(move |q| {
            assert_eq!(q.per_page, 1, "a count asks for one result");
            let count = if q.state.as_deref() == Some("open") { open } else { total };
            Ok(serde_json::from_value::<ConversationPage>(
                json!({"conversations": [{"id": "1"}], "total_count": count}),
            )
            .unwrap())
        });
    }

    #[tokio::test]
    async fn a_customer_by_email_is_the_user_before_leads_with_tags_companies_and_counts() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_find_contact_profiles()
            .withf(|key| *key == ContactKey::Email("jane@example.com".into()))
            .returning(|_| {
                Ok(ContactMatches {
                    contacts: vec![
                        profile(json!({"id": "lead1", "role": "lead"})),
                        profile(json!({
                            "id": "65f", "role": "user", "name": "Jane Doe", "email": "jane@example.com",
                            "external_id": "6123abc", "custom_attributes": {"support_tier": "premium"},
                            "created_at": 1700000000, "last_seen_at": 1763900000,
                            "location": {"country": "Ireland", "region": "Dublin", "city": "Dublin"},
                            "tags": {"data": [{"type": "tag", "id": "80"}], "total_count": 1},
                            "companies": {"data": [{"type": "company", "id": "c9"}], "total_count": 1}
                        })),
                        profile(json!({"id": "lead2", "role": "lead"})),
                    ],
                    total: 3,
                })
            });
        helpdesk
            .expect_contact_tags()
            .withf(|id| id == "65f")
            .returning(|_| Ok(vec![Tag { id: "80".into(), name: "vip".into() }]));
        helpdesk.expect_contact_companies().withf(|id| id == "65f").returning(|_| {
            Ok(vec![
                serde_json::from_value(json!({"id": "c9", "company_id": "acme-1", "name": "Acme",
                    "plan": {"name": "Pro"}, "monthly_spend": 99, "custom_attributes": {"seats": 12}}))
                .unwrap(),
            ])
        });
        counts(&mut helpdesk, 1, 4);
        let answer = get_contact(&helpdesk, request(json!({"userEmail": "jane@example.com"}))).await.unwrap();
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            json!({
                "contactId": "65f", "role": "user", "name": "Jane Doe", "email": "jane@example.com",
                "userId": "6123abc", "phone": null, "customAttributes": {"support_tier": "premium"},
                "tags": ["vip"],
                "companies": [{"id": "c9", "companyId": "acme-1", "name": "Acme", "plan": "Pro", "monthlySpend": 99.0,
                               "customAttributes": {"seats": 12}}],
                "createdAt": 1700000000, "signedUpAt": null, "lastSeenAt": 1763900000, "lastRepliedAt": null,
                "location": {"country": "Ireland", "region": "Dublin", "city": "Dublin"},
                "openConversations": 1, "totalConversations": 4,
                "otherMatches": 2, "otherContactIds": ["lead1", "lead2"]
            })
        );
    }

    #[tokio::test]
    async fn a_contact_that_says_it_has_no_tags_or_companies_costs_no_list_call() {
        let mut helpdesk = MockHelpdesk::new(); // a tag or company call would panic: none is expected
        helpdesk.expect_find_contact_profiles().returning(|_| {
            Ok(ContactMatches {
                contacts: vec![profile(json!({"id": "65f", "role": "lead",
                    "tags": {"data": [], "total_count": 0, "has_more": false},
                    "companies": {"data": [], "total_count": 0, "has_more": false}}))],
                total: 1,
            })
        });
        counts(&mut helpdesk, 0, 0);
        let answer = get_contact(&helpdesk, request(json!({"contactId": "65f"}))).await.unwrap();
        assert_eq!((answer.role.as_deref(), answer.other_matches), (Some("lead"), 0));
        assert!(answer.tags.is_empty() && answer.companies.is_empty() && answer.other_contact_ids.is_empty());
    }

    #[tokio::test]
    async fn an_unknown_customer_is_404_contact_not_found_naming_the_key_tried() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_contact_profiles().returning(|_| Ok(ContactMatches::default()));
        for (body, field) in [
            (json!({"contactId": "abc123"}), "contactId"),
            (json!({"userId": "u-7", "userEmail": "jane@example.com"}), "userId"),
            (json!({"userEmail": "jane@example.com"}), "userEmail"),
        ] {
            let err = get_contact(&helpdesk, request(body)).await.unwrap_err();
            assert_eq!((err.status().as_u16(), err.code()), (404, "contact_not_found"));
            assert_eq!(err.to_json()["field"], field);
            assert!(err.to_string().contains(&format!("with this {field}")), "{err}");
            assert!(err.to_json().get("allowed").is_none());
        }
    }

    #[tokio::test]
    async fn a_malformed_key_is_refused_before_any_call() {
        let helpdesk = MockHelpdesk::new();
        for (body, field) in [
            (json!({}), "userEmail"),
            (json!({"userEmail": "not-an-email"}), "userEmail"),
            (json!({"contactId": "a/b"}), "contactId"),
        ] {
            let err = get_contact(&helpdesk, request(body)).await.unwrap_err();
            assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (400, Some(field)));
        }
        let unknown = crate::http::from_value::<GetContactRequest>(json!({"email": "jane@example.com"})).unwrap_err();
        assert!(unknown.to_string().contains("unknown field `email`"), "{unknown}");
    }

    #[test]
    fn several_users_keep_intercoms_order_and_leads_follow() {
        let contacts = vec![
            profile(json!({"id": "l", "role": "lead"})),
            profile(json!({"id": "u1", "role": "user"})),
            profile(json!({"id": "u2", "role": "user"})),
        ];
        let (first, others) = pick_contact(contacts).unwrap();
        assert_eq!(first.id, "u1");
        assert_eq!(others.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["u2", "l"]);
        assert!(pick_contact(Vec::new()).is_none());
    }
}
