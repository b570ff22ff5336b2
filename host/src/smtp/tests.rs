//! Callouts against real scripted listeners on 127.0.0.1.

use std::sync::atomic::AtomicUsize;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// What the scripted server does at one step of the dialogue.
#[derive(Clone, Copy)]
enum Step {
    /// Writes these bytes.
    Send(&'static [u8]),
    /// Closes the connection.
    Close,
    /// Never answers.
    Silent,
    /// Writes one byte every 20 ms, forever (a line that never ends).
    Trickle,
}

/// A listener that answers every connection with `greeting`, then answers the n-th command
/// with `replies[n]`, and anything after that (QUIT) with 221.
struct Script {
    addr: SocketAddr,
    commands: Arc<Mutex<Vec<String>>>,
    accepted: Arc<AtomicUsize>,
}

impl Script {
    async fn start(greeting: Step, replies: &[Step]) -> Script {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (log, count, replies) = (commands.clone(), accepted.clone(), replies.to_vec());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(stream, greeting, replies.clone(), log.clone()));
            }
        });
        Script {
            addr,
            commands,
            accepted,
        }
    }

    fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

async fn serve(
    stream: TcpStream,
    greeting: Step,
    replies: Vec<Step>,
    log: Arc<Mutex<Vec<String>>>,
) {
    let mut stream = BufReader::new(stream);
    if !act(&mut stream, greeting).await {
        return;
    }
    let mut steps = replies
        .into_iter()
        .chain(std::iter::once(Step::Send(b"221 bye\r\n")));
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        log.lock().unwrap().push(line.trim_end().to_string());
        if !act(&mut stream, steps.next().unwrap_or(Step::Close)).await {
            return;
        }
    }
}

/// Performs one step; false when the connection is finished.
async fn act(stream: &mut BufReader<TcpStream>, step: Step) -> bool {
    match step {
        Step::Send(bytes) => stream.write_all(bytes).await.is_ok(),
        Step::Close => false,
        Step::Silent => std::future::pending().await,
        Step::Trickle => loop {
            if stream.write_all(b"2").await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        },
    }
}

const GREETING: Step = Step::Send(b"220-mx.test ESMTP\r\n220 scripted\r\n");
const EHLO_OK: Step = Step::Send(b"250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
const OK: Step = Step::Send(b"250 2.1.0 ok\r\n");

fn config() -> CalloutConfig {
    CalloutConfig {
        step_timeout: Duration::from_secs(10),
        allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
        max_per_server_per_minute: 0,
        ..CalloutConfig::default()
    }
}

fn request<'a>(
    addr: SocketAddr,
    helo_name: &'a str,
    recipient: &'a str,
    catch_all_probe: bool,
) -> Request<'a> {
    Request {
        addr,
        helo_name,
        recipient,
        catch_all_probe,
    }
}

fn reply(code: u16, text: &str) -> Reply {
    Reply {
        code,
        text: text.to_string(),
    }
}

async fn probe(callouts: &Callouts, script: &Script, recipient: &str) -> CalloutResult {
    callouts
        .probe(request(script.addr, "antispam.test", recipient, false))
        .await
}

#[tokio::test]
async fn accepted_recipient_runs_the_exact_dialogue() {
    let script = Script::start(
        GREETING,
        &[EHLO_OK, OK, Step::Send(b"250 2.1.5 recipient ok\r\n")],
    )
    .await;
    let callouts = Callouts::new(config());
    let result = probe(&callouts, &script, "user@example.test").await;
    assert_eq!(
        result,
        CalloutResult::Rcpt(reply(250, "2.1.5 recipient ok"))
    );
    assert_eq!(
        script.commands(),
        [
            "EHLO antispam.test",
            "MAIL FROM:<>",
            "RCPT TO:<user@example.test>",
            "QUIT"
        ]
    );
    assert_eq!(callouts.connections(), 1);
}

#[tokio::test]
async fn refused_ehlo_falls_back_to_helo() {
    let helo_ok = Step::Send(b"250 mx.test\r\n");
    let script = Script::start(
        GREETING,
        &[Step::Send(b"502 5.5.1 no\r\n"), helo_ok, OK, OK],
    )
    .await;
    let result = probe(&Callouts::new(config()), &script, "user@example.test").await;
    assert_eq!(result, CalloutResult::Rcpt(reply(250, "2.1.0 ok")));
    assert_eq!(
        script.commands(),
        [
            "EHLO antispam.test",
            "HELO antispam.test",
            "MAIL FROM:<>",
            "RCPT TO:<user@example.test>",
            "QUIT"
        ]
    );
}

