//! Contacts: create, update, archive, look up, and what contact search sees.

use serde::Serialize;
use serde_json::{Map, Value};

use super::State;
use super::conversations::Author;
use crate::error::ApiError;
use crate::ids::contact_id;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Lead,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Lead => "lead",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "lead" => Some(Role::Lead),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: String,
    pub role: Role,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub owner_id: Option<i64>,
    pub unsubscribed_from_emails: bool,
    pub custom_attributes: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
    pub signed_up_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub last_replied_at: Option<i64>,
    pub last_contacted_at: Option<i64>,
    pub archived: bool,
    /// Tags applied to the contact (`POST /contacts/{id}/tags`), in order.
    pub tag_ids: Vec<String>,
    /// Companies it is attached to (`POST /contacts/{id}/companies`), in order.
    pub company_ids: Vec<String>,
}

/// The fields of `POST /contacts` (and of [`crate::FakeIntercom::add_contact`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub role: Role,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub owner_id: Option<i64>,
    pub signed_up_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub unsubscribed_from_emails: Option<bool>,
    pub custom_attributes: Map<String, Value>,
}

impl NewContact {
    /// A user with this email and nothing else.
    pub fn user(email: &str) -> Self {
        Self {
            role: Role::User,
            external_id: None,
            email: Some(email.to_owned()),
            phone: None,
            name: None,
            avatar: None,
            owner_id: None,
            signed_up_at: None,
            last_seen_at: None,
            unsubscribed_from_emails: None,
            custom_attributes: Map::new(),
        }
    }

