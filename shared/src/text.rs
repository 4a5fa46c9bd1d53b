//! Plain text from the HTML that Intercom puts in message bodies.
//!
//! Intercom stores every comment, note and conversation source as HTML (`<p>Hi</p><p>I need <b>help</b></p>`).
//! The agent wants readable text: one line per paragraph, entities decoded, no markdown decoration (`**`),
//! no link footnotes (`[1]`). Links keep their target in parentheses when the visible text is not the URL
//! itself, so "see <a href=…>this page</a>" does not lose where it points.

use html2text::render::{TaggedLine, TextDecorator};

/// Rendering width: wide enough that html2text never wraps a paragraph, so each paragraph stays one line.
const NO_WRAP_WIDTH: usize = 100_000;

/// Inputs above this are converted by the simple tag stripper: html5ever is fast, but a Lambda has no use for
/// laying out megabytes of markup, and the stripper is linear and cannot fail.
const MAX_RENDERED_HTML: usize = 256 * 1024;

/// Deeper markup is converted by the tag stripper: html2text's time (and, for lists and quotes, its indented
/// output) grows with the square of the depth, and no real message nests anywhere near this deep.
const MAX_NESTING: usize = 100;

/// Converts an Intercom HTML body to readable plain text.
///
/// - paragraphs, `<br>`, list items and headings each end a line; blank lines are collapsed;
/// - entities are decoded (`&amp;` → `&`, `&nbsp;` → space);
/// - bold, italic and code are plain text; list items start with `- ` (or `1. ` in ordered lists);
/// - a link reads `text (https://…)`, or just the URL when the text is the URL; non-web targets are dropped;
/// - an image reads `[image: alt]`, or `[image]` without alt text;
/// - the result is trimmed; any input, however broken, gives a string and never a panic.
pub fn html_to_text(html: &str) -> String {
    if html.trim().is_empty() {
        return String::new();
    }
    let renderable = html.len() <= MAX_RENDERED_HTML && !nests_deeper_than(html, MAX_NESTING);
    let rendered = if renderable { render_with_html2text(html) } else { None };
    let raw = rendered.unwrap_or_else(|| strip_tags(html));
    tidy(&raw)
}

/// Renders through html2text with [`ReadableDecorator`]; `None` if html2text reports an error.
fn render_with_html2text(html: &str) -> Option<String> {
    let lines = html2text::config::with_decorator(ReadableDecorator)
        .empty_img_mode(html2text::config::ImageRenderMode::ShowAlways)
        .raw_mode(true)
        .no_link_wrapping()
        .allow_width_overflow()
        .lines_from_read(html.as_bytes(), NO_WRAP_WIDTH)
        .ok()?;
    let mut out = String::with_capacity(html.len());
    for line in &lines {
        push_line(&mut out, line);
        out.push('\n');
    }
    Some(out)
}

/// Writes one rendered line, closing each link run with its target when that adds information.
fn push_line(out: &mut String, line: &TaggedLine<Vec<LinkTarget>>) {
    let mut open_link: Option<(&str, usize)> = None; // (href, start of the link text in `out`)
    for piece in line.tagged_strings() {
        let href = piece.tag.iter().rev().find_map(|t| t.0.as_deref());
        match (open_link, href) {
            (Some((open, _)), Some(now)) if open == now => {}
            _ => {
                if let Some((open, start)) = open_link.take() {
                    close_link(out, open, start);
                }
                if let Some(now) = href {
                    open_link = Some((now, out.len()));
                }
            }
        }
        out.push_str(&piece.s);
    }
    if let Some((open, start)) = open_link {
        close_link(out, open, start);
    }
}

/// Appends ` (href)` after a link's text unless the text already is the address.
fn close_link(out: &mut String, href: &str, start: usize) {
    let text = out.get(start..).unwrap_or_default().trim();
    if text.is_empty() {
        out.push_str(href);
        return;
    }
    if same_address(text, href) {
        return;
    }
    out.push_str(" (");
    out.push_str(href);
    out.push(')');
}

