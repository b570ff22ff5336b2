//! SMTP sender callouts (RFC 5321): the client that runs `EHLO` (or `HELO`), `MAIL FROM:<>`,
//! `RCPT TO:<sender>`, `QUIT` against the sender's mail server, never `DATA`, with a step
//! timeout, a total cap, bounded replies, a cache of definite answers (per recipient, and per
//! server for a server that refuses us), and a policy on which servers may be called at all
//! and how often.

mod reply;
mod targets;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

pub use reply::Reply;
use reply::{Limits, read_reply};
use targets::Targets;

/// How long to wait for the 221 answer to `QUIT` (at most; also bounded by the step timeout).
const QUIT_WAIT: Duration = Duration::from_secs(5);

/// The local part of a catch-all probe: this prefix and 16 random hexadecimal digits.
pub const CATCH_ALL_PREFIX: &str = "antispam-probe-";

/// Bounds and cache lifetimes for callouts.
#[derive(Debug, Clone)]
pub struct CalloutConfig {
    /// Wait for each reply (greeting, EHLO, HELO, MAIL, RCPT). Default 30 s (Exim's default).
    pub step_timeout: Duration,
    /// Cap on one whole callout, connect included, so a tarpit cannot hold the session.
    /// Default 120 s (4 x the step timeout, as Exim).
    pub total_timeout: Duration,
    /// Wait for the TCP connection. Default 30 s.
    pub connect_timeout: Duration,
    /// Longest reply line accepted, without CRLF. Default 1000 (RFC 5321 section 4.5.3.1.5 gives 512).
    pub max_line_len: usize,
    /// Most lines accepted in one reply. Default 100.
    pub max_lines: usize,
    /// How long a 2yz answer to `RCPT TO` is remembered. Default 24 h (Exim).
    pub positive_ttl: Duration,
    /// How long a 5yz answer to `RCPT TO` is remembered. Default 2 h (Exim).
    pub negative_ttl: Duration,
    /// How long a server's permanent refusal of us (5yz to the greeting, to EHLO and HELO, or
    /// to `MAIL FROM:<>`) is remembered for every sender it serves. Default 3 h (Exim's
    /// negative domain cache).
    pub server_ttl: Duration,
    /// Most cached recipients and servers; when full, expired entries are dropped and, if
    /// that is not enough, new results are not cached. Default 100 000.
    pub cache_capacity: usize,
    /// Special-purpose networks (loopback, private-use, link-local, documentation, ...) that
    /// callouts may reach all the same; every other special-purpose address is refused.
    /// Default none.
    pub allow_networks: Vec<IpNet>,
    /// Most callouts one server address gets in any minute (cached answers do not count);
    /// 0 for no limit. Default 30.
    pub max_per_server_per_minute: u32,
}

impl Default for CalloutConfig {
    fn default() -> Self {
        CalloutConfig {
            step_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(30),
            max_line_len: 1000,
            max_lines: 100,
            positive_ttl: Duration::from_secs(24 * 3600),
            negative_ttl: Duration::from_secs(2 * 3600),
            server_ttl: Duration::from_secs(3 * 3600),
            cache_capacity: 100_000,
            allow_networks: Vec::new(),
            max_per_server_per_minute: 30,
        }
    }
}

/// One callout to make (the WIT `callout` record, with its address as a socket address).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The server.
    pub addr: SocketAddr,
    /// The name we give in EHLO/HELO.
    pub helo_name: &'a str,
    /// The address tested with `RCPT TO`.
    pub recipient: &'a str,
    /// After an accepted `RCPT TO`, ask for a random local part at the recipient's domain.
    pub catch_all_probe: bool,
}

/// How far a callout went (mirrors the WIT `callout-result`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalloutResult {
    /// The connection was refused or timed out.
    ConnectFailed(String),
    /// The greeting was not 2yz.
    GreetingRejected(Reply),
    /// EHLO was refused with 4yz, or with 5yz and HELO was refused too (the last reply).
    HeloRejected(Reply),
    /// `MAIL FROM:<>` was refused.
    MailRejected(Reply),
    /// The reply to `RCPT TO`.
    Rcpt(Reply),
    /// `RCPT TO` was accepted, and so was a random local part at the recipient's domain
    /// (the reply to that).
    AcceptsAny(Reply),
    /// The connection dropped, a step or the whole callout timed out, the server sent
    /// garbage, or the recipient needs SMTPUTF8 and the server does not offer it.
    DialogueFailed(String),
    /// No connection was made: the request could not be sent safely, the address is in a
    /// special-purpose network not allowed, or the server has had its callouts this minute.
    Refused(String),
}

