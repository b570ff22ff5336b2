//! HELO, reverse-DNS and MAIL FROM validation end to end: the real host, the real helo,
//! revdns and mailfrom components, a real DNS server and a scripted SMTP server on
//! 127.0.0.1, with every log line (normal and verbose) and the callout dialogue pinned by
//! snapshots.

use std::collections::HashMap;

use antispam_host::dns::{Faults, ZoneFault, ZoneServer};
use antispam_host::pipeline::{Body, Envelope, VerdictKind};
use antispam_host::smtp::CATCH_ALL_PREFIX;
use test_host::smtp_server::{Behaviour, SmtpServer};
use test_host::{Harness, MESSAGE, dns_server, envelope, snapshot};

const ZONE: &str = include_str!("../fixtures/validation.zone");

/// `[callout]` settings: these step and total timeouts in seconds, and the loopback networks
/// the scripted servers listen on allowed.
fn callout(step_s: u64, total_s: u64) -> String {
    format!(
        "step-timeout-s = {step_s}\ntotal-timeout-s = {total_s}\nconnect-timeout-s = 10\n\
         allow-networks = [\"127.0.0.0/8\", \"::1/128\"]"
    )
}

/// Callout bounds for servers that answer at once (generous, never reached).
fn generous() -> String {
    callout(10, 20)
}

/// One domain with one check (`component` is the file name without `.wasm`), fast DNS
/// timeouts so dropped queries finish quickly, and the given `[callout]` bounds.
fn config(component: &str, settings: &str, callout: &str) -> String {
    format!(
        r#"
[resolver]
servers = ["@DNS@"]
timeout-ms = 200
retries = 1

[callout]
{callout}

[[domain]]
name = "example.com"

[[domain.check]]
component = "@PLUGINS@/{component}.wasm"
settings = {{ {settings} }}
"#
    )
}

/// Starts the fixture DNS server with `faults` and a host on `config`; `vars` adds
/// substitutions to `@DNS@`.
async fn start(config: &str, faults: Faults, vars: &[(&str, String)]) -> (Harness, ZoneServer) {
    let dns = dns_server(ZONE, faults).await;
    let mut all = vec![("DNS", dns.addr().to_string())];
    all.extend(vars.iter().cloned());
    let harness = Harness::start(config, &all, &[])
        .await
        .expect("host starts");
    harness.take_log();
    (harness, dns)
}

fn session(ip: &str, helo: Option<&str>, from: Option<&str>) -> Envelope {
    let mut env = envelope(ip);
    env.helo = helo.map(str::to_string);
    env.mail_from = from.map(str::to_string);
    env
}

/// A fault dropping every query at and under `zone`.
fn drop_zone(zone: &str) -> Faults {
    let faults = Faults::default();
    faults.set_zone_fault(zone, Some(ZoneFault::Drop));
    faults
}

// ---------------------------------------------------------------- HELO

/// Checks one message with `helo` from `ip` under the helo settings, and snapshots it.
async fn helo(
    name: &str,
    settings: &str,
    faults: Faults,
    ip: &str,
    helo: Option<&str>,
) -> ZoneServer {
    let (h, dns) = start(&config("helo", settings, &generous()), faults, &[]).await;
    snapshot(name, &h.check(&session(ip, helo, None), MESSAGE).await);
    dns
}

#[tokio::test]
async fn helo_missing() {
    let dns = helo("helo_none", "", Faults::default(), "192.0.2.25", None).await;
    assert_eq!(dns.queries(), 0, "no HELO, no lookup");
}

#[tokio::test]
async fn helo_names_with_mx_or_a_records_pass() {
    for (name, arg) in [
        ("helo_mx_and_a", "mail.example"),
        ("helo_mx_only", "mxonly.example"),
        ("helo_null_mx", "nullmx.example"),
        ("helo_u_labels", "Bücher.sender.example"),
    ] {
        helo(name, "", Faults::default(), "192.0.2.25", Some(arg)).await;
    }
}

#[tokio::test]
async fn helo_names_without_mx_or_a_records_fail() {
    for (name, arg) in [
        ("helo_nxdomain", "nosuchname.invalid"),
        ("helo_no_records", "txtonly.example"),
        ("helo_aaaa_only_by_default", "v6only.example"),
    ] {
        helo(name, "", Faults::default(), "192.0.2.25", Some(arg)).await;
    }
}

