//! The chain: for each message, the receiving domain's connection checks (all in flight at
//! once, judged in configured order under IMail's policy), then its content checks.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::stream::{FuturesOrdered, StreamExt};
use tokio::sync::Semaphore;

use crate::config::{Action, Config, ConfigError};
use crate::domains::{self, Domain, Domains, sender_key};
use crate::log::{Level, LogLine, LogSink};
use crate::message::{DEFAULT_MAX_TEXT_BYTES, MessageView};
use crate::runtime::{self, Check, Message, Runtime, Services, Session, Verdict};
use crate::services;

pub use crate::outcome::{CheckResult, Disposition, Outcome, VerdictKind};

/// The SMTP envelope of one message.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The anti-spam message id; a random one is made when absent.
    pub message_id: Option<String>,
    /// The receiving domain; defaults to the domain of the first recipient.
    pub domain: Option<String>,
    /// The connecting client.
    pub client_ip: IpAddr,
    /// The HELO/EHLO argument.
    pub helo: Option<String>,
    /// The MAIL FROM address (`Some("")` for `<>`).
    pub mail_from: Option<String>,
    /// The RCPT TO addresses.
    pub recipients: Vec<String>,
}

/// Where the message body is.
#[derive(Debug, Clone)]
pub enum Body {
    /// Already in memory.
    Raw(Vec<u8>),
    /// A body file, opened when content filtering starts.
    File(PathBuf),
}

/// The anti-spam engine: runtime, network services, live domains and the log.
pub struct Antispam {
    runtime: Arc<Runtime>,
    services: Services,
    sink: LogSink,
    config_path: PathBuf,
    domains: RwLock<Arc<Domains>>,
    permits: Semaphore,
    _local: services::LocalDns,
}

impl Antispam {
    /// Starts the engine on a loaded configuration: builds the runtime and services and
    /// configures every domain. Any domain that fails to configure fails the start.
    pub async fn start(config: Config, sink: LogSink) -> anyhow::Result<Antispam> {
        let cache = config
            .engine
            .cache_dir
            .as_ref()
            .map(|d| config.resolve_path(d));
        let runtime = Runtime::new(config.engine.max_instances, cache.as_deref())?;
        let (services, local) = services::start(&config).await?;
        let engine = Antispam {
            runtime,
            services,
            sink,
            config_path: config.path.clone(),
            domains: RwLock::new(Arc::new(Domains::new())),
            permits: Semaphore::new(config.engine.max_concurrent_messages.max(1)),
            _local: local,
        };
        engine.apply(&config).await.map_err(anyhow::Error::new)?;
        Ok(engine)
    }

    /// Re-reads the configuration file and applies what changed, domain by domain. A file
    /// that fails to parse or validate is rejected whole and the running settings stay.
    pub async fn reload(&self) -> Result<(), ConfigError> {
        let result = match Config::load(&self.config_path) {
            Ok(config) => self.apply(&config).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            let line = format!("ADMIN: configuration rejected, the running settings stay: {e}");
            self.sink.emit(&LogLine::admin(Level::Normal, "-", line));
        }
        result
    }

    /// Builds every new or changed domain, then swaps them all in at once.
    async fn apply(&self, config: &Config) -> Result<(), ConfigError> {
        let old = self.domains();
        let mut next = Domains::new();
        let mut lines = Vec::new();
        for section in &config.domains {
            let name = section.get_ref().name.to_ascii_lowercase();
            let current = old.get(&name);
            let verbose = self.sink.verbose();
            if let Some(live) = current.filter(|d| d.unchanged(config, section.get_ref(), verbose))
            {
                next.insert(name, live.clone());
                continue;
            }
            let (domain, loaded) = domains::build(
                &self.runtime,
                &self.services,
                config,
                section,
                verbose,
                current.map(|live| &**live),
            )
            .await?;
            match current {
                Some(live) => {
                    let changes = live.changes(&domain);
                    lines.extend(domains::reloading_lines(&domain.name, changes));
                    lines.extend(loaded);
                    lines.extend(domains::reloaded_lines(&domain.name, changes));
                }
                None => {
                    lines.extend(loaded);
                    lines.extend(domains::added_lines(&domain.name));
                }
            }
            next.insert(name, Arc::new(domain));
        }
        for gone in old.keys().filter(|k| !next.contains_key(*k)) {
            lines.push(LogLine::admin(
                Level::Verbose,
                gone,
                format!("ADMIN: removed the settings of domain {gone}"),
            ));
        }
        *self.domains.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        lines.iter().for_each(|l| self.sink.emit(l));
        Ok(())
    }

    /// The live settings of the receiving domain `name` (case-insensitive).
    pub fn domain(&self, name: &str) -> Option<Arc<Domain>> {
        self.domains().get(&name.to_ascii_lowercase()).cloned()
    }