/// The callout client, cheap to clone and share between messages.
#[derive(Clone)]
pub struct Callouts {
    inner: Arc<Inner>,
}

struct Inner {
    config: CalloutConfig,
    targets: Targets,
    cache: Mutex<HashMap<Key, Cached>>,
    connections: AtomicU64,
}

/// What a cached answer is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// The answer to `RCPT TO` for this (lower-cased) recipient, with or without a
    /// catch-all probe.
    Recipient(String, bool),
    /// A (lower-cased) domain whose server accepted a random local part.
    AcceptsAny(String),
    /// A server that refused us before `RCPT TO`.
    Server(SocketAddr),
}

/// What a callout result is about, for the cache.
enum Subject {
    Recipient,
    Domain,
    Server,
}

struct Cached {
    result: CalloutResult,
    expires: Instant,
}

impl Callouts {
    /// A client with `config` and an empty cache.
    pub fn new(config: CalloutConfig) -> Self {
        let targets = Targets::new(
            config.allow_networks.clone(),
            config.max_per_server_per_minute,
        );
        Callouts {
            inner: Arc::new(Inner {
                config,
                targets,
                cache: Mutex::new(HashMap::new()),
                connections: AtomicU64::new(0),
            }),
        }
    }

    /// Makes the callout `request`: probes its recipient at its address; with
    /// `catch_all_probe`, an accepted recipient is followed by a random local part at its
    /// domain. A cached answer for the recipient (compared case-insensitively), for its
    /// domain accepting any address, or a cached refusal by the server, is returned without
    /// any connection. Unsafe arguments, an address in a special-purpose network that is not
    /// allowed, and a server over its rate are refused unconnected.
    pub async fn probe(&self, request: Request<'_>) -> CalloutResult {
        let Request {
            addr,
            helo_name,
            recipient,
            catch_all_probe,
        } = request;
        let targets = &self.inner.targets;
        if let Err(why) = check_arguments(helo_name, recipient).and(targets.reachable(addr.ip())) {
            return CalloutResult::Refused(why);
        }
        let lower = recipient.to_lowercase();
        let domain_key = match lower.rsplit_once('@') {
            Some((_, domain)) if catch_all_probe => Some(Key::AcceptsAny(domain.to_string())),
            _ => None,
        };
        let recipient_key = Key::Recipient(lower, catch_all_probe);
        let server_key = Key::Server(addr);
        let hit = self
            .cached(&recipient_key)
            .or_else(|| domain_key.as_ref().and_then(|key| self.cached(key)))
            .or_else(|| self.cached(&server_key));
        if let Some(hit) = hit {
            return hit;
        }
        if let Err(why) = targets.admit(addr.ip()) {
            return CalloutResult::Refused(why);
        }
        let result = self
            .run(Request {
                catch_all_probe: domain_key.is_some(),
                ..request
            })
            .await;
        let cached = self.lifetime(&result).and_then(|(subject, ttl)| {
            let key = match subject {
                Subject::Recipient => Some(recipient_key),
                Subject::Domain => domain_key,
                Subject::Server => Some(server_key),
            };
            key.map(|key| (key, ttl))
        });
        if let Some((key, ttl)) = cached {
            self.remember(key, &result, ttl);
        }
        result
    }

    /// How many TCP connections callouts have opened so far.
    pub fn connections(&self) -> u64 {
        self.inner.connections.load(Ordering::Relaxed)
    }

    async fn run(&self, request: Request<'_>) -> CalloutResult {
        let addr = request.addr;
        let config = &self.inner.config;
        let start = Instant::now();
        let total = start + config.total_timeout;
        let stream = match timeout_at(
            (start + config.connect_timeout).min(total),
            TcpStream::connect(addr),
        )
        .await
        {
            Err(_) => {
                return CalloutResult::ConnectFailed(format!("connection to {addr} timed out"));
            }
            Ok(Err(e)) => {
                return CalloutResult::ConnectFailed(format!("connection to {addr} failed: {e}"));
            }
            Ok(Ok(stream)) => stream,
        };
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        let mut dialogue = Dialogue {
            stream: BufReader::new(stream),
            config,
            total,
        };
        match dialogue.converse(request).await {
            Ok(result) => {
                dialogue.quit().await;
                result
            }
            Err(why) => CalloutResult::DialogueFailed(why),
        }
    }

