//! IMail's DNS black-list connection check.
//!
//! Every configured list is asked about the client IP, the HELO argument, the MAIL FROM
//! address or its domain, in one batch of DNS queries together with each list's RFC 5782
//! self-test entries. Listings then get their TXT explanation in a second batch. Lists that
//! answer error codes or fail their self-test are suspended for all messages.

mod answer;
mod lines;
mod names;
mod outcome;
mod plan;
mod settings;
#[cfg(test)]
mod tests;
mod verdict;

use antispam_sdk::dns::{self, Lookup, Query};
use antispam_sdk::{ConnectionCheck, Session, Settings, Verdict, log};

use crate::lines::{Level, Line};
use crate::outcome::Suspension;
use crate::settings::{List, RawSettings};

/// The configured check: the domain's black lists in configured order.
pub struct Dnsbl {
    lists: Vec<List>,
}

impl ConnectionCheck for Dnsbl {
    fn configure(settings: &Settings) -> Result<Self, String> {
        let lists = settings.parse::<RawSettings>()?.validate()?;
        Ok(Dnsbl { lists })
    }

    /// Each standard list counts as one check toward "delete after N of M"; trusted lists act
    /// on their own and are not counted.
    fn counted_checks(&self) -> u32 {
        let standard = self.lists.iter().filter(|l| !l.trusted).count();
        u32::try_from(standard).unwrap_or(u32::MAX)
    }

    fn check(&self, session: &Session) -> Verdict {
        let report = run(&self.lists, session, dns::resolve);
        for s in &report.suspensions {
            dns::suspend(&s.zone, s.seconds);
        }
        report.lines.into_iter().for_each(emit);
        report.verdict
    }
}

/// Everything one check produces, before it reaches the host.
struct Report {
    /// The log lines, in order.
    lines: Vec<Line>,
    /// The zones to suspend.
    suspensions: Vec<Suspension>,
    /// The verdict.
    verdict: Verdict,
}

/// Runs the lists for `session`, asking `resolve` for the two batches (an empty batch is not
/// sent).
fn run(
    lists: &[List],
    session: &Session,
    mut resolve: impl FnMut(&[Query]) -> Vec<Lookup>,
) -> Report {
    let mut ask = |batch: &plan::Batch| {
        if batch.queries().is_empty() {
            Vec::new()
        } else {
            resolve(batch.queries())
        }
    };
    let (batch, planned) = plan::plan(lists, session);
    let mut outcomes = outcome::outcomes(lists, &planned, &ask(&batch));
    let suspensions = outcome::suspensions(lists, &outcomes);
    let (txt_batch, txt_indexes) = outcome::txt_batch(lists, &outcomes);
    outcome::attach_txt(&mut outcomes, &txt_indexes, &ask(&txt_batch));
    Report {
        lines: outcome::render(lists, &outcomes, &suspensions),
        verdict: verdict::verdict(lists, &outcomes, &session.message_id),
        suspensions,
    }
}

fn emit(line: Line) {
    match line.level {
        Level::Normal => log::normal(line.text),
        Level::Verbose => log::verbose(line.text),
    }
}

antispam_sdk::connection_plugin!(Dnsbl);
