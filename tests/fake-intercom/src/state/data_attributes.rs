//! The workspace's data attributes (`POST /data_attributes`) and the check of a contact's custom attributes.

use serde_json::{Map, Value};

use super::State;
use crate::attributes::{self, AttributeModel, DataAttribute, DataType};
use crate::error::ApiError;

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
        let attribute = DataAttribute {
            id: Some(self.counters.attribute),
            name: name.to_owned(),
            model,
            data_type,
            description: description.to_owned(),
            options,
            custom: true,
            archived: false,
            created_at: self.now(),
        };
        self.data_attributes.push(attribute.clone());
        Ok(attribute)
    }

    /// Refuses custom attributes the workspace does not define, or values of the wrong type.
    pub(super) fn check_custom_attributes(&self, attrs: &Map<String, Value>) -> Result<(), ApiError> {
        if self.accept_unknown_attributes {
            return Ok(());
        }
        attributes::check_contact_attributes(&self.data_attributes, attrs)
    }
}
