//! The TOML configuration: process-wide sections (log, engine, resolver, callout) and one
//! `[[domain]]` table per receiving domain naming its checks in order, each with a component
//! file and the settings passed to it as data. Errors name the file, the line and the key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

/// A configuration error: which file, which line, which key, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line of the offending key (0 when unknown).
    pub line: usize,
    /// The key (or the line's text when the parser could not name one).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    /// Log options.
    #[serde(default)]
    pub log: LogSection,
    /// Sandbox bounds for components.
    #[serde(default)]
    pub engine: EngineSection,
    /// The host's default DNS resolver.
    #[serde(default)]
    pub resolver: ResolverSection,
    /// SMTP callouts made for connection checks.
    #[serde(default)]
    pub callout: CalloutSection,
    /// One entry per receiving domain.
    #[serde(default, rename = "domain")]
    pub domains: Vec<Spanned<DomainSection>>,
    /// Where the file lives (set after parsing; relative paths resolve against its folder).
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[log]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LogSection {
    /// Write verbose lines too.
    #[serde(default)]
    pub verbose: bool,
    /// How lines are written to standard output.
    #[serde(default)]
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// `<UTC time> <message id> <domain> <text>`, one line each.
    #[default]
    Text,
    /// One JSON object a line: `time`, `level`, `message_id`, `domain`, `text`.
    Json,
}

/// `[engine]`: bounds on every component call.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EngineSection {
    /// Component instances the pooling allocator holds.
    pub max_instances: u32,
    /// Messages checked at once (back-pressure in front of the pool).
    pub max_concurrent_messages: usize,
    /// CPU milliseconds per call (host I/O waits not counted).
    pub cpu_ms: u64,
    /// Wall-clock milliseconds per call, host I/O included.
    pub timeout_ms: u64,
    /// MiB of linear memory per instance.
    pub memory_mb: usize,
    /// Calls before a warm instance is recycled.
    pub max_uses: u32,
    /// Configured instances kept warm per check between messages; 0 gives every message a
    /// fresh instance (strictest isolation, settings re-loaded per message).
    pub warm_instances: usize,
    /// A folder where compiled components are cached across runs (relative to this file).
    pub cache_dir: Option<PathBuf>,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            max_instances: 256,
            max_concurrent_messages: 16,
            cpu_ms: 2000,
            timeout_ms: 60_000,
            memory_mb: 256,
            max_uses: 10_000,
            warm_instances: 8,
            cache_dir: None,
        }
    }
}

/// `[resolver]`: the default resolver checks get when a list's server is `*`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ResolverSection {
    /// Upstream servers (`addr` or `addr:port`), tried in order.
    pub servers: Vec<String>,
    /// A zone file served by the host's built-in DNS server on 127.0.0.1, used as the
    /// default resolver (the offline demo, or a local override).
    pub zone_file: Option<PathBuf>,
    /// Milliseconds per UDP attempt.
    pub timeout_ms: u64,
    /// UDP re-sends after a timeout.
    pub retries: u32,
    /// Milliseconds for a TCP connect and exchange.
    pub tcp_timeout_ms: u64,
    /// Cached answers kept.
    pub cache_entries: usize,
}

impl Default for ResolverSection {
    fn default() -> Self {
        ResolverSection {
            servers: Vec::new(),
            zone_file: None,
            timeout_ms: 2000,
            retries: 2,
            tcp_timeout_ms: 5000,
            cache_entries: 10_000,
        }
    }
}

/// `[callout]`: SMTP sender verification.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CalloutSection {
    /// Seconds per dialogue step.
    pub step_timeout_s: u64,
    /// Seconds for the whole callout.
    pub total_timeout_s: u64,
    /// Seconds to connect.
    pub connect_timeout_s: u64,
    /// Seconds a verified address stays cached.
    pub positive_ttl_s: u64,
    /// Seconds a rejected address stays cached.
    pub negative_ttl_s: u64,
    /// Seconds a server that refused us (5yz before `RCPT TO`) is not called again.
    pub server_ttl_s: u64,
    /// Special-purpose networks (loopback, private-use, link-local, ...) callouts may reach.
    pub allow_networks: Vec<Spanned<String>>,
    /// Most callouts per server address in any minute (0: no limit).
    pub max_per_server_per_minute: u32,
}

