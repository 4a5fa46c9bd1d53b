//! The ownership rule itself (documented in the module above).

use super::command::{Command, Commands};
use super::{Handling, Owner, Ownership, Reason, ReasonCode};
use crate::escalation::ESCALATION_TAG;
use crate::intercom::models::{Author, Conversation, Part};
use crate::text::html_to_text;

/// How much of the conversation's history the caller holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum History {
    /// Every part: `GET /conversations/{id}`, or a brand-new conversation. When Intercom's 500-part cap cut the
    /// oldest parts off (`total_count` above the parts given), it is treated as [`History::Recent`].
    Full,
    /// Only the newest parts: a webhook delivery, or the conversation a `POST` answers with.
    #[default]
    Recent,
}

impl History {
    /// `conversation.user.created` carries a new conversation whole; every other topic only its newest parts.
    pub fn for_topic(topic: &str) -> Self {
        if topic == crate::intercom::topics::TOPIC_USER_CREATED { History::Full } else { History::Recent }
    }
}

/// What the caller knows besides the conversation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub history: History,
    /// The caller's store says this conversation was handed to a human (as the `ai-escalation` tag does).
    pub handed_off: bool,
    /// The caller's store says a teammate's `/ai stop` paused the AI here; the conversation's own latest command,
    /// when it shows one, wins over it (it is at least as new).
    pub paused: bool,
    /// The ownership the caller saw last, which a closed conversation keeps.
    pub previous: Option<&'a Ownership>,
}

impl Context<'_> {
    /// A conversation read whole, with nothing remembered.
    pub fn full() -> Self {
        Context { history: History::Full, ..Context::default() }
    }
}

/// The rule's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Decided(Ownership),
    /// The parts given do not settle it: read the conversation (`GET /conversations/{id}`) and decide again with
    /// [`History::Full`]. `why` is for logs.
    NeedsFullConversation {
        why: &'static str,
    },
}

impl Decision {
    pub fn ownership(&self) -> Option<&Ownership> {
        match self {
            Decision::Decided(ownership) => Some(ownership),
            Decision::NeedsFullConversation { .. } => None,
        }
    }
}

/// The rule for one AI admin; build it once per container with [`super::HandoffSettings::rule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipRule {
    ai_admin_id: String,
    ai_team_ids: Vec<String>,
    commands: Commands,
}

/// Who wrote a part, as far as ownership goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Customer,
    Ai,
    Teammate,
    /// Bots (Operator, Fin, workflows), `team` authors, Intercom's AI agent, unknown or missing authors.
    Automation,
}

/// What a part is, as far as ownership goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Seen by the customer.
    Message,
    /// Internal.
    Note,
    /// A state change (close, open, snooze, assignment without a reply, attribute updates…).
    Other,
}

/// What the parts given show, oldest to newest.
#[derive(Default)]
struct Scan<'c> {
    /// Position of the AI's last message or the last `/ai resume`, whichever is later.
    last_reset: Option<usize>,
    /// Position and author of the last teammate message.
    last_teammate: Option<(usize, &'c Author)>,
    last_command: Option<(Command, &'c Author)>,
    resumed: bool,
}

/// The conversation with what the steps of the rule read from it.
struct View<'c> {
    conversation: &'c Conversation,
    admin: Option<&'c str>,
    team: Option<&'c str>,
    /// Every part is given (so the opening message and the absence of a part mean something).
    complete: bool,
    scan: Scan<'c>,
}

impl OwnershipRule {
    pub fn new(ai_admin_id: impl Into<String>, ai_team_ids: Vec<String>, commands: Commands) -> Self {
        OwnershipRule { ai_admin_id: ai_admin_id.into().trim().to_owned(), ai_team_ids, commands }
    }

    pub fn ai_admin_id(&self) -> &str {
        &self.ai_admin_id
    }

    pub fn commands(&self) -> &Commands {
        &self.commands
    }

    /// Decides who handles `conversation` now; see the module documentation for the rule. Each step below is
    /// one numbered line of it, tried in order.
    pub fn decide(&self, conversation: &Conversation, context: &Context<'_>) -> Decision {
        let parts = &conversation.conversation_parts;
        let complete = context.history == History::Full
            && parts.total_count.is_none_or(|total| total <= parts.conversation_parts.len() as u64);
        let scan = self.scan(conversation, complete);
        let view = View {
            conversation,
            admin: conversation.admin_assignee_id.as_deref().map(str::trim),
            team: conversation.team_assignee_id.as_deref().map(str::trim),
            complete,
            scan,
        };
        closed(&view, context)
            .or_else(|| self.assigned_to_a_human(&view))
            .or_else(|| self.paused(&view, context))
            .or_else(|| teammate_replied(&view))
            .or_else(|| self.handed_off(&view, context))
            .unwrap_or_else(|| self.ai_handles(&view))
    }

    /// Who handles a conversation read whole (`GET /conversations/{id}`), always decided: when Intercom's part cap
    /// hid the oldest parts, the newest ones are decided on; should even they not settle the rule, a human
    /// handles it (the AI stays quiet). What `get-conversation` answers and the reply gate checks.
    pub fn decide_whole(&self, conversation: &Conversation) -> Ownership {
        if let Decision::Decided(ownership) = self.decide(conversation, &Context::full()) {
            return ownership;
        }
        let mut newest = conversation.clone();
        newest.conversation_parts.total_count = None;
        match self.decide(&newest, &Context::full()) {
            Decision::Decided(ownership) => ownership,
            // A whole history always settles the rule; should it not, the AI stays quiet.
            Decision::NeedsFullConversation { why } => Ownership {
                handling: Handling::Human,
                owner: Owner::nobody(),
                reason: Reason { code: ReasonCode::HandedOff, message: format!("undecided ({why})") },
            },
        }
    }

