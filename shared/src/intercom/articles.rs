//! Knowledge: the help center's articles (`GET /articles/search`) and the workspace's internal articles.
//!
//! 2.16's `GET /internal_articles/search` takes no phrase (only `folder_id`), so internal articles are found with
//! the Knowledge Hub search, `GET /content/search?query=…&content_types=internal_article`, whose hits carry only
//! `{type, id, title}`; each body is then read with `GET /internal_articles/{id}`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::client::IntercomClient;
use super::contacts::segment;
use super::error::IntercomError;
use super::models::{null_as_default, opt_string_id, string_id};

/// What to search the help center for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleQuery {
    pub phrase: String,
    /// Only this help center's articles (an id made of digits).
    pub help_center_id: Option<String>,
}

impl ArticleQuery {
    /// The query string: published articles only, with Intercom's highlights of what matched.
    pub fn query_pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![("phrase", self.phrase.as_str()), ("state", "published"), ("highlight", "true")];
        if let Some(id) = &self.help_center_id {
            pairs.push(("help_center_id", id.as_str()));
        }
        pairs
    }
}

/// `article_search_response`: the articles in Intercom's order, and what matched in each.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ArticleSearch {
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: ArticleSearchData,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ArticleSearchData {
    #[serde(default, deserialize_with = "null_as_default")]
    pub articles: Vec<Article>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub highlights: Vec<Highlight>,
}

impl ArticleSearch {
    /// The highlight Intercom gave for an article, if any.
    pub fn highlight_of(&self, article_id: &str) -> Option<&Highlight> {
        self.data.highlights.iter().find(|h| h.article_id.as_deref() == Some(article_id))
    }
}

/// A help-center article (`article`): the default language's content, and the others in `translated_content`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Article {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// HTML.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Only on multilingual help centers.
    #[serde(default)]
    pub default_locale: Option<String>,
    /// Locale code → content (`type` is not a locale); read with [`Article::translation`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub translated_content: Map<String, Value>,
}

/// `article_content`: one language of an article.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ArticleContent {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

impl Article {
    /// The article in `locale` (compared without case: `pt-br` finds `pt-BR`), with the locale as Intercom
    /// spells it; `None` when it has no such translation or it is empty.
    pub fn translation(&self, locale: &str) -> Option<(String, ArticleContent)> {
        let (key, value) =
            self.translated_content.iter().find(|(key, _)| *key != "type" && key.eq_ignore_ascii_case(locale))?;
        let content: ArticleContent = serde_json::from_value(value.clone()).ok()?;
        let has_text = content.title.as_deref().is_some_and(|t| !t.trim().is_empty())
            || content.body.as_deref().is_some_and(|b| !b.trim().is_empty());
        has_text.then(|| (key.clone(), content))
    }
}

/// `article_search_highlights`: the title and summary split into plain and highlighted runs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Highlight {
    #[serde(default, deserialize_with = "opt_string_id")]
    pub article_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub highlighted_title: Vec<HighlightRun>,
    /// Fragments of the description and body, each a list of runs.
    #[serde(default, deserialize_with = "null_as_default")]
    pub highlighted_summary: Vec<Vec<HighlightRun>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HighlightRun {
    /// `highlight` or `plain`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

impl HighlightRun {
    pub fn is_highlight(&self) -> bool {
        self.kind.as_deref() == Some("highlight")
    }
}

/// A Knowledge Hub search hit (`content_search_result`): `{type, id, title}` for internal articles.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContentHit {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ContentSearch {
    #[serde(default, deserialize_with = "null_as_default")]
    data: Vec<ContentHit>,
}

/// An internal article (`internal_article`): knowledge for teammates and the AI, never shown to customers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InternalArticle {
    #[serde(deserialize_with = "string_id")]
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    /// HTML.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

/// The Knowledge Hub's largest page.
pub const MAX_CONTENT_PAGE: u32 = 50;

impl IntercomClient {
    /// Published help-center articles matching the phrase, with highlights (`GET /articles/search`).
    pub async fn search_articles(&self, query: &ArticleQuery) -> Result<ArticleSearch, IntercomError> {
        self.get("articles/search", &query.query_pairs()).await
    }

    /// Internal articles matching the phrase, best first (`GET /content/search`, internal articles only).
    pub async fn search_internal_articles(
        &self,
        phrase: &str,
        per_page: u32,
    ) -> Result<Vec<ContentHit>, IntercomError> {
        let per_page = per_page.clamp(1, MAX_CONTENT_PAGE).to_string();
        let query = [("query", phrase), ("content_types", "internal_article"), ("per_page", per_page.as_str())];
        let found: ContentSearch = self.get("content/search", &query).await?;
        Ok(found.data.into_iter().filter(|hit| hit.kind.as_deref().is_none_or(|k| k == "internal_article")).collect())
    }

