//! What checking one message comes to: the disposition, the X-headers and subject prefix to
//! apply, what each check said (verdict, reason, time), and the message's log lines.

use std::borrow::Cow;
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

impl Outcome {
    /// The X-headers as header fields ready to write into the message (`Name: value`, no final
    /// line end). A value that is not all ASCII (a matched phrase written in another script, say)
    /// is written as RFC 2047 encoded words, which every mail reader decodes, because a message
    /// carried without SMTPUTF8 (RFC 6532) may hold only ASCII in its header; a host whose
    /// transport has SMTPUTF8 may write `headers` as they are.
    pub fn header_fields(&self) -> Vec<String> {
        (self.headers.iter())
            .map(|(name, value)| match header_text(value) {
                Cow::Borrowed(value) => format!("{name}: {value}"),
                // Encoded words start on a line of their own, so every line stays within 78
                // characters whatever the name's length.
                Cow::Owned(words) => format!("{name}:\r\n {words}"),
            })
            .collect()
    }

    /// The Subject field's value with the subject prefix applied, given the value as the
    /// message has it (encoded words and all), or `None` without a prefix. A prefix that is
    /// not ASCII is written as encoded words, like [`Outcome::header_fields`].
    pub fn prefixed_subject(&self, subject: &str) -> Option<String> {
        let prefix = header_text(self.subject_prefix.as_deref()?);
        let subject = subject.trim_start();
        Some(if subject.is_empty() {
            prefix.into_owned()
        } else {
            format!("{prefix} {subject}")
        })
    }
}

/// `text` as unstructured header text: as it is when it is ASCII (without control
/// characters), otherwise as RFC 2047 encoded words (`=?UTF-8?B?...?=`, base64 of whole
/// characters, each word at most 75 characters long), folded onto continuation lines.
pub fn header_text(text: &str) -> Cow<'_, str> {
    use base64::Engine;
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return text.into();
    }
    // 45 bytes make 60 base64 characters: with `=?UTF-8?B?` and `?=`, a 72-character word.
    const CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (chunk, after) = rest.split_at(end);
        let encoded = base64::engine::general_purpose::STANDARD.encode(chunk);
        words.push(format!("=?UTF-8?B?{encoded}?="));
        rest = after;
    }
    words.join("\r\n ").into()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(headers: &[(&str, &str)], prefix: Option<&str>) -> Outcome {
        Outcome {
            message_id: "00000000deadbeef".into(),
            domain: "example.com".into(),
            disposition: Disposition::Marked,
            headers: (headers.iter())
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            subject_prefix: prefix.map(str::to_string),
            errors: 0,
            results: Vec::new(),
            log: Vec::new(),
        }
    }

    #[test]
    fn header_fields_are_ascii_and_decode_to_the_values() {
        let phrase = "(00000000deadbeef,Gewinnspiel für Sie)";
        let long = format!("(00000000deadbeef,{})", "Выигрыш ".repeat(12));
        let o = outcome(
            &[
                ("X-IMAIL-SPAM-STATISTICS", "(00000000deadbeef,0.999915)"),
                ("X-IMAIL-SPAM-PHRASE", phrase),
                ("X-IMAIL-SPAM-PHRASE", &long),
            ],
            None,
        );
        let fields = o.header_fields();
        assert_eq!(
            fields[0], "X-IMAIL-SPAM-STATISTICS: (00000000deadbeef,0.999915)",
            "ASCII as it is"
        );
        for (field, value) in fields[1..].iter().zip([phrase, long.as_str()]) {
            assert!(field.is_ascii(), "{field}");
            assert!(
                field.split("\r\n").all(|line| line.len() <= 78),
                "lines fit: {field}"
            );
            // The same text as a Subject, which a mail reader decodes.
            let (_, text) = field.split_once(':').unwrap();
            let raw = format!("Subject:{text}\r\n\r\nbody\r\n");
            let parsed = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            assert_eq!(parsed.subject(), Some(value));
        }
    }

    #[test]
    fn the_subject_prefix_goes_before_the_subject_as_the_message_has_it() {
        let o = outcome(&[], Some("X-IMail-SPAM-Connection"));
        assert_eq!(
            o.prefixed_subject(" =?UTF-8?Q?caf=C3=A9?= offer")
                .as_deref(),
            Some("X-IMail-SPAM-Connection =?UTF-8?Q?caf=C3=A9?= offer")
        );
        assert_eq!(
            o.prefixed_subject("").as_deref(),
            Some("X-IMail-SPAM-Connection")
        );
        let o = outcome(&[], Some("[Verdächtig]"));
        assert_eq!(
            o.prefixed_subject("hello").as_deref(),
            Some("=?UTF-8?B?W1ZlcmTDpGNodGlnXQ==?= hello")
        );
        assert_eq!(outcome(&[], None).prefixed_subject("hello"), None);
    }
}