    /// 2–3: another admin is the assignee, or no admin and a team the AI does not serve.
    fn assigned_to_a_human(&self, view: &View<'_>) -> Option<Decision> {
        match (view.admin, view.team) {
            (Some(admin), _) if admin != self.ai_admin_id => {
                let owner = Owner::admin(admin, admin_name(view.conversation, admin));
                let message = format!("assigned to {}, not to the AI's admin", describe(&owner));
                Some(decided(Handling::Human, owner, ReasonCode::AssignedToTeammate, message))
            }
            (None, Some(team)) if !self.is_ai_team(team) => {
                let message = format!("assigned to team {team}, which is not in AI_TEAM_IDS, and to no admin");
                Some(decided(Handling::Human, Owner::team(team), ReasonCode::AssignedToTeam, message))
            }
            _ => None,
        }
    }

    /// 4: the latest command in the parts, else the caller's flag.
    fn paused(&self, view: &View<'_>, context: &Context<'_>) -> Option<Decision> {
        let paused = match view.scan.last_command {
            Some((command, _)) => command == Command::Stop,
            None => context.paused,
        };
        if !paused {
            return None;
        }
        let (stop, resume) = (self.commands.text(Command::Stop), self.commands.text(Command::Resume));
        let (owner, message) = match view.scan.last_command {
            Some((_, author)) => {
                let owner = author_owner(author);
                let message =
                    format!("{} paused the AI with '{stop}' until a teammate writes '{resume}'", describe(&owner));
                (owner, message)
            }
            None => (
                team_or_nobody(view.team),
                format!("the AI is paused here ('{stop}') until a teammate writes '{resume}'"),
            ),
        };
        Some(decided(Handling::Human, owner, ReasonCode::Paused, message))
    }

    /// 7: tagged `ai-escalation` or flagged by the caller, unless assigned to the AI or resumed since.
    fn handed_off(&self, view: &View<'_>, context: &Context<'_>) -> Option<Decision> {
        let tagged = view.conversation.tags.tags.iter().any(|t| t.name.trim().eq_ignore_ascii_case(ESCALATION_TAG));
        if view.admin.is_some() || !(tagged || context.handed_off) || view.scan.resumed {
            return None;
        }
        if !view.complete {
            return Some(Decision::NeedsFullConversation {
                why: "the conversation was handed off and the parts given do not show whether it was resumed since",
            });
        }
        let how = if tagged { format!("tagged {ESCALATION_TAG}") } else { "recorded by the caller".to_owned() };
        let resume = self.commands.text(Command::Resume);
        let message = format!("handed to a human ({how}) and not resumed since with '{resume}'");
        Some(decided(Handling::Human, team_or_nobody(view.team), ReasonCode::HandedOff, message))
    }

    /// 6 and 8: what is left is the AI's.
    fn ai_handles(&self, view: &View<'_>) -> Decision {
        if let Some(admin) = view.admin {
            let owner = Owner::admin(admin, admin_name(view.conversation, admin));
            let message = format!("assigned to the AI's admin ({admin})");
            return decided(Handling::Ai, owner, ReasonCode::AssignedToAi, message);
        }
        if let Some((Command::Resume, author)) = view.scan.last_command {
            let resume = self.commands.text(Command::Resume);
            let message = format!("{} handed it back to the AI with '{resume}'", describe(&author_owner(author)));
            return decided(Handling::Ai, team_or_nobody(view.team), ReasonCode::Resumed, message);
        }
        match view.team {
            Some(team) => {
                let message = format!("assigned to team {team}, which the AI serves (AI_TEAM_IDS), and to no admin");
                decided(Handling::Ai, Owner::team(team), ReasonCode::AssignedToAiTeam, message)
            }
            None => {
                let message = "unassigned and never handed to a human".to_owned();
                decided(Handling::Ai, Owner::nobody(), ReasonCode::Unassigned, message)
            }
        }
    }

    /// The command `part` carries: only the first words of an internal note by a teammate count, never a
    /// customer's message, a bot's, or the AI's own note (the escalation note quotes the customer).
    pub fn command_in(&self, part: &Part) -> Option<Command> {
        if kind_of(part.part_type.as_deref(), part.body.as_deref()) != Kind::Note {
            return None;
        }
        let author = part.author.as_ref()?;
        if self.actor(Some(author)) != Actor::Teammate || author.id.is_none() {
            return None;
        }
        self.commands.parse(part.body.as_deref()?)
    }

