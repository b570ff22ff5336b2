//! IMail's connection policy in the host: trusted addresses, the white list, trusted lists,
//! "delete after N of M" and the X-headers below N, plus the host's own intake messages.

use antispam_host::dns::Faults;
use antispam_host::pipeline::{Body, Envelope};
use test_host::{Harness, MESSAGE, dns_server, envelope, report, snapshot};

const ZONE: &str = include_str!("../fixtures/blacklists.zone");

/// Three standard lists (192.0.2.99 is on the first two), then HELO validation, then revdns.
fn config(domain_extra: &str) -> String {
    format!(
        r#"
[resolver]
servers = ["@DNS@"]
timeout-ms = 300

[[domain]]
name = "example.com"
{domain_extra}

[[domain.check]]
component = "@PLUGINS@/dnsbl.wasm"
[[domain.check.settings.lists]]
name = "first"
zone = "bl.example"
[[domain.check.settings.lists]]
name = "second"
zone = "bl2.example"
[[domain.check.settings.lists]]
name = "third"
zone = "bl3.example"

[[domain.check]]
component = "@PLUGINS@/helo.wasm"

[[domain.check]]
component = "@PLUGINS@/revdns.wasm"

[[domain.check]]
component = "@PLUGINS@/phrase.wasm"
settings = {{ phrases = ["wholesale products"] }}
"#
    )
}

async fn harness(domain_extra: &str) -> (Harness, antispam_host::dns::ZoneServer) {
    let dns = dns_server(ZONE, Faults::default()).await;
    let vars = [("DNS", dns.addr().to_string())];
    let h = Harness::start(&config(domain_extra), &vars, &[])
        .await
        .expect("host starts");
    (h, dns)
}

fn sender(ip: &str, helo: Option<&str>, from: &str) -> Envelope {
    let mut env = envelope(ip);
    env.helo = helo.map(str::to_string);
    env.mail_from = Some(from.to_string());
    env
}

const SPAMMY: &[u8] =
    b"From: seller@spam.example\r\nSubject: offer\r\n\r\nOur Wholesale   Products are cheap.\r\n";

/// Checks the spammy message from seller@spam.example, client 192.0.2.99 (on two lists),
/// with `helo`; returns the snapshot text.
async fn spammy(h: &Harness, helo: Option<&str>) -> String {
    h.check(&sender("192.0.2.99", helo, "seller@spam.example"), SPAMMY)
        .await
}

#[tokio::test]
async fn domain_settings_are_added_at_start() {
    let (h, _dns) = harness("").await;
    snapshot("policy_domain_added", &h.take_log().join("\n"));
}

#[tokio::test]
async fn below_threshold_adds_headers_and_goes_on_to_content() {
    let (h, _dns) = harness("delete-after = 5\nprefix-subject = true").await;
    h.take_log();
    let text = spammy(&h, Some("localhost")).await;
    snapshot("policy_below_threshold", &text);
}

#[tokio::test]
async fn reaching_the_threshold_deletes_and_stops() {
    let (h, _dns) = harness("delete-after = 3").await;
    h.take_log();
    let text = spammy(&h, None).await;
    snapshot("policy_threshold_reached", &text);
}

#[tokio::test]
async fn threshold_above_the_number_of_checks_is_rejected() {
    let dns = dns_server(ZONE, Faults::default()).await;
    let vars = [("DNS", dns.addr().to_string())];
    let err = Harness::start(&config("delete-after = 6"), &vars, &[])
        .await
        .err()
        .expect("rejected");
    let text = format!("{err:#}");
    assert!(
        text.contains("antispam.toml:8: delete-after: 6 exceeds the 5 enabled"),
        "{text}"
    );
    let ok = Harness::start(&config("delete-after = 5"), &vars, &[]).await;
    assert!(ok.is_ok(), "5 of 5 is accepted");
}

#[tokio::test]
async fn trusted_address_skips_every_check() {
    let (h, dns) = harness("trusted-ips = [\"10.0.0.0/255.0.0.0\", \"192.0.2.0/24\"]").await;
    h.take_log();
    let text = spammy(&h, None).await;
    assert_eq!(dns.queries(), 0, "no DNS query for a trusted address");
    snapshot("policy_trusted_address", &text);
}

#[tokio::test]
async fn whitelisted_sender_skips_content_filtering() {
    let (h, _dns) = harness("whitelist = [\"Spam.Example\"]").await;
    h.take_log();
    let text = spammy(&h, Some("localhost")).await;
    snapshot("policy_whitelist_content_only", &text);
}

