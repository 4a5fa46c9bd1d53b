//! Deliveries shaped like Intercom's, for tests here and in the function crates. Only what a test references
//! ends up in a binary.

/// `conversation.user.created`: Jane Doe's first message (HTML with a link), unassigned, untagged.
pub const USER_CREATED: &str = include_str!("fixtures/conversation.user.created.json");
/// `conversation.user.replied`: four parts (Jane's earlier reply, an admin note, an admin reply, Jane's latest
/// reply last); assigned to admin 991267 (sent as a number) and team 5017691; tags vip and billing.
pub const USER_REPLIED: &str = include_str!("fixtures/conversation.user.replied.json");
/// `conversation.admin.replied`: a topic not relayed by default.
pub const ADMIN_REPLIED: &str = include_str!("fixtures/conversation.admin.replied.json");
/// `ping`, with null `id` and `self`, as sent when a webhook is saved.
pub const PING: &str = include_str!("fixtures/ping.json");
