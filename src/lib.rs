//! netpeel: take a URL through DNS, TCP, TLS and HTTP one layer at a time and name the layer
//! that failed, in plain words and in the words of Python `requests` and curl.
//!
//! The crate is split so that the engine knows nothing about terminals:
//! - [`engine`] runs the stages and returns a [`engine::ProbeOutcome`]; progress goes out as events.
//! - [`engine::verdict`] is the one table that maps every failure to a layer, a kind and the
//!   equivalents in requests/urllib3/curl.
//! - [`report`] turns an outcome into its own serde types, then into text or JSON.
//! - `cli` parses flags into engine settings, picks the output and the exit code ([`main`]).
//! - [`reuse`] is reuse mode: a keep-alive connection kept idle, then reused as requests' pool
//!   would (its wire outcome type is part of the report model).
//! - [`tui`] is the interactive dashboard: it consumes the engine's events and the report.
//!
//! The public surface is what the binary and the tests use: the engine and its types, the
//! replay policies and runner, the report model and builders, and the dashboard's app, screen
//! and replay summaries. Everything else is `pub(crate)`.

mod cli;
pub mod engine;
mod explain;
#[cfg(test)]
mod proptests;
mod redact;
pub mod replay;
pub mod report;
pub mod reuse;
mod stdio;
mod trust_env;
pub mod tui;
mod watch;

pub use cli::{main, verdict_table_markdown};