#[tokio::test]
async fn whitelist_compares_internationalised_domains_by_their_a_labels() {
    let (h, _dns) = harness("whitelist = [\"Bücher.example\", \"JÖRG@müller.example\"]").await;
    h.take_log();
    for (from, entry) in [
        ("seller@XN--BCHER-KVA.example", "bücher.example"),
        ("jörg@xn--mller-kva.example.", "jörg@müller.example"),
    ] {
        let text = h
            .check(&sender("192.0.2.99", Some("localhost"), from), SPAMMY)
            .await;
        assert!(
            text.contains(&format!("[{entry}] in white list")),
            "{from}: {text}"
        );
    }
    let text = h
        .check(
            &sender("192.0.2.99", Some("localhost"), "joerg@mueller.example"),
            SPAMMY,
        )
        .await;
    assert!(!text.contains("in white list"), "{text}");
}

#[tokio::test]
async fn whitelisted_sender_skips_everything_when_not_content_only() {
    let (h, dns) =
        harness("whitelist = [\"SELLER@spam.example\"]\nwhitelist-content-only = false").await;
    h.take_log();
    let text = spammy(&h, Some("localhost")).await;
    assert_eq!(dns.queries(), 0, "no connection check ran");
    snapshot("policy_whitelist_everything", &text);
}

#[tokio::test]
async fn unknown_domain_has_no_settings() {
    let (h, _dns) = harness("").await;
    h.take_log();
    let mut env = envelope("192.0.2.99");
    env.recipients = vec!["someone@elsewhere.example".into()];
    snapshot("policy_unknown_domain", &h.check(&env, MESSAGE).await);
}

#[tokio::test]
async fn unreadable_body_file_is_logged() {
    let (h, _dns) = harness("").await;
    h.take_log();
    let missing = h.dir().join("no-such-body.eml");
    let outcome = h
        .engine
        .check(
            &sender("192.0.2.1", Some("localhost"), "a@example.org"),
            Body::File(missing),
        )
        .await;
    let text = report(&outcome).replace(&h.dir().display().to_string(), "<dir>");
    snapshot("policy_unreadable_body", &text);
}

/// The configuration with the black-list check as a dry run (`action = "none"`).
fn dry_run_lists(domain_extra: &str, action: &str) -> String {
    let lists = "component = \"@PLUGINS@/dnsbl.wasm\"";
    config(domain_extra).replace(lists, &format!("{lists}\naction = \"{action}\""))
}

#[tokio::test]
async fn a_connection_check_in_dry_run_is_logged_but_never_counted() {
    let dns = dns_server(ZONE, Faults::default()).await;
    let vars = [("DNS", dns.addr().to_string())];
    let h = Harness::start(&dry_run_lists("delete-after = 2", "none"), &vars, &[])
        .await
        .expect("host starts");
    h.take_log();
    let text = spammy(&h, Some("localhost")).await;
    snapshot("policy_dry_run", &text);
    let summary = h
        .engine
        .domain("Example.COM")
        .expect("configured")
        .summary();
    assert_eq!(
        summary,
        "example.com: 3 connection and 1 content checks: dnsbl (dry run), helo, revdns, phrase; \
         delete after 2 of 2"
    );
    assert!(h.engine.domain("other.example").is_none());

    let err = Harness::start(&dry_run_lists("delete-after = 3", "none"), &vars, &[])
        .await
        .err()
        .expect("the dry run's three lists are not among the M");
    let text = format!("{err:#}");
    assert!(text.contains("3 exceeds the 2 enabled"), "{text}");
    let err = Harness::start(&dry_run_lists("", "delete"), &vars, &[])
        .await
        .err()
        .expect("delete is for content checks");
    let text = format!("{err:#}");
    assert!(
        text.contains("action: delete applies to content checks"),
        "{text}"
    );
}

#[tokio::test]
async fn result_header_names_each_check_s_verdict() {
    let (h, _dns) = harness("delete-after = 5\nresult-header = \"X-Antispam-Result\"").await;
    h.take_log();
    let text = spammy(&h, Some("localhost")).await;
    snapshot("policy_result_header", &text);
    let (deleted, _dns) = harness("delete-after = 2\nresult-header = \"X-Antispam-Result\"").await;
    let text = spammy(&deleted, Some("localhost")).await;
    assert!(
        !text.contains("X-Antispam-Result"),
        "not on a deleted message: {text}"
    );
}
