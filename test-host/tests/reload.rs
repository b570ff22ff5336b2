//! Settings reloaded without restart: per changed domain the admin lines IMail logged, the
//! new settings applied atomically, messages in flight finishing under the old ones, and a
//! broken file rejected whole while the running settings stay.

use std::time::Duration;

use antispam_host::dns::Faults;
use test_host::{Harness, dns_server, envelope, snapshot};

const ZONE: &str = include_str!("../fixtures/blacklists.zone");

/// A domain whose parts can each be varied: the black list's zone, the white list, the phrase
/// list and the HTML features.
fn config(zone: &str, whitelist: &str, phrase: &str, feature: &str) -> String {
    format!(
        r#"
[resolver]
servers = ["@DNS@"]
timeout-ms = 300

[[domain]]
name = "example.com"
whitelist = ["{whitelist}"]

[[domain.check]]
component = "@PLUGINS@/dnsbl.wasm"
[[domain.check.settings.lists]]
name = "list"
zone = "{zone}"

[[domain.check]]
component = "@PLUGINS@/phrase.wasm"
settings = {{ phrases = ["{phrase}"] }}

[[domain.check]]
component = "@PLUGINS@/html.wasm"
settings = {{ features = ["{feature}"] }}

[[domain]]
name = "other.example"
"#
    )
}

const BASE: [&str; 4] = [
    "bl.example",
    "friend@example.org",
    "wholesale products",
    "script-tag",
];

