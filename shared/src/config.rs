//! Configuration read once per container from the environment.
//!
//! Every error names the variable to fix and the values it accepts, because it is what the operator sees in
//! CloudWatch when a cold start fails.

use std::fmt;

use url::Url;

use crate::format::BodyFormat;

/// The only helpdesk this product supports today.
pub const SUPPORTED_PROVIDER: &str = "intercom";
/// The Intercom REST API version every request asks for (`Intercom-Version`).
pub const DEFAULT_API_VERSION: &str = "2.14";

/// Intercom hosts its data in three regions; a workspace's token only works on its own region's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Us,
    Eu,
    Au,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Us, Region::Eu, Region::Au];

    /// `us`, `eu` or `au`, as `INTERCOM_REGION` and the connect call take it.
    pub fn name(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
            Region::Au => "au",
        }
    }

    /// A region by name, in any case (`EU` is how Intercom's `app.region` writes it).
    pub fn parse(raw: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|r| r.name().eq_ignore_ascii_case(raw.trim()))
    }

    pub fn api_base(self) -> &'static str {
        match self {
            Region::Us => "https://api.intercom.io",
            Region::Eu => "https://api.eu.intercom.io",
            Region::Au => "https://api.au.intercom.io",
        }
    }
}

/// How agents authenticate to the function URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentAuth {
    /// The function URL itself requires SigV4 (`AuthType: AWS_IAM`); the function checks nothing more.
    AwsIam,
    /// The URL is public at the AWS level; every request must carry `Authorization: Bearer <agent_api_key>`.
    ApiKey,
}

/// Where the Intercom access token (and the other secrets) come from.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// AWS Secrets Manager secret (ARN or name), fetched on first use.
    SecretsManager { secret_id: String },
    /// Secrets given directly in the environment: local runs only.
    Environment,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::SecretsManager { secret_id } => {
                f.debug_struct("SecretsManager").field("secret_id", secret_id).finish()
            }
            TokenSource::Environment => f.write_str("Environment"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub api_base: Url,
    pub api_version: String,
    /// The admin the AI acts as; `None` means "ask `GET /me` once per container".
    pub admin_id: Option<String>,
    pub token_source: TokenSource,
    pub agent_auth: AgentAuth,
    /// How agents write bodies when a request does not say (`BODY_FORMAT`, default markdown).
    pub body_format: BodyFormat,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("HELPDESK_PROVIDER={value:?} is not supported; set HELPDESK_PROVIDER=intercom")]
    UnsupportedProvider { value: String },
    #[error("INTERCOM_REGION={value:?} is not a known region; use us (default), eu or au")]
    UnknownRegion { value: String },
    #[error("INTERCOM_API_BASE={value:?} is not an http(s) URL (for example http://127.0.0.1:4011)")]
    InvalidApiBase { value: String },
    #[error(
        "no Intercom access token is configured: set INTERCOM_SECRET_ARN to the Secrets Manager secret \
         (deployed) or INTERCOM_ACCESS_TOKEN (local runs)"
    )]
    NoTokenSource,
    #[error("AGENT_AUTH={value:?} is not supported; use AWS_IAM (default) or API_KEY")]
    UnknownAgentAuth { value: String },
    #[error("{name} must not be empty when set")]
    Empty { name: &'static str },
    #[error("INTERCOM_ADMIN_ID={value:?} must be the numeric id of an Intercom admin (teammate)")]
    InvalidAdminId { value: String },
    #[error("BODY_FORMAT={value:?} is not a body format; use markdown (default), text or html")]
    UnknownBodyFormat { value: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match lookup(name).map(|v| v.trim().to_owned()) {
                Some(v) if v.is_empty() => Err(ConfigError::Empty { name }),
                other => Ok(other),
            }
        };

        check_provider(lookup("HELPDESK_PROVIDER").as_deref())?;

        let api_base = match get("INTERCOM_API_BASE")? {
            Some(raw) => parse_base(&raw)?,
            None => {
                let region = match get("INTERCOM_REGION")? {
                    None => Region::Us,
                    Some(raw) => match raw.to_ascii_lowercase().as_str() {
                        "us" => Region::Us,
                        "eu" => Region::Eu,
                        "au" => Region::Au,
                        _ => return Err(ConfigError::UnknownRegion { value: raw }),
                    },
                };
                parse_base(region.api_base())?
            }
        };

        let api_version = get("INTERCOM_API_VERSION")?.unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());

        let admin_id = get("INTERCOM_ADMIN_ID")?;
        if let Some(id) = &admin_id
            && !id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ConfigError::InvalidAdminId { value: id.clone() });
        }

        // A hub's workspaces bring their own tokens: its secret (or environment) holds only its own keys.
        let hub = lookup("TENANCY").is_some_and(|t| t.trim().eq_ignore_ascii_case("hub"));
        let token_source = match (get("INTERCOM_SECRET_ARN")?, lookup("INTERCOM_ACCESS_TOKEN")) {
            (Some(secret_id), _) => TokenSource::SecretsManager { secret_id },
            (None, Some(token)) if !token.trim().is_empty() => TokenSource::Environment,
            (None, _) if hub => TokenSource::Environment,
            _ => return Err(ConfigError::NoTokenSource),
        };

        let agent_auth = match get("AGENT_AUTH")? {
            None => AgentAuth::AwsIam,
            Some(raw) => match raw.to_ascii_uppercase().as_str() {
                "AWS_IAM" => AgentAuth::AwsIam,
                "API_KEY" => AgentAuth::ApiKey,
                _ => return Err(ConfigError::UnknownAgentAuth { value: raw }),
            },
        };

        let body_format = parse_body_format(get("BODY_FORMAT")?.as_deref())?;

        Ok(Config { api_base, api_version, admin_id, token_source, agent_auth, body_format })
    }
}

