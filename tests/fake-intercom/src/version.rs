//! The REST API version an answer is shaped for: the request's `Intercom-Version` header, else the
//! workspace's default (Intercom: the app's version in the Developer Hub; the fake: 2.16).
//!
//! Where 2.14 and 2.16 disagree on a shape, the fake answers the version asked for: a conversation's
//! `priority` (`priority`/`not_priority` → `none`…`urgent`), its unassigned `admin_assignee_id` /
//! `team_assignee_id` (`null` → `0`), a contact's `owner_id` (integer → string), and the fields 2.16 adds
//! (a conversation's `channel`, `company`, `sales_agent`…, an admin's `role`).

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiVersion {
    /// 2.14 and older (2.15 is answered as 2.14).
    V2_14,
    #[default]
    V2_16,
}

impl ApiVersion {
    /// `"2.14"`, `"2.16"`, …; anything before 2.16 is answered in 2.14's shapes, `Unstable` and later
    /// versions in 2.16's. `None` for what is not a version.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("unstable") {
            return Some(Self::V2_16);
        }
        let (major, minor) = s.split_once('.')?;
        let (major, minor): (u32, u32) = (major.parse().ok()?, minor.parse().ok()?);
        Some(if (major, minor) < (2, 16) { Self::V2_14 } else { Self::V2_16 })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2_14 => "2.14",
            Self::V2_16 => "2.16",
        }
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_before_2_16_get_2_14_shapes() {
        assert_eq!(ApiVersion::parse("2.14"), Some(ApiVersion::V2_14));
        assert_eq!(ApiVersion::parse("1.4"), Some(ApiVersion::V2_14));
        assert_eq!(ApiVersion::parse("2.15"), Some(ApiVersion::V2_14));
        assert_eq!(ApiVersion::parse("2.16"), Some(ApiVersion::V2_16));
        assert_eq!(ApiVersion::parse("Unstable"), Some(ApiVersion::V2_16));
        assert_eq!(ApiVersion::parse("latest"), None);
        assert_eq!(ApiVersion::default(), ApiVersion::V2_16);
    }
}
