//! The allow-list every body we send to Intercom passes: raw HTML an agent wrote (inside Markdown, or a whole
//! HTML body) keeps only the elements Intercom renders in a reply, with no attributes but a web or mail `href`.
//!
//! It reads markup with the same single-pass tokenizer as [`super::text::html_to_text`]: no DOM, linear in the
//! input whatever it contains, never fails.

use super::escape::escape_into;
use super::text::{BLOCK_ELEMENTS, HIDDEN_ELEMENTS, decode_entities, parse_attributes, skip_past_end_tag};

/// What happens to markup that is not on the allow-list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Disallowed {
    /// Shown as text: in Markdown the writer typed it, so the reader sees what was typed.
    Escape,
    /// Removed, keeping the text inside (script-like elements go with their content); block elements such as
    /// `<div>` still end a line.
    Drop,
}

/// Elements deeper than this are dropped, so finding the element a closing tag closes is constant-time.
const MAX_OPEN: usize = 32;

/// The elements kept, by the name they are written with (`h4`–`h6` become `h3`).
fn allowed(name: &str) -> Option<&'static str> {
    Some(match name {
        "p" => "p",
        "br" => "br",
        "strong" => "strong",
        "b" => "b",
        "em" => "em",
        "i" => "i",
        "a" => "a",
        "ul" => "ul",
        "ol" => "ol",
        "li" => "li",
        "code" => "code",
        "pre" => "pre",
        "h1" => "h1",
        "h2" => "h2",
        "h3" | "h4" | "h5" | "h6" => "h3",
        _ => return None,
    })
}

/// Elements that start a block of their own, so an HTML fragment starting with one needs no `<p>` around it.
pub(super) const BLOCK_TAGS: [&str; 7] = ["<p>", "<ul>", "<ol>", "<pre>", "<h1>", "<h2>", "<h3>"];

/// A link target a customer can safely follow: `http:`, `https:` or `mailto:`, with no control characters.
pub(super) fn is_safe_href(href: &str) -> bool {
    let href = href.trim();
    let has_scheme = ["http://", "https://", "mailto:"].iter().any(|scheme| {
        href.len() > scheme.len() && href.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    });
    has_scheme && !href.chars().any(char::is_control)
}

/// Sanitizes HTML, a whole body or fragment after fragment, into `out`.
pub(super) struct Sanitizer {
    policy: Disallowed,
    /// Allowed elements opened by the input and not yet closed (at most [`MAX_OPEN`]).
    open: Vec<&'static str>,
    /// Whether `out` is at the start of a line (nothing written yet, or a block or break just written).
    line_start: bool,
}

impl Sanitizer {
    pub(super) fn new(policy: Disallowed) -> Self {
        Sanitizer { policy, open: Vec::new(), line_start: true }
    }

