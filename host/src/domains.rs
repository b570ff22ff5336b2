//! Per-domain settings made live: each domain's checks configured in their components, and the
//! admin log lines IMail wrote as a domain's settings were added or reloaded.
//!
//! A check is rebuilt only when something it was built from changed: its section of the
//! configuration, its limits, its component file or a settings file it names. Otherwise a
//! rebuilt domain takes over the live check, warm instances and all, so that (say) a change
//! to the white list does not load the word table again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use antispam_sdk::net::a_labels_or_name;
use ipnet::IpNet;

use crate::config::{Action, CheckSection, Config, ConfigError, DomainSection, parse_net};
use crate::log::{Level, LogLine};
use crate::runtime::{Check, Limits, Runtime, Services, Settings, SettingsFile, Stage};

/// A receiving domain's live settings. Messages hold an `Arc` to the domain they started
/// with, so a reload never changes the settings of a message in flight.
pub struct Domain {
    /// The domain name as configured.
    pub name: String,
    /// Delete after this many failed connection checks.
    pub delete_after: Option<u32>,
    /// How many connection checks there are in all (the M of "N of M"; dry runs not counted).
    pub total_checks: u32,
    /// The subject prefix applied when a connection check failed (when enabled).
    pub subject_prefix: Option<String>,
    /// The header field that names each check's verdict, if configured.
    pub result_header: Option<String>,
    /// Client networks that skip every check.
    pub trusted: Vec<IpNet>,
    /// White-listed senders, addresses or domains: each entry's [`sender_key`] and the entry
    /// as written (lower-cased, for the log).
    pub whitelist: Vec<(String, String)>,
    /// White-listed senders skip only content filtering.
    pub whitelist_content_only: bool,
    /// Connection checks in order, with what their failure does (`XHeader` or `None`).
    pub connection: Vec<(Arc<Check>, Action)>,
    /// Content checks in order, with what their failure does.
    pub content: Vec<(Arc<Check>, Action)>,
    source: DomainSection,
    checks: Vec<BuiltCheck>,
}

/// Which parts of a domain's settings differ between two configurations.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changes {
    /// Connection filtering (lists, validations, thresholds, trusted addresses).
    pub connection: bool,
    /// The white list.
    pub whitelist: bool,
    /// Content filters other than the HTML filter.
    pub content: bool,
    /// The HTML filter (a content check named `html`).
    pub html: bool,
}

impl Changes {
    /// True when anything changed.
    pub fn any(self) -> bool {
        self.connection || self.whitelist || self.content || self.html
    }
}

impl Domain {
    /// True when `new` configures this domain exactly as it is, with the same limits, and no
    /// component or settings file changed: the live domain (with its warm instances) can stay.
    pub fn unchanged(&self, config: &Config, new: &DomainSection, verbose: bool) -> bool {
        self.source == *new
            && self
                .checks
                .iter()
                .all(|c| c.limits == limits_for(config, &c.section, verbose) && c.current())
    }

    /// One line on the domain's chain: its checks in order (a dry run marked), and its
    /// "delete after N of M" policy.
    pub fn summary(&self) -> String {
        let mut checks: Vec<String> = Vec::new();
        for (check, action) in self.connection.iter().chain(&self.content) {
            let mark = match action {
                Action::None => " (dry run)",
                Action::Delete => " (deletes)",
                Action::XHeader => "",
            };
            checks.push(format!("{}{mark}", check.name));
        }
        let policy = match self.delete_after {
            Some(n) => format!("delete after {n} of {}", self.total_checks),
            None => format!("never deleted on count ({} counted)", self.total_checks),
        };
        format!(
            "{}: {} connection and {} content checks: {}; {policy}",
            self.name,
            self.connection.len(),
            self.content.len(),
            checks.join(", ")
        )
    }

