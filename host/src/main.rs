//! The `antispam` command line: check a message through the configured chain.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use antispam_host::config::Config;
use antispam_host::log::LogSink;
use antispam_host::pipeline::{Antispam, Body, Disposition, Envelope};

#[derive(Parser)]
#[command(
    name = "antispam",
    version,
    about = "IMail's anti-spam engine, rebuilt as WebAssembly components"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the configured chain on one message and prints the log and the outcome.
    /// Exit status: 0 clean, 1 spam (marked or deleted), 2 a check or the host failed.
    Check(CheckArgs),
    /// Builds or extends a statistical word table from labelled mail.
    Train(antispam_host::train::TrainArgs),
    /// Runs labelled mail through the configured chain: confusion matrix, error rates,
    /// messages per second on one core, peak memory.
    Eval(antispam_host::eval::EvalArgs),
    /// Loads the configuration and keeps its settings live: reloads changed domains when the
    /// file changes or on SIGHUP, logging what was reloaded, until interrupted.
    Watch(WatchArgs),
    /// Loads the configuration as `check` and `watch` would (every component loaded and
    /// configured with its settings and files), prints each domain's chain, and exits:
    /// 0 when it is valid, 2 with the error (file, line, key) when it is not.
    Validate(ValidateArgs),
    /// Runs snapshot cases (an envelope and a message file each, in TOML) through the chain
    /// and compares each log with the case's `.snap` file (`--update` writes them).
    /// Exit status: 0 all match, 1 a snapshot changed or is missing, 2 an error.
    Snapshot(antispam_host::snapshot::SnapshotArgs),
}

#[derive(clap::Args)]
struct ValidateArgs {
    /// The configuration file.
    #[arg(long)]
    config: PathBuf,
}

#[derive(clap::Args)]
struct WatchArgs {
    /// The configuration file.
    #[arg(long)]
    config: PathBuf,
    /// Seconds between checks of the file's modification time.
    #[arg(long, default_value_t = 2)]
    poll: u64,
    /// Log verbose lines too (the reload lines are verbose).
    #[arg(long)]
    verbose: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The configuration file.
    #[arg(long)]
    config: PathBuf,
    /// The connecting client's address.
    #[arg(long)]
    client_ip: IpAddr,
    /// The HELO/EHLO argument.
    #[arg(long)]
    helo: Option<String>,
    /// The MAIL FROM address (`<>` or an empty string for the null sender).
    #[arg(long)]
    mail_from: Option<String>,
    /// A RCPT TO address (repeatable); the first one's domain picks the settings.
    #[arg(long)]
    rcpt: Vec<String>,
    /// The receiving domain, when it is not the first recipient's.
    #[arg(long)]
    domain: Option<String>,
    /// Log verbose lines too (overrides the configuration).
    #[arg(long)]
    verbose: bool,
    /// The message file (RFC 5322).
    message: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One core for `eval` (its throughput figure is per core); all cores otherwise.
    let runtime = match &cli.command {
        Command::Eval(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => return fail(&e.to_string()),
    };
    let done = match cli.command {
        Command::Check(args) => return runtime.block_on(check(args)),
        Command::Snapshot(args) => {
            return match runtime.block_on(antispam_host::snapshot::run(&args)) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => fail(&format!("{e:#}")),
            };
        }
        Command::Train(args) => antispam_host::train::run(&args),
        Command::Eval(args) => runtime.block_on(antispam_host::eval::run(&args)).map(drop),
        Command::Watch(args) => runtime.block_on(watch(args)),
        Command::Validate(args) => runtime.block_on(validate(args)),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

async fn watch(args: WatchArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let sink = LogSink::stdout(args.verbose || config.log.verbose, config.log.format);
    let engine = std::sync::Arc::new(Antispam::start(config, sink).await?);
    let poll = std::time::Duration::from_secs(args.poll.max(1));
    let watcher = antispam_host::watch::spawn(engine, poll);
    tokio::signal::ctrl_c().await?;
    watcher.abort();
    Ok(())
}

async fn validate(args: ValidateArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let names: Vec<String> = config
        .domains
        .iter()
        .map(|d| d.get_ref().name.clone())
        .collect();
    let engine = Antispam::start(config, LogSink::capture(false).0).await?;
    for name in names {
        if let Some(domain) = engine.domain(&name) {
            println!("{}", domain.summary());
        }
    }
    println!("{}: valid", args.config.display());
    Ok(())
}

fn fail(why: &str) -> ExitCode {
    eprintln!("antispam: {why}");
    ExitCode::from(2)
}

async fn check(args: CheckArgs) -> ExitCode {
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let sink = LogSink::stdout(args.verbose || config.log.verbose, config.log.format);
    let engine = match Antispam::start(config, sink).await {
        Ok(e) => e,
        Err(e) => return fail(&format!("{e:#}")),
    };
    let envelope = Envelope {
        message_id: None,
        domain: args.domain,
        client_ip: args.client_ip,
        helo: args.helo,
        mail_from: args
            .mail_from
            .map(|m| m.trim_start_matches('<').trim_end_matches('>').to_string()),
        recipients: args.rcpt,
    };
    let outcome = engine.check(&envelope, Body::File(args.message)).await;
    for result in &outcome.results {
        println!("check {result}");
    }
    for field in outcome.header_fields() {
        println!("{field}");
    }
    if let Some(prefix) = &outcome.subject_prefix {
        println!("Subject prefix: {prefix}");
    }
    match &outcome.disposition {
        Disposition::Clean => println!("outcome: clean"),
        Disposition::Marked => println!("outcome: spam (X-headers added)"),
        Disposition::Deleted(why) => println!("outcome: deleted ({why})"),
    }
    match (&outcome.disposition, outcome.errors) {
        (Disposition::Clean, 0) => ExitCode::SUCCESS,
        (Disposition::Clean, _) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}