#[tokio::test]
async fn a_non_ascii_local_part_is_asked_for_only_with_smtputf8() {
    let ehlo_utf8 = Step::Send(b"250-mx.test\r\n250-8BITMIME\r\n250 smtputf8\r\n");
    let script = Script::start(GREETING, &[ehlo_utf8, OK, OK]).await;
    let callouts = Callouts::new(config());
    let result = probe(&callouts, &script, "jos\u{e9}@example.test").await;
    assert_eq!(result, CalloutResult::Rcpt(reply(250, "2.1.0 ok")));
    assert_eq!(
        script.commands(),
        [
            "EHLO antispam.test",
            "MAIL FROM:<> SMTPUTF8",
            "RCPT TO:<jos\u{e9}@example.test>",
            "QUIT"
        ]
    );

    // An ASCII recipient never asks for the extension, even where it is offered.
    let script = Script::start(GREETING, &[ehlo_utf8, OK, OK]).await;
    probe(&callouts, &script, "user@example.test").await;
    assert_eq!(script.commands()[1], "MAIL FROM:<>");

    // Without the extension (not in the EHLO reply, or only HELO accepted) the server cannot
    // take mail for the address: nothing is asked, nothing is cached.
    let helo_only = [
        Step::Send(b"502 5.5.1 no\r\n"),
        Step::Send(b"250 mx.test\r\n"),
    ];
    for (replies, commands) in [
        (&[EHLO_OK][..], &["EHLO antispam.test", "QUIT"][..]),
        (
            &helo_only[..],
            &["EHLO antispam.test", "HELO antispam.test", "QUIT"][..],
        ),
    ] {
        let script = Script::start(GREETING, replies).await;
        let callouts = Callouts::new(config());
        let result = probe(&callouts, &script, "jos\u{e9}@example.test").await;
        assert!(
            matches!(&result, CalloutResult::DialogueFailed(why) if why.contains("does not offer SMTPUTF8")),
            "{result:?}"
        );
        assert_eq!(script.commands(), commands);
        assert_eq!(
            probe(&callouts, &script, "jos\u{e9}@example.test").await,
            result
        );
        assert_eq!(callouts.connections(), 2, "not cached");
    }
}

#[tokio::test]
async fn refusals_before_rcpt_end_the_dialogue_with_quit() {
    let no = Step::Send(b"554 5.7.1 go away\r\n");
    let cases = [
        (
            no,
            vec![],
            CalloutResult::GreetingRejected(reply(554, "5.7.1 go away")),
            vec!["QUIT"],
        ),
        (
            GREETING,
            vec![no, no],
            CalloutResult::HeloRejected(reply(554, "5.7.1 go away")),
            vec!["EHLO antispam.test", "HELO antispam.test", "QUIT"],
        ),
        (
            GREETING,
            vec![Step::Send(b"421 busy\r\n")],
            CalloutResult::HeloRejected(reply(421, "busy")),
            vec!["EHLO antispam.test", "QUIT"],
        ),
        (
            GREETING,
            vec![EHLO_OK, no],
            CalloutResult::MailRejected(reply(554, "5.7.1 go away")),
            vec!["EHLO antispam.test", "MAIL FROM:<>", "QUIT"],
        ),
    ];
    for (greeting, replies, expected, commands) in cases {
        let script = Script::start(greeting, &replies).await;
        assert_eq!(
            probe(&Callouts::new(config()), &script, "user@example.test").await,
            expected
        );
        assert_eq!(script.commands(), commands);
    }
}

#[tokio::test]
async fn broken_servers_fail_the_dialogue() {
    let overlong: &'static [u8] = Box::leak(
        format!("250 {}\r\n", "x".repeat(5000))
            .into_bytes()
            .into_boxed_slice(),
    );
    let cases = [
        (
            GREETING,
            vec![EHLO_OK, Step::Close],
            "connection closed by server",
        ),
        (
            Step::Send(b"\x16\x03\x01\x00\xa5\xff\r\n"),
            vec![],
            "garbage reply",
        ),
        (
            GREETING,
            vec![Step::Send(overlong)],
            "garbage reply: line longer than 1000 bytes",
        ),
    ];
    for (greeting, replies, expected) in cases {
        let script = Script::start(greeting, &replies).await;
        let result = probe(&Callouts::new(config()), &script, "user@example.test").await;
        assert!(
            matches!(&result, CalloutResult::DialogueFailed(why) if why.starts_with(expected)),
            "{expected}: {result:?}"
        );
        assert!(!script.commands().iter().any(|c| c == "DATA" || c == "QUIT"));
    }
}

#[tokio::test]
async fn silent_server_hits_the_step_timeout() {
    let script = Script::start(GREETING, &[EHLO_OK, Step::Silent]).await;
    let cfg = CalloutConfig {
        step_timeout: Duration::from_millis(200),
        ..config()
    };
    let result = probe(&Callouts::new(cfg), &script, "user@example.test").await;
    assert_eq!(
        result,
        CalloutResult::DialogueFailed(
            "timed out after 200ms waiting for the MAIL FROM reply".into()
        )
    );
}