impl Default for CalloutSection {
    fn default() -> Self {
        CalloutSection {
            step_timeout_s: 30,
            total_timeout_s: 120,
            connect_timeout_s: 30,
            positive_ttl_s: 24 * 3600,
            negative_ttl_s: 2 * 3600,
            server_ttl_s: 3 * 3600,
            allow_networks: Vec::new(),
            max_per_server_per_minute: 30,
        }
    }
}

/// `[[domain]]`: one receiving domain (IMail's "host").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DomainSection {
    /// The domain name.
    pub name: String,
    /// Delete the message once this many connection checks failed (standard lists plus
    /// validations); absent = never delete on count.
    pub delete_after: Option<Spanned<u32>>,
    /// Prefix the subject when a connection check failed and the message was not deleted.
    #[serde(default)]
    pub prefix_subject: bool,
    /// The prefix text (at most 255 characters).
    #[serde(default = "default_subject_prefix")]
    pub subject_prefix: Spanned<String>,
    /// A header field naming each check's verdict (`dnsbl=fail; helo=pass; ...`), added to
    /// every message that is not deleted; absent = none.
    pub result_header: Option<Spanned<String>>,
    /// Client addresses (`a.b.c.d`, `net/len`, or `addr/netmask`) that skip every check.
    #[serde(default)]
    pub trusted_ips: Vec<Spanned<String>>,
    /// Sender addresses or whole domains whose mail skips content filtering (compared
    /// case-insensitively, an internationalised domain in either spelling).
    #[serde(default)]
    pub whitelist: Vec<String>,
    /// When false, white-listed senders skip connection filtering too.
    #[serde(default = "yes")]
    pub whitelist_content_only: bool,
    /// The checks, in the order they run.
    #[serde(default, rename = "check")]
    pub checks: Vec<Spanned<CheckSection>>,
}

fn default_subject_prefix() -> Spanned<String> {
    Spanned::new(0..0, "X-IMail-SPAM-Connection".to_string())
}

fn yes() -> bool {
    true
}

/// What a check's failure does to the message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Add the check's X-header (IMail's default); a connection check's failure also counts
    /// toward `delete-after`.
    #[default]
    XHeader,
    /// Delete the message (content checks only: a connection check deletes through
    /// `delete-after` or a trusted list).
    Delete,
    /// Log only, a dry run: the check's lines are logged and its verdict reported, but a
    /// failure adds no header, counts toward nothing and deletes nothing.
    None,
}

/// `[[domain.check]]`: one component in the chain.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CheckSection {
    /// The component file (`.wasm`), relative to the configuration file's folder.
    pub component: Spanned<PathBuf>,
    /// Display name; defaults to the file stem.
    pub name: Option<String>,
    /// What the check's failure does.
    #[serde(default)]
    pub action: Action,
    /// Overrides `[engine] cpu-ms` for this check.
    pub cpu_ms: Option<u64>,
    /// Overrides `[engine] timeout-ms` for this check.
    pub timeout_ms: Option<u64>,
    /// Overrides `[engine] memory-mb` for this check.
    pub memory_mb: Option<usize>,
    /// The component's own settings, passed through as TOML text. Keys ending in `-file`
    /// (a path) or `-files` (paths) name files the host reads and hands over.
    #[serde(default)]
    pub settings: toml::Table,
}

