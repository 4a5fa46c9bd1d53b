//! Tags and teams by name, cached per container (names change rarely; ids never do).

use futures::future::try_join_all;
use reqwest::Method;

use super::client::{IntercomClient, Retry};
use super::error::IntercomError;
use super::models::{CreateTag, Tag, TagList, Team, TeamList};

impl IntercomClient {
    /// The tags with these names, created when missing (`POST /tags` creates or returns a tag by name).
    pub async fn ensure_tags(&self, names: &[String]) -> Result<Vec<Tag>, IntercomError> {
        try_join_all(names.iter().map(|name| self.ensure_tag(name))).await
    }

    async fn ensure_tag(&self, name: &str) -> Result<Tag, IntercomError> {
        if let Some(tag) = self.cached_tag(name).await {
            return Ok(tag);
        }
        let tag: Tag = self
            .send(Method::POST, "tags", &[], Some(&CreateTag { name }), Retry::Idempotent, "creating a tag")
            .await?;
        self.inner.tags.lock().await.push(tag.clone());
        Ok(tag)
    }

    /// An existing tag by name (case-insensitive), without creating it.
    pub async fn find_tag(&self, name: &str) -> Result<Option<Tag>, IntercomError> {
        if let Some(tag) = self.cached_tag(name).await {
            return Ok(Some(tag));
        }
        let list: TagList = self.get("tags", &[]).await?;
        let mut cache = self.inner.tags.lock().await;
        *cache = list.data;
        Ok(cache.iter().find(|t| t.name.eq_ignore_ascii_case(name)).cloned())
    }

    async fn cached_tag(&self, name: &str) -> Option<Tag> {
        self.inner.tags.lock().await.iter().find(|t| t.name.eq_ignore_ascii_case(name)).cloned()
    }

    /// A team by name (case-insensitive). The list is fetched once per container, and again on a miss in case
    /// the team was created since.
    pub async fn find_team(&self, name: &str) -> Result<Option<Team>, IntercomError> {
        let mut cache = self.inner.teams.lock().await;
        if let Some(team) = cache.as_ref().and_then(|teams| find_by_name(teams, name)) {
            return Ok(Some(team));
        }
        let list: TeamList = self.get("teams", &[]).await?;
        let found = find_by_name(&list.teams, name);
        *cache = Some(list.teams);
        Ok(found)
    }
}

fn find_by_name(teams: &[Team], name: &str) -> Option<Team> {
    teams.iter().find(|t| t.name.trim().eq_ignore_ascii_case(name.trim())).cloned()
}
