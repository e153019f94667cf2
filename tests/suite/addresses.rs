//! `--all-addresses`: a name with three A records, one of them a dead backend.

use std::net::{IpAddr, Ipv4Addr};

use testkit::addrs::free_port_on_all;
use testkit::dns::{DnsAnswer, DnsServer};
use testkit::http::{Behavior, HttpServer};

use crate::common::{netpeel, probe};

#[tokio::test(flavor = "multi_thread")]
async fn one_dead_backend_behind_round_robin_dns_is_visible() {
    let ips: Vec<IpAddr> = (1..=3)
        .map(|n| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .collect();
    let port = free_port_on_all(&ips);
    // 127.0.0.1 and 127.0.0.3 answer; 127.0.0.2 refuses.
    let _a = HttpServer::start_on(ips[0], port, Behavior::ok("a")).await;
    let _c = HttpServer::start_on(ips[2], port, Behavior::ok("c")).await;
    let dns = DnsServer::start(vec![(
        "shop.test",
        DnsAnswer::Records {
            cname_chain: vec![],
            a: vec![
                Ipv4Addr::new(127, 0, 0, 1),
                Ipv4Addr::new(127, 0, 0, 2),
                Ipv4Addr::new(127, 0, 0, 3),
            ],
            aaaa: vec![],
            ttl: 30,
        },
    )])
    .await;
    let url = format!("http://shop.test:{port}/");
    let (doc, code) = probe(&[
        "--dns",
        &dns.addr.to_string(),
        "-4",
        "--all-addresses",
        &url,
    ])
    .await;
    // The probe itself went to the first address and worked.
    assert_eq!(code, 0, "{doc:#}");
    let rows = doc["addresses"].as_array().cloned().unwrap_or_default();
    let results: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap_or("").to_string(),
                r["kind"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| r["status"].to_string()),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("127.0.0.1".to_string(), "200".to_string()),
            ("127.0.0.2".to_string(), "connection_refused".to_string()),
            ("127.0.0.3".to_string(), "200".to_string()),
        ]
    );
    let notes = doc["verdict"]["notes"].to_string();
    assert!(
        notes.contains("1 of 3 addresses fail: 127.0.0.2 (connection_refused)"),
        "{notes}"
    );
    let text = netpeel(&[
        "--dns",
        &dns.addr.to_string(),
        "-4",
        "--all-addresses",
        &url,
    ])
    .await;
    assert!(text.stdout.contains("EVERY ADDRESS"), "{}", text.stdout);
    for line in text.stdout.lines() {
        assert!(line.chars().count() <= 80, "{line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_flag_there_is_no_table() {
    let web = HttpServer::start(Behavior::ok("x")).await;
    let (doc, _) = probe(&[&web.url()]).await;
    assert_eq!(doc["addresses"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn both_families_get_the_happy_eyeballs_note() {
    let web = HttpServer::start(Behavior::ok("x")).await;
    let port = web.addr.port();
    let pin = format!("dual.test:{port}:127.0.0.1,::1");
    let (doc, code) = probe(&["--resolve", &pin, &format!("http://dual.test:{port}/")]).await;
    assert_eq!(code, 0, "{doc:#}");
    let notes = doc["verdict"]["notes"].to_string();
    assert!(
        notes.contains("happy eyeballs") && notes.contains("1 IPv4, 1 IPv6"),
        "{notes}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rows_share_the_max_time_deadline() {
    let web = HttpServer::start(Behavior::StallBeforeResponse).await;
    let port = web.addr.port();
    let pin = format!("stall.test:{port}:127.0.0.1,127.0.0.1");
    let started = std::time::Instant::now();
    let (doc, code) = probe(&[
        "-m",
        "1",
        "--all-addresses",
        "--resolve",
        &pin,
        &format!("http://stall.test:{port}/"),
    ])
    .await;
    assert_eq!(doc["verdict"]["kind"], "total_timeout", "{doc:#}");
    assert_eq!(code, 8);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_answer_is_probed_a_few_at_a_time_and_the_rest_counted() {
    // 40 loopback addresses pinned for one host; nothing listens on port 9, so every connect is
    // refused at once: the test is about how many rows are kept, not about waiting.
    let addrs: Vec<String> = (1..=40).map(|i| format!("127.0.0.{i}")).collect();
    let pin = format!("many.test:9:{}", addrs.join(","));
    let (doc, _code) = probe(&["--all-addresses", "--resolve", &pin, "http://many.test:9/"]).await;
    let rows = doc["addresses"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 32, "{doc:#}");
    // In DNS order.
    assert_eq!(rows[0]["address"], "127.0.0.1");
    assert_eq!(rows[31]["address"], "127.0.0.32");
    let notes = doc["verdict"]["notes"].to_string();
    assert!(
        notes.contains(
            "The name resolved to 40 addresses; the first 32 were probed on their own, 8 were left out."
        ),
        "{notes}"
    );
}
