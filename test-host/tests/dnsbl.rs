//! DNS black lists end to end: the real host, the real dnsbl component and a real DNS server
//! on 127.0.0.1, with the log pinned by snapshots.

use antispam_host::dns::Faults;
use test_host::{Harness, MESSAGE, dns_server, envelope, snapshot};

const ZONE: &str = include_str!("../fixtures/blacklists.zone");

/// One domain with the given black lists (TOML `[[domain.check.settings.lists]]` entries),
/// the default resolver pointing at the fixture server `@DNS@`.
fn config(lists: &str, extra: &str) -> String {
    format!(
        r#"
[resolver]
servers = ["@DNS@"]
timeout-ms = 200
retries = 2
tcp-timeout-ms = 500

[[domain]]
name = "example.com"
{extra}

[[domain.check]]
component = "@PLUGINS@/dnsbl.wasm"
{lists}
"#
    )
}

const SPAMLIST: &str = r#"
[[domain.check.settings.lists]]
name = "spamlist"
zone = "bl.example"
"#;

const TCPLIST: &str = r#"
[[domain.check.settings.lists]]
name = "tcplist"
zone = "bl.example"
transport = "tcp"
"#;

async fn run(
    lists: &str,
    extra: &str,
    faults: Faults,
    env: antispam_host::pipeline::Envelope,
) -> String {
    let dns = dns_server(ZONE, faults).await;
    let vars = [("DNS", dns.addr().to_string())];
    let harness = Harness::start(&config(lists, extra), &vars, &[])
        .await
        .expect("host starts");
    harness.take_log();
    harness.check(&env, MESSAGE).await
}

#[tokio::test]
async fn listed_with_txt() {
    let text = run(SPAMLIST, "", Faults::default(), envelope("192.0.2.99")).await;
    snapshot("dnsbl_listed_with_txt", &text);
}

#[tokio::test]
async fn not_listed() {
    let text = run(SPAMLIST, "", Faults::default(), envelope("192.0.2.1")).await;
    snapshot("dnsbl_not_listed", &text);
}

#[tokio::test]
async fn ipv6_client() {
    let text = run(SPAMLIST, "", Faults::default(), envelope("2001:db8::1")).await;
    snapshot("dnsbl_ipv6_client", &text);
}

#[tokio::test]
async fn ipv4_mapped_client_is_queried_as_ipv4() {
    let text = run(
        SPAMLIST,
        "",
        Faults::default(),
        envelope("::ffff:192.0.2.99"),
    )
    .await;
    snapshot("dnsbl_ipv4_mapped_client", &text);
}

#[tokio::test]
async fn helo_and_rhs_lists() {
    let lists = r#"
[[domain.check.settings.lists]]
name = "helolist"
zone = "helobl.example"
type = "helo"

[[domain.check.settings.lists]]
name = "rhslist"
zone = "rhsbl.example"
type = "rhs"
"#;
    let mut env = envelope("192.0.2.1");
    env.helo = Some("bad.helo.example".into());
    env.mail_from = Some("seller@spammer.example".into());
    let text = run(lists, "", Faults::default(), env).await;
    snapshot("dnsbl_helo_and_rhs_lists", &text);

    // An internationalised sender domain is asked for by its A-labels.
    let mut env = envelope("192.0.2.1");
    env.helo = Some("mail.spämmer.example".into());
    env.mail_from = Some("seller@Spämmer.example".into());
    let text = run(lists, "", Faults::default(), env).await;
    snapshot("dnsbl_idn_rhs_listed", &text);
}

#[tokio::test]
async fn udp_retry_then_answer() {
    // Without the self-test queries the first two UDP packets are both the list query's.
    let list = format!("{SPAMLIST}self-test = false\n");
    let faults = Faults::default();
    faults.drop_first_udp(2);
    let text = run(&list, "", faults, envelope("192.0.2.99")).await;
    snapshot("dnsbl_udp_retry_then_answer", &text);
}

#[tokio::test]
async fn all_retries_time_out() {
    let faults = Faults::default();
    faults.drop_all_udp(true);
    let text = run(SPAMLIST, "", faults, envelope("192.0.2.99")).await;
    snapshot("dnsbl_all_retries_time_out", &text);
}

#[tokio::test]
async fn tcp_refused() {
    let faults = Faults::default();
    faults.refuse_tcp(true);
    let text = run(TCPLIST, "", faults, envelope("192.0.2.99")).await;
    snapshot("dnsbl_tcp_refused", &text);
}

#[tokio::test]
async fn tcp_listed() {
    let text = run(TCPLIST, "", Faults::default(), envelope("192.0.2.99")).await;
    snapshot("dnsbl_tcp_listed", &text);
}

#[tokio::test]
async fn error_code_answer_is_not_a_listing() {
    let text = run(SPAMLIST, "", Faults::default(), envelope("192.0.2.98")).await;
    snapshot("dnsbl_error_code_answer", &text);
}

#[tokio::test]
async fn failed_self_test_suspends_the_zone() {
    let lists = r#"
[[domain.check.settings.lists]]
name = "brokenlist"
zone = "broken.example"

[[domain.check.settings.lists]]
name = "spamlist"
zone = "bl.example"
"#;
    let dns = dns_server(ZONE, Faults::default()).await;
    let vars = [("DNS", dns.addr().to_string())];
    let harness = Harness::start(&config(lists, ""), &vars, &[])
        .await
        .expect("host starts");
    harness.take_log();
    let first = harness.check(&envelope("192.0.2.99"), MESSAGE).await;
    let second = harness.check(&envelope("192.0.2.99"), MESSAGE).await;
    snapshot(
        "dnsbl_failed_self_test_suspends",
        &format!("{first}\n== next message ==\n{second}"),
    );
}

#[tokio::test]
async fn trusted_list_hit_deletes() {
    let lists = r#"
[[domain.check.settings.lists]]
name = "spamlist"
zone = "bl.example"

[[domain.check.settings.lists]]
name = "botnets"
zone = "trusted.example"
trusted = true
"#;
    let text = run(lists, "", Faults::default(), envelope("192.0.2.99")).await;
    snapshot("dnsbl_trusted_list_hit", &text);
}

#[tokio::test]
async fn servfail_is_an_error_not_a_listing() {
    let faults = Faults::default();
    faults.servfail(true);
    let text = run(SPAMLIST, "", faults, envelope("192.0.2.99")).await;
    snapshot("dnsbl_servfail", &text);
}

#[tokio::test]
async fn truncated_udp_falls_back_to_tcp() {
    let faults = Faults::default();
    faults.truncate_udp(true);
    let text = run(SPAMLIST, "", faults, envelope("192.0.2.99")).await;
    snapshot("dnsbl_truncated_udp", &text);
}

#[tokio::test]
async fn keyed_zone_is_queried_with_its_key_and_logged_without() {
    let dqs = SPAMLIST
        .replace("spamlist", "dqs")
        .replace("\"bl.example\"", "\"dq.example\"\nkey = \"K3Y\"");
    let text = run(&dqs, "", Faults::default(), envelope("192.0.2.99")).await;
    assert!(!text.to_lowercase().contains("k3y"), "{text}");
    snapshot("dnsbl_keyed_zone", &text);
}
