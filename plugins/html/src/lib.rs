//! IMail's HTML feature filter: a message is spam when its HTML parts show at least `count`
//! of the selected features (Invalid Tag, Nested Table, Image Tag, Deceptive URL, Hyperlink,
//! Mailto Hyperlink, Script Tag, Embedded Comment, and ours: Hidden Text, Data URI,
//! Zero-Width Character). There are no weights: each feature counts once, however often it
//! occurs.

mod domain;
mod features;

use antispam_sdk::bindings::log_import::{Level, emit};
use antispam_sdk::{ContentCheck, Header, Message, Session, Settings, Verdict};
use serde::Deserialize;

pub use features::{Feature, Findings, detect};

/// The longest evidence (tag, comment, URL) quoted in a log line, in characters.
const MAX_EVIDENCE: usize = 255;

/// The settings table of the `html` check.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Config {
    #[serde(default = "default_enabled")]
    enabled: bool,
    features: Option<Vec<Feature>>,
    #[serde(default = "default_count")]
    count: u32,
    #[serde(default = "default_header")]
    header: String,
    #[serde(default)]
    extra_valid_tags: Vec<String>,
}

fn default_enabled() -> bool {
    true
}

fn default_count() -> u32 {
    1
}

fn default_header() -> String {
    "X-IMAIL-SPAM-HTML-FEATURES".to_string()
}

/// What the filter does for this domain.
#[derive(Debug)]
enum Mode {
    /// `enabled = false`.
    Disabled,
    /// The settings name no features at all (IMail: no content filtering host information).
    NoHostInformation,
    /// `features = []`: feature filtering is off.
    NoFeatures,
    /// Spam when at least `count` of `selected` are found.
    Active {
        selected: Vec<Feature>,
        count: usize,
    },
}

/// The configured HTML feature filter of one domain.
#[derive(Debug)]
pub struct HtmlFilter {
    mode: Mode,
    header: String,
    extra_valid_tags: Vec<String>,
}

/// What one check produced: its log lines, in order, and its verdict.
#[derive(Debug)]
pub struct Outcome {
    /// Log lines with their levels.
    pub lines: Vec<(Level, String)>,
    /// The verdict.
    pub verdict: Verdict,
}

impl HtmlFilter {
    /// Builds the filter; rejects a count of 0 and a count larger than the number of selected
    /// features (the settings parser already rejects unknown keys and feature names).
    fn from_config(config: Config) -> Result<Self, String> {
        if config.count == 0 {
            return Err("html: count must be at least 1".into());
        }
        let mode = match (config.enabled, config.features) {
            (false, _) => Mode::Disabled,
            (true, None) => Mode::NoHostInformation,
            (true, Some(f)) if f.is_empty() => Mode::NoFeatures,
            (true, Some(mut selected)) => {
                selected.sort();
                selected.dedup();
                let count = config.count as usize;
                if count > selected.len() {
                    return Err(format!(
                        "html: count {count} exceeds the {} selected features",
                        selected.len()
                    ));
                }
                Mode::Active { selected, count }
            }
        };
        let extra_valid_tags = config
            .extra_valid_tags
            .iter()
            .map(|t| t.to_ascii_lowercase());
        Ok(HtmlFilter {
            mode,
            header: config.header,
            extra_valid_tags: extra_valid_tags.collect(),
        })
    }

    /// Checks the HTML parts of one message for `domain`.
    pub fn evaluate(&self, domain: &str, message_id: &str, html: &[String]) -> Outcome {
        let mut lines = Vec::new();
        let verdict = match &self.mode {
            Mode::Disabled => {
                lines.push((
                    Level::Verbose,
                    format!("HTML filtering is disabled for [{domain}]"),
                ));
                Verdict::NotApplicable
            }
            Mode::NoHostInformation => {
                let line = "No Content Filtering Host information for the HTML Filter";
                lines.push((Level::Normal, line.to_string()));
                Verdict::NotApplicable
            }
            Mode::NoFeatures => Verdict::NotApplicable,
            Mode::Active { .. } if html.is_empty() => Verdict::Pass,
            Mode::Active { selected, count } => {
                let findings = detect(html, &self.extra_valid_tags);
                self.judge(selected, *count, &findings, message_id, &mut lines)
            }
        };
        Outcome { lines, verdict }
    }

    /// Logs each selected feature found and decides.
    fn judge(
        &self,
        selected: &[Feature],
        count: usize,
        findings: &Findings,
        message_id: &str,
        lines: &mut Vec<(Level, String)>,
    ) -> Verdict {
        let mut matched = Vec::new();
        for &feature in selected {
            if let Some(evidence) = findings.get(feature) {
                let name = log_name(feature);
                let line = format!("Matched {name} feature [{}]", clip(evidence));
                lines.push((Level::Verbose, line));
                matched.push(feature);
            }
        }
        if matched.len() < count {
            return Verdict::Pass;
        }
        let names: Vec<&str> = matched.iter().map(|f| f.name()).collect();
        let reason = format!("matched HTML features [{}]", names.join(", "));
        lines.push((Level::Normal, reason.clone()));
        let keys: Vec<&str> = matched.iter().map(|f| f.key()).collect();
        let value = format!("({message_id},{})", keys.join(","));
        Verdict::fail(reason, Header::new(self.header.clone(), value))
    }
}

/// The feature name in the `Matched … feature` lines. The seed has no line of its own for a
/// Mailto Hyperlink, so it is logged as a Hyperlink (with the `mailto:` anchor as evidence).
fn log_name(feature: Feature) -> &'static str {
    match feature {
        Feature::MailtoHyperlink => Feature::Hyperlink.name(),
        other => other.name(),
    }
}

/// Evidence fit for one log line: control characters (line breaks) become spaces, and at most
/// [`MAX_EVIDENCE`] characters are kept.
fn clip(evidence: &str) -> String {
    evidence
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_EVIDENCE)
        .collect()
}

impl ContentCheck for HtmlFilter {
    fn configure(settings: &Settings) -> Result<Self, String> {
        Self::from_config(settings.parse()?)
    }

    fn check(&self, session: &Session, message: &Message) -> Verdict {
        let outcome = self.evaluate(&session.domain, &session.message_id, &message.html);
        for (level, line) in &outcome.lines {
            emit(*level, line);
        }
        outcome.verdict
    }
}

#[cfg(test)]
mod tests;

antispam_sdk::content_plugin!(HtmlFilter);
