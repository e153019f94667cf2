//! Explain mode (`netpeel explain`): the corpus of real error texts (tests/explain/corpus, made by
//! tests/explain/generate_corpus.py running the real requests, httpx, aiohttp and curl against
//! loopback servers) read as the scenario that produced each; then the probe's "then vs now" against
//! servers on 127.0.0.1, `--no-probe` touching no network, and hostile or unknown pastes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use testkit::http::{Behavior, HttpServer};
use testkit::tcp::{BlackholeListener, refused_addr};

use crate::common;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/explain/corpus");

/// Kinds requests can raise that the corpus has no text for, and why. The coverage test keeps
/// this list exact: a kind added to the corpus must leave it.
const NOT_IN_CORPUS: &[(&str, &str)] = &[
    (
        "invalid_host",
        "requests percent-encodes the host and asks DNS: the text reads as a DNS failure",
    ),
    (
        "servfail",
        "glibc says EAI_AGAIN for SERVFAIL and timeouts alike: read as dns_other",
    ),
    ("dns_refused", "glibc says EAI_AGAIN: read as dns_other"),
    ("dns_timeout", "glibc says EAI_AGAIN: read as dns_other"),
    ("no_nameserver", "glibc says EAI_AGAIN: read as dns_other"),
    ("connect_reset", "loopback cannot reset a SYN"),
    ("tcp_other", "no other connect failure on loopback"),
    (
        "cert_ca_as_end_entity",
        "OpenSSL accepts a CA certificate as the server's when a trusted CA issued it, and a self-signed one reads 'self-signed certificate' (in the corpus as cert_self_signed)",
    ),
    (
        "client_cert_required",
        "TLS 1.3 reports it as an EOF (tls_closed), TLS 1.2 as a handshake_failure alert naming no certificate (tls_alert); both are in the corpus as what they read as",
    ),
    (
        "reuse_remote_disconnected",
        "the same text as remote_disconnected",
    ),
    (
        "reuse_connection_reset",
        "the same text as connection_reset",
    ),
    ("reuse_silent_drop", "the same text as read_timeout"),
    (
        "http_other",
        "a catch-all: every loopback failure has its own kind",
    ),
    (
        "tls_other",
        "a catch-all: every loopback failure has its own kind",
    ),
    (
        "proxy_tunnel_closed",
        "requests' SSLError names neither proxy nor tunnel, and its traceback is a TLS 1.3 server's close after the handshake's too: in the corpus as tls_closed",
    ),
];

struct Case {
    name: String,
    path: PathBuf,
    expected: Value,
}

fn corpus() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("{CORPUS}: {e}"))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".txt")?
                .to_string();
            let expected_path = path.with_file_name(format!("{name}.expected.json"));
            let text = std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
            let expected = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
            Some(Case {
                name,
                path,
                expected,
            })
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        cases.len() >= 100,
        "the corpus is missing: {} cases",
        cases.len()
    );
    cases
}

/// `netpeel explain --no-probe --json FILE`: the explanation, schema-checked.
async fn explain_no_probe(path: &Path) -> Value {
    let file = path.to_string_lossy();
    let run = common::netpeel(&["explain", "--no-probe", "--json", &file]).await;
    assert_eq!(run.code, 0, "{file}: {}", run.stderr);
    let doc = run.json();
    crate::schema::assert_valid_explain_only(&doc);
    doc
}

/// What the corpus case expects, against what netpeel read.
fn mismatches(case: &Case, x: &Value) -> Vec<String> {
    let e = &case.expected;
    let mut out = Vec::new();
    for (field, got) in [
        ("library", &x["source_library"]),
        ("layer", &x["layer"]),
        ("kind", &x["kind"]),
        ("scheme", &x["scheme"]),
        ("host", &x["host"]),
        ("port", &x["port"]),
        ("path", &x["path"]),
    ] {
        if &e[field] != got {
            out.push(format!("{field}: expected {}, read {got}", e[field]));
        }
    }
    let proxy = x["proxy"].as_str();
    match (&e["proxy"], proxy) {
        (Value::Null, None) => {}
        (Value::Object(p), Some(read)) => {
            let want = format!("{}:{}", p["name"].as_str().unwrap_or("?"), p["port"]);
            if !read.contains(&want) {
                out.push(format!("proxy: expected {want}, read {read}"));
            }
        }
        (want, read) => out.push(format!("proxy: expected {want}, read {read:?}")),
    }
    out
}

