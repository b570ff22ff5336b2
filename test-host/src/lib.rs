//! Test servers and the scenario harness for antispam snapshot tests: real DNS and SMTP
//! servers on 127.0.0.1, the real host and the real components, and a log rendered without
//! the time so snapshots are stable run to run.

pub mod smtp_server;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use antispam_host::config::Config;
use antispam_host::dns::{Faults, Zone, ZoneServer};
use antispam_host::log::{Captured, LogSink};
use antispam_host::pipeline::{Antispam, Body, Envelope};

/// The message id every scenario uses, so snapshots do not change run to run, and the
/// snapshot text of an outcome: the same as `antispam snapshot` writes.
pub use antispam_host::snapshot::{MESSAGE_ID, report};

/// A running host on a configuration written to a temporary folder.
pub struct Harness {
    /// The engine under test.
    pub engine: Arc<Antispam>,
    captured: Captured,
    dir: tempfile::TempDir,
}

impl Harness {
    /// Writes `config` (with `@PLUGINS@` replaced by the components' folder and each
    /// `(name, value)` of `vars` replacing `@name@`) and `files` into a temporary folder, and
    /// starts the host on it with verbose logging captured.
    pub async fn start(
        config: &str,
        vars: &[(&str, String)],
        files: &[(&str, &str)],
    ) -> anyhow::Result<Harness> {
        let dir = tempfile::tempdir()?;
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents)?;
        }
        let path = dir.path().join("antispam.toml");
        std::fs::write(&path, expand(config, vars))?;
        let (sink, captured) = LogSink::capture(true);
        let engine = Antispam::start(Config::load(&path)?, sink).await?;
        Ok(Harness {
            engine: Arc::new(engine),
            captured,
            dir,
        })
    }

    /// The folder holding the configuration.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrites the configuration file (same substitutions as `start`).
    pub fn rewrite(&self, config: &str, vars: &[(&str, String)]) -> PathBuf {
        let path = self.dir.path().join("antispam.toml");
        std::fs::write(&path, expand(config, vars)).expect("write the configuration");
        path
    }

    /// Lines logged so far (admin lines and messages), without the time; clears them.
    pub fn take_log(&self) -> Vec<String> {
        self.captured.take_rendered()
    }

    /// Checks a message and returns the snapshot text: the log, then the outcome.
    pub async fn check(&self, envelope: &Envelope, message: &[u8]) -> String {
        let outcome = self
            .engine
            .check(envelope, Body::Raw(message.to_vec()))
            .await;
        self.take_log();
        report(&outcome)
    }
}

fn expand(config: &str, vars: &[(&str, String)]) -> String {
    let mut text = config.replace("@PLUGINS@", antispam_host::PLUGIN_DIR);
    for (name, value) in vars {
        text = text.replace(&format!("@{name}@"), value);
    }
    text
}

/// The envelope of a scenario: the fixed message id, delivered to `postmaster@example.com`.
pub fn envelope(client_ip: &str) -> Envelope {
    Envelope {
        message_id: Some(MESSAGE_ID.to_string()),
        domain: None,
        client_ip: client_ip.parse::<IpAddr>().expect("a client address"),
        helo: None,
        mail_from: None,
        recipients: vec!["postmaster@example.com".to_string()],
    }
}

/// Compares `text` with the snapshot `name` in the top-level `snapshots/` folder.
pub fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Starts a DNS server on 127.0.0.1 serving `zone` (master-file text, origin `.`).
pub async fn dns_server(zone: &str, faults: Faults) -> ZoneServer {
    let zone = Zone::parse(zone, ".").expect("a valid fixture zone");
    ZoneServer::start(zone, faults)
        .await
        .expect("start the fixture DNS server")
}

/// A plain test message.
pub const MESSAGE: &[u8] = b"From: sender@example.org\r\nTo: postmaster@example.com\r\nSubject: hello\r\n\r\nJust a note.\r\n";
