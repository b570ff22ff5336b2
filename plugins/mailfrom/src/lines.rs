//! The MAIL FROM check's log lines. Seed lines are worded exactly as IMail's log appendix
//! (seed ids in brackets, historic spelling and punctuation kept); the others are ours and
//! verbose. `domain` is always the receiving domain (`session.domain`).

use antispam_sdk::bindings::smtp::Reply;
pub use antispam_sdk::log::shown;

/// One log line and its level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Always logged.
    Normal(String),
    /// Logged only with verbose logging.
    Verbose(String),
}

/// C09 (normal): the client never sent MAIL FROM (no colon after VALIDATION, as the seed).
pub fn no_mail_from() -> Line {
    Line::Normal("VALIDATION (MAIL FROM) no MAIL FROM sent".to_string())
}

/// C23 (verbose): validation of the sender is about to start.
pub fn validating(domain: &str, mail_from: &str) -> Line {
    Line::Verbose(format!(
        "VALIDATION: (MAIL FROM) {domain} validating MAIL FROM address {}",
        shown(mail_from)
    ))
}

/// C06 (normal): no mail server address could be found for the sender's domain.
pub fn unresolvable(domain: &str, mail_from: &str) -> Line {
    Line::Normal(format!(
        "VALIDATION: (MAIL FROM) {domain} FAILED to resolve MX/A record for mail server {}",
        shown(mail_from)
    ))
}

/// C07 (normal): the TCP connection to one of the sender's mail servers failed.
pub fn connect_failed(domain: &str, server: &str) -> Line {
    Line::Normal(format!(
        "VALIDATION: (MAIL FROM) {domain} FAILED to connect to {server}"
    ))
}

/// C08 (normal): the dialogue broke off (closed, timed out, garbage, nonsense code).
pub fn communicate_failed(domain: &str, server: &str) -> Line {
    Line::Normal(format!(
        "VALIDATION: (MAIL FROM) {domain} FAILED to communicate with server {server}"
    ))
}

/// C10 (normal): the sender's server refused `RCPT TO` with a permanent error.
pub fn user_unknown(mail_from: &str) -> Line {
    Line::Normal(format!(
        "VALIDATION:(MAIL FROM) <{}> user does not exist on remote system",
        shown(mail_from)
    ))
}

/// C11 (normal): the server refused the greeting, EHLO/HELO or `MAIL FROM:<>`.
pub fn server_error(domain: &str, reply: &Reply) -> Line {
    Line::Normal(format!(
        "VALIDATION: (MAIL FROM) {domain} FAILED SMTP server error: {}",
        shown_reply(reply)
    ))
}

/// C24 (verbose): the sender's server accepted `RCPT TO`.
pub fn succeeded(domain: &str, mail_from: &str) -> Line {
    Line::Verbose(format!(
        "validation: (mail from) {domain} SUCEEDED for user {}.",
        shown(mail_from)
    ))
}

/// Ours (verbose): the null sender `<>` is not called out.
pub fn null_sender(domain: &str) -> Line {
    Line::Verbose(format!(
        "VALIDATION: (MAIL FROM) {domain} null sender <>, no validation needed"
    ))
}

/// Ours (verbose): the address cannot be called out at all.
pub fn unverifiable(domain: &str, mail_from: &str, why: &str) -> Line {
    Line::Verbose(format!(
        "VALIDATION: (MAIL FROM) {domain} cannot validate MAIL FROM address {}: {why}",
        shown(mail_from)
    ))
}

/// Ours (verbose): the DNS server gave no usable answer for the sender's mail servers.
pub fn dns_failed(domain: &str, mail_from: &str, error: &str) -> Line {
    Line::Verbose(format!(
        "VALIDATION: (MAIL FROM) {domain} no usable answer from DNS server for mail server {}: {error}",
        shown(mail_from)
    ))
}

/// Ours (verbose): the server answered `RCPT TO` with a temporary (4yz, or 552) reply.
pub fn temporary(domain: &str, server: &str, reply: &Reply) -> Line {
    Line::Verbose(format!(
        "VALIDATION: (MAIL FROM) {domain} temporary failure from {server}: {}",
        shown_reply(reply)
    ))
}

/// Ours (verbose): the host made no connection to this server, for the reason given.
pub fn refused(domain: &str, server: &str, why: &str) -> Line {
    Line::Verbose(format!(
        "VALIDATION: (MAIL FROM) {domain} callout to {server} refused by the host: {}",
        shown(why)
    ))
}

/// Ours (verbose): the server accepted a random address at the sender's domain as well.
pub fn accepts_any(domain: &str, server: &str, mail_from: &str) -> Line {
    Line::Verbose(format!(
        "VALIDATION: (MAIL FROM) {domain} {server} accepts any address; cannot validate {}",
        shown(mail_from)
    ))
}

/// A reply as logged: `code text`.
fn shown_reply(reply: &Reply) -> String {
    if reply.text.is_empty() {
        reply.code.to_string()
    } else {
        format!("{} {}", reply.code, shown(&reply.text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: Line) -> String {
        match line {
            Line::Normal(s) | Line::Verbose(s) => s,
        }
    }

    #[test]
    fn seed_lines_render_as_the_seed_prints_them() {
        let (d, who) = ("example.net", "joe@example.com");
        let reply = Reply {
            code: 554,
            text: "5.7.1 no service".into(),
        };
        assert_eq!(
            no_mail_from(),
            Line::Normal("VALIDATION (MAIL FROM) no MAIL FROM sent".into())
        );
        assert_eq!(
            text(validating(d, who)),
            "VALIDATION: (MAIL FROM) example.net validating MAIL FROM address joe@example.com"
        );
        assert_eq!(
            text(unresolvable(d, who)),
            "VALIDATION: (MAIL FROM) example.net FAILED to resolve MX/A record for mail server \
             joe@example.com"
        );
        assert_eq!(
            text(connect_failed(d, "mx.example.com[192.0.2.1]")),
            "VALIDATION: (MAIL FROM) example.net FAILED to connect to mx.example.com[192.0.2.1]"
        );
        assert_eq!(
            text(communicate_failed(d, "mx.example.com[192.0.2.1]")),
            "VALIDATION: (MAIL FROM) example.net FAILED to communicate with server \
             mx.example.com[192.0.2.1]"
        );
        assert_eq!(
            user_unknown(who),
            Line::Normal(
                "VALIDATION:(MAIL FROM) <joe@example.com> user does not exist on remote system"
                    .into()
            )
        );
        assert_eq!(
            server_error(d, &reply),
            Line::Normal(
                "VALIDATION: (MAIL FROM) example.net FAILED SMTP server error: 554 5.7.1 no service"
                    .into()
            )
        );
        assert_eq!(
            succeeded(d, who),
            Line::Verbose(
                "validation: (mail from) example.net SUCEEDED for user joe@example.com.".into()
            )
        );
    }

    #[test]
    fn control_characters_are_masked() {
        assert_eq!(
            text(user_unknown("a\r\nb@x")),
            "VALIDATION:(MAIL FROM) <a??b@x> user does not exist on remote system"
        );
        let bare = Reply {
            code: 421,
            text: String::new(),
        };
        assert!(text(server_error("d", &bare)).ends_with("server error: 421"));
    }
}
