//! When the AI hands a conversation to a human: the pure decision, with no I/O.
//!
//! A conversation escalates when any of these holds:
//!
//! * the AI's confidence is **strictly below** the policy threshold (default 0.40: 0.39 escalates,
//!   0.40 does not) — [`Reason::LowConfidence`];
//! * the customer asked for a person — the caller's explicit flag, or [`asks_for_human`] on the
//!   last message — [`Reason::HumanRequested`];
//! * the issue category is one of the policy's sensitive categories (default
//!   `billing,legal,account_deletion`) — [`Reason::SensitiveCategory`].
//!
//! [`decide`] reports every reason that applies, always in that order, each at most once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::human_request::asks_for_human;

/// Environment variable holding the confidence threshold.
pub const THRESHOLD_VAR: &str = "ESCALATION_CONFIDENCE_THRESHOLD";
/// Environment variable holding the sensitive categories.
pub const CATEGORIES_VAR: &str = "ESCALATION_CATEGORIES";

/// Why a policy setting was rejected. Messages name the variable and show a valid value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "{THRESHOLD_VAR} must be a number between 0 and 1 (for example 0.40), got {value:?}; \
         unset it to use the default {default}",
        default = EscalationPolicy::DEFAULT_THRESHOLD
    )]
    InvalidThreshold { value: String },
    #[error(
        "{CATEGORIES_VAR} must be a comma-separated list of category names made of letters, digits, \
         spaces, hyphens or underscores (for example \"billing,legal,account_deletion\"), \
         got {entry:?} in {value:?}"
    )]
    InvalidCategory { entry: String, value: String },
}

/// Why a set of signals could not be judged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("confidence must be a number between 0 and 1, got {value}")]
    InvalidConfidence { value: f64 },
}

/// The escalation settings: a confidence threshold and the sensitive categories.
///
/// Categories are stored normalized (see [`normalize_category`]), deduplicated, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationPolicy {
    confidence_threshold: f64,
    categories: Vec<String>,
}

impl EscalationPolicy {
    pub const DEFAULT_THRESHOLD: f64 = 0.40;
    pub const DEFAULT_CATEGORIES: &'static str = "billing,legal,account_deletion";

    /// Builds the policy from the raw values of `ESCALATION_CONFIDENCE_THRESHOLD` and
    /// `ESCALATION_CATEGORIES`; `None` means the variable is unset and its default applies.
    ///
    /// * The threshold must parse as a number in `[0, 1]` (surrounding whitespace is ignored).
    ///   A blank value is an error, not the default: unset the variable to get 0.40.
    ///   `0` disables the low-confidence rule; `1` escalates everything short of full confidence.
    /// * Categories are a comma-separated list; each entry is normalized with
    ///   [`normalize_category`] and may contain only ASCII letters, digits, spaces, hyphens and
    ///   underscores. Empty entries are ignored and duplicates dropped, so a blank value (or
    ///   `","`) is allowed and means **no sensitive categories** — the way to switch that rule off.
    pub fn from_settings(threshold: Option<&str>, categories: Option<&str>) -> Result<Self, PolicyError> {
        let confidence_threshold = match threshold {
            None => Self::DEFAULT_THRESHOLD,
            Some(raw) => parse_threshold(raw)?,
        };
        let categories = parse_categories(categories.unwrap_or(Self::DEFAULT_CATEGORIES))?;
        Ok(Self { confidence_threshold, categories })
    }

    /// Builds a policy from already-typed values, with the same rules as [`Self::from_settings`]
    /// (each item is one category, so a comma inside an item is an error).
    pub fn new<I, S>(threshold: f64, categories: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if !valid_unit_interval(threshold) {
            return Err(PolicyError::InvalidThreshold { value: threshold.to_string() });
        }
        let entries: Vec<String> = categories.into_iter().map(|c| c.as_ref().to_owned()).collect();
        let categories = collect_categories(entries.iter().map(String::as_str), || entries.join(","))?;
        Ok(Self { confidence_threshold: threshold, categories })
    }

