//! IMail's phrase filter and URL Domain Black List, one content check.
//!
//! The phrase filter marks a message as spam when its subject and/or body text holds at least
//! one complete phrase of the list; the URL list does so when a link in the body points into a
//! listed domain. The body text is the plain text plus the visible text of every HTML part,
//! so a domain in the phrase list matches `visit spam.com` but not the link
//! `<a href="http://spam.com/">here</a>` (links are the URL list's business).

mod phrases;
mod urls;

use antispam_sdk::bindings::log_import::{Level, emit};
use antispam_sdk::html::{Document, scan};
use antispam_sdk::{ContentCheck, Header, Message, Session, Settings, Verdict, log};
use serde::Deserialize;

pub use phrases::PhraseList;
pub use urls::{DomainList, hosts_in_text, link_hosts};

/// The settings table of the `phrase` check.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Config {
    #[serde(default = "default_enabled")]
    enabled: bool,
    phrases_file: Option<String>,
    phrases: Option<Vec<String>>,
    #[serde(default)]
    scan: Scan,
    #[serde(default)]
    normalize_words: bool,
    url_domains_file: Option<String>,
    url_domains: Option<Vec<String>>,
    #[serde(default = "default_header")]
    header: String,
    #[serde(default = "default_url_header")]
    url_header: String,
}

fn default_enabled() -> bool {
    true
}

fn default_header() -> String {
    "X-IMAIL-SPAM-PHRASE".to_string()
}

fn default_url_header() -> String {
    "X-IMAIL-SPAM-URL-DBL".to_string()
}

/// Which parts of the message the phrase filter searches.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Scan {
    Subject,
    Body,
    #[default]
    Both,
}

/// What the check does for this domain.
#[derive(Debug)]
enum Mode {
    /// The settings name no phrase list and no URL list (IMail: no host information).
    NoHostInformation,
    /// `enabled = false`.
    Disabled,
    /// Search with whichever lists have entries.
    Active {
        phrases: Option<PhraseList>,
        domains: Option<DomainList>,
    },
}

/// The configured phrase and URL-domain filter of one domain.
#[derive(Debug)]
pub struct PhraseFilter {
    mode: Mode,
    scan: Scan,
    header: String,
    url_header: String,
}

/// What one check produced: its log lines, in order, and its verdict.
#[derive(Debug)]
pub struct Outcome {
    /// Log lines with their levels.
    pub lines: Vec<(Level, String)>,
    /// The verdict.
    pub verdict: Verdict,
}

