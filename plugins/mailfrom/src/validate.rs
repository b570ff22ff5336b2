//! The whole MAIL FROM validation for one session, written against [`Host`] so that it runs
//! natively in tests with scripted DNS answers and callout results.

use antispam_sdk::Session;
use antispam_sdk::bindings::smtp::{Callout, CalloutResult};
use antispam_sdk::dns::{DnsError, Lookup, Query, RecordType};
use antispam_sdk::net::a_labels_or_name;

use crate::lines::{self, Line};
use crate::mx::{self, Exchanges, Targets};
use crate::outcome::{Step, judge};
use crate::sender::{self, SenderError};

/// What validation needs from the host: the component passes the WIT imports.
pub trait Host {
    /// Resolves a batch of queries (all in flight at once).
    fn resolve(&mut self, queries: &[Query]) -> Vec<Lookup>;
    /// Runs one callout.
    fn probe(&mut self, callout: &Callout) -> CalloutResult;
    /// Emits one log line.
    fn log(&mut self, line: Line);
}

/// The validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// TCP port of the sender's mail servers.
    pub port: u16,
    /// Our EHLO/HELO name; `None` uses the receiving domain.
    pub helo_name: Option<String>,
    /// Most addresses called out (and MX hosts resolved).
    pub max_mx: usize,
    /// Follow an accepted sender with a random address at its domain.
    pub detect_catch_all: bool,
}

/// How a session's sender came out.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The sender's server accepted the address.
    Verified,
    /// The null sender: nothing to validate.
    NullSender,
    /// The sender fails validation (the X-IMAIL-SPAM-VALFROM header is due).
    Failed(String),
    /// Nothing definite was learnt.
    Inconclusive(String),
}

/// Validates the session's MAIL FROM address, logging as it goes.
pub fn validate(host: &mut impl Host, config: &Config, session: &Session) -> Outcome {
    let domain = session.domain.as_str();
    let Some(mail_from) = session.mail_from.as_deref() else {
        host.log(lines::no_mail_from());
        return Outcome::Failed("no MAIL FROM sent".into());
    };
    if mail_from.is_empty() {
        host.log(lines::null_sender(domain));
        return Outcome::NullSender;
    }
    host.log(lines::validating(domain, mail_from));
    let sender = match sender::parse(mail_from) {
        Ok(sender) => sender,
        Err(SenderError::Unresolvable) => {
            let why = "sender address has no valid domain".to_string();
            return unresolvable(host, domain, mail_from, why);
        }
        Err(SenderError::Unverifiable(why)) => {
            host.log(lines::unverifiable(domain, mail_from, why));
            return Outcome::Inconclusive(format!("sender address cannot be called out: {why}"));
        }
    };

    let sender_domain = sender.domain;
    let mx_answer = host
        .resolve(&[Query::new(sender_domain.as_str(), RecordType::Mx)])
        .into_iter()
        .next()
        .map_or_else(
            || Err(DnsError::BadReply("no answer to the MX query".into())),
            |l| l.answer,
        );
    let seed = mx::seed(&session.message_id, &sender_domain);
    let mut hosts = match mx::exchanges(&sender_domain, &mx_answer, seed) {
        Exchanges::Hosts(hosts) => hosts,
        Exchanges::NullMx => {
            let why = format!("{sender_domain} publishes a null MX (accepts no mail)");
            return unresolvable(host, domain, mail_from, why);
        }
        Exchanges::NoSuchDomain => {
            let why = format!("{sender_domain} does not exist");
            return unresolvable(host, domain, mail_from, why);
        }
        Exchanges::DnsFailed(e) => return dns_failed(host, domain, mail_from, e),
    };
    hosts.truncate(config.max_mx);
    let lookups = host.resolve(&mx::address_queries(&hosts));
    let targets = match mx::targets(&hosts, &lookups, config.max_mx) {
        Targets::Found(targets) => targets,
        Targets::NoneResolvable => {
            let why = format!("no address for the mail servers of {sender_domain}");
            return unresolvable(host, domain, mail_from, why);
        }
        Targets::DnsFailed(e) => return dns_failed(host, domain, mail_from, e),
    };

    let helo_name = config
        .helo_name
        .clone()
        .unwrap_or_else(|| a_labels_or_name(domain).into_owned());
    let mut last_failure = String::new();
    for target in &targets {
        let callout = Callout {
            address: target.ip.into(),
            port: config.port,
            helo_name: helo_name.clone(),
            recipient: sender.recipient.clone(),
            catch_all_probe: config.detect_catch_all,
        };
        let (line, next) = judge(domain, mail_from, target, &host.probe(&callout));
        host.log(line);
        match next {
            Step::TryNext(why) => last_failure = why,
            Step::Verified => return Outcome::Verified,
            Step::Failed(why) => return Outcome::Failed(why),
            Step::Inconclusive(why) => return Outcome::Inconclusive(why),
        }
    }
    Outcome::Inconclusive(format!(
        "no callout reached any of {} mail server address(es); last: {last_failure}",
        targets.len()
    ))
}

/// C06: no mail server address can exist for the sender; a failure.
fn unresolvable(host: &mut impl Host, domain: &str, mail_from: &str, why: String) -> Outcome {
    host.log(lines::unresolvable(domain, mail_from));
    Outcome::Failed(why)
}

/// Ours: the DNS did not answer usefully; inconclusive.
fn dns_failed(host: &mut impl Host, domain: &str, mail_from: &str, error: String) -> Outcome {
    host.log(lines::dns_failed(domain, mail_from, &error));
    Outcome::Inconclusive(format!(
        "DNS gave no answer for the sender's mail servers: {error}"
    ))
}

#[cfg(test)]
mod tests;
