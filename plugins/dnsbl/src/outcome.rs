//! Each list's outcome for one message: built from the lookups, completed with TXT text,
//! and rendered as log lines in configured order.

use antispam_sdk::dns::{DnsError, Lookup, RecordData, RecordType};

use crate::answer::{Answer, SelfTest, Status, classify, self_test};
use crate::lines::{self, Line};
use crate::names::{Target, quote, self_test_names};
use crate::plan::{Batch, Planned};
use crate::settings::List;

/// How many characters of TXT text a log line keeps.
const TXT_CHARS: usize = 255;

/// What one list said about this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The list does not apply; the text says why.
    Skipped(String),
    /// The list was asked.
    Asked(Asked),
}

/// A list that was asked, and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// What was asked.
    pub target: Target,
    /// UDP retries of the main query.
    pub retries: u32,
    /// What the main answer means.
    pub status: Status,
    /// The self-test, when enabled.
    pub test: Option<SelfTest>,
    /// The TXT explanation of a listing.
    pub txt: Txt,
}

/// The TXT explanation of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Txt {
    /// Not fetched (not listed, or `txt = false`).
    NotFetched,
    /// The text, sanitised and bounded.
    Text(String),
    /// The lookup found no text; why.
    Missing(String),
}

impl Asked {
    /// True when the list counts as a hit: listed, and its self-test did not fail.
    pub fn is_hit(&self) -> bool {
        matches!(self.status, Status::Listed(_)) && !self.test_failed()
    }

    /// Why the list could not give an answer for this message, if it could not.
    pub fn failure(&self) -> Option<String> {
        match &self.status {
            Status::Unreachable => Some("no answer".into()),
            Status::Failed(e) => Some(e.clone()),
            Status::ErrorCode(code) => Some(format!("error code {code}")),
            Status::Listed(_) | Status::NotListed { .. } if self.test_failed() => {
                Some("self-test failed".into())
            }
            Status::Listed(_) | Status::NotListed { .. } | Status::Suspended => None,
        }
    }

    /// True when the list's zone must be suspended: it answered an error code or failed its
    /// self-test.
    pub fn suspends(&self) -> bool {
        matches!(self.status, Status::ErrorCode(_))
            || matches!(self.status, Status::Listed(_) | Status::NotListed { .. })
                && self.test_failed()
    }

    fn test_failed(&self) -> bool {
        matches!(self.test, Some(SelfTest::Failed(_)))
    }
}

/// The outcome of every list from the first batch's lookups (`lookups[i]` answers query `i`).
pub fn outcomes(lists: &[List], planned: &[Planned], lookups: &[Lookup]) -> Vec<Outcome> {
    lists
        .iter()
        .zip(planned)
        .map(|(list, planned)| match planned {
            Planned::Skipped(reason) => Outcome::Skipped(reason.clone()),
            Planned::Asked {
                target,
                main,
                tests,
            } => {
                let (answer, retries) = lookup(lookups, *main);
                let test = tests.map(|(positive, negative)| {
                    let (positive_name, negative_name) = self_test_names(list);
                    self_test(
                        (&positive_name, &lookup(lookups, positive).0),
                        (&negative_name, &lookup(lookups, negative).0),
                    )
                });
                Outcome::Asked(Asked {
                    target: target.clone(),
                    retries,
                    status: classify(&answer, &list.filter),
                    test,
                    txt: Txt::NotFetched,
                })
            }
        })
        .collect()
}

/// The answer and retries of query `index`; a missing outcome is a bad reply, never a panic.
fn lookup(lookups: &[Lookup], index: usize) -> (Answer, u32) {
    match lookups.get(index) {
        Some(l) => (l.answer.clone(), l.retries),
        None => (
            Err(DnsError::BadReply(
                "the host returned no outcome for this query".into(),
            )),
            0,
        ),
    }
}

/// The second batch: TXT for every hit of a list with `txt = true`; `None` where not asked.
pub fn txt_batch(lists: &[List], outcomes: &[Outcome]) -> (Batch, Vec<Option<usize>>) {
    let mut batch = Batch::default();
    let indexes = lists
        .iter()
        .zip(outcomes)
        .map(|(list, outcome)| match outcome {
            Outcome::Asked(asked) if asked.is_hit() && list.txt => {
                Some(batch.add(list, &asked.target.name, RecordType::Txt))
            }
            _ => None,
        })
        .collect();
    (batch, indexes)
}

/// Stores the TXT answers of the second batch in the outcomes that asked for them.
pub fn attach_txt(outcomes: &mut [Outcome], indexes: &[Option<usize>], lookups: &[Lookup]) {
    for (outcome, index) in outcomes.iter_mut().zip(indexes) {
        if let (Outcome::Asked(asked), Some(index)) = (outcome, index) {
            asked.txt = match lookup(lookups, *index).0 {
                Ok(records) => txt_text(&records),
                Err(e) => Txt::Missing(quote(&e.to_string())),
            };
        }
    }
}

