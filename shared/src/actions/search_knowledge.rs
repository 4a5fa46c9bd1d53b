//! `search-knowledge`: what the company's own help center (and its internal articles, knowledge for the AI only)
//! says about a phrase, as plain text the AI can ground an answer in.
//!
//! Rounds: the help-center search and the internal-article search in parallel; then the bodies of the internal
//! articles that made the answer (their search hits carry titles only). A workspace without internal articles, or
//! a token without the `read_content` scope they need, answers with the help center alone
//! (`internalSearched: false`).

use futures::future::join_all;
use serde::{Deserialize, Serialize};

use crate::helpdesk::Helpdesk;
use crate::http::ActionError;
use crate::intercom::articles::{Article, Highlight};
use crate::intercom::{ArticleQuery, ArticleSearch, ContentHit, IntercomError, InternalArticle};
use crate::text::html_to_text;
use crate::validate::{numeric_id, required_text};

pub const DEFAULT_LIMIT: u32 = 5;
pub const MAX_LIMIT: u32 = 10;
pub const MAX_PHRASE_CHARS: usize = 255;
/// Characters of an article's text in `excerpt`, and of the passage in `matched`.
pub const EXCERPT_CHARS: usize = 500;
pub const MATCHED_CHARS: usize = 300;
/// A locale code as Intercom writes them (`en`, `fr`, `pt-BR`, `zh-TW`).
#[cfg(feature = "schema")]
const LANGUAGE: &str = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?$";

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchKnowledgeRequest {
    /// What to look for, in the customer's words or a short question ("refund after 30 days").
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = MAX_PHRASE_CHARS), regex(pattern = crate::validate::schema::NOT_BLANK)))]
    pub phrase: String,
    /// Articles to return, 1 to 10 (default 5).
    #[serde(default, deserialize_with = "crate::validate::whole::option_u32")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = MAX_LIMIT)))]
    pub limit: Option<u32>,
    /// Only this help center's articles (workspaces with several help centers).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::validate::schema::NUMERIC_ID)))]
    pub help_center_id: Option<String>,
    /// Read articles in this language when they have it (`fr`, `pt-BR`); each answer says its `language`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = LANGUAGE)))]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeResults {
    /// Best first: the help center's and the internal articles taken in turn. Empty when nothing matches.
    pub articles: Vec<KnowledgeArticle>,
    /// False when the workspace's internal articles could not be searched (none, or the access token lacks the
    /// `read_content` scope): the answer holds help-center articles only.
    pub internal_searched: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeArticle {
    pub id: String,
    /// `public` (a help-center article: cite its `url` to the customer) or `internal` (for the AI only: never
    /// quote or link it to the customer).
    pub source: KnowledgeSource,
    pub title: String,
    /// The public article's address; null for internal articles (and unpublished help centers).
    pub url: Option<String>,
    /// The start of the article as plain text (500 characters at most).
    pub excerpt: String,
    /// The passage that matched the phrase, as plain text; null when none was found.
    pub matched: Option<String>,
    /// Unix seconds.
    pub updated_at: Option<i64>,
    /// The language of this text (`en`, `fr`…), when Intercom says.
    pub language: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum KnowledgeSource {
    Public,
    Internal,
}

/// A validated request.
struct Search {
    phrase: String,
    limit: usize,
    help_center_id: Option<String>,
    language: Option<String>,
}

pub async fn search_knowledge<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    request: SearchKnowledgeRequest,
) -> Result<KnowledgeResults, ActionError> {
    let search = validated(request)?;
    let query = ArticleQuery { phrase: search.phrase.clone(), help_center_id: search.help_center_id.clone() };
    let (public, internal) = tokio::join!(
        helpdesk.search_articles(&query),
        helpdesk.search_internal_articles(&search.phrase, search.limit as u32),
    );
    let mut public = public?;
    // `state=published` asks Intercom for published articles only; a draft that slips through is not cited.
    public.data.articles.retain(|a| a.state.as_deref() != Some("draft"));
    let (internal, internal_searched) = match internal {
        Ok(hits) => (hits, true),
        Err(e) if internal_unavailable(&e) => {
            tracing::info!(error = %e, "internal articles could not be searched; answering from the help center");
            (Vec::new(), false)
        }
        Err(e) => return Err(e.into()),
    };
    let picked = interleave(public.data.articles.len(), internal.len(), search.limit);
    let bodies = internal_bodies(helpdesk, &internal, &picked).await?;
    let articles = picked
        .into_iter()
        .filter_map(|pick| match pick {
            Pick::Public(i) => Some(public_article(&public, &public.data.articles[i], &search)),
            Pick::Internal(i) => bodies[i].as_ref().map(|body| internal_article(&internal[i], body, &search.phrase)),
        })
        .collect();
    Ok(KnowledgeResults { articles, internal_searched })
}

