//! SIGHUP forces a reload (its own test binary: the watcher installs the process's SIGHUP
//! handler).

use std::time::Duration;

use test_host::Harness;

const CONFIG: &str = r#"
[[domain]]
name = "example.com"
delete-after = 1

[[domain.check]]
component = "@PLUGINS@/testbed.wasm"
settings = { behaviour = "pass" }
"#;

#[tokio::test]
async fn sighup_forces_a_reload() {
    let h = Harness::start(CONFIG, &[], &[]).await.expect("host starts");
    h.take_log();
    // A poll interval far beyond the test: only the signal can trigger this reload.
    let watcher = antispam_host::watch::spawn(h.engine.clone(), Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.rewrite(
        &CONFIG.replace("delete-after = 1", "prefix-subject = true"),
        &[],
    );
    let pid = std::process::id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("run kill");
    assert!(status.success());
    let mut log = Vec::new();
    for _ in 0..100 {
        log.extend(h.take_log());
        if !log.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    assert_eq!(
        log,
        [
            "- example.com ADMIN: reloading connection filtering settings for domain:example.com",
            "- example.com ADMIN: finished reloading connection filtering settings for domain: example.com",
        ]
    );
}
