//! Plain text from the HTML that Intercom puts in message bodies.
//!
//! Intercom stores every comment, note and conversation source as HTML (`<p>Hi</p><p>I need <b>help</b></p>`).
//! The agent wants readable text: one line per paragraph, entities decoded, no markdown decoration (`**`),
//! no link footnotes (`[1]`). Links keep their target in parentheses when the visible text is not the URL
//! itself, so "see <a href=…>this page</a>" does not lose where it points.
//!
//! The converter is a single pass over the markup, written for the HTML Intercom's editors produce (paragraphs,
//! breaks, emphasis, links, lists, images, code): no DOM is built, so its time and memory are linear in the
//! input, whatever it contains, and it cannot fail. (A full HTML5 parser was used before; its entity and atom
//! tables alone were half of each binary's start-up relocations, for no difference on these bodies.)

/// Converts an Intercom HTML body to readable plain text.
///
/// - paragraphs, `<br>`, list items, headings and other blocks each end a line; blank lines are collapsed;
/// - whitespace collapses as a browser shows it, except inside `<pre>`;
/// - entities are decoded (`&amp;` → `&`, `&nbsp;` → space, numeric references);
/// - bold, italic and code are plain text; list items start with `- ` (or `1. ` in ordered lists), nested lists
///   are indented by two spaces per level;
/// - a link reads `text (https://…)`, or just the URL when the text is the URL; non-web targets are dropped;
/// - an image reads `[image: alt]`, or `[image]` without alt text;
/// - scripts, styles and comments are not text;
/// - the result is trimmed; any input, however broken, gives a string and never a panic.
pub fn html_to_text(html: &str) -> String {
    if html.trim().is_empty() {
        return String::new();
    }
    let mut renderer = Renderer::default();
    renderer.render(html);
    tidy(&renderer.finish())
}

/// Elements that start and end a line of their own.
pub(super) const BLOCK_ELEMENTS: [&str; 38] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tr",
    "ul",
];

/// Elements whose content is never shown as text.
pub(super) const HIDDEN_ELEMENTS: [&str; 6] = ["head", "noscript", "script", "style", "template", "title"];

/// List nesting deeper than this is not indented further.
const MAX_INDENT_LEVELS: usize = 8;

#[derive(Debug)]
enum List {
    Unordered,
    Ordered { next: i64 },
}

#[derive(Default)]
struct Renderer {
    out: String,
    /// Collapsed whitespace owed before the next text on this line.
    space: bool,
    /// What the next text on a fresh line starts with: a list item's marker.
    marker: Option<String>,
    lists: Vec<List>,
    /// The open link: its web target (if any) and where its text starts in `out`.
    link: Option<(Option<String>, usize)>,
    /// Depth of `<pre>` elements: whitespace is kept inside.
    pre: usize,
}

/// The attributes the renderer and the sanitizer use; all others are skipped.
#[derive(Default)]
pub(super) struct Attributes {
    pub(super) href: Option<String>,
    pub(super) alt: Option<String>,
    pub(super) start: Option<String>,
}

