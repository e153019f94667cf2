//! Replay: run the same request again under other timeout, retry and backoff settings.
//!
//! This module is the pure part — no network, no engine:
//! - [`settings`]: what a replay can vary, and the one check of a typed setting (command line
//!   and dashboard alike);
//! - [`policy`]: the retry policies (urllib3 `Retry`, a hand-written loop, curl `--retry`, fixed
//!   delay, full jitter) as pure functions from the attempts so far to the next decision;
//! - [`attempt`]: how one attempt ended, in urllib3's error categories;
//! - [`classify`]: netpeel's verdict kinds mapped to those categories;
//! - [`http_date`]: the HTTP-date parser a date-valued `Retry-After` needs;
//! - [`budget`]: how many attempts and how long the whole thing can take at worst;
//! - [`export`]: the settings as a ready-to-paste Python `requests` snippet or curl command line,
//!   with the request itself from [`export_request`] (secrets read from environment variables);
//! - [`whatif`]: which other timeouts would have failed the attempts so far;
//! - [`run`]: the one impure part, running the attempts and sleeping between them.

pub mod attempt;
pub mod budget;
pub mod classify;
pub mod export;
pub mod export_request;
pub mod http_date;
pub mod policy;
pub mod run;
pub mod settings;
pub mod whatif;
