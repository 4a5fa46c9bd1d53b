//! The workspace's data attributes (`POST /data_attributes`) and the check of a contact's custom attributes.

use serde_json::{Map, Value};

use axum::http::StatusCode;

use super::State;
use crate::attributes::{self, AttributeModel, DataAttribute, DataType};
use crate::error::ApiError;

/// `update_data_attribute_request` (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeUpdate {
    pub archived: Option<bool>,
    pub description: Option<String>,
    pub messenger_writable: Option<bool>,
    pub options: Option<Vec<String>>,
}

impl State {
    /// `POST /data_attributes`: a new custom attribute. Refused (400 `parameter_invalid`) when the name
    /// breaks Intercom's rule or is taken (by a standard or custom attribute of any model).
    pub fn define_attribute(
        &mut self,
        name: &str,
        model: AttributeModel,
        data_type: DataType,
        description: &str,
        options: Vec<String>,
    ) -> Result<DataAttribute, ApiError> {
        attributes::check_name(name)?;
        if let Some(existing) = self.data_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name)) {
            return Err(attributes::already_exists(name, existing.model, model));
        }
        self.counters.attribute += 1;
        let now = self.now();
        let attribute = DataAttribute {
            id: Some(self.counters.attribute),
            name: name.to_owned(),
            model,
            data_type,
            description: description.to_owned(),
            options,
            custom: true,
            archived: false,
            messenger_writable: false,
            created_at: now,
            updated_at: now,
        };
        self.data_attributes.push(attribute.clone());
        Ok(attribute)
    }

    /// `PUT /data_attributes/{id}`: archives (or restores) a custom attribute, or changes its description,
    /// `messenger_writable` or list options. An archived attribute is listed only with `include_archived`
    /// and refused on contact (or company) writes exactly as an unknown one is. A standard attribute (no id)
    /// or an unknown id: 404 `field_not_found`.
    pub fn update_attribute(&mut self, id: &str, update: AttributeUpdate) -> Result<DataAttribute, ApiError> {
        let now = self.now();
        let attribute =
            self.data_attributes.iter_mut().find(|a| a.id.is_some_and(|n| n.to_string() == id)).ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "field_not_found",
                    "We couldn't find that data attribute to update",
                )
            })?;
        if let Some(archived) = update.archived {
            attribute.archived = archived;
        }
        if let Some(description) = update.description {
            attribute.description = description;
        }
        if let Some(writable) = update.messenger_writable {
            attribute.messenger_writable = writable;
        }
        if let Some(options) = update.options {
            attribute.options = options;
        }
        attribute.updated_at = now;
        Ok(attribute.clone())
    }

    /// Archives (or restores) the custom attribute with this name, as `PUT /data_attributes/{id}` would.
    pub fn set_attribute_archived(&mut self, name: &str, archived: bool) -> Result<DataAttribute, ApiError> {
        let id = self
            .data_attributes
            .iter()
            .find(|a| a.custom && a.name == name)
            .and_then(|a| a.id)
            .map(|n| n.to_string())
            .unwrap_or_default();
        self.update_attribute(&id, AttributeUpdate { archived: Some(archived), ..AttributeUpdate::default() })
    }

    /// Refuses custom attributes the workspace does not define, or values of the wrong type.
    pub(super) fn check_custom_attributes(&self, attrs: &Map<String, Value>) -> Result<(), ApiError> {
        if self.accept_unknown_attributes {
            return Ok(());
        }
        attributes::check_contact_attributes(&self.data_attributes, attrs)
    }
}
