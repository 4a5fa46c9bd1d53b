//! Help centers, articles (public and internal) and article search answers.

use serde_json::{Value, json};

use crate::html;
use crate::state::{Article, ArticleHit, HelpCenter, State};

/// `help_center`.
fn help_center(state: &State, h: &HelpCenter) -> Value {
    json!({
        "id": h.id,
        "workspace_id": state.workspace_id,
        "created_at": h.created_at,
        "updated_at": h.created_at,
        "identifier": h.identifier,
        "website_turned_on": true,
        "display_name": h.display_name,
        "url": h.url,
        "custom_domain": Value::Null,
        "default": true,
        "locales": ["en"],
    })
}

/// `help_center_list`.
pub fn help_center_list(state: &State) -> Value {
    let data: Vec<Value> = state.help_centers.iter().map(|h| help_center(state, h)).collect();
    json!({ "type": "list", "data": data })
}

/// `article` (and `article_list_item`, which is the same without `statistics`).
pub fn article(state: &State, a: &Article) -> Value {
    let author: i64 = a.author_id;
    json!({
        "type": "article",
        "id": a.id,
        "workspace_id": state.workspace_id,
        "title": a.title,
        "description": a.description,
        "body": a.body,
        "body_markdown": Value::Null,
        "author_id": author,
        "state": a.state.as_str(),
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "has_unpublished_changes": false,
        "draft_updated_at": Value::Null,
        "url": state.article_url(a),
        "parent_ids": [],
        "ai_chatbot_availability": true,
        "ai_copilot_availability": true,
        "ai_sales_agent_availability": false,
        "created_by_id": author,
        "updated_by_id": author,
        "exclude_from_article_suggestions": false,
        "help_center_audience": "everyone",
        "scheduled_publish_at": Value::Null,
        "scheduled_unpublish_at": Value::Null,
        "default_locale": a.locale,
        "translated_content": Value::Null,
        "tags": { "type": "tag.list", "tags": [] },
        "statistics": Value::Null,
    })
}

fn one_page(total: usize) -> Value {
    json!({ "type": "pages", "page": 1, "per_page": total.max(1), "total_pages": 1 })
}

/// `article_list` (`GET /articles`): every public article, drafts included, on one page.
pub fn article_list(state: &State) -> Value {
    let data: Vec<Value> = state.articles.iter().filter(|a| !a.internal).map(|a| article(state, a)).collect();
    json!({ "type": "list", "pages": one_page(data.len()), "total_count": data.len(), "data": data })
}

/// `article_search_response`: `data.articles` best match first; `data.highlights` (when asked) marks the
/// matched words in each title and in the text's sentences that have one.
pub fn article_search(state: &State, hits: &[ArticleHit<'_>], highlight: bool) -> Value {
    let articles: Vec<Value> = hits.iter().map(|h| article(state, h.article)).collect();
    let highlights: Vec<Value> = if highlight {
        hits.iter()
            .map(|h| {
                let text = format!("{} {}", h.article.description, html::to_plain(&h.article.body));
                let summary: Vec<Value> = text
                    .split_inclusive(['.', '\n'])
                    .map(str::trim)
                    .filter(|sentence| {
                        let lower = sentence.to_lowercase();
                        h.words.iter().any(|w| lower.contains(w.as_str()))
                    })
                    .map(|sentence| marked(sentence, &h.words))
                    .collect();
                json!({
                    "article_id": h.article.id,
                    "highlighted_title": marked(&h.article.title, &h.words),
                    "highlighted_summary": summary,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "type": "list",
        "total_count": hits.len(),
        "data": { "articles": articles, "highlights": highlights },
        "pages": one_page(hits.len()),
    })
}

/// `text` as `[{type: plain|highlight, text}]`, each occurrence of one of `words` (case-insensitive) a
/// `highlight`.
fn marked(text: &str, words: &[String]) -> Value {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        // Lower-casing changed byte offsets (rare non-ASCII letters): no highlight rather than a wrong one.
        return json!([{ "type": "plain", "text": text }]);
    }
    let mut segments = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while at < text.len() {
        let found = words.iter().find(|w| {
            lower.is_char_boundary(at) && lower[at..].starts_with(w.as_str()) && text.is_char_boundary(at + w.len())
        });
        match found {
            Some(word) => {
                if plain_from < at {
                    segments.push(json!({ "type": "plain", "text": &text[plain_from..at] }));
                }
                segments.push(json!({ "type": "highlight", "text": &text[at..at + word.len()] }));
                at += word.len();
                plain_from = at;
            }
            None => at += text[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if plain_from < text.len() {
        segments.push(json!({ "type": "plain", "text": &text[plain_from..] }));
    }
    Value::Array(segments)
}

/// `internal_article` (= `internal_article_list_item`).
pub fn internal_article(a: &Article) -> Value {
    json!({
        "type": "internal_article",
        "id": a.id,
        "title": a.title,
        "body": a.body,
        "body_markdown": Value::Null,
        "owner_id": a.author_id,
        "author_id": a.author_id,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "locale": a.locale,
        "audience_ids": Value::Null,
        "ai_chatbot_availability": true,
        "ai_copilot_availability": true,
        "ai_sales_agent_availability": false,
    })
}

/// `internal_article_list` (`GET /internal_articles`).
pub fn internal_article_list(state: &State) -> Value {
    let data: Vec<Value> = state.articles.iter().filter(|a| a.internal).map(internal_article).collect();
    json!({ "type": "list", "pages": one_page(data.len()), "total_count": data.len(), "data": data })
}

/// `internal_article_search_response`.
pub fn internal_article_search(found: &[&Article]) -> Value {
    let data: Vec<Value> = found.iter().map(|a| internal_article(a)).collect();
    json!({
        "type": "list",
        "total_count": data.len(),
        "data": { "internal_articles": data },
        "pages": one_page(found.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_mark_each_matched_word() {
        let words = vec!["refund".to_owned()];
        assert_eq!(
            marked("Refund policy: refunds", &words),
            json!([
                {"type": "highlight", "text": "Refund"},
                {"type": "plain", "text": " policy: "},
                {"type": "highlight", "text": "refund"},
                {"type": "plain", "text": "s"}
            ])
        );
    }
}