fn parse_body_format(raw: Option<&str>) -> Result<BodyFormat, ConfigError> {
    raw.map_or(Ok(BodyFormat::default()), |raw| {
        raw.parse().map_err(|_| ConfigError::UnknownBodyFormat { value: raw.to_owned() })
    })
}

/// The deployment's `BODY_FORMAT`, for a request that names no `bodyFormat`. Read once per container;
/// [`Config::from_env`] has already failed the cold start on a value that is not a format.
pub fn default_body_format() -> BodyFormat {
    static DEFAULT: std::sync::OnceLock<BodyFormat> = std::sync::OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let raw = std::env::var("BODY_FORMAT").ok().filter(|v| !v.trim().is_empty());
        parse_body_format(raw.as_deref()).unwrap_or_default()
    })
}

/// `HELPDESK_PROVIDER` defaults to intercom, the only provider; anything else is a deployment mistake.
pub fn check_provider(value: Option<&str>) -> Result<(), ConfigError> {
    match value.map(str::trim) {
        None => Ok(()),
        Some(v) if v.eq_ignore_ascii_case(SUPPORTED_PROVIDER) => Ok(()),
        Some(v) => Err(ConfigError::UnsupportedProvider { value: v.to_owned() }),
    }
}

fn parse_base(raw: &str) -> Result<Url, ConfigError> {
    let invalid = || ConfigError::InvalidApiBase { value: raw.to_owned() };
    let mut url = Url::parse(raw).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid());
    }
    // Paths are joined onto the base, so it must end in '/' or the last segment would be replaced.
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_to_the_us_host_api_2_14_and_iam_auth() {
        let c = config(&[("INTERCOM_ACCESS_TOKEN", "tok")]).unwrap();
        assert_eq!(c.api_base.as_str(), "https://api.intercom.io/");
        assert_eq!(c.api_version, "2.14");
        assert_eq!(c.admin_id, None);
        assert_eq!(c.token_source, TokenSource::Environment);
        assert_eq!(c.agent_auth, AgentAuth::AwsIam);
    }

    #[test]
    fn region_selects_the_host() {
        let eu = config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_REGION", "EU")]).unwrap();
        assert_eq!(eu.api_base.as_str(), "https://api.eu.intercom.io/");
        let au = config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_REGION", "au")]).unwrap();
        assert_eq!(au.api_base.as_str(), "https://api.au.intercom.io/");
        let err = config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_REGION", "asia")]).unwrap_err();
        assert!(err.to_string().contains("use us (default), eu or au"), "{err}");
    }

    #[test]
    fn api_base_overrides_the_region_and_keeps_its_path() {
        let c = config(&[
            ("INTERCOM_ACCESS_TOKEN", "t"),
            ("INTERCOM_REGION", "eu"),
            ("INTERCOM_API_BASE", "http://127.0.0.1:4010/prefix"),
        ])
        .unwrap();
        assert_eq!(c.api_base.as_str(), "http://127.0.0.1:4010/prefix/");
        assert!(config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_API_BASE", "ftp://x")]).is_err());
        assert!(config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_API_BASE", "not a url")]).is_err());
    }

    #[test]
    fn provider_must_be_intercom() {
        assert!(config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("HELPDESK_PROVIDER", "Intercom")]).is_ok());
        let err = config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("HELPDESK_PROVIDER", "zendesk")]).unwrap_err();
        assert_eq!(err, ConfigError::UnsupportedProvider { value: "zendesk".into() });
        assert!(err.to_string().contains("set HELPDESK_PROVIDER=intercom"));
    }

    #[test]
    fn a_token_source_is_required_and_the_secret_wins() {
        assert_eq!(config(&[]).unwrap_err(), ConfigError::NoTokenSource);
        assert_eq!(config(&[("INTERCOM_ACCESS_TOKEN", "  ")]).unwrap_err(), ConfigError::NoTokenSource);
        let c = config(&[("INTERCOM_SECRET_ARN", "arn:aws:secretsmanager:x"), ("INTERCOM_ACCESS_TOKEN", "t")]).unwrap();
        assert_eq!(c.token_source, TokenSource::SecretsManager { secret_id: "arn:aws:secretsmanager:x".into() });
    }

    #[test]
    fn admin_id_and_agent_auth_are_validated() {
        let c = config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_ADMIN_ID", "991267"), ("AGENT_AUTH", "api_key")])
            .unwrap();
        assert_eq!(c.admin_id.as_deref(), Some("991267"));
        assert_eq!(c.agent_auth, AgentAuth::ApiKey);
        assert!(matches!(
            config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_ADMIN_ID", "ada")]),
            Err(ConfigError::InvalidAdminId { .. })
        ));
        assert!(matches!(
            config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("AGENT_AUTH", "oauth")]),
            Err(ConfigError::UnknownAgentAuth { .. })
        ));
        assert_eq!(
            config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("INTERCOM_API_VERSION", "")]).unwrap_err(),
            ConfigError::Empty { name: "INTERCOM_API_VERSION" }
        );
    }

    #[test]
    fn body_format_defaults_to_markdown_and_names_what_it_accepts() {
        assert_eq!(config(&[("INTERCOM_ACCESS_TOKEN", "t")]).unwrap().body_format, BodyFormat::Markdown);
        let text = config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("BODY_FORMAT", " Text ")]).unwrap();
        assert_eq!(text.body_format, BodyFormat::Text);
        let err = config(&[("INTERCOM_ACCESS_TOKEN", "t"), ("BODY_FORMAT", "rtf")]).unwrap_err();
        assert_eq!(err.to_string(), "BODY_FORMAT=\"rtf\" is not a body format; use markdown (default), text or html");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = config(&[("INTERCOM_ACCESS_TOKEN", "tok_supersecret")]).unwrap();
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