/// True when the visible link text is the target itself, give or take the scheme and a trailing slash.
fn same_address(text: &str, href: &str) -> bool {
    fn bare(s: &str) -> &str {
        let s = s.trim();
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .or_else(|| s.strip_prefix("mailto:"))
            .unwrap_or(s);
        s.strip_suffix('/').unwrap_or(s)
    }
    bare(text).eq_ignore_ascii_case(bare(href))
}

/// Collapses the renderer's output: trailing spaces and non-breaking spaces go, runs of blank lines become a
/// single line break, and the whole is trimmed.
fn tidy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        let line = line.replace('\u{a0}', " ");
        let line = line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out.trim().to_string()
}

/// Annotation carried by rendered text: the target of the link it sits in, if it is a web or mail link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LinkTarget(Option<String>);

/// A decorator that adds no markup: links are annotated (not bracketed), emphasis is dropped, lists get a
/// dash or their number, headings and quotes get no prefix.
#[derive(Debug, Clone, Default)]
struct ReadableDecorator;

impl TextDecorator for ReadableDecorator {
    type Annotation = LinkTarget;

    fn decorate_link_start(&mut self, url: &str) -> (String, Self::Annotation) {
        let url = url.trim();
        let is_web = ["http://", "https://"]
            .iter()
            .any(|scheme| url.len() > scheme.len() && url[..scheme.len()].eq_ignore_ascii_case(scheme));
        let target = is_web.then(|| url.to_string());
        (String::new(), LinkTarget(target))
    }

    fn decorate_link_end(&mut self) -> String {
        String::new()
    }

    fn decorate_em_start(&self) -> (String, Self::Annotation) {
        (String::new(), LinkTarget::default())
    }

    fn decorate_em_end(&self) -> String {
        String::new()
    }

    fn decorate_strong_start(&self) -> (String, Self::Annotation) {
        (String::new(), LinkTarget::default())
    }

    fn decorate_strong_end(&self) -> String {
        String::new()
    }

    fn decorate_strikeout_start(&self) -> (String, Self::Annotation) {
        (String::new(), LinkTarget::default())
    }

    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }

    fn decorate_code_start(&self) -> (String, Self::Annotation) {
        (String::new(), LinkTarget::default())
    }

    fn decorate_code_end(&self) -> String {
        String::new()
    }

    fn decorate_preformat_first(&self) -> Self::Annotation {
        LinkTarget::default()
    }

    fn decorate_preformat_cont(&self) -> Self::Annotation {
        LinkTarget::default()
    }

    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, Self::Annotation) {
        let title = title.trim();
        let text = if title.is_empty() { "[image]".to_string() } else { format!("[image: {title}]") };
        (text, LinkTarget::default())
    }

    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }

    fn quote_prefix(&self) -> String {
        String::new()
    }

    fn unordered_item_prefix(&self) -> String {
        "- ".to_string()
    }

    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }

    fn make_subblock_decorator(&self) -> Self {
        Self
    }

    fn decorate_superscript_start(&self) -> (String, Self::Annotation) {
        (String::new(), LinkTarget::default())
    }

    fn decorate_superscript_end(&self) -> String {
        String::new()
    }

    fn finalise(&mut self, _urls: Vec<String>) -> Vec<TaggedLine<Self::Annotation>> {
        Vec::new()
    }
}

/// Elements that never have content, so never deepen the nesting.
const VOID_ELEMENTS: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];

/// Elements whose end tag is optional in HTML (`<li>a<li>b`): they are not counted, so sloppy markup is not
/// mistaken for deep nesting. Their containers (`ul`, `table`, …) still count.
const OPTIONAL_END_ELEMENTS: [&str; 10] = ["dd", "dt", "li", "option", "p", "tbody", "td", "th", "thead", "tr"];

