//! The permissions (OAuth scopes) an access token may lack, and which one each route needs.
//!
//! Intercom checks the token's scopes before it looks anything up, so a write to an id that does not
//! exist answers 403 without the scope and 404 with it (a cheap, harmless permission probe).

use std::fmt;

use axum::http::StatusCode;
use serde::{Serialize, Serializer};

use crate::error::ApiError;
use crate::faults::PathMatch;

/// A permission of an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    ReadConversations,
    WriteConversations,
    ReadContacts,
    WriteContacts,
    ReadAdmins,
    /// Away mode and office hours: not in Intercom's published list of the integration's scopes, but a
    /// write all the same.
    WriteAdmins,
    ReadTags,
    WriteTags,
    ReadDataAttributes,
    WriteDataAttributes,
    ReadArticles,
    ReadTickets,
    WriteTickets,
}

impl Scope {
    pub const ALL: [Scope; 13] = [
        Scope::ReadConversations,
        Scope::WriteConversations,
        Scope::ReadContacts,
        Scope::WriteContacts,
        Scope::ReadAdmins,
        Scope::WriteAdmins,
        Scope::ReadTags,
        Scope::WriteTags,
        Scope::ReadDataAttributes,
        Scope::WriteDataAttributes,
        Scope::ReadArticles,
        Scope::ReadTickets,
        Scope::WriteTickets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReadConversations => "read_conversations",
            Scope::WriteConversations => "write_conversations",
            Scope::ReadContacts => "read_contacts",
            Scope::WriteContacts => "write_contacts",
            Scope::ReadAdmins => "read_admins",
            Scope::WriteAdmins => "write_admins",
            Scope::ReadTags => "read_tags",
            Scope::WriteTags => "write_tags",
            Scope::ReadDataAttributes => "read_data_attributes",
            Scope::WriteDataAttributes => "write_data_attributes",
            Scope::ReadArticles => "read_articles",
            Scope::ReadTickets => "read_tickets",
            Scope::WriteTickets => "write_tickets",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Intercom's 403 for a token without this scope.
    pub fn missing(self) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("You do not have the required scope ({self}) to access this resource"),
        )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Routes and the scope each needs, first match wins (`*` one segment, trailing `**` the rest). `GET /me`
/// needs none: any valid token may ask whose it is.
const ROUTES: [(&str, &str, Scope); 37] = [
    ("GET", "/admins/**", Scope::ReadAdmins),
    ("PUT", "/admins/*/away", Scope::WriteAdmins),
    ("GET", "/teams/**", Scope::ReadAdmins),
    ("GET", "/away_status_reasons", Scope::ReadAdmins),
    ("GET", "/office_hours_schedules/**", Scope::ReadAdmins),
    ("POST", "/office_hours_schedules/**", Scope::WriteAdmins),
    ("PUT", "/office_hours_schedules/**", Scope::WriteAdmins),
    ("DELETE", "/office_hours_schedules/**", Scope::WriteAdmins),
    ("GET", "/tags/**", Scope::ReadTags),
    ("POST", "/tags", Scope::WriteTags),
    ("DELETE", "/tags/*", Scope::WriteTags),
    ("GET", "/data_attributes/**", Scope::ReadDataAttributes),
    ("POST", "/data_attributes", Scope::WriteDataAttributes),
    ("PUT", "/data_attributes/*", Scope::WriteDataAttributes),
    ("POST", "/contacts/search", Scope::ReadContacts),
    ("GET", "/contacts/**", Scope::ReadContacts),
    ("POST", "/contacts/**", Scope::WriteContacts),
    ("PUT", "/contacts/**", Scope::WriteContacts),
    ("DELETE", "/contacts/**", Scope::WriteContacts),
    ("GET", "/companies/**", Scope::ReadContacts),
    ("POST", "/companies/**", Scope::WriteContacts),
    ("POST", "/conversations/search", Scope::ReadConversations),
    ("POST", "/conversations/*/convert", Scope::WriteTickets),
    ("GET", "/conversations/**", Scope::ReadConversations),
    ("POST", "/conversations/**", Scope::WriteConversations),
    ("PUT", "/conversations/**", Scope::WriteConversations),
    ("DELETE", "/conversations/**", Scope::WriteConversations),
    ("GET", "/articles/**", Scope::ReadArticles),
    ("GET", "/internal_articles/**", Scope::ReadArticles),
    ("GET", "/help_center/**", Scope::ReadArticles),
    ("GET", "/ticket_types/**", Scope::ReadTickets),
    ("GET", "/ticket_states/**", Scope::ReadTickets),
    ("POST", "/tickets/search", Scope::ReadTickets),
    ("GET", "/tickets/**", Scope::ReadTickets),
    ("POST", "/tickets/**", Scope::WriteTickets),
    ("PUT", "/tickets/**", Scope::WriteTickets),
    ("DELETE", "/tickets/**", Scope::WriteTickets),
];

/// The scope a request needs, `None` for routes open to any valid token (`GET /me`, unknown routes).
pub fn required(method: &str, path: &str) -> Option<Scope> {
    ROUTES
        .iter()
        .find(|(m, pattern, _)| m.eq_ignore_ascii_case(method) && PathMatch::parse(pattern).matches(path))
        .map(|(_, _, scope)| *scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_names_its_scope() {
        assert_eq!(required("GET", "/me"), None);
        assert_eq!(required("GET", "/conversations/1"), Some(Scope::ReadConversations));
        assert_eq!(required("POST", "/conversations/search"), Some(Scope::ReadConversations));
        assert_eq!(required("POST", "/conversations"), Some(Scope::WriteConversations));
        assert_eq!(required("PUT", "/conversations/0"), Some(Scope::WriteConversations));
        assert_eq!(required("POST", "/conversations/1/convert"), Some(Scope::WriteTickets));
        assert_eq!(required("POST", "/contacts/search"), Some(Scope::ReadContacts));
        assert_eq!(required("GET", "/contacts/find_by_external_id/x"), Some(Scope::ReadContacts));
        assert_eq!(required("PUT", "/contacts/0"), Some(Scope::WriteContacts));
        assert_eq!(required("GET", "/teams/1/metrics"), Some(Scope::ReadAdmins));
        assert_eq!(required("POST", "/data_attributes"), Some(Scope::WriteDataAttributes));
        assert_eq!(required("GET", "/articles/search"), Some(Scope::ReadArticles));
        assert_eq!(required("POST", "/tickets/search"), Some(Scope::ReadTickets));
        assert_eq!(required("PUT", "/tickets/1"), Some(Scope::WriteTickets));
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(
            Scope::ReadTickets.missing().message,
            "You do not have the required scope (read_tickets) to access this resource"
        );
    }

    /// Every operation of the committed contract subset (every route the product or the fake uses) needs a
    /// scope, `GET /me` excepted.
    #[test]
    fn every_operation_of_the_contract_needs_a_scope() {
        let path = crate::prism::spec_path_for("2.16").expect("the 2.16 subset is committed");
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("committed subset")).expect("json");
        let paths = spec["paths"].as_object().expect("paths");
        let mut unmapped = Vec::new();
        for (template, item) in paths {
            let concrete: String = template
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for method in item.as_object().expect("item").keys() {
                let method = method.to_ascii_uppercase();
                if required(&method, &concrete).is_none() && (method.as_str(), template.as_str()) != ("GET", "/me") {
                    unmapped.push(format!("{method} {template}"));
                }
            }
        }
        assert!(unmapped.is_empty(), "operations without a scope: {unmapped:?}");
    }
}
