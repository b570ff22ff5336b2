//! Reverse-DNS active validation (IMail "Perform reverse DNS lookup for connecting server").
//!
//! Looks up the PTR record of the client address. In the default `fcrdns` mode the PTR names
//! must resolve back to the client (forward-confirmed reverse DNS); in `ptr-exists` mode any PTR
//! is enough. A DNS server that does not answer makes the check inconclusive.

mod lines;
mod validate;

use antispam_sdk::{ConnectionCheck, Header, Session, Settings, Verdict, dns, log, net};
use serde::Deserialize;

use validate::Outcome;

/// The header a failed reverse-DNS validation adds.
const HEADER: &str = "X-IMAIL-SPAM-VALREVDNS";

/// How strict the check is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Forward-confirmed reverse DNS: a PTR name's A (or AAAA) records include the client.
    #[default]
    Fcrdns,
    /// Any PTR record passes (Postfix `reject_unknown_reverse_client_hostname`).
    PtrExists,
}

/// The check's settings.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Options {
    /// `fcrdns` (default) or `ptr-exists`.
    pub mode: Mode,
}

/// The configured reverse-DNS check.
pub struct RevDns {
    options: Options,
}

impl ConnectionCheck for RevDns {
    fn configure(settings: &Settings) -> Result<Self, String> {
        Ok(RevDns {
            options: settings.parse()?,
        })
    }

    fn check(&self, session: &Session) -> Verdict {
        let domain = &session.domain;
        let client = net::normalize(&session.client_ip);
        log::verbose(lines::performing(domain, client));
        match validate::validate(self.options.mode, client, dns::resolve) {
            Outcome::Succeeded => {
                log::verbose(lines::succeeded(domain, client));
                Verdict::Pass
            }
            Outcome::Failed => {
                log::normal(lines::failed(domain, client));
                fail(
                    session,
                    format!("reverse DNS validation failed for {client}"),
                )
            }
            Outcome::NoRecord => {
                log::normal(lines::no_record(client));
                fail(
                    session,
                    format!("reverse DNS names of {client} have no MX or A record"),
                )
            }
            Outcome::NoReply => {
                log::normal(lines::no_reply(domain));
                Verdict::Inconclusive(format!("no reply from DNS server for {client}"))
            }
        }
    }
}

/// A failure carrying `X-IMAIL-SPAM-VALREVDNS: (<message-id>)`.
fn fail(session: &Session, reason: String) -> Verdict {
    Verdict::fail(
        reason,
        Header::new(HEADER, format!("({})", session.message_id)),
    )
}

antispam_sdk::connection_plugin!(RevDns);

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(toml: &str) -> Result<Mode, String> {
        let settings = Settings {
            domain: "example.net".into(),
            toml: toml.into(),
            files: vec![],
        };
        RevDns::configure(&settings).map(|check| check.options.mode)
    }

    #[test]
    fn mode_defaults_to_fcrdns() {
        assert_eq!(mode(""), Ok(Mode::Fcrdns));
        assert_eq!(mode("mode = \"fcrdns\""), Ok(Mode::Fcrdns));
        assert_eq!(mode("mode = \"ptr-exists\""), Ok(Mode::PtrExists));
    }

    #[test]
    fn unknown_modes_and_keys_are_rejected() {
        assert!(mode("mode = \"strict\"").is_err());
        assert!(mode("fcrdns = true").is_err());
    }
}
