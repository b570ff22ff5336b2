//! MAIL FROM active validation (IMail "Verify MAIL FROM address"): a sender callout.
//!
//! The sender domain's mail servers are found as RFC 5321 section 5.1 says (MX by
//! preference, implicit MX, null MX), and the host calls them out one address at a time:
//! `EHLO`/`HELO`, `MAIL FROM:<>`, `RCPT TO:<sender>`, `QUIT`, never `DATA`. A refused sender
//! or an unresolvable domain fails the check; temporary trouble of any kind is inconclusive.

mod lines;
mod mx;
mod outcome;
mod sender;
mod validate;

use antispam_sdk::bindings::smtp::{self, Callout, CalloutResult};
use antispam_sdk::dns::{self, Lookup, Query};
use antispam_sdk::net::a_labels;
use antispam_sdk::{ConnectionCheck, Header, Session, Settings, Verdict, log};
use serde::Deserialize;

use lines::Line;
use validate::{Config, Host, Outcome};

/// The header a failed MAIL FROM validation adds.
const HEADER: &str = "X-IMAIL-SPAM-VALFROM";

/// Most addresses `max-mx` may ask for.
const MAX_MX_LIMIT: usize = 20;

/// The check's settings as configured.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
struct Options {
    /// TCP port of the sender's mail servers.
    port: u16,
    /// Our EHLO/HELO name; by default the receiving domain. Sent as A-labels.
    helo_name: Option<String>,
    /// Most addresses called out.
    max_mx: usize,
    /// Ask for a random address too, and call a server that accepts it inconclusive.
    detect_catch_all: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 25,
            helo_name: None,
            max_mx: 5,
            detect_catch_all: false,
        }
    }
}

impl Options {
    fn validated(self) -> Result<Config, String> {
        if self.port == 0 {
            return Err("port must be 1-65535".into());
        }
        if !(1..=MAX_MX_LIMIT).contains(&self.max_mx) {
            return Err(format!("max-mx must be 1-{MAX_MX_LIMIT}"));
        }
        let helo_name = match &self.helo_name {
            Some(name) => {
                let bad = name.is_empty()
                    || name.len() > 255
                    || name.chars().any(|c| c.is_control() || c.is_whitespace());
                match a_labels(name).filter(|_| !bad) {
                    Some(ascii) => Some(ascii.into_owned()),
                    None => return Err(format!("helo-name {name:?} is not a host name")),
                }
            }
            None => None,
        };
        Ok(Config {
            port: self.port,
            helo_name,
            max_mx: self.max_mx,
            detect_catch_all: self.detect_catch_all,
        })
    }
}

/// The configured MAIL FROM check.
pub struct MailFrom {
    config: Config,
}

impl ConnectionCheck for MailFrom {
    fn configure(settings: &Settings) -> Result<Self, String> {
        let options: Options = settings.parse()?;
        let config = options
            .validated()
            .map_err(|e| format!("settings for {}: {e}", settings.domain))?;
        Ok(MailFrom { config })
    }

    fn check(&self, session: &Session) -> Verdict {
        match validate::validate(&mut Imports, &self.config, session) {
            Outcome::Verified => Verdict::Pass,
            Outcome::NullSender => Verdict::NotApplicable,
            Outcome::Failed(reason) => Verdict::fail(
                reason,
                Header::new(HEADER, format!("({})", session.message_id)),
            ),
            Outcome::Inconclusive(reason) => Verdict::Inconclusive(reason),
        }
    }
}

/// The host's imports.
struct Imports;

impl Host for Imports {
    fn resolve(&mut self, queries: &[Query]) -> Vec<Lookup> {
        dns::resolve(queries)
    }

    fn probe(&mut self, callout: &Callout) -> CalloutResult {
        smtp::probe(callout)
    }

    fn log(&mut self, line: Line) {
        match line {
            Line::Normal(text) => log::normal(text),
            Line::Verbose(text) => log::verbose(text),
        }
    }
}

antispam_sdk::connection_plugin!(MailFrom);

#[cfg(test)]
mod tests {
    use super::*;

    fn options(toml: &str) -> Result<Config, String> {
        let settings = Settings {
            domain: "example.net".into(),
            toml: toml.into(),
            files: vec![],
        };
        settings.parse::<Options>()?.validated()
    }

    #[test]
    fn defaults() {
        assert_eq!(
            options(""),
            Ok(Config {
                port: 25,
                helo_name: None,
                max_mx: 5,
                detect_catch_all: false,
            })
        );
    }

    #[test]
    fn settings_are_read_and_checked() {
        let config = options(
            "port = 2525\nhelo-name = \"probe.example.net\"\nmax-mx = 2\ndetect-catch-all = true",
        )
        .unwrap();
        assert_eq!(
            config,
            Config {
                port: 2525,
                helo_name: Some("probe.example.net".into()),
                max_mx: 2,
                detect_catch_all: true,
            }
        );
        assert_eq!(
            options("helo-name = \"Mäil.Example\"").map(|c| c.helo_name),
            Ok(Some("xn--mil-qla.example".into())),
            "EHLO carries A-labels"
        );
        for bad in [
            "port = 0",
            "max-mx = 0",
            "max-mx = 21",
            "helo-name = \"a b\"",
            "helo-name = \"\"",
            "helo-name = \"b\u{fffd}.example\"",
            "colour = 1",
        ] {
            assert!(options(bad).is_err(), "{bad}");
        }
    }
}