    /// The files whose change calls for a reload: the configuration file and the component and
    /// settings files of every live domain, sorted, each once.
    pub fn watched_files(&self) -> Vec<std::path::PathBuf> {
        let domains = self.domains();
        let mut files: Vec<_> = std::iter::once(self.config_path.clone())
            .chain(domains.values().flat_map(|d| d.files().map(Into::into)))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    fn domains(&self) -> Arc<Domains> {
        self.domains
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Checks one message and logs what the checks found.
    pub async fn check(&self, envelope: &Envelope, body: Body) -> Outcome {
        let _permit = self.permits.acquire().await;
        let message_id = envelope
            .message_id
            .clone()
            .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()));
        let domain_name = envelope
            .domain
            .clone()
            .or_else(|| {
                envelope
                    .recipients
                    .first()
                    .and_then(|r| r.rsplit_once('@'))
                    .map(|(_, d)| d.to_string())
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut run = MessageRun::new(&message_id, &domain_name);
        match self.domains().get(&domain_name).cloned() {
            Some(domain) => {
                run.filter(&domain, envelope, body).await;
                run.add_result_header(&domain);
            }
            None => run.log(
                Level::Normal,
                format!("Unable to find AntiSpam Host Information for {domain_name}"),
            ),
        }
        run.outcome.log.iter().for_each(|l| self.sink.emit(l));
        run.outcome
    }
}

/// The state of one message going through the chain.
struct MessageRun {
    outcome: Outcome,
}

impl MessageRun {
    fn new(message_id: &str, domain: &str) -> Self {
        MessageRun {
            outcome: Outcome {
                message_id: message_id.to_string(),
                domain: domain.to_string(),
                disposition: Disposition::Clean,
                headers: Vec::new(),
                subject_prefix: None,
                errors: 0,
                results: Vec::new(),
                log: Vec::new(),
            },
        }
    }

    fn log(&mut self, level: Level, text: impl Into<String>) {
        let line = LogLine::new(level, &self.outcome.message_id, &self.outcome.domain, text);
        self.outcome.log.push(line);
    }

    /// Adds the domain's result header, if it has one, to a message that is kept and was
    /// checked: `name=verdict` per check in judging order, `; `-separated. Check names are
    /// reduced to letters, digits, `.`, `_` and `-` so the field stays one clean line.
    fn add_result_header(&mut self, domain: &Domain) {
        let Some(field) = &domain.result_header else {
            return;
        };
        if self.deleted() || self.outcome.results.is_empty() {
            return;
        }
        let value: Vec<String> = self
            .outcome
            .results
            .iter()
            .map(|r| {
                let name: String = r
                    .check
                    .chars()
                    .map(|c| match c {
                        'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
                        _ => '_',
                    })
                    .collect();
                format!("{name}={}", r.verdict.key())
            })
            .collect();
        self.outcome.headers.push((field.clone(), value.join("; ")));
    }

    fn deleted(&self) -> bool {
        matches!(self.outcome.disposition, Disposition::Deleted(_))
    }

    async fn filter(&mut self, domain: &Domain, envelope: &Envelope, body: Body) {
        if domain
            .trusted
            .iter()
            .any(|net| net.contains(&envelope.client_ip))
        {
            let text = format!(
                "{} is a trusted address, no anti-spam checks done",
                envelope.client_ip
            );
            return self.log(Level::Verbose, text);
        }
        let session = Session {
            message_id: self.outcome.message_id.clone(),
            domain: domain.name.clone(),
            client_ip: runtime::ip_to_wit(envelope.client_ip),
            helo: envelope.helo.clone(),
            mail_from: envelope.mail_from.clone(),
            recipients: envelope.recipients.clone(),
        };
        let whitelisted = whitelist_entry(domain, envelope.mail_from.as_deref());
        if let Some(entry) = &whitelisted {
            self.log(Level::Normal, format!("[{entry}] in white list"));
        }
        if whitelisted.is_none() || domain.whitelist_content_only {
            self.connection_stage(domain, &session).await;
        }
        if self.deleted() || whitelisted.is_some() || domain.content.is_empty() {
            return;
        }
        let raw = match body {
            Body::Raw(raw) => raw,
            Body::File(path) => match std::fs::read(&path) {
                Ok(raw) => raw,
                Err(_) => {
                    return self.log(
                        Level::Normal,
                        format!("Error:unable to open body file{}", path.display()),
                    );
                }
            },
        };
        self.content_stage(domain, &session, &raw).await;
    }

    /// Runs every connection check at once and judges the results in configured order; once
    /// the domain's threshold is reached the rest are cancelled and their lines dropped.
    async fn connection_stage(&mut self, domain: &Domain, session: &Session) {
        let mut runs: FuturesOrdered<_> =
            domain
                .connection
                .iter()
                .map(|(check, action)| async move {
                    (check, *action, check.run_connection(session).await)
                })
                .collect();
        let mut failed = 0u32;
        while let Some((check, action, run)) = runs.next().await {
            self.keep_log(run.log);
            let verdict = self.judge(check, run.verdict, run.elapsed);
            if action == Action::None {
                continue;
            }
            let finding = match verdict {
                Some(Verdict::TrustedFail(f)) => {
                    let text = format!(
                        "message failed check<{}> which was marked as trusted, deleting",
                        f.reason
                    );
                    self.log(Level::Normal, text);
                    self.outcome.disposition =
                        Disposition::Deleted(format!("trusted check {} failed", f.reason));
                    return;
                }
                Some(Verdict::Fail(f)) => f,
                _ => continue,
            };
            failed += finding.headers.len().max(1) as u32;
            self.outcome
                .headers
                .extend(finding.headers.into_iter().map(|h| (h.name, h.value)));
            if domain.delete_after.is_some_and(|n| failed >= n) {
                let text = format!(
                    "message failed {failed} of {} checks, deleting",
                    domain.total_checks
                );
                self.log(Level::Normal, text);
                let why = format!(
                    "{failed} of {} connection checks failed",
                    domain.total_checks
                );
                self.outcome.disposition = Disposition::Deleted(why);
                return;
            }
        }
        if failed > 0 {
            self.outcome.disposition = Disposition::Marked;
            self.outcome.subject_prefix = domain.subject_prefix.clone();
        }
    }

    /// Parses the message once and runs the content checks in order.
    async fn content_stage(&mut self, domain: &Domain, session: &Session, raw: &[u8]) {
        let view = MessageView::parse(raw, DEFAULT_MAX_TEXT_BYTES);
        if view.parser_failed {
            self.outcome.errors += 1;
            self.log(
                Level::Normal,
                "ERROR: the MIME parser failed on the message; content checks read its raw text",
            );
        }
        let message = Message {
            subject: view.subject,
            headers: view
                .headers
                .into_iter()
                .map(|h| runtime::HeaderField {
                    name: h.name,
                    value: h.value,
                    raw: h.raw,
                })
                .collect(),
            text: view.text,
            html: view.html,
            size: view.size,
            truncated: view.truncated,
        };
        for (check, action) in &domain.content {
            let run = check.run_content(session, &message).await;
            self.keep_log(run.log);
            let Some(Verdict::Fail(finding) | Verdict::TrustedFail(finding)) =
                self.judge(check, run.verdict, run.elapsed)
            else {
                continue;
            };
            match action {
                Action::XHeader => {
                    self.outcome
                        .headers
                        .extend(finding.headers.into_iter().map(|h| (h.name, h.value)));
                    if self.outcome.disposition == Disposition::Clean {
                        self.outcome.disposition = Disposition::Marked;
                    }
                }
                Action::Delete => {
                    self.outcome.disposition =
                        Disposition::Deleted(format!("{}: {}", check.name, finding.reason));
                    return;
                }
                Action::None => {}
            }
        }
    }

    fn keep_log(&mut self, lines: Vec<(Level, String)>) {
        for (level, text) in lines {
            self.log(level, text);
        }
    }

    /// Records a check's result and logs its error; returns the verdict when there is one to
    /// act on.
    fn judge(
        &mut self,
        check: &Check,
        verdict: Result<Verdict, String>,
        elapsed: Duration,
    ) -> Option<Verdict> {
        let (kind, reason) = match &verdict {
            Ok(Verdict::Pass) => (VerdictKind::Pass, String::new()),
            Ok(Verdict::Fail(f)) => (VerdictKind::Fail, f.reason.clone()),
            Ok(Verdict::TrustedFail(f)) => (VerdictKind::TrustedFail, f.reason.clone()),
            Ok(Verdict::Inconclusive(why)) => (VerdictKind::Inconclusive, why.clone()),
            Ok(Verdict::NotApplicable) => (VerdictKind::NotApplicable, String::new()),
            Ok(Verdict::Error(why)) | Err(why) => (VerdictKind::Error, why.clone()),
        };
        self.outcome.results.push(CheckResult {
            check: check.name.clone(),
            verdict: kind,
            reason,
            elapsed,
        });
        match verdict {
            Ok(Verdict::Error(why)) | Err(why) => {
                self.outcome.errors += 1;
                self.log(
                    Level::Normal,
                    format!("ERROR: check {} failed: {why}", check.name),
                );
                None
            }
            Ok(v) => Some(v),
        }
    }
}

/// The white-list entry (as written) matching a sender: the exact address, or its whole
/// domain, compared by [`sender_key`].
fn whitelist_entry(domain: &Domain, sender: Option<&str>) -> Option<String> {
    let sender = sender_key(sender?);
    let sender_domain = sender.rsplit_once('@').map(|(_, d)| d)?;
    domain
        .whitelist
        .iter()
        .find(|(key, _)| *key == sender || key == sender_domain)
        .map(|(_, written)| written.clone())
}
