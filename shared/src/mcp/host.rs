//! Which `Host` headers the MCP function answers: the SDK's allow-list is exact names and defaults to loopback
//! only, while a function URL's host is only known once deployed, so the host is checked here instead.

/// Which `Host` headers are answered: loopback (local runs), this region's function URL hosts
/// (`<id>.lambda-url.<region>.on.aws`), and any listed in `MCP_ALLOWED_HOSTS` (a custom domain in front).
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    pub region: Option<String>,
    pub extra: Vec<String>,
}

impl HostPolicy {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads `AWS_REGION` and `MCP_ALLOWED_HOSTS` through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        HostPolicy {
            region: lookup("AWS_REGION").filter(|r| !r.trim().is_empty()),
            extra: comma_list(lookup("MCP_ALLOWED_HOSTS").as_deref()),
        }
    }

    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host);
        if matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1") {
            return true;
        }
        if self.extra.iter().any(|h| host_name(h) == name) {
            return true;
        }
        let Some(rest) = name.strip_suffix(".on.aws") else { return false };
        let mut labels = rest.split('.');
        let (Some(id), Some("lambda-url"), Some(region), None) =
            (labels.next(), labels.next(), labels.next(), labels.next())
        else {
            return false;
        };
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric())
            && self.region.as_deref().is_none_or(|r| r.eq_ignore_ascii_case(region))
    }
}

/// The comma-separated list in the environment variable `name`, blanks dropped.
pub fn list_var(name: &str) -> Vec<String> {
    comma_list(std::env::var(name).ok().as_deref())
}

/// A comma-separated list, blanks dropped.
fn comma_list(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The host without its port, lower-cased (`[::1]:9000` → `::1`).
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => {
            host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(n, _)| n)
        }
    };
    name.to_ascii_lowercase()
}
