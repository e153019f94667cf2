//! Reuse mode (`--reuse-after`, `--idle-sweep`) against keep-alive servers that give up on idle
//! connections in each way the wire allows: FIN, RST, silence, the race; and one announcing
//! `Keep-Alive: timeout=N`. Every gap is short (≤ 3 s) and the servers are on 127.0.0.1.

use std::time::Duration;

use serde_json::Value;
use testkit::keepalive::{IdleEnd, KeepAliveServer};

use crate::common;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `netpeel --json --read-timeout 1 --reuse-after GAPS URL …`, schema-checked.
async fn reuse(server: &KeepAliveServer, gaps: &str, extra: &[&str]) -> (Value, i32) {
    let url = server.url();
    let mut args = vec!["--read-timeout", "1", "--reuse-after", gaps];
    args.extend_from_slice(extra);
    args.push(&url);
    common::probe(&args).await
}

/// The gap objects of a reuse document.
fn gaps(doc: &Value) -> &Vec<Value> {
    doc["reuse"]["gaps"]
        .as_array()
        .unwrap_or_else(|| panic!("no reuse.gaps in {doc:#}"))
}

#[tokio::test]
async fn a_fin_during_the_gap_is_seen_with_its_time_and_requests_reconnects() {
    let server = KeepAliveServer::start(IdleEnd::Fin(ms(600))).await;
    let (doc, code) = reuse(&server, "0.2,1.5", &[]).await;
    let g = gaps(&doc);
    assert_eq!(g[0]["wire"], "open", "{doc:#}");
    assert_eq!(g[0]["second_request"]["reused_connection"], true);
    assert_eq!(g[1]["wire"], "fin", "{doc:#}");
    let after = g[1]["closed_after_s"].as_f64().unwrap_or(-1.0);
    assert!((after - 0.6).abs() < 0.2, "closed after {after} s: {doc:#}");
    assert!(g[1]["requests_exception"].is_null());
    assert_eq!(g[1]["second_request"]["reused_connection"], false);
    assert_eq!(g[1]["second_request"]["status"], 200);
    assert_eq!(doc["reuse"]["close_kind"], "fin");
    assert_eq!(code, 0, "{doc:#}");
}