    fn cached(&self, key: &Key) -> Option<CalloutResult> {
        let cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|c| c.expires > Instant::now())
            .map(|c| c.result.clone())
    }

    /// What `result` says something lasting about, and for how long it is cached: a 2yz to
    /// `RCPT TO` (the recipient) for the positive TTL, a 5yz (the recipient) for the negative
    /// TTL, a domain accepting any address for the positive TTL, a 5yz greeting, HELO or
    /// `MAIL FROM:<>` refusal (the server) for the server TTL. Everything else (temporary
    /// replies, failures, refusals) is not cached.
    fn lifetime(&self, result: &CalloutResult) -> Option<(Subject, Duration)> {
        let config = &self.inner.config;
        match result {
            CalloutResult::Rcpt(r) if r.is_positive() => {
                Some((Subject::Recipient, config.positive_ttl))
            }
            CalloutResult::Rcpt(r) if r.is_permanent_failure() => {
                Some((Subject::Recipient, config.negative_ttl))
            }
            CalloutResult::AcceptsAny(_) => Some((Subject::Domain, config.positive_ttl)),
            CalloutResult::GreetingRejected(r)
            | CalloutResult::HeloRejected(r)
            | CalloutResult::MailRejected(r)
                if r.is_permanent_failure() =>
            {
                Some((Subject::Server, config.server_ttl))
            }
            _ => None,
        }
    }

    fn remember(&self, key: Key, result: &CalloutResult, ttl: Duration) {
        let config = &self.inner.config;
        let now = Instant::now();
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= config.cache_capacity && !cache.contains_key(&key) {
            cache.retain(|_, c| c.expires > now);
            if cache.len() >= config.cache_capacity {
                return;
            }
        }
        cache.insert(
            key,
            Cached {
                result: result.clone(),
                expires: now + ttl,
            },
        );
    }
}

/// Refuses arguments that would inject commands or break the dialogue's syntax (an EHLO name
/// that is not ASCII would need SMTPUTF8, which is not known to be offered before EHLO).
fn check_arguments(helo_name: &str, recipient: &str) -> Result<(), String> {
    let bad_helo = helo_name.is_empty()
        || helo_name.len() > 255
        || !helo_name.is_ascii()
        || helo_name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace());
    if bad_helo {
        return Err(format!("refused to send HELO name {helo_name:?}"));
    }
    let bad_recipient = recipient.is_empty()
        || recipient.len() > 254
        || recipient
            .chars()
            .any(|c| c.is_control() || c == '<' || c == '>');
    if bad_recipient {
        return Err(format!("refused to send recipient {recipient:?}"));
    }
    Ok(())
}

/// One open callout connection.
struct Dialogue<'a> {
    stream: BufReader<TcpStream>,
    config: &'a CalloutConfig,
    /// When the whole callout must be over.
    total: Instant,
}

