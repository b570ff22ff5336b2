//! The log lines: IMail's seed messages (C01, C02, C17-C20) rendered exactly as the seed prints
//! them, and this check's own lines, worded so that no seed pattern matches them.
//!
//! `label` is always a list's `name:server:zone`.

/// The level a line is logged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Always logged.
    Normal,
    /// Logged when verbose logging is on.
    Verbose,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Its level.
    pub level: Level,
    /// Its text, without a newline.
    pub text: String,
}

fn normal(text: String) -> Line {
    Line {
        level: Level::Normal,
        text,
    }
}

fn verbose(text: String) -> Line {
    Line {
        level: Level::Verbose,
        text,
    }
}

/// C01: the source is listed; `text` is the list's TXT explanation (may be empty).
pub fn found(source: &str, label: &str, text: &str) -> Line {
    normal(format!(
        "BLACKLIST:{source} was found on list ({label})->{text}"
    ))
}

/// C02: the UDP query and every retry timed out, or the TCP connection failed.
pub fn failed_to_connect(label: &str) -> Line {
    normal(format!("BLACKLIST:failed to connect to service ({label})"))
}

/// C17: logged for each list that is queried (IMail prints no space before the parenthesis).
pub fn connecting(label: &str) -> Line {
    verbose(format!("BLACKLIST:connecting to service({label})"))
}

/// C18: one per UDP retry.
pub fn retrying(label: &str) -> Line {
    verbose(format!("BLACKLIST:retrying service ({label})"))
}

/// C19: the source is not listed.
pub fn not_found(source: &str, label: &str) -> Line {
    verbose(format!(
        "BLACKLIST:{source} was not found on list ({label})"
    ))
}

/// C20: the list replied (listed or not).
pub fn reply(label: &str) -> Line {
    verbose(format!("BLACKLIST:received a reply from service ({label})"))
}

/// The list does not apply to this message (missing or unusable input, or a suspended zone).
pub fn skipped(label: &str, reason: &str) -> Line {
    verbose(format!("BLACKLIST:skipping list ({label}): {reason}"))
}

/// The server answered with an error (SERVFAIL, REFUSED) or a broken reply.
pub fn server_error(label: &str, query: &str, error: &str) -> Line {
    normal(format!(
        "BLACKLIST:error from service ({label}) for {query}: {error}"
    ))
}

/// The list answered an error code, which is never a listing.
pub fn error_code(label: &str, query: &str, code: &str) -> Line {
    normal(format!(
        "BLACKLIST:service ({label}) answered {code} for {query}, an error code and not a listing"
    ))
}

/// The list failed its RFC 5782 self-test.
pub fn self_test_failed(label: &str, reason: &str) -> Line {
    normal(format!(
        "BLACKLIST:self-test of list ({label}) failed: {reason}"
    ))
}

/// A self-test query got no usable answer; the list's own answer is still used.
pub fn self_test_incomplete(label: &str, reason: &str) -> Line {
    verbose(format!(
        "BLACKLIST:self-test of list ({label}) did not complete ({reason}); its answer is used"
    ))
}

/// The zone is suspended for all messages.
pub fn suspending(zone: &str, seconds: u32) -> Line {
    normal(format!(
        "BLACKLIST:suspending zone {zone} for {seconds} seconds"
    ))
}

/// The list answered only codes its `codes`/`bitmask` do not count.
pub fn ignored_codes(label: &str, query: &str, codes: &str) -> Line {
    verbose(format!(
        "BLACKLIST:list ({label}) answered {codes} for {query}, which its codes and bitmask do not count"
    ))
}

/// The TXT record of a listing could not be fetched.
pub fn no_txt(label: &str, query: &str, error: &str) -> Line {
    verbose(format!(
        "BLACKLIST:no TXT text for {query} from list ({label}): {error}"
    ))
}