#[tokio::test]
async fn every_corpus_text_reads_as_the_scenario_that_produced_it() {
    let mut failures = Vec::new();
    for case in corpus() {
        let doc = explain_no_probe(&case.path).await;
        let x = &doc["explained"];
        assert_eq!(x["comparison"]["outcome"], "not_probed", "{}", case.name);
        let wrong = mismatches(&case, x);
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", case.name, wrong.join("; ")));
        }
        // The credential in the refused case's query never comes out.
        assert!(
            !doc.to_string().contains("s3cr3t"),
            "{}: secret shown",
            case.name
        );
    }
    assert!(
        failures.is_empty(),
        "{} case(s) misread:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_corpus_covers_every_kind_requests_raises_but_the_listed_ones() {
    let in_corpus: BTreeSet<String> = corpus()
        .iter()
        // urllib3's own exceptions escape requests unwrapped (invalid_host_label).
        .filter(|c| c.expected["library"] == "requests" || c.expected["library"] == "urllib3")
        .filter_map(|c| c.expected["kind"].as_str().map(str::to_string))
        .collect();
    let requests_kinds: BTreeSet<String> = netpeel::engine::verdict::Kind::ALL
        .iter()
        .filter(|k| k.info().requests_exception.is_some())
        .map(|k| k.name().to_string())
        .collect();
    let listed: BTreeSet<String> = NOT_IN_CORPUS.iter().map(|(k, _)| k.to_string()).collect();
    let unexplained: Vec<_> = requests_kinds
        .iter()
        .filter(|k| !in_corpus.contains(*k) && !listed.contains(*k))
        .collect();
    assert!(
        unexplained.is_empty(),
        "kinds requests raises with no corpus text and no reason: {unexplained:?}"
    );
    let stale: Vec<_> = listed.intersection(&in_corpus).collect();
    assert!(
        stale.is_empty(),
        "listed as missing but in the corpus: {stale:?}"
    );
}

/// A real corpus text with its port swapped for `port` (the generator's ports are gone).
fn corpus_text_on_port(name: &str, port: u16) -> String {
    let path = Path::new(CORPUS).join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_file_name(format!("{name}.expected.json")))
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let old = expected["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("{name}: no port"));
    text.replace(&format!("port={old}"), &format!("port={port}"))
        .replace(&format!(":{old}/"), &format!(":{port}/"))
}

fn paste_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut f, text.as_bytes()).expect("write paste");
    f
}

/// `netpeel explain --json FILE ARGS…` probing: the report, schema-checked, and the exit code.
async fn explain_and_probe(text: &str, extra: &[&str]) -> (Value, i32) {
    let file = paste_file(text);
    let path = file.path().to_string_lossy().to_string();
    let mut args = vec![
        "explain",
        "--json",
        "--connect-timeout",
        "2",
        "--read-timeout",
        "2",
    ];
    args.extend_from_slice(extra);
    args.push(&path);
    let run = common::netpeel(&args).await;
    let doc = run.json();
    crate::schema::assert_valid(&doc);
    assert_eq!(doc["verdict"]["exit_code"].as_i64(), Some(run.code as i64));
    (doc, run.code)
}

