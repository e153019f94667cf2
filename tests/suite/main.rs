//! netpeel's integration suite: one test binary, real misbehaving servers on loopback
//! (tests/testkit), netpeel run as a user runs it (the binary, `--json`), every JSON output
//! checked against assets/report.schema.json.
//!
//! Network rule: only 127.0.0.0/8 and [::1]; names resolve through /etc/hosts (`localhost`),
//! `--resolve`, or `--dns` pointed at the test DNS server. Never the machine's resolver.

// A test binary has no public surface, and scenario tables read best whole.
#![allow(unreachable_pub, clippy::too_many_lines)]

mod common;

mod addresses;
mod cli;
mod client_cert;
mod differential;
mod dns;
mod events;
mod explain;
mod export;
mod hostile;
mod http;
mod http2;
mod proxy;
mod proxy_select;
mod redirect;
mod replay;
mod retry_policy;
mod reuse;
mod schema;
mod tcp;
mod tls;
mod trust;
mod tui;
mod tui_e2e;
mod watch;
