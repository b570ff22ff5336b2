//! The antispam reference host: loads check components, runs them in the configured order
//! for each message, and logs what IMail's anti-spam engine logged.

pub mod dns;
pub mod message;
