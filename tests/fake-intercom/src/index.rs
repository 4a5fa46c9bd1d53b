//! The contact search index and its lag behind the data.
//!
//! Real Intercom answers `POST /contacts/search` from an index that trails writes by seconds to minutes:
//! a new contact is not found yet, and an updated one is found with the attributes it had before. The
//! fake keeps, per contact, the version the index serves plus the changes it has not taken in yet.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::state::Contact;

/// How far `POST /contacts/search` trails the contacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchLag {
    /// Search sees every change at once.
    #[default]
    Off,
    /// Changes reach search only on [`crate::FakeIntercom::index_search`] (`POST /__fake/search/index`).
    Manual,
    /// A change reaches search once it is this old.
    Time(Duration),
}

impl Serialize for SearchLag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SearchLag", 2)?;
        let (mode, ms) = match self {
            SearchLag::Off => ("off", None),
            SearchLag::Manual => ("manual", None),
            SearchLag::Time(lag) => ("time", Some(u64::try_from(lag.as_millis()).unwrap_or(u64::MAX))),
        };
        s.serialize_field("mode", mode)?;
        s.serialize_field("lag_ms", &ms)?;
        s.end()
    }
}

/// The versions of contacts search serves, and the changes still on their way to it.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    lag: SearchLag,
    /// Contact id → the version search answers with.
    indexed: HashMap<String, Contact>,
    /// Changes not yet indexed, oldest first: (when it happened, the contact right after it).
    pending: Vec<(Instant, Contact)>,
    /// Conversations `POST /conversations/search` lists (it shows their current data).
    conversations: HashSet<u64>,
    /// New conversations search does not list yet, oldest first.
    pending_conversations: Vec<(Instant, u64)>,
}

impl Serialize for SearchIndex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SearchIndex", 4)?;
        s.serialize_field("lag", &self.lag)?;
        s.serialize_field("indexed_contacts", &self.indexed.len())?;
        s.serialize_field("pending_changes", &self.pending.len())?;
        s.serialize_field("pending_conversations", &self.pending_conversations.len())?;
        s.end()
    }
}

impl SearchIndex {
    pub fn lag(&self) -> SearchLag {
        self.lag
    }

    /// Switching the lag off lets search catch up at once (there is nothing left to trail behind).
    pub fn set_lag(&mut self, lag: SearchLag) {
        self.lag = lag;
        if lag == SearchLag::Off {
            self.catch_up();
        }
    }

    /// A contact was created or changed: `contact` is its new state.
    pub fn record(&mut self, contact: &Contact) {
        match self.lag {
            SearchLag::Off => {
                self.indexed.insert(contact.id.clone(), contact.clone());
            }
            SearchLag::Manual | SearchLag::Time(_) => self.pending.push((Instant::now(), contact.clone())),
        }
    }

    /// Every pending change reaches search.
    pub fn catch_up(&mut self) {
        for (_, contact) in self.pending.drain(..) {
            self.indexed.insert(contact.id.clone(), contact);
        }
        self.conversations.extend(self.pending_conversations.drain(..).map(|(_, id)| id));
    }

    /// A conversation was created: search lists it once the lag allows.
    pub fn record_conversation(&mut self, id: u64) {
        match self.lag {
            SearchLag::Off => {
                self.conversations.insert(id);
            }
            SearchLag::Manual | SearchLag::Time(_) => self.pending_conversations.push((Instant::now(), id)),
        }
    }

    /// Whether `POST /conversations/search` lists the conversation yet.
    pub fn lists_conversation(&self, id: u64) -> bool {
        self.conversations.contains(&id)
    }

    /// In time mode, changes older than the lag reach search (called before each search).
    pub fn advance(&mut self, now: Instant) {
        let SearchLag::Time(lag) = self.lag else {
            return;
        };
        let ripe = self.pending.iter().take_while(|(at, _)| now.saturating_duration_since(*at) >= lag).count();
        for (_, contact) in self.pending.drain(..ripe) {
            self.indexed.insert(contact.id.clone(), contact);
        }
        let ripe =
            self.pending_conversations.iter().take_while(|(at, _)| now.saturating_duration_since(*at) >= lag).count();
        self.conversations.extend(self.pending_conversations.drain(..ripe).map(|(_, id)| id));
    }

    /// The version of a contact search answers with (`None`: not in the index yet).
    pub fn indexed(&self, id: &str) -> Option<&Contact> {
        self.indexed.get(id)
    }
}
