//! The conversations our functions opened for a contact in the last minutes, remembered on the [`Store`].
//!
//! Intercom's search index trails writes by seconds to minutes, so a conversation `create-conversation` or
//! `escalate` opened just now is missing from `POST /conversations/search`. Whoever searches a contact's
//! conversations reads this list too and fetches the missing ones by id (`GET` is never stale).

use std::time::Duration;

use crate::store::{Expect, Store, StoreError};

/// Longer than Intercom's usual search lag; after that, search finds the conversation itself.
pub const REMEMBER_FOR: Duration = Duration::from_secs(10 * 60);

/// The newest this many are kept: a contact rarely gets more conversations from us within minutes.
pub const KEEP_AT_MOST: usize = 5;

/// Compare-and-set rounds before giving up on a contended list.
const ATTEMPTS: usize = 4;

pub fn recent_key(contact_id: &str) -> String {
    format!("recent#{contact_id}")
}

/// Records that our function opened `conversation_id` for `contact_id` (newest last, at most [`KEEP_AT_MOST`]).
pub async fn remember_opened(store: &dyn Store, contact_id: &str, conversation_id: &str) -> Result<(), StoreError> {
    let key = recent_key(contact_id);
    for _ in 0..ATTEMPTS {
        let current = store.get_value(&key).await?;
        let mut ids = current.as_ref().map(|v| parse(&v.value)).unwrap_or_default();
        ids.retain(|id| id != conversation_id);
        ids.push(conversation_id.to_owned());
        let skip = ids.len().saturating_sub(KEEP_AT_MOST);
        let value = serde_json::Value::from(ids[skip..].to_vec()).to_string();
        let expect = current.map_or(Expect::Absent, |v| Expect::Version(v.version));
        if store.put_value(&key, &value, expect, REMEMBER_FOR).await?.is_some() {
            return Ok(());
        }
    }
    Err(StoreError::Unavailable { reason: format!("the list {key} kept changing under concurrent writes") })
}

/// [`remember_opened`] for a conversation already open: a failure only delays when search lists it, so it is
/// logged, not returned (failing now would make the caller open a second conversation on retry).
pub async fn note_opened(store: &dyn Store, contact_id: &str, conversation_id: &str) {
    if let Err(e) = remember_opened(store, contact_id, conversation_id).await {
        tracing::warn!(conversation_id, error = %e, "could not remember the new conversation; search finds it once it catches up");
    }
}

/// The conversations our functions opened for `contact_id` in the last [`REMEMBER_FOR`], newest first.
pub async fn recently_opened(store: &dyn Store, contact_id: &str) -> Result<Vec<String>, StoreError> {
    let mut ids = store.get_value(&recent_key(contact_id)).await?.map(|v| parse(&v.value)).unwrap_or_default();
    ids.reverse();
    Ok(ids)
}

/// A list written by [`remember_opened`]; anything else reads as empty (it only ever adds to search).
pub(crate) fn parse(value: &str) -> Vec<String> {
    serde_json::from_str(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn the_newest_few_are_kept_newest_first_once_each() {
        let store = MemoryStore::new();
        assert!(recently_opened(&store, "c1").await.unwrap().is_empty());
        for id in ["1", "2", "3", "2", "4", "5", "6", "7"] {
            remember_opened(&store, "c1", id).await.unwrap();
        }
        assert_eq!(recently_opened(&store, "c1").await.unwrap(), ["7", "6", "5", "4", "2"]);
        assert!(recently_opened(&store, "c2").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn concurrent_writers_lose_nothing() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let writers: Vec<_> = (0..3)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { remember_opened(store.as_ref(), "c1", &i.to_string()).await })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap().unwrap();
        }
        let mut ids = recently_opened(store.as_ref(), "c1").await.unwrap();
        ids.sort();
        assert_eq!(ids, ["0", "1", "2"]);
    }
}