impl CheckSection {
    /// The display name.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let stem = self.component.get_ref().file_stem().unwrap_or_default();
            stem.to_string_lossy().into_owned()
        })
    }
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            key: "-".into(),
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates configuration text that was read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let err = |span: Option<std::ops::Range<usize>>, key: &str, message: String| {
            let line = span.map_or(0, |s| line_of(text, s.start));
            let key = if key.is_empty() {
                text.lines()
                    .nth(line.saturating_sub(1))
                    .unwrap_or("-")
                    .trim()
                    .to_string()
            } else {
                key.to_string()
            };
            ConfigError {
                file: path.to_path_buf(),
                line,
                key,
                message,
            }
        };
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let span = unknown_key_span(text, e.span(), e.message()).or(e.span());
            err(span, "", e.message().to_string())
        })?;
        config.path = path.to_path_buf();
        for server in &config.resolver.servers {
            parse_server(server).map_err(|m| err(None, "resolver.servers", m))?;
        }
        for net in &config.callout.allow_networks {
            parse_net(net.get_ref())
                .map_err(|m| err(Some(net.span()), "callout.allow-networks", m))?;
        }
        let mut seen = std::collections::HashSet::new();
        for domain in &config.domains {
            let d = domain.get_ref();
            if !seen.insert(d.name.to_ascii_lowercase()) {
                return Err(err(
                    Some(domain.span()),
                    "domain.name",
                    format!("domain {} is configured twice", d.name),
                ));
            }
            if d.subject_prefix.get_ref().chars().count() > 255 {
                return Err(err(
                    Some(d.subject_prefix.span()),
                    "subject-prefix",
                    "longer than 255 characters".into(),
                ));
            }
            if let Some(name) = &d.result_header
                && !is_field_name(name.get_ref())
            {
                return Err(err(
                    Some(name.span()),
                    "result-header",
                    format!("{:?} is not a header field name", name.get_ref()),
                ));
            }
            for ip in &d.trusted_ips {
                parse_net(ip.get_ref()).map_err(|m| err(Some(ip.span()), "trusted-ips", m))?;
            }
            if let Some(n) = &d.delete_after
                && *n.get_ref() == 0
            {
                return Err(err(
                    Some(n.span()),
                    "delete-after",
                    "must be at least 1".into(),
                ));
            }
        }
        Ok(config)
    }

    /// Resolves a path from the configuration against the configuration file's folder.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        match self.path.parent() {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// The line of a span in this configuration's text (for errors found after parsing).
    pub fn error_at(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: String,
    ) -> ConfigError {
        let line = std::fs::read_to_string(&self.path)
            .map(|t| line_of(&t, span.start))
            .unwrap_or(0);
        ConfigError {
            file: self.path.clone(),
            line,
            key: key.into(),
            message,
        }
    }

    /// Milliseconds as a duration.
    pub fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// For an "unknown field" error, whose span covers the table rather than the key, the span
/// of the offending key's own line (the first line from the table's start that sets it).
fn unknown_key_span(
    text: &str,
    span: Option<std::ops::Range<usize>>,
    message: &str,
) -> Option<std::ops::Range<usize>> {
    let key = message.strip_prefix("unknown field `")?.split('`').next()?;
    let span = span?;
    let mut offset = span.start;
    for line in text.get(span.start..)?.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            let start = offset + (line.len() - trimmed.len());
            return Some(start..start + key.len());
        }
        offset += line.len();
    }
    None
}

/// True for an RFC 5322 field name: 1 to 76 printable ASCII characters other than `:`.
fn is_field_name(name: &str) -> bool {
    (1..=76).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// Parses a DNS server as `addr` (port 53) or `addr:port` / `[v6]:port`.
pub fn parse_server(s: &str) -> Result<SocketAddr, String> {
    s.parse::<SocketAddr>()
        .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| format!("{s:?} is not an address or address:port"))
}