#[tokio::test]
async fn helo_aaaa_counts_with_accept_aaaa() {
    let settings = "accept-aaaa = true";
    helo(
        "helo_aaaa_only_accepted",
        settings,
        Faults::default(),
        "2001:db8::25",
        Some("v6only.example"),
    )
    .await;
}

#[tokio::test]
async fn helo_non_fqdn_fails_without_dns() {
    let settings = "reject-non-fqdn = true";
    let dns = helo(
        "helo_non_fqdn",
        settings,
        Faults::default(),
        "192.0.2.25",
        Some("localhost"),
    )
    .await;
    assert_eq!(dns.queries(), 0, "a syntax failure needs no lookup");
}

#[tokio::test]
async fn helo_address_literals_against_the_client() {
    let settings = "literal-must-match-client = true";
    for (name, ip, arg) in [
        ("helo_literal_mismatch", "192.0.2.25", "[192.0.2.1]"),
        ("helo_literal_matches", "192.0.2.25", "[192.0.2.25]"),
        (
            "helo_literal_ipv6_matches",
            "2001:db8::25",
            "[IPv6:2001:db8::25]",
        ),
        (
            "helo_literal_ipv6_mismatch",
            "2001:db8::25",
            "[IPv6:2001:db8::1]",
        ),
    ] {
        let dns = helo(name, settings, Faults::default(), ip, Some(arg)).await;
        assert_eq!(dns.queries(), 0, "{name}: a literal is never looked up");
    }
}

#[tokio::test]
async fn helo_dns_timeout_is_inconclusive() {
    helo(
        "helo_dns_timeout",
        "",
        drop_zone("example"),
        "192.0.2.25",
        Some("mail.example"),
    )
    .await;
}

// ---------------------------------------------------------------- reverse DNS

/// Checks one message from `ip` under the revdns settings, and snapshots it.
async fn revdns(name: &str, settings: &str, faults: Faults, ip: &str) {
    let (h, _dns) = start(&config("revdns", settings, &generous()), faults, &[]).await;
    snapshot(
        name,
        &h.check(&session(ip, Some("mail.example"), None), MESSAGE)
            .await,
    );
}

#[tokio::test]
async fn revdns_confirmed_clients_pass() {
    for (name, ip) in [
        ("revdns_confirmed_ipv4", "192.0.2.25"),
        ("revdns_confirmed_ipv6", "2001:db8::25"),
        ("revdns_confirmed_ipv4_mapped", "::ffff:192.0.2.25"),
    ] {
        revdns(name, "", Faults::default(), ip).await;
    }
}

#[tokio::test]
async fn revdns_ptr_exists_mode_accepts_any_ptr() {
    revdns(
        "revdns_ptr_exists",
        "mode = \"ptr-exists\"",
        Faults::default(),
        "192.0.2.26",
    )
    .await;
}

#[tokio::test]
async fn revdns_unconfirmed_clients_fail() {
    for (name, ip) in [
        ("revdns_ptr_names_other_host", "192.0.2.26"),
        ("revdns_no_ptr", "192.0.2.29"),
        ("revdns_no_ptr_ipv6", "2001:db8::1"),
        ("revdns_ptr_name_without_records", "192.0.2.27"),
    ] {
        revdns(name, "", Faults::default(), ip).await;
    }
}

#[tokio::test]
async fn revdns_dns_timeouts_are_inconclusive() {
    revdns(
        "revdns_forward_timeout",
        "",
        drop_zone("slow.example"),
        "192.0.2.28",
    )
    .await;
    revdns(
        "revdns_ptr_timeout",
        "",
        drop_zone("in-addr.arpa"),
        "192.0.2.25",
    )
    .await;
}

// ---------------------------------------------------------------- MAIL FROM

/// A scripted SMTP server and a host whose mailfrom check calls it out.
struct Callout {
    harness: Harness,
    smtp: SmtpServer,
    _dns: ZoneServer,
}

impl Callout {
    async fn start(smtp: SmtpServer, faults: Faults, callout: &str) -> Callout {
        Callout::start_with(smtp, faults, "", callout).await
    }

