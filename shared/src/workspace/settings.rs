//! A workspace's own settings: each one overrides one deployment variable, and is read by that variable's own
//! parser, so a workspace setting means exactly what the variable means (and is refused for the same reasons).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a workspace changed from the deployment's defaults (`PATCH`); unset fields follow the deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsOverrides {
    /// `AI_TEAM_IDS`: teams whose admin-less conversations the AI handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_team_ids: Option<Vec<String>>,
    /// `ESCALATION_ROUTING`, e.g. `billing=Billing,*=Support`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_routing: Option<String>,
    /// `ESCALATION_CONFIDENCE_THRESHOLD`, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_confidence_threshold: Option<f64>,
    /// `ESCALATION_CATEGORIES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_categories: Option<Vec<String>>,
    /// `REPLY_MODE`: `send` or `draft`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_mode: Option<String>,
    /// `ESCALATION_AWAY_REPLY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_away_reply: Option<String>,
}

/// Each setting's field and the deployment variable it overrides.
pub const FIELDS: &[(&str, &str)] = &[
    ("aiTeamIds", "AI_TEAM_IDS"),
    ("escalationRouting", "ESCALATION_ROUTING"),
    ("escalationConfidenceThreshold", "ESCALATION_CONFIDENCE_THRESHOLD"),
    ("escalationCategories", "ESCALATION_CATEGORIES"),
    ("replyMode", "REPLY_MODE"),
    ("escalationAwayReply", "ESCALATION_AWAY_REPLY"),
];

impl SettingsOverrides {
    /// The value this workspace gives deployment variable `name`, in the variable's own syntax.
    pub fn var(&self, name: &str) -> Option<String> {
        match name {
            "AI_TEAM_IDS" => self.ai_team_ids.as_ref().map(|ids| ids.join(",")),
            "ESCALATION_ROUTING" => self.escalation_routing.clone(),
            "ESCALATION_CONFIDENCE_THRESHOLD" => self.escalation_confidence_threshold.map(|t| t.to_string()),
            "ESCALATION_CATEGORIES" => self.escalation_categories.as_ref().map(|c| c.join(",")),
            "REPLY_MODE" => self.reply_mode.clone(),
            "ESCALATION_AWAY_REPLY" => self.escalation_away_reply.clone(),
            _ => None,
        }
    }

    /// A lookup that answers this workspace's settings first, then `deployment`'s.
    pub fn over<'a, F>(&'a self, deployment: F) -> impl Fn(&str) -> Option<String> + 'a
    where
        F: Fn(&str) -> Option<String> + 'a,
    {
        move |name| self.var(name).or_else(|| deployment(name))
    }

    /// The field that overrides `var`, for error messages (`escalationRouting`, not `ESCALATION_ROUTING`).
    pub fn field_of(var: &str) -> Option<&'static str> {
        FIELDS.iter().find(|(_, v)| *v == var).map(|(field, _)| *field)
    }

    /// Applies a JSON merge patch (RFC 7396): a field given replaces the setting, `null` returns it to the
    /// deployment's default, a field left out is kept. Unknown fields and wrong types are refused by name.
    pub fn patched(&self, patch: &Map<String, Value>) -> Result<Self, (String, String)> {
        let mut merged = serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()));
        let Value::Object(fields) = &mut merged else { unreachable!("settings serialize to an object") };
        for (name, value) in patch {
            if !FIELDS.iter().any(|(field, _)| field == name) {
                let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
                return Err((
                    format!("settings.{name}"),
                    format!("unknown setting; settings are {}", known.join(", ")),
                ));
            }
            if value.is_null() {
                fields.remove(name);
            } else {
                fields.insert(name.clone(), value.clone());
            }
        }
        serde_path_to_error::deserialize(merged).map_err(|e| {
            let path = e.path().to_string();
            let message = crate::intercom::error::without_input(&e.into_inner().to_string());
            (format!("settings.{path}"), format!("settings.{path}: {message}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_answers_for_its_variable_and_the_deployment_answers_the_rest() {
        let s = SettingsOverrides {
            ai_team_ids: Some(vec!["1".into(), "2".into()]),
            escalation_confidence_threshold: Some(0.5),
            escalation_categories: Some(vec!["billing".into(), "legal".into()]),
            ..Default::default()
        };
        let lookup = s.over(|name| (name == "ESCALATION_ROUTING").then(|| "*=Support".to_owned()));
        assert_eq!(lookup("AI_TEAM_IDS").as_deref(), Some("1,2"));
        assert_eq!(lookup("ESCALATION_CONFIDENCE_THRESHOLD").as_deref(), Some("0.5"));
        assert_eq!(lookup("ESCALATION_CATEGORIES").as_deref(), Some("billing,legal"));
        assert_eq!(lookup("ESCALATION_ROUTING").as_deref(), Some("*=Support"));
        assert_eq!(lookup("REPLY_MODE"), None);
        assert_eq!(SettingsOverrides::field_of("ESCALATION_ROUTING"), Some("escalationRouting"));
    }

    #[test]
    fn a_merge_patch_replaces_clears_and_keeps() {
        let s = SettingsOverrides {
            reply_mode: Some("draft".into()),
            escalation_routing: Some("*=Support".into()),
            ..Default::default()
        };
        let patch = serde_json::json!({"replyMode": null, "escalationConfidenceThreshold": 0.3});
        let patched = s.patched(patch.as_object().unwrap()).unwrap();
        assert_eq!(patched.reply_mode, None);
        assert_eq!(patched.escalation_routing.as_deref(), Some("*=Support"));
        assert_eq!(patched.escalation_confidence_threshold, Some(0.3));

        let unknown = s.patched(serde_json::json!({"replyMood": "send"}).as_object().unwrap()).unwrap_err();
        assert_eq!(unknown.0, "settings.replyMood");
        let wrong = s.patched(serde_json::json!({"aiTeamIds": "12"}).as_object().unwrap()).unwrap_err();
        assert_eq!(wrong.0, "settings.aiTeamIds");
        assert!(!wrong.1.contains("\"12\""), "the value is not echoed: {}", wrong.1);
    }
}
