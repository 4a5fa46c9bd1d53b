//! The validators every agent action and the escalation share: each turns raw input into a checked value or a
//! 400 that names the field and says what to fix.

use crate::http::ActionError;
use crate::intercom::ContactKey;

/// Longest message body accepted (Intercom has no documented limit; this bounds what an agent can send).
pub const MAX_MESSAGE_CHARS: usize = 20_000;

/// Contact attributes only the integration writes: `ai_escalation` is the escalation's exactly-once marker, and
/// an agent overwriting it could make a retry open a second conversation (or none). `escalation_count` and
/// `last_ai_session` are informational and stay writable.
pub const INTERNAL_ATTRIBUTES: &[&str] = &["ai_escalation"];

/// Longest custom attribute name and string value (Intercom's limits).
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 190;
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 255;

/// Refuses a custom attribute the integration maintains, naming it (names compare without case or padding).
pub fn writable_attribute(name: &str) -> Result<(), ActionError> {
    let normalized = name.trim();
    match INTERNAL_ATTRIBUTES.iter().find(|internal| internal.eq_ignore_ascii_case(normalized)) {
        Some(internal) => Err(ActionError::bad_request(
            &format!("attributes.{name}"),
            format!("{internal} is maintained by the integration; leave it out of attributes"),
        )),
        None => Ok(()),
    }
}

/// Longest Intercom contact id accepted (they are 24 hex digits today).
pub const MAX_CONTACT_ID_CHARS: usize = 64;
/// Longest `userId` (Intercom `external_id`) and customer name accepted.
pub const MAX_USER_ID_CHARS: usize = 255;
pub const MAX_NAME_CHARS: usize = 255;
/// Longest email address (RFC 5321's 254 octets).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest Intercom id made of digits (conversation, admin, team).
pub const MAX_NUMERIC_ID_DIGITS: usize = 20;

/// Picks how to find the customer: contactId, else userId, else userEmail. Every one given must be well-formed,
/// so a mistyped identifier is refused rather than silently passed over for another.
pub fn contact_key(
    contact_id: Option<String>,
    user_id: Option<String>,
    user_email: Option<String>,
) -> Result<ContactKey, ActionError> {
    let contact_id = contact_id
        .map(|id| {
            let id = required_text("contactId", &id, MAX_CONTACT_ID_CHARS)?;
            if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(ActionError::bad_request(
                    "contactId",
                    "contactId must be an Intercom contact id (letters and digits)",
                ));
            }
            Ok(id)
        })
        .transpose()?;
    let user_id = user_id.map(|id| required_text("userId", &id, MAX_USER_ID_CHARS)).transpose()?;
    let user_email = user_email.map(|email| email_address("userEmail", &email)).transpose()?;
    match (contact_id, user_id, user_email) {
        (Some(id), _, _) => Ok(ContactKey::Id(id)),
        (None, Some(id), _) => Ok(ContactKey::ExternalId(id)),
        (None, None, Some(email)) => Ok(ContactKey::Email(email)),
        (None, None, None) => {
            Err(ActionError::bad_request("userEmail", "give the customer as userEmail, userId or contactId"))
        }
    }
}

pub fn email_address(field: &str, raw: &str) -> Result<String, ActionError> {
    let email = raw.trim();
    let valid = email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        return Err(ActionError::bad_request(field, format!("{field} is not a valid email address")));
    }
    Ok(email.to_owned())
}

/// Intercom conversation ids are numeric; the contract declares the path parameter an integer.
pub fn conversation_id(raw: &str) -> Result<String, ActionError> {
    numeric_id("conversationId", raw)
}

pub fn numeric_id(field: &str, raw: &str) -> Result<String, ActionError> {
    let id = raw.trim();
    if id.is_empty() || id.len() > MAX_NUMERIC_ID_DIGITS || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ActionError::bad_request(
            field,
            format!("{field} must be an Intercom id made of digits (for example \"123456789\")"),
        ));
    }
    Ok(id.to_owned())
}

pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, ActionError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ActionError::bad_request(field, format!("{field} must not be empty")));
    }
    if text.chars().count() > max_chars {
        return Err(ActionError::bad_request(field, format!("{field} is longer than {max_chars} characters")));
    }
    Ok(text.to_owned())
}