fn validated(request: SearchKnowledgeRequest) -> Result<Search, ActionError> {
    let phrase = required_text("phrase", &request.phrase, MAX_PHRASE_CHARS)?;
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ActionError::bad_request("limit", format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let help_center_id = request.help_center_id.map(|id| numeric_id("helpCenterId", &id)).transpose()?;
    let language = request.language.map(|l| language("language", &l)).transpose()?;
    Ok(Search { phrase, limit: limit as usize, help_center_id, language })
}

/// A locale code: two or three letters, optionally a region or script (`pt-BR`, `zh-Hant`).
fn language(field: &str, raw: &str) -> Result<String, ActionError> {
    let code = raw.trim();
    let valid = match code.split_once('-') {
        None => (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphabetic()),
        Some((lang, region)) => {
            (2..=3).contains(&lang.len())
                && lang.bytes().all(|b| b.is_ascii_alphabetic())
                && (2..=4).contains(&region.len())
                && region.bytes().all(|b| b.is_ascii_alphanumeric())
        }
    };
    if !valid {
        return Err(ActionError::bad_request(
            field,
            format!("{field} must be a locale code such as \"en\" or \"pt-BR\""),
        ));
    }
    Ok(code.to_owned())
}

/// The Knowledge Hub search is not available to this workspace or token: answer without internal articles.
fn internal_unavailable(e: &IntercomError) -> bool {
    matches!(e, IntercomError::Unauthorized { .. } | IntercomError::Api { status: 401 | 403 | 404, .. })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Public(usize),
    Internal(usize),
}

/// The help center's and the internal results taken in turn (each list best first), `limit` in all.
fn interleave(public: usize, internal: usize, limit: usize) -> Vec<Pick> {
    let longest = public.max(internal);
    (0..longest)
        .flat_map(|i| {
            let p = (i < public).then_some(Pick::Public(i));
            let n = (i < internal).then_some(Pick::Internal(i));
            p.into_iter().chain(n)
        })
        .take(limit)
        .collect()
}

/// The bodies of the internal articles picked, read in parallel; one deleted since the search is `None`.
async fn internal_bodies<H: Helpdesk + ?Sized>(
    helpdesk: &H,
    hits: &[ContentHit],
    picked: &[Pick],
) -> Result<Vec<Option<InternalArticle>>, ActionError> {
    let wanted: Vec<usize> =
        picked.iter().filter_map(|p| if let Pick::Internal(i) = p { Some(*i) } else { None }).collect();
    let reads = join_all(wanted.iter().map(|i| helpdesk.get_internal_article(&hits[*i].id))).await;
    let mut bodies = vec![None; hits.len()];
    for (i, read) in wanted.into_iter().zip(reads) {
        bodies[i] = match read {
            Ok(article) => Some(article),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
    }
    Ok(bodies)
}

fn public_article(found: &ArticleSearch, article: &Article, search: &Search) -> KnowledgeArticle {
    let translation = search.language.as_deref().and_then(|l| article.translation(l));
    let (title, body, description, url, updated_at, language, highlight) = match translation {
        // Intercom's highlights are of the default language: a translation is matched here.
        Some((locale, content)) => {
            (content.title, content.body, content.description, content.url, content.updated_at, Some(locale), None)
        }
        None => (
            article.title.clone(),
            article.body.clone(),
            article.description.clone(),
            article.url.clone(),
            article.updated_at,
            article.default_locale.clone(),
            found.highlight_of(&article.id),
        ),
    };
    let text = body.as_deref().map(html_to_text).unwrap_or_default();
    let text = if text.is_empty() { description.as_deref().map(html_to_text).unwrap_or_default() } else { text };
    KnowledgeArticle {
        id: article.id.clone(),
        source: KnowledgeSource::Public,
        title: title.unwrap_or_default(),
        url: url.filter(|u| !u.trim().is_empty()),
        matched: highlight.and_then(highlighted_passage).or_else(|| matched_passage(&text, &search.phrase)),
        excerpt: cut(&text, EXCERPT_CHARS),
        updated_at,
        language,
    }
}

fn internal_article(hit: &ContentHit, article: &InternalArticle, phrase: &str) -> KnowledgeArticle {
    let text = article.body.as_deref().map(html_to_text).unwrap_or_default();
    KnowledgeArticle {
        id: article.id.clone(),
        source: KnowledgeSource::Internal,
        title: article.title.clone().or_else(|| hit.title.clone()).unwrap_or_default(),
        url: None,
        matched: matched_passage(&text, phrase),
        excerpt: cut(&text, EXCERPT_CHARS),
        updated_at: article.updated_at,
        language: article.locale.clone(),
    }
}

/// Intercom's highlighted summary as plain text: the fragments that hold a highlight, joined with " … ".
fn highlighted_passage(highlight: &Highlight) -> Option<String> {
    let fragments: Vec<String> = highlight
        .highlighted_summary
        .iter()
        .filter(|runs| runs.iter().any(|r| r.is_highlight()))
        .map(|runs| {
            let joined: String = runs.iter().filter_map(|r| r.text.as_deref()).collect();
            html_to_text(&joined)
        })
        .filter(|f| !f.is_empty())
        .collect();
    (!fragments.is_empty()).then(|| cut(&fragments.join(" … "), MATCHED_CHARS))
}

/// The passage around the first word of `text` that starts with one of the phrase's words (case-insensitive;
/// words of three letters or more, unless the phrase has none), a few words before it and the rest up to
/// [`MATCHED_CHARS`]. `None` when no word matches.
fn matched_passage(text: &str, phrase: &str) -> Option<String> {
    let terms: Vec<String> = phrase.split_whitespace().map(normalized).filter(|t| !t.is_empty()).collect();
    let long: Vec<&String> = terms.iter().filter(|t| t.chars().count() >= 3).collect();
    let terms: Vec<&String> = if long.is_empty() { terms.iter().collect() } else { long };
    let words: Vec<(usize, &str)> = word_spans(text);
    let hit = words.iter().position(|(_, w)| {
        let w = normalized(w);
        terms.iter().any(|t| w.starts_with(t.as_str()))
    })?;
    const WORDS_BEFORE: usize = 8;
    let first = hit.saturating_sub(WORDS_BEFORE);
    let start = words[first].0;
    let passage = cut(&text[start..], MATCHED_CHARS);
    Some(if first > 0 { format!("…{passage}") } else { passage })
}

/// Each word of `text` with its byte offset.
fn word_spans(text: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, &text[s..]));
    }
    spans
}