    /// Confidence strictly below this escalates.
    pub fn threshold(&self) -> f64 {
        self.confidence_threshold
    }

    /// The normalized sensitive categories.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// Whether `category` (in any spelling [`normalize_category`] accepts) is sensitive.
    pub fn is_sensitive(&self, category: &str) -> bool {
        let normalized = normalize_category(category);
        !normalized.is_empty() && self.categories.contains(&normalized)
    }
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self {
            confidence_threshold: Self::DEFAULT_THRESHOLD,
            categories: Self::DEFAULT_CATEGORIES.split(',').map(normalize_category).collect(),
        }
    }
}

fn valid_unit_interval(value: f64) -> bool {
    value.is_finite() && (0.0..=1.0).contains(&value)
}

fn parse_threshold(raw: &str) -> Result<f64, PolicyError> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|value| valid_unit_interval(*value))
        .ok_or_else(|| PolicyError::InvalidThreshold { value: raw.to_owned() })
}

fn parse_categories(raw: &str) -> Result<Vec<String>, PolicyError> {
    collect_categories(raw.split(','), || raw.to_owned())
}

/// Normalizes, validates and deduplicates category entries; `whole` renders the setting for errors.
fn collect_categories<'a>(
    entries: impl Iterator<Item = &'a str>,
    whole: impl Fn() -> String,
) -> Result<Vec<String>, PolicyError> {
    let mut categories: Vec<String> = Vec::new();
    for entry in entries {
        let normalized = normalize_category(entry);
        if normalized.is_empty() {
            continue;
        }
        if !normalized.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(PolicyError::InvalidCategory { entry: entry.trim().to_owned(), value: whole() });
        }
        if !categories.contains(&normalized) {
            categories.push(normalized);
        }
    }
    Ok(categories)
}

/// Normalizes a category name so spellings compare equal: trimmed, lower-case, and every run of
/// spaces, hyphens and underscores turned into one underscore (leading/trailing runs dropped).
///
/// `"Account Deletion"`, `"account-deletion"` and `" ACCOUNT_deletion "` all become
/// `"account_deletion"`. Other characters are kept as they are (lower-cased).
pub fn normalize_category(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_separator = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '-' || c == '_' {
            pending_separator = !out.is_empty();
        } else {
            if pending_separator {
                out.push('_');
                pending_separator = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// What the caller knows about the conversation at the moment of deciding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals<'a> {
    /// The AI's confidence in its own answer, in `[0, 1]`.
    pub confidence: f64,
    /// The issue category, in any spelling [`normalize_category`] accepts; `None` or blank = unknown.
    pub category: Option<&'a str>,
    /// The customer's latest message, scanned with [`asks_for_human`].
    pub last_message: &'a str,
    /// The caller already knows the customer asked for a person.
    pub human_requested: bool,
}

/// One reason to escalate.
///
/// Serializes and displays as `low_confidence`, `human_requested` or
/// `sensitive_category:<normalized name>`; parses back from the same strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    LowConfidence,
    HumanRequested,
    /// Holds the normalized category name.
    SensitiveCategory(String),
}

impl Reason {
    /// Prefix shared by every tag name, so the AI's tags are easy to find in Intercom.
    pub const TAG_PREFIX: &'static str = "ai-";

    /// A tag-safe name for this reason: `ai-low-confidence`, `ai-human-requested`, or
    /// `ai-sensitive-<category>` where the category is lower-cased ASCII with every other
    /// character (including `_`) turned into a single `-`, e.g. `ai-sensitive-account-deletion`.
    pub fn tag_name(&self) -> String {
        match self {
            Reason::LowConfidence => format!("{}low-confidence", Self::TAG_PREFIX),
            Reason::HumanRequested => format!("{}human-requested", Self::TAG_PREFIX),
            Reason::SensitiveCategory(category) => {
                let mut slug = String::with_capacity(category.len());
                for c in category.chars().flat_map(char::to_lowercase) {
                    if c.is_ascii_alphanumeric() {
                        slug.push(c);
                    } else if !slug.is_empty() && !slug.ends_with('-') {
                        slug.push('-');
                    }
                }
                let slug = slug.trim_end_matches('-');
                if slug.is_empty() {
                    format!("{}sensitive", Self::TAG_PREFIX)
                } else {
                    format!("{}sensitive-{slug}", Self::TAG_PREFIX)
                }
            }
        }
    }
}

const SENSITIVE_PREFIX: &str = "sensitive_category:";

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::LowConfidence => f.write_str("low_confidence"),
            Reason::HumanRequested => f.write_str("human_requested"),
            Reason::SensitiveCategory(category) => write!(f, "{SENSITIVE_PREFIX}{category}"),
        }
    }
}