pub fn optional_text(field: &str, raw: Option<String>, max_chars: usize) -> Result<Option<String>, ActionError> {
    raw.filter(|s| !s.trim().is_empty()).map(|s| required_text(field, &s, max_chars)).transpose()
}

pub fn message_body(field: &str, raw: &str) -> Result<String, ActionError> {
    required_text(field, raw, MAX_MESSAGE_CHARS)
}

/// Most files Intercom attaches to one message (`attachment_urls`, `maxItems: 10`).
pub const MAX_ATTACHMENTS: usize = 10;
/// Fewest and most buttons of a quick reply, and the longest label.
pub const QUICK_REPLY_OPTIONS: std::ops::RangeInclusive<usize> = 2..=10;
pub const MAX_QUICK_REPLY_OPTION_CHARS: usize = 255;

/// Attachment URLs: at most 10, each an absolute `https` URL (Intercom fetches the file; a customer's browser
/// would refuse mixed content).
pub fn attachment_urls(field: &str, raw: Vec<String>) -> Result<Vec<String>, ActionError> {
    if raw.len() > MAX_ATTACHMENTS {
        return Err(ActionError::bad_request(field, format!("{field} holds at most {MAX_ATTACHMENTS} URLs")));
    }
    raw.iter()
        .map(|raw| {
            let shown: String = raw.trim().chars().take(80).collect();
            match url::Url::parse(raw.trim()) {
                Ok(url) if url.scheme() == "https" && url.host().is_some() && raw.len() <= 2048 => Ok(url.to_string()),
                _ => Err(ActionError::bad_request(
                    field,
                    format!(
                        "{field} must be https URLs (for example \"https://example.com/receipt.png\"); {shown:?} is not"
                    ),
                )),
            }
        })
        .collect()
}

/// A quick reply's button labels: 2 to 10, each non-empty, at most 255 characters, no two alike.
pub fn quick_reply_options(field: &str, raw: Vec<String>) -> Result<Vec<String>, ActionError> {
    if !QUICK_REPLY_OPTIONS.contains(&raw.len()) {
        return Err(ActionError::bad_request(
            field,
            format!(
                "{field} needs {} to {} answers, not {}",
                QUICK_REPLY_OPTIONS.start(),
                QUICK_REPLY_OPTIONS.end(),
                raw.len()
            ),
        ));
    }
    let mut options: Vec<String> = Vec::with_capacity(raw.len());
    for option in raw {
        let option = required_text(field, &option, MAX_QUICK_REPLY_OPTION_CHARS)?;
        if options.contains(&option) {
            return Err(ActionError::bad_request(field, format!("{field} lists {option:?} twice")));
        }
        options.push(option);
    }
    Ok(options)
}

/// A JSON number that is a whole number, as an `i64`: JSON Schema's `integer` admits `5.0`, and clients
/// (JavaScript among them) may send one; a fraction or a number out of range is `None`.
pub fn whole_number(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // 2^63 as f64 is exact; anything at or above it does not fit (`as` would saturate silently).
    (f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)).then_some(f as i64)
}

/// serde `deserialize_with` for optional integer fields that accept whole-number floats ([`whole_number`]) and
/// refuse a fraction saying so (the message never quotes the value).
pub mod whole {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    pub fn option_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<serde_json::Number>::deserialize(d)? {
            None => Ok(None),
            Some(n) => super::whole_number(&n).map(Some).ok_or_else(|| {
                D::Error::custom("expected a whole number (an integer), found a fraction or a number out of range")
            }),
        }
    }

    pub fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        match option_i64(d)? {
            None => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| D::Error::custom("expected a whole number between 0 and 4294967295")),
        }
    }
}

/// The validators above as JSON Schema, for the published agent API ([`crate::agent_api`]). Each admits what its
/// validator accepts, written without the padding the validators trim; the drift test checks examples against
/// both.
#[cfg(feature = "schema")]
pub mod schema {
    use schemars::{Schema, json_schema};
    use serde_json::json;

    use super::INTERNAL_ATTRIBUTES;

