//! The loop guard's second look, for the one event the `ai-escalation` tag cannot mark: the
//! `conversation.user.created` that Intercom builds the moment `escalate` opens a conversation, before the
//! flow has tagged it.
//!
//! `escalate` records each session on the contact (`ai_escalation` = `<session>|<conversation id>`, or
//! `<session>|pending|<time>` while it opens the conversation). For a new conversation without markers, the
//! webhook reads the author's contact once: the record names this conversation → ours. While the record is
//! pending (the flow is between opening and recording), it reads again a few times, briefly. Anything else —
//! no record, another conversation, a stale or still-pending record, Intercom unavailable — counts as the
//! customer's own conversation, so a customer's message is never held back on a guess.

use std::sync::Arc;
use std::time::Duration;

use crate::escalation::flow::{MARKER_ATTRIBUTE, Marker};
use crate::helpdesk::Helpdesk;
use crate::intercom::{ContactKey, IntercomError};

/// Reads contacts' escalation records through the Intercom client.
#[derive(Clone)]
pub struct EscalationCheck {
    helpdesk: Arc<dyn Helpdesk>,
    /// Pause between reads while the record is pending.
    pending_wait: Duration,
    /// Reads after the first while the record is pending.
    pending_rereads: u32,
}

impl std::fmt::Debug for EscalationCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EscalationCheck")
            .field("pending_wait", &self.pending_wait)
            .field("pending_rereads", &self.pending_rereads)
            .finish_non_exhaustive()
    }
}

impl EscalationCheck {
    /// Up to three more reads 300 ms apart while an escalation is pending: its last round trip normally
    /// lands well within that, and a webhook answer stays within Intercom's patience.
    pub fn new(helpdesk: Arc<dyn Helpdesk>) -> Self {
        EscalationCheck { helpdesk, pending_wait: Duration::from_millis(300), pending_rereads: 3 }
    }

    pub fn with_pending_wait(mut self, wait: Duration, rereads: u32) -> Self {
        self.pending_wait = wait;
        self.pending_rereads = rereads;
        self
    }

    /// Whether `conversation_id` is the conversation an escalation opened for `contact_id`.
    pub async fn opened_by_escalation(&self, contact_id: &str, conversation_id: &str) -> Result<bool, IntercomError> {
        let key = ContactKey::Id(contact_id.to_owned());
        for read in 0..=self.pending_rereads {
            let Some(contact) = self.helpdesk.find_contact(&key).await? else { return Ok(false) };
            match Marker::parse(contact.custom_attributes.get(MARKER_ATTRIBUTE)) {
                Some(Marker::Done { conversation_id: recorded, .. }) => return Ok(recorded == conversation_id),
                Some(marker) if marker.is_fresh_pending() && read < self.pending_rereads => {
                    tokio::time::sleep(self.pending_wait).await;
                }
                _ => return Ok(false),
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::{Value, json};

    use super::*;
    use crate::helpdesk::MockHelpdesk;
    use crate::intercom::models::Contact;

    fn contact(marker: Option<String>) -> Contact {
        let mut value = json!({"type": "contact", "id": "c-1", "role": "user", "custom_attributes": {}});
        if let Some(marker) = marker {
            value["custom_attributes"][MARKER_ATTRIBUTE] = Value::from(marker);
        }
        serde_json::from_value(value).unwrap()
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn check_with(answers: Vec<Option<String>>) -> (EscalationCheck, Arc<AtomicUsize>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = reads.clone();
        let mut helpdesk = MockHelpdesk::new();
        helpdesk.expect_find_contact().returning(move |key| {
            assert_eq!(key, &ContactKey::Id("c-1".into()));
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Ok(Some(contact(answers[n.min(answers.len() - 1)].clone())))
        });
        (EscalationCheck::new(Arc::new(helpdesk)).with_pending_wait(Duration::from_millis(1), 3), reads)
    }

    #[tokio::test]
    async fn a_record_naming_this_conversation_means_ours() {
        let (check, reads) = check_with(vec![Some("s-1|42".into())]);
        assert!(check.opened_by_escalation("c-1", "42").await.unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert!(!check.opened_by_escalation("c-1", "43").await.unwrap(), "another conversation is the customer's");
    }

    #[tokio::test]
    async fn a_pending_record_is_read_again_until_it_names_the_conversation() {
        let pending = format!("s-1|pending|{}", now());
        let (check, reads) = check_with(vec![Some(pending.clone()), Some(pending), Some("s-1|42".into())]);
        assert!(check.opened_by_escalation("c-1", "42").await.unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn no_record_a_stale_one_or_one_that_stays_pending_means_the_customer() {
        let (check, reads) = check_with(vec![None]);
        assert!(!check.opened_by_escalation("c-1", "42").await.unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), 1);

        let (check, reads) = check_with(vec![Some(format!("s-1|pending|{}", now() - 3_600))]);
        assert!(!check.opened_by_escalation("c-1", "42").await.unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), 1, "a stale claim is not waited for");

        let (check, reads) = check_with(vec![Some(format!("s-1|pending|{}", now()))]);
        assert!(!check.opened_by_escalation("c-1", "42").await.unwrap());
        assert_eq!(reads.load(Ordering::SeqCst), 4, "one read and three re-reads, then the customer's");
    }
}
