//! `/ai stop` and `/ai resume`: the words a teammate writes at the start of an internal note.
//!
//! Who may write one is [`super::OwnershipRule::command_in`]'s business; here is only what the words are and
//! whether a note's text starts with them.

use crate::text::html_to_text;

pub const DEFAULT_RESUME_COMMAND: &str = "/ai resume";
pub const DEFAULT_STOP_COMMAND: &str = "/ai stop";
/// The settings that change the command words (read by [`super::HandoffSettings`]).
pub const RESUME_COMMAND_VAR: &str = "AI_RESUME_COMMAND";
pub const STOP_COMMAND_VAR: &str = "AI_STOP_COMMAND";
/// Longer commands are a configuration mistake (and would make every note a long comparison).
const MAX_COMMAND_WORDS: usize = 5;

/// A teammate's instruction to the AI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Hand the conversation back to the AI.
    Resume,
    /// Keep the AI out of the conversation until `Resume`.
    Stop,
}

/// The configured command words, lower-cased and split on whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commands {
    resume: Vec<String>,
    stop: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandsError {
    #[error("{name}={value:?} must be one to {MAX_COMMAND_WORDS} words, e.g. {example}")]
    Invalid { name: &'static str, value: String, example: &'static str },
    #[error(
        "AI_RESUME_COMMAND={resume:?} and AI_STOP_COMMAND={stop:?} must differ and neither may start with the \
         other, or a note could mean both"
    )]
    Overlap { resume: String, stop: String },
}

impl Default for Commands {
    fn default() -> Self {
        Commands { resume: words(DEFAULT_RESUME_COMMAND), stop: words(DEFAULT_STOP_COMMAND) }
    }
}

impl Commands {
    /// Validates the two commands: each one to five words, and neither a prefix of the other.
    pub fn new(resume: &str, stop: &str) -> Result<Self, CommandsError> {
        let check = |name: &'static str, value: &str, example: &'static str| {
            let w = words(value);
            if w.is_empty() || w.len() > MAX_COMMAND_WORDS {
                return Err(CommandsError::Invalid { name, value: value.to_owned(), example });
            }
            Ok(w)
        };
        let resume_words = check(RESUME_COMMAND_VAR, resume, DEFAULT_RESUME_COMMAND)?;
        let stop_words = check(STOP_COMMAND_VAR, stop, DEFAULT_STOP_COMMAND)?;
        if resume_words.starts_with(&stop_words) || stop_words.starts_with(&resume_words) {
            return Err(CommandsError::Overlap { resume: resume.to_owned(), stop: stop.to_owned() });
        }
        Ok(Commands { resume: resume_words, stop: stop_words })
    }

    /// The command a note's body (Intercom HTML) starts with, if any. Trailing punctuation on a word is
    /// ignored (`/ai stop.`), other words after the command are allowed (`/ai resume please`).
    pub fn parse(&self, note_html: &str) -> Option<Command> {
        let text = html_to_text(note_html);
        let mut note_words = text.split_whitespace();
        let first: Vec<String> = note_words
            .by_ref()
            .take(self.resume.len().max(self.stop.len()))
            .map(|w| w.trim_end_matches(['.', ',', ';', ':', '!', '?']).to_lowercase())
            .collect();
        if first.starts_with(&self.resume) {
            Some(Command::Resume)
        } else if first.starts_with(&self.stop) {
            Some(Command::Stop)
        } else {
            None
        }
    }

    /// The command as a teammate types it (`/ai resume`), for messages.
    pub fn text(&self, command: Command) -> String {
        match command {
            Command::Resume => self.resume.join(" "),
            Command::Stop => self.stop.join(" "),
        }
    }
}

fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_the_first_words_of_the_note_text() {
        let commands = Commands::default();
        let cases = [
            ("<p>/ai resume</p>", Some(Command::Resume)),
            ("<p>/AI Resume</p>", Some(Command::Resume)),
            ("  <p>  /ai   resume  </p>", Some(Command::Resume)),
            ("<p>/ai resume please</p>", Some(Command::Resume)),
            ("<p>/ai resume</p><p>she is all yours</p>", Some(Command::Resume)),
            ("<p><b>/ai</b> stop.</p>", Some(Command::Stop)),
            ("/ai stop", Some(Command::Stop)),
            ("<p>/ai stop! I've got this</p>", Some(Command::Stop)),
            ("<p>please /ai resume</p>", None),
            ("<p>/ai resumed</p>", None),
            ("<p>/ai</p>", None),
            ("<p>/airesume</p>", None),
            ("<p>ai resume</p>", None),
            ("<p>Checked Stripe: two charges on June 3rd.</p>", None),
            ("", None),
        ];
        for (html, expected) in cases {
            assert_eq!(commands.parse(html), expected, "{html}");
        }
    }

    #[test]
    fn the_words_are_configurable() {
        let commands = Commands::new("#Bot On", "#bot off").unwrap();
        assert_eq!(commands.parse("<p>#bot on</p>"), Some(Command::Resume));
        assert_eq!(commands.parse("<p>#BOT OFF now</p>"), Some(Command::Stop));
        assert_eq!(commands.parse("<p>/ai resume</p>"), None);
        assert_eq!(commands.text(Command::Resume), "#bot on");
        assert_eq!(Commands::default().text(Command::Stop), "/ai stop");
    }

    #[test]
    fn commands_must_be_short_and_distinct() {
        let err = Commands::new(" ", "/ai stop").unwrap_err();
        assert_eq!(err.to_string(), "AI_RESUME_COMMAND=\" \" must be one to 5 words, e.g. /ai resume");
        let err = Commands::new("/ai resume", "a b c d e f").unwrap_err();
        assert!(err.to_string().starts_with("AI_STOP_COMMAND=\"a b c d e f\""), "{err}");
        for (resume, stop) in [("/ai", "/ai stop"), ("/ai go", "/AI  go"), ("/ai resume now", "/ai resume")] {
            let err = Commands::new(resume, stop).unwrap_err();
            assert!(matches!(err, CommandsError::Overlap { .. }), "{resume} / {stop}");
            assert!(err.to_string().contains("must differ"), "{err}");
        }
    }
}
