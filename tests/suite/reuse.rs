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

#[tokio::test]
async fn a_reset_during_the_gap_is_rst_and_requests_reconnects() {
    let server = KeepAliveServer::start(IdleEnd::Rst(ms(600))).await;
    let (doc, code) = reuse(&server, "1.5", &[]).await;
    let g = &gaps(&doc)[0];
    assert_eq!(g["wire"], "rst", "{doc:#}");
    let after = g["closed_after_s"].as_f64().unwrap_or(-1.0);
    assert!((after - 0.6).abs() < 0.2, "reset after {after} s: {doc:#}");
    assert!(g["requests_exception"].is_null());
    assert_eq!(g["second_request"]["reused_connection"], false);
    assert_eq!(code, 0);
    assert_eq!(server.connections(), 2, "urllib3 opens a new connection");
}

#[tokio::test]
async fn silence_after_the_idle_limit_is_a_read_timeout() {
    let server = KeepAliveServer::start(IdleEnd::Silent(ms(500))).await;
    let (doc, code) = reuse(&server, "0.1,1", &[]).await;
    let g = gaps(&doc);
    assert_eq!(g[0]["wire"], "open", "{doc:#}");
    assert_eq!(g[1]["wire"], "silent", "{doc:#}");
    assert_eq!(g[1]["kind"], "reuse_silent_drop");
    assert_eq!(
        g[1]["requests_exception"],
        "requests.exceptions.ReadTimeout"
    );
    assert_eq!(g[1]["second_request"]["reused_connection"], true);
    // The worst gap is the verdict.
    common::assert_failure(
        &doc,
        code,
        "http",
        "reuse_silent_drop",
        "requests.exceptions.ReadTimeout",
        8,
    );
    assert_eq!(doc["reuse"]["close_kind"], "silent");
}

#[tokio::test]
async fn a_close_or_reset_as_the_request_arrives_is_the_race() {
    for (end, kind, cause) in [
        (
            IdleEnd::RaceFin(ms(400)),
            "reuse_remote_disconnected",
            "fin",
        ),
        (IdleEnd::RaceRst(ms(400)), "reuse_connection_reset", "rst"),
    ] {
        let server = KeepAliveServer::start(end).await;
        let (doc, code) = reuse(&server, "0.8", &[]).await;
        let g = &gaps(&doc)[0];
        assert_eq!(g["wire"], "race", "{cause}: {doc:#}");
        assert_eq!(g["kind"], kind, "{cause}: {doc:#}");
        assert_eq!(
            g["requests_exception"],
            "requests.exceptions.ConnectionError"
        );
        assert_eq!(g["urllib3_cause"], "urllib3.exceptions.ProtocolError");
        common::assert_failure(
            &doc,
            code,
            "http",
            kind,
            "requests.exceptions.ConnectionError",
            8,
        );
    }
}

