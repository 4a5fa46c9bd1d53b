//! Formatting of every body the product sends to Intercom, and of what it reads back.
//!
//! Agents write Markdown (or plain text, or HTML: [`BodyFormat`]); Intercom renders admin replies and notes as
//! HTML, so [`to_intercom_html`] turns a body into HTML from a short allow-list that can carry no script, and
//! [`to_customer_text`] gives the plain text Intercom takes for a message written as the customer.
//! [`comparable_text`] reduces what we sent and what Intercom returns to the same text, so a read-back can tell
//! whether a conversation part is the one we posted. Pure code, linear in its input whatever it contains.

mod escape;
mod markdown;
mod sanitize;
pub mod text;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use escape::escape_html;
use escape::escape_into;

/// How the agent wrote a body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum BodyFormat {
    /// CommonMark: `**bold**`, `*italic*`, `[links](https://…)`, lists, `code`, headings; line breaks are kept.
    /// HTML tags Intercom renders (`<b>`, `<a href>`, `<p>`…) may be mixed in; other markup shows as typed.
    #[default]
    Markdown,
    /// Plain text, shown exactly as written: blank lines separate paragraphs.
    Text,
    /// HTML, reduced to the elements Intercom renders; other tags are removed and their text kept.
    Html,
}

impl BodyFormat {
    /// The name used in JSON and in the `BODY_FORMAT` setting.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Markdown => "markdown",
            BodyFormat::Text => "text",
            BodyFormat::Html => "html",
        }
    }
}

impl fmt::Display for BodyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a [`BodyFormat`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown body format {0:?}: expected \"markdown\", \"text\" or \"html\"")]
pub struct ParseBodyFormatError(pub String);

impl FromStr for BodyFormat {
    type Err = ParseBodyFormatError;

    /// Reads a format name, ignoring case and surrounding spaces (`BODY_FORMAT=Markdown` works).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "markdown" => Ok(BodyFormat::Markdown),
            "text" => Ok(BodyFormat::Text),
            "html" => Ok(BodyFormat::Html),
            _ => Err(ParseBodyFormatError(s.to_owned())),
        }
    }
}

/// The HTML to send to Intercom for a reply, a note or the escalation note.
///
/// Only these elements come out: `p`, `br`, `strong`/`b`, `em`/`i`, `a` (with an `http:`, `https:` or
/// `mailto:` `href` and no other attribute), `ul`/`ol`/`li`, `code`, `pre`, `h1`–`h3`. Anything else the agent
/// wrote is shown as text (Markdown, Text) or removed keeping its text (Html), so no script, event handler or
/// `javascript:` link can reach a customer's screen.
pub fn to_intercom_html(body: &str, format: BodyFormat) -> String {
    match format {
        BodyFormat::Markdown => markdown::markdown_to_html(body),
        BodyFormat::Text => text_to_html(body),
        BodyFormat::Html => {
            let mut out = String::with_capacity(body.len());
            let mut sanitizer = sanitize::Sanitizer::new(sanitize::Disallowed::Drop);
            sanitizer.push(body, &mut out);
            sanitizer.close_all(&mut out);
            out.trim().to_owned()
        }
    }
}

/// Readable plain text of a body, for a message Intercom takes as plain text only (`POST /conversations`, a
/// message written as the customer): `**Refund** issued` reads `Refund issued`, a link reads `text (url)`, and
/// line breaks stay.
pub fn to_customer_text(body: &str, format: BodyFormat) -> String {
    match format {
        BodyFormat::Text => body.trim().to_owned(),
        BodyFormat::Markdown | BodyFormat::Html => text::html_to_text(&to_intercom_html(body, format)),
    }
}

/// How many times [`comparable_text`] reads text as HTML again, at most (each pass is linear).
const COMPARABLE_PASSES: usize = 4;

/// One form for what we sent (our HTML) and what Intercom returns (its HTML, or plain text rendered from it),
/// so a read-back can decide "is this the part we posted": tags removed, entities decoded, and every run of
/// whitespace, line break or paragraph break a single space.
///
/// Intercom's plain text of our HTML is our text with its `&lt;b&gt;` decoded to `<b>`; reading that as HTML
/// again would drop the `<b>`. So the text is read as HTML until it stops changing (in practice two passes),
/// and both sides end at the same text.
pub fn comparable_text(html_or_text: &str) -> String {
    let mut current = text::html_to_text(html_or_text);
    for _ in 1..COMPARABLE_PASSES {
        let next = text::html_to_text(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Plain text as HTML: everything escaped, blank lines separate paragraphs, other line breaks are `<br>`.
fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut in_paragraph = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            if in_paragraph {
                out.push_str("</p>");
                in_paragraph = false;
            }
            continue;
        }
        out.push_str(if in_paragraph { "<br>" } else { "<p>" });
        in_paragraph = true;
        escape_into(line, &mut out);
    }
    if in_paragraph {
        out.push_str("</p>");
    }
    out
}

#[cfg(test)]
mod tests;
