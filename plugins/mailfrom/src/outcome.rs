//! What one callout result means for the sender: its log line, and whether to try the next
//! address, stop with a verdict, or fail the sender.

use antispam_sdk::bindings::smtp::{CalloutResult, Reply};

use crate::lines::{self, Line};
use crate::mx::Target;

/// Where a callout result leaves the validation.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing was learnt from this address: try the next one.
    TryNext(String),
    /// The sender is verified.
    Verified,
    /// The sender fails validation, for this reason.
    Failed(String),
    /// The check cannot decide, for this reason (never counted as a failure).
    Inconclusive(String),
}

/// The log line and the next step for `result`, from calling out `mail_from` at `target`
/// on behalf of the receiving `domain`.
///
/// * Connection refused or timed out: C07, try the next address (RFC 5321 section 5.1).
/// * The host made no connection (a special-purpose address it does not call, or a server
///   over its callout rate): our verbose line, try the next address.
/// * 2yz to `RCPT TO` (250, 251): C24, verified.
/// * 2yz to `RCPT TO` and to a random address at the sender's domain (asked only with
///   `detect-catch-all`): our verbose line, inconclusive: the server accepts any address.
/// * 5yz to `RCPT TO` (550, 551, 553, ...), except 552: C10, failed. 552 ("storage
///   exceeded", historically also "too many recipients", which RFC 5321 section 4.5.3.1.10
///   says to treat as temporary) and any 4yz: our temporary line, inconclusive.
/// * 5yz greeting, or 5yz to both EHLO and HELO: C11, failed; the server would refuse a
///   bounce from us too. A 4yz there (421 busy, ...) is C11 but inconclusive.
/// * Any refusal of `MAIL FROM:<>`: C11, inconclusive. Refusing the null sender breaks
///   RFC 5321 section 4.5.5 and says nothing about the user; Postfix calls probing with `<>`
///   "unsafe" for exactly this reason.
/// * Dialogue broken (closed, timed out, garbage) or a 3yz to `RCPT TO`: C08, inconclusive:
///   nothing was learnt about the user, and another address is not tried so that a tarpit
///   costs one total timeout, not one per address.
pub fn judge(
    domain: &str,
    mail_from: &str,
    target: &Target,
    result: &CalloutResult,
) -> (Line, Step) {
    let server = target.server();
    match result {
        CalloutResult::ConnectFailed(why) => (
            lines::connect_failed(domain, &server),
            Step::TryNext(format!("{server}: {why}")),
        ),
        CalloutResult::Refused(why) => (
            lines::refused(domain, &server, why),
            Step::TryNext(format!("{server}: {}", lines::shown(why))),
        ),
        CalloutResult::AcceptsAny(reply) => (
            lines::accepts_any(domain, &server, mail_from),
            Step::Inconclusive(format!(
                "{server} accepts any address (a random one: {})",
                shown(reply)
            )),
        ),
        CalloutResult::Rcpt(reply) => match reply.code / 100 {
            2 => (lines::succeeded(domain, mail_from), Step::Verified),
            5 if reply.code != 552 => (
                lines::user_unknown(mail_from),
                Step::Failed(format!("{server} refused the sender: {}", shown(reply))),
            ),
            4 | 5 => (
                lines::temporary(domain, &server, reply),
                Step::Inconclusive(format!("{server} answered RCPT TO with {}", shown(reply))),
            ),
            _ => (
                lines::communicate_failed(domain, &server),
                Step::Inconclusive(format!("{server} answered RCPT TO with {}", shown(reply))),
            ),
        },
        CalloutResult::GreetingRejected(reply) | CalloutResult::HeloRejected(reply) => {
            let why = format!("{server} refused us: {}", shown(reply));
            let step = if reply.code / 100 == 5 {
                Step::Failed(why)
            } else {
                Step::Inconclusive(why)
            };
            (lines::server_error(domain, reply), step)
        }
        CalloutResult::MailRejected(reply) => (
            lines::server_error(domain, reply),
            Step::Inconclusive(format!("{server} refused MAIL FROM:<>: {}", shown(reply))),
        ),
        CalloutResult::DialogueFailed(why) => (
            lines::communicate_failed(domain, &server),
            Step::Inconclusive(format!("{server}: {}", lines::shown(why))),
        ),
    }
}

