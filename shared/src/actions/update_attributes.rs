//! `update-user-attributes`: sets custom attributes on the customer, creating a customer not yet known.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::models::Attributes;
use crate::validate::{MAX_ATTRIBUTE_NAME_CHARS, MAX_ATTRIBUTE_VALUE_CHARS, contact_key, writable_attribute};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(transform = crate::validate::schema::customer_key))]
pub struct UpdateAttributesRequest {
    /// The id in the customer's own system (Intercom `external_id`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_USER_ID_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub user_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(email, length(max = crate::validate::MAX_EMAIL_BYTES), regex(pattern = crate::validate::schema::EMAIL)))]
    pub user_email: Option<String>,
    /// The Intercom contact id (letters and digits); wins over userId and userEmail.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::CONTACT_ID)))]
    pub contact_id: Option<String>,
    /// Custom attributes to set (strings, numbers, booleans; null clears one). Intercom refuses a name the
    /// workspace has not defined (422 unknown_attribute).
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::validate::schema::custom_attributes"))]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateAttributesResponse {
    pub contact_id: String,
    pub contact_created: bool,
    pub custom_attributes: Attributes,
}

/// Sets custom attributes on the contact; a customer known only by email or user id is created with them.
pub async fn update_user_attributes<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: UpdateAttributesRequest,
) -> Result<UpdateAttributesResponse, ActionError> {
    let key = contact_key(request.contact_id, request.user_id, request.user_email)?;
    validate_attributes(&request.attributes)?;
    let resolved = helpdesk.find_or_create_contact(&key, None, Some(request.attributes.clone())).await?;
    let contact = if resolved.created {
        resolved.contact
    } else {
        helpdesk.update_contact_attributes(&resolved.contact.id, &request.attributes).await?
    };
    Ok(UpdateAttributesResponse {
        contact_id: contact.id,
        contact_created: resolved.created,
        custom_attributes: contact.custom_attributes,
    })
}

fn validate_attributes(attributes: &Attributes) -> Result<(), ActionError> {
    if attributes.is_empty() {
        return Err(ActionError::bad_request("attributes", "attributes must name at least one custom attribute"));
    }
    for (name, value) in attributes {
        let field = format!("attributes.{name}");
        // Characters, as the message says (a byte count refused shorter non-ASCII names).
        if name.trim().is_empty() || name.chars().count() > MAX_ATTRIBUTE_NAME_CHARS {
            return Err(ActionError::bad_request(&field, "attribute names must be 1 to 190 characters"));
        }
        writable_attribute(name)?;
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            Value::String(s) if s.chars().count() <= MAX_ATTRIBUTE_VALUE_CHARS => {}
            Value::String(_) => {
                return Err(ActionError::bad_request(
                    &field,
                    format!("{field} is longer than Intercom's 255 characters"),
                ));
            }
            Value::Array(_) | Value::Object(_) => {
                return Err(ActionError::bad_request(
                    &field,
                    format!("{field} must be a string, number, boolean or null (Intercom custom attributes are flat)"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_must_be_flat_and_short() {
        let ok: Attributes =
            serde_json::from_str(r#"{"support_tier":"premium","escalation_count":2,"vip":true,"old":null}"#).unwrap();
        assert!(validate_attributes(&ok).is_ok());
        let nested: Attributes = serde_json::from_str(r#"{"plan":{"name":"x"}}"#).unwrap();
        assert!(
            matches!(validate_attributes(&nested), Err(ActionError::BadRequest { field: Some(f), .. }) if f == "attributes.plan")
        );
        assert!(validate_attributes(&Attributes::new()).is_err());
        let internal: Attributes = serde_json::from_str(r#"{"tier":"gold","ai_escalation":"done:s1"}"#).unwrap();
        match validate_attributes(&internal) {
            Err(ActionError::BadRequest { field: Some(f), message }) => {
                assert_eq!(f, "attributes.ai_escalation");
                assert!(message.starts_with("ai_escalation is maintained by the integration"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let long: Attributes = serde_json::from_value(serde_json::json!({"x": "a".repeat(256)})).unwrap();
        assert!(validate_attributes(&long).is_err());
    }
}
