//! The human-request phrase matcher on the worst messages we could build, up to the `lastMessage` limit
//! ([`shared::validate::MAX_MESSAGE_CHARS`] characters): repeated words of every phrase table, phrase prefixes
//! that never complete, optional and repeating words (`real real real …`), negations, clause breaks, one long
//! word, characters whose lower case or accent stripping changes their length, and seeded random mixes.
//!
//! `scripts/bench.sh` runs it in a release build (`cargo run --release -p shared --example phrase_matcher_bench`)
//! and reports the slowest message; the target is under 10 ms. Prints one JSON line on stdout:
//! `{"inputs": N, "max_chars": 20000, "worst_name": "...", "worst_ms": x, "median_input_ms": y, "runs": 5}`,
//! and the five slowest inputs on stderr.

use std::time::Instant;

use shared::escalation::human_request::asks_for_human;
use shared::validate::MAX_MESSAGE_CHARS;

/// Words from the phrase tables of every language (verbs, determiners, adjectives, nouns, negations, fillers,
/// clause breaks, bot words), so that every branch of the matcher is kept busy.
const VOCABULARY: &[&str] = &[
    "i",
    "want",
    "need",
    "to",
    "talk",
    "speak",
    "chat",
    "with",
    "a",
    "an",
    "the",
    "real",
    "live",
    "actual",
    "human",
    "person",
    "agent",
    "representative",
    "someone",
    "operator",
    "manager",
    "get",
    "me",
    "connect",
    "transfer",
    "please",
    "not",
    "no",
    "never",
    "don't",
    "can't",
    "why",
    "can",
    "bot",
    "robot",
    "ai",
    "but",
    "humans",
    "people",
    "echte",
    "echten",
    "einem",
    "einen",
    "menschen",
    "mensch",
    "mit",
    "sprechen",
    "reden",
    "ich",
    "will",
    "mochte",
    "möchte",
    "nicht",
    "kein",
    "ohne",
    "bitte",
    "ki",
    "aber",
    "hablar",
    "con",
    "una",
    "persona",
    "quiero",
    "necesito",
    "operador",
    "por",
    "favor",
    "nunca",
    "sin",
    "pero",
    "parler",
    "à",
    "un",
    "conseiller",
    "humain",
    "je",
    "veux",
    "ne",
    "pas",
    "jamais",
    "svp",
    "mais",
    "falar",
    "com",
    "um",
    "atendente",
    "quero",
    "não",
    "nem",
    "sem",
    "mas",
    "preciso",
    "de",
    "ia",
    "kundenberater",
    "n't",
];

/// Inputs of at most `MAX_MESSAGE_CHARS` characters: `unit` repeated until the limit.
fn repeated(unit: &str) -> String {
    unit.chars().cycle().take(MAX_MESSAGE_CHARS).collect()
}

/// A deterministic mix of vocabulary words and separators (xorshift; no dependency, same input every run).
fn random_mix(seed: u64) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let separators = [" ", " ", " ", " ", ", ", ". ", "! ", "\n", "? "];
    let mut out = String::new();
    let mut chars = 0;
    loop {
        let word = VOCABULARY[(next() % VOCABULARY.len() as u64) as usize];
        let sep = separators[(next() % separators.len() as u64) as usize];
        let piece_chars = word.chars().count() + sep.chars().count();
        if chars + piece_chars > MAX_MESSAGE_CHARS {
            return out;
        }
        out.push_str(word);
        out.push_str(sep);
        chars += piece_chars;
    }
}

fn inputs() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = Vec::new();
    for word in VOCABULARY {
        all.push((format!("'{word} ' repeated"), repeated(&format!("{word} "))));
    }
    let patterns = [
        "talk to a real ",
        "i want to talk to ",
        "i want to talk to a real live ",
        "get me a ",
        "i don't want a bot get me ",
        "mit einem echten ",
        "ich will mit einem echten menschen ",
        "quiero hablar con una ",
        "je ne veux pas parler à un ",
        "não quero falar com um ",
        "human, ",
        "human please ",
        "not not not human ",
        "why can't i ",
        "talk,",
    ];
    for p in patterns {
        all.push((format!("'{p}' repeated"), repeated(p)));
    }
    let mut real_tail = String::from("talk to a ");
    real_tail.push_str(&repeated("real "));
    all.push(("'talk to a' + 'real ' repeated".into(), real_tail.chars().take(MAX_MESSAGE_CHARS).collect()));
    for (name, unit) in [
        ("one long word", "a"),
        ("accented letters", "é"),
        ("dotted capital I (lower case grows)", "İ"),
        ("sharp s", "ß"),
        ("combining accents", "a\u{0301}"),
        ("emoji (4-byte characters)", "😀"),
        ("CJK", "人"),
        ("exclamation marks (empty clauses)", "!"),
        ("line breaks", "\n"),
        ("spaces", " "),
        ("apostrophes", "'"),
        ("digits", "7"),
        ("n't", "n't"),
        ("mixed case", "HuMaN "),
    ] {
        all.push((name.into(), repeated(unit)));
    }
    for seed in 1..=20 {
        all.push((format!("random mix #{seed}"), random_mix(seed)));
    }
    all
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    const RUNS: usize = 5;
    let inputs = inputs();
    // The phrase tables are built on first use: not part of any message's time.
    std::hint::black_box(asks_for_human("warm up"));
    let mut timed: Vec<(f64, &str, bool)> = inputs
        .iter()
        .map(|(name, text)| {
            assert!(text.chars().count() <= MAX_MESSAGE_CHARS, "{name} is over the limit");
            let mut times = Vec::with_capacity(RUNS);
            let mut verdict = false;
            for _ in 0..RUNS {
                let start = Instant::now();
                verdict = std::hint::black_box(asks_for_human(std::hint::black_box(text)));
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            (median(times), name.as_str(), verdict)
        })
        .collect();
    timed.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, name, verdict) in timed.iter().take(5) {
        eprintln!("{ms:8.3} ms  {name} (asks for a human: {verdict})");
    }
    let (worst_ms, worst_name, _) = timed[0];
    println!(
        "{{\"inputs\": {}, \"max_chars\": {MAX_MESSAGE_CHARS}, \"worst_name\": {:?}, \"worst_ms\": {:.3}, \
         \"median_input_ms\": {:.3}, \"runs\": {RUNS}}}",
        timed.len(),
        worst_name,
        worst_ms,
        median(timed.iter().map(|t| t.0).collect()),
    );
}
