//! Embedding the engine in a mail server written in Rust: load the configuration once, check
//! each message when its DATA is in, apply the outcome, and keep the settings live.
//!
//! Run from anywhere: `cargo run -p antispam-host --example embed` (the offline demo's
//! configuration, zone file and spam message).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use antispam_host::config::{Config, LogFormat};
use antispam_host::log::LogSink;
use antispam_host::pipeline::{Antispam, Body, Disposition, Envelope};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");

    // Once, at start-up: a bad file is an error naming its line and key.
    let config = Config::load(&examples.join("antispam.toml"))?;
    let log = LogSink::stdout(config.log.verbose, LogFormat::Text);
    let engine = Arc::new(Antispam::start(config, log).await?);

    // Keep the settings live: reload changed domains when a watched file changes (or on
    // SIGHUP); messages in flight keep the settings they started with. `engine.reload()`
    // does the same on demand.
    let watcher = antispam_host::watch::spawn(engine.clone(), Duration::from_secs(2));

    // Per message, once DATA is in: what the SMTP session gathered, and the message.
    let envelope = Envelope {
        message_id: None, // a random one is made for the log
        domain: None,     // the first recipient's domain picks the settings
        client_ip: "192.0.2.99".parse()?,
        helo: Some("mail.spammer.test".into()),
        mail_from: Some("seller@spammer.test".into()),
        recipients: vec!["postmaster@example.com".into()],
    };
    let outcome = engine
        .check(&envelope, Body::File(examples.join("spam.eml")))
        .await;

    // Apply the outcome: IMail deletes, or delivers with X-headers and a subject prefix.
    match &outcome.disposition {
        Disposition::Deleted(why) => println!("drop the message: {why}"),
        Disposition::Marked | Disposition::Clean => {
            // Header fields safe for any transport (a value that is not ASCII as RFC 2047
            // encoded words); `outcome.headers` holds the values as the checks gave them.
            for field in outcome.header_fields() {
                println!("add header {field}");
            }
            if let Some(subject) = outcome.prefixed_subject("You could GET RICH this week") {
                println!("replace the Subject with: {subject}");
            }
            println!("deliver");
        }
    }
    // Why each check decided as it did, and how long it took.
    for result in &outcome.results {
        println!("check {result}");
    }
    if outcome.errors > 0 {
        println!(
            "{} check(s) lost their result; the log says why",
            outcome.errors
        );
    }
    watcher.abort();
    Ok(())
}
