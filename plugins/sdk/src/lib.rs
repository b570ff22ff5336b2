//! Guest-side helpers shared by every antispam check component.
//!
//! A check is a plain Rust type that implements [`ConnectionCheck`] or [`ContentCheck`] and is
//! exported with [`connection_plugin!`] or [`content_plugin!`]. The SDK generates the WIT
//! bindings for both worlds, keeps the configured check in the instance between calls, and
//! wraps the host's `log` and `dns` imports in small helpers. With the `proptest` feature,
//! the `arbitrary` module has the hostile-input strategies the checks' property tests share.

#[cfg(any(test, feature = "proptest"))]
pub mod arbitrary;
pub mod bindings;
pub mod dns;
pub mod html;
pub mod log;
pub mod net;
mod state;
pub mod text;

pub use bindings::types::{
    Finding, Header, HeaderField, IpAddress, Message, Session, Settings, Verdict,
};
#[doc(hidden)]
pub use state::{configure, with_check};

/// A connection-stage check: sees the SMTP session, may query DNS and make callouts.
pub trait ConnectionCheck: Sized + 'static {
    /// Builds the check from this domain's settings; an error rejects the configuration.
    fn configure(settings: &Settings) -> Result<Self, String>;
    /// How many of the domain's M checks this check counts for in "delete after N of M":
    /// 1 for a validation check; a black-list check counts its standard lists.
    fn counted_checks(&self) -> u32 {
        1
    }
    /// Checks one session.
    fn check(&self, session: &Session) -> Verdict;
}

/// A content-stage check: sees the parsed message, has no network.
pub trait ContentCheck: Sized + 'static {
    /// Builds the check from this domain's settings; an error rejects the configuration.
    fn configure(settings: &Settings) -> Result<Self, String>;
    /// Checks one message.
    fn check(&self, session: &Session, message: &Message) -> Verdict;
}

impl Settings {
    /// Deserializes the component's settings table into its own typed settings.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        toml::from_str(&self.toml).map_err(|e| format!("settings for {}: {e}", self.domain))
    }

    /// The contents of the file named by settings key `key`, if the configuration named one.
    pub fn file(&self, key: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.contents.as_slice())
    }

    /// The contents of the file named by `key` as text: UTF-8, or Windows-1252 for a file
    /// that is not valid UTF-8 (see [`text::decode`]).
    pub fn text_file(&self, key: &str) -> Option<String> {
        self.file(key).map(|b| text::decode(b).into_owned())
    }
}

impl Header {
    /// A header field.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl Verdict {
    /// A failure with one X-header.
    pub fn fail(reason: impl Into<String>, header: Header) -> Self {
        Verdict::Fail(Finding {
            reason: reason.into(),
            headers: vec![header],
        })
    }
}

/// Exports `$check` (a [`ConnectionCheck`]) as the component's `connection-check`.
#[macro_export]
macro_rules! connection_plugin {
    ($check:ty) => {
        #[doc(hidden)]
        pub struct __AntispamExport;

        impl $crate::bindings::connection::exports::antispam::plugin::connection_check::Guest
            for __AntispamExport
        {
            fn configure(settings: $crate::Settings) -> Result<u32, String> {
                let check = <$check as $crate::ConnectionCheck>::configure(&settings)?;
                let counted = $crate::ConnectionCheck::counted_checks(&check);
                $crate::configure(check).map(|()| counted)
            }
            fn check(session: $crate::Session) -> $crate::Verdict {
                $crate::with_check(|c: &$check| $crate::ConnectionCheck::check(c, &session))
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::connection::export_connection!(
            __AntispamExport with_types_in $crate::bindings::connection
        );
    };
}

/// Exports `$check` (a [`ContentCheck`]) as the component's `content-check`.
#[macro_export]
macro_rules! content_plugin {
    ($check:ty) => {
        #[doc(hidden)]
        pub struct __AntispamExport;

        impl $crate::bindings::content::exports::antispam::plugin::content_check::Guest
            for __AntispamExport
        {
            fn configure(settings: $crate::Settings) -> Result<(), String> {
                $crate::configure(<$check as $crate::ContentCheck>::configure(&settings)?)
            }
            fn check(session: $crate::Session, message: $crate::Message) -> $crate::Verdict {
                $crate::with_check(|c: &$check| $crate::ContentCheck::check(c, &session, &message))
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::content::export_content!(
            __AntispamExport with_types_in $crate::bindings::content
        );
    };
}