    /// As `start`, with more mailfrom settings (`key = value, ...`).
    async fn start_with(
        smtp: SmtpServer,
        faults: Faults,
        settings: &str,
        callout: &str,
    ) -> Callout {
        let vars = [("PORT", smtp.addr().port().to_string())];
        let settings = format!("port = @PORT@{settings}");
        let (harness, dns) = start(&config("mailfrom", &settings, callout), faults, &vars).await;
        Callout {
            harness,
            smtp,
            _dns: dns,
        }
    }

    /// Checks one message from `from` (client 192.0.2.25, HELO mail.example).
    async fn check(&self, from: Option<&str>) -> String {
        self.harness
            .check(&session("192.0.2.25", Some("mail.example"), from), MESSAGE)
            .await
    }

    /// The connections and command lines the SMTP server saw; asserts DATA was never sent.
    fn dialogue(&self) -> String {
        let transcript = self.smtp.transcript();
        assert!(
            !transcript
                .iter()
                .any(|l| l.to_ascii_uppercase().starts_with("DATA")),
            "a callout sent DATA: {transcript:?}"
        );
        let mut out = vec![format!("smtp connections: {}", self.smtp.connections())];
        out.extend(
            transcript
                .iter()
                .map(|l| format!("smtp> {}", without_random(l))),
        );
        out.join("\n")
    }

    /// Checks one message from each of `senders` in turn and snapshots their logs and the
    /// dialogue as `name`.
    async fn snapshot_senders(&self, name: &str, senders: &[&str]) {
        let mut text = Vec::new();
        for from in senders {
            text.push(self.check(Some(from)).await);
        }
        let text = text.join("\n=====\n");
        snapshot(name, &format!("{text}\n--\n{}", self.dialogue()));
    }
}

/// A command line with a catch-all probe's random hexadecimal digits replaced by `<random>`.
fn without_random(line: &str) -> String {
    match line.split_once(CATCH_ALL_PREFIX) {
        Some((before, after)) if after.len() >= 16 => {
            format!("{before}{CATCH_ALL_PREFIX}<random>{}", &after[16..])
        }
        _ => line.to_string(),
    }
}

/// Checks one message from `from` against a server behaving as `behaviour`, and snapshots
/// the log and the dialogue.
async fn mailfrom(name: &str, behaviour: Behaviour, faults: Faults, from: Option<&str>) -> Callout {
    let c = Callout::start(
        SmtpServer::start(behaviour).await.expect("SMTP server"),
        faults,
        &generous(),
    )
    .await;
    let text = c.check(from).await;
    snapshot(name, &format!("{text}\n--\n{}", c.dialogue()));
    c
}

#[tokio::test]
async fn mailfrom_missing_or_null_sender_needs_no_callout() {
    for (name, from) in [("mailfrom_none", None), ("mailfrom_null_sender", Some(""))] {
        let c = mailfrom(name, Behaviour::Accept, Faults::default(), from).await;
        assert_eq!(c.smtp.connections(), 0, "{name}");
    }
}

#[tokio::test]
async fn mailfrom_accepted_senders_pass() {
    for (name, behaviour, from) in [
        (
            "mailfrom_accepted",
            Behaviour::Accept,
            "alive@sender.example",
        ),
        (
            "mailfrom_implicit_mx",
            Behaviour::Accept,
            "alive@implicit.sender.example",
        ),
        (
            "mailfrom_internationalised_domain",
            Behaviour::Accept,
            "alive@Bücher.sender.example",
        ),
        (
            "mailfrom_utf8_local_part",
            Behaviour::Smtputf8,
            "jörg@Bücher.sender.example",
        ),
        (
            "mailfrom_helo_after_ehlo_refused",
            Behaviour::RejectEhloThenAcceptHelo,
            "alive@sender.example",
        ),
        (
            "mailfrom_refused_then_backup_mx",
            Behaviour::Accept,
            "alive@backup.sender.example",
        ),
    ] {
        let c = mailfrom(name, behaviour, Faults::default(), Some(from)).await;
        assert_eq!(c.smtp.connections(), 1, "{name}");
    }
}

#[tokio::test]
async fn mailfrom_unknown_user_fails() {
    mailfrom(
        "mailfrom_user_unknown",
        Behaviour::UserUnknown,
        Faults::default(),
        Some("ghost@sender.example"),
    )
    .await;
}

