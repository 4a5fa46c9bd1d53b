//! Markdown → the HTML Intercom renders in a reply or note.
//!
//! `pulldown-cmark` reads the Markdown (CommonMark, no extensions); this module writes the HTML itself, from an
//! allow-list: paragraphs, line breaks, bold, italic, links, lists, code and headings. Everything else is shown
//! as the text the agent typed (images, rules), or reduced to its content (block quotes). HTML the agent wrote
//! inside the Markdown goes through the [`Sanitizer`], which keeps allowed elements and shows the rest as text.

use pulldown_cmark::{Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

use super::escape::escape_into;
use super::sanitize::{BLOCK_TAGS, Disallowed, Sanitizer, is_safe_href};

/// Renders Markdown as Intercom HTML. Linear in the input (pulldown-cmark is; so is everything here).
pub(super) fn markdown_to_html(markdown: &str) -> String {
    let mut renderer = Renderer {
        source: markdown,
        out: String::with_capacity(markdown.len() + markdown.len() / 4),
        html: Sanitizer::new(Disallowed::Escape),
        html_block: None,
        links: Vec::new(),
        skipped_images: 0,
    };
    for (event, range) in Parser::new_ext(markdown, Options::empty()).into_offset_iter() {
        renderer.event(event, range);
    }
    renderer.html.close_all(&mut renderer.out);
    renderer.out
}

struct Renderer<'a> {
    source: &'a str,
    out: String,
    /// HTML the agent wrote; its open elements are closed at the end of each Markdown block.
    html: Sanitizer,
    /// The sanitized HTML of the block being read, wrapped in `<p>` at its end unless it is a block already.
    html_block: Option<String>,
    /// For each open link, whether it became an `<a>` (an unsafe target shows only its text).
    links: Vec<bool>,
    /// Depth of the image being shown as text: its inner events are already part of that text.
    skipped_images: usize,
}

impl Renderer<'_> {
    fn event(&mut self, event: Event<'_>, range: std::ops::Range<usize>) {
        if self.skipped_images > 0 {
            match event {
                Event::Start(Tag::Image { .. }) => self.skipped_images += 1,
                Event::End(TagEnd::Image) => self.skipped_images -= 1,
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => escape_into(&text, &mut self.out),
            Event::Code(code) => {
                self.out.push_str("<code>");
                escape_into(&code, &mut self.out);
                self.out.push_str("</code>");
            }
            Event::Html(html) | Event::InlineHtml(html) => match &mut self.html_block {
                Some(block) => self.html.push(&html, block),
                None => self.html.push(&html, &mut self.out),
            },
            // Chat messages keep the lines the model wrote.
            Event::SoftBreak | Event::HardBreak => self.out.push_str("<br>"),
            Event::Rule => {
                self.out.push_str("<p>");
                self.source_text(range);
                self.out.push_str("</p>");
            }
            // Extensions that are not enabled; shown as typed should a future option turn one on.
            Event::FootnoteReference(_) | Event::TaskListMarker(_) | Event::InlineMath(_) | Event::DisplayMath(_) => {
                self.source_text(range)
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: std::ops::Range<usize>) {
        match tag {
            Tag::Paragraph => self.out.push_str("<p>"),
            Tag::Heading { level, .. } => {
                self.out.push_str(heading(level).0);
            }
            Tag::CodeBlock(_) => self.out.push_str("<pre><code>"),
            Tag::HtmlBlock => self.html_block = Some(String::new()),
            Tag::List(Some(_)) => self.out.push_str("<ol>"),
            Tag::List(None) => self.out.push_str("<ul>"),
            Tag::Item => self.out.push_str("<li>"),
            Tag::Emphasis => self.out.push_str("<em>"),
            Tag::Strong => self.out.push_str("<strong>"),
            Tag::Link { link_type, dest_url, .. } => {
                let href = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.trim().to_owned(),
                };
                let safe = is_safe_href(&href);
                if safe {
                    self.out.push_str("<a href=\"");
                    escape_into(&href, &mut self.out);
                    self.out.push_str("\">");
                }
                self.links.push(safe);
            }
            Tag::Image { .. } => {
                self.source_text(range);
                self.skipped_images = 1;
            }
            // Quotes, and extensions that are not enabled: their content only.
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.end_block("</p>"),
            TagEnd::Heading(level) => self.end_block(heading(level).1),
            TagEnd::CodeBlock => {
                // The block's last line ends with a line break that would show as an empty line.
                if self.out.ends_with('\n') {
                    self.out.pop();
                }
                self.out.push_str("</code></pre>");
            }
            TagEnd::HtmlBlock => {
                let mut block = self.html_block.take().unwrap_or_default();
                self.html.close_all(&mut block);
                let block = block.trim();
                if BLOCK_TAGS.iter().any(|tag| block.starts_with(tag)) {
                    self.out.push_str(block);
                } else if !block.is_empty() {
                    self.out.push_str("<p>");
                    self.out.push_str(block);
                    self.out.push_str("</p>");
                }
            }
            TagEnd::List(true) => self.out.push_str("</ol>"),
            TagEnd::List(false) => self.out.push_str("</ul>"),
            TagEnd::Item => self.end_block("</li>"),
            TagEnd::Emphasis => self.out.push_str("</em>"),
            TagEnd::Strong => self.out.push_str("</strong>"),
            TagEnd::Link if self.links.pop() == Some(true) => self.out.push_str("</a>"),
            _ => {}
        }
    }

    /// Closes what the agent's inline HTML left open in this block, then the block.
    fn end_block(&mut self, end_tag: &str) {
        self.html.close_all(&mut self.out);
        self.out.push_str(end_tag);
    }

    /// The Markdown source of an element not on the allow-list, shown as the agent typed it.
    fn source_text(&mut self, range: std::ops::Range<usize>) {
        let text = self.source.get(range).unwrap_or_default().trim();
        escape_into(text, &mut self.out);
    }
}

/// Headings keep three levels (Intercom's editor has no smaller ones).
fn heading(level: HeadingLevel) -> (&'static str, &'static str) {
    match level {
        HeadingLevel::H1 => ("<h1>", "</h1>"),
        HeadingLevel::H2 => ("<h2>", "</h2>"),
        _ => ("<h3>", "</h3>"),
    }
}
