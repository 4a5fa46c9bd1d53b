//! Message bodies: Intercom stores HTML and answers HTML by default, or plain text with
//! `?display_as=plaintext`.

/// What Intercom makes of a body it receives: HTML is kept, plain text becomes one `<p>`
/// per line.
pub fn to_html(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('<') && trimmed.contains('>') {
        return body.to_owned();
    }
    body.split('\n')
        .map(|line| format!("<p>{}</p>", escape(line.trim_end_matches('\r'))))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plain-text rendering of an HTML body: block ends and `<br>` become newlines, other
/// tags are dropped, entities are decoded.
pub fn to_plain(html: &str) -> String {
    const BLOCKS: [&str; 11] = ["p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            push_text(&mut out, &rest[lt..]);
            rest = "";
            break;
        };
        let tag = after[..gt].trim();
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name == "br" || (closing && BLOCKS.contains(&name.as_str())) {
            out.push('\n');
        }
        rest = &after[gt + 1..];
    }
    push_text(&mut out, rest);
    decode_entities(out.trim_end_matches('\n'))
}

fn push_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\r' => {}
            '\n' => {
                // Newlines in HTML source are whitespace; between tags they mean nothing.
                if !out.is_empty() && !out.ends_with('\n') && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_round_trips() {
        let text = "Hi <Jane> & co,\nsee you\n\nbye";
        let html = to_html(text);
        assert_eq!(html, "<p>Hi &lt;Jane&gt; &amp; co,</p>\n<p>see you</p>\n<p></p>\n<p>bye</p>");
        assert_eq!(to_plain(&html), text);
    }

    #[test]
    fn html_is_kept_and_flattened() {
        let html = "<p>Hello <b>there</b></p><p>line<br>two</p>";
        assert_eq!(to_html(html), html);
        assert_eq!(to_plain(html), "Hello there\nline\ntwo");
    }
}