/// A string that is not one of the [`Reason`] forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown escalation reason {0:?}: expected \"low_confidence\", \"human_requested\" or \
     \"sensitive_category:<name>\""
)]
pub struct ParseReasonError(pub String);

impl FromStr for Reason {
    type Err = ParseReasonError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low_confidence" => Ok(Reason::LowConfidence),
            "human_requested" => Ok(Reason::HumanRequested),
            _ => s
                .strip_prefix(SENSITIVE_PREFIX)
                .map(normalize_category)
                .filter(|category| !category.is_empty())
                .map(Reason::SensitiveCategory)
                .ok_or_else(|| ParseReasonError(s.to_owned())),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// The outcome: whether to escalate, and every reason that applies
/// (order: low confidence, human requested, sensitive category; no duplicates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub escalate: bool,
    pub reasons: Vec<Reason>,
}

/// Decides whether to escalate. Fails only when the confidence is not a number in `[0, 1]`
/// (NaN, an infinity, below 0 or above 1).
pub fn decide(policy: &EscalationPolicy, signals: &Signals<'_>) -> Result<Decision, RuleError> {
    if !valid_unit_interval(signals.confidence) {
        return Err(RuleError::InvalidConfidence { value: signals.confidence });
    }

    let mut reasons = Vec::new();
    if signals.confidence < policy.confidence_threshold {
        reasons.push(Reason::LowConfidence);
    }
    if signals.human_requested || asks_for_human(signals.last_message) {
        reasons.push(Reason::HumanRequested);
    }
    if let Some(category) = signals.category {
        let normalized = normalize_category(category);
        if !normalized.is_empty() && policy.categories.contains(&normalized) {
            reasons.push(Reason::SensitiveCategory(normalized));
        }
    }

    Ok(Decision { escalate: !reasons.is_empty(), reasons })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(confidence: f64) -> Signals<'static> {
        Signals { confidence, category: None, last_message: "How do I reset my password?", human_requested: false }
    }

    fn reasons(policy: &EscalationPolicy, signals: &Signals<'_>) -> Vec<Reason> {
        decide(policy, signals).expect("valid signals").reasons
    }

    // ---- low confidence -------------------------------------------------------------------

    #[test]
    fn confidence_just_below_default_threshold_escalates() {
        let decision = decide(&EscalationPolicy::default(), &signals(0.39)).unwrap();
        assert_eq!(decision, Decision { escalate: true, reasons: vec![Reason::LowConfidence] });
    }

    #[test]
    fn confidence_equal_to_threshold_does_not_escalate() {
        let decision = decide(&EscalationPolicy::default(), &signals(0.40)).unwrap();
        assert_eq!(decision, Decision { escalate: false, reasons: vec![] });
    }

    #[test]
    fn confidence_boundaries() {
        let policy = EscalationPolicy::default();
        for (confidence, escalates) in [(0.3999, true), (0.0, true), (-0.0, true), (0.4001, false), (1.0, false)] {
            let decision = decide(&policy, &signals(confidence)).unwrap();
            assert_eq!(decision.escalate, escalates, "confidence {confidence}");
            assert_eq!(decision.reasons.contains(&Reason::LowConfidence), escalates, "confidence {confidence}");
        }
    }

    #[test]
    fn invalid_confidence_is_an_error_naming_the_value() {
        let policy = EscalationPolicy::default();
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1, 1.1, -f64::MIN_POSITIVE, 1.0 + f64::EPSILON] {
            let err = decide(&policy, &signals(value)).unwrap_err();
            let RuleError::InvalidConfidence { value: reported } = err.clone();
            assert!(reported.to_bits() == value.to_bits(), "{value} reported as {reported}");
            assert_eq!(err.to_string(), format!("confidence must be a number between 0 and 1, got {value}"));
        }
        assert_eq!(
            decide(&policy, &signals(f64::NAN)).unwrap_err().to_string(),
            "confidence must be a number between 0 and 1, got NaN"
        );
        assert_eq!(
            decide(&policy, &signals(1.1)).unwrap_err().to_string(),
            "confidence must be a number between 0 and 1, got 1.1"
        );
    }

    #[test]
    fn invalid_confidence_errors_even_when_other_rules_would_escalate() {
        let s = Signals {
            confidence: f64::NAN,
            category: Some("billing"),
            last_message: "human please",
            human_requested: true,
        };
        assert!(decide(&EscalationPolicy::default(), &s).is_err());
    }

    #[test]
    fn custom_threshold_moves_the_boundary() {
        let policy = EscalationPolicy::from_settings(Some("0.75"), None).unwrap();
        assert_eq!(policy.threshold(), 0.75);
        assert!(decide(&policy, &signals(0.74)).unwrap().escalate);
        assert!(decide(&policy, &signals(0.5)).unwrap().escalate);
        assert!(!decide(&policy, &signals(0.75)).unwrap().escalate);
    }

    #[test]
    fn threshold_zero_never_escalates_on_confidence_and_one_escalates_below_certainty() {
        let never = EscalationPolicy::from_settings(Some("0"), None).unwrap();
        assert!(!decide(&never, &signals(0.0)).unwrap().escalate);
        let always = EscalationPolicy::from_settings(Some("1"), None).unwrap();
        assert_eq!(reasons(&always, &signals(0.99)), vec![Reason::LowConfidence]);
        assert!(!decide(&always, &signals(1.0)).unwrap().escalate);
    }

    // ---- human requested ------------------------------------------------------------------

    #[test]
    fn explicit_flag_alone_requests_a_human() {
        let s = Signals { human_requested: true, ..signals(0.9) };
        assert_eq!(reasons(&EscalationPolicy::default(), &s), vec![Reason::HumanRequested]);
    }

    #[test]
    fn message_text_alone_requests_a_human() {
        let s = Signals { last_message: "Can I talk to a human please?", ..signals(0.9) };
        assert_eq!(reasons(&EscalationPolicy::default(), &s), vec![Reason::HumanRequested]);
    }

    #[test]
    fn negated_message_without_flag_does_not_request_a_human() {
        let s = Signals { last_message: "I don't need a human, thanks", ..signals(0.9) };
        assert!(!decide(&EscalationPolicy::default(), &s).unwrap().escalate);
    }

    #[test]
    fn flag_and_text_together_give_one_reason() {
        let s = Signals { last_message: "get me a real person", human_requested: true, ..signals(0.9) };
        assert_eq!(reasons(&EscalationPolicy::default(), &s), vec![Reason::HumanRequested]);
    }

    // ---- sensitive categories -------------------------------------------------------------

    #[test]
    fn each_default_category_escalates_with_its_normalized_name() {
        let policy = EscalationPolicy::default();
        for (given, normalized) in
            [("billing", "billing"), ("Legal", "legal"), ("Account Deletion", "account_deletion")]
        {
            let s = Signals { category: Some(given), ..signals(0.9) };
            assert_eq!(reasons(&policy, &s), vec![Reason::SensitiveCategory(normalized.to_owned())], "{given}");
        }
    }

    #[test]
    fn non_sensitive_unknown_or_blank_category_does_not_escalate() {
        let policy = EscalationPolicy::default();
        for category in [Some("shipping"), Some("billing_address_change"), Some(""), Some("  -_ "), None] {
            let s = Signals { category, ..signals(0.9) };
            assert!(!decide(&policy, &s).unwrap().escalate, "{category:?}");
        }
    }

    #[test]
    fn category_spellings_match_the_same_configured_category() {
        let policy = EscalationPolicy::default();
        for spelling in
            ["account_deletion", "Account Deletion", "account-deletion", " ACCOUNT_deletion ", "account  --  deletion"]
        {
            let s = Signals { category: Some(spelling), ..signals(0.9) };
            assert_eq!(
                reasons(&policy, &s),
                vec![Reason::SensitiveCategory("account_deletion".into())],
                "{spelling:?}"
            );
            assert!(policy.is_sensitive(spelling));
        }
    }

    #[test]
    fn custom_categories_replace_the_defaults() {
        let policy = EscalationPolicy::from_settings(None, Some("Refunds, data-export ,,")).unwrap();
        assert_eq!(policy.categories(), ["refunds", "data_export"]);
        let refund = Signals { category: Some("REFUNDS"), ..signals(0.9) };
        assert_eq!(reasons(&policy, &refund), vec![Reason::SensitiveCategory("refunds".into())]);
        let export = Signals { category: Some("data export"), ..signals(0.9) };
        assert_eq!(reasons(&policy, &export), vec![Reason::SensitiveCategory("data_export".into())]);
        let billing = Signals { category: Some("billing"), ..signals(0.9) };
        assert!(!decide(&policy, &billing).unwrap().escalate);
    }

    #[test]
    fn blank_category_list_means_no_sensitive_categories() {
        for raw in ["", "   ", ",", " , ,"] {
            let policy = EscalationPolicy::from_settings(None, Some(raw)).unwrap();
            assert!(policy.categories().is_empty(), "{raw:?}");
            let s = Signals { category: Some("billing"), ..signals(0.9) };
            assert!(!decide(&policy, &s).unwrap().escalate, "{raw:?}");
        }
    }

    // ---- order and combination ------------------------------------------------------------

    #[test]
    fn all_reasons_in_stable_order_without_duplicates() {
        let s = Signals {
            confidence: 0.1,
            category: Some("Legal"),
            last_message: "I want a real person. Get me a human! Talk to an agent!",
            human_requested: true,
        };
        let decision = decide(&EscalationPolicy::default(), &s).unwrap();
        assert_eq!(
            decision,
            Decision {
                escalate: true,
                reasons: vec![Reason::LowConfidence, Reason::HumanRequested, Reason::SensitiveCategory("legal".into())],
            }
        );
    }

    #[test]
    fn pairs_of_reasons_keep_the_order() {
        let policy = EscalationPolicy::default();
        let low_and_category = Signals { confidence: 0.2, category: Some("billing"), ..signals(0.0) };
        assert_eq!(
            reasons(&policy, &low_and_category),
            vec![Reason::LowConfidence, Reason::SensitiveCategory("billing".into())]
        );
        let human_and_category = Signals { human_requested: true, category: Some("billing"), ..signals(0.8) };
        assert_eq!(
            reasons(&policy, &human_and_category),
            vec![Reason::HumanRequested, Reason::SensitiveCategory("billing".into())]
        );
    }

    #[test]
    fn confident_routine_question_does_not_escalate() {
        let decision =
            decide(&EscalationPolicy::default(), &Signals { category: Some("shipping"), ..signals(0.95) }).unwrap();
        assert_eq!(decision, Decision { escalate: false, reasons: vec![] });
    }

    // ---- policy settings ------------------------------------------------------------------

    #[test]
    fn unset_settings_give_the_defaults() {
        let policy = EscalationPolicy::from_settings(None, None).unwrap();
        assert_eq!(policy, EscalationPolicy::default());
        assert_eq!(policy.threshold(), 0.40);
        assert_eq!(policy.categories(), ["billing", "legal", "account_deletion"]);
    }

    #[test]
    fn threshold_accepts_numbers_in_the_unit_interval() {
        for (raw, expected) in [("0", 0.0), ("1", 1.0), (" 0.25 ", 0.25), ("1e-1", 0.1), ("1.0", 1.0), (".5", 0.5)] {
            let policy = EscalationPolicy::from_settings(Some(raw), None).unwrap();
            assert_eq!(policy.threshold(), expected, "{raw:?}");
        }
    }

    #[test]
    fn threshold_rejects_anything_else_naming_the_variable() {
        for raw in ["", "  ", "abc", "40%", "40", "-0.1", "1.01", "NaN", "inf", "-inf", "0,4"] {
            let err = EscalationPolicy::from_settings(Some(raw), None).unwrap_err();
            assert_eq!(err, PolicyError::InvalidThreshold { value: raw.to_owned() });
            let message = err.to_string();
            assert!(
                message.starts_with("ESCALATION_CONFIDENCE_THRESHOLD must be a number between 0 and 1"),
                "{message}"
            );
            assert!(message.contains("0.4"), "{message}");
        }
        assert_eq!(
            EscalationPolicy::from_settings(Some("abc"), None).unwrap_err().to_string(),
            "ESCALATION_CONFIDENCE_THRESHOLD must be a number between 0 and 1 (for example 0.40), got \"abc\"; \
             unset it to use the default 0.4"
        );
    }

    #[test]
    fn categories_are_normalized_and_deduplicated_in_order() {
        let policy =
            EscalationPolicy::from_settings(None, Some("Legal, billing,legal , Account-Deletion,account deletion"))
                .unwrap();
        assert_eq!(policy.categories(), ["legal", "billing", "account_deletion"]);
    }

    #[test]
    fn categories_reject_punctuation_naming_the_variable_and_entry() {
        let err = EscalationPolicy::from_settings(None, Some("billing, refunds/returns ,legal")).unwrap_err();
        assert_eq!(
            err,
            PolicyError::InvalidCategory {
                entry: "refunds/returns".into(),
                value: "billing, refunds/returns ,legal".into()
            }
        );
        let message = err.to_string();
        assert!(message.starts_with("ESCALATION_CATEGORIES must be a comma-separated list"), "{message}");
        assert!(message.contains("\"billing,legal,account_deletion\""), "{message}");
        assert!(message.contains("\"refunds/returns\""), "{message}");
        for raw in ["billing;legal", "légal", "a.b"] {
            assert!(EscalationPolicy::from_settings(None, Some(raw)).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn settings_errors_report_the_threshold_before_categories() {
        let err = EscalationPolicy::from_settings(Some("high"), Some("a/b")).unwrap_err();
        assert!(matches!(err, PolicyError::InvalidThreshold { .. }));
    }

    #[test]
    fn new_validates_like_from_settings() {
        let policy = EscalationPolicy::new(0.5, ["Billing", "Account Deletion"]).unwrap();
        assert_eq!(policy.threshold(), 0.5);
        assert_eq!(policy.categories(), ["billing", "account_deletion"]);
        assert!(EscalationPolicy::new(f64::NAN, ["billing"]).is_err());
        assert!(EscalationPolicy::new(1.5, Vec::<String>::new()).is_err());
        assert!(matches!(EscalationPolicy::new(0.5, ["bill,ing"]), Err(PolicyError::InvalidCategory { .. })));
        assert!(matches!(EscalationPolicy::new(0.5, ["x/y"]), Err(PolicyError::InvalidCategory { .. })));
    }

    // ---- normalize_category ---------------------------------------------------------------

    #[test]
    fn normalize_category_examples() {
        for (raw, expected) in [
            ("Account Deletion", "account_deletion"),
            ("account-deletion", "account_deletion"),
            (" ACCOUNT_deletion ", "account_deletion"),
            ("account__deletion", "account_deletion"),
            ("\taccount - _ deletion\n", "account_deletion"),
            ("-billing-", "billing"),
            ("BILLING", "billing"),
            ("", ""),
            (" - _ ", ""),
            ("Größe", "größe"),
        ] {
            assert_eq!(normalize_category(raw), expected, "{raw:?}");
        }
    }

    // ---- Reason representations -----------------------------------------------------------

    #[test]
    fn reasons_display_and_serialize_as_codes() {
        let cases = [
            (Reason::LowConfidence, "low_confidence"),
            (Reason::HumanRequested, "human_requested"),
            (Reason::SensitiveCategory("account_deletion".into()), "sensitive_category:account_deletion"),
        ];
        for (reason, code) in cases {
            assert_eq!(reason.to_string(), code);
            assert_eq!(serde_json::to_value(&reason).unwrap(), serde_json::json!(code));
            assert_eq!(serde_json::from_value::<Reason>(serde_json::json!(code)).unwrap(), reason);
            assert_eq!(code.parse::<Reason>().unwrap(), reason);
        }
    }

    #[test]
    fn reason_parsing_rejects_unknown_codes() {
        for code in ["", "LowConfidence", "sensitive_category:", "sensitive_category: - ", "escalate"] {
            let err = code.parse::<Reason>().unwrap_err();
            assert!(err.to_string().contains("expected \"low_confidence\""), "{err}");
        }
        assert!(serde_json::from_str::<Reason>("\"nope\"").is_err());
        assert_eq!(
            "sensitive_category:Account Deletion".parse::<Reason>().unwrap(),
            Reason::SensitiveCategory("account_deletion".into())
        );
    }

    #[test]
    fn decision_serializes_with_reason_codes() {
        let decision = Decision {
            escalate: true,
            reasons: vec![Reason::LowConfidence, Reason::SensitiveCategory("billing".into())],
        };
        assert_eq!(
            serde_json::to_value(&decision).unwrap(),
            serde_json::json!({ "escalate": true, "reasons": ["low_confidence", "sensitive_category:billing"] })
        );
        let back: Decision = serde_json::from_value(serde_json::to_value(&decision).unwrap()).unwrap();
        assert_eq!(back, decision);
    }

    #[test]
    fn tag_names() {
        assert_eq!(Reason::LowConfidence.tag_name(), "ai-low-confidence");
        assert_eq!(Reason::HumanRequested.tag_name(), "ai-human-requested");
        assert_eq!(Reason::SensitiveCategory("billing".into()).tag_name(), "ai-sensitive-billing");
        assert_eq!(Reason::SensitiveCategory("account_deletion".into()).tag_name(), "ai-sensitive-account-deletion");
        assert_eq!(Reason::SensitiveCategory("Refunds / Returns!".into()).tag_name(), "ai-sensitive-refunds-returns");
        assert_eq!(Reason::SensitiveCategory("__".into()).tag_name(), "ai-sensitive");
    }

    #[test]
    fn every_configurable_category_gives_a_tag_of_safe_characters() {
        let policy =
            EscalationPolicy::from_settings(None, Some("Billing, Account Deletion, GDPR-request_2,legal")).unwrap();
        for category in policy.categories() {
            let tag = Reason::SensitiveCategory(category.clone()).tag_name();
            assert!(tag.starts_with("ai-sensitive-"), "{tag}");
            assert!(tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{tag}");
            assert!(!tag.contains("--") && !tag.ends_with('-'), "{tag}");
        }
    }
}
