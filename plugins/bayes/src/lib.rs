//! Statistical content check: IMail's word-table filter (Paul Graham 2002) and a Robinson
//! chi-square mode. The table is loaded once in `configure`; every message is tokenized and
//! scored against it. The crate is also a native library: the host's `train` command uses its
//! tokenizers and table code.

pub mod classify;
pub mod graham;
pub mod hashed;
pub mod robinson;
pub mod settings;
pub mod table;
pub mod tokenize;

use antispam_sdk::{ContentCheck, Header, Message, Session, Verdict};

pub use classify::{Classifier, Outcome};
pub use hashed::HashedTable;
pub use settings::{Mode, Settings};
pub use table::{Counts, Table, Tokens};
pub use tokenize::{Field, MessageText};

/// The X-header added to spam.
pub const HEADER: &str = "X-IMAIL-SPAM-STATISTICS";

/// The configured check for one domain.
pub enum Bayes {
    /// `enabled = false`.
    Disabled,
    /// Enabled, with a loaded table.
    Enabled(Box<Classifier>),
}

/// A log line the check emits: verbose or normal, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Logged always.
    Normal(String),
    /// Logged when verbose logging is on.
    Verbose(String),
}

impl Bayes {
    /// Builds the check from settings and the files the host passed in.
    pub fn from_settings(settings: &antispam_sdk::Settings) -> Result<Bayes, String> {
        let s: Settings = settings.parse()?;
        s.validate()?;
        if !s.enabled {
            return Ok(Bayes::Disabled);
        }
        let path = s.table_file.as_deref().ok_or("table-file is required")?;
        let text = settings
            .text_file("table-file")
            .ok_or_else(|| format!("table file {path} was not passed in"))?;
        let table = HashedTable::parse(&text).map_err(|e| format!("{path}: {e}"))?;
        let mut exclude = s.exclude.clone();
        if let Some(path) = &s.exclude_file {
            let text = settings
                .text_file("exclude-file")
                .ok_or_else(|| format!("exclude file {path} was not passed in"))?;
            exclude.extend(text.lines().map(String::from));
        }
        Classifier::new(s, table, exclude).map(|c| Bayes::Enabled(Box::new(c)))
    }

    /// Checks one message: the log lines in order, and the verdict. Verbose lines are built
    /// only when `verbose` is true.
    pub fn run(&self, session: &Session, msg: &MessageText, verbose: bool) -> (Vec<Line>, Verdict) {
        let domain = &session.domain;
        let classifier = match self {
            Bayes::Disabled => {
                return (
                    vec![
                        Line::Verbose(format!("Statistical Filtering disabled for {domain}")),
                        Line::Verbose("statistical filtering disabled".into()),
                    ],
                    Verdict::NotApplicable,
                );
            }
            Bayes::Enabled(c) if !c.has_counts() => {
                return (
                    vec![
                        Line::Normal(format!(
                            "No good/spam email in Antispam Table for host{domain}. Statistical Filtering Disabled"
                        )),
                        Line::Verbose("statistical filtering disabled".into()),
                    ],
                    Verdict::NotApplicable,
                );
            }
            Bayes::Enabled(c) => c,
        };
        let outcome = classifier.classify(msg);
        let mut lines = Vec::new();
        if verbose {
            lines.push(Line::Verbose(format!(
                "Statistical Filtering enabled for {domain}"
            )));
            lines.push(Line::Verbose("performing statistical analysis".into()));
            lines.extend(
                outcome
                    .excluded
                    .iter()
                    .map(|w| Line::Verbose(format!("[{w}] in exclude list"))),
            );
            lines.push(Line::Verbose(
                "The following words were used to compute the probability email is spam".into(),
            ));
            lines.extend(
                outcome
                    .words()
                    .map(|(w, p)| Line::Verbose(format!("word = {w}, probability = {p:.6}"))),
            );
        }
        let p = outcome.probability;
        if outcome.spam {
            lines.push(Line::Normal(format!(
                "Probability email is spam{p:.6}:email is spam"
            )));
            let header = Header::new(HEADER, format!("({},{p:.6})", session.message_id));
            (
                lines,
                Verdict::fail(format!("statistical probability {p:.6}"), header),
            )
        } else {
            lines.push(Line::Normal(format!(
                "Probability email is spam{p:.6}: email is good"
            )));
            (lines, Verdict::Pass)
        }
    }
}

impl ContentCheck for Bayes {
    fn configure(settings: &antispam_sdk::Settings) -> Result<Self, String> {
        Bayes::from_settings(settings)
    }

    fn check(&self, session: &Session, message: &Message) -> Verdict {
        let verbose = antispam_sdk::log::is_verbose();
        let (lines, verdict) = self.run(session, &MessageText::from(message), verbose);
        for line in lines {
            match line {
                Line::Normal(text) => antispam_sdk::log::normal(text),
                Line::Verbose(text) => antispam_sdk::log::verbose(text),
            }
        }
        verdict
    }
}

antispam_sdk::content_plugin!(Bayes);

#[cfg(test)]
mod tests;