impl Dialogue<'_> {
    /// Runs the dialogue up to and including `RCPT TO`. `Err` means it could not go on.
    /// A recipient whose local part is not ASCII needs SMTPUTF8 (RFC 6531): it is asked for
    /// only when the server's EHLO reply offers the extension, with `MAIL FROM:<> SMTPUTF8`;
    /// a server that does not offer it cannot take mail for the address, and the dialogue
    /// stops there (a failed dialogue: nothing is learnt about the recipient).
    /// With `catch_all_probe`, an accepted recipient is followed by `RCPT TO` for a random
    /// local part at its domain; unless that is accepted too (250 or 251), the recipient's
    /// reply stands.
    async fn converse(&mut self, request: Request<'_>) -> Result<CalloutResult, String> {
        let Request {
            helo_name,
            recipient,
            catch_all_probe,
            ..
        } = request;
        let greeting = self.reply("greeting").await?;
        if !greeting.is_positive() {
            return Ok(CalloutResult::GreetingRejected(greeting));
        }
        let (mut hello, mut extensions) =
            self.exchange(&format!("EHLO {helo_name}"), "EHLO").await?;
        if hello.is_permanent_failure() {
            hello = self.command(&format!("HELO {helo_name}"), "HELO").await?;
            extensions.clear();
        }
        if !hello.is_positive() {
            return Ok(CalloutResult::HeloRejected(hello));
        }
        let mail_from = if recipient.is_ascii() {
            "MAIL FROM:<>"
        } else if offers(&extensions, "SMTPUTF8") {
            "MAIL FROM:<> SMTPUTF8"
        } else {
            return Ok(CalloutResult::DialogueFailed(format!(
                "the server does not offer SMTPUTF8, which RCPT TO:<{recipient}> needs"
            )));
        };
        let mail = self.command(mail_from, "MAIL FROM").await?;
        if !mail.is_positive() {
            return Ok(CalloutResult::MailRejected(mail));
        }
        let rcpt = self
            .command(&format!("RCPT TO:<{recipient}>"), "RCPT TO")
            .await?;
        if let Some((_, domain)) = recipient.rsplit_once('@')
            && catch_all_probe
            && rcpt.is_positive()
        {
            let random = format!("{CATCH_ALL_PREFIX}{:016x}@{domain}", rand::random::<u64>());
            let probe = self
                .command(&format!("RCPT TO:<{random}>"), "RCPT TO")
                .await;
            if let Ok(any) = probe
                && matches!(any.code, 250 | 251)
            {
                return Ok(CalloutResult::AcceptsAny(any));
            }
        }
        Ok(CalloutResult::Rcpt(rcpt))
    }

    /// Sends `QUIT` and waits briefly for the answer; failures do not matter any more.
    async fn quit(&mut self) {
        let deadline = (Instant::now() + QUIT_WAIT.min(self.config.step_timeout)).min(self.total);
        let limits = self.limits();
        let _ = timeout_at(deadline, async {
            self.stream
                .write_all(b"QUIT\r\n")
                .await
                .map_err(|e| e.to_string())?;
            read_reply(&mut self.stream, limits).await
        })
        .await;
    }

    /// Sends one command line and reads its reply, within the step deadline.
    async fn command(&mut self, line: &str, step: &str) -> Result<Reply, String> {
        Ok(self.exchange(line, step).await?.0)
    }

    /// Sends one command line and reads its reply and the text of each of the reply's lines,
    /// within the step deadline.
    async fn exchange(&mut self, line: &str, step: &str) -> Result<(Reply, Vec<String>), String> {
        let deadline = self.step_deadline();
        let limits = self.limits();
        let exchange = async {
            self.stream
                .write_all(format!("{line}\r\n").as_bytes())
                .await
                .map_err(|e| format!("sending {step} failed: {e}"))?;
            read_reply(&mut self.stream, limits).await
        };
        match timeout_at(deadline, exchange).await {
            Ok(reply) => reply,
            Err(_) => Err(self.timeout_message(step)),
        }
    }

    /// Reads one reply (the greeting) within the step deadline.
    async fn reply(&mut self, step: &str) -> Result<Reply, String> {
        let deadline = self.step_deadline();
        let limits = self.limits();
        match timeout_at(deadline, read_reply(&mut self.stream, limits)).await {
            Ok(reply) => reply.map(|(reply, _)| reply),
            Err(_) => Err(self.timeout_message(step)),
        }
    }

    fn step_deadline(&self) -> Instant {
        (Instant::now() + self.config.step_timeout).min(self.total)
    }

    fn timeout_message(&self, step: &str) -> String {
        if Instant::now() >= self.total {
            format!(
                "callout exceeded its total limit of {:?} waiting for the {step} reply",
                self.config.total_timeout
            )
        } else {
            format!(
                "timed out after {:?} waiting for the {step} reply",
                self.config.step_timeout
            )
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_line_len: self.config.max_line_len,
            max_lines: self.config.max_lines,
        }
    }
}

/// True when an EHLO reply's `lines` offer the extension `keyword` (the first word of a line
/// after the first, compared case-insensitively: RFC 5321 section 4.1.1.1).
fn offers(lines: &[String], keyword: &str) -> bool {
    lines.iter().skip(1).any(|line| {
        line.split(' ')
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
    })
}

#[cfg(test)]
mod tests;
