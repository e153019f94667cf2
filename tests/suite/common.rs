//! Running the netpeel binary and reading its JSON, shared by every scenario module.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

/// Upper bound for one netpeel run in a test: far above any timeout the tests set, so a hang
/// fails the test instead of the suite.
const RUN_BOUND: Duration = Duration::from_secs(30);

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Run the netpeel binary with `args` (async, so servers on this runtime keep serving).
pub async fn netpeel(args: &[&str]) -> Run {
    netpeel_env(args, &[]).await
}

/// Run netpeel with extra environment variables; the CA-bundle and proxy variables are always
/// cleared so the developer's environment cannot change a verdict.
pub async fn netpeel_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpeel"));
    cmd.args(args);
    hermetic(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = output_within(&mut cmd, RUN_BOUND)
        .await
        .unwrap_or_else(|e| panic!("netpeel {args:?}: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A child process that reads nothing, whose output is captured, that dies with the test, and
/// that cannot see the developer's CA bundle or proxy variables (nor NO_COLOR).
pub fn hermetic(cmd: &mut tokio::process::Command) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "NO_COLOR",
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
}

/// Run `cmd` to the end, or fail after `bound` (the child is killed).
pub async fn output_within(
    cmd: &mut tokio::process::Command,
    bound: Duration,
) -> Result<std::process::Output, String> {
    let child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    tokio::time::timeout(bound, child.wait_with_output())
        .await
        .map_err(|_| format!("did not finish within {bound:?}"))?
        .map_err(|e| format!("no output: {e}"))
}

/// `netpeel --json ARGS…`, schema-checked. Returns the document and the exit code.
pub async fn probe(args: &[&str]) -> (Value, i32) {
    probe_env(args, &[]).await
}

pub async fn probe_env(args: &[&str], env: &[(&str, &str)]) -> (Value, i32) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = netpeel_env(&all, env).await;
    let doc = run.json();
    crate::schema::assert_valid(&doc);
    assert_eq!(
        doc["verdict"]["exit_code"].as_i64(),
        Some(run.code as i64),
        "exit code and verdict.exit_code differ"
    );
    (doc, run.code)
}

/// The stage object named `name` ("dns", "tcp", …).
pub fn stage<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["stages"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["stage"] == name))
        .unwrap_or_else(|| panic!("no stage {name} in {doc:#}"))
}

pub fn status<'a>(doc: &'a Value, name: &str) -> &'a str {
    stage(doc, name)["status"].as_str().unwrap_or("?")
}

/// What every failure scenario asserts: layer, kind, requests' exception ("" = none) and exit
/// code, and that the stages before the failing one succeeded (or were skipped).
pub fn assert_failure(
    doc: &Value,
    code: i32,
    layer: &str,
    kind: &str,
    requests: &str,
    exit_code: i32,
) {
    let v = &doc["verdict"];
    assert_eq!(v["layer"], layer, "layer in {v:#}");
    assert_eq!(v["kind"], kind, "kind in {v:#}");
    if requests.is_empty() {
        assert!(
            v["requests_exception"].is_null(),
            "no requests equivalent expected: {v:#}"
        );
    } else {
        assert_eq!(
            v["requests_exception"], requests,
            "requests exception in {v:#}"
        );
    }
    assert_eq!(code, exit_code, "exit code; verdict {v:#}");
    let order = ["url", "dns", "tcp", "proxy", "tls", "http"];
    let failed_at = order.iter().position(|s| *s == layer).expect("known layer");
    for before in &order[..failed_at] {
        let st = status(doc, before);
        assert!(
            st == "ok" || st == "skipped",
            "stage {before} should have passed, is {st}: {doc:#}"
        );
    }
    assert_eq!(
        status(doc, layer),
        "failed",
        "stage {layer} should be failed: {doc:#}"
    );
    for after in &order[failed_at + 1..] {
        assert_eq!(
            status(doc, after),
            "not_run",
            "stage {after} ran after the failure"
        );
    }
}

/// A server that answers every connection with fixed bytes (after reading the request head),
/// optionally one byte at a time: for replies the test kit has no behaviour for. Serves at most
/// 8 connections; every wait is bounded.
pub async fn raw_server(
    reply: &'static [u8],
    per_byte: Option<Duration>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                if !read_request_head(&mut sock).await {
                    return;
                }
                match per_byte {
                    None => {
                        let _ = sock.write_all(reply).await;
                    }
                    Some(gap) => {
                        for b in reply {
                            if sock.write_all(&[*b]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(gap).await;
                        }
                    }
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    (addr, task)
}

/// Read a request head (to the blank line, at most 64 KiB, 5 s per read); false when the
/// client went away, stalled or sent too much.
pub async fn read_request_head(sock: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() >= 65536 {
            return false;
        }
        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    true
}

/// True when the Python requests oracle (with PySocks) can run. Without it the test panics (CI
/// installs it), unless NETPEEL_SKIP_DIFFERENTIAL=1 says to skip: then it says so and returns false.
pub fn requests_available(test: &str) -> bool {
    // PySocks too: the proxy scenarios include SOCKS5.
    tool_available(
        test,
        ("python3", &["-c", "import requests, socks"]),
        "NETPEEL_SKIP_DIFFERENTIAL",
        "needs Python requests with SOCKS support: pip install 'requests[socks]'",
    )
}

/// Whether `program args` runs; else skipped when `skip_var`=1, else a panic saying `need`.
fn tool_available(
    test: &str,
    (program, args): (&str, &[&str]),
    skip_var: &str,
    need: &str,
) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    if std::env::var(skip_var).as_deref() == Ok("1") {
        eprintln!("note: {test} test skipped ({skip_var}=1, no {program})");
        return false;
    }
    panic!("the {test} test {need} (or set {skip_var}=1)");
}

/// Whether `python3 -c "import {modules}"` works (the watch tests' prometheus_client); else
/// skipped with NETPEEL_SKIP_DIFFERENTIAL=1, else a panic saying `need`.
pub fn python_can_import(test: &str, modules: &str, need: &str) -> bool {
    let import = format!("import {modules}");
    tool_available(
        test,
        ("python3", &["-c", &import]),
        "NETPEEL_SKIP_DIFFERENTIAL",
        need,
    )
}

/// Whether the real curl can run. Tests that check the curl column need it: they fail without
/// it unless NETPEEL_SKIP_CURL=1 says to skip them.
pub fn curl_available(test: &str) -> bool {
    tool_available(
        test,
        ("curl", &["--version"]),
        "NETPEEL_SKIP_CURL",
        "runs the real curl: install curl",
    )
}

/// Run a Python oracle script with a JSON document on stdin; its stdout must be one JSON
/// document. Panics with the script's stderr when it fails (pure scripts: no network).
pub fn python_json(script: &str, input: &Value) -> Value {
    python_stdin_json(&[script], input.to_string().as_bytes(), script)
}

/// Run `python3 ARGS…` with `input` on stdin; its stdout must be one JSON document. Panics
/// with its stderr, naming `what`, when it fails.
pub fn python_stdin_json(args: &[&str], input: &[u8], what: &str) -> Value {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).expect("write the input to python");
    }
    let out = child.wait_with_output().expect("python output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stderr}",
        out.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{what}: output is not JSON ({e}):\n{stdout}\n{stderr}"))
}

/// Send `signal` ("-INT", "-TERM", …) to the process `pid` with kill(1); panics when it fails.
pub fn send_signal(pid: u32, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .map(|s| s.success());
    assert!(matches!(sent, Ok(true)), "kill {signal} {pid}: {sent:?}");
}
