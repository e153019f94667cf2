//! Replay: real attempts against real servers with the policy's sleeps, checked against the
//! real urllib3 Retry (via requests) on the same servers: attempts made, outcome, time slept.

use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::http::{Behavior, HttpServer};

use crate::common::probe;

fn status(code: u16, retry_after: Option<&str>) -> Behavior {
    let mut headers = vec![];
    if let Some(r) = retry_after {
        headers.push(("Retry-After".to_string(), r.to_string()));
    }
    Behavior::Respond {
        code,
        headers,
        body: b"x".to_vec(),
    }
}

const ORACLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/differential/requests_probe.py"
);

async fn requests_with(args: &[&str]) -> (Value, Duration) {
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(ORACLE).args(args);
    crate::common::hermetic(&mut cmd);
    let out = crate::common::output_within(&mut cmd, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("the oracle: {e}"));
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let doc: Value =
        serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("oracle said {line:?}: {e}"));
    // The oracle times the request itself: Python's start-up and `import requests` take seconds
    // on a loaded machine and are not part of what is compared.
    let took = doc["elapsed_s"]
        .as_f64()
        .map(Duration::from_secs_f64)
        .unwrap_or_else(|| started.elapsed());
    (doc, took)
}

/// One scenario, both tools, each against its own fresh server.
async fn both(
    behaviors: Vec<Behavior>,
    flags: &[&str],
) -> ((Value, i32, usize), (Value, usize, Duration)) {
    let ours = HttpServer::start_sequence(behaviors.clone()).await;
    let mut args: Vec<&str> = flags.to_vec();
    let url = ours.url();
    args.push(&url);
    let (doc, code) = probe(&args).await;
    let theirs = HttpServer::start_sequence(behaviors).await;
    let url2 = theirs.url();
    let mut oargs: Vec<&str> = flags.to_vec();
    oargs.push(&url2);
    let (oracle, took) = requests_with(&oargs).await;
    (
        (doc, code, ours.connections()),
        (oracle, theirs.connections(), took),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_503s_then_success_like_urllib3() {
    if !crate::common::requests_available("replay differential") {
        return;
    }
    let seq = vec![status(503, None), status(503, None), Behavior::ok("ok")];
    let flags = [
        "--retries",
        "3",
        "--status-forcelist",
        "503",
        "--backoff-factor",
        "0.2",
    ];
    let ((doc, code, ours), (oracle, theirs, took)) = both(seq, &flags).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(oracle["outcome"], "ok", "{oracle}");
    assert_eq!(ours, 3);
    assert_eq!(theirs, 3);
    let attempts = doc["attempts"].as_array().cloned().unwrap_or_default();
    assert_eq!(attempts.len(), 3);
    // urllib3: no sleep before the first retry, then 0.2 × 2^1.
    assert_eq!(attempts[0]["sleep_after_s"], 0.0);
    assert_eq!(attempts[0]["sleep_reason"], "backoff 1");
    let second = attempts[1]["sleep_after_s"].as_f64().unwrap_or(0.0);
    assert!((second - 0.4).abs() < 1e-9, "{second}");
    assert!(attempts[2]["sleep_after_s"].is_null());
    let slept: f64 = doc["replay"]["total_ms"].as_f64().unwrap_or(0.0) / 1000.0;
    assert!(
        (took.as_secs_f64() - slept).abs() < 0.8,
        "requests {took:?} vs netpeel {slept} s"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured_like_urllib3() {
    if !crate::common::requests_available("replay differential") {
        return;
    }
    let seq = vec![status(503, Some("1")), Behavior::ok("ok")];
    let flags = ["--retries", "2", "--status-forcelist", "503"];
    let ((doc, code, ours), (oracle, theirs, took)) = both(seq.clone(), &flags).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!((ours, theirs), (2, 2));
    assert_eq!(oracle["outcome"], "ok");
    assert_eq!(doc["attempts"][0]["sleep_reason"], "retry-after");
    assert_eq!(doc["attempts"][0]["sleep_after_s"], 1.0);
    assert!(took >= Duration::from_millis(900));

    // Without Retry-After respected: no wait (first retry), both tools.
    let mut no_ra = flags.to_vec();
    no_ra.push("--no-retry-after");
    let ((doc, _, _), (_, _, took)) = both(seq, &no_ra).await;
    assert_eq!(doc["attempts"][0]["sleep_after_s"], 0.0);
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_retries_run_out_into_retry_error() {
    if !crate::common::requests_available("replay differential") {
        return;
    }
    let seq = vec![status(503, None)];
    let flags = ["--retries", "2", "--status-forcelist", "503"];
    let ((doc, code, ours), (oracle, theirs, _)) = both(seq, &flags).await;
    assert_eq!((ours, theirs), (3, 3));
    assert_eq!(
        oracle["exception"], "requests.exceptions.RetryError",
        "{oracle}"
    );
    assert_eq!(
        doc["replay"]["requests_exception"],
        "requests.exceptions.RetryError"
    );
    // The top-level verdict speaks for the whole run, each attempt for itself.
    assert_eq!(doc["verdict"]["requests_exception"], oracle["exception"]);
    assert_eq!(
        doc["verdict"]["urllib3_cause"],
        "urllib3.exceptions.MaxRetryError"
    );
    assert!(
        oracle["chain"].to_string().contains("MaxRetryError"),
        "{oracle}"
    );
    assert_eq!(
        doc["attempts"][2]["verdict"]["requests_exception"],
        "requests.exceptions.HTTPError"
    );
    assert_eq!(code, 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_port_is_retried_as_a_connect_error() {
    if !crate::common::requests_available("replay differential") {
        return;
    }
    let addr = testkit::tcp::refused_addr();
    let url = format!("http://{addr}/");
    let flags = ["--retries", "2", "--backoff-factor", "0.1"];
    let mut args = flags.to_vec();
    args.push(&url);
    let (doc, code) = probe(&args).await;
    let (oracle, _) = requests_with(&args).await;
    assert_eq!(code, 5);
    assert_eq!(doc["attempts"].as_array().map(|a| a.len()), Some(3));
    assert_eq!(
        oracle["exception"], "requests.exceptions.ConnectionError",
        "{oracle}"
    );
    assert_eq!(doc["replay"]["requests_exception"], oracle["exception"]);
    assert_eq!(doc["verdict"]["requests_exception"], oracle["exception"]);
    assert_eq!(
        doc["verdict"]["urllib3_cause"],
        "urllib3.exceptions.MaxRetryError"
    );
    assert!(
        doc["replay"]["result"]
            .as_str()
            .is_some_and(|r| r.contains("Max retries exceeded"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connect_timeout_is_retried_with_the_full_timeout_each_time() {
    if !crate::common::requests_available("replay differential") {
        return;
    }
    let hole = tokio::task::spawn_blocking(testkit::tcp::BlackholeListener::start)
        .await
        .expect("black hole");
    let url = format!("http://{}/", hole.addr);
    let args = ["--retries", "1", "--connect-timeout", "0.3", url.as_str()];
    let started = Instant::now();
    let (doc, code) = probe(&args).await;
    let ours = started.elapsed();
    let (oracle, theirs) = requests_with(&args).await;
    assert_eq!(code, 5);
    assert_eq!(doc["attempts"].as_array().map(|a| a.len()), Some(2));
    assert_eq!(
        oracle["exception"], "requests.exceptions.ConnectTimeout",
        "{oracle}"
    );
    assert_eq!(doc["replay"]["requests_exception"], oracle["exception"]);
    assert!(
        ours >= Duration::from_millis(550) && theirs >= Duration::from_millis(550),
        "{ours:?} {theirs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_prints_paste_ready_settings() {
    let run = crate::common::netpeel(&[
        "--export",
        "python",
        "--retries",
        "3",
        "--backoff-factor",
        "0.5",
        "--status-forcelist",
        "502,503",
        "--connect-timeout",
        "2",
        // The Python export checks the certificate first: never ask real DNS for this name
        // (port 9 on loopback refuses: the check ends at once).
        "--resolve",
        "api.test:9:127.0.0.1",
        "https://api.test:9/x",
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for part in [
        "Retry(",
        "total=3",
        "backoff_factor=0.5",
        "status_forcelist=[502, 503]",
        "HTTPAdapter",
        "timeout=(2",
    ] {
        assert!(run.stdout.contains(part), "{part} missing:\n{}", run.stdout);
    }
    let curl =
        crate::common::netpeel(&["--export", "curl", "--retries", "3", "https://api.test/x"]).await;
    assert!(curl.stdout.contains("--retry 3"), "{}", curl.stdout);
    let bad = crate::common::netpeel(&["--export", "ruby", "https://api.test/x"]).await;
    assert_eq!(bad.code, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replay_report_says_which_timeouts_would_have_failed() {
    // The first attempt stalls past the read timeout, the retry answers at once: a 50 ms read
    // timeout would have failed the first (cut at 300 ms) but not the second.
    let server =
        HttpServer::start_sequence(vec![Behavior::StallBeforeResponse, Behavior::ok("ok")]).await;
    let (doc, code) = probe(&["--retries", "1", "--read-timeout", "0.3", &server.url()]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["attempts"][0]["verdict"]["kind"], "read_timeout");
    let what_if = doc["replay"]["what_if"].to_string();
    assert!(
        what_if.contains("read timeout 50 ms would have failed 1 of 2"),
        "{what_if}"
    );
    let fresh =
        HttpServer::start_sequence(vec![Behavior::StallBeforeResponse, Behavior::ok("ok")]).await;
    let text =
        crate::common::netpeel(&["--retries", "1", "--read-timeout", "0.3", &fresh.url()]).await;
    assert!(
        text.stdout.contains("what if: read timeout"),
        "{}",
        text.stdout
    );
}

/// Ctrl-C in a long Retry-After wait still reports the attempts made, and exits 130.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_replay_still_reports_its_attempts() {
    let server = HttpServer::start(status(429, Some("30"))).await;
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"))
        .args(["--json", "--retries", "3", &server.url()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn netpeel");
    for _ in 0..100 {
        if server.connections() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the attempt finish and the 30 s sleep begin.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().expect("pid").to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let out = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("stopped within 5 s")
        .expect("output");
    assert_eq!(out.status.code(), Some(130));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("a JSON document");
    crate::schema::assert_valid(&doc);
    assert_eq!(doc["attempts"].as_array().map(|a| a.len()), Some(1));
    assert!(
        doc["replay"]["result"]
            .as_str()
            .is_some_and(|r| r.contains("interrupted after 1 attempt")),
        "{doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_flags_refuse_what_no_one_would_wait_for() {
    for args in [
        ["--retries", "1500"],
        ["--backoff-factor", "1e300"],
        ["--backoff-jitter", "NaN"],
        ["--retry-policy", "forever"],
    ] {
        let run = crate::common::netpeel(&[args[0], args[1], "http://127.0.0.1:9/"]).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_replay_states_its_budget_first_and_ctrl_c_reports_the_attempts() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    // A refused port with hours of backoff: the budget comes first, on stderr.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"))
        .args(["--report", "--retries", "100", "--backoff-factor", "3600"])
        .arg("http://127.0.0.1:1/")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn netpeel");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let first = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
        .await
        .expect("a line within 5 s")
        .expect("read")
        .unwrap_or_default();
    // The budget broken down, only the stages http://127.0.0.1 has (connect 10 s + read 30 s),
    // Retry-After's stretch said apart from the backoff's total.
    assert!(
        first.starts_with("netpeel: replay: 101 × 40 s attempts + sleeps 0 + 120 + ")
            && first.contains(
                " s = 4.4 h; a server's Retry-After can stretch each of 100 sleeps to 6 h"
            ),
        "{first}"
    );
    // Let the first attempts fail (urllib3 does not sleep before the first retry), then stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("stopped within 5 s")
        .expect("wait");
    assert_eq!(status.code(), Some(130));
    let mut report = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut report).await;
    }
    assert!(report.contains("REPLAY  policy urllib3"), "{report}");
    assert!(report.contains("connection_refused"), "{report}");
    // The report's budget line says what the command line said, not an 18-hour total.
    let budget = report
        .split("budget: ")
        .nth(1)
        .map(|b| b.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    assert!(
        budget.starts_with("101 × 40 s attempts + sleeps 0 + 120 + "),
        "{report}"
    );
}