#[tokio::test]
async fn mailfrom_unresolvable_domains_fail() {
    for (name, from) in [
        ("mailfrom_nxdomain", "someone@nowhere.sender.example"),
        ("mailfrom_null_mx", "someone@nullmx.sender.example"),
        (
            "mailfrom_mx_without_address",
            "someone@noaddr.sender.example",
        ),
    ] {
        let c = mailfrom(name, Behaviour::Accept, Faults::default(), Some(from)).await;
        assert_eq!(c.smtp.connections(), 0, "{name}");
    }
}

#[tokio::test]
async fn mailfrom_dns_timeout_is_inconclusive() {
    let c = mailfrom(
        "mailfrom_dns_timeout",
        Behaviour::Accept,
        drop_zone("sender.example"),
        Some("alive@sender.example"),
    )
    .await;
    assert_eq!(c.smtp.connections(), 0);
}

#[tokio::test]
async fn mailfrom_refused_connections() {
    for (name, from) in [
        (
            "mailfrom_connection_refused_ipv4",
            "alive@dead.sender.example",
        ),
        (
            "mailfrom_connection_refused_ipv6",
            "alive@v6.sender.example",
        ),
    ] {
        let c = mailfrom(name, Behaviour::Accept, Faults::default(), Some(from)).await;
        assert_eq!(c.smtp.connections(), 0, "{name}");
    }
}

#[tokio::test]
async fn mailfrom_server_errors() {
    for (name, behaviour) in [
        ("mailfrom_greeting_rejected", Behaviour::RejectGreeting),
        ("mailfrom_null_sender_rejected", Behaviour::RejectNullSender),
        ("mailfrom_temporary_failure", Behaviour::TempFail),
    ] {
        mailfrom(
            name,
            behaviour,
            Faults::default(),
            Some("alive@sender.example"),
        )
        .await;
    }
}

#[tokio::test]
async fn mailfrom_broken_dialogues() {
    // A local part that is not ASCII, and a server that does not offer SMTPUTF8: the
    // dialogue stops after EHLO.
    let c = mailfrom(
        "mailfrom_utf8_local_part_without_smtputf8",
        Behaviour::Accept,
        Faults::default(),
        Some("jörg@sender.example"),
    )
    .await;
    assert!(!c.smtp.transcript().iter().any(|l| l.starts_with("MAIL")));
    for (name, behaviour) in [
        ("mailfrom_closed_mid_dialogue", Behaviour::CloseMidDialogue),
        ("mailfrom_garbage_greeting", Behaviour::Garbage),
        ("mailfrom_overlong_line", Behaviour::OverlongLine),
    ] {
        mailfrom(
            name,
            behaviour,
            Faults::default(),
            Some("alive@sender.example"),
        )
        .await;
    }
}

#[tokio::test]
async fn mailfrom_tarpit_greeting_is_cut_by_the_step_timeout() {
    let smtp = SmtpServer::start(Behaviour::Tarpit)
        .await
        .expect("SMTP server");
    let callout = callout(1, 20);
    let c = Callout::start(smtp, Faults::default(), &callout).await;
    c.snapshot_senders("mailfrom_tarpit_greeting", &["alive@sender.example"])
        .await;
}

#[tokio::test]
async fn mailfrom_tarpit_rcpt_is_cut_by_the_total_timeout() {
    let users = HashMap::from([("slow".to_string(), Behaviour::Tarpit)]);
    let smtp = SmtpServer::start_with_users(Behaviour::Accept, users)
        .await
        .expect("SMTP server");
    let callout = callout(20, 1);
    let c = Callout::start(smtp, Faults::default(), &callout).await;
    c.snapshot_senders("mailfrom_tarpit_rcpt", &["slow@sender.example"])
        .await;
}

#[tokio::test]
async fn mailfrom_garbage_to_rcpt() {
    let users = HashMap::from([("odd".to_string(), Behaviour::Garbage)]);
    let smtp = SmtpServer::start_with_users(Behaviour::Accept, users)
        .await
        .expect("SMTP server");
    let c = Callout::start(smtp, Faults::default(), &generous()).await;
    c.snapshot_senders("mailfrom_garbage_rcpt", &["odd@sender.example"])
        .await;
}

