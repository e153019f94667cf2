//! The command line: bad flags and bad URLs get one line and a distinct exit code, the report
//! is readable at 80 columns, and the README's verdict table is the code's.

use testkit::http::{Behavior, HttpServer};
use testkit::tls::{CertKind, TlsServer};

use crate::common::{assert_failure, netpeel, probe};

fn assert_one_line_usage_error(run: &crate::common::Run, mentions: &str) {
    assert_eq!(run.code, 2, "exit code for {mentions}: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {:?}", run.stderr);
    assert!(lines[0].starts_with("netpeel: "), "{}", lines[0]);
    assert!(
        run.stderr.contains(mentions),
        "'{mentions}' not in {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"));
    assert!(run.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_flags_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "URL"),
        (&["--connect-timeout", "abc", "http://127.0.0.1/"], "abc"),
        (&["--read-timeout", "0", "http://127.0.0.1/"], "more than 0"),
        (&["--read-timeout", "-1", "http://127.0.0.1/"], "-1"),
        (
            &["--resolve", "nonsense", "http://127.0.0.1/"],
            "HOST:PORT:ADDR",
        ),
        (&["--dns", "not-an-ip", "http://127.0.0.1/"], "not-an-ip"),
        (&["-H", "NoColon", "http://127.0.0.1/"], "NoColon"),
        (&["-X", "GE T", "http://127.0.0.1/"], "method"),
        (
            &["--cacert", "/nonexistent/ca.pem", "http://127.0.0.1/"],
            "/nonexistent/ca.pem",
        ),
        (&["--json", "--report", "http://127.0.0.1/"], "--report"),
        (&["-4", "-6", "http://127.0.0.1/"], "--ipv"),
        (&["--bogus", "http://127.0.0.1/"], "--bogus"),
    ];
    for (args, mentions) in cases {
        let run = netpeel(args).await;
        assert_one_line_usage_error(&run, mentions);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_ca_bundle_is_a_verdict_naming_its_source_and_an_empty_flag_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let shown = empty.display().to_string();
    // requests loads the variable's file at the handshake and raises SSLError there; the
    // `--cacert` flag is the user's own input and stays a usage error.
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let (doc, code) =
        crate::common::probe_env(&[&server.url()], &[("REQUESTS_CA_BUNDLE", &shown)]).await;
    assert_eq!(code, 7, "{doc:#}");
    assert_eq!(doc["verdict"]["kind"], "ca_bundle_empty");
    let summary = doc["verdict"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains(&format!("REQUESTS_CA_BUNDLE={shown}")),
        "{summary}"
    );
    let run = netpeel(&["--cacert", &shown, "https://127.0.0.1/"]).await;
    assert_one_line_usage_error(&run, "--cacert");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_ca_variable_does_not_break_an_http_probe() {
    // requests reads REQUESTS_CA_BUNDLE only for https; a refused port answers at once.
    let run = crate::common::netpeel_env(
        &["--json", "http://127.0.0.1:1/"],
        &[("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")],
    )
    .await;
    let doc = run.json();
    assert_eq!(doc["verdict"]["kind"], "connection_refused", "{doc:#}");
    let notes = doc["verdict"]["notes"].to_string();
    assert!(
        notes.contains("REQUESTS_CA_BUNDLE /nonexistent/ca.pem"),
        "{notes}"
    );
    // Real requests agrees: the same variable fails https (OSError) but not http.
    if !crate::common::requests_available("stale CA bundle differential") {
        return;
    }
    const SCRIPT: &str = "import requests, sys\n\
        try:\n    requests.get(sys.argv[1], timeout=5)\n\
        except Exception as e:\n    print(type(e).__name__)\n";
    let mut raised = Vec::new();
    for url in ["http://127.0.0.1:1/", "https://127.0.0.1:1/"] {
        let mut cmd = tokio::process::Command::new("python3");
        cmd.args(["-c", SCRIPT, url]);
        crate::common::hermetic(&mut cmd);
        cmd.env("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem");
        let out = crate::common::output_within(&mut cmd, std::time::Duration::from_secs(30))
            .await
            .expect("python");
        raised.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    assert_eq!(raised, ["ConnectionError", "OSError"]);
    // For https it is requests' own failure, before it connects (the refused port does not
    // matter): the verdict names the variable and the path.
    let (doc, code) = crate::common::probe_env(
        &["https://127.0.0.1:1/"],
        &[("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")],
    )
    .await;
    assert_eq!(code, 7, "{doc:#}");
    let v = &doc["verdict"];
    assert_eq!(v["kind"], "ca_bundle_missing");
    assert_eq!(v["requests_exception"], "OSError");
    assert!(
        v["summary"]
            .as_str()
            .unwrap_or("")
            .contains("REQUESTS_CA_BUNDLE=/nonexistent/ca.pem"),
        "{v:#}"
    );
    // curl does not read the variable: it fails where the network fails (refused: 7).
    assert_eq!(v["curl_exit"], 7, "{v:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ca_bundles_that_are_not_regular_files_or_too_big_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.pem");
    let file = std::fs::File::create(&big).expect("create");
    // Sparse: 17 MiB of nothing, no disk used.
    file.set_len(17 * 1024 * 1024).expect("set_len");
    let big = big.display().to_string();
    // A directory is no usage error: requests reads it as OpenSSL's CA directory (see trust.rs).
    for (ca, mentions) in [
        ("/dev/zero", "not a regular file"),
        (big.as_str(), "larger than"),
    ] {
        let run = netpeel(&["--cacert", ca, "https://127.0.0.1:1/"]).await;
        assert_one_line_usage_error(&run, mentions);
        let run =
            crate::common::netpeel_env(&["https://127.0.0.1:1/"], &[("REQUESTS_CA_BUNDLE", ca)])
                .await;
        assert_one_line_usage_error(&run, mentions);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_urls_fail_in_the_url_layer_like_requests() {
    let cases = [
        (
            "app.test/x",
            "missing_scheme",
            "requests.exceptions.MissingSchema",
        ),
        (
            "htp://127.0.0.1/",
            "unsupported_scheme",
            "requests.exceptions.InvalidSchema",
        ),
        ("http://", "missing_host", "requests.exceptions.InvalidURL"),
        (
            "http:///path",
            "missing_host",
            "requests.exceptions.InvalidURL",
        ),
        (
            "http://127.0.0.1:99999/",
            "invalid_port",
            "requests.exceptions.InvalidURL",
        ),
        (
            "http://[::1/",
            "invalid_url",
            "requests.exceptions.InvalidURL",
        ),
    ];
    for (url, kind, requests) in cases {
        let (doc, code) = probe(&[url]).await;
        assert_failure(&doc, code, "url", kind, requests, 3);
    }
    let (doc, _) = probe(&["localhost:8080/health"]).await;
    assert!(
        doc["verdict"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("http://localhost:8080/health"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn text_report_fits_80_columns_and_has_every_part() {
    let server = TlsServer::start(CertKind::Expired, Behavior::ok("x")).await;
    let ca = server.ca_pem_path.display().to_string();
    let run = netpeel(&["--report", "--cacert", &ca, &server.url()]).await;
    assert_eq!(run.code, 7);
    for line in run.stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "too wide ({}): {line}",
            line.chars().count()
        );
    }
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when stdout is not a tty"
    );
    for part in [
        "DNS",
        "TCP",
        "TLS",
        "certificate chain",
        "VERDICT: TLS failed (cert_expired)",
        "requests.exceptions.SSLError",
        "curl would exit 60",
        "hint:",
        "exit code 7",
    ] {
        assert!(
            run.stdout.contains(part),
            "missing '{part}' in\n{}",
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn report_shows_the_waterfall_and_response_head() {
    let server = HttpServer::start(Behavior::ok("hello")).await;
    let run = netpeel(&[&server.url()]).await;
    assert_eq!(run.code, 0);
    for part in [
        "URL",
        "DNS",
        "TCP",
        "TLS",
        "HTTP",
        "skipped",
        "< HTTP/1.1 200 OK",
        "VERDICT: ok",
        "exit code 0",
    ] {
        assert!(
            run.stdout.contains(part),
            "missing '{part}' in\n{}",
            run.stdout
        );
    }
}

#[test]
fn readme_verdict_table_matches_the_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let table = netpeel::verdict_table_markdown();
    assert!(
        readme.contains(&table),
        "README.md's verdict table is stale: paste the output of `netpeel --verdict-table`"
    );
}

/// Ctrl-C and SIGTERM end a probe that is waiting on a stalled server, at once, with 130.
#[tokio::test(flavor = "multi_thread")]
async fn signals_interrupt_a_stalled_probe() {
    for signal in ["-INT", "-TERM", "-HUP"] {
        let server = HttpServer::start(Behavior::StallBeforeResponse).await;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"))
            .args(["--read-timeout", "30", &server.url()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn netpeel");
        // Wait until the request reached the server, so the probe is really stalled.
        for _ in 0..100 {
            if !server.requests().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            !server.requests().is_empty(),
            "netpeel never sent its request"
        );
        let pid = child.id().expect("pid").to_string();
        let killed = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        let status = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait())
            .await
            .expect("netpeel stopped within 5 s of the signal")
            .expect("wait");
        assert_eq!(status.code(), Some(130), "after {signal}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn long_urls_are_wrapped_within_80_columns() {
    let url = format!("app.test/{}?q={}", "segment/".repeat(20), "v".repeat(90));
    let run = netpeel(&[&url]).await;
    assert_eq!(run.code, 3);
    for line in run.stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "too wide ({}): {line}",
            line.chars().count()
        );
    }
}

/// Every number that is a time measured on this run, replaced, so two runs compare equal.
fn without_timings(doc: &mut serde_json::Value) {
    match doc {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key.ends_with("_ms") && value.is_number() {
                    *value = serde_json::Value::from(0);
                } else if let Some(text) = value.as_str() {
                    *value = serde_json::Value::from(without_durations(text));
                } else {
                    without_timings(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

/// "after 2 ms" → "after # ms": sentences quote times too.
fn without_durations(text: &str) -> String {
    let mut out = String::new();
    let mut start: Option<usize> = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let in_number = c.is_ascii_digit() || (c == '.' && start.is_some());
        match (start, in_number) {
            (None, true) => start = Some(i),
            (Some(from), false) => {
                let rest = &text[i..];
                let timed = rest.starts_with(" ms") || rest.starts_with(" s");
                out.push_str(if timed { "#" } else { &text[from..i] });
                start = None;
            }
            _ => {}
        }
        if !in_number && i < text.len() {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn format_json_and_text_print_what_the_json_and_report_aliases_print() {
    // A refused port on loopback: nothing to wait for, a full document with a verdict.
    let url = "http://127.0.0.1:1/health";
    let by_format = netpeel(&["--format", "json", url]).await;
    let by_alias = netpeel(&["--json", url]).await;
    assert_eq!(by_format.code, by_alias.code);
    let (mut a, mut b) = (by_format.json(), by_alias.json());
    without_timings(&mut a);
    without_timings(&mut b);
    assert_eq!(a, b);
    assert_eq!(a["verdict"]["kind"], "connection_refused", "{a:#}");

    let text = netpeel(&["--format", "text", url]).await;
    let report = netpeel(&["--report", url]).await;
    assert_eq!(text.code, report.code);
    assert!(text.stdout.starts_with("netpeel ") && text.stdout.contains("VERDICT: TCP failed"));
    assert_eq!(
        text.stdout.lines().next(),
        report.stdout.lines().next(),
        "same report head"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn format_refuses_unknown_names_and_conflicting_aliases() {
    for (args, mentions) in [
        (&["--format", "xml", "http://127.0.0.1/"][..], "xml"),
        (
            &["--format", "json", "--report", "http://127.0.0.1/"][..],
            "--format",
        ),
        (
            &["--format", "text", "--json", "http://127.0.0.1/"][..],
            "--format",
        ),
    ] {
        let run = netpeel(args).await;
        assert_one_line_usage_error(&run, mentions);
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // `netpeel --verdict-table | true`: stdout is a pipe nobody reads. No panic, no "internal
    // error", a normal exit.
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netpeel"))
        .arg("--verdict-table")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn netpeel");
    drop(child.stdout.take());
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
