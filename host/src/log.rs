//! The anti-spam log: lines tagged with the message id and the receiving domain, rendered with
//! a stable prefix, filtered by level, and readable back by tests without the time.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::config::LogFormat;

/// The two levels of the IMail anti-spam log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Always logged.
    Normal,
    /// Logged when verbose logging is on.
    Verbose,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Normal or verbose.
    pub level: Level,
    /// The anti-spam message id, or `-` for lines about settings rather than a message.
    pub message_id: String,
    /// The receiving domain the line belongs to, or `-`.
    pub domain: String,
    /// The message text.
    pub text: String,
}

impl LogLine {
    /// A line about one message.
    pub fn new(level: Level, message_id: &str, domain: &str, text: impl Into<String>) -> Self {
        LogLine {
            level,
            message_id: message_id.to_string(),
            domain: domain.to_string(),
            text: text.into(),
        }
    }

    /// A line about a domain's settings (no message).
    pub fn admin(level: Level, domain: &str, text: impl Into<String>) -> Self {
        LogLine::new(level, "-", domain, text)
    }

    /// The line without the time: `<message-id> <domain> <text>`; what tests compare.
    pub fn render(&self) -> String {
        format!("{} {} {}", self.message_id, self.domain, self.text)
    }

    /// The line as written to the log: `<UTC time> <message-id> <domain> <text>`.
    pub fn render_at(&self, time: SystemTime) -> String {
        format!(
            "{} {}",
            humantime::format_rfc3339_seconds(time),
            self.render()
        )
    }

    /// The line as one JSON object: `time`, `level` (`normal` or `verbose`), `message_id`
    /// (`-` for lines about settings), `domain` and `text`.
    pub fn render_json_at(&self, time: SystemTime) -> String {
        let level = match self.level {
            Level::Normal => "normal",
            Level::Verbose => "verbose",
        };
        /// The fields in the order they are written.
        #[derive(serde::Serialize)]
        struct Json<'a> {
            time: String,
            level: &'a str,
            message_id: &'a str,
            domain: &'a str,
            text: &'a str,
        }
        let json = Json {
            time: humantime::format_rfc3339_seconds(time).to_string(),
            level,
            message_id: &self.message_id,
            domain: &self.domain,
            text: &self.text,
        };
        serde_json::to_string(&json).expect("a struct of strings serializes")
    }
}

type Writer = dyn Fn(&LogLine) + Send + Sync;

/// Where log lines go; cheap to clone. Verbose lines are dropped unless verbose logging is on.
#[derive(Clone)]
pub struct LogSink {
    verbose: bool,
    write: Arc<Writer>,
}

/// Lines kept by a capturing sink.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<LogLine>>>);

impl Captured {
    /// Takes the lines captured so far, rendered without the time.
    pub fn take_rendered(&self) -> Vec<String> {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.drain(..).map(|l| l.render()).collect()
    }
}

impl LogSink {
    /// Writes lines to standard output with the time, in `format`.
    pub fn stdout(verbose: bool, format: LogFormat) -> Self {
        let write: Arc<Writer> = match format {
            LogFormat::Text => {
                Arc::new(|l: &LogLine| println!("{}", l.render_at(SystemTime::now())))
            }
            LogFormat::Json => {
                Arc::new(|l: &LogLine| println!("{}", l.render_json_at(SystemTime::now())))
            }
        };
        LogSink { verbose, write }
    }

    /// Keeps lines in memory for tests.
    pub fn capture(verbose: bool) -> (Self, Captured) {
        let captured = Captured::default();
        let keep = captured.clone();
        let write = move |l: &LogLine| {
            keep.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(l.clone())
        };
        (
            LogSink {
                verbose,
                write: Arc::new(write),
            },
            captured,
        )
    }

    /// True when verbose lines are written.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// Writes one line, unless it is verbose and verbose logging is off.
    pub fn emit(&self, line: &LogLine) {
        if line.level == Level::Normal || self.verbose {
            (self.write)(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_every_field_escaped() {
        let line = LogLine::new(
            Level::Verbose,
            "00000000deadbeef",
            "example.com",
            "word = \"quoted\"\u{1}, probability = 0.99",
        );
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
        let json: serde_json::Value =
            serde_json::from_str(&line.render_json_at(time)).expect("valid JSON");
        assert_eq!(
            json,
            serde_json::json!({
                "time": "1970-01-02T00:00:00Z",
                "level": "verbose",
                "message_id": "00000000deadbeef",
                "domain": "example.com",
                "text": "word = \"quoted\"\u{1}, probability = 0.99",
            })
        );
        let admin = LogLine::admin(Level::Normal, "-", "ADMIN: x").render_json_at(time);
        assert_eq!(
            admin,
            r#"{"time":"1970-01-02T00:00:00Z","level":"normal","message_id":"-","domain":"-","text":"ADMIN: x"}"#
        );
        assert_eq!(
            line.render_at(time),
            "1970-01-02T00:00:00Z 00000000deadbeef example.com word = \"quoted\"\u{1}, probability = 0.99"
        );
    }
}
