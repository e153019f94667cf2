//! `--watch`: repeated probes against loopback servers that fail on a schedule (every third
//! request 503, every fifth connection reset, one DNS lookup in four unanswered, one of two
//! addresses refused, answers delayed by known amounts), checking the counts, the per-address
//! rows, the percentiles, the OpenMetrics text through a real parser, /metrics while running,
//! and a signal ending the run with the summary printed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::dns::{DnsAnswer, DnsOptions, DnsServer};
use testkit::http::{Behavior, HttpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{
    hermetic, netpeel, python_can_import, python_stdin_json, read_request_head, send_signal,
};

/// `netpeel --watch --json ARGS…`: the schema-checked document and the exit code.
async fn watch_json(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["--watch", "--json"];
    all.extend_from_slice(args);
    let run = netpeel(&all).await;
    let doc = run.json();
    crate::schema::assert_valid(&doc);
    (doc, run.code)
}

fn status(code: u16) -> Behavior {
    Behavior::Respond {
        code,
        headers: vec![],
        body: b"unavailable\n".to_vec(),
    }
}

/// `[(layer, kind, count)]` of `watch.failures`.
fn failures(doc: &Value) -> Vec<(String, String, u64)> {
    doc["watch"]["failures"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["layer"].as_str().unwrap_or("").to_string(),
                f["kind"].as_str().unwrap_or("").to_string(),
                f["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn counts(doc: &Value) -> (u64, u64, u64) {
    let w = &doc["watch"];
    let n = |k: &str| w[k].as_u64().unwrap_or(u64::MAX);
    (n("probes"), n("ok"), n("failed"))
}

/// The timeline as a string: '.' per good probe, 'x' per failure.
fn timeline(doc: &Value) -> String {
    doc["watch"]["timeline"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| if c["ok"] == true { '.' } else { 'x' })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_third_request_503_is_an_intermittent_status_failure() {
    let server =
        HttpServer::start_cycle(vec![Behavior::ok("a"), Behavior::ok("b"), status(503)]).await;
    let (doc, code) = watch_json(&["-c", "9", "-i", "0", &server.url()]).await;
    assert_eq!(counts(&doc), (9, 6, 3), "{doc:#}");
    assert_eq!(
        failures(&doc),
        [("http".into(), "http_server_error".into(), 3)]
    );
    assert_eq!(timeline(&doc), "..x..x..x");
    let verdict = &doc["watch"]["verdict"];
    assert_eq!(verdict["pattern"], "intermittent");
    let hint = verdict["hint"].as_str().unwrap_or("");
    assert!(
        hint.contains("Retry(status=1, status_forcelist=[503]) would have recovered all 3"),
        "{hint}"
    );
    // The exit code is the most frequent failure's, as a single probe would exit.
    assert_eq!(code, 9);
    assert_eq!(server.connections(), 9, "a fresh connection per probe");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fifth_connection_dropped_is_counted_with_its_requests_exception() {
    let ok = Behavior::ok("fine");
    let server = HttpServer::start_cycle(vec![
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok,
        Behavior::ResetBeforeResponse,
    ])
    .await;
    let (doc, _) = watch_json(&["-c", "10", "-i", "0", &server.url()]).await;
    assert_eq!(counts(&doc), (10, 8, 2), "{doc:#}");
    assert_eq!(
        failures(&doc),
        [("http".into(), "connection_reset".into(), 2)]
    );
    let first = &doc["watch"]["failures"][0];
    assert_eq!(
        first["requests_exception"],
        "requests.exceptions.ConnectionError"
    );
    assert_eq!(first["percent"], 20.0);
    assert_eq!(timeline(&doc), "....x....x");
    let summary = doc["watch"]["verdict"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.starts_with("Intermittent: 2 of 10 probes (20 %) failed at the http layer"),
        "{summary}"
    );
    // The text report says the same within 80 columns.
    let text = netpeel(&["--watch", "-c", "5", "-i", "0", &server.url()]).await;
    assert!(
        text.stdout.contains("VERDICT: intermittent"),
        "{}",
        text.stdout
    );
    for line in text.stdout.lines() {
        assert!(line.chars().count() <= 80, "longer than 80 columns: {line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_dns_lookup_in_four_timing_out_is_a_dns_failure() {
    let web = HttpServer::start(Behavior::ok("up")).await;
    // netpeel sends a query twice (one retry) before giving up: "answer three, drop two" is
    // three good lookups, then one that times out.
    let dns = DnsServer::start_with(
        vec![(
            "flaky.test",
            DnsAnswer::Records {
                cname_chain: vec![],
                a: vec![Ipv4Addr::LOCALHOST],
                aaaa: vec![],
                ttl: 30,
            },
        )],
        DnsOptions {
            silent_schedule: &[false, false, false, true, true],
            ..DnsOptions::default()
        },
    )
    .await;
    let url = format!("http://flaky.test:{}/", web.addr.port());
    let dns_addr = dns.addr.to_string();
    let args = ["-c", "8", "-i", "0", "-4", "--dns", &dns_addr];
    let (doc, code) = watch_json(&[&args[..], &["--dns-timeout", "0.4", &url]].concat()).await;
    assert_eq!(counts(&doc), (8, 6, 2), "{doc:#}");
    assert_eq!(failures(&doc), [("dns".into(), "dns_timeout".into(), 2)]);
    assert_eq!(timeline(&doc), "...x...x");
    assert_eq!(doc["watch"]["stages"]["dns"]["n"], 6);
    assert_eq!(code, 4, "the DNS layer's exit code");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_address_is_found_even_when_every_probe_passes() {
    let ips = [IpAddr::from([127, 0, 0, 1]), IpAddr::from([127, 0, 0, 2])];
    let web = HttpServer::start_on_port_free_on(ips[0], &ips[1..], Behavior::ok("alive")).await;
    let port = web.addr.port();
    // 127.0.0.2 first: urllib3 (and netpeel) try it, are refused, and go on to 127.0.0.1.
    let pin = format!("svc.test:{port}:127.0.0.2,127.0.0.1");
    let url = format!("http://svc.test:{port}/");
    let (doc, code) = watch_json(&["-c", "5", "-i", "0", "--resolve", &pin, &url]).await;
    assert_eq!(code, 0);
    assert_eq!(counts(&doc), (5, 5, 0));
    let rows: Vec<(String, u64, u64)> = doc["watch"]["addresses"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            (
                a["address"].as_str().unwrap_or("").to_string(),
                a["probes"].as_u64().unwrap_or(0),
                a["failed"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("127.0.0.2".into(), 5, 5), ("127.0.0.1".into(), 5, 0)]
    );
    let summary = doc["watch"]["verdict"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("127.0.0.2 failed 5 of 5; the others 0 of 5"),
        "{summary}"
    );
}

/// A server that answers `200` after a delay, the n-th connection waiting `delays[n % len]`;
/// serves at most `max` connections, every read bounded.
async fn delayed_server(
    delays: &'static [u64],
    max: usize,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        for n in 0..max {
            let Ok(Ok((mut sock, _))) =
                tokio::time::timeout(Duration::from_secs(20), listener.accept()).await
            else {
                return;
            };
            let _ = sock.set_nodelay(true);
            let delay = Duration::from_millis(delays[n % delays.len()]);
            tokio::spawn(async move {
                if !read_request_head(&mut sock).await {
                    return;
                }
                tokio::time::sleep(delay).await;
                let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
                let _ = sock.write_all(reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (addr, task)
}

/// Where the ttfb percentiles of one run miss the injected delays (empty when none does).
fn percentile_misses(ttfb: &Value) -> Vec<String> {
    let ms = |k: &str| ttfb[k].as_f64().unwrap_or(-1.0);
    // Never less than the delay; a few ms over it for scheduling (the maximum is one sample,
    // so it gets more room).
    [
        ("min_ms", 20.0, 8.0),
        ("p50_ms", 20.0, 8.0),
        ("p90_ms", 80.0, 8.0),
        ("max_ms", 80.0, 25.0),
    ]
    .iter()
    .filter(|(key, delay, slack)| !(*delay..delay + slack).contains(&ms(key)))
    .map(|(key, delay, _)| format!("{key} = {} for a {delay} ms delay", ms(key)))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn percentiles_follow_the_injected_delays() {
    // Three answers after 20 ms, one after 80 ms: p50 is 20 ms, p90 and max 80 ms. On a loaded
    // machine a run can be late; up to three runs, the first within tolerance passes.
    const RUNS: usize = 3;
    let (addr, _task) = delayed_server(&[20, 20, 20, 80], 20 * RUNS).await;
    let url = format!("http://{addr}/");
    let mut misses = Vec::new();
    for _ in 0..RUNS {
        let (doc, code) = watch_json(&["-c", "20", "-i", "0", &url]).await;
        assert_eq!(code, 0, "{doc:#}");
        let ttfb = &doc["watch"]["stages"]["ttfb"];
        assert_eq!(ttfb["n"], 20);
        let total = &doc["watch"]["stages"]["total"];
        assert!(total["p50_ms"].as_f64().unwrap_or(0.0) >= 20.0, "{total:#}");
        // No DNS (an IP literal), no proxy, no TLS: those stages have no values.
        for stage in ["dns", "proxy", "tls"] {
            assert_eq!(doc["watch"]["stages"][stage]["n"], 0);
            assert!(doc["watch"]["stages"][stage]["p50_ms"].is_null());
        }
        let missed = percentile_misses(ttfb);
        if missed.is_empty() {
            return;
        }
        misses.push(format!("{}: {ttfb}", missed.join(", ")));
    }
    panic!("every run missed the delays:\n{}", misses.join("\n"));
}

/// Parse `text` with prometheus_client's OpenMetrics parser (which refuses anything invalid);
/// every sample as `{name, labels, value}`.
fn parse_openmetrics(text: &str) -> Vec<Value> {
    const SCRIPT: &str = r#"
import sys, json
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"family": family.name, "type": family.type, "name": s.name,
                    "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let what = format!("prometheus_client's OpenMetrics parser on\n{text}\n");
    let doc = python_stdin_json(&["-c", SCRIPT], text.as_bytes(), &what);
    doc.as_array().cloned().unwrap_or_default()
}

fn sample_value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][k] == *v))
        .and_then(|s| s["value"].as_f64())
}

#[tokio::test(flavor = "multi_thread")]
async fn openmetrics_output_passes_a_real_parser() {
    let parser = "prometheus_client.openmetrics.parser";
    let need = "needs Python prometheus_client: pip install prometheus_client";
    if !python_can_import("OpenMetrics", parser, need) {
        return;
    }
    let server =
        HttpServer::start_cycle(vec![Behavior::ok("a"), Behavior::ok("b"), status(503)]).await;
    let run = netpeel(&[
        "--watch",
        "-c",
        "6",
        "-i",
        "0",
        "--format",
        "openmetrics",
        &server.url(),
    ])
    .await;
    assert!(run.stdout.ends_with("# EOF\n"), "{}", run.stdout);
    let samples = parse_openmetrics(&run.stdout);
    let probes =
        |result: &str| sample_value(&samples, "netpeel_probes_total", &[("result", result)]);
    assert_eq!((probes("ok"), probes("failed")), (Some(4.0), Some(2.0)));
    let failures = sample_value(
        &samples,
        "netpeel_probe_failures_total",
        &[("layer", "http"), ("kind", "http_server_error")],
    );
    assert_eq!(failures, Some(2.0));
    let ttfb_count = sample_value(
        &samples,
        "netpeel_stage_duration_seconds_count",
        &[("stage", "ttfb")],
    );
    assert_eq!(ttfb_count, Some(6.0));
    let inf = sample_value(
        &samples,
        "netpeel_stage_duration_seconds_bucket",
        &[("stage", "total"), ("le", "+Inf")],
    );
    assert_eq!(inf, Some(4.0), "total counts the successful probes");
    let url = server.url();
    assert_eq!(
        sample_value(&samples, "netpeel_target_info", &[("url", url.as_str())]),
        Some(1.0)
    );
}

/// GET /metrics from `addr`, bounded in time; None while nothing listens yet.
async fn scrape(addr: SocketAddr) -> Option<String> {
    let fetch = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .ok()?;
        let mut body = String::new();
        s.read_to_string(&mut body).await.ok()?;
        Some(body)
    };
    tokio::time::timeout(Duration::from_secs(3), fetch)
        .await
        .ok()
        .flatten()
}

fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_served_while_watching_and_sigint_prints_the_summary() {
    let web = HttpServer::start(Behavior::ok("up")).await;
    let listen = SocketAddr::from(([127, 0, 0, 1], free_loopback_port()));
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"));
    let listen_arg = listen.to_string();
    cmd.args([
        "--watch",
        "--json",
        "-i",
        "0.05",
        "--metrics-listen",
        &listen_arg,
    ]);
    cmd.arg(web.url());
    hermetic(&mut cmd);
    let mut child = cmd.spawn().expect("spawn netpeel");
    // Scrape until three probes are counted (bounded: 100 tries, 10 s).
    let started = Instant::now();
    let mut seen = None;
    for _ in 0..100 {
        if let Some(text) = scrape(listen).await
            && text.contains("netpeel_probes_total{result=\"ok\"} ")
            && !text.contains("netpeel_probes_total{result=\"ok\"} 0\n")
            && !text.contains("netpeel_probes_total{result=\"ok\"} 1\n")
            && !text.contains("netpeel_probes_total{result=\"ok\"} 2\n")
        {
            seen = Some(text);
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scraped = seen.expect("/metrics counted three probes within 10 s");
    assert!(scraped.starts_with("HTTP/1.1 200 OK\r\n"), "{scraped}");
    assert!(
        scraped.contains("application/openmetrics-text"),
        "{scraped}"
    );
    assert!(scraped.ends_with("# EOF\n"), "{scraped}");
    send_signal(child.id().expect("pid"), "-INT");
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let read = out.read_to_string(&mut stdout);
        let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
    }
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("stopped within 5 s of SIGINT")
        .expect("wait");
    assert_eq!(status.code(), Some(0), "every probe passed: {stdout}");
    let doc: Value = serde_json::from_str(&stdout).expect("the summary is JSON");
    crate::schema::assert_valid(&doc);
    assert_eq!(doc["watch"]["stopped_by_signal"], true);
    assert!(doc["watch"]["count"].is_null());
    assert!(doc["watch"]["probes"].as_u64().unwrap_or(0) >= 3, "{doc:#}");
    assert_eq!(doc["watch"]["failed"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_and_sighup_end_the_run_with_the_text_summary() {
    let web = HttpServer::start(Behavior::ok("up")).await;
    for signal in ["TERM", "HUP"] {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"));
        cmd.args(["--watch", "-i", "0.05", &web.url()]);
        hermetic(&mut cmd);
        let child = cmd.spawn().expect("spawn netpeel");
        // Long enough for a few probes even on a loaded machine (each takes a millisecond).
        tokio::time::sleep(Duration::from_millis(800)).await;
        send_signal(child.id().expect("pid"), &format!("-{signal}"));
        let out = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
            .await
            .expect("stopped within 5 s")
            .expect("output");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stdout.contains("VERDICT: all ok"), "{signal}: {stdout}");
        assert!(stdout.contains("stopped by a signal"), "{signal}: {stdout}");
        assert!(
            stderr.contains("netpeel: stopped after "),
            "{signal}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_flags_are_checked_in_one_line() {
    for (args, says) in [
        (
            &["--watch", "--retries", "2", "http://127.0.0.1:1/"][..],
            "cannot be combined with --watch",
        ),
        (
            &["--watch", "--export", "python", "http://127.0.0.1:1/"][..],
            "cannot be combined with --watch",
        ),
        (
            &["--watch", "--reuse-after", "1", "http://127.0.0.1:1/"][..],
            "cannot be combined with --watch",
        ),
        (
            &["--format", "openmetrics", "http://127.0.0.1:1/"][..],
            "--format openmetrics describes a run of probes: add --watch",
        ),
        (
            &["--watch", "-c", "0", "http://127.0.0.1:1/"][..],
            "at least 1",
        ),
        (&["--watch", "-i", "-1", "http://127.0.0.1:1/"][..], "-1"),
        (&["-c", "3", "http://127.0.0.1:1/"][..], "--watch"),
        (
            &[
                "--watch",
                "--metrics-listen",
                "nowhere",
                "http://127.0.0.1:1/",
            ][..],
            "nowhere",
        ),
    ] {
        let run = netpeel(args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_interval_runs_start_to_start_and_the_timeline_keeps_the_last_120() {
    let web = HttpServer::start(Behavior::ok("up")).await;
    // -i 0.2: five probes take four intervals, never less.
    let started = Instant::now();
    let (doc, _) = watch_json(&["-c", "5", "-i", "0.2", &web.url()]).await;
    let took = started.elapsed();
    assert_eq!(counts(&doc), (5, 5, 0));
    assert!(
        (Duration::from_millis(800)..Duration::from_secs(5)).contains(&took),
        "{took:?}"
    );
    assert_eq!(doc["watch"]["interval_s"], 0.2);
    // Back to back, more probes than the timeline keeps: it holds the newest 120.
    let (doc, _) = watch_json(&["-c", "130", "-i", "0", &web.url()]).await;
    assert_eq!(counts(&doc), (130, 130, 0));
    let cells = doc["watch"]["timeline"].as_array().map(Vec::len);
    assert_eq!(cells, Some(120));
    assert_eq!(doc["watch"]["stages"]["total"]["n"], 130);
}
