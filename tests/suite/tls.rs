//! TLS stage against rcgen certificates: each certificate problem its own kind, the chain shown
//! even when verification fails, `--insecure` still reporting what verification found, and the
//! non-certificate failures (plain HTTP on the port, stall, close, alert).

use testkit::http::{Behavior, HttpServer};
use testkit::tls::{CertKind, TlsOptions, TlsServer};

use crate::common::{assert_failure, probe, probe_env, stage};

const SSL: &str = "requests.exceptions.SSLError";

async fn cert_case(kind: CertKind) -> (serde_json::Value, i32, TlsServer) {
    let server = TlsServer::start(kind, Behavior::ok("secret")).await;
    let ca = server.ca_pem_path.display().to_string();
    let (doc, code) = probe(&["--cacert", &ca, &server.url()]).await;
    (doc, code, server)
}

fn leaf(doc: &serde_json::Value) -> serde_json::Value {
    stage(doc, "tls")["detail"]["chain"][0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_certificate_with_cacert() {
    let (doc, code, _s) = cert_case(CertKind::Valid).await;
    assert_eq!(code, 0, "{doc:#}");
    let tls = &stage(&doc, "tls")["detail"];
    assert_eq!(tls["verified"], true);
    assert_eq!(tls["sni"], "localhost");
    assert_eq!(tls["alpn_offered"], serde_json::json!(["http/1.1"]));
    assert!(
        tls["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("TLSv1."))
    );
    assert!(tls["cipher"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(
        leaf(&doc)["names"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n == "localhost"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn expired() {
    let (doc, code, _s) = cert_case(CertKind::Expired).await;
    assert_failure(&doc, code, "tls", "cert_expired", SSL, 7);
    assert_eq!(
        doc["verdict"]["urllib3_cause"],
        "urllib3.exceptions.SSLError"
    );
    assert_eq!(doc["verdict"]["curl_exit"], 60);
    // The chain is shown although verification failed.
    let days = leaf(&doc)["days_left"].as_i64().unwrap_or(0);
    assert!((-4..=-2).contains(&days), "days_left {days}");
    assert!(
        doc["verdict"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("expired") && s.contains("days ago"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn not_yet_valid() {
    let (doc, code, _s) = cert_case(CertKind::NotYetValid).await;
    assert_failure(&doc, code, "tls", "cert_not_yet_valid", SSL, 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_name_lists_the_names_the_certificate_has() {
    let (doc, code, _s) = cert_case(CertKind::WrongName).await;
    assert_failure(&doc, code, "tls", "cert_name_mismatch", SSL, 7);
    let summary = doc["verdict"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("wrong.test") && summary.contains("localhost"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_is_told_apart_from_unknown_issuer() {
    let (doc, code, _s) = cert_case(CertKind::SelfSigned).await;
    assert_failure(&doc, code, "tls", "cert_self_signed", SSL, 7);
    assert_eq!(leaf(&doc)["self_signed"], true);

    let (doc, code, _s) = cert_case(CertKind::UnknownCa).await;
    assert_failure(&doc, code, "tls", "cert_unknown_issuer", SSL, 7);
    assert_eq!(leaf(&doc)["self_signed"], false);
    assert!(
        leaf(&doc)["issuer"]
            .as_str()
            .is_some_and(|i| i.contains("untrusted"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ca_certificate_used_as_the_server_certificate() {
    let (doc, code, _s) = cert_case(CertKind::CaAsEndEntity).await;
    assert_failure(&doc, code, "tls", "cert_ca_as_end_entity", SSL, 7);
    assert_eq!(leaf(&doc)["is_ca"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn built_in_roots_do_not_trust_the_test_ca() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(&doc, code, "tls", "cert_unknown_issuer", SSL, 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn ca_bundle_from_requests_environment_variable() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let ca = server.ca_pem_path.display().to_string();
    let (doc, code) = probe_env(&[&server.url()], &[("REQUESTS_CA_BUNDLE", &ca)]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["settings"]["ca_source"], "REQUESTS_CA_BUNDLE");
}

#[tokio::test(flavor = "multi_thread")]
async fn insecure_connects_but_still_reports_what_verification_found() {
    let server = TlsServer::start(CertKind::Expired, Behavior::ok("body")).await;
    let ca = server.ca_pem_path.display().to_string();
    let (doc, code) = probe(&["-k", "--cacert", &ca, &server.url()]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["settings"]["insecure"], true);
    let tls = &stage(&doc, "tls")["detail"];
    assert_eq!(tls["insecure"], true);
    assert_eq!(tls["verified"], false);
    assert_eq!(tls["verification_error_kind"], "cert_expired");
    let notes = doc["verdict"]["notes"].to_string();
    assert!(
        notes.contains("--insecure") && notes.contains("cert_expired"),
        "{notes}"
    );
    // And the plain report shows it too.
    let run = crate::common::netpeel(&["-k", "--cacert", &ca, &server.url()]).await;
    assert!(run.stdout.contains("--insecure"), "{}", run.stdout);
    assert!(
        run.stdout.contains("verification would FAIL"),
        "{}",
        run.stdout
    );
}

/// A plain-HTTP server that answers 400 to the first bytes it gets, as nginx or Apache do when
/// a TLS ClientHello arrives on their plain port.
async fn plain_http_answering_anything() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        // One connection is all the test makes; bounded by the test's own lifetime.
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(5), sock.read(&mut buf)).await;
            let _ = sock
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_on_an_https_url() {
    let (addr, task) = plain_http_answering_anything().await;
    let (doc, code) = probe(&[&format!("https://{addr}/")]).await;
    task.abort();
    assert_failure(&doc, code, "tls", "not_tls", SSL, 7);
    assert_eq!(doc["verdict"]["curl_exit"], 35);
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_stall_is_bounded_by_the_connect_timeout() {
    let server = HttpServer::start(Behavior::AcceptAndHold).await;
    let (doc, code) = probe(&[
        "--connect-timeout",
        "0.5",
        "--read-timeout",
        "5",
        &format!("https://{}/", server.addr),
    ])
    .await;
    // requests raises ReadTimeout here, although the connect timeout is what runs out.
    assert_failure(
        &doc,
        code,
        "tls",
        "tls_handshake_timeout",
        "requests.exceptions.ReadTimeout",
        7,
    );
    assert_eq!(doc["verdict"]["governing_timeout"], "connect");
    let ms = stage(&doc, "tls")["elapsed_ms"].as_f64().unwrap_or(0.0);
    assert!((450.0..2500.0).contains(&ms), "handshake took {ms} ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn server_closes_during_the_handshake() {
    let server = HttpServer::start(Behavior::ReadThenClose).await;
    let (doc, code) = probe(&[&format!("https://{}/", server.addr)]).await;
    assert_failure(&doc, code, "tls", "tls_closed", SSL, 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_from_the_server_is_named() {
    // The server only speaks h2; we offer http/1.1, so it refuses with an alert.
    let server = TlsServer::start_with(TlsOptions {
        alpn: vec![b"h2".to_vec()],
        ..TlsOptions::new(CertKind::Valid, Behavior::ok("x"))
    })
    .await;
    let ca = server.ca_pem_path.display().to_string();
    let (doc, code) = probe(&["--cacert", &ca, &server.url()]).await;
    assert_failure(&doc, code, "tls", "tls_alert", SSL, 7);
    assert_eq!(
        stage(&doc, "tls")["detail"]["alert"],
        "no_application_protocol"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_address_urls_send_no_sni_and_verify_the_ip() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let ca = server.ca_pem_path.display().to_string();
    let (doc, code) = probe(&[
        "--cacert",
        &ca,
        &format!("https://127.0.0.1:{}/", server.addr.port()),
    ])
    .await;
    assert_eq!(code, 0, "{doc:#}");
    assert!(stage(&doc, "tls")["detail"]["sni"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn server_resets_during_the_handshake() {
    let server = HttpServer::start(Behavior::ReadThenReset).await;
    let (doc, code) = probe(&[&format!("https://{}/", server.addr)]).await;
    // A reset (not a close) is raised by requests as ConnectionError, not SSLError.
    assert_failure(
        &doc,
        code,
        "tls",
        "tls_reset",
        "requests.exceptions.ConnectionError",
        7,
    );
}

/// A certificate with only a CN: requests (and netpeel) fail on the name, curl (OpenSSL) falls
/// back to the CN and goes on. The verdict says so, and the real curl agrees.
#[tokio::test(flavor = "multi_thread")]
async fn a_cn_only_certificate_is_a_mismatch_that_curl_accepts() {
    let server = TlsServer::start(CertKind::CnOnly, Behavior::ok("ok\n")).await;
    let ca = server.ca_pem_path.display().to_string();
    let pin = format!("localhost:{}:127.0.0.1", server.addr.port());
    let url = server.url();
    let (doc, code) = probe(&["--cacert", &ca, "--resolve", &pin, &url]).await;
    assert_failure(&doc, code, "tls", "cert_name_mismatch", SSL, 7);
    let v = &doc["verdict"];
    assert_eq!(v["curl_exit"], 0, "{v:#}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("disagree") && notes.contains("CN (localhost)"),
        "{notes}"
    );
    // By IP address OpenSSL does not look at the CN: curl fails too, as the table says.
    let by_ip = format!("https://127.0.0.1:{}/", server.addr.port());
    let (doc, _) = probe(&["--cacert", &ca, &by_ip]).await;
    assert_eq!(doc["verdict"]["curl_exit"], 60, "{:#}", doc["verdict"]);

    if !crate::common::curl_available("CN fallback") {
        return;
    }
    for (args, expected) in [
        (vec!["--resolve", pin.as_str(), url.as_str()], 0),
        (vec![by_ip.as_str()], 60),
    ] {
        let mut cmd = tokio::process::Command::new("curl");
        cmd.args([
            "-sS",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
            "--cacert",
            &ca,
        ]);
        cmd.args(&args);
        crate::common::hermetic(&mut cmd);
        let out = crate::common::output_within(&mut cmd, std::time::Duration::from_secs(20))
            .await
            .expect("curl runs");
        assert_eq!(
            out.status.code(),
            Some(expected),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A server that refuses netpeel's ClientHello (rustls offers only ECDHE with AEAD suites and
/// TLS 1.3) but takes a suite requests or curl offers: netpeel asks which, and says so. Checked
/// against the real requests and the real curl with the same server.
#[tokio::test(flavor = "multi_thread")]
async fn suites_only_requests_or_only_curl_offer_are_told_apart() {
    if !crate::common::requests_available("legacy suites")
        || !crate::common::curl_available("legacy suites")
    {
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/differential");
    let ca = format!("{dir}/legacy-tls/cert.pem");
    // (OpenSSL cipher string, netpeel's kind, requests gets through)
    let cases = [
        ("ECDHE-RSA-AES128-SHA256", "tls_cipher_unsupported", true),
        ("AES128-SHA", "tls_alert", false),
    ];
    for (ciphers, kind, requests_connects) in cases {
        let mut server = tokio::process::Command::new("python3");
        server
            .arg(format!("{dir}/legacy_tls_server.py"))
            .arg(ciphers)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut server = server.spawn().expect("legacy TLS server");
        let mut port = String::new();
        {
            use tokio::io::AsyncBufReadExt;
            let out = server.stdout.take().expect("server stdout");
            let mut lines = tokio::io::BufReader::new(out).lines();
            let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
                .await
                .expect("the server says its port in time");
            port.push_str(&line.ok().flatten().unwrap_or_default());
        }
        let url = format!("https://127.0.0.1:{}/", port.trim());
        let (doc, _) = crate::common::probe(&["--cacert", &ca, &url]).await;
        let v = &doc["verdict"];
        assert_eq!(v["kind"], kind, "{ciphers}: {v:#}");
        assert!(
            v["curl_exit"].is_null(),
            "curl goes on with {ciphers}: {v:#}"
        );

        let oracle =
            crate::differential::requests_oracle(&["--cacert".into(), ca.clone(), url.clone()])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            oracle["outcome"] == "ok",
            requests_connects,
            "{ciphers}: {oracle}"
        );
        if !requests_connects {
            assert_eq!(oracle["exception"], v["requests_exception"], "{ciphers}");
        }
        let mut curl = tokio::process::Command::new("curl");
        curl.args(["-s", "-o", "/dev/null", "--cacert", &ca, &url]);
        crate::common::hermetic(&mut curl);
        let out = crate::common::output_within(&mut curl, std::time::Duration::from_secs(20))
            .await
            .expect("curl");
        assert_eq!(out.status.code(), Some(0), "curl with {ciphers}");
    }
}

/// Issue 11: the note that curl ignores REQUESTS_CA_BUNDLE is about certificates; a failure
/// before any certificate (a stalled handshake, plain HTTP on the port) does not repeat it.
#[tokio::test(flavor = "multi_thread")]
async fn the_ca_bundle_note_follows_only_a_verified_certificate() {
    const NOTE: &str = "requests and curl disagree here";
    let verified = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let ca = verified.ca_pem_path.display().to_string();
    let (doc, code) = probe_env(&[&verified.url()], &[("REQUESTS_CA_BUNDLE", &ca)]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        doc["verdict"]["notes"].to_string().contains(NOTE),
        "{doc:#}"
    );
    for behavior in [Behavior::AcceptAndHold, Behavior::ReadThenBadRequest] {
        let server = TlsServer::start(CertKind::Valid, behavior).await;
        let (doc, code) = probe_env(
            &["--connect-timeout", "0.3", &server.url()],
            &[("REQUESTS_CA_BUNDLE", &ca)],
        )
        .await;
        assert_eq!(code, 7, "{doc:#}");
        assert!(
            !doc["verdict"]["notes"].to_string().contains(NOTE),
            "{doc:#}"
        );
    }
}
