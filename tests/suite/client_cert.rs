//! Mutual TLS: `--cert`/`--key` against a server that requires a client certificate, in TLS 1.3
//! (the refusal comes after the client's handshake, on the first read) and TLS 1.2 (inside the
//! handshake); the curl column checked against the real curl; bad files as usage errors.

use testkit::http::Behavior;
use testkit::tls::certs::ClientCertKind;
use testkit::tls::{CertKind, ClientAuth, ClientCertFiles, TlsOptions, TlsServer};

use crate::common::{assert_failure, netpeel, probe, stage, status};

const SSL: &str = "requests.exceptions.SSLError";

async fn mtls_server(tls12_only: bool) -> TlsServer {
    TlsServer::start_with(TlsOptions {
        client_auth: ClientAuth::Required,
        tls12_only,
        ..TlsOptions::new(CertKind::Valid, Behavior::ok("ok\n"))
    })
    .await
}

/// `--cacert` and the loopback pin for the server, then `extra`, then its URL.
fn args_for(server: &TlsServer, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--cacert".to_string(),
        server.ca_pem_path.display().to_string(),
        "--resolve".to_string(),
        format!("localhost:{}:127.0.0.1", server.addr.port()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(server.url());
    args
}

/// The verdict names TLS. In TLS 1.2 the TLS stage failed; in TLS 1.3 the handshake completed
/// (the stages say so) and the alert came on the HTTP stage's first read.
fn assert_tls_verdict(doc: &serde_json::Value, code: i32, kind: &str, tls12_only: bool) {
    if tls12_only {
        return assert_failure(doc, code, "tls", kind, SSL, 7);
    }
    let v = &doc["verdict"];
    assert_eq!(
        (v["layer"].as_str(), v["kind"].as_str()),
        (Some("tls"), Some(kind)),
        "{v:#}"
    );
    assert_eq!(v["requests_exception"], SSL, "{v:#}");
    assert_eq!(code, 7, "{v:#}");
    assert_eq!(status(doc, "tls"), "ok");
    assert_eq!(status(doc, "http"), "failed");
    let summary = v["summary"].as_str().unwrap_or("");
    assert!(summary.contains("seemed done"), "{summary}");
}

async fn probe_with(server: &TlsServer, extra: &[&str]) -> (serde_json::Value, i32) {
    let args = args_for(server, extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    probe(&refs).await
}

fn cert_args(files: &ClientCertFiles) -> [String; 4] {
    [
        "--cert".into(),
        files.cert.display().to_string(),
        "--key".into(),
        files.key.display().to_string(),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn no_client_certificate_is_a_tls_failure_in_tls13_and_tls12() {
    for tls12_only in [false, true] {
        let server = mtls_server(tls12_only).await;
        let (doc, code) = probe_with(&server, &[]).await;
        assert_tls_verdict(&doc, code, "client_cert_required", tls12_only);
        let v = &doc["verdict"];
        assert!(v["hint"].as_str().unwrap_or("").contains("--cert"), "{v:#}");
        let expected_curl = if tls12_only { 98 } else { 56 };
        assert_eq!(
            v["curl_exit"], expected_curl,
            "tls12_only {tls12_only}: {v:#}"
        );
        let tls = &stage(&doc, "tls")["detail"];
        assert_eq!(tls["client_cert_requested"], true, "{tls:#}");
        assert!(tls["client_cert_sent"].is_null(), "{tls:#}");
        let issuers = tls["client_cert_issuers"].to_string();
        assert!(issuers.contains("netpeel test client CA"), "{issuers}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_valid_client_certificate_gets_through() {
    let server = mtls_server(false).await;
    let files = ClientCertFiles::write(ClientCertKind::Valid);
    let extra = cert_args(&files);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let (doc, code) = probe_with(&server, &extra).await;
    assert_eq!(code, 0, "{doc:#}");
    let tls = &stage(&doc, "tls")["detail"];
    assert_eq!(tls["client_cert_requested"], true);
    assert!(
        tls["client_cert_sent"]
            .as_str()
            .unwrap_or("")
            .contains("netpeel test client"),
        "{tls:#}"
    );
    // The key may sit in the certificate's file, as curl and requests' cert=path read it.
    let combined = files.combined.display().to_string();
    let (doc, code) = probe_with(&server, &["--cert", &combined]).await;
    assert_eq!(code, 0, "{doc:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_certificate_the_server_does_not_trust_is_rejected() {
    for (kind, alert) in [
        (ClientCertKind::UnknownCa, "unknown_ca"),
        (ClientCertKind::Expired, "certificate_expired"),
    ] {
        for tls12_only in [false, true] {
            let server = mtls_server(tls12_only).await;
            let files = ClientCertFiles::write(kind);
            let extra = cert_args(&files);
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let (doc, code) = probe_with(&server, &extra).await;
            assert_tls_verdict(&doc, code, "client_cert_rejected", tls12_only);
            // The alert names why, unless the write of the last flight lost the race with the
            // server's close (TLS 1.2): then the summary says the server dropped it.
            let summary = doc["verdict"]["summary"].as_str().unwrap_or("");
            assert!(
                summary.contains(alert) || summary.contains("dropped the connection"),
                "{kind:?}: {summary}"
            );
        }
    }
}

/// The real curl's exit code against `server`, with `extra` flags (-sS, the test CA, the pin).
async fn curl_exit(server: &TlsServer, extra: &[&str]) -> i32 {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-sS", "-o", "/dev/null", "--max-time", "10"]);
    cmd.args(args_for(server, extra));
    crate::common::hermetic(&mut cmd);
    let out = crate::common::output_within(&mut cmd, std::time::Duration::from_secs(20))
        .await
        .expect("curl runs");
    out.status.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_exits_as_the_verdict_says() {
    if !crate::common::curl_available("client certificate") {
        return;
    }
    let unknown = ClientCertFiles::write(ClientCertKind::UnknownCa);
    let valid = ClientCertFiles::write(ClientCertKind::Valid);
    for tls12_only in [false, true] {
        let server = mtls_server(tls12_only).await;
        for files in [None, Some(&unknown), Some(&valid)] {
            let extra: Vec<String> = files.map(|f| cert_args(f).to_vec()).unwrap_or_default();
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let (doc, _) = probe_with(&server, &extra).await;
            let claimed = doc["verdict"]["curl_exit"].as_i64();
            let curl = curl_exit(&server, &extra).await;
            assert_eq!(
                claimed,
                Some(i64::from(curl)),
                "tls12_only {tls12_only}, cert {:?}: {:#}",
                files.map(|f| &f.cert),
                doc["verdict"]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_certificate_or_key_files_are_usage_errors() {
    let files = ClientCertFiles::write(ClientCertKind::Valid);
    let other = ClientCertFiles::write(ClientCertKind::Valid);
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, b"\x30\x82\x01\x00 DER bytes, not PEM").expect("write");
    let huge = dir.path().join("huge.pem");
    std::fs::write(&huge, vec![b'A'; 2 * 1024 * 1024]).expect("write");
    let missing = dir.path().join("missing.pem");
    let cert = files.cert.display().to_string();
    let show = |p: &std::path::Path| p.display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--cert".into(), show(&missing)], "cannot read"),
        (vec!["--cert".into(), show(&not_pem)], "PEM"),
        (vec!["--cert".into(), show(&huge)], "larger than"),
        // The certificate alone, without its key anywhere.
        (vec!["--cert".into(), cert.clone()], "--key"),
        (
            vec![
                "--cert".into(),
                cert.clone(),
                "--key".into(),
                show(&not_pem),
            ],
            "not a PEM private key",
        ),
        (
            vec![
                "--cert".into(),
                cert.clone(),
                "--key".into(),
                show(&other.key),
            ],
            "does not match",
        ),
        (vec!["--key".into(), show(&files.key)], "--cert"),
    ];
    for (flags, words) in cases {
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.push("https://127.0.0.1:9/");
        let run = netpeel(&args).await;
        assert_eq!(run.code, 2, "{flags:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{flags:?}: {}", run.stdout);
        let line = run.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{flags:?}: one line: {line}");
        assert!(line.contains(words), "{flags:?}: {line}");
        assert!(!line.contains("PRIVATE KEY-----"), "key material: {line}");
    }
}
