//! The internal note a hand-off leaves for the human: why the AI handed over, and the conversation so far.
//! Everything the customer or the agent wrote is escaped ([`crate::format::escape_html`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::{Decision, Reason};
use crate::format::escape_html as escape;

/// A transcript line is cut to this many characters in the note.
const MAX_LINE_CHARS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Ai,
}

/// One transcript line as the note shows it (the request's line, borrowed).
#[derive(Debug, Clone, Copy)]
pub struct NoteLine<'a> {
    pub role: Role,
    /// When it was said, as the agent gave it: text or a number is shown, anything else is not.
    pub at: Option<&'a Value>,
    pub text: &'a str,
}

/// The internal note: why the AI handed over, and the conversation so far.
pub fn note_html(
    session_id: &str,
    decision: &Decision,
    confidence: f64,
    category: Option<&str>,
    transcript: &[NoteLine<'_>],
) -> String {
    let reasons: Vec<String> = decision
        .reasons
        .iter()
        .map(|r| match r {
            Reason::LowConfidence => format!("low confidence ({confidence:.2})"),
            Reason::HumanRequested => "the customer asked for a human".to_owned(),
            Reason::SensitiveCategory(c) => format!("sensitive category: {c}"),
        })
        .collect();
    let mut html = format!(
        "<p><b>AI escalation</b> (session {})</p><p>Reasons: {}</p><p>AI confidence: {confidence:.2}{}</p>",
        escape(session_id),
        escape(&reasons.join("; ")),
        category.map(|c| format!(" · category: {}", escape(c))).unwrap_or_default(),
    );
    if !transcript.is_empty() {
        html.push_str("<p><b>Transcript</b></p>");
        for line in transcript {
            let who = match line.role {
                Role::Customer => "Customer",
                Role::Ai => "AI",
            };
            let at = match line.at {
                Some(Value::String(s)) => format!(" ({})", escape(s)),
                Some(Value::Number(n)) => format!(" ({n})"),
                _ => String::new(),
            };
            let text: String = line.text.trim().chars().take(MAX_LINE_CHARS).collect();
            html.push_str(&format!("<p>{who}{at}: {}</p>", escape(&text)));
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_escapes_what_the_customer_wrote() {
        let decision = Decision {
            escalate: true,
            reasons: vec![Reason::LowConfidence, Reason::SensitiveCategory("billing".into())],
        };
        let at = Value::from("10:00");
        let lines = vec![NoteLine { role: Role::Customer, text: "<script>x</script> & co", at: Some(&at) }];
        let html = note_html("s1", &decision, 0.3, Some("billing"), &lines);
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt; &amp; co"));
        assert!(html.contains("low confidence (0.30); sensitive category: billing"));
        assert!(html.contains("Customer (10:00): "));
    }
}
