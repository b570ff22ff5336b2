//! The antispam reference host: loads check components, runs them in the configured order
//! for each message, and logs what IMail's anti-spam engine logged.
//!
//! Layers: [`config`] (the TOML file), [`runtime`] (wasmtime: engine, components, sandbox
//! bounds, host imports), [`dns`] and [`smtp`] (the network the host does for checks),
//! [`services`] (those built from the configuration), [`domains`] (per-domain settings made
//! live), [`pipeline`] (the chain and IMail's policy), [`watch`] (reload without restart),
//! [`message`] (intake) and [`log`].

pub mod config;
pub mod corpus;
pub mod dns;
pub mod domains;
pub mod eval;
pub mod learned;
pub mod log;
pub mod message;
pub mod outcome;
pub mod pipeline;
pub mod runtime;
pub mod services;
pub mod smtp;
pub mod snapshot;
pub mod train;
pub mod watch;

/// Where the build put the bundled check components (`<name>.wasm`).
pub const PLUGIN_DIR: &str = env!("ANTISPAM_PLUGIN_DIR");
