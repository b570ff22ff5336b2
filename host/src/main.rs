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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&e.to_string()),
    };
    match cli.command {
        Command::Check(args) => runtime.block_on(check(args)),
    }
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
    let sink = LogSink::stdout(args.verbose || config.log.verbose);
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
    for (name, value) in &outcome.headers {
        println!("{name}: {value}");
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