    /// Something other than whitespace (the validators trim, then refuse what is left empty). Whitespace is what
    /// Rust's `trim` removes: Unicode's White_Space, which is the regex `\s` plus U+0085 (NEL). `\s` alone let
    /// `"\u0085"` through the schema, and the function refused it as blank (found by Schemathesis).
    pub const NOT_BLANK: &str = r"[^\s\u0085]";
    /// No leading or trailing whitespace (for values compared after trimming, such as quick-reply labels).
    pub const TRIMMED: &str = r"^[^\s\u0085]([\s\S]*[^\s\u0085])?$";
    /// An Intercom id made of digits: `MAX_NUMERIC_ID_DIGITS` at most.
    pub const NUMERIC_ID: &str = "^[0-9]{1,20}$";
    /// An Intercom contact id: letters and digits, `MAX_CONTACT_ID_CHARS` at most.
    pub const CONTACT_ID: &str = "^[A-Za-z0-9]{1,64}$";
    /// What [`super::email_address`] accepts, in ASCII (so the 254-octet limit is `maxLength`): one `@`, a
    /// domain with a dot that neither starts nor ends it, no whitespace or control characters.
    pub const EMAIL: &str = r"^[\x21-\x3F\x41-\x7E]+@[\x21-\x2D\x2F-\x3F\x41-\x7E][\x21-\x3F\x41-\x7E]*\.[\x21-\x3F\x41-\x7E]*[\x21-\x2D\x2F-\x3F\x41-\x7E]$";
    /// An absolute https URL with a DNS host (the last label not a number, which would be read as an IPv4
    /// address) and an optional port, path, query and fragment: what [`super::attachment_urls`] accepts.
    pub const HTTPS_URL: &str = r"^https://([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*(:[0-9]{1,4})?([/?#][\x21-\x7E]*)?$";
    /// Longest attachment URL, in bytes (the pattern keeps it ASCII, so characters).
    pub const MAX_URL_BYTES: usize = 2048;
    /// No control characters (a pagination cursor).
    pub const NO_CONTROL: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

    /// The customer is given as contactId, userId or userEmail: at least one of them, not null. When several
    /// are given, contactId wins over userId over userEmail (each must still be well-formed).
    pub fn customer_key(schema: &mut Schema) {
        let branches: Vec<_> = ["contactId", "userId", "userEmail"]
            .into_iter()
            .map(|key| json!({"required": [key], "properties": {key: {"type": "string"}}}))
            .collect();
        schema.insert("anyOf".into(), branches.into());
    }

    /// Custom attributes: at least one; names 1 to 190 characters, not one the integration maintains; values
    /// flat (string of at most 255 characters, number, boolean, or null to clear).
    pub fn custom_attributes(_: &mut schemars::SchemaGenerator) -> Schema {
        let internal: Vec<Schema> =
            INTERNAL_ATTRIBUTES.iter().map(|name| json_schema!({"pattern": any_case(name)})).collect();
        json_schema!({
            "type": "object",
            "minProperties": 1,
            "propertyNames": {
                "minLength": 1,
                "maxLength": super::MAX_ATTRIBUTE_NAME_CHARS,
                "pattern": NOT_BLANK,
                "not": {"anyOf": internal}
            },
            "additionalProperties": {
                "type": ["string", "number", "boolean", "null"],
                "maxLength": super::MAX_ATTRIBUTE_VALUE_CHARS
            }
        })
    }

