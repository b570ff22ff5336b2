//! Test servers and scenario helpers for antispam snapshot tests.
