//! DNS stage against the test DNS server: rcodes, silence, CNAME chains, a missing family,
//! TCP fallback, IP literals and `--resolve`.

use std::net::{Ipv4Addr, Ipv6Addr};

use testkit::dns::{DnsAnswer, DnsOptions, DnsServer};
use testkit::http::{Behavior, HttpServer};

use crate::common::{assert_failure, probe, stage, status};

const CONN: &str = "requests.exceptions.ConnectionError";

fn zone_with_loopback(ttl: u32) -> DnsAnswer {
    DnsAnswer::Records {
        cname_chain: vec![],
        a: vec![Ipv4Addr::LOCALHOST],
        aaaa: vec![],
        ttl,
    }
}

async fn dns_failure(name: &str, answer: DnsAnswer, extra: &[&str]) -> (serde_json::Value, i32) {
    let server = DnsServer::start(vec![(name, answer)]).await;
    let dns = server.addr.to_string();
    let url = format!("http://{name}:9/");
    let mut args = vec!["--dns", dns.as_str(), "--dns-timeout", "1"];
    args.extend_from_slice(extra);
    args.push(&url);
    probe(&args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn nxdomain() {
    let (doc, code) = dns_failure("gone.test", DnsAnswer::NxDomain, &[]).await;
    assert_failure(&doc, code, "dns", "nxdomain", CONN, 4);
    assert_eq!(
        doc["verdict"]["urllib3_cause"],
        "urllib3.exceptions.NameResolutionError"
    );
    assert_eq!(doc["verdict"]["curl_exit"], 6);
    let detail = &stage(&doc, "dns")["detail"];
    assert_eq!(detail["source"], "servers");
    assert_eq!(detail["servers_from"], "--dns");
    assert!(
        detail["queries"]
            .as_array()
            .is_some_and(|q| q.iter().all(|q| q["status"] == "nxdomain"))
    );
    assert!(
        doc["verdict"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("gone.test") && s.contains("NXDOMAIN"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn servfail() {
    let (doc, code) = dns_failure("broken.test", DnsAnswer::ServFail, &[]).await;
    assert_failure(&doc, code, "dns", "servfail", CONN, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused() {
    let (doc, code) = dns_failure("private.test", DnsAnswer::Refused, &[]).await;
    assert_failure(&doc, code, "dns", "dns_refused", CONN, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn silence_is_a_dns_timeout_bounded_by_the_flag() {
    let started = std::time::Instant::now();
    let (doc, code) = dns_failure("silent.test", DnsAnswer::Silent, &[]).await;
    assert_failure(&doc, code, "dns", "dns_timeout", CONN, 4);
    assert_eq!(doc["verdict"]["governing_timeout"], "dns");
    let elapsed = stage(&doc, "dns")["elapsed_ms"]
        .as_f64()
        .unwrap_or(f64::MAX);
    assert!(
        (900.0..3000.0).contains(&elapsed),
        "dns stage took {elapsed} ms with --dns-timeout 1"
    );
    assert!(started.elapsed().as_secs() < 10);
    // curl's connect timeout (10 s) is the longer: its resolver gives up first, exit 6.
    assert_eq!(doc["verdict"]["curl_exit"], 6);
    assert!(
        doc["verdict"]["notes"].as_array().is_some_and(|n| n
            .iter()
            .any(|n| n.as_str().is_some_and(|s| s.contains("no DNS timeout")))),
        "the report says requests has no DNS timeout"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_dns_server_times_out() {
    // A closed UDP port on loopback: the query goes nowhere (hickory sees a timeout).
    let closed = testkit::tcp::refused_addr().to_string();
    let (doc, code) = probe(&[
        "--dns",
        &closed,
        "--dns-timeout",
        "0.5",
        "http://nobody.test/",
    ])
    .await;
    assert_failure(&doc, code, "dns", "dns_timeout", CONN, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn nodata_when_the_family_asked_for_is_missing() {
    // The name has only an A record; -6 asks for AAAA alone.
    let (doc, code) = dns_failure("v4only.test", zone_with_loopback(30), &["-6"]).await;
    assert_failure(&doc, code, "dns", "nodata", CONN, 4);
    let queries = &stage(&doc, "dns")["detail"]["queries"];
    assert_eq!(queries.as_array().map(|q| q.len()), Some(1));
    assert_eq!(queries[0]["type"], "AAAA");
    assert_eq!(queries[0]["status"], "nodata");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_with_a_but_no_aaaa_resolves_and_shows_both_queries() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    let server = DnsServer::start(vec![("v4only.test", zone_with_loopback(42))]).await;
    let url = format!("http://v4only.test:{}/", web.addr.port());
    let (doc, code) = probe(&["--dns", &server.addr.to_string(), &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    let d = &stage(&doc, "dns")["detail"];
    assert_eq!(d["addresses"], serde_json::json!(["127.0.0.1"]));
    let queries = d["queries"].as_array().cloned().unwrap_or_default();
    let by_type = |t: &str| {
        queries
            .iter()
            .find(|q| q["type"] == t)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_type("A")["status"], "answered");
    assert_eq!(by_type("A")["records"][0]["ttl"], 42);
    assert_eq!(by_type("AAAA")["status"], "nodata");
}

#[tokio::test(flavor = "multi_thread")]
async fn cname_chain_is_shown_with_ttls() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    let server = DnsServer::start(vec![(
        "www.shop.test",
        DnsAnswer::Records {
            cname_chain: vec!["shop.cdn.test".into(), "edge7.cdn.test".into()],
            a: vec![Ipv4Addr::LOCALHOST],
            aaaa: vec![Ipv6Addr::LOCALHOST],
            ttl: 300,
        },
    )])
    .await;
    let url = format!("http://www.shop.test:{}/", web.addr.port());
    let (doc, code) = probe(&["--dns", &server.addr.to_string(), "-4", &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    let d = &stage(&doc, "dns")["detail"];
    assert_eq!(
        d["cname_chain"],
        serde_json::json!(["shop.cdn.test.", "edge7.cdn.test."])
    );
    let records = d["queries"][0]["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let types: Vec<&str> = records.iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(types, ["CNAME", "CNAME", "A"]);
    assert!(records.iter().all(|r| r["ttl"] == 300));
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_udp_answers_fall_back_to_tcp() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    let server = DnsServer::start_with(
        vec![("big.test", zone_with_loopback(60))],
        DnsOptions {
            truncate_udp: true,
            ..DnsOptions::default()
        },
    )
    .await;
    let url = format!("http://big.test:{}/", web.addr.port());
    let (doc, code) = probe(&["--dns", &server.addr.to_string(), "-4", &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert!(server.tcp_queries() >= 1, "the resolver retried over TCP");
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_literals_skip_dns() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    let (doc, code) = probe(&[&web.url()]).await;
    assert_eq!(code, 0);
    assert_eq!(status(&doc, "dns"), "skipped");
    assert_eq!(stage(&doc, "dns")["detail"]["source"], "ip_literal");
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_pins_an_address_without_asking_dns() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    // The DNS server would say NXDOMAIN: --resolve must win, and the server must not be asked.
    let server = DnsServer::start(vec![("api.internal", DnsAnswer::NxDomain)]).await;
    let port = web.addr.port();
    let pin = format!("api.internal:{port}:127.0.0.1");
    let url = format!("http://api.internal:{port}/health");
    let (doc, code) = probe(&["--dns", &server.addr.to_string(), "--resolve", &pin, &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(status(&doc, "dns"), "skipped");
    assert_eq!(stage(&doc, "dns")["detail"]["source"], "resolve_flag");
    assert_eq!(server.udp_queries() + server.tcp_queries(), 0);
    // The Host header carries the name, not the pinned address.
    assert!(
        web.requests()
            .first()
            .is_some_and(|r| r.contains(&format!("Host: api.internal:{port}")))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn localhost_comes_from_the_hosts_file() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    let url = format!("http://localhost:{}/", web.addr.port());
    // --dns points at a dead port: /etc/hosts must answer before any query is sent.
    let dead = testkit::tcp::refused_addr().to_string();
    let (doc, code) = probe(&["--dns", &dead, "-4", &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(stage(&doc, "dns")["detail"]["source"], "hosts_file");
}

/// No usable resolv.conf: the engine says so instead of hanging (engine API, since the path is
/// not a flag).
#[tokio::test(flavor = "multi_thread")]
async fn no_nameserver_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("resolv.conf");
    std::fs::write(&empty, "# no nameserver lines\n").expect("write");
    for resolv_conf in [empty, dir.path().join("missing.conf")] {
        let mut settings = netpeel::engine::ProbeSettings::new("http://nowhere.test/");
        settings.resolv_conf = resolv_conf;
        let outcome =
            netpeel::engine::probe(settings, netpeel::engine::events::Events::none()).await;
        let report = netpeel::report::build(&outcome);
        assert_eq!(report.verdict.kind.map(|k| k.name()), Some("no_nameserver"));
        assert_eq!(report.verdict.exit_code, 4);
        crate::schema::assert_valid(&serde_json::to_value(&report).expect("json"));
    }
}

/// Docker Compose service names (`my_service`) have underscores: getaddrinfo and curl resolve
/// them, and so must netpeel (DNS allows any byte in a label; only hostname rules do not).
#[tokio::test(flavor = "multi_thread")]
async fn a_name_with_an_underscore_resolves() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    let server = DnsServer::start(vec![("my_service.test", zone_with_loopback(60))]).await;
    let url = format!("http://my_service.test:{}/", web.addr.port());
    let (doc, code) = probe(&["--dns", &server.addr.to_string(), "-4", &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        stage(&doc, "dns")["detail"]["addresses"],
        serde_json::json!(["127.0.0.1"])
    );
    let sent = web.requests().last().cloned().unwrap_or_default();
    assert!(sent.contains("Host: my_service.test:"), "{sent}");
}

/// urllib3 tries addresses in getaddrinfo's order, which glibc sorts by RFC 6724: for a
/// loopback source, 127.0.0.1 (all 32 bits in common) before 127.0.0.2, whatever order the
/// answer had; the report says why.
#[tokio::test(flavor = "multi_thread")]
async fn addresses_are_tried_in_getaddrinfos_order() {
    let web = HttpServer::start(Behavior::ok("hello")).await;
    let answer = DnsAnswer::Records {
        cname_chain: vec![],
        a: vec![Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::LOCALHOST],
        aaaa: vec![],
        ttl: 60,
    };
    let server = DnsServer::start(vec![("two.test", answer)]).await;
    let url = format!("http://two.test:{}/", web.addr.port());
    let (doc, _) = probe(&["--dns", &server.addr.to_string(), "-4", &url]).await;
    let d = &stage(&doc, "dns")["detail"];
    assert_eq!(
        d["addresses"],
        serde_json::json!(["127.0.0.1", "127.0.0.2"]),
        "{doc:#}"
    );
    let order = d["order"].as_str().unwrap_or("");
    assert!(order.contains("127.0.0.1 before 127.0.0.2"), "{order}");
    let tried = stage(&doc, "tcp")["detail"]["attempts"][0]["address"].to_string();
    assert!(tried.contains("127.0.0.1:"), "{tried}");
}

/// curl's --connect-timeout bounds name resolution too: when it is the shorter, a DNS answer
/// that never comes is curl's timeout (28), not "could not resolve" (6).
#[tokio::test(flavor = "multi_thread")]
async fn a_shorter_connect_timeout_makes_curl_time_out_on_dns() {
    let extra = ["--connect-timeout", "0.5"];
    let (doc, code) = dns_failure("silent.test", DnsAnswer::Silent, &extra).await;
    assert_failure(&doc, code, "dns", "dns_timeout", CONN, 4);
    assert_eq!(doc["verdict"]["curl_exit"], 28);
    let notes = doc["verdict"]["notes"].to_string();
    assert!(notes.contains("curl would exit 28"), "{notes}");
}
