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

/// Picks how to find the customer: contactId, else userId, else userEmail.
pub fn contact_key(
    contact_id: Option<String>,
    user_id: Option<String>,
    user_email: Option<String>,
) -> Result<ContactKey, ActionError> {
    if let Some(id) = contact_id {
        let id = required_text("contactId", &id, 64)?;
        if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ActionError::bad_request(
                "contactId",
                "contactId must be an Intercom contact id (letters and digits)",
            ));
        }
        return Ok(ContactKey::Id(id));
    }
    if let Some(id) = user_id {
        return Ok(ContactKey::ExternalId(required_text("userId", &id, 255)?));
    }
    if let Some(email) = user_email {
        return Ok(ContactKey::Email(email_address("userEmail", &email)?));
    }
    Err(ActionError::bad_request("userEmail", "give the customer as userEmail, userId or contactId"))
}

pub fn email_address(field: &str, raw: &str) -> Result<String, ActionError> {
    let email = raw.trim();
    let valid = email.len() <= 254
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
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(INTERNAL_ATTRIBUTES.contains(&crate::escalation::flow::MARKER_ATTRIBUTE));
        for name in ["ai_escalation", " AI_Escalation "] {
            match writable_attribute(name) {
                Err(ActionError::BadRequest { field, message }) => {
                    assert_eq!(field.as_deref(), Some(format!("attributes.{name}").as_str()));
                    assert_eq!(message, "ai_escalation is maintained by the integration; leave it out of attributes");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        for name in [crate::escalation::flow::COUNT_ATTRIBUTE, crate::escalation::flow::LAST_SESSION_ATTRIBUTE, "tier"]
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
