//! What checking one message comes to: the disposition, the X-headers and subject prefix to
//! apply, what each check said (verdict, reason, time), and the message's log lines.

use std::time::Duration;

use crate::log::LogLine;

/// What happens to the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Delivered with no spam finding.
    Clean,
    /// Delivered with X-headers (or a subject prefix) marking it.
    Marked,
    /// Deleted, and why.
    Deleted(String),
}

/// The outcome of checking one message.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The anti-spam message id.
    pub message_id: String,
    /// The receiving domain.
    pub domain: String,
    /// What happens to the message.
    pub disposition: Disposition,
    /// X-headers to add, in order.
    pub headers: Vec<(String, String)>,
    /// The subject prefix to apply, if any.
    pub subject_prefix: Option<String>,
    /// Checks that errored (trap, timeout, error verdict) and lost their result.
    pub errors: usize,
    /// What each check that ran said, in the order the checks were judged (connection checks
    /// cancelled by a deletion and content checks skipped are not listed).
    pub results: Vec<CheckResult>,
    /// The message's log lines (verbose ones included, whatever the sink keeps).
    pub log: Vec<LogLine>,
}

/// What one check said about one message: the explanation the seed's log lines do not carry
/// (why a check was inconclusive, say), and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The check's display name.
    pub check: String,
    /// Its verdict.
    pub verdict: VerdictKind,
    /// Why: the finding's reason, the inconclusive reason, or the error; empty otherwise.
    pub reason: String,
    /// Wall time of the call into the component, host I/O included.
    pub elapsed: Duration,
}

/// A verdict without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    /// Found nothing.
    Pass,
    /// Failed (counted, or marking the message).
    Fail,
    /// A trusted list or rule matched.
    TrustedFail,
    /// Could not decide.
    Inconclusive,
    /// Does not apply to this message.
    NotApplicable,
    /// The check failed and lost its result (error verdict, trap, timeout).
    Error,
}

impl VerdictKind {
    /// The verdict as one word: `pass`, `fail`, `trusted-fail`, `inconclusive`,
    /// `not-applicable`, `error` (the WIT's names).
    pub fn key(self) -> &'static str {
        match self {
            VerdictKind::Pass => "pass",
            VerdictKind::Fail => "fail",
            VerdictKind::TrustedFail => "trusted-fail",
            VerdictKind::Inconclusive => "inconclusive",
            VerdictKind::NotApplicable => "not-applicable",
            VerdictKind::Error => "error",
        }
    }
}

impl std::fmt::Display for CheckResult {
    /// `name: verdict (1.2 ms)`, then `: reason` when there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = self.verdict.key();
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        write!(f, "{}: {verdict} ({ms:.1} ms)", self.check)?;
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}
