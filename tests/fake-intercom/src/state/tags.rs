//! Tags, and tagging conversations.

use axum::http::StatusCode;
use serde::Serialize;

use super::State;
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedTag {
    pub tag_id: String,
    pub applied_at: i64,
    pub applied_by: String,
}

impl State {
    /// `POST /contacts/{id}/tags {id}`: tagging twice is a no-op.
    pub fn tag_contact(&mut self, contact_id: &str, tag_id: &str) -> Result<Tag, ApiError> {
        self.live_contact(contact_id)?;
        let tag = self.tag(tag_id).cloned().ok_or_else(ApiError::tag_not_found)?;
        let now = self.now();
        let contact = self.contact_mut(contact_id).ok_or_else(ApiError::contact_not_found)?;
        if !contact.tag_ids.contains(&tag.id) {
            contact.tag_ids.push(tag.id.clone());
            contact.updated_at = now;
        }
        self.contact_changed(contact_id);
        Ok(tag)
    }

    /// `GET /contacts/{id}/tags`: the contact's tags, in the order they were applied.
    pub fn tags_of(&self, contact_id: &str) -> Result<Vec<&Tag>, ApiError> {
        let contact = self.live_contact(contact_id)?;
        Ok(contact.tag_ids.iter().filter_map(|id| self.tag(id)).collect())
    }

    pub fn tag(&self, id: &str) -> Option<&Tag> {
        self.tags.iter().find(|t| t.id == id)
    }

    /// `POST /tags {name}`: the existing tag whose name matches case-insensitively, or a
    /// new one.
    pub fn find_or_create_tag(&mut self, name: &str) -> Tag {
        if let Some(tag) = self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
            return tag.clone();
        }
        self.counters.tag += 1;
        let tag = Tag { id: self.counters.tag.to_string(), name: name.to_owned() };
        self.tags.push(tag.clone());
        tag
    }

    /// `POST /tags {id, name}`: renames an existing tag.
    pub fn rename_tag(&mut self, id: &str, name: &str) -> Result<Tag, ApiError> {
        let tag = self.tags.iter_mut().find(|t| t.id == id).ok_or_else(ApiError::tag_not_found)?;
        tag.name = name.to_owned();
        Ok(tag.clone())
    }

    /// `POST /conversations/{id}/tags`: applying a tag twice is a no-op.
    pub fn tag_conversation(
        &mut self,
        conversation_id: &str,
        tag_id: &str,
        admin_id: &str,
    ) -> Result<(Tag, AppliedTag), ApiError> {
        if self.conversation(conversation_id).is_none() {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found"));
        }
        let tag = self.tag(tag_id).cloned().ok_or_else(ApiError::tag_not_found)?;
        self.require_admin(admin_id)?;
        let now = self.now();
        let conv = self.conversation_mut(conversation_id)?;
        if let Some(applied) = conv.tags.iter().find(|t| t.tag_id == tag.id) {
            return Ok((tag, applied.clone()));
        }
        let applied = AppliedTag { tag_id: tag.id.clone(), applied_at: now, applied_by: admin_id.to_owned() };
        conv.tags.push(applied.clone());
        conv.updated_at = applied.applied_at;
        Ok((tag, applied))
    }

    /// `DELETE /conversations/{id}/tags/{tag_id}`: removing a tag that is not applied
    /// answers the tag all the same.
    pub fn untag_conversation(&mut self, conversation_id: &str, tag_id: &str, admin_id: &str) -> Result<Tag, ApiError> {
        if self.conversation(conversation_id).is_none() {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "Conversation not found"));
        }
        let tag = self.tag(tag_id).cloned().ok_or_else(ApiError::tag_not_found)?;
        self.require_admin(admin_id)?;
        let now = self.now();
        let conv = self.conversation_mut(conversation_id)?;
        let before = conv.tags.len();
        conv.tags.retain(|t| t.tag_id != tag.id);
        if conv.tags.len() != before {
            conv.updated_at = now;
        }
        Ok(tag)
    }
}