impl Renderer {
    fn render(&mut self, html: &str) {
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            self.text(&rest[..lt]);
            rest = self.markup(&rest[lt..]);
        }
        self.text(rest);
    }

    fn finish(mut self) -> String {
        self.close_link();
        self.out
    }

    /// Handles the markup at the start of `rest` (which starts with `<`) and returns what follows it.
    fn markup<'a>(&mut self, rest: &'a str) -> &'a str {
        let after = &rest[1..];
        if let Some(comment) = after.strip_prefix("!--") {
            return comment.find("-->").map_or("", |end| &comment[end + 3..]);
        }
        if after.starts_with(['!', '?']) {
            return after.find('>').map_or("", |end| &after[end + 1..]);
        }
        let (closing, tag) = match after.strip_prefix('/') {
            Some(tag) => (true, tag),
            None => (false, after),
        };
        // A tag name starts with a letter: "<3", "a < b" and a lone "<" are text, as browsers show them;
        // "</>" and "</ x>" are dropped.
        if !tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            if closing {
                return tag.find('>').map_or("", |end| &tag[end + 1..]);
            }
            self.text("<");
            return after;
        }
        let name_len = tag.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
        let name = tag[..name_len].to_ascii_lowercase();
        let (attributes, rest) = parse_attributes(&tag[name_len..]);
        if closing {
            self.end_tag(&name);
            rest
        } else if HIDDEN_ELEMENTS.contains(&name.as_str()) {
            skip_past_end_tag(rest, &name)
        } else {
            self.start_tag(&name, attributes);
            rest
        }
    }

    fn start_tag(&mut self, name: &str, attributes: Attributes) {
        match name {
            "br" => self.hard_break(),
            "a" => {
                self.close_link();
                let target = attributes.href.as_deref().map(str::trim).filter(|href| is_web(href));
                self.link = Some((target.map(str::to_owned), self.out.len()));
            }
            "img" => {
                let alt = attributes.alt.as_deref().map(str::trim).unwrap_or_default();
                let text = if alt.is_empty() { "[image]".to_owned() } else { format!("[image: {alt}]") };
                self.emit(&text);
            }
            "ul" => {
                self.line_break();
                self.lists.push(List::Unordered);
            }
            "ol" => {
                self.line_break();
                let next = attributes.start.and_then(|s| s.trim().parse().ok()).unwrap_or(1);
                self.lists.push(List::Ordered { next });
            }
            "li" => {
                self.line_break();
                let depth = self.lists.len().clamp(1, MAX_INDENT_LEVELS);
                let indent = "  ".repeat(depth - 1);
                self.marker = Some(match self.lists.last_mut() {
                    Some(List::Ordered { next }) => {
                        let n = *next;
                        *next = next.saturating_add(1);
                        format!("{indent}{n}. ")
                    }
                    _ => format!("{indent}- "),
                });
            }
            "pre" => {
                self.line_break();
                self.pre += 1;
            }
            "td" | "th" => self.space = true,
            _ if BLOCK_ELEMENTS.contains(&name) => self.line_break(),
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "a" => self.close_link(),
            "ul" | "ol" => {
                self.lists.pop();
                self.marker = None;
                self.line_break();
            }
            "li" => {
                self.marker = None;
                self.line_break();
            }
            "pre" => {
                self.pre = self.pre.saturating_sub(1);
                self.line_break();
            }
            "br" => self.hard_break(),
            "td" | "th" => self.space = true,
            _ if BLOCK_ELEMENTS.contains(&name) => self.line_break(),
            _ => {}
        }
    }

    /// Text between tags: entities decoded, whitespace collapsed (kept inside `<pre>`).
    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        if self.pre > 0 {
            for (i, line) in decoded.split('\n').enumerate() {
                if i > 0 {
                    self.hard_break();
                }
                let line = line.trim_end_matches('\r');
                if !line.is_empty() {
                    self.start_text();
                    self.out.push_str(line);
                }
            }
            return;
        }
        for word in decoded.split(|c: char| c.is_ascii_whitespace()) {
            if word.is_empty() {
                self.space = true;
            } else {
                self.emit(word);
                self.space = true;
            }
        }
        // `split` yields a final piece after the last separator: only trailing whitespace sets `space`.
        self.space = decoded.ends_with(|c: char| c.is_ascii_whitespace());
    }

    /// Inline text with no whitespace to collapse: preceded by the owed space or the line's list marker.
    fn emit(&mut self, text: &str) {
        self.start_text();
        self.out.push_str(text);
        self.space = false;
    }

    fn start_text(&mut self) {
        if self.at_line_start() {
            if let Some(marker) = self.marker.take() {
                self.out.push_str(&marker);
            }
        } else if self.space {
            self.out.push(' ');
        }
        self.space = false;
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    /// Ends the current line, if anything is on it.
    fn line_break(&mut self) {
        if !self.at_line_start() {
            self.out.push('\n');
        }
        self.space = false;
    }

    /// `<br>`: always a new line (blank lines are collapsed at the end).
    fn hard_break(&mut self) {
        self.out.push('\n');
        self.space = false;
    }

    /// Ends the open link: ` (href)` after its text unless the text already is the address, or just the
    /// address when the link has no text.
    fn close_link(&mut self) {
        let Some((target, start)) = self.link.take() else { return };
        let Some(href) = target else { return };
        let text = self.out.get(start..).unwrap_or_default().trim();
        if text.is_empty() {
            self.emit(&href);
        } else if !same_address(text, &href) {
            self.space = true;
            self.emit(&format!("({href})"));
        }
    }
}

/// An absolute http(s) address: the only link targets worth showing (not `javascript:`, relative paths, …).
fn is_web(href: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        href.len() > scheme.len() && href.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    })
}

/// Reads a tag's attributes up to its closing `>` (quotes may contain `>`); returns them and what follows
/// the tag. An unterminated tag swallows the rest of the input, as in a browser.
pub(super) fn parse_attributes(mut rest: &str) -> (Attributes, &str) {
    let mut attributes = Attributes::default();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        let Some(first) = rest.chars().next() else { return (attributes, "") };
        if first == '>' {
            return (attributes, &rest[1..]);
        }
        let name_len =
            rest.find(|c: char| c.is_ascii_whitespace() || matches!(c, '=' | '>' | '/')).unwrap_or(rest.len());
        // A stray quote or similar as a "name" still advances by at least one character.
        let name_len = name_len.max(first.len_utf8());
        let name = rest[..name_len].to_ascii_lowercase();
        rest = rest[name_len..].trim_start_matches(|c: char| c.is_ascii_whitespace());
        let mut value = None;
        if let Some(after_eq) = rest.strip_prefix('=') {
            let after_eq = after_eq.trim_start_matches(|c: char| c.is_ascii_whitespace());
            let (raw, after) = match after_eq.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let inner = &after_eq[1..];
                    match inner.find(quote) {
                        Some(end) => (&inner[..end], &inner[end + 1..]),
                        None => (inner, ""),
                    }
                }
                _ => {
                    let end = after_eq.find(|c: char| c.is_ascii_whitespace() || c == '>').unwrap_or(after_eq.len());
                    (&after_eq[..end], &after_eq[end..])
                }
            };
            value = Some(decode_entities(raw));
            rest = after;
        }
        match name.as_str() {
            "href" => attributes.href = value,
            "alt" => attributes.alt = value,
            "start" => attributes.start = value,
            _ => {}
        }
    }
}

