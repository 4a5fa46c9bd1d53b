//! What our functions write *as the customer*, remembered on the [`Store`] so the webhook recognises it as ours
//! without asking Intercom — including the first `conversation.user.created`, which Intercom may deliver before
//! the function that opened the conversation has its id back.
//!
//! A message is remembered by its author (the contact) and its text, before it is sent: the key is the contact id
//! and a hash of the text after one normalisation ([`comparable`]) that holds for what we send (plain text or HTML)
//! and for what Intercom delivers (its HTML rendering).

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::intercom::conversations::comparable;
use crate::store::{Expect, Store, StoreError};

/// Long enough for Intercom's slowest webhook delivery of the message (they arrive within seconds to minutes).
pub const REMEMBER_FOR: Duration = Duration::from_secs(6 * 3600);

/// The store key of a message `contact_id` wrote with `body`.
pub fn customer_message_key(contact_id: &str, body: &str) -> String {
    let digest = Sha256::digest(comparable(body).as_bytes());
    format!("ours#{contact_id}#{}", hex::encode(&digest[..16]))
}

/// Records that our function is about to write `body` as the contact. Call it before sending: a failure means
/// the webhook could not recognise the message, so the caller does not send it.
pub async fn remember_customer_message(store: &dyn Store, contact_id: &str, body: &str) -> Result<(), StoreError> {
    store.put_value(&customer_message_key(contact_id, body), "1", Expect::Any, REMEMBER_FOR).await?;
    Ok(())
}

/// Whether the message `contact_id` wrote with `body` was written by our functions.
pub async fn is_ours(store: &dyn Store, contact_id: &str, body: &str) -> Result<bool, StoreError> {
    Ok(store.get_value(&customer_message_key(contact_id, body)).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn a_message_is_recognised_in_intercoms_rendering_and_only_for_its_author() {
        let store = MemoryStore::new();
        remember_customer_message(&store, "c1", "I was charged twice\nthis month").await.unwrap();
        assert!(is_ours(&store, "c1", "<p>I was charged twice</p><p>this month</p>").await.unwrap());
        assert!(!is_ours(&store, "c2", "<p>I was charged twice</p><p>this month</p>").await.unwrap());
        assert!(!is_ours(&store, "c1", "<p>I was charged three times</p>").await.unwrap());
    }
}