/// A cheap estimate of how deep the elements nest: opening tags deepen, closing tags return; void,
/// self-closing and optional-end elements do not count.
fn nests_deeper_than(html: &str, limit: usize) -> bool {
    let mut depth: usize = 0;
    for tag in html.split('<').skip(1) {
        let (closing, rest) = match tag.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        // A tag name starts with a letter: "<3" and "a < b" are text.
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let name_len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let lower = rest[..name_len].to_ascii_lowercase();
        let name = lower.as_str();
        let self_closing = rest.split('>').next().unwrap_or_default().ends_with('/');
        if VOID_ELEMENTS.contains(&name) || OPTIONAL_END_ELEMENTS.contains(&name) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing {
            depth += 1;
            if depth > limit {
                return true;
            }
        }
    }
    false
}

/// Last-resort converter: drops tags, breaks lines at block tags, decodes the common entities. Linear, total.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            // An unclosed `<` is text, as browsers treat it.
            out.push_str(&decode_entities(&rest[lt..]));
            rest = "";
            break;
        };
        let tag = after[..gt].trim_start_matches('/').trim();
        let name: String =
            tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "p" | "br"
                | "div"
                | "li"
                | "tr"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "blockquote"
                | "pre"
                | "ul"
                | "ol"
        ) {
            out.push('\n');
        }
        rest = &after[gt + 1..];
    }
    out.push_str(&decode_entities(rest));
    out
}

