//! The host's anti-spam log.

use crate::bindings::log_import::{Level, emit};

/// Logs a line at the normal level.
pub fn normal(line: impl AsRef<str>) {
    emit(Level::Normal, line.as_ref());
}

/// Logs a line at the verbose level.
pub fn verbose(line: impl AsRef<str>) {
    emit(Level::Verbose, line.as_ref());
}

/// `text` as it may appear in a log line: control characters (CR, LF, NUL...) shown as `?`, so
/// a hostile HELO or address cannot forge or split lines.
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
