//! A scripted SMTP server on 127.0.0.1 for callout tests: it answers with one of a few
//! behaviours (optionally chosen per recipient local part) and records every command line.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Longest command line the server reads; longer lines end the connection.
const MAX_COMMAND: u64 = 4096;

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Accepts everything: 220, 250 to EHLO/HELO, MAIL and RCPT, 221 to QUIT. Like every
    /// behaviour but [`Behaviour::Smtputf8`] it does not offer SMTPUTF8 (RFC 6531): it answers
    /// `MAIL FROM:<...> SMTPUTF8` with 555 and a recipient that is not ASCII with 553.
    Accept,
    /// As [`Behaviour::Accept`], and offers SMTPUTF8 in its EHLO reply: after
    /// `MAIL FROM:<...> SMTPUTF8` it accepts recipients that are not ASCII.
    Smtputf8,
    /// `550 5.1.1 user unknown` to RCPT.
    UserUnknown,
    /// `450 4.2.0 try again later` to RCPT (as a greylisting server).
    TempFail,
    /// `554 5.7.1 no service` as the greeting.
    RejectGreeting,
    /// `550 5.7.1 null sender rejected` to `MAIL FROM:<>`.
    RejectNullSender,
    /// `502 5.5.1` to EHLO, `250` to HELO.
    RejectEhloThenAcceptHelo,
    /// Closes the connection after reading `MAIL FROM` (or, chosen per recipient, `RCPT TO`).
    CloseMidDialogue,
    /// Sends bytes that are not SMTP (a TLS record header) instead of a greeting or reply.
    Garbage,
    /// Answers EHLO with a 5000-byte line (or, per recipient, RCPT).
    OverlongLine,
    /// Accepts the connection and never answers (or, per recipient, never answers RCPT).
    Tarpit,
}

/// A running server; it stops (listener and open connections) when dropped.
pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_loop: AbortHandle,
}

