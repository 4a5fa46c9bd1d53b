//! `fake-intercom`: the fake Intercom API as a process, for the local dev stack.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use fake_intercom::FakeIntercom;

const USAGE: &str = "\
usage: fake-intercom [--host ADDR] [--port N] [--seed demo|none] [--workspaces N] [--token TOKEN]...
                     [--search-index-delay | --search-lag-ms N] [--latency-ms N]
                     [--webhook-url URL --webhook-secret SECRET]

  --host ADDR            address to listen on (default 127.0.0.1)
  --port N               port (default 4011; 0 picks a free one)
  --seed demo|none       demo: admins Ada AI (991267, /me) and Grace Hopper, teams Billing,
                         Legal, Support, contact jane@example.com / 6123abc (default none)
  --workspaces N         serve N workspaces (default: env FAKE_WORKSPACES, else 1 = the demo workspace);
                         with several, each has its own token, app id_code, client secret, admins
                         and teams (GET /__fake/workspaces lists them), and an unknown token is 401
  --token TOKEN          accept only this bearer token (repeatable; default: any token); with
                         several workspaces the i-th token is the i-th workspace's
  --search-index-delay   /contacts/search trails the data (new contacts missing, changed ones
                         as they were) until POST /__fake/search/index
  --search-lag-ms N      /contacts/search sees a change only once it is N ms old
  --latency-ms N         add N ms to every API answer
  --webhook-url URL      POST Intercom's conversation webhooks to URL (signed X-Hub-Signature);
                         with several workspaces, to URL/<workspace id>
  --webhook-secret S     the app's client secret that signs them (required with --webhook-url;
                         with several workspaces each signs with its own instead)

Control endpoints (no auth): GET /__fake/state, GET|DELETE /__fake/requests,
GET|POST|DELETE /__fake/faults, PUT /__fake/tokens, POST /__fake/search/index,
PUT /__fake/config, POST /__fake/data_attributes, GET|PUT /__fake/webhooks,
GET|DELETE /__fake/webhooks/deliveries, POST /__fake/webhooks/flush,
POST /__fake/conversations/{id}/customer_reply, GET|POST /__fake/clock, POST /__fake/articles,
POST /__fake/ticket_types, GET /__fake/workspaces,
POST /__fake/workspaces/{id}/rotate-token, GET|POST /__fake/workspaces/{id}/scopes,
GET /__fake/health.";

#[derive(Debug)]
struct Args {
    host: IpAddr,
    port: u16,
    seed_demo: bool,
    workspaces: usize,
    tokens: Vec<String>,
    search_index_delay: bool,
    search_lag: Duration,
    latency: Duration,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
}

fn parse_workspaces(v: &str, origin: &str) -> Result<usize, String> {
    v.trim().parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| format!("bad {origin} {v:?} (1 to 1000)"))
}