/// A reply for a verdict reason.
fn shown(reply: &Reply) -> String {
    lines::shown(&format!("{} {}", reply.code, reply.text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Line::{Normal, Verbose};

    fn run(result: CalloutResult) -> (Line, Step) {
        let target = Target {
            host: "mx.example.com".into(),
            ip: "192.0.2.1".parse().unwrap(),
        };
        judge("example.net", "joe@example.com", &target, &result)
    }

    fn rcpt(code: u16) -> CalloutResult {
        CalloutResult::Rcpt(reply(code))
    }

    fn reply(code: u16) -> Reply {
        Reply {
            code,
            text: "text".into(),
        }
    }

    #[test]
    fn accepted_recipient_verifies() {
        for code in [250, 251] {
            let (line, next) = run(rcpt(code));
            assert_eq!(next, Step::Verified);
            assert_eq!(
                line,
                Verbose(
                    "validation: (mail from) example.net SUCEEDED for user joe@example.com.".into()
                )
            );
        }
    }

    #[test]
    fn a_server_accepting_any_address_is_inconclusive() {
        let (line, next) = run(CalloutResult::AcceptsAny(reply(250)));
        assert_eq!(
            line,
            Verbose("VALIDATION: (MAIL FROM) example.net mx.example.com[192.0.2.1] accepts any address; cannot validate joe@example.com".into())
        );
        assert_eq!(
            next,
            Step::Inconclusive(
                "mx.example.com[192.0.2.1] accepts any address (a random one: 250 text)".into()
            )
        );
    }

    #[test]
    fn permanent_rcpt_refusal_fails_the_sender() {
        for code in [550, 551, 553, 554] {
            let (line, next) = run(rcpt(code));
            assert!(matches!(next, Step::Failed(_)), "{code}");
            assert_eq!(
                line,
                Normal(
                    "VALIDATION:(MAIL FROM) <joe@example.com> user does not exist on remote system"
                        .into()
                )
            );
        }
    }

    #[test]
    fn temporary_rcpt_replies_are_inconclusive() {
        for code in [450, 451, 452, 552] {
            let (line, next) = run(rcpt(code));
            assert_eq!(
                next,
                Step::Inconclusive(format!(
                    "mx.example.com[192.0.2.1] answered RCPT TO with {code} text"
                ))
            );
            assert_eq!(
                line,
                Verbose(format!(
                    "VALIDATION: (MAIL FROM) example.net temporary failure from mx.example.com[192.0.2.1]: {code} text"
                ))
            );
        }
        assert!(matches!(run(rcpt(354)), (Normal(_), Step::Inconclusive(_))));
    }

    #[test]
    fn refusals_before_rcpt_are_server_errors() {
        let c11 =
            Normal("VALIDATION: (MAIL FROM) example.net FAILED SMTP server error: 554 text".into());
        assert!(
            matches!(run(CalloutResult::GreetingRejected(reply(554))), (ref l, Step::Failed(_)) if *l == c11)
        );
        assert!(
            matches!(run(CalloutResult::HeloRejected(reply(554))), (ref l, Step::Failed(_)) if *l == c11)
        );
        assert!(
            matches!(run(CalloutResult::MailRejected(reply(554))), (ref l, Step::Inconclusive(_)) if *l == c11)
        );
        assert!(matches!(
            run(CalloutResult::GreetingRejected(reply(421))),
            (_, Step::Inconclusive(_))
        ));
        assert!(matches!(
            run(CalloutResult::HeloRejected(reply(451))),
            (_, Step::Inconclusive(_))
        ));
    }

    #[test]
    fn connection_and_dialogue_failures() {
        let (line, next) = run(CalloutResult::ConnectFailed("refused".into()));
        assert_eq!(line, Normal("VALIDATION: (MAIL FROM) example.net FAILED to connect to mx.example.com[192.0.2.1]".into()));
        assert_eq!(
            next,
            Step::TryNext("mx.example.com[192.0.2.1]: refused".into())
        );
        let (line, next) = run(CalloutResult::Refused("loopback".into()));
        assert_eq!(
            line,
            Verbose("VALIDATION: (MAIL FROM) example.net callout to mx.example.com[192.0.2.1] refused by the host: loopback".into())
        );
        assert_eq!(
            next,
            Step::TryNext("mx.example.com[192.0.2.1]: loopback".into())
        );
        let (line, next) = run(CalloutResult::DialogueFailed("garbage reply\n".into()));
        assert_eq!(
            line,
            Normal("VALIDATION: (MAIL FROM) example.net FAILED to communicate with server mx.example.com[192.0.2.1]".into())
        );
        assert_eq!(
            next,
            Step::Inconclusive("mx.example.com[192.0.2.1]: garbage reply?".into())
        );
    }
}
