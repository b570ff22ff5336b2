//! `antispam eval`: runs labelled mail through the configured chain (the real components,
//! in wasm) and reports the confusion matrix, the error rates, the throughput on one core and
//! the peak memory, and what each check said of the good mail and of the spam (so a check in
//! dry run shows what it would catch, and what it would wrongly catch, before it counts). It
//! is also the project's end-to-end throughput bench.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::config::Config;
use crate::corpus::{self, Sample};
use crate::log::LogSink;
use crate::pipeline::{Antispam, Body, Disposition, Envelope, VerdictKind};

/// Arguments of `antispam eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// The configuration whose chain is measured.
    #[arg(long)]
    pub config: PathBuf,
    /// The labelled mail to measure.
    #[command(flatten)]
    pub source: corpus::Source,
    /// The receiving domain whose settings apply (default: the first configured domain).
    #[arg(long)]
    pub domain: Option<String>,
    /// Passes over the messages (more passes steady the throughput figure).
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// List the misclassified messages.
    #[arg(long)]
    pub list_errors: bool,
}

/// The result of an evaluation.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Good mail delivered clean.
    pub true_negatives: usize,
    /// Good mail marked or deleted.
    pub false_positives: Vec<String>,
    /// Spam marked or deleted.
    pub true_positives: usize,
    /// Spam delivered clean.
    pub false_negatives: Vec<String>,
    /// Checks that errored.
    pub errors: usize,
    /// What each check said (first round), in chain order.
    pub checks: Vec<CheckTally>,
    /// Messages checked per second (all rounds).
    pub per_second: f64,
}

/// What one check said of the evaluated mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckTally {
    /// The check's display name.
    pub name: String,
    /// Good messages it failed (whether or not its action let that count).
    pub good_failed: usize,
    /// Spam messages it failed.
    pub spam_failed: usize,
    /// Messages it could not decide.
    pub inconclusive: usize,
    /// Messages on which it lost its result.
    pub errors: usize,
    /// Messages it ran on.
    pub runs: usize,
    /// Time spent in its calls.
    pub time: Duration,
}

/// Runs `antispam eval` on the current thread (one core) and prints the report.
pub async fn run(args: &EvalArgs) -> anyhow::Result<Report> {
    let config = Config::load(&args.config)?;
    let domain = match &args.domain {
        Some(d) => d.clone(),
        None => config
            .domains
            .first()
            .map(|d| d.get_ref().name.clone())
            .context("no domain configured")?,
    };
    let samples = args.source.samples("test")?;
    if samples.is_empty() {
        bail!("no messages to evaluate");
    }
    let engine = Antispam::start(config, LogSink::capture(false).0).await?;
    let report = measure(&engine, &domain, &samples, args.rounds.max(1)).await;
    print(
        &report,
        samples.len() * args.rounds.max(1),
        args.list_errors,
    );
    Ok(report)
}

/// Checks every sample `rounds` times; the confusion matrix comes from the first round.
pub async fn measure(engine: &Antispam, domain: &str, samples: &[Sample], rounds: usize) -> Report {
    let mut report = Report::default();
    let envelope = Envelope {
        message_id: None,
        domain: Some(domain.to_string()),
        client_ip: std::net::Ipv4Addr::LOCALHOST.into(),
        helo: None,
        mail_from: None,
        recipients: Vec::new(),
    };
    let start = Instant::now();
    for round in 0..rounds {
        for sample in samples {
            let outcome = engine.check(&envelope, Body::Raw(sample.raw.clone())).await;
            if round > 0 {
                continue;
            }
            report.errors += outcome.errors;
            tally(&mut report.checks, &outcome.results, sample.spam);
            match (sample.spam, outcome.disposition == Disposition::Clean) {
                (false, true) => report.true_negatives += 1,
                (false, false) => report.false_positives.push(sample.name.clone()),
                (true, false) => report.true_positives += 1,
                (true, true) => report.false_negatives.push(sample.name.clone()),
            }
        }
    }
    report.per_second = (samples.len() * rounds) as f64 / start.elapsed().as_secs_f64();
    report
}

/// Adds one message's check results to the tallies (a check's tally is found by name, in the
/// order the checks first reported).
fn tally(checks: &mut Vec<CheckTally>, results: &[crate::pipeline::CheckResult], spam: bool) {
    for result in results {
        let at = match checks.iter().position(|c| c.name == result.check) {
            Some(at) => at,
            None => {
                checks.push(CheckTally {
                    name: result.check.clone(),
                    ..CheckTally::default()
                });
                checks.len() - 1
            }
        };
        let t = &mut checks[at];
        t.runs += 1;
        t.time += result.elapsed;
        match (result.verdict, spam) {
            (VerdictKind::Fail | VerdictKind::TrustedFail, false) => t.good_failed += 1,
            (VerdictKind::Fail | VerdictKind::TrustedFail, true) => t.spam_failed += 1,
            (VerdictKind::Inconclusive, _) => t.inconclusive += 1,
            (VerdictKind::Error, _) => t.errors += 1,
            (VerdictKind::Pass | VerdictKind::NotApplicable, _) => {}
        }
    }
}

fn print(r: &Report, checked: usize, list_errors: bool) {
    let good = r.true_negatives + r.false_positives.len();
    let spam = r.true_positives + r.false_negatives.len();
    let pct = |n: usize, of: usize| {
        if of == 0 {
            0.0
        } else {
            100.0 * n as f64 / of as f64
        }
    };
    println!("                 classified good  classified spam");
    println!(
        "good ({good:5})     {:15}  {:15}",
        r.true_negatives,
        r.false_positives.len()
    );
    println!(
        "spam ({spam:5})     {:15}  {:15}",
        r.false_negatives.len(),
        r.true_positives
    );
    println!(
        "false positives: {} of {good} ({:.2} %)",
        r.false_positives.len(),
        pct(r.false_positives.len(), good)
    );
    println!(
        "false negatives: {} of {spam} ({:.2} %)",
        r.false_negatives.len(),
        pct(r.false_negatives.len(), spam)
    );
    println!("check errors:    {}", r.errors);
    println!(
        "throughput:      {:.0} messages/s ({checked} checked on one core)",
        r.per_second
    );
    if let Some(peak) = peak_memory_kib() {
        println!("peak memory:     {:.1} MiB", peak as f64 / 1024.0);
    }
    println!("check            fails on good      fails on spam   inconclusive  errors  mean time");
    for c in &r.checks {
        let mean = c.time.as_secs_f64() * 1e6 / c.runs.max(1) as f64;
        println!(
            "{:16} {:5} ({:6.2} %)  {:5} ({:6.2} %)  {:12}  {:6}  {mean:7.0} µs",
            c.name,
            c.good_failed,
            pct(c.good_failed, good),
            c.spam_failed,
            pct(c.spam_failed, spam),
            c.inconclusive,
            c.errors
        );
    }
    if list_errors {
        r.false_positives
            .iter()
            .for_each(|n| println!("false positive: {n}"));
        r.false_negatives
            .iter()
            .for_each(|n| println!("false negative: {n}"));
    }
}

/// The process's peak resident memory (Linux `VmHWM`), in KiB.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