/// Decodes numeric entities and the named ones Intercom emits; anything else stays as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_become_lines_and_emphasis_is_plain() {
        assert_eq!(html_to_text("<p>Hi</p><p>I need <b>help</b></p>"), "Hi\nI need help");
        assert_eq!(
            html_to_text("<p>Some <strong>bold</strong>, <em>em</em>, <i>i</i> and <code>code</code></p>"),
            "Some bold, em, i and code"
        );
    }

    #[test]
    fn line_breaks_and_blank_paragraphs_collapse() {
        assert_eq!(html_to_text("<p>one<br>two<br/>three</p><p></p><p><br></p><p>four</p>"), "one\ntwo\nthree\nfour");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html_to_text("<p>Fish &amp; chips &lt;3 &quot;now&quot; &#39;ok&#39; &#x263A; a&nbsp;b</p>"),
            "Fish & chips <3 \"now\" 'ok' ☺ a b"
        );
    }

    #[test]
    fn links_keep_their_target_without_footnotes() {
        let text = html_to_text(r#"<p>See <a href="https://example.com/help">this page</a> please</p>"#);
        assert_eq!(text, "See this page (https://example.com/help) please");
        assert!(!text.contains("[1]"));
    }

    #[test]
    fn autolinked_urls_are_not_repeated() {
        assert_eq!(
            html_to_text(r#"<p>Go to <a href="https://example.com/">https://example.com</a></p>"#),
            "Go to https://example.com"
        );
        assert_eq!(
            html_to_text(r#"<p><a href="mailto:jane@example.com">jane@example.com</a></p>"#),
            "jane@example.com"
        );
    }

    #[test]
    fn unsafe_or_relative_link_targets_are_dropped() {
        assert_eq!(
            html_to_text(r#"<p><a href="javascript:alert(1)">click</a> <a href="/x">here</a></p>"#),
            "click here"
        );
    }

    #[test]
    fn images_are_marked() {
        assert_eq!(
            html_to_text(
                r#"<p>Screenshot:</p><div class="intercom-container"><img src="https://downloads.example/x.png"></div>"#
            ),
            "Screenshot:\n[image]"
        );
        assert_eq!(html_to_text(r#"<p><img src="x.png" alt="error dialog"></p>"#), "[image: error dialog]");
    }

    #[test]
    fn lists_headings_and_quotes_read_naturally() {
        assert_eq!(
            html_to_text("<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>"),
            "- one\n- two\n1. first\n2. second"
        );
        assert_eq!(html_to_text("<h2>Title</h2><blockquote>quoted</blockquote>"), "Title\nquoted");
    }

    #[test]
    fn plain_text_passes_through_and_is_trimmed() {
        assert_eq!(html_to_text("  just text  "), "just text");
        assert_eq!(html_to_text(""), "");
        assert_eq!(html_to_text("   \n "), "");
    }

    #[test]
    fn scripts_and_styles_are_not_text() {
        let text = html_to_text("<style>p{color:red}</style><script>alert(1)</script><p>Hello</p>");
        assert_eq!(text, "Hello");
    }

    #[test]
    fn long_paragraphs_are_not_wrapped() {
        let words = "word ".repeat(500);
        let text = html_to_text(&format!("<p>{words}</p>"));
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn odd_inputs_never_panic() {
        let odd = [
            "<",
            ">",
            "<<>>",
            "</p>",
            "<p",
            "<p><p><p>",
            "&",
            "&;",
            "&#;",
            "&#x;",
            "&#xFFFFFFFF;",
            "&#0;",
            "&#55296;",
            "&amp",
            "<a href=",
            "<a href=\"https://x\">",
            "<img>",
            "<img src>",
            "<table><tr><td>a<td>b</table>",
            "<table><tr><td><table><tr><td>x</td></tr></table></td></tr></table>",
            "<pre>  a\n\n  b</pre>",
            "<!-- comment",
            "<![CDATA[x]]>",
            "<?xml version=\"1.0\"?>",
            "\u{0}\u{1}\u{7f}",
            "é<b>ü</b>ß 😀",
            "<ol start=\"-5\"><li>x</li></ol>",
            "<ol start=\"99999999999999999999\"><li>x</li></ol>",
            "<li>orphan</li>",
            "<svg><title>t</title></svg>",
            "<math><mi>x</mi></math>",
            "<p>a</b></i></p>",
            "<a href=\"https://a\"><p>block</p><p>link</p></a>",
            "<sup>1</sup><sub>2</sub>",
            "<s>old</s>",
            "<details><summary>s</summary>d</details>",
            "<br/><br/><br/>",
            "<div><div><div>deep</div></div></div>",
        ];
        for input in odd {
            let _ = html_to_text(input);
        }
        let nested = "<div>".repeat(5_000) + "deep" + &"</div>".repeat(5_000);
        let _ = html_to_text(&nested);
        let nested_lists = "<ul><li>".repeat(300) + "x";
        let _ = html_to_text(&nested_lists);
        // Every single byte value and every two-character window over a markup-heavy alphabet.
        let alphabet: Vec<char> = "<>/&;#xp a=\"'b!-\n\u{a0}é".chars().collect();
        for a in &alphabet {
            for b in &alphabet {
                for c in &alphabet {
                    let _ = html_to_text(&format!("{a}{b}{c}"));
                }
            }
        }
    }

    #[test]
    fn deep_nesting_uses_the_stripper() {
        let lists = "<ul><li>".repeat(5_000) + "bottom";
        assert!(nests_deeper_than(&lists, MAX_NESTING));
        assert_eq!(html_to_text(&lists), "bottom");
        let flat = "<p>a<br>b<img src=x><br/></p>".repeat(1_000);
        assert!(!nests_deeper_than(&flat, MAX_NESTING));
        assert!(!nests_deeper_than("<div/>".repeat(500).as_str(), MAX_NESTING));
        assert!(!nests_deeper_than("a < b and c <3 </>", 0));
        let sloppy = format!("<ul>{}</ul><p>{}", "<li>item".repeat(500), "<p>para".repeat(500));
        assert!(!nests_deeper_than(&sloppy, MAX_NESTING));
        assert_eq!(html_to_text(&sloppy).lines().count(), 1_000);
    }

    #[test]
    fn oversized_input_uses_the_stripper() {
        let body = format!("<p>{}</p><p>end &amp; done</p>", "x".repeat(MAX_RENDERED_HTML));
        let text = html_to_text(&body);
        assert!(text.ends_with("\nend & done"));
    }

    #[test]
    fn stripper_handles_the_basics() {
        assert_eq!(tidy(&strip_tags("<p>Hi</p><p>I need <b>help</b> &amp; more</p>")), "Hi\nI need help & more");
        assert_eq!(tidy(&strip_tags("a < b")), "a < b");
        assert_eq!(decode_entities("&unknown; &amp &#65;"), "&unknown; &amp A");
    }
}
