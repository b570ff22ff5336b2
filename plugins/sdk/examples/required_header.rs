//! The smallest useful content check, as a template for your own: a message without a
//! configured header field (by default `Message-ID`) fails, with one X-header and a log line.
//!
//! Build it as a component and name the file in the configuration:
//!
//! ```sh
//! cargo build --release -p antispam-sdk --example required_header --target wasm32-wasip2
//! # target/wasm32-wasip2/release/examples/required_header.wasm
//! ```
//!
//! ```toml
//! [[domain.check]]
//! component = "target/wasm32-wasip2/release/examples/required_header.wasm"
//! settings = { field = "Date" }
//! ```

use antispam_sdk::{ContentCheck, Header, Message, Session, Settings, Verdict, log};
use serde::Deserialize;

/// The settings, as the domain's `settings` table gives them (unknown keys are errors).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Options {
    /// The header field every message must carry.
    #[serde(default = "message_id")]
    field: String,
}

fn message_id() -> String {
    "Message-ID".into()
}

/// The configured check: built once per domain, then called once per message.
struct RequiredHeader {
    field: String,
}

impl ContentCheck for RequiredHeader {
    fn configure(settings: &Settings) -> Result<Self, String> {
        let options: Options = settings.parse()?;
        if options.field.is_empty() || options.field.contains([':', ' ']) {
            return Err(format!(
                "field {:?} is not a header field name",
                options.field
            ));
        }
        Ok(RequiredHeader {
            field: options.field,
        })
    }

    fn check(&self, session: &Session, message: &Message) -> Verdict {
        let present = message
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(&self.field));
        if present {
            return Verdict::Pass;
        }
        let reason = format!("no {} field", self.field);
        log::normal(format!("required header: {reason}"));
        let value = format!("({},{})", session.message_id, self.field);
        Verdict::fail(reason, Header::new("X-Antispam-Required-Header", value))
    }
}

antispam_sdk::content_plugin!(RequiredHeader);
