//! Replay: run the same request again under other timeout, retry and backoff settings.
//!
//! This module is the pure part — no network, no engine:
//! - [`policy`]: the settings, the retry policies (urllib3 `Retry`, a hand-written loop, curl
//!   `--retry`, fixed delay, full jitter) as pure functions from the attempts so far to the next
//!   decision, and the mapping from netpeel's verdict kinds to urllib3's error categories;
//! - [`budget`]: how many attempts and how long the whole thing can take at worst;
//! - [`export`]: the settings as a ready-to-paste Python `requests` snippet or curl command line;
//! - [`run`]: the one impure part, running the attempts and sleeping between them.

pub mod budget;
pub mod export;
pub mod policy;
pub mod run;
pub mod whatif;
