//! What customers read: every body an action sends is formatted (Markdown by default) into the HTML Intercom
//! renders, new conversations get plain text, quick replies and attachments reach Intercom in the contract's
//! shape, and nothing an agent writes can put a script or a `javascript:` link on a customer's screen.

use fake_intercom::Fault;
use integration_tests::Stack;
use serde_json::{Value, json};
use shared::actions;

async fn open_conversation(stack: &Stack) -> String {
    let c = &stack.client;
    let (status, body) = stack
        .call(json!({"userEmail":"jane@example.com","body":"Where is my parcel?"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 200, "{body}");
    body["conversationId"].as_str().unwrap().to_owned()
}

async fn reply(stack: &Stack, request: Value) -> Value {
    let c = &stack.client;
    let (status, body) = stack.call(request, |i| actions::reply_to_conversation(c, i)).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The JSON bodies of the replies sent to Intercom, in order.
fn sent_replies(stack: &Stack) -> Vec<Value> {
    stack.handle().requests_to("POST", "/conversations/*/reply").into_iter().filter_map(|r| r.body).collect()
}

const MARKDOWN: &str = "Your **refund** is on its way:\n\n- order 1042\n- [track it](https://example.com/t/1042)";
const MARKDOWN_HTML: &str = "<p>Your <strong>refund</strong> is on its way:</p><ul><li>order 1042</li><li><a \
                             href=\"https://example.com/t/1042\">track it</a></li></ul>";
const TEXT: &str = "Use <b> for bold & \"quotes\"\nsecond line\n\nnew paragraph";
const TEXT_HTML: &str = "<p>Use &lt;b&gt; for bold &amp; &quot;quotes&quot;<br>second line</p><p>new paragraph</p>";
const HTML: &str = "<p onclick=\"steal()\">Hi <script>alert(1)</script><b>there</b> <a href=\"https://example.com\" \
                    target=\"_blank\">docs</a></p>";
const HTML_HTML: &str = "<p>Hi <b>there</b> <a href=\"https://example.com\">docs</a></p>";

#[tokio::test]
async fn markdown_text_and_html_bodies_are_sent_as_this_exact_html() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    stack.handle().clear_requests();
    reply(&stack, json!({"conversationId": id, "body": MARKDOWN})).await;
    reply(&stack, json!({"conversationId": id, "body": TEXT, "bodyFormat": "text"})).await;
    reply(&stack, json!({"conversationId": id, "body": HTML, "bodyFormat": "html", "messageType": "note"})).await;
    let bodies: Vec<Value> = sent_replies(&stack).iter().map(|r| r["body"].clone()).collect();
    assert_eq!(bodies, [MARKDOWN_HTML, TEXT_HTML, HTML_HTML]);
    // What Intercom keeps is what was sent: the customer sees formatted text, not asterisks or tags as text.
    let conversation = stack.handle().conversation(&id).unwrap();
    let stored: Vec<&str> = conversation.parts.iter().rev().take(3).rev().filter_map(|p| p.body.as_deref()).collect();
    assert_eq!(stored, [MARKDOWN_HTML, TEXT_HTML, HTML_HTML]);
}

#[tokio::test]
async fn a_javascript_link_never_reaches_the_customer() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    stack.handle().clear_requests();
    let markdown = "[click me](javascript:alert(1)) or <a href=\"javascript:alert(2)\">this</a>";
    let answer = reply(&stack, json!({"conversationId": id, "body": markdown})).await;
    reply(
        &stack,
        json!({"conversationId": id, "body": "<a href=\"JavaScript:alert(3)\">that</a>", "bodyFormat": "html"}),
    )
    .await;
    let bodies: Vec<String> = sent_replies(&stack).iter().map(|r| r["body"].as_str().unwrap().to_owned()).collect();
    assert_eq!(bodies, ["<p>click me or this</p>", "that"]);
    // The customer still reads the words, as text.
    let c = &stack.client;
    let (_, history) = stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)).await;
    let part_id = answer["partId"].as_str().unwrap();
    let message = history["messages"].as_array().unwrap().iter().find(|m| m["id"] == part_id).unwrap();
    assert_eq!(message["text"], "click me or this", "{history}");
}

#[tokio::test]
async fn create_conversation_sends_plain_text_from_markdown() {
    let stack = Stack::direct().await;
    stack.handle().clear_requests();
    let c = &stack.client;
    let (status, body) = stack
        .call(
            json!({"userEmail": "jane@example.com", "body": "**Refund** please, see [invoice 1](https://example.com/i/1)"}),
            |i| actions::create_conversation(c, stack.store.as_ref(), i),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = stack.handle().requests_to("POST", "/conversations");
    let sent: Vec<&Value> = sent.iter().filter_map(|r| r.body.as_ref()).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["body"], "Refund please, see invoice 1 (https://example.com/i/1)");
}