    pub fn external_id(mut self, external_id: &str) -> Self {
        self.external_id = Some(external_id.to_owned());
        self
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

/// `PUT /contacts/{id}`: `None` = field absent (keep), `Some(None)` = `null` (clear).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactUpdate {
    pub role: Option<Role>,
    pub external_id: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub name: Option<Option<String>>,
    pub avatar: Option<Option<String>>,
    pub owner_id: Option<Option<i64>>,
    pub signed_up_at: Option<Option<i64>>,
    pub last_seen_at: Option<Option<i64>>,
    pub unsubscribed_from_emails: Option<bool>,
    /// Merged into the stored attributes; a `null` value removes the attribute.
    pub custom_attributes: Option<Map<String, Value>>,
}

impl State {
    /// Any contact with this id, archived or not.
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id == id)
    }

    pub fn contact_mut(&mut self, id: &str) -> Option<&mut Contact> {
        self.contacts.iter_mut().find(|c| c.id == id)
    }

    /// A non-archived contact, or Intercom's 404.
    pub fn live_contact(&self, id: &str) -> Result<&Contact, ApiError> {
        self.contact(id).filter(|c| !c.archived).ok_or_else(ApiError::contact_not_found)
    }

    pub fn contact_by_external_id(&self, external_id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| !c.archived && c.external_id.as_deref() == Some(external_id))
    }

    pub fn contact_by_email(&self, email: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| !c.archived && c.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    }

    /// A contact other than `except` with the same email (case-insensitive) or
    /// external_id; non-archived matches first.
    fn conflicting_contact(
        &self,
        email: Option<&str>,
        external_id: Option<&str>,
        except: Option<&str>,
    ) -> Option<&Contact> {
        let matches = |c: &&Contact| {
            Some(c.id.as_str()) != except
                && (email.is_some_and(|e| c.email.as_deref().is_some_and(|ce| ce.eq_ignore_ascii_case(e)))
                    || external_id.is_some_and(|x| c.external_id.as_deref() == Some(x)))
        };
        self.contacts.iter().filter(matches).min_by_key(|c| c.archived)
    }

    fn conflict_error(contact: &Contact) -> ApiError {
        if contact.archived {
            ApiError::conflict(format!(
                "An archived contact matching those details already exists with id={}",
                contact.id
            ))
        } else {
            ApiError::conflict(format!("A contact matching those details already exists with id={}", contact.id))
        }
    }

    /// `POST /contacts`: 409 `conflict` when the email or external_id is taken; 400 when a custom
    /// attribute is not defined or has the wrong type.
    pub fn create_contact(&mut self, new: NewContact) -> Result<Contact, ApiError> {
        self.check_custom_attributes(&new.custom_attributes)?;
        if let Some(existing) = self.conflicting_contact(new.email.as_deref(), new.external_id.as_deref(), None) {
            return Err(Self::conflict_error(existing));
        }
        let now = self.now();
        let mut custom_attributes = new.custom_attributes;
        custom_attributes.retain(|_, v| !v.is_null());
        let contact = Contact {
            id: contact_id(),
            role: new.role,
            external_id: new.external_id,
            email: new.email,
            phone: new.phone,
            name: new.name,
            avatar: new.avatar,
            owner_id: new.owner_id,
            unsubscribed_from_emails: new.unsubscribed_from_emails.unwrap_or(false),
            custom_attributes,
            created_at: now,
            updated_at: now,
            signed_up_at: new.signed_up_at,
            last_seen_at: new.last_seen_at,
            last_replied_at: None,
            last_contacted_at: None,
            archived: false,
            tag_ids: Vec::new(),
            company_ids: Vec::new(),
        };
        self.contacts.push(contact.clone());
        self.search_index.record(&contact);
        Ok(contact)
    }

    /// `PUT /contacts/{id}`: all or nothing (an undefined custom attribute refuses the whole update).
    pub fn update_contact(&mut self, id: &str, update: ContactUpdate) -> Result<Contact, ApiError> {
        self.live_contact(id)?;
        if let Some(attrs) = &update.custom_attributes {
            self.check_custom_attributes(attrs)?;
        }
        let email = update.email.as_ref().and_then(|e| e.as_deref());
        let external_id = update.external_id.as_ref().and_then(|e| e.as_deref());
        if let Some(existing) = self.conflicting_contact(email, external_id, Some(id)) {
            return Err(Self::conflict_error(existing));
        }
        let now = self.now();
        let contact = self.contact_mut(id).ok_or_else(ApiError::contact_not_found)?;
        if let Some(role) = update.role {
            contact.role = role;
        }
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = update.$field { contact.$field = v; }
            )*};
        }
        set!(external_id, email, phone, name, avatar, owner_id, signed_up_at, last_seen_at);
        if let Some(v) = update.unsubscribed_from_emails {
            contact.unsubscribed_from_emails = v;
        }
        if let Some(attrs) = update.custom_attributes {
            for (k, v) in attrs {
                if v.is_null() {
                    contact.custom_attributes.remove(&k);
                } else {
                    contact.custom_attributes.insert(k, v);
                }
            }
        }
        contact.updated_at = now;
        let contact = contact.clone();
        self.search_index.record(&contact);
        Ok(contact)
    }

    /// `POST /contacts/{id}/archive` and `/unarchive`.
    pub fn set_archived(&mut self, id: &str, archived: bool) -> Result<Contact, ApiError> {
        let now = self.now();
        let contact = self.contact_mut(id).ok_or_else(ApiError::contact_not_found)?;
        if contact.archived != archived {
            contact.archived = archived;
            contact.updated_at = now;
            let contact = contact.clone();
            self.search_index.record(&contact);
            return Ok(contact);
        }
        Ok(contact.clone())
    }

    /// The search index catches up with every change so far.
    pub fn index_search(&mut self) {
        self.search_index.catch_up();
    }

    /// The contacts `POST /contacts/search` sees now, in creation order: each as the index holds it
    /// (possibly an older version), archived ones and ones not indexed yet left out.
    pub fn searchable_contacts(&mut self) -> Vec<Contact> {
        self.search_index.advance(std::time::Instant::now());
        self.contacts.iter().filter_map(|c| self.search_index.indexed(&c.id)).filter(|c| !c.archived).cloned().collect()
    }

    /// Records a change of a contact made outside the contact endpoints (e.g. `last_replied_at`).
    pub(super) fn contact_changed(&mut self, id: &str) {
        if let Some(c) = self.contact(id).cloned() {
            self.search_index.record(&c);
        }
    }

    pub(crate) fn contact_author(contact: &Contact) -> Author {
        Author {
            kind: contact.role.as_str().to_owned(),
            id: contact.id.clone(),
            name: contact.name.clone(),
            email: contact.email.clone(),
        }
    }
}
