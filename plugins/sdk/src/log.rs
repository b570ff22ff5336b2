//! The host's anti-spam log.

use std::cell::OnceCell;

use crate::bindings::log_import::{Level, emit, verbose_enabled};

thread_local! {
    static VERBOSE: OnceCell<bool> = const { OnceCell::new() };
}

/// True when the host keeps verbose lines (asked once per instance): a check can skip building
/// verbose lines when it is false.
pub fn is_verbose() -> bool {
    VERBOSE.with(|v| *v.get_or_init(verbose_enabled))
}

/// Logs a line at the normal level.
pub fn normal(line: impl AsRef<str>) {
    emit(Level::Normal, line.as_ref());
}

/// Logs a line at the verbose level (nothing crosses to the host when verbose lines are off).
pub fn verbose(line: impl AsRef<str>) {
    if is_verbose() {
        emit(Level::Verbose, line.as_ref());
    }
}

/// `text` as it may appear in a log line: control characters (CR, LF, NUL...) shown as `?`, so
/// a hostile HELO or address cannot forge or split lines.
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