    /// The component and settings files this domain was built from (watched for changes).
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.checks
            .iter()
            .flat_map(|c| c.files.iter().map(|(path, _)| path.as_path()))
    }

    /// What differs between this domain and its rebuilt version `new`.
    pub fn changes(&self, new: &Domain) -> Changes {
        let (old_s, new_s) = (&self.source, &new.source);
        let part = |d: &Domain, pick: fn(&BuiltCheck) -> bool| -> Vec<(CheckSection, Files)> {
            d.checks
                .iter()
                .filter(|c| pick(c))
                .map(|c| (c.section.clone(), c.files.clone()))
                .collect()
        };
        let conn = |c: &BuiltCheck| c.stage == Stage::Connection;
        let html = |c: &BuiltCheck| c.stage == Stage::Content && is_html(&c.section);
        let content = |c: &BuiltCheck| c.stage == Stage::Content && !is_html(&c.section);
        let value = |n: &Option<toml::Spanned<u32>>| n.as_ref().map(|s| *s.get_ref());
        let ips = |d: &DomainSection| {
            d.trusted_ips
                .iter()
                .map(|s| s.get_ref().clone())
                .collect::<Vec<_>>()
        };
        Changes {
            connection: part(self, conn) != part(new, conn)
                || value(&old_s.delete_after) != value(&new_s.delete_after)
                || old_s.prefix_subject != new_s.prefix_subject
                || old_s.subject_prefix.get_ref() != new_s.subject_prefix.get_ref()
                || ips(old_s) != ips(new_s),
            whitelist: old_s.whitelist != new_s.whitelist
                || old_s.whitelist_content_only != new_s.whitelist_content_only,
            content: part(self, content) != part(new, content),
            html: part(self, html) != part(new, html),
        }
    }
}

/// A domain's check and what it was built from.
#[derive(Clone)]
struct BuiltCheck {
    section: CheckSection,
    stage: Stage,
    limits: Limits,
    /// The component file, then the settings files, as they were when read.
    files: Files,
    check: Arc<Check>,
}

impl BuiltCheck {
    /// True when none of the check's files changed since it was built.
    fn current(&self) -> bool {
        self.files.iter().all(|(path, was)| stamp(path) == *was)
    }
}

/// Files with their stamps.
type Files = Vec<(PathBuf, Stamp)>;

/// A file's modification time and length (`None` when it cannot be read).
pub type Stamp = Option<(SystemTime, u64)>;

/// The stamp of the file at `path` now.
pub fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// True for the check IMail called the HTML filter.
fn is_html(c: &CheckSection) -> bool {
    c.display_name().eq_ignore_ascii_case("html")
}

/// Builds a domain: loads and configures each of its checks (`verbose`: whether their verbose
/// lines are kept), taking over from `live` (the domain's running version) every check built
/// from the same section, limits and files. Lines the components logged while loading their
/// settings are returned for the admin log.
pub async fn build(
    runtime: &Arc<Runtime>,
    services: &Services,
    config: &Config,
    section: &toml::Spanned<DomainSection>,
    verbose: bool,
    live: Option<&Domain>,
) -> Result<(Domain, Vec<LogLine>), ConfigError> {
    let d = section.get_ref();
    let mut log = Vec::new();
    let (mut connection, mut content, mut built) = (Vec::new(), Vec::new(), Vec::new());
    for check in &d.checks {
        let c = check.get_ref();
        let limits = limits_for(config, c, verbose);
        let reusable = live.and_then(|live| {
            live.checks
                .iter()
                .find(|b| b.section == *c && b.limits == limits && b.current())
        });
        let b = match reusable {
            Some(b) => b.clone(),
            None => {
                let (b, lines) =
                    configure(runtime, services, config, &d.name, check, limits).await?;
                log.extend(
                    lines
                        .into_iter()
                        .map(|(level, text)| LogLine::admin(level, &d.name, text)),
                );
                b
            }
        };
        match b.stage {
            Stage::Connection if c.action == Action::Delete => {
                let message = "delete applies to content checks; a connection check deletes \
                               through delete-after or a trusted list"
                    .to_string();
                return Err(config.error_at(check.span(), "action", message));
            }
            Stage::Connection => connection.push((b.check.clone(), c.action)),
            Stage::Content => content.push((b.check.clone(), c.action)),
        }
        built.push(b);
    }
    let total_checks = connection
        .iter()
        .filter(|(_, action)| *action == Action::XHeader)
        .map(|(c, _)| c.counted)
        .sum();
    let delete_after = d.delete_after.as_ref().map(|n| *n.get_ref());
    if let (Some(n), Some(span)) = (delete_after, d.delete_after.as_ref().map(|n| n.span()))
        && n > total_checks
    {
        let message = format!(
            "{n} exceeds the {total_checks} enabled black lists and validation checks of {}",
            d.name
        );
        return Err(config.error_at(span, "delete-after", message));
    }
    let domain = Domain {
        name: d.name.clone(),
        delete_after,
        total_checks,
        subject_prefix: d.prefix_subject.then(|| d.subject_prefix.get_ref().clone()),
        result_header: d.result_header.as_ref().map(|h| h.get_ref().clone()),
        trusted: d
            .trusted_ips
            .iter()
            .filter_map(|ip| parse_net(ip.get_ref()).ok())
            .collect(),
        whitelist: d
            .whitelist
            .iter()
            .map(|w| {
                let written = w.trim().to_lowercase();
                (sender_key(&written), written)
            })
            .collect(),
        whitelist_content_only: d.whitelist_content_only,
        connection,
        content,
        source: d.clone(),
        checks: built,
    };
    Ok((domain, log))
}

