//! The help center: its public articles (published or draft) and the internal articles (knowledge for the
//! AI and teammates only), and how `GET /articles/search` finds them.

use serde::Serialize;

use super::State;
use crate::error::ApiError;
use crate::html;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArticleState {
    Published,
    Draft,
}

impl ArticleState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Draft => "draft",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelpCenter {
    pub id: String,
    pub identifier: String,
    pub display_name: String,
    pub url: String,
    pub created_at: i64,
}

/// A help-center article, or an internal one (`internal`: no help center, no URL, never public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    pub id: String,
    pub title: String,
    /// A one-line summary (public articles only).
    pub description: String,
    /// HTML.
    pub body: String,
    pub state: ArticleState,
    pub internal: bool,
    pub help_center_id: Option<String>,
    pub author_id: i64,
    pub locale: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What [`State::add_article`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArticle {
    pub title: String,
    pub description: String,
    /// Plain text or HTML.
    pub body: String,
    pub state: ArticleState,
    pub internal: bool,
}

impl NewArticle {
    /// A published help-center article.
    pub fn published(title: &str, description: &str, body: &str) -> Self {
        Self {
            title: title.to_owned(),
            description: description.to_owned(),
            body: body.to_owned(),
            state: ArticleState::Published,
            internal: false,
        }
    }

    /// An internal article (knowledge for the AI only).
    pub fn internal(title: &str, body: &str) -> Self {
        Self { internal: true, description: String::new(), ..Self::published(title, "", body) }
    }

    pub fn draft(mut self) -> Self {
        self.state = ArticleState::Draft;
        self
    }
}

/// One match of an article search: the article and, per searched word, whether the title or the text has it.
#[derive(Debug, Clone)]
pub struct ArticleHit<'a> {
    pub article: &'a Article,
    /// The words of the phrase (lower-case, significant ones) the article contains.
    pub words: Vec<String>,
}

pub fn article_not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "Resource Not Found")
}

/// Words too common to find anything by.
const STOPWORDS: [&str; 24] = [
    "the", "and", "for", "you", "your", "how", "can", "what", "with", "does", "did", "are", "was", "our", "from",
    "this", "that", "have", "has", "why", "when", "who", "not", "get",
];

