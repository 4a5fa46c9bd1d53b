//! The workspace's admins with their away mode, inbox seat and teams: who could pick up a hand-off now.

use std::time::{Duration, Instant};

use super::client::IntercomClient;
use super::error::IntercomError;
use super::models::{AdminList, Teammate};

/// How long one `GET /admins` answers for, per container: away mode changes by the hour, not the second, and a
/// busy escalate function should not read the whole admin list for every customer.
pub const ADMINS_TTL: Duration = Duration::from_secs(60);

impl IntercomClient {
    /// Every admin (`GET /admins`), read at most once per [`ADMINS_TTL`].
    pub async fn list_admins(&self) -> Result<Vec<Teammate>, IntercomError> {
        let mut cache = self.inner.admins.lock().await;
        if let Some((read_at, admins)) = cache.as_ref()
            && read_at.elapsed() < ADMINS_TTL
        {
            return Ok(admins.clone());
        }
        let list: AdminList = self.get("admins", &[]).await?;
        *cache = Some((Instant::now(), list.admins.clone()));
        Ok(list.admins)
    }
}