#[tokio::test]
async fn trickling_tarpit_is_cut_by_the_total_cap() {
    let script = Script::start(Step::Trickle, &[]).await;
    let cfg = CalloutConfig {
        total_timeout: Duration::from_millis(300),
        max_line_len: 1_000_000,
        ..config()
    };
    let result = probe(&Callouts::new(cfg), &script, "user@example.test").await;
    assert_eq!(
        result,
        CalloutResult::DialogueFailed(
            "callout exceeded its total limit of 300ms waiting for the greeting reply".into()
        )
    );
}

#[tokio::test]
async fn refused_connection_is_connect_failed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let callouts = Callouts::new(config());
    let result = callouts
        .probe(request(addr, "antispam.test", "user@example.test", false))
        .await;
    assert!(
        matches!(result, CalloutResult::ConnectFailed(ref why) if why.contains("failed")),
        "{result:?}"
    );
    assert_eq!(callouts.connections(), 0);
}

#[tokio::test]
async fn definite_answers_are_cached_by_lower_cased_recipient() {
    for rcpt in [&b"250 ok\r\n"[..], b"550 5.1.1 user unknown\r\n"] {
        let script = Script::start(GREETING, &[EHLO_OK, OK, Step::Send(rcpt)]).await;
        let callouts = Callouts::new(config());
        let first = probe(&callouts, &script, "User@Example.test").await;
        let second = probe(&callouts, &script, "user@example.TEST").await;
        assert!(matches!(first, CalloutResult::Rcpt(_)));
        assert_eq!(first, second);
        assert_eq!((script.accepted(), callouts.connections()), (1, 1));
    }
}

#[tokio::test]
async fn temporary_and_expired_answers_are_not_reused() {
    let tempfail =
        Script::start(GREETING, &[EHLO_OK, OK, Step::Send(b"450 4.7.1 later\r\n")]).await;
    let callouts = Callouts::new(config());
    for _ in 0..2 {
        assert_eq!(
            probe(&callouts, &tempfail, "a@example.test").await,
            CalloutResult::Rcpt(reply(450, "4.7.1 later"))
        );
    }
    assert_eq!(tempfail.accepted(), 2);

    let accept = Script::start(GREETING, &[EHLO_OK, OK, OK]).await;
    let expiring = Callouts::new(CalloutConfig {
        positive_ttl: Duration::ZERO,
        ..config()
    });
    probe(&expiring, &accept, "b@example.test").await;
    probe(&expiring, &accept, "b@example.test").await;
    assert_eq!(expiring.connections(), 2);
}

#[tokio::test]
async fn full_cache_stops_caching() {
    let script = Script::start(GREETING, &[EHLO_OK, OK, OK]).await;
    let callouts = Callouts::new(CalloutConfig {
        cache_capacity: 1,
        ..config()
    });
    for rcpt in [
        "a@example.test",
        "b@example.test",
        "b@example.test",
        "a@example.test",
    ] {
        probe(&callouts, &script, rcpt).await;
    }
    assert_eq!(callouts.connections(), 3);
}

#[tokio::test]
async fn injection_is_refused_before_connecting() {
    let script = Script::start(GREETING, &[EHLO_OK, OK, OK]).await;
    let callouts = Callouts::new(config());
    for (helo, rcpt) in [
        ("antispam.test", "a@example.test>\r\nDATA"),
        ("antispam.test", ""),
        ("antispam.test\r\nDATA", "a@example.test"),
        ("two words", "a@example.test"),
        ("m\u{e4}il.example", "a@example.test"),
    ] {
        let result = callouts
            .probe(request(script.addr, helo, rcpt, false))
            .await;
        assert!(
            matches!(result, CalloutResult::Refused(ref why) if why.starts_with("refused to send"))
        );
    }
    assert_eq!((callouts.connections(), script.accepted()), (0, 0));
}

#[tokio::test]
async fn special_purpose_addresses_are_not_called_unless_allowed() {
    let script = Script::start(GREETING, &[EHLO_OK, OK, OK]).await;
    let closed = Callouts::new(CalloutConfig {
        allow_networks: vec![],
        ..config()
    });
    let result = probe(&closed, &script, "a@example.test").await;
    assert!(
        matches!(result, CalloutResult::Refused(ref why) if why.contains("loopback")),
        "{result:?}"
    );
    assert_eq!((closed.connections(), script.accepted()), (0, 0));
    let open = Callouts::new(config());
    let result = probe(&open, &script, "a@example.test").await;
    assert_eq!(result, CalloutResult::Rcpt(reply(250, "2.1.0 ok")));
}

