//! Recently relayed notification ids, per container.
//!
//! Intercom delivers at least once, so the same notification can arrive again (a retry after a slow answer,
//! or simply twice). A warm container remembers the last [`DEFAULT_CAPACITY`] ids it relayed and skips
//! repeats. This is best effort: another container, or this one after a cold start, has not seen the id, which
//! is why the relay also sends `Idempotency-Key` for the agent to dedupe on.
//!
//! Only a successful relay is remembered, so a failed one is relayed again when Intercom redelivers. Null ids
//! (pings, sample deliveries) are never remembered and never count as repeats.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// Enough for the burst a single container sees between cold starts; about 64 KiB of ids.
pub const DEFAULT_CAPACITY: usize = 1024;

/// A bounded, thread-safe set of notification ids; the oldest is forgotten first.
#[derive(Debug)]
pub struct RecentNotifications {
    capacity: usize,
    inner: Mutex<Recent>,
}

#[derive(Debug, Default)]
struct Recent {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Default for RecentNotifications {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl RecentNotifications {
    /// Remembers at most `capacity` ids (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        RecentNotifications {
            capacity,
            inner: Mutex::new(Recent {
                ids: HashSet::with_capacity(capacity),
                order: VecDeque::with_capacity(capacity),
            }),
        }
    }

    /// True if `id` was relayed recently. Always false for `None` or an empty id.
    pub fn was_relayed(&self, id: Option<&str>) -> bool {
        match usable(id) {
            Some(id) => self.lock().ids.contains(id),
            None => false,
        }
    }

    /// Remembers `id` as relayed; call only after the agent accepted it. Ignores `None` and empty ids.
    pub fn mark_relayed(&self, id: Option<&str>) {
        let Some(id) = usable(id) else { return };
        let mut recent = self.lock();
        if recent.ids.contains(id) {
            return;
        }
        while recent.order.len() >= self.capacity {
            if let Some(oldest) = recent.order.pop_front() {
                recent.ids.remove(&oldest);
            }
        }
        recent.ids.insert(id.to_string());
        recent.order.push_back(id.to_string());
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    // A panic while holding the lock cannot leave the two collections inconsistent in a way that matters here
    // (at worst an id is remembered in one and not the other), so a poisoned lock is still used.
    fn lock(&self) -> MutexGuard<'_, Recent> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn usable(id: Option<&str>) -> Option<&str> {
    id.map(str::trim).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn remembers_only_what_was_marked() {
        let recent = RecentNotifications::default();
        assert!(!recent.was_relayed(Some("notif_1")));
        recent.mark_relayed(Some("notif_1"));
        assert!(recent.was_relayed(Some("notif_1")));
        assert!(!recent.was_relayed(Some("notif_2")));
        recent.mark_relayed(Some("notif_1"));
        assert_eq!(recent.len(), 1);
    }

    #[test]
    fn null_and_empty_ids_are_never_stored_nor_deduped() {
        let recent = RecentNotifications::default();
        recent.mark_relayed(None);
        recent.mark_relayed(Some(""));
        recent.mark_relayed(Some("  "));
        assert!(recent.is_empty());
        assert!(!recent.was_relayed(None));
        assert!(!recent.was_relayed(Some("")));
    }

    #[test]
    fn forgets_the_oldest_beyond_capacity() {
        let recent = RecentNotifications::with_capacity(3);
        for id in ["a", "b", "c", "d"] {
            recent.mark_relayed(Some(id));
        }
        assert_eq!(recent.len(), 3);
        assert!(!recent.was_relayed(Some("a")));
        assert!(recent.was_relayed(Some("b")) && recent.was_relayed(Some("d")));
    }

    #[test]
    fn never_grows_past_capacity() {
        let recent = RecentNotifications::default();
        for i in 0..(DEFAULT_CAPACITY * 3) {
            recent.mark_relayed(Some(&format!("notif_{i}")));
        }
        assert_eq!(recent.len(), DEFAULT_CAPACITY);
        assert_eq!(recent.lock().ids.len(), DEFAULT_CAPACITY);
        assert!(recent.was_relayed(Some(&format!("notif_{}", DEFAULT_CAPACITY * 3 - 1))));
        assert!(!recent.was_relayed(Some(&format!("notif_{}", DEFAULT_CAPACITY * 2 - 1))));
    }

    #[test]
    fn zero_capacity_still_holds_one() {
        let recent = RecentNotifications::with_capacity(0);
        recent.mark_relayed(Some("a"));
        assert!(recent.was_relayed(Some("a")));
        assert_eq!(recent.capacity(), 1);
    }

    #[test]
    fn is_shared_across_threads() {
        let recent = Arc::new(RecentNotifications::with_capacity(64));
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let recent = Arc::clone(&recent);
                std::thread::spawn(move || {
                    for i in 0..100 {
                        recent.mark_relayed(Some(&format!("{t}-{i}")));
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(recent.len(), 64);
        assert_eq!(recent.lock().ids.len(), 64);
    }
}