    /// The newest command in the conversation's parts, with the part carrying it.
    pub fn latest_command<'c>(&self, conversation: &'c Conversation) -> Option<(Command, &'c Part)> {
        conversation.conversation_parts.conversation_parts.iter().rev().find_map(|p| Some((self.command_in(p)?, p)))
    }

    fn is_ai_team(&self, team: &str) -> bool {
        self.ai_team_ids.iter().any(|t| t == team)
    }

    fn actor(&self, author: Option<&Author>) -> Actor {
        let Some(author) = author else { return Actor::Automation };
        match author.kind.as_deref().map(str::trim) {
            Some("user" | "lead" | "contact") => Actor::Customer,
            Some("admin") if author.from_ai_agent == Some(true) => Actor::Automation,
            Some("admin") if author.id.as_deref().map(str::trim) == Some(self.ai_admin_id.as_str()) => Actor::Ai,
            // An admin without an id is still a person as far as we can tell: the AI must not talk over them.
            Some("admin") => Actor::Teammate,
            _ => Actor::Automation,
        }
    }

    /// Walks the conversation oldest to newest: the opening message (only when the history is complete, since
    /// otherwise unseen parts lie between it and the newest ones), then the parts.
    fn scan<'c>(&self, conversation: &'c Conversation, complete: bool) -> Scan<'c> {
        let source =
            conversation.source.as_ref().filter(|_| complete).map(|s| (Kind::Message, s.author.as_ref(), None));
        let parts = conversation
            .conversation_parts
            .conversation_parts
            .iter()
            .map(|p| (kind_of(p.part_type.as_deref(), p.body.as_deref()), p.author.as_ref(), Some(p)));
        let mut scan = Scan::default();
        for (position, (kind, author, part)) in source.into_iter().chain(parts).enumerate() {
            match (self.actor(author), kind, author) {
                (Actor::Ai, Kind::Message, _) => scan.last_reset = Some(position),
                (Actor::Teammate, Kind::Message, Some(author)) => scan.last_teammate = Some((position, author)),
                (Actor::Teammate, Kind::Note, Some(author)) => {
                    if let Some(command) = part.and_then(|p| self.command_in(p)) {
                        scan.last_command = Some((command, author));
                        if command == Command::Resume {
                            scan.last_reset = Some(position);
                            scan.resumed = true;
                        }
                    }
                }
                _ => {}
            }
        }
        scan
    }
}

impl<'c> Scan<'c> {
    /// `Some(Some(teammate))` when a teammate's message is newer than the AI's last message and the last resume,
    /// `Some(None)` when none is, `None` when the parts given cannot tell.
    fn teammate_after_reset(&self, complete: bool) -> Option<Option<&'c Author>> {
        match (self.last_teammate, self.last_reset) {
            (Some((teammate, author)), reset) if reset.is_none_or(|r| teammate > r) => Some(Some(author)),
            (_, Some(_)) => Some(None),
            _ if complete => Some(None),
            _ => None,
        }
    }
}

/// 1: a closed conversation keeps the owner the caller saw before.
fn closed(view: &View<'_>, context: &Context<'_>) -> Option<Decision> {
    let previous = context.previous.filter(|_| view.conversation.state.as_deref() == Some("closed"))?;
    let message = "closed: it keeps its last owner until it is reopened".to_owned();
    Some(decided(previous.handling, previous.owner.clone(), ReasonCode::Closed, message))
}

/// 5: a teammate's message newer than the AI's last message and the last resume.
fn teammate_replied(view: &View<'_>) -> Option<Decision> {
    match view.scan.teammate_after_reset(view.complete) {
        Some(Some(author)) => {
            let owner = author_owner(author);
            let message = format!("{} replied to the customer after the AI's last message", describe(&owner));
            Some(decided(Handling::Human, owner, ReasonCode::TeammateReplied, message))
        }
        Some(None) => None,
        None => Some(Decision::NeedsFullConversation {
            why: "the parts given do not show whether a teammate replied after the AI's last message",
        }),
    }
}

fn kind_of(part_type: Option<&str>, body: Option<&str>) -> Kind {
    match part_type.map(str::trim) {
        Some("comment" | "quick_reply") => Kind::Message,
        Some("note" | "note_and_reopen") => Kind::Note,
        // "Optionally you can send a response in the conversation when it is assigned" (API 2.14).
        Some(t) if t.contains("assign") && body.is_some_and(|b| !html_to_text(b).is_empty()) => Kind::Message,
        _ => Kind::Other,
    }
}

fn decided(handling: Handling, owner: Owner, code: ReasonCode, message: String) -> Decision {
    Decision::Decided(Ownership { handling, owner, reason: Reason { code, message } })
}

fn author_owner(author: &Author) -> Owner {
    match author.id.as_deref() {
        Some(id) => Owner::admin(id.trim(), author.name.clone()),
        None => Owner { kind: super::OwnerKind::Admin, id: None, name: author.name.clone() },
    }
}

/// The owner of a human-handled conversation no admin was assigned or wrote in: its team, else nobody.
fn team_or_nobody(team: Option<&str>) -> Owner {
    team.map_or_else(Owner::nobody, Owner::team)
}

/// The admin's name as the conversation's authors show it, newest first.
fn admin_name(conversation: &Conversation, admin_id: &str) -> Option<String> {
    let parts = conversation.conversation_parts.conversation_parts.iter().rev().filter_map(|p| p.author.as_ref());
    let source = conversation.source.as_ref().and_then(|s| s.author.as_ref());
    parts
        .chain(source)
        .filter(|a| a.kind.as_deref() == Some("admin") && a.id.as_deref().map(str::trim) == Some(admin_id))
        .find_map(|a| a.name.clone())
}