#[tokio::test]
async fn a_quick_reply_posts_the_question_then_the_buttons() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    stack.handle().clear_requests();
    let answer = reply(
        &stack,
        json!({"conversationId": id, "body": "Did that **fix** it?", "options": ["Yes", "No, still broken"]}),
    )
    .await;
    let sent = sent_replies(&stack);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0]["message_type"], "comment");
    assert_eq!(sent[0]["body"], "<p>Did that <strong>fix</strong> it?</p>");
    assert_eq!(sent[1]["message_type"], "quick_reply");
    assert!(sent[1].get("body").is_none(), "the contract's quick reply has no body: {}", sent[1]);
    let options = answer["options"].as_array().unwrap();
    assert_eq!(options.iter().map(|o| o["text"].as_str().unwrap()).collect::<Vec<_>>(), ["Yes", "No, still broken"]);
    assert_eq!(sent[1]["reply_options"][0]["uuid"], options[0]["optionId"]);
    assert_ne!(options[0]["optionId"], options[1]["optionId"]);
    let conversation = stack.handle().conversation(&id).unwrap();
    let quick = conversation.parts.last().unwrap();
    assert_eq!(quick.part_type, "quick_reply");
    assert_eq!(answer["partId"], quick.id.as_str());
    assert_eq!(quick.quick_reply_options[1].uuid, options[1]["optionId"].as_str().unwrap());
}

#[tokio::test]
async fn a_quick_reply_whose_answers_are_lost_is_recognised_by_its_options() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.clear_requests();
    // Both posts (the question, then the buttons) are applied, and both answers are lost.
    fake.inject(Fault::process_then_fail(504, "POST", "/conversations/*/reply").times(2));
    let answer =
        reply(&stack, json!({"conversationId": id, "body": "Shall I refund it?", "options": ["Yes", "No"]})).await;
    assert_eq!(fake.requests_to("POST", "/conversations/*/reply").len(), 2, "read back, not resent");
    let conversation = fake.conversation(&id).unwrap();
    let quick: Vec<_> = conversation.parts.iter().filter(|p| p.part_type == "quick_reply").collect();
    assert_eq!(quick.len(), 1);
    let questions = conversation.parts.iter().filter(|p| p.body.as_deref() == Some("<p>Shall I refund it?</p>"));
    assert_eq!(questions.count(), 1);
    let ids: Vec<&str> =
        answer["options"].as_array().unwrap().iter().map(|o| o["optionId"].as_str().unwrap()).collect();
    assert_eq!(ids, quick[0].quick_reply_options.iter().map(|o| o.uuid.as_str()).collect::<Vec<_>>());
}

#[tokio::test]
async fn attachments_and_options_are_checked_before_intercom() {
    let stack = Stack::direct().await;
    stack.handle().clear_requests();
    let c = &stack.client;
    for (request, field) in [
        (json!({"conversationId": "1", "body": "x", "attachmentUrls": ["http://example.com/a.png"]}), "attachmentUrls"),
        (json!({"conversationId": "1", "body": "x", "attachmentUrls": ["javascript:alert(1)"]}), "attachmentUrls"),
        (json!({"conversationId": "1", "body": "x", "options": ["Only one"]}), "options"),
        (json!({"conversationId": "1", "body": "x", "options": ["Yes", "No"], "messageType": "note"}), "options"),
        (json!({"conversationId": "1", "body": "x", "bodyFormat": "rtf"}), "bodyFormat"),
    ] {
        let (status, body) = stack.call(request.clone(), |i| actions::reply_to_conversation(c, i)).await;
        assert_eq!((status, body["error"]["field"].as_str()), (400, Some(field)), "{request}: {body}");
    }
    assert!(stack.handle().requests().is_empty());
}

/// Through Intercom's contract (Prism): formatted replies and notes, attachments and a quick reply.
#[tokio::test]
async fn formatted_replies_quick_replies_and_attachments_keep_the_contract() {
    let Some(stack) = Stack::through_prism().await else { return };
    let id = open_conversation(&stack).await;
    stack.handle().clear_requests();
    reply(
        &stack,
        json!({"conversationId": id, "body": MARKDOWN, "attachmentUrls": ["https://example.com/receipt.png"]}),
    )
    .await;
    reply(
        &stack,
        json!({"conversationId": id, "body": TEXT, "bodyFormat": "text", "messageType": "note",
        "attachmentUrls": ["https://example.com/log.txt", "https://example.com/screen.png"]}),
    )
    .await;
    let answer = reply(&stack, json!({"conversationId": id, "body": "Fixed?", "options": ["Yes", "No"]})).await;
    if !stack.contract_violations().is_empty() {
        eprintln!("{}", stack.prism.as_ref().map(|p| p.log()).unwrap_or_default());
    }
    let violations = stack.contract_violations();
    assert!(violations.is_empty(), "Prism found contract violations:\n{}", violations.join("\n"));

    let sent = sent_replies(&stack);
    assert_eq!(sent[0]["body"], MARKDOWN_HTML);
    assert_eq!(sent[0]["attachment_urls"], json!(["https://example.com/receipt.png"]));
    assert_eq!(sent[1]["body"], TEXT_HTML);
    assert_eq!(sent[1]["message_type"], "note");
    let conversation = stack.handle().conversation(&id).unwrap();
    let note = conversation.parts.iter().find(|p| p.part_type == "note").unwrap();
    let names: Vec<&str> = note.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["log.txt", "screen.png"]);
    assert_eq!(answer["options"].as_array().map(Vec::len), Some(2), "{answer}");
    assert_eq!(conversation.parts.last().map(|p| p.part_type.as_str()), Some("quick_reply"));
}