/// Loads one check's component and configures it with its settings; returns the check and
/// the lines the component logged. Files are stamped before they are read, so that a change
/// made while reading is seen by the next reload.
async fn configure(
    runtime: &Arc<Runtime>,
    services: &Services,
    config: &Config,
    domain: &str,
    check: &toml::Spanned<CheckSection>,
    limits: Limits,
) -> Result<(BuiltCheck, Vec<(Level, String)>), ConfigError> {
    let c = check.get_ref();
    let path = config.resolve_path(c.component.get_ref());
    let mut files = vec![(path.clone(), stamp(&path))];
    let at = |message: String| config.error_at(c.component.span(), "component", message);
    let loaded = runtime.load(&path).map_err(|e| at(format!("{e:#}")))?;
    let settings = settings_for(config, domain, c, &mut files)
        .map_err(|m| config.error_at(check.span(), "settings", m))?;
    let (configured, lines) = Check::configure(
        runtime,
        c.display_name(),
        loaded,
        settings,
        services.clone(),
        limits.clone(),
    )
    .await
    .map_err(|m| config.error_at(check.span(), "settings", m))?;
    let built = BuiltCheck {
        section: c.clone(),
        stage: configured.stage,
        limits,
        files,
        check: Arc::new(configured),
    };
    Ok((built, lines))
}

/// The admin lines for a domain whose content settings were created and loaded.
pub fn added_lines(domain: &str) -> Vec<LogLine> {
    [
        format!("Added Anti-Spam Host Information for {domain}"),
        format!("Created and Initialized White List for {domain}."),
        format!("Created and Initialized Content Filtering for {domain}"),
        format!("Got White List, Content Filtering, and HTML Filtering for {domain}"),
        format!("Added White List, Content Filtering, and HTML Filtering for {domain}"),
    ]
    .into_iter()
    .map(|t| LogLine::admin(Level::Verbose, domain, t))
    .collect()
}

/// The admin lines logged before a changed domain is reloaded.
pub fn reloading_lines(domain: &str, c: Changes) -> Vec<LogLine> {
    let mut lines = Vec::new();
    if c.connection {
        lines.push(format!(
            "ADMIN: reloading connection filtering settings for domain:{domain}"
        ));
    }
    if c.html {
        lines.push(format!("Notified {domain} about updating the HTML Filter."));
    }
    if c.whitelist {
        lines.push(format!("Notified {domain} about updated white list"));
    }
    if c.content {
        lines.push(format!(
            "Notified {domain} about updating the Content Filter."
        ));
    }
    lines
        .into_iter()
        .map(|t| LogLine::admin(Level::Verbose, domain, t))
        .collect()
}

