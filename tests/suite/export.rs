//! `--export` writes the request netpeel sent (headers, proxy, credentials, TLS trust) as a
//! requests snippet and a curl command line that run as pasted, with every secret read from an
//! environment variable the snippet names. Checked by running both against loopback servers.

use std::collections::HashMap;
use std::time::Duration;

use testkit::http::{Behavior, HttpServer};
use testkit::proxy::{ProxyBehavior, ProxyServer};

use crate::common;

const SECRETS: [&str; 4] = ["abcdef123", "k-123456", "pr@xy", "s3cret"];

/// The secrets the snippets must read, as the user would export them.
const ENV: [(&str, &str); 4] = [
    ("NETPEEL_AUTHORIZATION", "Bearer abcdef123"),
    ("NETPEEL_X_API_KEY", "k-123456"),
    ("NETPEEL_PROXY_PASSWORD", "pr@xy"),
    ("NETPEEL_URL_PASSWORD", "s3cret"),
];

async fn export(format: &str, flags: &[&str]) -> String {
    let mut args = vec!["--export", format];
    args.extend_from_slice(flags);
    let run = common::netpeel(&args).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for secret in SECRETS.iter().chain(&["pr%40xy"]) {
        assert!(
            !run.stdout.contains(secret),
            "{secret} written into the export:\n{}",
            run.stdout
        );
    }
    run.stdout
}

/// Run a snippet with the secrets in the environment (and nothing else of the developer's).
async fn run_snippet(program: &str, flag: &str, snippet: &str) -> common::Run {
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg(flag).arg(snippet);
    common::hermetic(&mut cmd);
    for (k, v) in ENV {
        cmd.env(k, v);
    }
    let out = common::output_within(&mut cmd, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Export `flags` as Python and as curl, run each as pasted, and return the head the server
/// saw from each.
async fn run_both_exports(flags: &[&str], server: &HttpServer) -> Vec<(&'static str, String)> {
    let mut heads = Vec::new();
    for (format, program, flag) in [("python", "python3", "-c"), ("curl", "sh", "-c")] {
        let snippet = export(format, flags).await;
        let ran = run_snippet(program, flag, &snippet).await;
        assert_eq!(ran.code, 0, "{format}:\n{snippet}\n{}", ran.stderr);
        heads.push((format, last_head(server)));
    }
    heads
}

/// The head the server saw last, lower-cased for header-name matching.
fn last_head(server: &HttpServer) -> String {
    server
        .requests()
        .last()
        .cloned()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_send_the_headers_and_proxy_credentials_from_variables() {
    if !common::requests_available("export") {
        return;
    }
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward {
            require_auth: Some(("bob".into(), "pr@xy".into())),
        },
        HashMap::new(),
    )
    .await;
    let server = HttpServer::start(Behavior::ok("ok\n")).await;
    let proxy_url = proxy.url().replace("://", "://bob:pr%40xy@");
    let url = server.url();
    let flags = [
        "-H",
        "Authorization: Bearer abcdef123",
        "-H",
        "X-Api-Key: k-123456",
        "-H",
        "X-Trace: 7",
        "--proxy",
        proxy_url.as_str(),
        url.as_str(),
    ];
    for (format, head) in run_both_exports(&flags, &server).await {
        for want in [
            "authorization: bearer abcdef123",
            "x-api-key: k-123456",
            "x-trace: 7",
        ] {
            assert!(head.contains(want), "{format}: {want} not sent:\n{head}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_send_the_url_password_from_a_variable() {
    if !common::requests_available("export") {
        return;
    }
    let server = HttpServer::start(Behavior::ok("ok\n")).await;
    let url = server.url().replace("://", "://alice:s3cret@");
    // base64("alice:s3cret")
    let basic = "authorization: basic ywxpy2u6cznjcmv0";
    for (format, program, flag) in [("python", "python3", "-c"), ("curl", "sh", "-c")] {
        let snippet = export(format, &["--no-follow", &url]).await;
        let ran = run_snippet(program, flag, &snippet).await;
        assert_eq!(ran.code, 0, "{format}:\n{snippet}\n{}", ran.stderr);
        assert!(
            last_head(&server).contains(basic),
            "{format}:\n{}",
            last_head(&server)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_remove_headers_given_without_a_value() {
    if !common::requests_available("export") {
        return;
    }
    let server = HttpServer::start(Behavior::ok("ok\n")).await;
    let url = server.url();
    let flags = [
        "-H",
        "Accept:",
        "-H",
        "Cookie:",
        "-H",
        "X-Trace: 7",
        url.as_str(),
    ];
    for (format, head) in run_both_exports(&flags, &server).await {
        assert!(head.contains("x-trace: 7"), "{format}:\n{head}");
        for gone in ["\r\naccept:", "\r\ncookie:"] {
            assert!(!head.contains(gone), "{format} sent {gone:?}:\n{head}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_keep_tls_settings_and_say_what_they_leave_out() {
    let python = export(
        "python",
        &[
            "-k",
            "--resolve",
            "api.test:443:127.0.0.1",
            "--http2",
            "https://api.test/",
        ],
    )
    .await;
    assert!(python.contains("verify=False"), "{python}");
    assert!(
        python.contains("--resolve api.test:443:127.0.0.1"),
        "{python}"
    );
    assert!(
        python.contains("--http2: requests speaks HTTP/1.1 only"),
        "{python}"
    );
    let curl = export(
        "curl",
        &[
            "-k",
            "--resolve",
            "api.test:443:127.0.0.1",
            "https://api.test/",
        ],
    )
    .await;
    for part in [
        "-k",
        "--resolve api.test:443:127.0.0.1",
        "-L --max-redirs 30",
    ] {
        assert!(curl.contains(part), "{part}:\n{curl}");
    }
}
