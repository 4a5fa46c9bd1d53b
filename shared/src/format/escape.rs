//! HTML escaping, below every writer of HTML here (the Markdown renderer, the sanitizer, plain text, the
//! escalation note).

/// Appends `text` with the characters that mean something in HTML text or attribute values escaped.
pub fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

/// `text` with the characters that mean something in HTML text or attribute values escaped.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}
