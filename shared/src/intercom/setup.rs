//! What connecting a workspace (and the doctor) asks Intercom: whose token this is, what it may do, and the
//! contact data attributes the integration writes.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::{IntercomClient, Retry};
use super::error::IntercomError;
use super::models::string_id;

/// `GET /me`: the token's admin and its workspace.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub app: Option<App>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct App {
    pub id_code: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `US`, `EU` or `AU` (Intercom writes it in capitals).
    #[serde(default)]
    pub region: Option<String>,
}

/// A contact data attribute as `GET /data_attributes` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DataAttribute {
    #[serde(default, deserialize_with = "super::models::opt_string_id")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub data_type: Option<String>,
    #[serde(default)]
    pub archived: bool,
}

#[derive(Debug, Deserialize)]
struct DataAttributeList {
    #[serde(default)]
    data: Vec<DataAttribute>,
}

/// A custom contact attribute to create: its name and Intercom data type (`integer`, `string`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NewAttribute {
    pub name: &'static str,
    pub data_type: &'static str,
    pub description: &'static str,
}

/// One permission the integration needs, and the cheap, harmless call that shows whether the token has it. A
/// write is probed on id 0, which no conversation or contact has: Intercom checks the token's scope before it
/// looks the id up, so the answer is 404 with the permission and 403 without it; nothing is ever changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadConversations,
    WriteConversations,
    ReadContacts,
    WriteContacts,
    ReadAdmins,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::ReadConversations,
        Permission::WriteConversations,
        Permission::ReadContacts,
        Permission::WriteContacts,
        Permission::ReadAdmins,
    ];

    /// Intercom's scope name, as its 403 names it.
    pub fn scope(self) -> &'static str {
        match self {
            Permission::ReadConversations => "read_conversations",
            Permission::WriteConversations => "write_conversations",
            Permission::ReadContacts => "read_contacts",
            Permission::WriteContacts => "write_contacts",
            Permission::ReadAdmins => "read_admins",
        }
    }

    /// What the permission is called in Intercom's Developer Hub.
    pub fn label(self) -> &'static str {
        match self {
            Permission::ReadConversations => "Read conversations",
            Permission::WriteConversations => "Write conversations",
            Permission::ReadContacts => "Read and list users and companies",
            Permission::WriteContacts => "Write users and companies",
            Permission::ReadAdmins => "Read admins (and teams)",
        }
    }
}

/// What a permission probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Granted,
    /// Intercom answered 403; the scope it named (or the probe's own).
    Missing {
        scope: String,
    },
}

impl IntercomClient {
    /// `GET /me`, not cached: the connect call and the doctor want the token's answer now.
    pub async fn me(&self) -> Result<Me, IntercomError> {
        self.get("me", &[]).await
    }

    /// The workspace's contact data attributes, archived ones included.
    pub async fn contact_data_attributes(&self) -> Result<Vec<DataAttribute>, IntercomError> {
        let list: DataAttributeList =
            self.get("data_attributes", &[("model", "contact"), ("include_archived", "true")]).await?;
        Ok(list.data)
    }

    /// Creates a custom contact attribute (`POST /data_attributes`). Creating one that exists is refused by
    /// Intercom, so callers list first.
    pub async fn create_contact_attribute(&self, attribute: &NewAttribute) -> Result<DataAttribute, IntercomError> {
        let body = json!({
            "name": attribute.name,
            "model": "contact",
            "data_type": attribute.data_type,
            "description": attribute.description,
        });
        self.send(Method::POST, "data_attributes", &[], Some(&body), Retry::Once, "creating a data attribute").await
    }

    /// Whether the token has `permission`, by the probe described on [`Permission`].
    pub async fn probe(&self, permission: Permission, admin_id: &str) -> Result<Probe, IntercomError> {
        let result: Result<serde_json::Value, IntercomError> = match permission {
            Permission::ReadConversations => self.get("conversations", &[("per_page", "1")]).await,
            Permission::ReadContacts => self.get("contacts", &[("per_page", "1")]).await,
            Permission::ReadAdmins => self.get("teams", &[]).await,
            Permission::WriteConversations => {
                let close = json!({"message_type": "close", "type": "admin", "admin_id": admin_id});
                self.send(
                    Method::POST,
                    "conversations/0/parts",
                    &[],
                    Some(&close),
                    Retry::Idempotent,
                    "a permission probe",
                )
                .await
            }
            Permission::WriteContacts => {
                let nothing = json!({});
                self.send(Method::PUT, "contacts/0", &[], Some(&nothing), Retry::Idempotent, "a permission probe").await
            }
        };
        match result {
            Ok(_) => Ok(Probe::Granted),
            Err(e) if e.is_not_found() => Ok(Probe::Granted),
            Err(IntercomError::Api { status: 403, message, .. }) => {
                let scope = scope_named(&message).unwrap_or_else(|| permission.scope().to_owned());
                Ok(Probe::Missing { scope })
            }
            Err(e) => Err(e),
        }
    }
}

/// The scope in Intercom's 403 ("You do not have the required scope (read_conversations) to access…").
fn scope_named(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("scope (")?;
    let (scope, _) = rest.split_once(')')?;
    let ok = !scope.is_empty() && scope.len() <= 64 && scope.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| scope.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_is_read_from_intercoms_403() {
        assert_eq!(
            scope_named("You do not have the required scope (write_conversations) to access this resource").as_deref(),
            Some("write_conversations")
        );
        assert_eq!(scope_named("Forbidden"), None);
        assert_eq!(scope_named("scope (<script>)"), None, "anything but a scope name is not echoed");
    }

    #[test]
    fn me_reads_the_workspace() {
        let me: Me = serde_json::from_value(serde_json::json!({
            "type": "admin", "id": "991267", "name": "Ada AI",
            "app": {"type": "app", "id_code": "abc123de", "name": "Acme", "region": "EU"}
        }))
        .unwrap();
        assert_eq!(me.id, "991267");
        let app = me.app.unwrap();
        assert_eq!((app.id_code.as_str(), app.region.as_deref()), ("abc123de", Some("EU")));
    }
}