async fn start() -> (
    Harness,
    antispam_host::dns::ZoneServer,
    Vec<(&'static str, String)>,
) {
    let dns = dns_server(ZONE, Faults::default()).await;
    let vars = vec![("DNS", dns.addr().to_string())];
    let h = Harness::start(&config(BASE[0], BASE[1], BASE[2], BASE[3]), &vars, &[])
        .await
        .expect("host starts");
    h.take_log();
    (h, dns, vars)
}

/// Rewrites the configuration with one part changed, reloads, and returns the admin log.
async fn reload_with(part: usize, value: &str) -> String {
    let (h, _dns, vars) = start().await;
    let mut parts = BASE;
    parts[part] = value;
    h.rewrite(&config(parts[0], parts[1], parts[2], parts[3]), &vars);
    h.engine
        .reload()
        .await
        .expect("the new configuration is valid");
    h.take_log().join("\n")
}

#[tokio::test]
async fn connection_settings_change() {
    snapshot("reload_connection", &reload_with(0, "bl2.example").await);
}

#[tokio::test]
async fn white_list_change() {
    snapshot(
        "reload_white_list",
        &reload_with(1, "partner.example").await,
    );
}

#[tokio::test]
async fn content_filter_change() {
    snapshot("reload_content_filter", &reload_with(2, "act now").await);
}

#[tokio::test]
async fn html_filter_change() {
    snapshot("reload_html_filter", &reload_with(3, "image-tag").await);
}

#[tokio::test]
async fn unchanged_file_reloads_nothing() {
    let (h, _dns, _vars) = start().await;
    h.engine.reload().await.expect("valid");
    assert!(
        h.take_log().is_empty(),
        "no domain changed, nothing is logged"
    );
}

#[tokio::test]
async fn broken_file_is_rejected_and_the_running_settings_stay() {
    let (h, _dns, vars) = start().await;
    h.rewrite(
        "[[domain]]\nname = \"example.com\"\ndelete-after = \"two\"\n",
        &vars,
    );
    let err = h.engine.reload().await.expect_err("rejected");
    assert_eq!(
        (err.line, err.key.as_str()),
        (3, "delete-after = \"two\""),
        "{err}"
    );
    let mut log = h.take_log().join("\n");
    log = log.replace(&h.dir().display().to_string(), "<dir>");
    let after = h
        .check(&envelope("192.0.2.99"), b"Subject: hi\r\n\r\nhello\r\n")
        .await;
    snapshot(
        "reload_rejected",
        &format!("{log}\n== a message after the rejected reload ==\n{after}"),
    );
}

#[tokio::test]
async fn invalid_settings_are_rejected_whole() {
    let (h, _dns, vars) = start().await;
    // The second domain is fine; the first names a feature the HTML filter does not know.
    h.rewrite(
        &config("bl2.example", BASE[1], BASE[2], "blinking-text"),
        &vars,
    );
    assert!(h.engine.reload().await.is_err());
    let log = h.take_log().join("\n");
    assert!(log.contains("ADMIN: configuration rejected"), "{log}");
    assert!(
        !log.contains("reloading connection filtering"),
        "nothing was applied: {log}"
    );
    let after = h
        .check(&envelope("192.0.2.99"), b"Subject: hi\r\n\r\nhello\r\n")
        .await;
    assert!(
        after.contains("(list:*:bl.example)"),
        "the old list is still in force: {after}"
    );
}

#[tokio::test]
async fn watcher_picks_up_a_changed_file() {
    let (h, _dns, vars) = start().await;
    let watcher = antispam_host::watch::spawn(h.engine.clone(), Duration::from_millis(50));
    // Let the watcher read the file's time first, then change the file (and its time).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let path = h.rewrite(&config("bl2.example", BASE[1], BASE[2], BASE[3]), &vars);
    let later = std::time::SystemTime::now() + Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(later))
        .unwrap();
    let mut log = Vec::new();
    for _ in 0..100 {
        log.extend(h.take_log());
        if log.iter().any(|l| l.contains("finished reloading")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    let done = "ADMIN: finished reloading connection filtering settings for domain: example.com";
    assert!(log.iter().any(|l| l.ends_with(done)), "{log:?}");
}

#[tokio::test]
async fn messages_in_flight_keep_their_settings() {
    // bl.example answers only after 600 ms: the first message is in flight during the reload.
    let faults = Faults::default();
    faults.set_zone_fault(
        "bl.example",
        Some(antispam_host::dns::ZoneFault::Delay(Duration::from_millis(
            600,
        ))),
    );
    let dns = dns_server(ZONE, faults).await;
    let vars = vec![("DNS", dns.addr().to_string())];
    let mut cfg = config(BASE[0], BASE[1], BASE[2], BASE[3]);
    cfg = cfg.replace("timeout-ms = 300", "timeout-ms = 2000");
    let h = Harness::start(&cfg, &vars, &[]).await.expect("host starts");
    h.take_log();
    let engine = h.engine.clone();
    let in_flight = tokio::spawn(async move {
        engine
            .check(
                &envelope("192.0.2.99"),
                antispam_host::pipeline::Body::Raw(b"Subject: a\r\n\r\nx\r\n".to_vec()),
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.rewrite(
        &cfg.replace("zone = \"bl.example\"", "zone = \"bl2.example\""),
        &vars,
    );
    h.engine.reload().await.expect("valid");
    let first = in_flight.await.expect("the first message finishes");
    let old = first
        .log
        .iter()
        .map(|l| l.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        old.contains("(list:*:bl.example)"),
        "started under the old list: {old}"
    );
    let second = h
        .check(&envelope("192.0.2.99"), b"Subject: b\r\n\r\ny\r\n")
        .await;
    assert!(
        second.contains("(list:*:bl2.example)"),
        "the next message uses the new list: {second}"
    );
}

/// A domain whose phrase list is a file (`phrases.txt` beside the configuration).
const PHRASE_FILE: &str = r#"
[[domain]]
name = "example.com"

[[domain.check]]
component = "@PLUGINS@/phrase.wasm"
settings = { phrases-file = "phrases.txt" }
"#;

/// A message that says "act now".
const ACT_NOW: &[u8] = b"Subject: offer\r\n\r\nPlease act now.\r\n";

/// Writes `phrases.txt` in the harness's folder, dated `seconds` ahead so that the change shows
/// even where file times are coarse.
fn write_phrases(h: &Harness, text: &str, seconds: u64) {
    let path = h.dir().join("phrases.txt");
    std::fs::write(&path, text).expect("write the phrase list");
    let later = std::time::SystemTime::now() + Duration::from_secs(seconds);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(later))
        .expect("date the phrase list");
}

#[tokio::test]
async fn changed_settings_file_is_reloaded() {
    let h = Harness::start(PHRASE_FILE, &[], &[("phrases.txt", "wholesale products\n")])
        .await
        .expect("host starts");
    h.take_log();
    let before = h.check(&envelope("192.0.2.99"), ACT_NOW).await;
    assert!(before.ends_with("outcome: clean"), "{before}");
    h.engine.reload().await.expect("valid");
    assert!(h.take_log().is_empty(), "nothing changed yet");

    write_phrases(&h, "act now\n", 2);
    h.engine.reload().await.expect("valid");
    let log = h.take_log().join("\n");
    let after = h.check(&envelope("192.0.2.99"), ACT_NOW).await;
    snapshot(
        "reload_settings_file",
        &format!("{log}\n== the message after the reload ==\n{after}"),
    );
}

#[tokio::test]
async fn watcher_picks_up_a_changed_settings_file() {
    let h = Harness::start(PHRASE_FILE, &[], &[("phrases.txt", "wholesale products\n")])
        .await
        .expect("host starts");
    h.take_log();
    let watcher = antispam_host::watch::spawn(h.engine.clone(), Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(200)).await;
    write_phrases(&h, "act now\n", 2);
    let mut log = Vec::new();
    for _ in 0..100 {
        log.extend(h.take_log());
        if log
            .iter()
            .any(|l| l.contains("Got updated Content Filtering"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    assert!(
        log.iter()
            .any(|l| l.contains("Got updated Content Filtering")),
        "{log:?}"
    );
    let after = h.check(&envelope("192.0.2.99"), ACT_NOW).await;
    assert!(after.contains("X-IMAIL-SPAM-PHRASE"), "{after}");
}
