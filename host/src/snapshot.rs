//! Snapshot tests of a configuration's log: `antispam snapshot` runs each case (an envelope and
//! a message file, in TOML) through the configured chain and compares the log it writes with
//! the case's `.snap` file, so that an operator sees in review exactly which log lines a change
//! to the configuration, a list or a component changes.
//!
//! The report is stable run to run: every line is rendered without its time, verbose lines
//! included, and every message gets the same message id ([`MESSAGE_ID`]). Cases run one after
//! another in one engine, in the order given, as a server would see them (a zone suspended by
//! one case is still suspended for the next).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::config::Config;
use crate::log::LogSink;
use crate::pipeline::{Antispam, Body, Disposition, Envelope, Outcome};

/// The message id every snapshot case uses.
pub const MESSAGE_ID: &str = "00000000deadbeef";

/// Arguments of `antispam snapshot`.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotArgs {
    /// The configuration whose chain is tested.
    #[arg(long)]
    pub config: PathBuf,
    /// Write the reports as the new snapshots instead of comparing.
    #[arg(long)]
    pub update: bool,
    /// The case files (`.toml`); each case's snapshot is the same path with `.snap`.
    #[arg(required = true)]
    pub cases: Vec<PathBuf>,
}

/// One case: the SMTP envelope and the message file (relative to the case file).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Case {
    /// The message file (RFC 5322).
    pub message: PathBuf,
    /// The connecting client.
    pub client_ip: IpAddr,
    /// The HELO/EHLO argument.
    pub helo: Option<String>,
    /// The MAIL FROM address (`""` for the null sender).
    pub mail_from: Option<String>,
    /// The RCPT TO addresses; the first one's domain picks the settings.
    #[serde(default)]
    pub rcpt: Vec<String>,
    /// The receiving domain, when it is not the first recipient's.
    pub domain: Option<String>,
}

/// How one case compared with its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// The report is the snapshot.
    Same,
    /// The report differs from the snapshot: a unified diff, snapshot first.
    Changed(String),
    /// There is no snapshot yet.
    Missing,
    /// The snapshot was written (`--update`).
    Written,
}

/// Runs every case and compares (or, with `update`, writes) its snapshot; prints one line per
/// case and the diffs. Returns true when every snapshot matched or was written.
pub async fn run(args: &SnapshotArgs) -> anyhow::Result<bool> {
    let config = Config::load(&args.config)?;
    let engine = Antispam::start(config, LogSink::capture(true).0).await?;
    let mut all_same = true;
    for path in &args.cases {
        let comparison = run_case(&engine, path, args.update).await?;
        let shown = path.display();
        match &comparison {
            Comparison::Same => println!("ok       {shown}"),
            Comparison::Written => println!("written  {shown}"),
            Comparison::Missing => {
                println!("missing  {} (run with --update)", snap_path(path).display())
            }
            Comparison::Changed(diff) => println!("changed  {shown}\n{diff}"),
        }
        all_same &= matches!(comparison, Comparison::Same | Comparison::Written);
    }
    Ok(all_same)
}

/// Runs the case at `path` and compares its report with the snapshot (or writes it).
pub async fn run_case(engine: &Antispam, path: &Path, update: bool) -> anyhow::Result<Comparison> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let case: Case = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let message = path.parent().unwrap_or(Path::new(".")).join(&case.message);
    let envelope = Envelope {
        message_id: Some(MESSAGE_ID.to_string()),
        domain: case.domain,
        client_ip: case.client_ip,
        helo: case.helo,
        mail_from: case.mail_from,
        recipients: case.rcpt,
    };
    let raw = std::fs::read(&message).with_context(|| format!("reading {}", message.display()))?;
    let report = report(&engine.check(&envelope, Body::Raw(raw)).await) + "\n";
    let snap = snap_path(path);
    if update {
        std::fs::write(&snap, &report).with_context(|| format!("writing {}", snap.display()))?;
        return Ok(Comparison::Written);
    }
    let Ok(expected) = std::fs::read_to_string(&snap) else {
        return Ok(Comparison::Missing);
    };
    if expected == report {
        return Ok(Comparison::Same);
    }
    let diff = similar::TextDiff::from_lines(&expected, &report)
        .unified_diff()
        .header(&snap.display().to_string(), "this run")
        .to_string();
    Ok(Comparison::Changed(diff))
}

/// The snapshot file of a case: its path with the extension `.snap`.
pub fn snap_path(case: &Path) -> PathBuf {
    case.with_extension("snap")
}

/// The report of an outcome: every log line (verbose included) as `<level> <text>` without
/// the time, then `--`, the X-headers, the subject prefix, the disposition and the number of
/// checks that failed, if any.
pub fn report(outcome: &Outcome) -> String {
    let mut out: Vec<String> = outcome
        .log
        .iter()
        .map(|l| format!("{:7} {}", format!("{:?}", l.level).to_lowercase(), l.text))
        .collect();
    out.push("--".into());
    out.extend(outcome.headers.iter().map(|(n, v)| format!("{n}: {v}")));
    if let Some(p) = &outcome.subject_prefix {
        out.push(format!("Subject prefix: {p}"));
    }
    out.push(match &outcome.disposition {
        Disposition::Clean => "outcome: clean".to_string(),
        Disposition::Marked => "outcome: marked".to_string(),
        Disposition::Deleted(why) => format!("outcome: deleted ({why})"),
    });
    if outcome.errors > 0 {
        out.push(format!("errors: {}", outcome.errors));
    }
    out.join("\n")
}