/// The TXT strings of an answer joined by spaces, control characters replaced, bounded.
fn txt_text(records: &[RecordData]) -> Txt {
    let texts: Vec<&str> = records
        .iter()
        .filter_map(|r| match r {
            RecordData::Txt(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    if texts.is_empty() {
        return Txt::Missing("no TXT record".into());
    }
    let joined = texts.join(" ");
    let text = joined
        .chars()
        .take(TXT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c });
    Txt::Text(text.collect::<String>().trim().to_string())
}

/// A zone to suspend, announced at the list `index` that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    /// The list that triggered it (the first one, for a zone shared by several lists).
    pub index: usize,
    /// The zone.
    pub zone: String,
    /// For how long.
    pub seconds: u32,
}

/// The zones to suspend, each once, in list order.
pub fn suspensions(lists: &[List], outcomes: &[Outcome]) -> Vec<Suspension> {
    let mut found: Vec<Suspension> = Vec::new();
    for (index, (list, outcome)) in lists.iter().zip(outcomes).enumerate() {
        let suspends = matches!(outcome, Outcome::Asked(a) if a.suspends());
        let zone = list.query_zone();
        if suspends && !found.iter().any(|s| s.zone == zone) {
            found.push(Suspension {
                index,
                zone,
                seconds: list.suspend_seconds,
            });
        }
    }
    found
}

/// The log lines of every list, in configured order, with access keys taken out.
pub fn render(lists: &[List], outcomes: &[Outcome], suspensions: &[Suspension]) -> Vec<Line> {
    let mut out = Vec::new();
    for (index, (list, outcome)) in lists.iter().zip(outcomes).enumerate() {
        let first = out.len();
        render_list(index, list, outcome, suspensions, &mut out);
        for line in &mut out[first..] {
            list.redact(&mut line.text);
        }
    }
    out
}

/// The log lines of one list.
fn render_list(
    index: usize,
    list: &List,
    outcome: &Outcome,
    suspensions: &[Suspension],
    out: &mut Vec<Line>,
) {
    let label = list.label();
    let asked = match outcome {
        Outcome::Skipped(reason) => {
            out.push(lines::skipped(&label, reason));
            return;
        }
        Outcome::Asked(asked) => asked,
    };
    let query = asked.target.name.as_str();
    if asked.status == Status::Suspended {
        out.push(lines::skipped(&label, "its zone is suspended"));
        return;
    }
    out.push(lines::connecting(&label));
    out.extend((0..asked.retries).map(|_| lines::retrying(&label)));
    match &asked.status {
        Status::Unreachable => out.push(lines::failed_to_connect(&label)),
        Status::Failed(e) => out.push(lines::server_error(&label, query, &quote(e))),
        Status::ErrorCode(code) => {
            out.push(lines::reply(&label));
            out.push(lines::error_code(&label, query, &code.to_string()));
        }
        Status::Listed(_) | Status::NotListed { .. } => {
            out.push(lines::reply(&label));
            out.extend(answer_lines(&label, query, asked));
        }
        Status::Suspended => {}
    }
    if let Some(s) = suspensions.iter().find(|s| s.index == index) {
        out.push(lines::suspending(&s.zone, s.seconds));
    }
}

/// The lines after a reply that is not an error code: self-test, ignored codes, C01/C19.
fn answer_lines(label: &str, query: &str, asked: &Asked) -> Vec<Line> {
    match &asked.test {
        Some(SelfTest::Failed(reason)) => return vec![lines::self_test_failed(label, reason)],
        Some(SelfTest::Unknown(reason)) => {
            let mut out = vec![lines::self_test_incomplete(label, &quote(reason))];
            out.extend(listing_lines(label, query, asked));
            return out;
        }
        Some(SelfTest::Passed) | None => {}
    }
    listing_lines(label, query, asked)
}

fn listing_lines(label: &str, query: &str, asked: &Asked) -> Vec<Line> {
    let source = &asked.target.source;
    match &asked.status {
        Status::Listed(_) => {
            let mut out = Vec::new();
            if let Txt::Missing(why) = &asked.txt {
                out.push(lines::no_txt(label, query, why));
            }
            let text = match &asked.txt {
                Txt::Text(text) => text.as_str(),
                Txt::NotFetched | Txt::Missing(_) => "",
            };
            out.push(lines::found(source, label, text));
            out
        }
        Status::NotListed { ignored } if !ignored.is_empty() => {
            let codes: Vec<String> = ignored.iter().map(ToString::to_string).collect();
            vec![
                lines::ignored_codes(label, query, &codes.join(",")),
                lines::not_found(source, label),
            ]
        }
        _ => vec![lines::not_found(source, label)],
    }
}