    /// Appends the sanitized form of `html` to `out`.
    pub(super) fn push(&mut self, html: &str, out: &mut String) {
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            self.text(&rest[..lt], out);
            rest = self.markup(&rest[lt..], out);
        }
        self.text(rest, out);
    }

    /// Closes the elements the input left open, innermost first.
    pub(super) fn close_all(&mut self, out: &mut String) {
        while let Some(name) = self.open.pop() {
            push_end_tag(name, out);
        }
    }

    /// Text between tags: entities decoded, then escaped again, so every `<` and `&` in the output is ours.
    fn text(&mut self, raw: &str, out: &mut String) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        if !decoded.trim().is_empty() {
            self.line_start = false;
        }
        escape_into(&decoded, out);
    }

    /// Markup the policy refuses: shown as typed, or gone.
    fn refuse(&mut self, raw: &str, out: &mut String) {
        if self.policy == Disallowed::Escape {
            self.line_start = false;
            escape_into(raw, out);
        }
    }

    /// Handles the markup at the start of `rest` (which starts with `<`) and returns what follows it. Every
    /// search here consumes what it scans (or the rest of the input), which keeps the whole pass linear.
    fn markup<'a>(&mut self, rest: &'a str, out: &mut String) -> &'a str {
        let after = &rest[1..];
        if let Some(end) = hidden_end(rest, after) {
            return match end {
                Some(end) => &rest[end..],
                None => {
                    self.refuse(rest, out);
                    ""
                }
            };
        }
        let (closing, tag) = match after.strip_prefix('/') {
            Some(tag) => (true, tag),
            None => (false, after),
        };
        // "a < b", "<3" and a lone "<" are text; so is "</ x>", shown as typed or dropped up to its `>`.
        if !tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            if closing && self.policy == Disallowed::Drop {
                return tag.find('>').map_or("", |end| &tag[end + 1..]);
            }
            self.text(&rest[..1], out);
            return after;
        }
        let name_len = tag.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
        let name = tag[..name_len].to_ascii_lowercase();
        let (attributes, after_tag) = parse_attributes(&tag[name_len..]);
        let raw = &rest[..rest.len() - after_tag.len()];
        if !raw.ends_with('>') {
            // Unterminated: the rest of the input is inside the tag.
            self.refuse(raw, out);
            return after_tag;
        }
        match (allowed(&name), closing) {
            (Some("br"), _) => {
                out.push_str("<br>");
                self.line_start = true;
            }
            (Some(name), false) => self.open_element(name, attributes.href.as_deref(), out),
            (Some(name), true) => self.close_element(name, out),
            (None, _) => return self.disallowed_element(&name, closing, raw, after_tag, out),
        }
        after_tag
    }

    /// An allowed element's start tag: written without attributes but a safe `href` on a link.
    fn open_element(&mut self, name: &'static str, href: Option<&str>, out: &mut String) {
        let href = href.map(str::trim).filter(|href| is_safe_href(href));
        if self.open.len() >= MAX_OPEN || (name == "a" && href.is_none()) {
            // Too deep, or a link to nowhere safe: its text stays, the element goes.
            return;
        }
        self.open.push(name);
        match href {
            Some(href) if name == "a" => {
                out.push_str("<a href=\"");
                escape_into(href, out);
                out.push_str("\">");
            }
            _ => {
                out.push('<');
                out.push_str(name);
                out.push('>');
            }
        }
        self.line_start = name != "a" && !is_inline(name);
    }

    /// An allowed element's end tag closes the innermost open element of its name and any opened inside it; one
    /// with nothing to close is noise and goes.
    fn close_element(&mut self, name: &'static str, out: &mut String) {
        if let Some(at) = self.open.iter().rposition(|open| *open == name) {
            for inner in self.open.drain(at..).rev() {
                push_end_tag(inner, out);
            }
            self.line_start = !is_inline(name);
        }
    }

    /// A tag off the allow-list (`raw`, ending where `after_tag` starts): shown as typed, or dropped (a script-like
    /// element with its content, a block element leaving a line break).
    fn disallowed_element<'a>(
        &mut self,
        name: &str,
        closing: bool,
        raw: &str,
        after_tag: &'a str,
        out: &mut String,
    ) -> &'a str {
        match self.policy {
            Disallowed::Escape => self.refuse(raw, out),
            Disallowed::Drop if !closing && HIDDEN_ELEMENTS.contains(&name) => {
                return skip_past_end_tag(after_tag, name);
            }
            Disallowed::Drop => {
                if BLOCK_ELEMENTS.contains(&name) && !self.line_start {
                    out.push_str("<br>");
                    self.line_start = true;
                }
            }
        }
        after_tag
    }
}

/// Where the comment, doctype or processing instruction at the start of `rest` ends (`None` inside: it is
/// unterminated); `None` when `rest` starts with none of them. `after` is `rest` without its `<`.
fn hidden_end(rest: &str, after: &str) -> Option<Option<usize>> {
    if let Some(comment) = after.strip_prefix("!--") {
        Some(comment.find("-->").map(|end| rest.len() - comment.len() + end + 3))
    } else if after.starts_with(['!', '?']) {
        Some(after.find('>').map(|end| end + 2))
    } else {
        None
    }
}

fn is_inline(name: &str) -> bool {
    matches!(name, "a" | "b" | "strong" | "i" | "em" | "code")
}