#[tokio::test]
async fn a_server_over_its_rate_is_not_called() {
    let script = Script::start(GREETING, &[EHLO_OK, OK, OK]).await;
    let callouts = Callouts::new(CalloutConfig {
        max_per_server_per_minute: 2,
        ..config()
    });
    for rcpt in ["a@example.test", "b@example.test", "a@example.test"] {
        let result = probe(&callouts, &script, rcpt).await;
        assert_eq!(
            result,
            CalloutResult::Rcpt(reply(250, "2.1.0 ok")),
            "{rcpt}"
        );
    }
    let result = probe(&callouts, &script, "c@example.test").await;
    assert!(
        matches!(result, CalloutResult::Refused(ref why) if why.contains("limit of 2 callouts")),
        "{result:?}"
    );
    assert_eq!(
        script.accepted(),
        2,
        "the cached answer and the refusal cost no connection"
    );
}

#[tokio::test]
async fn a_server_that_refuses_us_is_remembered_for_every_sender() {
    let no = Step::Send(b"550 5.7.1 no callouts\r\n");
    let refusing = Script::start(GREETING, &[EHLO_OK, no]).await;
    let callouts = Callouts::new(config());
    let first = probe(&callouts, &refusing, "a@example.test").await;
    assert_eq!(
        first,
        CalloutResult::MailRejected(reply(550, "5.7.1 no callouts"))
    );
    assert_eq!(probe(&callouts, &refusing, "b@example.test").await, first);
    assert_eq!(refusing.accepted(), 1);

    let busy = Step::Send(b"421 4.3.2 busy\r\n");
    let temporary = Script::start(busy, &[]).await;
    for rcpt in ["a@example.test", "b@example.test"] {
        probe(&callouts, &temporary, rcpt).await;
    }
    assert_eq!(
        temporary.accepted(),
        2,
        "a temporary refusal is not remembered"
    );
}

#[tokio::test]
async fn catch_all_probe_asks_for_a_random_address_at_the_domain() {
    let script = Script::start(
        GREETING,
        &[EHLO_OK, OK, OK, Step::Send(b"250 2.1.5 anyone\r\n")],
    )
    .await;
    let callouts = Callouts::new(config());
    let result = callouts
        .probe(request(
            script.addr,
            "antispam.test",
            "a@Example.test",
            true,
        ))
        .await;
    assert_eq!(
        result,
        CalloutResult::AcceptsAny(reply(250, "2.1.5 anyone"))
    );
    let commands = script.commands();
    assert_eq!(
        commands[..3],
        [
            "EHLO antispam.test",
            "MAIL FROM:<>",
            "RCPT TO:<a@Example.test>"
        ]
    );
    let random = commands[3]
        .strip_prefix(&format!("RCPT TO:<{CATCH_ALL_PREFIX}"))
        .and_then(|rest| rest.strip_suffix("@Example.test>"))
        .unwrap_or_else(|| panic!("a random local part: {}", commands[3]));
    assert!(
        random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit()),
        "{random}"
    );
    assert_eq!(commands[4..], ["QUIT"]);

    let other = callouts
        .probe(request(
            script.addr,
            "antispam.test",
            "b@example.TEST",
            true,
        ))
        .await;
    assert_eq!(other, result, "the domain's answer is cached");
    assert_eq!(script.accepted(), 1);
    let plain = callouts
        .probe(request(
            script.addr,
            "antispam.test",
            "b@example.test",
            false,
        ))
        .await;
    assert_eq!(plain, CalloutResult::Rcpt(reply(250, "2.1.0 ok")));
    assert_eq!(
        script.accepted(),
        2,
        "a callout without the probe is its own"
    );
}

#[tokio::test]
async fn a_refused_random_address_leaves_the_recipient_accepted() {
    let no_such_user = Step::Send(b"550 5.1.1 no such user\r\n");
    let closed = Step::Close;
    let nonsense = Step::Send(b"221 closing\r\n");
    for last in [no_such_user, closed, nonsense] {
        let replies = [EHLO_OK, OK, OK, last];
        let script = Script::start(GREETING, &replies).await;
        let result = Callouts::new(config())
            .probe(request(
                script.addr,
                "antispam.test",
                "a@example.test",
                true,
            ))
            .await;
        assert_eq!(result, CalloutResult::Rcpt(reply(250, "2.1.0 ok")));
    }
    let refused = Script::start(GREETING, &[EHLO_OK, OK, no_such_user]).await;
    Callouts::new(config())
        .probe(request(
            refused.addr,
            "antispam.test",
            "a@example.test",
            true,
        ))
        .await;
    assert_eq!(
        refused.commands().len(),
        4,
        "no probe after a refused recipient: {:?}",
        refused.commands()
    );
}