/// What follows `</name ...>` (ASCII case-insensitive), or nothing when the element is never closed.
pub(super) fn skip_past_end_tag<'a>(rest: &'a str, name: &str) -> &'a str {
    let bytes = rest.as_bytes();
    let mut from = 0;
    while let Some(offset) = rest[from..].find("</") {
        let at = from + offset + 2;
        let candidate = bytes.get(at..at + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) {
            let after = &rest[at + name.len()..];
            return after.find('>').map_or("", |end| &after[end + 1..]);
        }
        from = at;
    }
    ""
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

/// Decodes numeric entities and the named ones Intercom emits; anything else stays as written.
pub(super) fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // Only the next few bytes can hold an entity's `;`: looking further would make a run of `&` quadratic.
        let decoded = after
            .bytes()
            .take(11)
            .position(|b| b == b';')
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
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "pound" => '£',
        "bull" => '•',
        "middot" => '·',
        "times" => '×',
        "laquo" => '«',
        "raquo" => '»',
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
    fn deep_and_sloppy_nesting_is_linear() {
        let lists = "<ul><li>".repeat(5_000) + "bottom";
        assert_eq!(html_to_text(&lists), "- bottom");
        let divs = "<div>".repeat(5_000) + "deep" + &"</div>".repeat(5_000);
        assert_eq!(html_to_text(&divs), "deep");
        let sloppy = format!("<ul>{}</ul><p>{}", "<li>item".repeat(500), "<p>para".repeat(500));
        assert_eq!(html_to_text(&sloppy).lines().count(), 1_000);
        let body = format!("<p>{}</p><p>end &amp; done</p>", "x".repeat(1 << 20));
        assert!(html_to_text(&body).ends_with("x\nend & done"));
        // Markup-like runs that a careless scanner would rescan for every character.
        for unit in ["&", "<", "<a", "<a ", "</", "<!--", "<x y=\"", "&#"] {
            let text = html_to_text(&unit.repeat(200_000));
            assert!(text.len() <= unit.len() * 200_000);
        }
        assert_eq!(html_to_text(&format!("<script>{}", "</".repeat(200_000))), "");
    }

    #[test]
    fn nested_lists_are_indented_and_ordered_lists_count_from_start() {
        assert_eq!(
            html_to_text("<ul><li>a<ul><li>a1</li><li>a2</li></ul></li><li>b</li></ul>"),
            "- a\n  - a1\n  - a2\n- b"
        );
        assert_eq!(html_to_text(r#"<ol start="3"><li><p>three</p></li><li>four</li></ol>"#), "3. three\n4. four");
        assert_eq!(html_to_text("<li>orphan</li>"), "- orphan");
    }

    #[test]
    fn preformatted_text_keeps_its_lines_and_spaces() {
        assert_eq!(
            html_to_text("<p>Run:</p><pre>cargo  build\n  --release</pre><p>done</p>"),
            "Run:\ncargo  build\n  --release\ndone"
        );
    }

    #[test]
    fn markup_details_browsers_tolerate() {
        assert_eq!(
            html_to_text(r#"<P CLASS="x">Upper</P><A HREF='https://a.example/?q=1>2'>go</A>"#),
            "Upper\ngo (https://a.example/?q=1>2)"
        );
        assert_eq!(html_to_text("a<!-- hidden <p>x</p> -->b<!DOCTYPE html><?php x ?>c"), "abc");
        assert_eq!(
            html_to_text("<a>no target</a> and <a href=\"https://x.example\"></a>"),
            "no target and https://x.example"
        );
        assert_eq!(
            html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>"),
            "a b\nc d"
        );
        assert_eq!(html_to_text("x < y and 2<3 </> </ p>z"), "x < y and 2<3 z");
        assert_eq!(html_to_text("<p>a&amp;b &copy; 2026 &unknown;</p>"), "a&b © 2026 &unknown;");
        assert_eq!(html_to_text("<STYLE>p{}</STYLE ><p>shown</p><script>never closed"), "shown");
    }

    #[test]
    fn entity_decoder_keeps_what_it_does_not_know() {
        assert_eq!(decode_entities("&unknown; &amp &#65;"), "&unknown; &amp A");
    }
}
