//! Replays the committed fuzz inputs on stable: every file of `fuzz/corpus/<target>/` (the seeds and what the fuzzer
//! kept) and of `fuzz/regressions/<target>/` (inputs that once failed, fixed since) goes through the same
//! `shared::fuzzing` function as the `cargo fuzz` target, so CI checks them without a nightly toolchain.

use std::path::{Path, PathBuf};

/// The inputs of `dir`, sorted; `None` when the directory does not exist.
fn inputs(dir: &Path) -> Option<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    Some(files)
}

/// Runs `target` on every committed input of `name`. The corpus must exist and hold inputs (a replay of nothing
/// would pass silently); regressions are optional. Every failing file is named, not only the first.
fn replay(name: &str, target: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let corpus = fuzz.join("corpus").join(name);
    let seeds = inputs(&corpus).unwrap_or_else(|| panic!("{} is missing: the seed corpus of {name}", corpus.display()));
    assert!(!seeds.is_empty(), "{} is empty: commit the seed corpus of {name}", corpus.display());
    let regressions = inputs(&fuzz.join("regressions").join(name)).unwrap_or_default();

    let failures: Vec<String> = seeds
        .iter()
        .chain(&regressions)
        .filter_map(|path| {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| target(&data));
            outcome.err().map(|_| path.display().to_string())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{name}: {} of {} inputs fail (each panic is printed above); reproduce one with \
         `cargo +nightly fuzz run {name} <file>` in fuzz/:\n{}",
        failures.len(),
        seeds.len() + regressions.len(),
        failures.join("\n")
    );
}

#[test]
fn webhook_inputs_replay() {
    replay("webhook", shared::fuzzing::webhook);
}

#[test]
fn agent_request_inputs_replay() {
    replay("agent_request", shared::fuzzing::agent_request);
}

#[test]
fn html_to_text_inputs_replay() {
    replay("html_to_text", shared::fuzzing::html_to_text_target);
}

#[test]
fn markdown_inputs_replay() {
    replay("markdown", shared::fuzzing::markdown);
}

#[test]
fn human_request_inputs_replay() {
    replay("human_request", shared::fuzzing::human_request);
}

#[test]
fn idempotency_record_inputs_replay() {
    replay("idempotency_record", shared::fuzzing::idempotency_record);
}