/// The admin lines logged once a changed domain's new settings are in force.
pub fn reloaded_lines(domain: &str, c: Changes) -> Vec<LogLine> {
    let mut lines = Vec::new();
    if c.connection {
        lines.push(format!(
            "ADMIN: finished reloading connection filtering settings for domain: {domain}"
        ));
    }
    if c.html || (c.whitelist && c.content) {
        lines.push(format!(
            "Got updated White List, Content Filtering, and HTML Filtering for {domain}"
        ));
    } else if c.whitelist {
        lines.push(format!("Got updated White List for {domain}"));
    } else if c.content {
        lines.push(format!("Got updated Content Filtering for {domain}"));
    }
    lines
        .into_iter()
        .map(|t| LogLine::admin(Level::Verbose, domain, t))
        .collect()
}

/// The settings record for one check: its table as TOML text, plus every file its
/// `*-file` / `*-files` keys name, read by the host (and added to `stamps`, stamped before
/// reading).
fn settings_for(
    config: &Config,
    domain: &str,
    c: &CheckSection,
    stamps: &mut Files,
) -> Result<Settings, String> {
    let mut files = Vec::new();
    for (key, value) in &c.settings {
        let paths: Vec<&str> = match value {
            toml::Value::String(s) if key.ends_with("-file") => vec![s.as_str()],
            toml::Value::Array(a) if key.ends_with("-files") => a
                .iter()
                .map(|v| v.as_str().ok_or_else(|| format!("{key}: expected paths")))
                .collect::<Result<_, _>>()?,
            _ => continue,
        };
        for p in paths {
            let full = config.resolve_path(p.as_ref());
            stamps.push((full.clone(), stamp(&full)));
            let contents =
                std::fs::read(&full).map_err(|e| format!("{key}: {}: {e}", full.display()))?;
            files.push(SettingsFile {
                key: key.clone(),
                path: p.to_string(),
                contents,
            });
        }
    }
    let toml = toml::to_string(&c.settings).map_err(|e| e.to_string())?;
    Ok(Settings {
        domain: domain.to_string(),
        toml,
        files,
    })
}

fn limits_for(config: &Config, c: &CheckSection, verbose: bool) -> Limits {
    let e = &config.engine;
    Limits {
        cpu: Duration::from_millis(c.cpu_ms.unwrap_or(e.cpu_ms)),
        timeout: Duration::from_millis(c.timeout_ms.unwrap_or(e.timeout_ms)),
        memory_bytes: c.memory_mb.unwrap_or(e.memory_mb) << 20,
        max_uses: e.max_uses,
        max_idle: e.warm_instances,
        verbose,
        ..Limits::default()
    }
}

/// The live domains, by lower-case name.
pub type Domains = HashMap<String, Arc<Domain>>;

/// A sender address or domain as the white list compares it: the local part lower-cased, the
/// domain in A-labels ([`a_labels_or_name`]) lower-cased, so that `Jörg@Bücher.example` and
/// `jörg@xn--bcher-kva.example` are one sender. A domain without A-labels is lower-cased.
pub fn sender_key(address: &str) -> String {
    let address = address.trim();
    let (local, domain) = match address.rsplit_once('@') {
        Some((local, domain)) => (Some(local), domain),
        None => (None, address),
    };
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let domain = a_labels_or_name(domain).to_lowercase();
    match local {
        Some(local) => format!("{}@{domain}", local.to_lowercase()),
        None => domain,
    }
}

#[cfg(test)]
mod tests {
    use super::sender_key;

    #[test]
    fn sender_keys_fold_case_and_internationalised_domains() {
        assert_eq!(sender_key(" Joe@Example.COM "), "joe@example.com");
        assert_eq!(sender_key("Partner.Example."), "partner.example");
        assert_eq!(
            sender_key("Jörg@Bücher.example"),
            "jörg@xn--bcher-kva.example"
        );
        assert_eq!(
            sender_key("JÖRG@xn--bcher-kva.example"),
            "jörg@xn--bcher-kva.example"
        );
        assert_eq!(
            sender_key("bü\u{ad}\u{fffd}.Example"),
            "bü\u{ad}\u{fffd}.example"
        );
    }
}