/// The significant words of a search phrase, lower-case, in order, without repeats.
pub fn search_words(phrase: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in phrase.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase) {
        if word.chars().count() >= 3 && !STOPWORDS.contains(&word.as_str()) && !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

impl State {
    pub fn help_center(&self, id: &str) -> Option<&HelpCenter> {
        self.help_centers.iter().find(|h| h.id == id)
    }

    /// A public article (`internal: false`) or an internal one, by id.
    pub fn article(&self, id: &str, internal: bool) -> Option<&Article> {
        self.articles.iter().find(|a| a.id == id && a.internal == internal)
    }

    /// Adds the workspace's help center (the first call only; later calls return it).
    pub fn ensure_help_center(&mut self) -> HelpCenter {
        if let Some(existing) = self.help_centers.first() {
            return existing.clone();
        }
        self.counters.help_center += 1;
        let identifier = format!("{}-help", self.workspace_id);
        let center = HelpCenter {
            id: self.counters.help_center.to_string(),
            url: format!("https://help.fake-intercom.example.com/{identifier}"),
            identifier,
            display_name: format!("{} Help Center", self.workspace_name),
            created_at: self.now(),
        };
        self.help_centers.push(center.clone());
        center
    }

    /// Adds an article (a public one goes to the help center, made if needed), authored by the AI admin.
    pub fn add_article(&mut self, new: NewArticle) -> Article {
        let help_center_id = (!new.internal).then(|| self.ensure_help_center().id);
        self.counters.article += 1;
        let now = self.now();
        let article = Article {
            id: self.counters.article.to_string(),
            title: new.title,
            description: new.description,
            body: html::to_html(&new.body),
            state: new.state,
            internal: new.internal,
            help_center_id,
            author_id: self.me_admin_id.parse().unwrap_or_default(),
            locale: "en".to_owned(),
            created_at: now,
            updated_at: now,
        };
        self.articles.push(article.clone());
        article
    }

    /// The public URL of a published article (drafts have none).
    pub fn article_url(&self, article: &Article) -> Option<String> {
        if article.internal || article.state != ArticleState::Published {
            return None;
        }
        let center = article.help_center_id.as_deref().and_then(|id| self.help_center(id))?;
        let slug: String = article
            .title
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        Some(format!("{}/en/articles/{}-{slug}", center.url, article.id))
    }

    /// `GET /articles/search`: public articles with at least one significant word of `phrase` in their title,
    /// description or text, most matched words first (then oldest first); `state` `published`, `draft` or
    /// `None` for both, as Intercom's `all`.
    pub fn search_articles(
        &self,
        phrase: &str,
        state: Option<ArticleState>,
        help_center_id: Option<&str>,
    ) -> Vec<ArticleHit<'_>> {
        let words = search_words(phrase);
        let mut hits: Vec<ArticleHit<'_>> = self
            .articles
            .iter()
            .filter(|a| !a.internal)
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| help_center_id.is_none_or(|h| a.help_center_id.as_deref() == Some(h)))
            .filter_map(|a| {
                let text = format!("{} {} {}", a.title, a.description, html::to_plain(&a.body)).to_lowercase();
                let found: Vec<String> = words.iter().filter(|w| text.contains(w.as_str())).cloned().collect();
                (!found.is_empty()).then_some(ArticleHit { article: a, words: found })
            })
            .collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.words.len()));
        hits
    }

    /// `GET /internal_articles/search`: every internal article, or (the fake's extension, not in the spec)
    /// those matching `phrase` as public search does.
    pub fn search_internal_articles(&self, phrase: Option<&str>) -> Vec<&Article> {
        let words = phrase.map(search_words).unwrap_or_default();
        self.articles
            .iter()
            .filter(|a| a.internal)
            .filter(|a| {
                let text = format!("{} {}", a.title, html::to_plain(&a.body)).to_lowercase();
                words.is_empty() || words.iter().any(|w| text.contains(w.as_str()))
            })
            .collect()
    }

    /// The demo help center: published "Refund policy", "Delete your account", "Reset your password", a draft
    /// "Upcoming pricing changes", and internal "Refund approval limits" and "Account deletion checklist".
    pub(super) fn seed_articles(&mut self) {
        self.ensure_help_center();
        self.add_article(NewArticle::published(
            "Refund policy",
            "When and how we refund a payment",
            "You can ask for a refund within 30 days of a payment.\n\
             Refunds go back to the card you paid with and take 5 to 10 business days to arrive.\n\
             Annual plans are refunded pro rata after the first 30 days.",
        ));
        self.add_article(NewArticle::published(
            "Delete your account",
            "How to close your account and erase your data",
            "To delete your account, open Settings, then Account, and choose Delete account.\n\
             We erase your personal data within 30 days, as the GDPR requires.\n\
             Deleting an account cannot be undone; export your data first.",
        ));
        self.add_article(NewArticle::published(
            "Reset your password",
            "Get back into your account",
            "Choose Forgot password on the sign-in page and follow the link we email you.\n\
             The link expires after one hour.",
        ));
        self.add_article(
            NewArticle::published(
                "Upcoming pricing changes",
                "Not announced yet",
                "New prices for the Pro plan from next quarter. Refund rules stay the same.",
            )
            .draft(),
        );
        self.add_article(NewArticle::internal(
            "Refund approval limits",
            "Refunds up to 100 USD can be approved without a manager.\n\
             Above 100 USD, hand the conversation to the Billing team.",
        ));
        self.add_article(NewArticle::internal(
            "Account deletion checklist",
            "Confirm the customer's identity before opening an Account deletion ticket.\n\
             Never delete an account from a conversation: the Legal team does it.",
        ));
    }
}