    /// `^[\s\u0085]*[Aa][Ii]_…[\s\u0085]*$`: the name in any case, with any padding `trim` removes (as
    /// [`super::writable_attribute`] compares).
    fn any_case(name: &str) -> String {
        let letters: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphabetic() {
                    format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                } else {
                    regex_escape(c)
                }
            })
            .collect();
        format!(r"^[\s\u0085]*{letters}[\s\u0085]*$")
    }

    fn regex_escape(c: char) -> String {
        if c.is_ascii_alphanumeric() || c == '_' { c.to_string() } else { format!(r"\x{:02X}", c as u32) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's "not blank" must call blank exactly what `trim` removes. JSON Schema patterns are ECMA-262,
    /// whose `\s` is this set; every character Rust calls whitespace must be in it or named in the pattern.
    #[cfg(feature = "schema")]
    #[test]
    fn the_not_blank_pattern_treats_as_whitespace_everything_trim_removes() {
        const ECMA_WHITESPACE: &[char] = &[
            '\u{9}', '\u{A}', '\u{B}', '\u{C}', '\u{D}', ' ', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}',
            '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{2028}',
            '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}', '\u{FEFF}',
        ];
        let named: Vec<char> = schema::NOT_BLANK
            .split("\\u")
            .skip(1)
            .map(|hex| char::from_u32(u32::from_str_radix(&hex[..4], 16).unwrap()).unwrap())
            .collect();
        let missed: Vec<String> = (0..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace() && !ECMA_WHITESPACE.contains(c) && !named.contains(c))
            .map(|c| format!("U+{:04X}", c as u32))
            .collect();
        assert!(missed.is_empty(), "schema::NOT_BLANK accepts as text what trim() removes: {missed:?}");
        for pattern in [schema::NOT_BLANK, schema::TRIMMED] {
            for c in &named {
                assert!(
                    pattern.contains(&format!("\\u{:04x}", *c as u32)),
                    "{pattern} does not name U+{:04X}",
                    *c as u32
                );
            }
        }
    }

    #[test]
    fn contact_key_prefers_the_most_precise_identifier() {
        assert_eq!(
            contact_key(Some("abc123".into()), Some("u1".into()), None).unwrap(),
            ContactKey::Id("abc123".into())
        );
        assert_eq!(
            contact_key(None, Some(" u1 ".into()), Some("a@b.co".into())).unwrap(),
            ContactKey::ExternalId("u1".into())
        );
        assert_eq!(contact_key(None, None, Some("a@b.co".into())).unwrap(), ContactKey::Email("a@b.co".into()));
        assert!(contact_key(None, None, None).is_err());
        assert!(contact_key(Some("../x".into()), None, None).is_err());
    }

    #[test]
    fn emails_are_checked() {
        for ok in ["jane@example.com", "a.b+c@sub.example.co.uk"] {
            assert!(email_address("userEmail", ok).is_ok(), "{ok}");
        }
        for bad in ["", "jane", "jane@", "@x.com", "jane@localhost", "a b@x.com", "a@b@c.com", "jane@x.com."] {
            assert!(email_address("userEmail", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_integrations_own_attributes_are_not_writable() {
        assert!(INTERNAL_ATTRIBUTES.contains(&crate::actions::escalate::MARKER_ATTRIBUTE));
        for name in ["ai_escalation", " AI_Escalation "] {
            match writable_attribute(name) {
                Err(ActionError::BadRequest { field, message }) => {
                    assert_eq!(field.as_deref(), Some(format!("attributes.{name}").as_str()));
                    assert_eq!(message, "ai_escalation is maintained by the integration; leave it out of attributes");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        for name in
            [crate::actions::escalate::COUNT_ATTRIBUTE, crate::actions::escalate::LAST_SESSION_ATTRIBUTE, "tier"]
        {
            assert_eq!(writable_attribute(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn conversation_ids_are_numeric() {
        assert_eq!(conversation_id(" 123 ").unwrap(), "123");
        for bad in ["", "abc", "12a", "1/2", "123456789012345678901"] {
            assert!(conversation_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attachment_urls_are_https_and_at_most_ten() {
        let ok = attachment_urls("attachmentUrls", vec![" https://example.com/a.png ".into()]).unwrap();
        assert_eq!(ok, ["https://example.com/a.png"]);
        for bad in ["http://example.com/a.png", "javascript:alert(1)", "/a.png", "https://", "not a url"] {
            let err = attachment_urls("attachmentUrls", vec![bad.into()]).unwrap_err();
            assert!(err.to_string().contains("must be https URLs"), "{bad}: {err}");
        }
        let eleven = vec!["https://example.com/a.png".to_owned(); 11];
        assert!(attachment_urls("attachmentUrls", eleven).unwrap_err().to_string().contains("at most 10"));
    }

    #[test]
    fn quick_reply_options_are_two_to_ten_distinct_labels() {
        assert_eq!(quick_reply_options("options", vec![" Yes ".into(), "No".into()]).unwrap(), ["Yes", "No"]);
        for bad in [vec!["Yes".to_owned()], vec!["Yes".into(), " ".into()], vec!["Yes".into(), "Yes".into()]] {
            assert!(quick_reply_options("options", bad.clone()).is_err(), "{bad:?}");
        }
        assert!(quick_reply_options("options", vec!["x".repeat(256), "No".into()]).is_err());
        assert!(quick_reply_options("options", vec!["o".to_owned(); 11]).is_err());
    }
}
