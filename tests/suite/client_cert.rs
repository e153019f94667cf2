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
        let expected_curl = if tls12_only { 35 } else { 56 };
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
            let summary = doc["verdict"]["summary"].as_str().unwrap_or("");
            assert!(summary.contains(alert), "{kind:?}: {summary}");
        }
    }
}