/// `workspaces_env`: the value of `FAKE_WORKSPACES`, which `--workspaces` overrides.
fn parse_args(mut args: impl Iterator<Item = String>, workspaces_env: Option<&str>) -> Result<Option<Args>, String> {
    let workspaces = match workspaces_env.filter(|v| !v.trim().is_empty()) {
        Some(v) => parse_workspaces(v, "FAKE_WORKSPACES")?,
        None => 1,
    };
    let mut parsed = Args {
        host: IpAddr::from([127, 0, 0, 1]),
        port: 4011,
        seed_demo: false,
        workspaces,
        tokens: Vec::new(),
        search_index_delay: false,
        search_lag: Duration::ZERO,
        latency: Duration::ZERO,
        webhook_url: None,
        webhook_secret: None,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--host" => {
                let v = value()?;
                parsed.host = v.parse().map_err(|_| format!("bad --host {v:?}"))?;
            }
            "--port" | "-p" => {
                let v = value()?;
                parsed.port = v.parse().map_err(|_| format!("bad --port {v:?}"))?;
            }
            "--seed" => match value()?.as_str() {
                "demo" => parsed.seed_demo = true,
                "none" => parsed.seed_demo = false,
                other => return Err(format!("unknown seed {other:?} (demo, none)")),
            },
            "--workspaces" => parsed.workspaces = parse_workspaces(&value()?, "--workspaces")?,
            "--token" => parsed.tokens.push(value()?),
            "--search-index-delay" => parsed.search_index_delay = true,
            "--search-lag-ms" => {
                let v = value()?;
                let ms: u64 = v.parse().map_err(|_| format!("bad --search-lag-ms {v:?}"))?;
                parsed.search_lag = Duration::from_millis(ms);
            }
            "--latency-ms" => {
                let v = value()?;
                let ms: u64 = v.parse().map_err(|_| format!("bad --latency-ms {v:?}"))?;
                parsed.latency = Duration::from_millis(ms);
            }
            "--webhook-url" => parsed.webhook_url = Some(value()?),
            "--webhook-secret" => parsed.webhook_secret = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    match (&parsed.webhook_url, &parsed.webhook_secret) {
        (Some(_), None) => return Err("--webhook-url needs --webhook-secret (the app's client secret)".to_owned()),
        (None, Some(_)) => return Err("--webhook-secret needs --webhook-url".to_owned()),
        _ => {}
    }
    Ok(Some(parsed))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let workspaces_env = std::env::var("FAKE_WORKSPACES").ok();
    let args = match parse_args(std::env::args().skip(1), workspaces_env.as_deref()) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("fake-intercom: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let mut builder = FakeIntercom::builder()
        .workspaces(args.workspaces)
        .search_index_delay(args.search_index_delay)
        .latency(args.latency);
    if !args.search_lag.is_zero() {
        builder = builder.search_lag(args.search_lag);
    }
    if args.seed_demo {
        builder = builder.seed_demo();
    }
    if !args.tokens.is_empty() {
        builder = builder.valid_tokens(args.tokens);
    }
    if let (Some(url), Some(secret)) = (args.webhook_url, args.webhook_secret) {
        builder = builder.webhooks(url, secret);
    }
    let server = match builder.serve_on(SocketAddr::new(args.host, args.port)).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("fake-intercom: cannot listen on {}:{}: {e}", args.host, args.port);
            return ExitCode::FAILURE;
        }
    };
    println!("fake-intercom listening on {}", server.base_url());
    if server.workspace_count() > 1 {
        let ids: Vec<String> = server.workspaces().into_iter().map(|w| w.workspace_id).collect();
        println!("fake-intercom serves workspaces {} (tokens: GET /__fake/workspaces)", ids.join(", "));
    }
    shutdown_signal().await;
    eprintln!("fake-intercom: shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()), None)
    }

    #[test]
    fn parses_the_dev_stack_command_line() {
        let args =
            parse(&["--port", "4011", "--seed", "demo", "--token=t1", "--token", "t2"]).expect("ok").expect("args");
        assert_eq!(args.port, 4011);
        assert!(args.seed_demo);
        assert_eq!(args.tokens, ["t1", "t2"]);
        assert!(parse(&["--seed", "everything"]).is_err());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--help"]).expect("ok").is_none());
        let args =
            parse(&["--webhook-url", "http://127.0.0.1:9/hook", "--webhook-secret=s3", "--search-lag-ms", "1500"])
                .expect("ok")
                .expect("args");
        assert_eq!(
            (args.webhook_url.as_deref(), args.webhook_secret.as_deref()),
            (Some("http://127.0.0.1:9/hook"), Some("s3"))
        );
        assert_eq!(args.search_lag, Duration::from_millis(1500));
        assert!(parse(&["--webhook-url", "http://127.0.0.1:9/hook"]).is_err(), "a URL without a secret");
    }

    #[test]
    fn workspaces_come_from_the_environment_unless_the_flag_says_otherwise() {
        let from = |args: &[&str], env: Option<&str>| {
            parse_args(args.iter().map(|s| (*s).to_owned()), env).map(|a| a.map(|a| a.workspaces))
        };
        assert_eq!(from(&[], None), Ok(Some(1)));
        assert_eq!(from(&[], Some("3")), Ok(Some(3)));
        assert_eq!(from(&[], Some("")), Ok(Some(1)));
        assert_eq!(from(&["--workspaces", "2"], Some("3")), Ok(Some(2)));
        assert!(from(&[], Some("0")).is_err());
        assert!(from(&["--workspaces=many"], None).is_err());
    }
}