impl PhraseFilter {
    /// Builds the filter, compiling the lists once. `phrases-file` and `url-domains-file`
    /// hold one entry a line; blank lines and lines starting with `#` are skipped.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let config: Config = settings.parse()?;
        let has_lists = config.phrases_file.is_some()
            || config.phrases.is_some()
            || config.url_domains_file.is_some()
            || config.url_domains.is_some();
        let mode = if !has_lists {
            Mode::NoHostInformation
        } else if !config.enabled {
            Mode::Disabled
        } else {
            let phrase_file = list_file(settings, "phrases-file", &config.phrases_file)?;
            let phrase_lines = config.phrases.iter().flatten().map(String::as_str);
            let phrases = PhraseList::new(
                phrase_lines.chain(entries(&phrase_file)),
                config.normalize_words,
            )?;
            let domain_file = list_file(settings, "url-domains-file", &config.url_domains_file)?;
            let domain_lines = config.url_domains.iter().flatten().map(String::as_str);
            let domains = DomainList::new(domain_lines.chain(entries(&domain_file)))?;
            Mode::Active { phrases, domains }
        };
        Ok(PhraseFilter {
            mode,
            scan: config.scan,
            header: config.header,
            url_header: config.url_header,
        })
    }

    /// True when the lists were loaded (the filter is enabled and has host information).
    pub fn initialized(&self) -> bool {
        matches!(self.mode, Mode::Active { .. })
    }

    /// Checks one message for `domain`.
    pub fn evaluate(&self, domain: &str, message_id: &str, message: &Message) -> Outcome {
        let mut lines = Vec::new();
        let verdict = match &self.mode {
            Mode::NoHostInformation => {
                let line = "No Content Filtering Host Information for the Phrase Filter";
                lines.push((Level::Normal, line.to_string()));
                Verdict::NotApplicable
            }
            Mode::Disabled => {
                lines.push((
                    Level::Verbose,
                    format!("Phrase Filtering disabled for {domain}"),
                ));
                lines.push((Level::Verbose, NOTHING_TO_MATCH.to_string()));
                Verdict::NotApplicable
            }
            Mode::Active { phrases, domains } => {
                lines.push((
                    Level::Verbose,
                    format!("Phrase Filtering enabled for{domain}"),
                ));
                let html: Vec<Document<'_>> = message.html.iter().map(|h| scan(h)).collect();
                let found = self
                    .search_phrases(phrases.as_ref(), message, &html, message_id, &mut lines)
                    .or_else(|| {
                        self.search_urls(domains.as_ref(), message, &html, message_id, &mut lines)
                    });
                match found {
                    Some(verdict) => verdict,
                    None if phrases.is_none() && domains.is_none() => Verdict::NotApplicable,
                    None => Verdict::Pass,
                }
            }
        };
        Outcome { lines, verdict }
    }

    fn search_phrases(
        &self,
        phrases: Option<&PhraseList>,
        message: &Message,
        html: &[Document<'_>],
        message_id: &str,
        lines: &mut Vec<(Level, String)>,
    ) -> Option<Verdict> {
        let Some(phrases) = phrases else {
            lines.push((Level::Verbose, NOTHING_TO_MATCH.to_string()));
            return None;
        };
        lines.push((Level::Verbose, "searching for phrases".to_string()));
        let subject = (self.scan != Scan::Body).then_some(message.subject.as_str());
        let body = (self.scan != Scan::Subject).then_some(message.text.as_str());
        let html_text = html
            .iter()
            .filter(|_| self.scan != Scan::Subject)
            .map(|d| d.text.as_str());
        let phrase = subject
            .into_iter()
            .chain(body)
            .chain(html_text)
            .find_map(|t| phrases.find(t))?;
        let reason = format!("matched phrase[{phrase}]");
        lines.push((Level::Normal, reason.clone()));
        Some(Verdict::fail(
            reason,
            Header::new(&self.header, format!("({message_id},{phrase})")),
        ))
    }

    fn search_urls(
        &self,
        domains: Option<&DomainList>,
        message: &Message,
        html: &[Document<'_>],
        message_id: &str,
        lines: &mut Vec<(Level, String)>,
    ) -> Option<Verdict> {
        let domains = domains?;
        let hosts = link_hosts(&message.text, html);
        let entry = hosts.iter().find_map(|host| domains.find(host))?;
        let reason = format!("matched URL domain[{entry}]");
        lines.push((Level::Normal, reason.clone()));
        Some(Verdict::fail(
            reason,
            Header::new(&self.url_header, format!("({message_id},{entry})")),
        ))
    }
}

/// T17: logged when the filter is disabled or the phrase list is empty.
const NOTHING_TO_MATCH: &str = "Phrase filtering is disabled or there are no phrases to match";

/// The text of the list file named by `key`, when the settings name one.
fn list_file(settings: &Settings, key: &str, path: &Option<String>) -> Result<String, String> {
    match path {
        None => Ok(String::new()),
        Some(path) => settings
            .text_file(key)
            .ok_or_else(|| format!("{key}: the host passed no contents for {path}")),
    }
}

/// The entries of a list file: trimmed lines, without blank lines and `#` comments.
fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

impl ContentCheck for PhraseFilter {
    fn configure(settings: &Settings) -> Result<Self, String> {
        let filter = Self::from_settings(settings)?;
        if filter.initialized() {
            log::verbose(format!(
                "Phrase Filtering initialized for {}",
                settings.domain
            ));
        }
        Ok(filter)
    }

    fn check(&self, session: &Session, message: &Message) -> Verdict {
        let outcome = self.evaluate(&session.domain, &session.message_id, message);
        for (level, line) in &outcome.lines {
            emit(*level, line);
        }
        outcome.verdict
    }
}

#[cfg(test)]
mod tests;

antispam_sdk::content_plugin!(PhraseFilter);