fn push_end_tag(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanitize(policy: Disallowed, html: &str) -> String {
        let mut out = String::new();
        let mut sanitizer = Sanitizer::new(policy);
        sanitizer.push(html, &mut out);
        sanitizer.close_all(&mut out);
        out
    }

    #[test]
    fn allowed_elements_lose_every_attribute_but_a_safe_href() {
        for policy in [Disallowed::Escape, Disallowed::Drop] {
            assert_eq!(sanitize(policy, r#"<P onclick="alert(1)" class=x>Hi</P>"#), "<p>Hi</p>");
            assert_eq!(
                sanitize(policy, r#"<a href="https://x.example/?a=1&amp;b=2" onmouseover="x()">go</a>"#),
                r#"<a href="https://x.example/?a=1&amp;b=2">go</a>"#
            );
            assert_eq!(sanitize(policy, r#"<a href="MAILTO:jane@example.com">mail</a>"#), {
                r#"<a href="MAILTO:jane@example.com">mail</a>"#
            });
            assert_eq!(sanitize(policy, "<h5>Small</h5><br/>"), "<h3>Small</h3><br>");
        }
    }

    #[test]
    fn links_to_unsafe_targets_keep_only_their_text() {
        for href in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "javascript&#58;alert(1)", "data:text/html,x", "/x"]
        {
            let html = format!(r#"<a href="{href}">click</a>"#);
            assert_eq!(sanitize(Disallowed::Escape, &html), "click", "{href}");
            assert_eq!(sanitize(Disallowed::Drop, &html), "click", "{href}");
        }
        assert_eq!(sanitize(Disallowed::Drop, "<a href=\"https://x.example/\u{1}\">x</a>"), "x");
    }

    #[test]
    fn escape_policy_shows_refused_markup_as_typed() {
        assert_eq!(sanitize(Disallowed::Escape, "<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(sanitize(Disallowed::Escape, "<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(sanitize(Disallowed::Escape, "a <b and more"), "a &lt;b and more");
        assert_eq!(sanitize(Disallowed::Escape, "x < y & z <!-- note --> <!-- open"), "x &lt; y &amp; z  &lt;!-- open");
    }

    #[test]
    fn drop_policy_removes_refused_markup_and_keeps_lines() {
        assert_eq!(sanitize(Disallowed::Drop, "<style>p{}</style><script>alert(1)</script>Hi"), "Hi");
        assert_eq!(sanitize(Disallowed::Drop, "<div>one</div><div>two</div>"), "one<br>two<br>");
        assert_eq!(sanitize(Disallowed::Drop, "<p><span>a</span> <img src=x onerror=alert(1)></p>"), "<p>a </p>");
        assert_eq!(sanitize(Disallowed::Drop, "x </ y> z"), "x  z");
    }

    #[test]
    fn closing_tags_keep_the_output_balanced() {
        assert_eq!(
            sanitize(Disallowed::Drop, "<p><b>bold<i>both</p>after</b></i>"),
            "<p><b>bold<i>both</i></b></p>after"
        );
        assert_eq!(sanitize(Disallowed::Drop, "<ul><li>a<li>b</ul>"), "<ul><li>a<li>b</li></li></ul>");
        assert_eq!(sanitize(Disallowed::Escape, "</p></b>text<b>open"), "text<b>open</b>");
    }

    #[test]
    fn nesting_is_bounded_and_hostile_runs_stay_linear() {
        let deep = sanitize(Disallowed::Drop, &"<b>".repeat(10_000));
        assert_eq!(deep, "<b>".repeat(MAX_OPEN) + &"</b>".repeat(MAX_OPEN));
        for unit in ["<", "</", "<!", "<!--", "<?", "<a", "<a href=\"", "<script>", "</b>", "&", "<b>", "<p x='>"] {
            for policy in [Disallowed::Escape, Disallowed::Drop] {
                let out = sanitize(policy, &unit.repeat(50_000));
                assert!(out.len() <= 6 * unit.len() * 50_000, "{unit:?} {policy:?}: {} bytes", out.len());
            }
        }
    }
}
