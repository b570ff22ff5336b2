//! HELO/EHLO active validation (IMail "Verify HELO / EHLO domain").
//!
//! The HELO argument must name a host that has an MX or A record (AAAA too when
//! `accept-aaaa` is set). Optional Postfix-style syntax rules reject malformed and non-FQDN
//! names without DNS; address literals are never looked up and may be required to equal the
//! client address. A DNS server that does not answer makes the check inconclusive.

mod lines;
mod syntax;
mod validate;

use antispam_sdk::{ConnectionCheck, Header, Session, Settings, Verdict, dns, log, net};
use serde::Deserialize;

use validate::Outcome;

/// The header a failed HELO validation adds.
const HEADER: &str = "X-IMAIL-SPAM-VALHELO";

/// The check's settings; every option is off by default (IMail's behaviour).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Options {
    /// An AAAA record also shows that the HELO name exists (Postfix semantics).
    pub accept_aaaa: bool,
    /// Fail a malformed name (Postfix `reject_invalid_helo_hostname`) without DNS.
    pub reject_invalid_hostname: bool,
    /// Fail a name that is not fully qualified (Postfix `reject_non_fqdn_helo_hostname`).
    pub reject_non_fqdn: bool,
    /// An address literal must equal the client address.
    pub literal_must_match_client: bool,
}

/// The configured HELO check.
pub struct Helo {
    options: Options,
}

impl ConnectionCheck for Helo {
    fn configure(settings: &Settings) -> Result<Self, String> {
        Ok(Helo {
            options: settings.parse()?,
        })
    }

    fn check(&self, session: &Session) -> Verdict {
        let Some(helo) = session.helo.as_deref().filter(|h| !h.trim().is_empty()) else {
            log::normal(lines::no_helo());
            return fail(session, "no HELO sent".into());
        };
        let domain = &session.domain;
        let client = net::normalize(&session.client_ip);
        let outcome = validate::validate(&self.options, helo, client, |queries| {
            log::verbose(lines::performing(domain, helo));
            dns::resolve(queries)
        });
        if matches!(outcome, Outcome::Found | Outcome::Missing) {
            log::verbose(lines::received(domain, helo));
        }
        match outcome {
            Outcome::Literal | Outcome::Found => Verdict::Pass,
            Outcome::Rejected | Outcome::Missing => {
                log::normal(lines::failed(helo));
                fail(
                    session,
                    format!("HELO {} failed active validation", lines::shown(helo)),
                )
            }
            Outcome::NoReply => {
                log::normal(lines::no_response(domain, helo));
                Verdict::Inconclusive(format!(
                    "no reply from DNS server for HELO domain {}",
                    lines::shown(helo)
                ))
            }
        }
    }
}

/// A failure carrying `X-IMAIL-SPAM-VALHELO: (<message-id>)`.
fn fail(session: &Session, reason: String) -> Verdict {
    Verdict::fail(
        reason,
        Header::new(HEADER, format!("({})", session.message_id)),
    )
}

antispam_sdk::connection_plugin!(Helo);

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Settings {
        Settings {
            domain: "example.net".into(),
            toml: toml.into(),
            files: Vec::new(),
        }
    }

    #[test]
    fn every_option_defaults_to_off() {
        let options = Helo::configure(&settings("")).unwrap().options;
        assert!(!options.accept_aaaa);
        assert!(!options.reject_invalid_hostname);
        assert!(!options.reject_non_fqdn);
        assert!(!options.literal_must_match_client);
    }

    #[test]
    fn options_are_read_in_kebab_case() {
        let toml = "accept-aaaa = true\nreject-invalid-hostname = true\n\
                    reject-non-fqdn = true\nliteral-must-match-client = true\n";
        let options = Helo::configure(&settings(toml)).unwrap().options;
        assert!(options.accept_aaaa && options.reject_invalid_hostname);
        assert!(options.reject_non_fqdn && options.literal_must_match_client);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_rejected() {
        assert!(Helo::configure(&settings("reject-fqdn = true")).is_err());
        assert!(Helo::configure(&settings("accept-aaaa = \"yes\"")).is_err());
    }
}
