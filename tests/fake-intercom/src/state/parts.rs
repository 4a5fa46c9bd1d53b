//! Conversation parts: admin and contact replies, close / snooze / open, assignment.

use super::conversations::{Conversation, ConversationState, Part, Reference, ReplyExtras, push_part};
use super::{Admin, State};
use crate::error::ApiError;
use crate::html;

/// How `POST /conversations/{id}/reply` posts as an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminReplyKind {
    Comment,
    Note,
    QuickReply,
}

impl AdminReplyKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "comment" => Some(Self::Comment),
            "note" => Some(Self::Note),
            "quick_reply" => Some(Self::QuickReply),
            _ => None,
        }
    }

    fn part_type(self) -> &'static str {
        match self {
            Self::Comment => "comment",
            Self::Note => "note",
            Self::QuickReply => "quick_reply",
        }
    }
}

/// Whom `POST /conversations/{id}/parts` `message_type: assignment` assigns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeKind {
    Admin,
    Team,
}

impl State {
    /// `POST /conversations/{id}/reply` as an admin.
    pub fn reply_as_admin(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        kind: AdminReplyKind,
        body: Option<&str>,
    ) -> Result<(), ApiError> {
        self.reply_as_admin_with(conversation_id, admin_id, kind, body, ReplyExtras::default())
    }