/// "Sam Support (admin 991267)", "admin 991267", "a teammate".
fn describe(owner: &Owner) -> String {
    match (&owner.name, &owner.id) {
        (Some(name), Some(id)) => format!("{name} (admin {id})"),
        (None, Some(id)) => format!("admin {id}"),
        (Some(name), None) => name.clone(),
        (None, None) => "a teammate".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::handoff::{HandoffSettings, OwnerKind};
    use crate::webhook::{event::parse_notification, fixtures};

    const AI: &str = "814860";
    const SAM: &str = "991267";
    const AI_TEAM: &str = "777";
    const OTHER_TEAM: &str = "5017691";

    fn ai() -> Value {
        json!({"type": "admin", "id": AI, "name": "Support AI", "email": "ai@company.example"})
    }
    fn sam() -> Value {
        json!({"type": "admin", "id": SAM, "name": "Sam Support", "email": "sam@company.example"})
    }
    fn user() -> Value {
        json!({"type": "user", "id": "6657add46abd0167d9419cd2", "name": "Jane Doe", "email": "jane@example.com"})
    }
    fn lead() -> Value {
        json!({"type": "lead", "id": "6657add46abd0167d9419cd3", "name": null, "email": null})
    }
    fn contact() -> Value {
        json!({"type": "contact", "id": "6657add46abd0167d9419cd4"})
    }
    fn operator() -> Value {
        json!({"type": "bot", "id": "5001", "name": "Operator", "email": "operator+abc12def@intercom.io"})
    }
    fn fin_bot() -> Value {
        json!({"type": "bot", "id": "5002", "name": "Fin", "from_ai_agent": true, "is_ai_answer": true})
    }
    fn fin_as_admin() -> Value {
        json!({"type": "admin", "id": "5003", "name": "Fin", "from_ai_agent": true, "is_ai_answer": true})
    }
    fn team_author() -> Value {
        json!({"type": "team", "id": OTHER_TEAM, "name": "Billing"})
    }

    fn part(id: u32, part_type: &str, author: Value, body: Option<&str>) -> Value {
        json!({"type": "conversation_part", "id": id.to_string(), "part_type": part_type, "body": body,
               "created_at": 1_718_000_000 + id, "assigned_to": null, "author": author,
               "attachments": [], "redacted": false})
    }
    fn comment(id: u32, author: Value) -> Value {
        part(id, "comment", author, Some("<p>Could you confirm the last 4 digits of the card?</p>"))
    }
    fn note(id: u32, author: Value, body: &str) -> Value {
        part(id, "note", author, Some(body))
    }

    /// A conversation shaped like Intercom's, decoded with the crate's own model.
    fn conversation(admin: Value, team: Value, state: &str, tags: &[&str], parts: Vec<Value>) -> Conversation {
        let count = parts.len();
        let tags: Vec<Value> = tags
            .iter()
            .enumerate()
            .map(|(i, name)| json!({"type": "tag", "id": (81 + i).to_string(), "name": name}))
            .collect();
        serde_json::from_value(json!({
            "type": "conversation", "id": "147", "created_at": 1_717_999_990, "updated_at": 1_718_000_590,
            "state": state, "open": state != "closed", "snoozed_until": if state == "snoozed" { json!(1_718_100_000) } else { Value::Null },
            "admin_assignee_id": admin, "team_assignee_id": team,
            "tags": {"type": "tag.list", "tags": tags},
            "source": {"type": "conversation", "id": "2001", "delivered_as": "customer_initiated", "subject": "",
                       "body": "<p>Hi there, I was charged twice</p>", "author": user()},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "6657add46abd0167d9419cd2"}]},
            "custom_attributes": {},
            "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts, "total_count": count}
        }))
        .expect("the test conversation decodes")
    }
    fn open(admin: Value, team: Value, parts: Vec<Value>) -> Conversation {
        conversation(admin, team, "open", &[], parts)
    }
    fn unassigned(parts: Vec<Value>) -> Conversation {
        open(Value::Null, Value::Null, parts)
    }

    fn rule() -> OwnershipRule {
        let settings = HandoffSettings::from_lookup(|name| (name == "AI_TEAM_IDS").then(|| AI_TEAM.to_owned()));
        settings.expect("settings").rule(AI)
    }

    type Outcome = (Handling, ReasonCode, Owner);

    fn decide_with(c: &Conversation, context: &Context<'_>) -> Outcome {
        match rule().decide(c, context) {
            Decision::Decided(o) => {
                assert!(!o.reason.message.contains("charged"), "a reason never quotes the customer: {o:?}");
                (o.handling, o.reason.code, o.owner)
            }
            other => panic!("expected a decision, got {other:?}"),
        }
    }
    fn decide(c: &Conversation) -> Outcome {
        decide_with(c, &Context::full())
    }
    fn ai_admin() -> Owner {
        Owner::admin(AI, Some("Support AI".into()))
    }
    fn sam_owner() -> Owner {
        Owner::admin(SAM, Some("Sam Support".into()))
    }
    use Handling::{Ai, Human};

    #[test]
    fn every_assignee_shape() {
        let history = || vec![comment(1, user()), comment(2, ai())];
        let cases: Vec<(&str, Value, Value, Outcome)> = vec![
            ("none", Value::Null, Value::Null, (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("\"0\"", json!("0"), json!("0"), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("0 as numbers", json!(0), json!(0), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("empty string", json!(""), Value::Null, (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("AI admin", json!(AI), Value::Null, (Ai, ReasonCode::AssignedToAi, ai_admin())),
            ("AI admin as a number", json!(814_860), Value::Null, (Ai, ReasonCode::AssignedToAi, ai_admin())),
            (
                "other admin",
                json!(991_267),
                Value::Null,
                (Human, ReasonCode::AssignedToTeammate, Owner::admin(SAM, None)),
            ),
            ("AI team", Value::Null, json!(777), (Ai, ReasonCode::AssignedToAiTeam, Owner::team(AI_TEAM))),
            (
                "other team",
                Value::Null,
                json!(OTHER_TEAM),
                (Human, ReasonCode::AssignedToTeam, Owner::team(OTHER_TEAM)),
            ),
            ("AI admin + other team", json!(AI), json!(5_017_691), (Ai, ReasonCode::AssignedToAi, ai_admin())),
            (
                "other admin + AI team",
                json!(SAM),
                json!(AI_TEAM),
                (Human, ReasonCode::AssignedToTeammate, Owner::admin(SAM, None)),
            ),
            (
                "\"0\" admin + other team",
                json!("0"),
                json!(OTHER_TEAM),
                (Human, ReasonCode::AssignedToTeam, Owner::team(OTHER_TEAM)),
            ),
        ];
        for (name, admin, team, expected) in cases {
            assert_eq!(decide(&open(admin, team, history())), expected, "{name}");
        }
    }

    #[test]
    fn every_author_type_writing_after_the_ai() {
        let no_id_admin = json!({"type": "admin", "name": "Pat"});
        let cases: Vec<(&str, Value, Outcome)> = vec![
            ("user", user(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("lead", lead(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("contact", contact(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("the AI's admin", ai(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("a teammate", sam(), (Human, ReasonCode::TeammateReplied, sam_owner())),
            (
                "an admin without an id",
                no_id_admin,
                (
                    Human,
                    ReasonCode::TeammateReplied,
                    Owner { kind: OwnerKind::Admin, id: None, name: Some("Pat".into()) },
                ),
            ),
            ("Operator bot", operator(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("Fin as a bot", fin_bot(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("Fin as an admin", fin_as_admin(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("team (campaign)", team_author(), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("unknown type", json!({"type": "visitor", "id": "1"}), (Ai, ReasonCode::Unassigned, Owner::nobody())),
            ("no type", json!({"id": SAM}), (Ai, ReasonCode::Unassigned, Owner::nobody())),
        ];
        for (name, author, expected) in cases {
            let c = unassigned(vec![comment(1, user()), comment(2, ai()), comment(3, author)]);
            assert_eq!(decide(&c), expected, "{name}");
        }
    }

    #[test]
    fn only_customer_visible_teammate_parts_take_over() {
        let cases: Vec<(&str, Value, Handling)> = vec![
            ("comment", comment(3, sam()), Human),
            ("quick_reply", part(3, "quick_reply", sam(), None), Human),
            ("assignment with a reply", part(3, "assignment", sam(), Some("<p>Let me pass you over.</p>")), Human),
            ("assign_and_reopen with a reply", part(3, "assign_and_reopen", sam(), Some("<p>Back!</p>")), Human),
            ("note", note(3, sam(), "<p>Checked Stripe: two charges on June 3rd.</p>"), Ai),
            ("note_and_reopen", part(3, "note_and_reopen", sam(), Some("<p>FYI</p>")), Ai),
            ("assignment without a body", part(3, "assignment", sam(), None), Ai),
            ("assignment with an empty body", part(3, "assignment", sam(), Some("<p> </p>")), Ai),
            ("close", part(3, "close", sam(), None), Ai),
            ("open", part(3, "open", sam(), None), Ai),
            ("snoozed", part(3, "snoozed", sam(), None), Ai),
            ("attribute update", part(3, "conversation_attribute_updated_by_admin", sam(), None), Ai),
            ("no part_type", json!({"id": "3", "author": sam(), "body": "<p>hi</p>"}), Ai),
        ];
        for (name, teammate_part, expected) in cases {
            let c = unassigned(vec![comment(1, user()), comment(2, ai()), teammate_part]);
            assert_eq!(decide(&c).0, expected, "{name}");
        }
    }

    #[test]
    fn the_order_of_the_ai_and_the_teammate_decides() {
        let cases: Vec<(&str, Vec<Value>, Handling)> = vec![
            ("only the customer", vec![comment(1, user())], Ai),
            ("the AI's own replies", vec![comment(1, ai()), comment(2, user()), comment(3, ai())], Ai),
            ("teammate before the AI's last part", vec![comment(1, sam()), comment(2, user()), comment(3, ai())], Ai),
            ("teammate after the AI's last part", vec![comment(1, ai()), comment(2, sam()), comment(3, user())], Human),
            ("teammate and never the AI", vec![comment(1, user()), comment(2, sam())], Human),
            // conversation.admin.noted by the AI itself: its note neither hands over nor takes back.
            ("the AI's note", vec![comment(1, user()), note(2, ai(), "<p>Summary for the team</p>")], Ai),
            ("the AI's note after a teammate", vec![comment(1, sam()), note(2, ai(), "<p>Noted</p>")], Human),
            ("the AI's assignment after a teammate", vec![comment(1, sam()), part(2, "assignment", ai(), None)], Human),
        ];
        for (name, parts, expected) in cases {
            assert_eq!(decide(&unassigned(parts.clone())).0, expected, "{name} (unassigned)");
            assert_eq!(decide(&open(json!(AI), Value::Null, parts)).0, expected, "{name} (assigned to the AI)");
        }
    }

    #[test]
    fn the_opening_message_counts_when_the_history_is_full() {
        let mut by_sam = unassigned(vec![]);
        by_sam.source.as_mut().expect("source").author = Some(serde_json::from_value(sam()).expect("author"));
        assert_eq!(decide(&by_sam), (Human, ReasonCode::TeammateReplied, sam_owner()));
        let mut by_ai = unassigned(vec![comment(1, user())]);
        by_ai.source.as_mut().expect("source").author = Some(serde_json::from_value(ai()).expect("author"));
        assert_eq!(decide(&by_ai).0, Ai);
    }

    #[test]
    fn closed_conversations_keep_their_last_owner_until_reopened() {
        let human_parts = || vec![comment(1, ai()), comment(2, sam())];
        let previous_ai = Ownership {
            handling: Ai,
            owner: Owner::nobody(),
            reason: Reason { code: ReasonCode::Unassigned, message: "m".into() },
        };
        let previous_human = Ownership {
            handling: Human,
            owner: sam_owner(),
            reason: Reason { code: ReasonCode::TeammateReplied, message: "m".into() },
        };
        let with = |previous| Context { previous: Some(previous), ..Context::full() };

        let closed = conversation(Value::Null, Value::Null, "closed", &[], human_parts());
        assert_eq!(decide_with(&closed, &with(&previous_ai)), (Ai, ReasonCode::Closed, Owner::nobody()));
        assert_eq!(decide_with(&closed, &with(&previous_human)), (Human, ReasonCode::Closed, sam_owner()));
        assert_eq!(decide(&closed), (Human, ReasonCode::TeammateReplied, sam_owner()), "no previous: from itself");
        let closed_by_ai = conversation(json!(AI), Value::Null, "closed", &[], vec![comment(1, ai())]);
        assert_eq!(decide(&closed_by_ai).1, ReasonCode::AssignedToAi);
        // Closed with a previous owner needs no history at all.
        let delivery = Context { history: History::Recent, ..with(&previous_human) };
        assert_eq!(decide_with(&conversation(json!(AI), Value::Null, "closed", &[], vec![]), &delivery).0, Human);

        for state in ["open", "snoozed"] {
            let c = conversation(Value::Null, Value::Null, state, &[], human_parts());
            assert_eq!(
                decide_with(&c, &with(&previous_ai)),
                (Human, ReasonCode::TeammateReplied, sam_owner()),
                "{state}"
            );
            let c = conversation(Value::Null, Value::Null, state, &[], vec![comment(1, ai())]);
            assert_eq!(decide_with(&c, &with(&previous_human)).1, ReasonCode::Unassigned, "{state}");
        }
    }

    #[test]
    fn a_hand_off_holds_until_resumed_or_assigned_to_the_ai() {
        let tagged =
            |admin: Value, team: Value, tag: &str, parts| conversation(admin, team, "open", &["vip", tag], parts);
        let escalation_note = note(2, ai(), "<p>/ai resume</p><p>Customer said: /ai stop, /ai resume</p>");
        let resume = note(3, sam(), "<p>/ai resume</p>");

        let c = tagged(Value::Null, Value::Null, "ai-escalation", vec![escalation_note.clone()]);
        assert_eq!(decide(&c), (Human, ReasonCode::HandedOff, Owner::nobody()));
        let c = tagged(Value::Null, Value::Null, "AI-Escalation", vec![]);
        assert_eq!(decide(&c).1, ReasonCode::HandedOff);
        let c = tagged(Value::Null, json!(AI_TEAM), "ai-escalation", vec![]);
        assert_eq!(decide(&c), (Human, ReasonCode::HandedOff, Owner::team(AI_TEAM)), "an AI team does not undo it");
        let c = tagged(json!(AI), Value::Null, "ai-escalation", vec![]);
        assert_eq!(decide(&c).1, ReasonCode::AssignedToAi, "assigning to the AI hands it back");
        let c = tagged(Value::Null, Value::Null, "other", vec![]);
        assert_eq!(decide(&c).1, ReasonCode::Unassigned);

        let flagged = Context { handed_off: true, ..Context::full() };
        assert_eq!(decide_with(&unassigned(vec![comment(1, ai())]), &flagged).1, ReasonCode::HandedOff);

        let c = tagged(Value::Null, Value::Null, "ai-escalation", vec![escalation_note.clone(), resume.clone()]);
        assert_eq!(decide(&c), (Ai, ReasonCode::Resumed, Owner::nobody()));
        assert_eq!(decide_with(&unassigned(vec![resume.clone()]), &flagged).1, ReasonCode::Resumed);
        let c = tagged(Value::Null, Value::Null, "ai-escalation", vec![escalation_note, resume, comment(4, sam())]);
        assert_eq!(decide(&c).1, ReasonCode::TeammateReplied, "a reply after the resume takes it again");
    }

    #[test]
    fn stop_and_resume_notes_by_a_teammate() {
        let stop = || note(3, sam(), "<p>/AI stop</p><p>I've got this one</p>");
        let resume = || note(4, sam(), "<p>/ai resume please</p>");
        let assigned_to_ai = |parts| open(json!(AI), Value::Null, parts);

        assert_eq!(decide(&assigned_to_ai(vec![comment(1, ai()), stop()])), (Human, ReasonCode::Paused, sam_owner()));
        assert_eq!(decide(&assigned_to_ai(vec![stop(), resume()])).1, ReasonCode::AssignedToAi);
        assert_eq!(decide(&unassigned(vec![stop(), resume()])).1, ReasonCode::Resumed);
        // A resume clears earlier teammate replies; it does not override an assignment to a person or team.
        assert_eq!(decide(&unassigned(vec![comment(1, ai()), comment(2, sam()), resume()])).0, Ai);
        assert_eq!(decide(&open(json!(SAM), Value::Null, vec![resume()])).1, ReasonCode::AssignedToTeammate);
        assert_eq!(decide(&open(Value::Null, json!(OTHER_TEAM), vec![resume()])).1, ReasonCode::AssignedToTeam);

        let paused = Context { paused: true, ..Context::full() };
        assert_eq!(
            decide_with(&assigned_to_ai(vec![comment(1, ai())]), &paused),
            (Human, ReasonCode::Paused, Owner::nobody())
        );
        assert_eq!(decide_with(&assigned_to_ai(vec![stop(), resume()]), &paused).0, Ai, "the newer note wins");
        assert_eq!(decide_with(&unassigned(vec![resume(), stop()]), &Context::full()).1, ReasonCode::Paused);
    }

    #[test]
    fn commands_anyone_else_writes_are_ignored() {
        let r = rule();
        let cases: Vec<(&str, Value, Option<Command>)> = vec![
            ("teammate note", note(1, sam(), "<p>/ai stop</p>"), Some(Command::Stop)),
            ("teammate note, resume", note(1, sam(), "<p>/ai resume</p>"), Some(Command::Resume)),
            (
                "teammate note_and_reopen",
                part(1, "note_and_reopen", sam(), Some("<p>/ai resume</p>")),
                Some(Command::Resume),
            ),
            ("not the first words", note(1, sam(), "<p>please /ai resume</p>"), None),
            ("teammate comment", comment_with(1, sam(), "<p>/ai stop</p>"), None),
            ("customer message", comment_with(1, user(), "<p>/ai resume</p>"), None),
            ("lead message", comment_with(1, lead(), "<p>/ai stop</p>"), None),
            ("a 'note' by a contact", note(1, contact(), "<p>/ai resume</p>"), None),
            ("the AI's escalation note quoting the customer", note(1, ai(), "<p>/ai resume</p>"), None),
            ("Operator", note(1, operator(), "<p>/ai resume</p>"), None),
            ("Fin as an admin", note(1, fin_as_admin(), "<p>/ai stop</p>"), None),
            ("team author", note(1, team_author(), "<p>/ai stop</p>"), None),
            ("admin without an id", note(1, json!({"type": "admin", "name": "?"}), "<p>/ai stop</p>"), None),
            ("no author", json!({"id": "1", "part_type": "note", "body": "<p>/ai stop</p>"}), None),
        ];
        for (name, raw, expected) in cases {
            let part: Part = serde_json::from_value(raw.clone()).expect("part decodes");
            assert_eq!(r.command_in(&part), expected, "{name}");
            // In a conversation the AI handles, only a teammate's stop note (or any teammate reply) changes hands.
            let c = open(json!(AI), Value::Null, vec![comment(0, ai()), raw]);
            let expected_handling =
                if expected == Some(Command::Stop) || name == "teammate comment" { Human } else { Ai };
            assert_eq!(decide(&c).0, expected_handling, "{name}");
        }
        // A customer cannot pause the AI by typing a command in their first message either.
        let mut c = open(json!(AI), Value::Null, vec![comment(1, ai())]);
        c.source.as_mut().expect("source").body = Some("<p>/ai stop</p>".into());
        assert_eq!(decide(&c).1, ReasonCode::AssignedToAi);
        assert!(r.latest_command(&c).is_none());
        let c = unassigned(vec![
            note(1, sam(), "<p>/ai stop</p>"),
            note(2, sam(), "<p>/ai resume</p>"),
            comment(3, user()),
        ]);
        let (command, part) = r.latest_command(&c).expect("a command");
        assert_eq!((command, part.id.as_str()), (Command::Resume, "2"));
    }

    fn comment_with(id: u32, author: Value, body: &str) -> Value {
        part(id, "comment", author, Some(body))
    }

    #[test]
    fn a_delivery_says_when_it_needs_the_full_conversation() {
        let delivery = Context::default();
        assert_eq!(delivery.history, History::Recent);
        let needs = |c: &Conversation, context: &Context<'_>| {
            matches!(rule().decide(c, context), Decision::NeedsFullConversation { .. })
        };

        // One customer part: a teammate may have replied before it.
        assert!(needs(&open(json!(AI), Value::Null, vec![comment(9, user())]), &delivery));
        assert!(needs(&unassigned(vec![comment(9, user())]), &delivery));
        assert!(needs(&unassigned(vec![]), &delivery));
        assert!(needs(&unassigned(vec![note(9, ai(), "<p>note</p>")]), &delivery), "the AI's note settles nothing");
        // Tagged: an earlier resume may exist.
        let tagged = conversation(Value::Null, Value::Null, "open", &["ai-escalation"], vec![comment(9, ai())]);
        assert!(needs(&tagged, &delivery));
        // What the parts do settle.
        assert_eq!(
            decide_with(&open(json!(SAM), Value::Null, vec![comment(9, user())]), &delivery).1,
            ReasonCode::AssignedToTeammate
        );
        assert_eq!(decide_with(&open(Value::Null, json!(OTHER_TEAM), vec![]), &delivery).1, ReasonCode::AssignedToTeam);
        assert_eq!(decide_with(&unassigned(vec![comment(9, sam())]), &delivery).1, ReasonCode::TeammateReplied);
        assert_eq!(
            decide_with(&open(json!(AI), Value::Null, vec![comment(9, ai())]), &delivery).1,
            ReasonCode::AssignedToAi
        );
        assert_eq!(decide_with(&unassigned(vec![note(9, sam(), "<p>/ai stop</p>")]), &delivery).1, ReasonCode::Paused);
        let resumed = conversation(
            Value::Null,
            Value::Null,
            "open",
            &["ai-escalation"],
            vec![note(9, sam(), "<p>/ai resume</p>")],
        );
        assert_eq!(decide_with(&resumed, &delivery).1, ReasonCode::Resumed);
        let paused = Context { paused: true, ..Context::default() };
        assert_eq!(decide_with(&unassigned(vec![comment(9, user())]), &paused).1, ReasonCode::Paused);

        // A full read cut by Intercom's 500-part cap is only the newest parts too.
        let mut capped = open(json!(AI), Value::Null, vec![comment(9, user())]);
        capped.conversation_parts.total_count = Some(600);
        assert!(needs(&capped, &Context::full()));
        capped.conversation_parts.total_count = Some(1);
        assert_eq!(decide(&capped).1, ReasonCode::AssignedToAi);
    }

    fn delivered(raw: &str) -> (String, Conversation) {
        let notification = parse_notification(raw.as_bytes()).expect("fixture parses");
        let item = notification.item().expect("fixture has an item").clone();
        (notification.topic, serde_json::from_value(item).expect("the item decodes as a conversation"))
    }

    #[test]
    fn real_deliveries() {
        let as_sam = OwnershipRule::new(SAM, vec![], Commands::default());
        let outcome = |r: &OwnershipRule, c: &Conversation, history| match r
            .decide(c, &Context { history, ..Context::default() })
        {
            Decision::Decided(o) => Some((o.handling, o.reason.code, o.owner)),
            Decision::NeedsFullConversation { .. } => None,
        };

        let (topic, created) = delivered(fixtures::USER_CREATED);
        assert_eq!(History::for_topic(&topic), History::Full);
        assert_eq!(
            outcome(&rule(), &created, History::for_topic(&topic)),
            Some((Ai, ReasonCode::Unassigned, Owner::nobody()))
        );

        // conversation.admin.replied carries one part: Sam's reply. Assigned to Sam (991267, sent as a number).
        let (topic, replied) = delivered(fixtures::ADMIN_REPLIED);
        assert_eq!(History::for_topic(&topic), History::Recent);
        assert_eq!(
            outcome(&rule(), &replied, History::Recent),
            Some((Human, ReasonCode::AssignedToTeammate, sam_owner()))
        );
        let sam_ai = Owner::admin(SAM, Some("Sam Support".into()));
        assert_eq!(outcome(&as_sam, &replied, History::Recent), Some((Ai, ReasonCode::AssignedToAi, sam_ai.clone())));

        // conversation.user.replied: a note and a reply by 991267, then Jane. Team 5017691 too; the admin decides.
        let (_, user_replied) = delivered(fixtures::USER_REPLIED);
        assert_eq!(
            outcome(&rule(), &user_replied, History::Recent),
            Some((Human, ReasonCode::AssignedToTeammate, sam_owner()))
        );
        assert_eq!(outcome(&as_sam, &user_replied, History::Full), Some((Ai, ReasonCode::AssignedToAi, sam_ai)));
        let mut only_jane = user_replied.clone();
        only_jane.conversation_parts.conversation_parts.drain(..3);
        only_jane.conversation_parts.total_count = Some(1);
        assert_eq!(outcome(&as_sam, &only_jane, History::Recent), None, "one customer part: read the conversation");
    }

    #[test]
    fn reasons_read_as_sentences() {
        let message = |c: &Conversation, context: &Context<'_>| match rule().decide(c, context) {
            Decision::Decided(o) => o.reason.message,
            other => panic!("{other:?}"),
        };
        let full = Context::full();
        let sam_wrote = vec![comment(1, ai()), comment(2, sam())];
        assert_eq!(
            message(&open(json!(SAM), Value::Null, sam_wrote.clone()), &full),
            "assigned to Sam Support (admin 991267), not to the AI's admin"
        );
        assert_eq!(
            message(&unassigned(sam_wrote), &full),
            "Sam Support (admin 991267) replied to the customer after the AI's last message"
        );
        assert_eq!(
            message(&unassigned(vec![note(1, sam(), "<p>/ai stop</p>")]), &full),
            "Sam Support (admin 991267) paused the AI with '/ai stop' until a teammate writes '/ai resume'"
        );
        assert_eq!(
            message(&conversation(Value::Null, Value::Null, "open", &["ai-escalation"], vec![]), &full),
            "handed to a human (tagged ai-escalation) and not resumed since with '/ai resume'"
        );
        assert_eq!(message(&unassigned(vec![]), &full), "unassigned and never handed to a human");
        assert_eq!(message(&open(json!(AI), Value::Null, vec![]), &full), "assigned to the AI's admin (814860)");
    }
}