#[tokio::test]
async fn a_refused_port_is_still_refused_now() {
    let addr = refused_addr();
    let text = corpus_text_on_port("requests_refused", addr.port());
    let (doc, code) = explain_and_probe(&text, &[]).await;
    assert_eq!(code, 5, "{doc:#}");
    assert_eq!(doc["verdict"]["kind"], "connection_refused");
    let x = &doc["explained"];
    assert_eq!(x["kind"], "connection_refused");
    assert_eq!(x["comparison"]["outcome"], "same", "{x:#}");
    assert!(
        x["comparison"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Still failing the same way"))
    );
    // The paste's credential is masked in the probe's report too.
    assert!(!doc.to_string().contains("s3cr3t"), "{doc:#}");
    assert!(
        doc["url"].as_str().is_some_and(|u| u.contains("token=***")),
        "{}",
        doc["url"]
    );
    // And the text report shows then, the stages, then vs now.
    let file = paste_file(&text);
    let run = common::netpeel(&["explain", &file.path().to_string_lossy()]).await;
    assert_eq!(run.code, 5);
    let then = run.stdout.find("THEN  what the pasted error says");
    let stages = run.stdout.find("VERDICT: TCP failed");
    let now = run.stdout.find("THEN vs NOW");
    assert!(
        then < stages && stages < now && then.is_some(),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.lines().all(|l| l.chars().count() <= 80),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_503_that_now_succeeds_offers_watch_mode() {
    let server = HttpServer::start(Behavior::ok("fine")).await;
    let text = corpus_text_on_port("requests_http_503_line", server.addr.port());
    let (doc, code) = explain_and_probe(&text, &[]).await;
    assert_eq!(code, 0, "{doc:#}");
    let c = &doc["explained"]["comparison"];
    assert_eq!(c["outcome"], "succeeded", "{c:#}");
    assert!(
        c["suggestions"][0]
            .as_str()
            .is_some_and(|s| s.starts_with("netpeel --watch http://127.0.0.1:")),
        "{c:#}"
    );
    assert_eq!(
        server.request_lines(),
        vec!["GET /v1/items HTTP/1.1".to_string()]
    );
}

#[tokio::test]
async fn a_failure_that_changed_says_what_it_is_now() {
    let server = HttpServer::start(Behavior::CloseBeforeResponse).await;
    let text = corpus_text_on_port("requests_http_503", server.addr.port());
    let (doc, code) = explain_and_probe(&text, &[]).await;
    assert_eq!(code, 8, "{doc:#}");
    let x = &doc["explained"];
    assert_eq!(x["kind"], "http_server_error");
    assert_eq!(x["comparison"]["outcome"], "different", "{x:#}");
    assert!(
        x["comparison"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("remote_disconnected")),
        "{x:#}"
    );
}

#[tokio::test]
async fn no_probe_touches_no_network() {
    let server = HttpServer::start(Behavior::ok("x")).await;
    let text = corpus_text_on_port("requests_refused", server.addr.port());
    let file = paste_file(&text);
    let path = file.path().to_string_lossy().to_string();
    for format in ["text", "json"] {
        let run = common::netpeel(&["explain", "--no-probe", "--format", format, &path]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains("connection_refused"), "{}", run.stdout);
    }
    // Give a stray connection time to be counted.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.connections(),
        0,
        "--no-probe connected to the server"
    );
}

#[tokio::test]
async fn text_that_is_no_known_error_exits_2_with_one_line() {
    for paste in [
        "hello\nall is well\n",
        "",
        "ValueError: invalid literal for int() with base 10: 'x'\n",
        // requests' header that is not Latin-1, as a log's one line: it names no request (the
        // corpus's traceback, with its putheader frame, is read as header_not_latin1).
        "ERROR worker: builtins.UnicodeEncodeError: 'latin-1' codec can't encode character '\\u2019' in position 5: ordinal not in range(256)\n",
    ] {
        let file = paste_file(paste);
        let run = common::netpeel(&["explain", &file.path().to_string_lossy()]).await;
        assert_eq!(run.code, 2, "{paste:?}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("no error netpeel recognises"),
            "{}",
            run.stderr
        );
    }
    let run = common::netpeel(&["explain", "/nonexistent/paste.txt"]).await;
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[tokio::test]
async fn a_hostile_paste_is_escaped_and_a_huge_one_is_cut() {
    let hostile = "requests.exceptions.ConnectionError: HTTPConnectionPool(host='evil\u{1b}]0;pwned\u{7}\u{202e}.test', port=1): Max retries exceeded with url: /\u{1b}[2J (Caused by NewConnectionError(\"HTTPConnection(host='x', port=1): Failed to establish a new connection: [Errno 111] Connection refused \u{9b}31m\"))\n";
    let file = paste_file(hostile);
    let run = common::netpeel(&["explain", "--no-probe", &file.path().to_string_lossy()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for bad in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'] {
        assert!(
            !run.stdout.contains(bad),
            "{bad:?} printed raw:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("connection_refused"), "{}", run.stdout);
    // More than a MiB: the start is read, and the report says the rest was not.
    let real = std::fs::read_to_string(Path::new(CORPUS).join("requests_tls_expired_line.txt"))
        .expect("corpus text");
    let huge = format!("{real}{}", "x".repeat(1_100_000));
    let file = paste_file(&huge);
    let doc = explain_no_probe(file.path()).await;
    assert_eq!(doc["explained"]["kind"], "cert_expired");
    assert_eq!(doc["explained"]["input_truncated"], true);
}

#[tokio::test]
async fn the_paste_can_come_on_stdin() {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("curl_tls_unknown_issuer.txt"))
        .expect("corpus text");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"));
    cmd.args(["explain", "--no-probe", "--json"]);
    common::hermetic(&mut cmd);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn netpeel");
    let mut stdin = child.stdin.take().expect("stdin");
    tokio::io::AsyncWriteExt::write_all(&mut stdin, text.as_bytes())
        .await
        .expect("write");
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("netpeel finished")
        .expect("output");
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    crate::schema::assert_valid_explain_only(&doc);
    assert_eq!(doc["explained"]["kind"], "cert_unknown_issuer");
    assert_eq!(doc["explained"]["source_library"], "curl");
}

#[tokio::test]
async fn the_timeout_the_error_states_bounds_the_probe() {
    let hole = BlackholeListener::start();
    let text = corpus_text_on_port("requests_connect_timeout", hole.addr.port());
    let file = paste_file(&text);
    let started = std::time::Instant::now();
    let run = common::netpeel(&["explain", "--json", &file.path().to_string_lossy()]).await;
    let doc = run.json();
    crate::schema::assert_valid(&doc);
    assert_eq!(run.code, 5, "{doc:#}");
    // "(connect timeout=0.5)" in the paste: the probe gives up after 0.5 s, not 10.
    assert_eq!(
        doc["settings"]["connect_timeout_s"], 0.5,
        "{:#}",
        doc["settings"]
    );
    assert_eq!(doc["explained"]["timeouts_s"]["connect"], 0.5);
    assert_eq!(doc["explained"]["comparison"]["outcome"], "same");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_proxy_the_error_names_is_the_one_probed() {
    let name = "requests_proxy_refused";
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(CORPUS).join(format!("{name}.expected.json")))
            .expect("expected"),
    )
    .expect("json");
    let old = expected["proxy"]["port"].as_u64().expect("proxy port");
    let proxy = refused_addr();
    let text = std::fs::read_to_string(Path::new(CORPUS).join(format!("{name}.txt")))
        .expect("corpus text")
        .replace(&format!("port={old}"), &format!("port={}", proxy.port()));
    let file = paste_file(&text);
    let run = common::netpeel(&["explain", "--json", &file.path().to_string_lossy()]).await;
    let doc = run.json();
    crate::schema::assert_valid(&doc);
    assert_eq!(run.code, 6, "{doc:#}");
    assert_eq!(
        doc["verdict"]["kind"], "proxy_connection_refused",
        "{:#}",
        doc["verdict"]
    );
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    assert_eq!(doc["settings"]["proxy"].as_str(), Some(proxy_url.as_str()));
    assert_eq!(doc["explained"]["comparison"]["outcome"], "same");
}

#[tokio::test]
async fn a_paste_that_names_no_host_is_probed_at_the_url_given() {
    let path = Path::new(CORPUS).join("requests_remote_disconnected_line.txt");
    let file = path.to_string_lossy();
    let run = common::netpeel(&["explain", "--json", &file]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    crate::schema::assert_valid_explain_only(&doc);
    assert_eq!(doc["explained"]["comparison"]["outcome"], "not_probed");
    let server = HttpServer::start(Behavior::CloseBeforeResponse).await;
    let url = server.url();
    let run = common::netpeel(&["explain", "--json", "--url", &url, &file]).await;
    let doc = run.json();
    crate::schema::assert_valid(&doc);
    assert_eq!(run.code, 8, "{doc:#}");
    assert_eq!(doc["explained"]["comparison"]["outcome"], "same", "{doc:#}");
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_fifo_nobody_writes_to_is_read_as_empty_not_waited_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("paste.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let started = std::time::Instant::now();
    let run = common::netpeel(&["explain", "--no-probe", &fifo.to_string_lossy()]).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[tokio::test]
async fn two_separate_tracebacks_are_not_mixed_the_last_is_read() {
    let read = |name: &str| {
        std::fs::read_to_string(Path::new(CORPUS).join(format!("{name}.txt"))).expect("corpus")
    };
    let (refused, timeout) = (read("requests_refused"), read("requests_connect_timeout"));
    let only = |text: &str| {
        let file = paste_file(text);
        async move { explain_no_probe(file.path()).await["explained"].clone() }
    };
    let (refused_alone, timeout_alone) = (only(&refused).await, only(&timeout).await);
    for (paste, alone) in [
        (format!("{refused}\n{timeout}"), &timeout_alone),
        (format!("{timeout}\n{refused}"), &refused_alone),
    ] {
        let x = only(&paste).await;
        for field in ["kind", "url", "os_error", "timeouts_s", "exception_chain"] {
            assert_eq!(x[field], alone[field], "{field}: {x:#}");
        }
    }
}