/// Parses a trusted network: `a.b.c.d`, `net/len` or `addr/netmask`.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    if let Some((addr, mask)) = s.split_once(['/', ' '])
        && let (Ok(addr), Ok(mask)) = (addr.trim().parse::<IpAddr>(), mask.trim().parse::<IpAddr>())
        && let Ok(prefix) = ipnet::ip_mask_to_prefix(mask)
        && let Ok(net) = IpNet::new(addr, prefix)
    {
        return Ok(net.trunc());
    }
    Err(format!(
        "{s:?} is not an address, address/length or address/netmask"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("antispam.toml"))
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = parse("[log]\nverbose = true\n\n[[domain]]\nname = \"a.example\"\nbogus = 1\n")
            .unwrap_err();
        assert_eq!(e.file, Path::new("antispam.toml"));
        assert_eq!(e.line, 6, "{e:?}");
        assert!(e.key.contains("bogus"), "{e}");
        assert!(e.to_string().starts_with("antispam.toml:6:"), "{e}");
    }

    #[test]
    fn bad_trusted_ip_is_rejected_with_its_line() {
        let e = parse(
            "[[domain]]\nname = \"a.example\"\ntrusted-ips = [\"10.0.0.0/8\",\n \"300.1.1.1\"]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (4, "trusted-ips"), "{e}");
    }

    #[test]
    fn bad_callout_network_is_rejected_with_its_line() {
        let e =
            parse("[callout]\nallow-networks = [\"127.0.0.0/8\", \"localhost\"]\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (2, "callout.allow-networks"),
            "{e}"
        );
        let c =
            parse("[callout]\nallow-networks = [\"10.0.0.0/8\"]\nmax-per-server-per-minute = 0\n")
                .unwrap();
        assert_eq!(c.callout.max_per_server_per_minute, 0);
        assert_eq!(CalloutSection::default().max_per_server_per_minute, 30);
    }

    /// Lines a configuration is made of, valid and not, for the property test below.
    const LINES: &[&str] = &[
        "[log]",
        "[engine]",
        "[resolver]",
        "[callout]",
        "[[domain]]",
        "[[domain.check]]",
        "[[domain.check.settings.lists]]",
        "[domain.check.settings]",
        "verbose = true",
        "format = \"json\"",
        "cpu-ms = 5",
        "memory-mb = -1",
        "servers = [\"127.0.0.1:53\", \"nonsense\"]",
        "allow-networks = [\"127.0.0.0/8\", \"10.0.0.0/33\"]",
        "max-per-server-per-minute = 4294967296",
        "name = \"example.com\"",
        "name = \"Example.COM\"",
        "delete-after = 0",
        "delete-after = 3",
        "trusted-ips = [\"10.0.0.0/255.0.0.0\", \"300.1.1.1\"]",
        "result-header = \"X Bad\"",
        "subject-prefix = \"\u{e9}\"",
        "component = \"dnsbl.wasm\"",
        "action = \"delete\"",
        "settings = { x = 1 }",
        "zone = \"bl.example\"",
        "bogus = 1",
        "= 1",
        "[",
        "\"unterminated",
        "",
    ];

    proptest::proptest! {
        /// Any configuration text, however broken, gives a configuration or an error naming
        /// a line of the text, never a panic.
        #[test]
        fn any_text_parses_or_errs_with_a_line(
            lines in proptest::collection::vec(proptest::sample::select(LINES), 0..40),
            noise in "\\PC{0,40}",
            at in 0usize..40,
        ) {
            let mut lines: Vec<&str> = lines;
            lines.insert(at.min(lines.len()), &noise);
            let text = lines.join("\n");
            if let Err(e) = parse(&text) {
                proptest::prop_assert!(e.line <= text.lines().count() + 1, "{e}");
            }
        }
    }

    #[test]
    fn log_format_is_text_or_json() {
        assert_eq!(parse("").unwrap().log.format, LogFormat::Text);
        let c = parse("[log]\nformat = \"json\"\n").unwrap();
        assert_eq!(c.log.format, LogFormat::Json);
        let e = parse("[log]\nformat = \"xml\"\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn netmask_forms_parse() {
        assert_eq!(
            parse_net("10.1.2.3/255.255.0.0").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert_eq!(parse_net("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        assert_eq!(
            parse_net("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
    }

    #[test]
    fn result_header_must_be_a_field_name() {
        let domain =
            |name: &str| format!("[[domain]]\nname = \"a.example\"\nresult-header = \"{name}\"\n");
        assert!(parse(&domain("X-Antispam-Result")).is_ok());
        for bad in ["", "X Result", "X-Result:", "X-\u{e9}"] {
            let e = parse(&domain(bad)).unwrap_err();
            assert_eq!(
                (e.line, e.key.as_str()),
                (3, "result-header"),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn long_subject_prefix_is_rejected() {
        let text = format!(
            "[[domain]]\nname = \"a.example\"\nsubject-prefix = \"{}\"\n",
            "x".repeat(256)
        );
        assert_eq!(parse(&text).unwrap_err().key, "subject-prefix");
    }

    #[test]
    fn checks_keep_their_order_and_settings() {
        let c = parse("[[domain]]\nname = \"a.example\"\n[[domain.check]]\ncomponent = \"dnsbl.wasm\"\nsettings = { x = 1 }\n[[domain.check]]\ncomponent = \"helo.wasm\"\nname = \"HELO\"\n").unwrap();
        let d = c.domains[0].get_ref();
        assert_eq!(d.checks[0].get_ref().display_name(), "dnsbl");
        assert_eq!(d.checks[1].get_ref().display_name(), "HELO");
        assert_eq!(d.checks[0].get_ref().settings["x"].as_integer(), Some(1));
    }
}