    /// One internal article with its body (`GET /internal_articles/{id}`).
    pub async fn get_internal_article(&self, id: &str) -> Result<InternalArticle, IntercomError> {
        self.get(&format!("internal_articles/{}", segment(id)), &[]).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_query_asks_for_published_articles_with_highlights() {
        let query = ArticleQuery { phrase: "refund policy".into(), help_center_id: None };
        assert_eq!(query.query_pairs(), [("phrase", "refund policy"), ("state", "published"), ("highlight", "true")]);
        let scoped = ArticleQuery { help_center_id: Some("123".into()), ..query };
        assert_eq!(scoped.query_pairs().last(), Some(&("help_center_id", "123")));
    }

    #[test]
    fn the_contracts_search_answer_decodes() {
        // `GET /articles/search`, 200, as the 2.16 contract's example writes it (a null url, an empty body).
        let found: ArticleSearch = serde_json::from_value(json!({
            "type": "list", "total_count": 1,
            "data": {"articles": [{"id": "55", "type": "article", "workspace_id": "this_is_an_id92_that_should_be_at_least_4",
                                   "parent_ids": [], "tags": {"type": "tag.list", "tags": []}, "title": "Title 1",
                                   "description": "", "body": "", "author_id": 991267521, "state": "draft",
                                   "created_at": 1734537306, "updated_at": 1734537306, "url": null}],
                     "highlights": []},
            "pages": {"type": "pages", "page": 1, "total_pages": 1, "per_page": 10}
        }))
        .unwrap();
        let article = &found.data.articles[0];
        assert_eq!(
            (article.id.as_str(), article.title.as_deref(), article.url.as_deref()),
            ("55", Some("Title 1"), None)
        );
        assert_eq!(article.updated_at, Some(1734537306));
        assert!(article.translated_content.is_empty());
        assert_eq!(found.highlight_of("55"), None);
    }

    #[test]
    fn highlights_and_translations_are_read_by_article_and_locale() {
        let found: ArticleSearch = serde_json::from_value(json!({
            "data": {
                "articles": [{"id": 7, "title": "Refunds", "default_locale": "en",
                              "translated_content": {"type": "article_translated_content",
                                  "fr": {"type": "article_content", "title": "Remboursements", "body": "<p>Sous 14 jours</p>",
                                         "url": "https://help.example.com/fr/articles/7", "updated_at": 9},
                                  "de": null,
                                  "pt-BR": {"title": "", "body": " "}}}],
                "highlights": [{"article_id": "7",
                                "highlighted_title": [{"type": "highlight", "text": "Refunds"}],
                                "highlighted_summary": [[{"type": "plain", "text": "Ask for a "},
                                                         {"type": "highlight", "text": "refund"}]]}]
            }
        }))
        .unwrap();
        let highlight = found.highlight_of("7").unwrap();
        assert!(highlight.highlighted_summary[0][1].is_highlight());
        let article = &found.data.articles[0];
        let (locale, french) = article.translation("FR").unwrap();
        assert_eq!(
            (locale.as_str(), french.title.as_deref(), french.updated_at),
            ("fr", Some("Remboursements"), Some(9))
        );
        assert_eq!(article.translation("de"), None, "null content is no translation");
        assert_eq!(article.translation("pt-br"), None, "blank content is no translation");
        assert_eq!(article.translation("type"), None);
    }

    #[test]
    fn the_contracts_knowledge_hub_and_internal_article_answers_decode() {
        // `GET /content/search`, 200: flat hits for most types, a nested one for help-center articles.
        let found: ContentSearch = serde_json::from_value(json!({
            "type": "list", "total_count": 5,
            "pages": {"type": "pages", "page": 1, "per_page": 10, "total_pages": 1, "next": null, "prev": null},
            "data": [{"type": "content_snippet", "id": "123", "title": "Billing FAQ"},
                     {"type": "internal_article", "id": "012", "title": "Internal SOP: Refunds"},
                     {"type": "article", "id": "345", "title": "Billing FAQ",
                      "contents": [{"type": "article_content", "id": "678", "title": "Billing FAQ", "locale": "en"}]}]
        }))
        .unwrap();
        assert_eq!(found.data.len(), 3);
        assert_eq!((found.data[1].id.as_str(), found.data[1].title.as_deref()), ("012", Some("Internal SOP: Refunds")));
        // `GET /internal_articles/{id}`, 200: the example has no title.
        let article: InternalArticle = serde_json::from_value(json!({
            "id": "45", "body": "Body of the Article", "owner_id": 991266252, "author_id": 991266252, "locale": "en"
        }))
        .unwrap();
        assert_eq!((article.id.as_str(), article.title, article.locale.as_deref()), ("45", None, Some("en")));
    }

    #[tokio::test]
    async fn the_client_asks_for_what_the_contract_names() {
        use crate::intercom::stub_server::client_answering;
        let (client, seen) = client_answering(Box::new(|request| {
            if request.target.starts_with("/content/search") {
                (
                    200,
                    json!({"type": "list", "data": [{"type": "internal_article", "id": "12", "title": "SOP"},
                                                       {"type": "content_snippet", "id": "9", "title": "Other"}]}),
                )
            } else {
                (200, json!({"id": "12", "title": "SOP", "body": "<p>x</p>"}))
            }
        }))
        .await;
        let query = ArticleQuery { phrase: "refund & return".into(), help_center_id: Some("7".into()) };
        client.search_articles(&query).await.unwrap();
        let hits = client.search_internal_articles("refund & return", 99).await.unwrap();
        assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["12"], "only internal articles");
        client.get_internal_article("12").await.unwrap();
        let targets: Vec<String> = seen.lock().unwrap().iter().map(|s| format!("{} {}", s.method, s.target)).collect();
        assert_eq!(
            targets,
            [
                "GET /articles/search?phrase=refund+%26+return&state=published&highlight=true&help_center_id=7",
                "GET /content/search?query=refund+%26+return&content_types=internal_article&per_page=50",
                "GET /internal_articles/12",
            ]
        );
    }
}