#[tokio::test]
async fn the_sweep_measures_a_close_and_compares_the_keep_alive_header() {
    let server = KeepAliveServer::start_announcing(IdleEnd::Fin(ms(1000)), 5).await;
    let url = server.url();
    let run = common::netpeel(&["--json", "--idle-sweep", "3", &url]).await;
    let doc = run.json();
    crate::schema::assert_valid(&doc);
    let r = &doc["reuse"];
    let est = r["idle_close_s"].as_f64().unwrap_or(-1.0);
    assert!((est - 1.0).abs() <= 0.2, "estimate {est}: {doc:#}");
    assert_eq!(r["close_kind"], "fin");
    assert_eq!(r["keep_alive_header_s"], 5.0);
    let summary = r["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("gives up earlier"), "{summary}");
    // Said before it started: how long it may take.
    assert!(
        run.stderr.contains("idle sweep up to 3 s"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(run.code, 0);
}

#[tokio::test]
async fn the_sweep_brackets_a_silent_drop() {
    let server = KeepAliveServer::start(IdleEnd::Silent(ms(1200))).await;
    let url = server.url();
    let args = ["--read-timeout", "0.5", "--idle-sweep", "3", &url];
    let (doc, code) = common::probe(&args).await;
    let r = &doc["reuse"];
    let est = r["idle_close_s"].as_f64().unwrap_or(-1.0);
    assert!((est - 1.2).abs() <= 0.2, "estimate {est}: {doc:#}");
    assert_eq!(r["close_kind"], "silent");
    assert!(r["sweep"]["rounds"].as_u64().unwrap_or(0) >= 2, "{doc:#}");
    assert_eq!(code, 8);
}

#[tokio::test]
async fn http2_and_bad_gaps_are_usage_errors() {
    for args in [
        &["--http2", "--reuse-after", "1", "http://127.0.0.1:9/"][..],
        &["--reuse-after", "1,x", "http://127.0.0.1:9/"][..],
        &["--idle-sweep", "0", "http://127.0.0.1:9/"][..],
    ] {
        let run = common::netpeel(args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
}

/// `netpeel --read-timeout 0.5 --reuse-after 0.8 --export FORMAT URL`.
async fn export(url: &str, format: &str) -> common::Run {
    let args = [
        "--read-timeout",
        "0.5",
        "--reuse-after",
        "0.8",
        "--export",
        format,
        url,
    ];
    common::netpeel(&args).await
}

/// Run a Python snippet as pasted; what it printed.
async fn run_python(snippet: &str) -> String {
    let mut py = tokio::process::Command::new("python3");
    py.args(["-c", snippet]);
    common::hermetic(&mut py);
    let out = common::output_within(&mut py, Duration::from_secs(20))
        .await
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "the snippet failed:\n{snippet}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_exported_fix_runs_as_pasted() {
    let cases = [
        (
            IdleEnd::Silent(ms(400)),
            &["class KeepAliveAdapter(HTTPAdapter)", "KEEPALIVE_IDLE = 1"][..],
            "--keepalive-time 1",
        ),
        (
            IdleEnd::RaceFin(ms(400)),
            &["Retry(total=3, backoff_factor=0.1)"][..],
            "--retry 3",
        ),
    ];
    for (end, python_has, curl_has) in cases {
        let server = KeepAliveServer::start(end).await;
        let url = server.url();
        let run = export(&url, "python").await;
        assert_eq!(run.code, 8, "{end:?}: {}", run.stderr);
        for part in python_has {
            assert!(run.stdout.contains(part), "{end:?}: {}", run.stdout);
        }
        // Pasted against the same server: one request on a new connection, answered.
        let printed = run_python(&run.stdout).await;
        assert!(printed.contains("200 OK"), "{end:?}: {printed}");
        let curl = export(&url, "curl").await;
        assert!(curl.stdout.contains(curl_has), "{end:?}: {}", curl.stdout);
    }
}

/// The reuse oracle: a real `requests.Session`, two GETs with a sleep between them.
const SESSION_ORACLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/differential/reuse_session.py"
);

/// What the oracle printed for `url` with `gap` seconds idle and a 1 s read timeout (`extra`:
/// more oracle flags).
async fn session_oracle(url: &str, gap: &str, extra: &[&str]) -> Value {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(SESSION_ORACLE).args(extra).args([
        url,
        "--gap",
        gap,
        "--connect-timeout",
        "2",
        "--read-timeout",
        "1",
    ]);
    common::hermetic(&mut cmd);
    let out = common::output_within(&mut cmd, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("reuse oracle: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "reuse oracle failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("reuse oracle output is not JSON ({e}): {stdout}"))
}

/// Where netpeel's claim for one gap and requests' behaviour differ (empty: they agree).
fn disagreements(name: &str, gap: &Value, session: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let said = gap["requests_exception"].as_str();
    let raised = session["exception"].as_str();
    if said != raised {
        out.push(format!(
            "{name}: netpeel says requests raises {said:?}, it raised {raised:?}"
        ));
    }
    let chain: Vec<&str> = session["chain"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(cause) = gap["urllib3_cause"].as_str()
        && !chain.contains(&cause)
    {
        out.push(format!(
            "{name}: {cause} is not in requests' chain {chain:?}"
        ));
    }
    // The race's two faces, by the exception at the bottom of the chain.
    let leaf = match gap["kind"].as_str() {
        Some("reuse_remote_disconnected") => Some("http.client.RemoteDisconnected"),
        Some("reuse_connection_reset") => Some("ConnectionResetError"),
        _ => None,
    };
    if let Some(leaf) = leaf
        && !chain.contains(&leaf)
    {
        out.push(format!(
            "{name}: {leaf} is not in requests' chain {chain:?}"
        ));
    }
    // Reused (one connection in all) or replaced by a new one (two).
    let reused = gap["second_request"]["reused_connection"].as_bool();
    let connections = session["connections"].as_u64();
    if reused.map(|r| if r { 1 } else { 2 }) != connections {
        out.push(format!(
            "{name}: netpeel says reused {reused:?}, urllib3 opened {connections:?} connection(s)"
        ));
    }
    out
}

#[tokio::test]
async fn requests_session_raises_what_netpeel_says_for_each_wire_outcome() {
    if !common::requests_available("reuse differential") {
        return;
    }
    let cases = [
        ("open", IdleEnd::Never),
        ("fin", IdleEnd::Fin(ms(400))),
        ("rst", IdleEnd::Rst(ms(400))),
        ("silent", IdleEnd::Silent(ms(400))),
        ("race", IdleEnd::RaceFin(ms(400))),
        ("race", IdleEnd::RaceRst(ms(400))),
    ];
    let runs = cases.iter().map(|(wire, end)| async move {
        // One server per tool, so their connections are counted apart.
        let ours = KeepAliveServer::start(*end).await;
        let theirs = KeepAliveServer::start(*end).await;
        let theirs_url = theirs.url();
        let ((doc, _), session) = tokio::join!(
            reuse(&ours, "0.8", &[]),
            session_oracle(&theirs_url, "0.8", &[])
        );
        let gap = &gaps(&doc)[0];
        let name = format!("{end:?}");
        let mut found = disagreements(&name, gap, &session);
        if gap["wire"] != *wire {
            found.push(format!("{name}: wire {} instead of {wire}", gap["wire"]));
        }
        found
    });
    let found: Vec<String> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(
        found.is_empty(),
        "netpeel and requests.Session disagree:\n  {}",
        found.join("\n  ")
    );
}

/// SIGTERM during a long gap ends the run at once, with the gaps that had ended reported.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_reports_the_gaps_that_ended() {
    let server = KeepAliveServer::start(IdleEnd::Never).await;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"));
    cmd.args(["--json", "--reuse-after", "0.2,30", &server.url()]);
    common::hermetic(&mut cmd);
    let child = cmd.spawn().expect("spawn netpeel");
    // Both first requests and the short gap's second one (bounded: 5 s).
    for _ in 0..250 {
        if server.requests() >= 3 {
            break;
        }
        tokio::time::sleep(ms(20)).await;
    }
    tokio::time::sleep(ms(200)).await;
    common::send_signal(child.id().expect("pid"), "-TERM");
    let out = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("stopped within 5 s")
        .expect("output");
    assert_eq!(out.status.code(), Some(130));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("a JSON document");
    crate::schema::assert_valid(&doc);
    let g = gaps(&doc);
    assert_eq!(g.len(), 1, "{doc:#}");
    assert_eq!(g[0]["wire"], "open");
}

#[tokio::test]
async fn a_server_that_says_connection_close_keeps_nothing() {
    let server = testkit::http::HttpServer::start(testkit::http::Behavior::ok("hi")).await;
    let url = server.url();
    let (doc, code) = common::probe(&["--reuse-after", "0.3", &url]).await;
    let g = &gaps(&doc)[0];
    assert_eq!(g["wire"], "fin", "{doc:#}");
    assert_eq!(g["closed_after_s"], 0.0);
    assert_eq!(g["second_request"]["reused_connection"], false);
    let summary = doc["reuse"]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("Connection: close"), "{summary}");
    assert_eq!(code, 0);
}

/// The fix exported for the race works: the same Session with `Retry(total=3,
/// backoff_factor=0.1)` gets its answer on a new connection.
#[tokio::test]
async fn the_exported_retry_cures_the_race_in_a_real_session() {
    if !common::requests_available("reuse differential") {
        return;
    }
    for end in [IdleEnd::RaceFin(ms(400)), IdleEnd::RaceRst(ms(400))] {
        let server = KeepAliveServer::start(end).await;
        let session = session_oracle(&server.url(), "0.8", &["--retry"]).await;
        assert_eq!(session["outcome"], "ok", "{end:?}: {session}");
        assert_eq!(session["second_status"], 200, "{end:?}: {session}");
        assert_eq!(session["connections"], 2, "{end:?}: {session}");
    }
}
