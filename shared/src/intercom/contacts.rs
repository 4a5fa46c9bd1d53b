//! Contacts: find by id, email or external id, create (resolving Intercom's 409 and archived contacts), update.

use reqwest::Method;

use super::client::{IntercomClient, Retry};
use super::error::IntercomError;
use super::models::{
    Attributes, Contact, ContactList, CreateContact, SearchContacts, SingleFilter, UpdateCustomAttributes,
};

/// How the agent names a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactKey {
    /// Intercom's own contact id.
    Id(String),
    Email(String),
    /// The id in the customer's own system (Intercom `external_id`).
    ExternalId(String),
}

/// A contact and whether this call created it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedContact {
    pub contact: Contact,
    pub created: bool,
}

impl IntercomClient {
    pub async fn get_contact(&self, id: &str) -> Result<Contact, IntercomError> {
        self.get(&format!("contacts/{}", segment(id)), &[]).await
    }

    /// Finds a contact without creating one; archived contacts are not found.
    pub async fn find_contact(&self, key: &ContactKey) -> Result<Option<Contact>, IntercomError> {
        let (field, value) = match key {
            ContactKey::Id(id) => {
                return match self.get_contact(id).await {
                    Ok(contact) => Ok(Some(contact)),
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e),
                };
            }
            ContactKey::Email(email) => ("email", email.as_str()),
            ContactKey::ExternalId(external_id) => ("external_id", external_id.as_str()),
        };
        let search = SearchContacts { query: SingleFilter { field, operator: "=", value } };
        let found: ContactList = self
            .send(Method::POST, "contacts/search", &[], Some(&search), Retry::Idempotent, "a contact search")
            .await?;
        // A user and a lead may share an email: prefer the user, whose conversations the team already sees.
        let mut data = found.data;
        data.sort_by_key(|c| c.role.as_deref() != Some("user"));
        Ok(data.into_iter().next())
    }

    /// Finds the contact, or creates it (as a user) with `name` and `attributes`.
    ///
    /// Search is eventually consistent in Intercom (a new contact can be missing for minutes), so a miss is
    /// followed by a create, and the 409 "already exists with id=…" answer names the contact we need; an
    /// archived one is unarchived.
    pub async fn find_or_create_contact(
        &self,
        key: &ContactKey,
        name: Option<&str>,
        attributes: Option<&Attributes>,
    ) -> Result<ResolvedContact, IntercomError> {
        if let Some(contact) = self.find_contact(key).await? {
            return Ok(ResolvedContact { contact, created: false });
        }
        let (email, external_id) = match key {
            ContactKey::Id(id) => {
                return Err(IntercomError::Api {
                    status: 404,
                    code: "not_found".into(),
                    message: format!("contact {id} does not exist"),
                    field: None,
                    request_id: None,
                });
            }
            ContactKey::Email(email) => (Some(email.as_str()), None),
            ContactKey::ExternalId(external_id) => (None, Some(external_id.as_str())),
        };
        let body = CreateContact { role: "user", email, external_id, name, custom_attributes: attributes };
        let created: Result<Contact, _> =
            self.send(Method::POST, "contacts", &[], Some(&body), Retry::Idempotent, "creating a contact").await;
        match created {
            Ok(contact) => {
                tracing::info!(contact_id = %contact.id, "created a contact");
                Ok(ResolvedContact { contact, created: true })
            }
            Err(IntercomError::Api { status: 409, message, .. }) if existing_id(&message).is_some() => {
                let id = existing_id(&message).unwrap_or_default().to_owned();
                if message.to_ascii_lowercase().contains("archived") {
                    tracing::info!(contact_id = %id, "unarchiving the contact");
                    let _: serde_json::Value = self
                        .send(
                            Method::POST,
                            &format!("contacts/{}/unarchive", segment(&id)),
                            &[],
                            None::<&()>,
                            Retry::Idempotent,
                            "unarchiving a contact",
                        )
                        .await?;
                }
                let contact = self.get_contact(&id).await?;
                Ok(ResolvedContact { contact, created: false })
            }
            Err(e) => Err(e),
        }
    }

    /// Merges `attributes` into the contact's custom attributes and returns the updated contact.
    pub async fn update_contact_attributes(&self, id: &str, attributes: &Attributes) -> Result<Contact, IntercomError> {
        let body = UpdateCustomAttributes { custom_attributes: attributes };
        self.send(
            Method::PUT,
            &format!("contacts/{}", segment(id)),
            &[],
            Some(&body),
            Retry::Idempotent,
            "updating a contact",
        )
        .await
    }
}

/// The id in Intercom's 409 message: "A contact matching those details already exists with id=<id>".
fn existing_id(message: &str) -> Option<&str> {
    let rest = &message[message.find("id=")? + 3..];
    let id = rest.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
    (!id.is_empty()).then_some(id)
}

/// Percent-encodes one path segment so an id can never change the path.
pub(crate) fn segment(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_id_from_intercoms_conflict_message() {
        assert_eq!(
            existing_id("A contact matching those details already exists with id=5f1a2b3c4d5e6f7a8b9c0d1e"),
            Some("5f1a2b3c4d5e6f7a8b9c0d1e")
        );
        assert_eq!(existing_id("An archived contact matching those details already exists with id=abc."), Some("abc"));
        assert_eq!(existing_id("conflict"), None);
        assert_eq!(existing_id("id="), None);
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(segment("6123abc"), "6123abc");
    }
}