    /// `POST /conversations/{id}/reply` as an admin, with attachments or quick-reply options.
    pub fn reply_as_admin_with(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        kind: AdminReplyKind,
        body: Option<&str>,
        extras: ReplyExtras,
    ) -> Result<(), ApiError> {
        let admin = self.require_admin(admin_id)?;
        self.conversation_mut(conversation_id)?;
        let part_id = self.next_part_id();
        let now = self.now();
        let conv = self.conversation_mut(conversation_id)?;
        if kind != AdminReplyKind::Note {
            conv.waiting_since = None;
            let stats = &mut conv.statistics;
            stats.first_admin_reply_at.get_or_insert(now);
            stats.last_admin_reply_at = Some(now);
            if conv.admin_assignee_id.is_some() || conv.team_assignee_id.is_some() {
                stats.last_assignment_admin_reply_at = Some(now);
            }
        }
        if !conv.teammate_ids.contains(&admin.id) {
            conv.teammate_ids.push(admin.id.clone());
        }
        let state = conv.state;
        let contact_ids = conv.contact_ids.clone();
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: kind.part_type().to_owned(),
                body: body.map(html::to_html),
                created_at: now,
                author: Self::admin_author(&admin),
                assigned_to: None,
                state,
                attachments: extras.attachments,
                quick_reply_options: extras.quick_reply_options,
                quick_reply_uuid: None,
            },
        );
        if kind != AdminReplyKind::Note {
            for id in contact_ids {
                if let Some(c) = self.contact_mut(&id) {
                    c.last_contacted_at = Some(now);
                }
                self.contact_changed(&id);
            }
        }
        let topic = match kind {
            AdminReplyKind::Note => "conversation.admin.noted",
            AdminReplyKind::Comment | AdminReplyKind::QuickReply => "conversation.admin.replied",
        };
        self.emit(topic, conversation_id, 1);
        Ok(())
    }

    /// `POST /conversations/{id}/reply` as the contact (`type: user`). A reply to a closed
    /// or snoozed conversation reopens it, as in Intercom.
    pub fn reply_as_contact(&mut self, conversation_id: &str, contact_id: &str, body: &str) -> Result<(), ApiError> {
        self.reply_as_contact_with(conversation_id, contact_id, body, ReplyExtras::default())
    }

    /// A contact's reply with attachments or a picked quick-reply option.
    pub fn reply_as_contact_with(
        &mut self,
        conversation_id: &str,
        contact_id: &str,
        body: &str,
        extras: ReplyExtras,
    ) -> Result<(), ApiError> {
        self.conversation_mut(conversation_id)?;
        let author = Self::contact_author(self.live_contact(contact_id)?);
        let part_id = self.next_part_id();
        let now = self.now();
        let conv = self.conversation_mut(conversation_id)?;
        if conv.state != ConversationState::Open {
            conv.state = ConversationState::Open;
            conv.snoozed_until = None;
            conv.statistics.count_reopens += 1;
        }
        conv.waiting_since.get_or_insert(now);
        conv.statistics.first_contact_reply_at.get_or_insert(now);
        conv.statistics.last_contact_reply_at = Some(now);
        if !conv.contact_ids.iter().any(|c| c == contact_id) {
            conv.contact_ids.push(contact_id.to_owned());
        }
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: "comment".to_owned(),
                body: Some(html::to_html(body)),
                created_at: now,
                author,
                assigned_to: None,
                state: ConversationState::Open,
                attachments: extras.attachments,
                quick_reply_options: Vec::new(),
                quick_reply_uuid: extras.quick_reply_uuid,
            },
        );
        if let Some(c) = self.contact_mut(contact_id) {
            c.last_replied_at = Some(now);
        }
        self.contact_changed(contact_id);
        self.emit("conversation.user.replied", conversation_id, 1);
        Ok(())
    }

    /// Shared part of close / snooze / open: checks, then applies `change` and records a
    /// part of `part_type`.
    fn state_change(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        part_type: &str,
        topic: &'static str,
        body: Option<&str>,
        change: impl FnOnce(&mut Conversation, i64, &Admin),
    ) -> Result<(), ApiError> {
        self.conversation_mut(conversation_id)?;
        let admin = self.require_admin(admin_id)?;
        let part_id = self.next_part_id();
        let now = self.now();
        let conv = self.conversation_mut(conversation_id)?;
        change(conv, now, &admin);
        let state = conv.state;
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: part_type.to_owned(),
                body: body.map(html::to_html),
                created_at: now,
                author: Self::admin_author(&admin),
                assigned_to: None,
                state,
                attachments: Vec::new(),
                quick_reply_options: Vec::new(),
                quick_reply_uuid: None,
            },
        );
        self.emit(topic, conversation_id, 1);
        Ok(())
    }

    pub fn close(&mut self, conversation_id: &str, admin_id: &str, body: Option<&str>) -> Result<(), ApiError> {
        self.state_change(conversation_id, admin_id, "close", "conversation.admin.closed", body, |c, now, admin| {
            c.state = ConversationState::Closed;
            c.snoozed_until = None;
            c.waiting_since = None;
            c.statistics.first_close_at.get_or_insert(now);
            c.statistics.last_close_at = Some(now);
            c.statistics.last_closed_by_id = Some(admin.id.clone());
        })
    }

    pub fn snooze(&mut self, conversation_id: &str, admin_id: &str, snoozed_until: i64) -> Result<(), ApiError> {
        if snoozed_until <= self.now() {
            self.conversation_mut(conversation_id)?;
            return Err(ApiError::invalid("snoozed_until", "snoozed_until must be in the future"));
        }
        self.state_change(conversation_id, admin_id, "snoozed", "conversation.admin.snoozed", None, |c, _, _| {
            c.state = ConversationState::Snoozed;
            c.snoozed_until = Some(snoozed_until);
        })
    }

    pub fn open(&mut self, conversation_id: &str, admin_id: &str) -> Result<(), ApiError> {
        self.state_change(conversation_id, admin_id, "open", "conversation.admin.opened", None, |c, _, _| {
            if c.state == ConversationState::Closed {
                c.statistics.count_reopens += 1;
            }
            c.state = ConversationState::Open;
            c.snoozed_until = None;
        })
    }

    /// `message_type: assignment`. `assignee_id` "0" unassigns.
    pub fn assign(
        &mut self,
        conversation_id: &str,
        admin_id: &str,
        kind: AssigneeKind,
        assignee_id: &str,
        body: Option<&str>,
    ) -> Result<(), ApiError> {
        self.conversation_mut(conversation_id)?;
        let admin = self.require_admin(admin_id)?;
        let unassign = assignee_id == "0";
        let assignee: Option<i64> = if unassign {
            None
        } else {
            let exists = match kind {
                AssigneeKind::Admin => self.admin(assignee_id).is_some(),
                AssigneeKind::Team => self.team(assignee_id).is_some(),
            };
            let parsed = assignee_id.parse::<i64>().ok().filter(|_| exists);
            match parsed {
                Some(n) => Some(n),
                None => return Err(ApiError::assignee_not_found()),
            }
        };
        let part_id = self.next_part_id();
        let now = self.now();
        let conv = self.conversation_mut(conversation_id)?;
        let assigned_to = match (kind, assignee) {
            (AssigneeKind::Admin, Some(n)) => Reference { kind: "admin".to_owned(), id: Some(n.to_string()) },
            (AssigneeKind::Team, Some(n)) => Reference { kind: "team".to_owned(), id: Some(n.to_string()) },
            (_, None) => Reference { kind: "nobody_admin".to_owned(), id: None },
        };
        match kind {
            AssigneeKind::Admin => conv.admin_assignee_id = assignee,
            AssigneeKind::Team => conv.team_assignee_id = assignee,
        }
        if assignee.is_some() {
            let stats = &mut conv.statistics;
            stats.count_assignments += 1;
            stats.first_assignment_at.get_or_insert(now);
            stats.last_assignment_at = Some(now);
        }
        if !conv.teammate_ids.contains(&admin.id) {
            conv.teammate_ids.push(admin.id.clone());
        }
        let state = conv.state;
        push_part(
            conv,
            Part {
                id: part_id,
                part_type: "assignment".to_owned(),
                body: body.map(html::to_html),
                created_at: now,
                author: Self::admin_author(&admin),
                assigned_to: Some(assigned_to),
                state,
                attachments: Vec::new(),
                quick_reply_options: Vec::new(),
                quick_reply_uuid: None,
            },
        );
        self.emit("conversation.admin.assigned", conversation_id, 1);
        Ok(())
    }
}
