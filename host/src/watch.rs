//! Reload without restart: the configuration file and every file a live check was built from
//! (components, word tables, phrase lists) are watched (modification time and length, polled),
//! and SIGHUP forces a reload. Each reload applies changed domains atomically; messages in
//! flight finish under the settings they started with; a bad file leaves the running
//! settings in force.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::domains::{Stamp, stamp};
use crate::pipeline::Antispam;

/// Watches the configuration of `engine` until the returned task is aborted.
pub fn spawn(engine: Arc<Antispam>, poll: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = modified(&engine);
        let mut hangup = hangups();
        loop {
            let forced = tokio::select! {
                _ = tokio::time::sleep(poll) => false,
                _ = next_hangup(&mut hangup) => true,
            };
            let now = modified(&engine);
            if forced || now != last {
                last = now;
                // A rejected file is logged by `reload`; the running settings stay.
                let _ = engine.reload().await;
            }
        }
    })
}

/// The watched files with their stamps now.
fn modified(engine: &Antispam) -> Vec<(PathBuf, Stamp)> {
    engine
        .watched_files()
        .into_iter()
        .map(|path| {
            let now = stamp(&path);
            (path, now)
        })
        .collect()
}

type Hangups = Option<tokio::signal::unix::Signal>;

fn hangups() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

async fn next_hangup(h: &mut Hangups) {
    match h {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