/// Lower case, without the punctuation around a word.
fn normalized(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()
}

/// At most `max` characters of `text` on one line, cut after a whole word with `…` when it is longer.
fn cut(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let end = flat.char_indices().nth(max.saturating_sub(1)).map_or(flat.len(), |(i, _)| i);
    let kept = &flat[..end];
    let kept = match kept.rfind(' ') {
        Some(space) if space > end / 2 => &kept[..space],
        _ => kept,
    };
    format!("{}…", kept.trim_end_matches(|c: char| c.is_whitespace() || c == ','))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::helpdesk::MockHelpdesk;

    fn request(body: serde_json::Value) -> SearchKnowledgeRequest {
        crate::http::from_value(body).unwrap()
    }

    fn refund_search() -> ArticleSearch {
        serde_json::from_value(json!({
            "type": "list", "total_count": 2,
            "data": {
                "articles": [
                    {"id": "55", "type": "article", "title": "Refund policy", "state": "published",
                     "body": "<p>We refund <b>any</b> order within 30 days.</p><p>Contact us &amp; we reply.</p>",
                     "url": "https://help.example.com/en/articles/55-refund-policy", "updated_at": 1734537306,
                     "default_locale": "en",
                     "translated_content": {"type": "article_translated_content",
                         "fr": {"type": "article_content", "title": "Politique de remboursement",
                                "body": "<p>Nous remboursons toute commande sous 30 jours.</p>",
                                "url": "https://help.example.com/fr/articles/55", "updated_at": 1734537400}}},
                    {"id": "56", "type": "article", "title": "Delete your account", "body": "<p>Go to Settings.</p>",
                     "url": null, "updated_at": 1734537000}
                ],
                "highlights": [{"article_id": "55", "highlighted_title": [],
                                "highlighted_summary": [[{"type": "plain", "text": "We "},
                                                         {"type": "highlight", "text": "refund"},
                                                         {"type": "plain", "text": " any order within 30 days."}],
                                                        [{"type": "plain", "text": "no highlight here"}]]}]
            }
        }))
        .unwrap()
    }

    fn internal_hit(id: &str, title: &str) -> ContentHit {
        serde_json::from_value(json!({"type": "internal_article", "id": id, "title": title})).unwrap()
    }

    #[tokio::test]
    async fn public_and_internal_articles_are_taken_in_turn_as_plain_text() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk
            .expect_search_articles()
            .withf(|q| q.phrase == "refund" && q.help_center_id.as_deref() == Some("7"))
            .returning(|_| Ok(refund_search()));
        helpdesk
            .expect_search_internal_articles()
            .withf(|phrase, per_page| phrase == "refund" && *per_page == 3)
            .returning(|_, _| Ok(vec![internal_hit("12", "Internal SOP: Refunds"), internal_hit("13", "Unused")]));
        helpdesk.expect_get_internal_article().withf(|id| id == "12").times(1).returning(|_| {
            Ok(serde_json::from_value(json!({"id": "12", "title": "Internal SOP: Refunds", "locale": "en",
                "body": "<p>Step one: check the order.</p><p>Approve the refund if under 100 EUR.</p>",
                "updated_at": 1734000000}))
            .unwrap())
        });
        let found =
            search_knowledge(&helpdesk, request(json!({"phrase": " refund ", "limit": 3, "helpCenterId": "7"})))
                .await
                .unwrap();
        assert!(found.internal_searched);
        assert_eq!(
            serde_json::to_value(&found.articles).unwrap(),
            json!([
                {"id": "55", "source": "public", "title": "Refund policy",
                 "url": "https://help.example.com/en/articles/55-refund-policy",
                 "excerpt": "We refund any order within 30 days. Contact us & we reply.",
                 "matched": "We refund any order within 30 days.", "updatedAt": 1734537306, "language": "en"},
                {"id": "12", "source": "internal", "title": "Internal SOP: Refunds", "url": null,
                 "excerpt": "Step one: check the order. Approve the refund if under 100 EUR.",
                 "matched": "Step one: check the order. Approve the refund if under 100 EUR.",
                 "updatedAt": 1734000000, "language": "en"},
                {"id": "56", "source": "public", "title": "Delete your account", "url": null,
                 "excerpt": "Go to Settings.", "matched": null, "updatedAt": 1734537000, "language": null}
            ])
        );
    }

    #[tokio::test]
    async fn a_language_the_article_has_is_read_and_matched_in_that_language() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_search_articles().returning(|_| Ok(refund_search()));
        helpdesk.expect_search_internal_articles().returning(|_, _| Ok(Vec::new()));
        let found =
            search_knowledge(&helpdesk, request(json!({"phrase": "remboursons", "language": "FR"}))).await.unwrap();
        let french = &found.articles[0];
        assert_eq!(french.title, "Politique de remboursement");
        assert_eq!(french.url.as_deref(), Some("https://help.example.com/fr/articles/55"));
        assert_eq!((french.language.as_deref(), french.updated_at), (Some("fr"), Some(1734537400)));
        assert_eq!(french.matched.as_deref(), Some("Nous remboursons toute commande sous 30 jours."));
        assert_eq!(found.articles[1].language, None, "an article without French stays in its own language");
    }

    #[tokio::test]
    async fn no_published_article_is_an_empty_list_and_a_missing_scope_leaves_internal_articles_out() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_search_articles().returning(|_| {
            Ok(serde_json::from_value(json!({"data": {"articles": [{"id": "1", "title": "Draft", "state": "draft"}]}}))
                .unwrap())
        });
        helpdesk.expect_search_internal_articles().returning(|_, _| {
            Err(IntercomError::Api {
                status: 403,
                code: "forbidden".into(),
                message: String::new(),
                field: None,
                request_id: None,
            })
        });
        let found = search_knowledge(&helpdesk, request(json!({"phrase": "nothing matches"}))).await.unwrap();
        assert_eq!(serde_json::to_value(&found).unwrap(), json!({"articles": [], "internalSearched": false}));
    }

    #[tokio::test]
    async fn other_failures_are_reported_and_a_deleted_internal_article_is_skipped() {
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_search_articles().returning(|_| Ok(ArticleSearch::default()));
        helpdesk
            .expect_search_internal_articles()
            .returning(|_, _| Ok(vec![internal_hit("1", "Gone"), internal_hit("2", "Here")]));
        helpdesk.expect_get_internal_article().returning(|id| {
            if id == "1" {
                Err(IntercomError::Api {
                    status: 404,
                    code: "not_found".into(),
                    message: String::new(),
                    field: None,
                    request_id: None,
                })
            } else {
                Ok(serde_json::from_value(json!({"id": "2", "body": "<p>Here.</p>"})).unwrap())
            }
        });
        let found = search_knowledge(&helpdesk, request(json!({"phrase": "x"}))).await.unwrap();
        assert_eq!(found.articles.len(), 1);
        assert_eq!((found.articles[0].id.as_str(), found.articles[0].title.as_str()), ("2", "Here"));

        let mut failing = MockHelpdesk::new();
        failing
            .expect_search_articles()
            .returning(|_| Err(IntercomError::Unavailable { status: 503, request_id: None }));
        failing.expect_search_internal_articles().returning(|_, _| Ok(Vec::new()));
        let err = search_knowledge(&failing, request(json!({"phrase": "x"}))).await.unwrap_err();
        assert_eq!(err.code(), "intercom_unavailable");
    }

    #[tokio::test]
    async fn bad_inputs_are_refused_naming_the_field() {
        let helpdesk = MockHelpdesk::new();
        for (body, field) in [
            (json!({"phrase": "  "}), "phrase"),
            (json!({"phrase": "x".repeat(256)}), "phrase"),
            (json!({"phrase": "x", "limit": 0}), "limit"),
            (json!({"phrase": "x", "limit": 11}), "limit"),
            (json!({"phrase": "x", "helpCenterId": "abc"}), "helpCenterId"),
            (json!({"phrase": "x", "language": "english"}), "language"),
            (json!({"phrase": "x", "language": "en_US"}), "language"),
        ] {
            let err = search_knowledge(&helpdesk, request(body.clone())).await.unwrap_err();
            assert_eq!((err.status().as_u16(), err.to_json()["field"].as_str()), (400, Some(field)), "{body}");
        }
        for ok in ["en", "pt-BR", "zh-Hant", "fil"] {
            assert!(language("language", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn interleaving_takes_the_lists_in_turn_up_to_the_limit() {
        use Pick::*;
        assert_eq!(interleave(3, 1, 5), [Public(0), Internal(0), Public(1), Public(2)]);
        assert_eq!(interleave(0, 3, 2), [Internal(0), Internal(1)]);
        assert_eq!(interleave(0, 0, 5), []);
    }

    #[test]
    fn passages_and_excerpts_are_cut_at_words() {
        let text = "Intro words here. ".repeat(10) + "Refunds are issued to the original card.";
        let passage = matched_passage(&text, "how do REFUNDS work?").unwrap();
        assert!(passage.starts_with("…words here. Intro") && passage.contains("Refunds are issued"), "{passage}");
        assert_eq!(matched_passage("Nothing relevant", "refund"), None);
        assert_eq!(matched_passage("Go to it", "to"), Some("Go to it".into()), "short words count when all are short");
        let long = "é".repeat(600);
        let cut_long = cut(&long, EXCERPT_CHARS);
        assert!(cut_long.ends_with('…') && cut_long.chars().count() <= EXCERPT_CHARS, "{}", cut_long.chars().count());
        let words = "word ".repeat(200);
        let cut_words = cut(&words, 50);
        assert_eq!(cut_words, format!("{}…", ["word"; 9].join(" ")));
    }
}
