//! The sandbox: a component that traps, loops, exhausts its memory or floods the log costs
//! one check's result, logged as an error; the chain goes on and the message is not lost.

use antispam_host::dns::Faults;
use test_host::{Harness, MESSAGE, dns_server, envelope, snapshot};

const ZONE: &str = include_str!("../fixtures/blacklists.zone");

/// A testbed check with `behaviour`, followed by the dnsbl check.
fn config(behaviour: &str) -> String {
    format!(
        r#"
[resolver]
servers = ["@DNS@"]

[engine]
cpu-ms = 200
memory-mb = 32

[[domain]]
name = "example.com"

[[domain.check]]
component = "@PLUGINS@/testbed.wasm"
name = "testbed"
settings = {{ behaviour = "{behaviour}" }}

[[domain.check]]
component = "@PLUGINS@/dnsbl.wasm"
[[domain.check.settings.lists]]
name = "spamlist"
zone = "bl.example"
"#
    )
}

async fn run(behaviour: &str) -> String {
    let dns = dns_server(ZONE, Faults::default()).await;
    let vars = [("DNS", dns.addr().to_string())];
    let harness = Harness::start(&config(behaviour), &vars, &[])
        .await
        .expect("host starts");
    harness.take_log();
    let first = harness.check(&envelope("192.0.2.99"), MESSAGE).await;
    // A second message shows the host recovered: a fresh instance replaces the broken one.
    let second = harness.check(&envelope("192.0.2.99"), MESSAGE).await;
    format!("{first}\n== next message ==\n{second}")
}

#[tokio::test]
async fn trapping_component_costs_one_result() {
    snapshot("sandbox_trap", &run("trap").await);
}

#[tokio::test]
async fn looping_component_is_stopped_by_its_cpu_budget() {
    snapshot("sandbox_loop", &run("loop").await);
}

#[tokio::test]
async fn memory_hungry_component_is_stopped_by_its_cap() {
    snapshot("sandbox_exhaust", &run("exhaust").await);
}

#[tokio::test]
async fn flooding_component_is_bounded() {
    let text = run("flood").await;
    let lines = text.lines().filter(|l| l.contains("testbed: line")).count();
    assert!(
        lines <= 2 * 1000,
        "the host keeps at most 1000 lines per call, got {lines}"
    );
    assert!(text.contains("further log lines dropped"));
}

#[tokio::test]
async fn refused_settings_reject_the_configuration() {
    let dns = dns_server(ZONE, Faults::default()).await;
    let vars = [("DNS", dns.addr().to_string())];
    let err = Harness::start(&config("refuse-settings"), &vars, &[])
        .await
        .err()
        .expect("start fails");
    let text = format!("{err:#}");
    assert!(text.contains("antispam.toml:"), "{text}");
    assert!(text.contains("testbed refuses these settings"), "{text}");
}