struct Shared {
    default: Behaviour,
    per_user: HashMap<String, Behaviour>,
    transcript: Mutex<Vec<String>>,
    connections: AtomicUsize,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl SmtpServer {
    /// Starts a server that behaves as `behaviour` for every connection.
    pub async fn start(behaviour: Behaviour) -> io::Result<SmtpServer> {
        SmtpServer::start_with_users(behaviour, HashMap::new()).await
    }

    /// Starts a server that behaves as `default`, except that from `RCPT TO` on it behaves as
    /// `per_user[local_part]` (compared case-insensitively) when the recipient's local part is
    /// listed. Stages before RCPT always follow `default`.
    pub async fn start_with_users(
        default: Behaviour,
        per_user: HashMap<String, Behaviour>,
    ) -> io::Result<SmtpServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let per_user = per_user
            .into_iter()
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect();
        let shared = Arc::new(Shared {
            default,
            per_user,
            transcript: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let state = shared.clone();
        let accept_loop = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                state.connections.fetch_add(1, Ordering::Relaxed);
                let task = tokio::spawn(serve(stream, state.clone()));
                lock(&state.tasks).push(task.abort_handle());
            }
        })
        .abort_handle();
        Ok(SmtpServer {
            addr,
            shared,
            accept_loop,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every command line received so far, over all connections, without CRLF.
    pub fn transcript(&self) -> Vec<String> {
        lock(&self.shared.transcript).clone()
    }

    /// How many connections the server has accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
        for task in lock(&self.shared.tasks).drain(..) {
            task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What to do at one point of the dialogue.
enum Act {
    Say(String),
    Close,
    Stall,
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let mut stream = BufReader::new(stream);
    let mut behaviour = shared.default;
    let mut smtputf8 = false;
    let greeting = match behaviour {
        Behaviour::RejectGreeting => Act::Say("554 5.7.1 no service".into()),
        Behaviour::Garbage => Act::Say("\u{16}\u{3}\u{1}\u{0}\u{a5}\u{0}garbage".into()),
        Behaviour::Tarpit => Act::Stall,
        _ => Act::Say("220-mx.test ESMTP scripted\r\n220 ready".into()),
    };
    if !perform(&mut stream, greeting).await {
        return;
    }
    loop {
        let mut line = Vec::new();
        let read = (&mut stream)
            .take(MAX_COMMAND)
            .read_until(b'\n', &mut line)
            .await;
        if !matches!(read, Ok(n) if n > 0) {
            return;
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        lock(&shared.transcript).push(command.clone());
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if verb == "RCPT" {
            behaviour = recipient_behaviour(&shared, &command);
        }
        let asks_smtputf8 = command
            .rsplit(' ')
            .next()
            .is_some_and(|p| p.eq_ignore_ascii_case("SMTPUTF8"));
        let act = match verb.as_str() {
            "MAIL" if asks_smtputf8 && shared.default != Behaviour::Smtputf8 => {
                Act::Say("555 5.5.4 SMTPUTF8 not supported".into())
            }
            "RCPT" if !command.is_ascii() && !smtputf8 => {
                Act::Say("553 5.6.7 address needs SMTPUTF8".into())
            }
            _ => answer(behaviour, &verb, &command),
        };
        if verb == "MAIL" {
            smtputf8 = asks_smtputf8;
        }
        if !perform(&mut stream, act).await {
            return;
        }
    }
}

/// The behaviour for a `RCPT TO:<local@domain>` command.
fn recipient_behaviour(shared: &Shared, command: &str) -> Behaviour {
    let address = command
        .split_once('<')
        .map_or("", |(_, rest)| rest.trim_end_matches('>'));
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local);
    shared
        .per_user
        .get(&local.to_lowercase())
        .copied()
        .unwrap_or(shared.default)
}

/// The server's answer to one command.
fn answer(behaviour: Behaviour, verb: &str, command: &str) -> Act {
    use Behaviour::*;
    let say = |s: &str| Act::Say(s.to_string());
    match (verb, behaviour) {
        ("QUIT", _) => say("221 2.0.0 bye"),
        ("DATA", _) => say("554 5.5.1 a callout must never send DATA"),
        ("EHLO", RejectEhloThenAcceptHelo) => say("502 5.5.1 EHLO not implemented"),
        ("EHLO", OverlongLine) => Act::Say(format!("250-mx.test\r\n250 {}", "x".repeat(5000))),
        ("EHLO", Smtputf8) => say("250-mx.test\r\n250-8BITMIME\r\n250 SMTPUTF8"),
        ("EHLO", _) => say("250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME"),
        ("HELO", _) => say("250 mx.test"),
        ("MAIL", RejectNullSender) if command.ends_with(":<>") => {
            say("550 5.7.1 null sender rejected")
        }
        ("MAIL", CloseMidDialogue) => Act::Close,
        ("MAIL", _) => say("250 2.1.0 sender ok"),
        ("RCPT", UserUnknown) => say("550 5.1.1 user unknown"),
        ("RCPT", TempFail) => say("450 4.2.0 try again later"),
        ("RCPT", CloseMidDialogue) => Act::Close,
        ("RCPT", Garbage) => say("\u{0}\u{1}HTTP/1.1 400 Bad Request"),
        ("RCPT", OverlongLine) => Act::Say(format!("250 {}", "y".repeat(5000))),
        ("RCPT", Tarpit) => Act::Stall,
        ("RCPT", _) => say("250 2.1.5 recipient ok"),
        ("RSET" | "NOOP", _) => say("250 2.0.0 ok"),
        _ => say("500 5.5.2 command not recognised"),
    }
}

/// Performs `act`; false when the connection is over.
async fn perform(stream: &mut BufReader<TcpStream>, act: Act) -> bool {
    match act {
        Act::Say(text) => stream
            .write_all(format!("{text}\r\n").as_bytes())
            .await
            .is_ok(),
        Act::Close => false,
        Act::Stall => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use antispam_host::smtp::{CalloutConfig, CalloutResult, Callouts, Reply, Request};

    use super::*;

    const SENDER: &str = "someone@example.test";

    async fn probe(server: &SmtpServer, recipient: &str) -> CalloutResult {
        let cfg = CalloutConfig {
            step_timeout: Duration::from_millis(300),
            allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
            max_per_server_per_minute: 0,
            ..CalloutConfig::default()
        };
        Callouts::new(cfg)
            .probe(Request {
                addr: server.addr(),
                helo_name: "antispam.test",
                recipient,
                catch_all_probe: false,
            })
            .await
    }

    fn reply(code: u16, text: &str) -> CalloutResult {
        CalloutResult::Rcpt(Reply {
            code,
            text: text.into(),
        })
    }

    #[tokio::test]
    async fn every_behaviour_gives_its_callout_result() {
        use Behaviour::*;
        let rejected = |code, text: &str| Reply {
            code,
            text: text.into(),
        };
        let cases = [
            (Accept, reply(250, "2.1.5 recipient ok")),
            (UserUnknown, reply(550, "5.1.1 user unknown")),
            (TempFail, reply(450, "4.2.0 try again later")),
            (
                RejectGreeting,
                CalloutResult::GreetingRejected(rejected(554, "5.7.1 no service")),
            ),
            (
                RejectNullSender,
                CalloutResult::MailRejected(rejected(550, "5.7.1 null sender rejected")),
            ),
            (RejectEhloThenAcceptHelo, reply(250, "2.1.5 recipient ok")),
        ];
        for (behaviour, expected) in cases {
            let server = SmtpServer::start(behaviour).await.unwrap();
            assert_eq!(probe(&server, SENDER).await, expected, "{behaviour:?}");
            assert_eq!(server.connections(), 1);
        }
    }

    #[tokio::test]
    async fn broken_behaviours_fail_the_dialogue() {
        use Behaviour::*;
        let cases = [
            (CloseMidDialogue, "connection closed by server"),
            (Garbage, "garbage reply"),
            (OverlongLine, "garbage reply: line longer than"),
            (
                Tarpit,
                "timed out after 300ms waiting for the greeting reply",
            ),
        ];
        for (behaviour, expected) in cases {
            let server = SmtpServer::start(behaviour).await.unwrap();
            let result = probe(&server, SENDER).await;
            assert!(
                matches!(&result, CalloutResult::DialogueFailed(why) if why.starts_with(expected)),
                "{behaviour:?}: {result:?}"
            );
        }
    }

    #[tokio::test]
    async fn transcript_is_the_callout_dialogue_without_data() {
        let server = SmtpServer::start(Behaviour::RejectEhloThenAcceptHelo)
            .await
            .unwrap();
        probe(&server, SENDER).await;
        assert_eq!(
            server.transcript(),
            [
                "EHLO antispam.test",
                "HELO antispam.test",
                "MAIL FROM:<>",
                "RCPT TO:<someone@example.test>",
                "QUIT"
            ]
        );
    }

    #[tokio::test]
    async fn recipients_can_have_their_own_behaviour() {
        let users = HashMap::from([
            ("Ghost".to_string(), Behaviour::UserUnknown),
            ("slow".to_string(), Behaviour::Tarpit),
        ]);
        let server = SmtpServer::start_with_users(Behaviour::Accept, users)
            .await
            .unwrap();
        assert_eq!(
            probe(&server, "ghost@example.test").await,
            reply(550, "5.1.1 user unknown")
        );
        assert_eq!(
            probe(&server, "alive@example.test").await,
            reply(250, "2.1.5 recipient ok")
        );
        let slow = probe(&server, "slow@example.test").await;
        assert!(
            matches!(slow, CalloutResult::DialogueFailed(ref why) if why.contains("RCPT TO")),
            "{slow:?}"
        );
        assert_eq!(server.connections(), 3);
    }
}
