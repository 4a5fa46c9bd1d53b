//! [`Queue`] in memory: keeps what was sent, and can be made to fail. For unit and handler tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::{Outgoing, Queue, QueueError};

#[derive(Debug, Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<Outgoing>>,
    down: AtomicBool,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every send fail as an unreachable queue would (or work again).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Everything sent so far, oldest first.
    pub fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, message: &Outgoing) -> Result<(), QueueError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(QueueError::Unavailable { reason: "the queue is down (test)".into() });
        }
        self.sent.lock().unwrap_or_else(PoisonError::into_inner).push(message.clone());
        Ok(())
    }
}