#[tokio::test]
async fn mailfrom_definite_answers_are_cached() {
    let users = HashMap::from([("ghost".to_string(), Behaviour::UserUnknown)]);
    let smtp = SmtpServer::start_with_users(Behaviour::Accept, users)
        .await
        .expect("SMTP server");
    let c = Callout::start(smtp, Faults::default(), &generous()).await;
    c.snapshot_senders(
        "mailfrom_cached",
        &[
            "alive@sender.example",
            "alive@sender.example",
            "ghost@sender.example",
            "ghost@sender.example",
        ],
    )
    .await;
    assert_eq!(
        c.smtp.connections(),
        2,
        "the repeated senders were answered from the cache"
    );
}

#[tokio::test]
async fn mailfrom_loopback_mail_server_is_not_called_by_default() {
    let smtp = SmtpServer::start(Behaviour::Accept)
        .await
        .expect("SMTP server");
    let defaults = "step-timeout-s = 10\ntotal-timeout-s = 20";
    let c = Callout::start(smtp, Faults::default(), defaults).await;
    c.snapshot_senders("mailfrom_loopback_refused", &["alive@sender.example"])
        .await;
    assert_eq!(c.smtp.connections(), 0);
}

#[tokio::test]
async fn mailfrom_server_over_its_rate_is_not_called() {
    let smtp = SmtpServer::start(Behaviour::Accept)
        .await
        .expect("SMTP server");
    let limited = format!("{}\nmax-per-server-per-minute = 1", generous());
    let c = Callout::start(smtp, Faults::default(), &limited).await;
    c.snapshot_senders(
        "mailfrom_rate_limited",
        &["alive@sender.example", "other@sender.example"],
    )
    .await;
    assert_eq!(c.smtp.connections(), 1);
}

#[tokio::test]
async fn mailfrom_server_refusing_callouts_is_remembered() {
    let smtp = SmtpServer::start(Behaviour::RejectNullSender)
        .await
        .expect("SMTP server");
    let c = Callout::start(smtp, Faults::default(), &generous()).await;
    c.snapshot_senders(
        "mailfrom_server_refusal_cached",
        &["alive@sender.example", "other@sender.example"],
    )
    .await;
    assert_eq!(
        c.smtp.connections(),
        1,
        "the second sender was answered from the server cache"
    );
}

#[tokio::test]
async fn mailfrom_catch_all_detection() {
    let everyone = SmtpServer::start(Behaviour::Accept)
        .await
        .expect("SMTP server");
    let settings = ", detect-catch-all = true";
    let c = Callout::start_with(everyone, Faults::default(), settings, &generous()).await;
    c.snapshot_senders(
        "mailfrom_catch_all",
        &["alive@sender.example", "other@sender.example"],
    )
    .await;
    assert_eq!(c.smtp.connections(), 1, "the domain's answer is cached");

    let users = HashMap::from([("alive".to_string(), Behaviour::Accept)]);
    let strict = SmtpServer::start_with_users(Behaviour::UserUnknown, users)
        .await
        .expect("SMTP server");
    let c = Callout::start_with(strict, Faults::default(), settings, &generous()).await;
    c.snapshot_senders("mailfrom_not_catch_all", &["alive@sender.example"])
        .await;
}

#[tokio::test]
async fn mailfrom_result_explains_why_it_was_inconclusive() {
    let smtp = SmtpServer::start(Behaviour::Accept)
        .await
        .expect("SMTP server");
    let settings = ", detect-catch-all = true";
    let c = Callout::start_with(smtp, Faults::default(), settings, &generous()).await;
    let session = session(
        "192.0.2.25",
        Some("mail.example"),
        Some("alive@sender.example"),
    );
    let outcome = c
        .harness
        .engine
        .check(&session, Body::Raw(MESSAGE.to_vec()))
        .await;
    let [result] = outcome.results.as_slice() else {
        panic!("one check, one result: {:?}", outcome.results);
    };
    assert_eq!(
        (
            result.check.as_str(),
            result.verdict,
            result.reason.as_str()
        ),
        (
            "mailfrom",
            VerdictKind::Inconclusive,
            "mx.sender.example[127.0.0.1] accepts any address (a random one: 250 2.1.5 recipient ok)"
        )
    );
}
