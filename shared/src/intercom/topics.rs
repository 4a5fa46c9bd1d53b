//! Intercom's webhook topic names: Intercom's vocabulary, below both the webhook that receives them and the
//! hand-off rule that reads a topic (no code here).

/// Sent when a webhook subscription is saved; its `id` and `self` may be null.
pub const TOPIC_PING: &str = "ping";
/// A contact started a conversation; the new message is the conversation's `source`.
pub const TOPIC_USER_CREATED: &str = "conversation.user.created";
/// A contact replied; the new message is the latest contact-authored conversation part.
pub const TOPIC_USER_REPLIED: &str = "conversation.user.replied";
/// A teammate (or the AI's admin, or a workflow) assigned the conversation.
pub const TOPIC_ADMIN_ASSIGNED: &str = "conversation.admin.assigned";
/// A teammate replied to the customer.
pub const TOPIC_ADMIN_REPLIED: &str = "conversation.admin.replied";
pub const TOPIC_ADMIN_CLOSED: &str = "conversation.admin.closed";
pub const TOPIC_ADMIN_OPENED: &str = "conversation.admin.opened";
pub const TOPIC_ADMIN_SNOOZED: &str = "conversation.admin.snoozed";
/// A teammate wrote an internal note (where `/ai stop` and `/ai resume` are written).
pub const TOPIC_ADMIN_NOTED: &str = "conversation.admin.noted";
