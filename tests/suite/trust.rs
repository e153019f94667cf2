//! Which store each client trusts: the trust matrix (requests, curl, the OS store, Mozilla's
//! roots) against local TLS servers whose CA is only in a test bundle, with a chain missing its
//! intermediate (fetched from a local AIA server as DER and PEM), intermediates in reverse
//! order, an expired cross-sign and an issuer named like an interception product; and the
//! differential: the real requests and the real curl, in the same environment, agree with the
//! matrix's ✓/✗ and with the verdict's curl column. Every CA variable is set explicitly.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use testkit::http::{Behavior, HttpServer};
use testkit::tls::certs;
use testkit::tls::{CertKind, TlsOptions, TlsServer};

use crate::common::{hermetic, output_within, probe_env, stage};

/// PEM files a test points the variables at; removed with the value.
struct Bundles {
    dir: tempfile::TempDir,
}

impl Bundles {
    fn new() -> Bundles {
        Bundles {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn write(&self, name: &str, pem: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, pem).expect("write bundle");
        path.display().to_string()
    }
}

fn trust(doc: &Value) -> Vec<Value> {
    stage(doc, "tls")["detail"]["trust"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn row(doc: &Value, client: &str) -> Value {
    trust(doc)
        .into_iter()
        .find(|r| r["client"] == client)
        .unwrap_or_else(|| panic!("no {client} row: {doc:#}"))
}

fn causes(doc: &Value) -> Vec<String> {
    stage(doc, "tls")["detail"]["trust_causes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["cause"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// netpeel's JSON for `url` with `env` (and `extra` flags), `--python` pointing nowhere unless
/// the test wants certifi: then requests' fallback is netpeel's built-in roots, the same list.
async fn matrix(url: &str, env: &[(&str, &str)], extra: &[&str]) -> (Value, i32) {
    let mut args: Vec<&str> = extra.to_vec();
    args.push(url);
    probe_env(&args, env).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_ca_in_the_system_bundle_only_is_named_and_curl_gets_through() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let b = Bundles::new();
    let ca = b.write("system.pem", &certs::test_ca().pem);
    let (doc, code) = matrix(
        &server.url(),
        &[("SSL_CERT_FILE", &ca)],
        &["--python", "/nonexistent/python3"],
    )
    .await;
    assert_eq!(code, 7, "{doc:#}");
    let v = &doc["verdict"];
    assert_eq!(v["kind"], "cert_unknown_issuer", "{v:#}");
    let requests = row(&doc, "requests");
    assert_eq!(requests["verified"], false);
    assert_eq!(requests["source"], "built-in");
    assert_eq!(requests["error_kind"], "cert_unknown_issuer");
    let curl = row(&doc, "curl");
    assert_eq!(
        (&curl["verified"], &curl["source"], curl["path"].as_str()),
        (
            &Value::Bool(true),
            &Value::from("SSL_CERT_FILE"),
            Some(ca.as_str())
        ),
        "{doc:#}"
    );
    assert_eq!(row(&doc, "mozilla")["verified"], false);
    assert!(causes(&doc).contains(&"private_ca".to_string()), "{doc:#}");
    // curl follows its own store: exit 0, and the verdict says so.
    assert_eq!(v["curl_exit"], 0, "{v:#}");
    let notes = v["notes"].to_string();
    assert!(notes.contains("exit 0, not 60"), "{notes}");
    let hint = v["hint"].as_str().unwrap_or("");
    assert!(
        hint.contains("REQUESTS_CA_BUNDLE=") || hint.contains("truststore.inject_into_ssl()"),
        "{hint}"
    );
    // The export (the dashboard's `x`) verifies with the bundle that trusts the chain.
    let report: netpeel::report::Report = serde_json::from_value(doc.clone()).expect("report");
    let request = netpeel::replay::export_request::ExportRequest::for_url(&server.url())
        .with_trust_fix(Some(&report));
    assert_eq!(request.trust_fix.as_deref(), Some(Path::new(&ca)));
    let snippet = netpeel::replay::export::python(&Default::default(), &request);
    assert!(
        snippet.contains("truststore.inject_into_ssl()"),
        "{snippet}"
    );
    // The text report shows the matrix in one line.
    let run = crate::common::netpeel_env(
        &[
            "--report",
            "--python",
            "/nonexistent/python3",
            &server.url(),
        ],
        &[("SSL_CERT_FILE", &ca)],
    )
    .await;
    assert!(run.stdout.contains("trust: requests ("), "{}", run.stdout);
    assert!(run.stdout.contains("(SSL_CERT_FILE "), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_export_checks_the_chain_and_verifies_with_the_store_that_trusts_it() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let b = Bundles::new();
    let ca = b.write("system.pem", &certs::test_ca().pem);
    let export = |env: Vec<(&'static str, String)>, format: &'static str| {
        let url = server.url();
        async move {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let args = ["--export", format, "--python", "/nonexistent/python3", &url];
            crate::common::netpeel_env(&args, &env).await
        }
    };
    // Only curl's store (SSL_CERT_FILE) has the CA: the snippet verifies with it.
    let run = export(vec![("SSL_CERT_FILE", ca.clone())], "python").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!("verify=\"{ca}\"")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("truststore.inject_into_ssl()"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("the export verifies with"),
        "{}",
        run.stderr
    );
    // The check stops after the handshake: the server saw a connection, never a request.
    assert!(server.connections() >= 1);
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // The real requests, run on the snippet as pasted (no CA variable), gets through with it.
    if crate::common::requests_available("the exported trust fix") {
        let mut py = tokio::process::Command::new("python3");
        py.args(["-c", &run.stdout]);
        hermetic(&mut py);
        let out = output_within(&mut py, Duration::from_secs(30))
            .await
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "the snippet failed:\n{}\n{}",
            run.stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
    }
    // requests' own store trusts it: no fix, and stderr says so.
    let run = export(vec![("REQUESTS_CA_BUNDLE", ca.clone())], "python").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("truststore"), "{}", run.stdout);
    assert!(run.stderr.contains("no trust fix needed"), "{}", run.stderr);
    // Nobody trusts it: no fix, and the kind is named.
    let run = export(Vec::new(), "python").await;
    assert!(!run.stdout.contains("truststore"), "{}", run.stdout);
    assert!(
        run.stderr.contains("(cert_unknown_issuer)"),
        "{}",
        run.stderr
    );
    // curl's export keeps its own store: no check at all.
    let connections = server.connections();
    let run = export(vec![("SSL_CERT_FILE", ca.clone())], "curl").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("checking"), "{}", run.stderr);
    assert_eq!(server.connections(), connections);
}

/// A handshake that never ends has no chain: the export's check says it could not check the
/// certificate, not that no store verifies it; and it is bounded by the connect timeout.
#[tokio::test(flavor = "multi_thread")]
async fn the_python_export_check_on_a_stalled_handshake_says_nothing_about_the_stores() {
    let server = HttpServer::start(Behavior::AcceptAndHold).await;
    let url = format!("https://{}/", server.addr);
    let args = [
        "--export",
        "python",
        "--connect-timeout",
        "0.5",
        "--python",
        "/nonexistent/python3",
        &url,
    ];
    let started = std::time::Instant::now();
    let run = crate::common::netpeel_env(&args, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(run.stdout.contains("requests.Session()"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("the certificate could not be checked (tls_handshake_timeout)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("no store"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issuer_named_like_an_interception_product_is_recognised() {
    let server = TlsServer::start(CertKind::Interception, Behavior::ok("x")).await;
    let b = Bundles::new();
    let ca = b.write("corp.pem", &certs::interception_ca().pem);
    let (doc, _) = matrix(
        &server.url(),
        &[("SSL_CERT_FILE", &ca)],
        &["--python", "/nonexistent/python3"],
    )
    .await;
    assert!(
        causes(&doc).contains(&"tls_interception".to_string()),
        "{doc:#}"
    );
    let sentence = stage(&doc, "tls")["detail"]["trust_causes"].to_string();
    assert!(sentence.contains("Zscaler"), "{sentence}");
}

#[tokio::test(flavor = "multi_thread")]
async fn intermediates_in_reverse_order_and_an_expired_cross_sign_are_named() {
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let env = [
        ("REQUESTS_CA_BUNDLE", ca.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    for (kind, cause) in [
        (CertKind::ReversedChain, "wrong_order"),
        (CertKind::ExpiredCrossSign, "expired_in_chain"),
    ] {
        let server = TlsServer::start(kind, Behavior::ok("x")).await;
        let (doc, code) = matrix(&server.url(), &env, &[]).await;
        // rustls and OpenSSL both build the path: the probe passes, the cause is still named.
        assert_eq!(code, 0, "{kind:?}: {doc:#}");
        assert_eq!(row(&doc, "requests")["verified"], true, "{kind:?}");
        assert_eq!(row(&doc, "curl")["verified"], true, "{kind:?}");
        assert!(
            causes(&doc).contains(&cause.to_string()),
            "{kind:?}: {doc:#}"
        );
        assert_eq!(doc["verdict"]["curl_exit"], 0);
    }
}

/// The intermediate over HTTP at /int.der and /int.pem, and a server that leaves it out, whose
/// leaf points at `path` on that server.
async fn aia_setup(path: &str) -> (HttpServer, TlsServer) {
    let int = certs::test_intermediate();
    let der = Behavior::Respond {
        code: 200,
        headers: vec![("Content-Type".into(), "application/pkix-cert".into())],
        body: int.der.to_vec(),
    };
    let pem = Behavior::Respond {
        code: 200,
        headers: vec![("Content-Type".into(), "application/x-pem-file".into())],
        body: int.pem.clone().into_bytes(),
    };
    let aia =
        HttpServer::start_router(vec![("/int.der".into(), der), ("/int.pem".into(), pem)]).await;
    let url = format!("http://127.0.0.1:{}{path}", aia.addr.port());
    let server = TlsServer::start_with(TlsOptions {
        aia_url: Some(url),
        ..TlsOptions::new(CertKind::MissingIntermediate, Behavior::ok("x"))
    })
    .await;
    (aia, server)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_intermediate_shows_its_aia_url_and_is_fetched_as_der_or_pem() {
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let env = [
        ("REQUESTS_CA_BUNDLE", ca.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    for (path, format) in [("/int.der", "der"), ("/int.pem", "pem")] {
        let (aia, server) = aia_setup(path).await;
        let (doc, code) = matrix(&server.url(), &env, &[]).await;
        assert_eq!(code, 7, "{doc:#}");
        assert_eq!(doc["verdict"]["kind"], "cert_unknown_issuer");
        assert!(
            causes(&doc).contains(&"missing_intermediate".to_string()),
            "{doc:#}"
        );
        let said = stage(&doc, "tls")["detail"]["trust_causes"].to_string();
        assert!(said.contains(path), "the AIA URL is shown: {said}");
        assert_eq!(aia.requests().len(), 0, "nothing fetched without the flag");
        let (doc, _) = matrix(&server.url(), &env, &["--fetch-intermediate"]).await;
        let fetch = &stage(&doc, "tls")["detail"]["intermediate_fetch"];
        assert_eq!(fetch["format"], format, "{fetch:#}");
        let verified: Vec<&str> = fetch["trust"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["verified"] == true)
            .filter_map(|r| r["client"].as_str())
            .collect();
        assert!(
            verified.contains(&"requests") && verified.contains(&"curl"),
            "{fetch:#}"
        );
        let notes = doc["verdict"]["notes"].to_string();
        assert!(notes.contains("the server must send it"), "{notes}");
        // The verdict stays what requests does without the intermediate.
        assert_eq!(doc["verdict"]["kind"], "cert_unknown_issuer");
        assert_eq!(aia.requests().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aia_answer_that_is_not_a_certificate_is_reported() {
    let aia = HttpServer::start(Behavior::ok("<html>not a certificate</html>")).await;
    let server = TlsServer::start_with(TlsOptions {
        aia_url: Some(format!("http://127.0.0.1:{}/x", aia.addr.port())),
        ..TlsOptions::new(CertKind::MissingIntermediate, Behavior::ok("x"))
    })
    .await;
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let (doc, _) = matrix(
        &server.url(),
        &[("REQUESTS_CA_BUNDLE", &ca)],
        &["--fetch-intermediate"],
    )
    .await;
    let fetch = &stage(&doc, "tls")["detail"]["intermediate_fetch"];
    assert!(
        fetch["error"]
            .as_str()
            .is_some_and(|e| e.contains("neither PEM nor")),
        "{fetch:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ca_bundle_variable_pointing_nowhere_is_its_own_verdict() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let b = Bundles::new();
    let empty = b.write("empty.pem", "");
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let (doc, code) = matrix(
        &server.url(),
        &[
            ("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem"),
            ("SSL_CERT_FILE", &ca),
        ],
        &[],
    )
    .await;
    let v = &doc["verdict"];
    assert_eq!(
        (code, v["kind"].as_str()),
        (7, Some("ca_bundle_missing")),
        "{v:#}"
    );
    assert_eq!(v["requests_exception"], "OSError");
    assert!(
        v["summary"]
            .as_str()
            .unwrap_or("")
            .contains("REQUESTS_CA_BUNDLE=/nonexistent/ca.pem")
    );
    // curl does not read REQUESTS_CA_BUNDLE: its own store trusts the chain.
    assert_eq!(v["curl_exit"], 0, "{v:#}");
    assert_eq!(row(&doc, "requests")["error_kind"], "ca_bundle_missing");
    // The exported snippet says to fix the variable first.
    let export = crate::common::netpeel_env(
        &["--export", "python", &server.url()],
        &[("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")],
    )
    .await;
    assert!(
        export.stdout.contains("unset REQUESTS_CA_BUNDLE"),
        "{}",
        export.stdout
    );
    // verify=False (-k) never opens the bundle: requests goes through.
    let (doc, code) = matrix(
        &server.url(),
        &[("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")],
        &["-k"],
    )
    .await;
    assert_eq!(code, 0, "{doc:#}");
    let (doc, code) = matrix(&server.url(), &[("CURL_CA_BUNDLE", &empty)], &[]).await;
    let v = &doc["verdict"];
    assert_eq!(
        (code, v["kind"].as_str()),
        (7, Some("ca_bundle_empty")),
        "{v:#}"
    );
    assert_eq!(v["requests_exception"], "requests.exceptions.SSLError");
    // curl reads CURL_CA_BUNDLE too and cannot set its CA file.
    assert_eq!(v["curl_exit"], 77, "{v:#}");
    // ... but only once its handshake starts: a refused port is curl's 7 first (checked
    // against the real curl), while requests raises OSError before connecting.
    let refused = "https://127.0.0.1:1/";
    let env = [("CURL_CA_BUNDLE", "/nonexistent/ca.pem")];
    let (doc, _) = matrix(refused, &env, &[]).await;
    assert_eq!(doc["verdict"]["kind"], "ca_bundle_missing", "{doc:#}");
    assert_eq!(doc["verdict"]["curl_exit"], 7, "{doc:#}");
    if crate::common::curl_available("CA bundle pointing nowhere") {
        assert_eq!(real_curl(refused, &env).await, 7);
    }
}

/// What the real requests does with this environment: "ok" or the exception's class name.
async fn real_requests(url: &str, env: &[(&str, &str)]) -> String {
    real_requests_said(url, env).await.0
}

/// The real requests' outcome ("ok" or the exception's class name) and its message.
async fn real_requests_said(url: &str, env: &[(&str, &str)]) -> (String, String) {
    const SCRIPT: &str = "import requests, sys\n\
        try:\n    requests.get(sys.argv[1], timeout=5)\n    print('ok')\n\
        except Exception as e:\n    print(type(e).__name__)\n    print(str(e))\n";
    let mut cmd = tokio::process::Command::new("python3");
    cmd.args(["-c", SCRIPT, url]);
    hermetic(&mut cmd);
    cmd.envs(env.iter().copied());
    let out = output_within(&mut cmd, Duration::from_secs(30))
        .await
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (class, message) = text.split_once('\n').unwrap_or((&text, ""));
    (class.trim().to_string(), message.trim().to_string())
}

/// The real curl's exit code with this environment.
async fn real_curl(url: &str, env: &[(&str, &str)]) -> i32 {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-sS", "-o", "/dev/null", "--max-time", "10", url]);
    hermetic(&mut cmd);
    cmd.envs(env.iter().copied());
    let out = output_within(&mut cmd, Duration::from_secs(20))
        .await
        .expect("curl runs");
    out.status.code().unwrap_or(-1)
}

/// A CA:FALSE leaf under a store root whose extendedKeyUsage is clientAuth only: webpki alone
/// would accept it (it reads an anchor's name and key only); OpenSSL refuses, and so do netpeel,
/// the real requests and the real curl.
#[tokio::test(flavor = "multi_thread")]
async fn a_store_root_not_for_servers_is_refused_as_openssl_refuses_it() {
    let server = TlsServer::start(CertKind::UnderClientOnlyCa, Behavior::ok("x")).await;
    let b = Bundles::new();
    let ca = b.write("client-only.pem", &certs::client_only_ca().pem);
    let env = [
        ("REQUESTS_CA_BUNDLE", ca.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    let (doc, code) = matrix(&server.url(), &env, &["--python", "/nonexistent/python3"]).await;
    let v = &doc["verdict"];
    assert_eq!(
        (code, v["kind"].as_str(), v["curl_exit"].as_u64()),
        (7, Some("cert_invalid"), Some(60)),
        "{v:#}"
    );
    assert_eq!(row(&doc, "requests")["verified"], false, "{doc:#}");
    assert_eq!(row(&doc, "curl")["verified"], false, "{doc:#}");
    if !crate::common::requests_available("a store root not for servers") {
        return;
    }
    let (class, message) = real_requests_said(&server.url(), &env).await;
    assert_eq!(class, "SSLError", "{message}");
    assert!(
        message.contains("unsuitable certificate purpose"),
        "{message}"
    );
    assert_eq!(real_curl(&server.url(), &env).await, 60);
}

/// A scenario: its name, the server, the environment of all three clients.
type Case<'a> = (&'a str, &'a TlsServer, Vec<(&'a str, &'a str)>);

#[tokio::test(flavor = "multi_thread")]
async fn requests_and_curl_agree_with_the_matrix() {
    if !crate::common::requests_available("trust matrix")
        || !crate::common::curl_available("trust matrix")
    {
        return;
    }
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let corp = b.write("corp.pem", &certs::interception_ca().pem);
    let empty = b.write("empty.pem", "");
    let empty_dir = tempfile::tempdir().expect("tempdir");
    let empty_dir = empty_dir.path().display().to_string();
    let (_aia, missing) = aia_setup("/int.der").await;
    let valid = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let reversed = TlsServer::start(CertKind::ReversedChain, Behavior::ok("x")).await;
    let cross = TlsServer::start(CertKind::ExpiredCrossSign, Behavior::ok("x")).await;
    let corp_server = TlsServer::start(CertKind::Interception, Behavior::ok("x")).await;
    let cases: Vec<Case> = vec![
        (
            "private CA via SSL_CERT_FILE",
            &valid,
            vec![("SSL_CERT_FILE", &ca)],
        ),
        (
            "REQUESTS_CA_BUNDLE only",
            &valid,
            vec![("REQUESTS_CA_BUNDLE", &ca)],
        ),
        (
            "CURL_CA_BUNDLE, read by both",
            &valid,
            vec![("CURL_CA_BUNDLE", &ca)],
        ),
        (
            "SSL_CERT_DIR wins over SSL_CERT_FILE in curl",
            &valid,
            vec![("SSL_CERT_DIR", &empty_dir), ("SSL_CERT_FILE", &ca)],
        ),
        ("no variable", &valid, vec![]),
        (
            "reversed intermediates",
            &reversed,
            vec![("REQUESTS_CA_BUNDLE", &ca), ("SSL_CERT_FILE", &ca)],
        ),
        (
            "expired cross-sign",
            &cross,
            vec![("REQUESTS_CA_BUNDLE", &ca), ("SSL_CERT_FILE", &ca)],
        ),
        (
            "missing intermediate",
            &missing,
            vec![("REQUESTS_CA_BUNDLE", &ca), ("SSL_CERT_FILE", &ca)],
        ),
        (
            "interception CA in curl's store",
            &corp_server,
            vec![("SSL_CERT_FILE", &corp)],
        ),
        (
            "REQUESTS_CA_BUNDLE missing",
            &valid,
            vec![
                ("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem"),
                ("SSL_CERT_FILE", &ca),
            ],
        ),
        (
            "REQUESTS_CA_BUNDLE empty",
            &valid,
            vec![("REQUESTS_CA_BUNDLE", &empty), ("SSL_CERT_FILE", &ca)],
        ),
        (
            "CURL_CA_BUNDLE empty",
            &valid,
            vec![("CURL_CA_BUNDLE", &empty)],
        ),
        (
            "SSL_CERT_FILE empty",
            &valid,
            vec![("SSL_CERT_FILE", &empty)],
        ),
    ];
    let wrong = disagreements_with_real_clients(&cases).await;
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

/// Each case run by netpeel, the real requests and the real curl: where the matrix's ✓/✗, the
/// verdict's requests exception or its curl exit differ from what they did.
async fn disagreements_with_real_clients(cases: &[Case<'_>]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (name, server, env) in cases {
        let url = server.url();
        let (doc, _) = matrix(&url, env, &[]).await;
        let requests = real_requests(&url, env).await;
        let curl = real_curl(&url, env).await;
        let requests_row = row(&doc, "requests");
        let curl_row = row(&doc, "curl");
        let requests_ok = requests == "ok";
        if requests_row["verified"] != requests_ok {
            wrong.push(format!(
                "{name}: requests {requests}, matrix {requests_row}"
            ));
        }
        if curl_row["verified"] != (curl == 0) {
            wrong.push(format!("{name}: curl exit {curl}, matrix {curl_row}"));
        }
        let v = &doc["verdict"];
        if v["curl_exit"].as_i64() != Some(i64::from(curl)) {
            wrong.push(format!(
                "{name}: curl exit {curl}, verdict says {}",
                v["curl_exit"]
            ));
        }
        let claimed = v["requests_exception"].as_str().unwrap_or("ok");
        let claimed_short = claimed.rsplit('.').next().unwrap_or(claimed);
        if claimed_short != requests {
            wrong.push(format!(
                "{name}: requests raised {requests}, verdict says {claimed}"
            ));
        }
    }
    wrong
}

/// A directory with `pem` under OpenSSL's subject-hash name (`openssl x509 -subject_hash`), as
/// `openssl rehash` makes it; None without the openssl tool.
fn hashed_dir(pem_path: &str) -> Option<tempfile::TempDir> {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject_hash", "-in", pem_path])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(pem_path, dir.path().join(format!("{hash}.0"))).expect("copy");
    Some(dir)
}

/// REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE / SSL_CERT_FILE naming a directory. requests hands a
/// directory to OpenSSL as its CA directory (hashed names only; none: SSLError, unable to get
/// local issuer certificate); curl takes these variables as its CA *file* and exits 77.
#[tokio::test(flavor = "multi_thread")]
async fn a_ca_variable_naming_a_directory_is_read_as_each_client_reads_it() {
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let unhashed = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&ca, unhashed.path().join("ca.pem")).expect("copy");
    let unhashed = unhashed.path().display().to_string();
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    // netpeel alone: a directory is no usage error any more, for the variable or --cacert.
    let (doc, code) = matrix(&server.url(), &[("REQUESTS_CA_BUNDLE", &unhashed)], &[]).await;
    assert_eq!(
        (code, doc["verdict"]["kind"].as_str()),
        (7, Some("cert_unknown_issuer")),
        "{doc:#}"
    );
    let notes = doc["verdict"]["notes"].to_string();
    assert!(notes.contains("openssl rehash"), "{notes}");
    let (doc, _) = matrix(&server.url(), &[], &["--cacert", &unhashed]).await;
    assert_eq!(
        row(&doc, "curl")["error_kind"],
        "ca_bundle_empty",
        "{doc:#}"
    );
    assert_eq!(doc["verdict"]["curl_exit"], 77, "{doc:#}");
    if !crate::common::requests_available("CA directory")
        || !crate::common::curl_available("CA directory")
    {
        return;
    }
    let Some(hashed) = hashed_dir(&ca) else {
        eprintln!("note: the CA directory differential needs the openssl tool for the hash");
        return;
    };
    let hashed = hashed.path().display().to_string();
    let (doc, code) = matrix(&server.url(), &[], &["--cacert", &hashed]).await;
    // curl --cacert DIR: exit 77 ("error setting certificate file"), checked by hand with curl
    // 7.88; requests' verify=DIR is the CA directory.
    assert_eq!(
        (code, &doc["verdict"]["curl_exit"]),
        (0, &Value::from(77)),
        "{doc:#}"
    );
    let cases: Vec<Case> = vec![
        (
            "REQUESTS_CA_BUNDLE a hashed directory",
            &server,
            vec![("REQUESTS_CA_BUNDLE", &hashed), ("SSL_CERT_FILE", &ca)],
        ),
        (
            "REQUESTS_CA_BUNDLE a directory without hashed names",
            &server,
            vec![("REQUESTS_CA_BUNDLE", &unhashed), ("SSL_CERT_FILE", &ca)],
        ),
        (
            "CURL_CA_BUNDLE a hashed directory",
            &server,
            vec![("CURL_CA_BUNDLE", &hashed)],
        ),
        (
            "CURL_CA_BUNDLE a directory without hashed names",
            &server,
            vec![("CURL_CA_BUNDLE", &unhashed)],
        ),
        (
            "SSL_CERT_FILE a hashed directory",
            &server,
            vec![("REQUESTS_CA_BUNDLE", &ca), ("SSL_CERT_FILE", &hashed)],
        ),
        (
            "SSL_CERT_DIR a hashed directory",
            &server,
            vec![("REQUESTS_CA_BUNDLE", &ca), ("SSL_CERT_DIR", &hashed)],
        ),
    ];
    let wrong = disagreements_with_real_clients(&cases).await;
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn certifi_of_the_python_given_is_requests_store() {
    if !crate::common::python_can_import("certifi store", "certifi", "pip install certifi") {
        return;
    }
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let (doc, _) = matrix(&server.url(), &[], &["--python", "python3"]).await;
    let requests = row(&doc, "requests");
    assert_eq!(requests["source"], "certifi", "{requests:#}");
    assert!(
        requests["store"]
            .as_str()
            .unwrap_or("")
            .starts_with("certifi "),
        "{requests:#}"
    );
    let path = requests["path"].as_str().unwrap_or("");
    assert!(Path::new(path).is_file(), "certifi's bundle exists: {path}");
    assert_eq!(doc["settings"]["ca_source"], "certifi");
}

/// An executable script standing in for `--python`.
fn fake_python(b: &Bundles, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = b.write(name, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_question_is_bounded_and_its_answer_read_as_data() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let b = Bundles::new();
    let ca = b.write("certifi-cacert.pem", &certs::test_ca().pem);
    // A Python whose certifi is the test CA's bundle: requests' row is certifi's.
    let answer = format!(
        "echo '{{\"certifi_where\": \"{ca}\", \"certifi\": \"2020.01.01\", \"requests\": \"2.31.0\", \"urllib3\": \"2.0.7\", \"python\": \"3.12.1\"}}'"
    );
    let python = fake_python(&b, "python-answers", &answer);
    let (doc, code) = matrix(&server.url(), &[], &["--python", &python]).await;
    assert_eq!(code, 0, "{doc:#}");
    let requests = row(&doc, "requests");
    assert_eq!(requests["source"], "certifi");
    assert_eq!(requests["path"], ca.as_str());
    assert!(
        requests["store"]
            .as_str()
            .is_some_and(|s| s.starts_with("certifi 2020.01.01 (Python 3.12.1, requests 2.31.0")),
        "{requests:#}"
    );
    // One that never answers costs at most the 3 s bound; one that answers garbage is ignored.
    for (name, body, said) in [
        ("python-hangs", "exec sleep 20", "did not answer within 3 s"),
        (
            "python-garbage",
            "echo '\u{1b}[2J not json'",
            "answered something else",
        ),
    ] {
        let python = fake_python(&b, name, body);
        let started = std::time::Instant::now();
        let (doc, _) = matrix(&server.url(), &[], &["--python", &python]).await;
        assert!(started.elapsed() < Duration::from_secs(10), "{name}");
        assert_eq!(row(&doc, "requests")["source"], "built-in", "{name}");
        let notes = doc["verdict"]["notes"].to_string();
        assert!(notes.contains(said), "{name}: {notes}");
    }
}

/// A PEM block named CERTIFICATE that is no certificate makes OpenSSL refuse the whole file
/// (requests: SSLError "[X509] PEM lib"; curl: exit 77), even beside a good certificate.
#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_with_a_block_that_is_no_certificate_is_unusable() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let b = Bundles::new();
    let garbage = "-----BEGIN CERTIFICATE-----\nZZZZ\n-----END CERTIFICATE-----\n";
    let only = b.write("garbage.pem", garbage);
    let mixed = b.write("mixed.pem", &format!("{}{garbage}", certs::test_ca().pem));
    for ca in [&only, &mixed] {
        let env = [("REQUESTS_CA_BUNDLE", ca.as_str())];
        let (doc, code) = matrix(&server.url(), &env, &[]).await;
        let v = &doc["verdict"];
        assert_eq!(
            (code, v["kind"].as_str()),
            (7, Some("ca_bundle_empty")),
            "{ca}: {v:#}"
        );
        assert_eq!(real_requests(&server.url(), &env).await, "SSLError", "{ca}");
    }
}

/// A wrapper (pyenv shim, a script) that leaves a child holding stdout open: its answer, one
/// line, is still read, and at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_python_whose_child_keeps_stdout_open_still_answers() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let b = Bundles::new();
    let ca = b.write("certifi-cacert.pem", &certs::test_ca().pem);
    let answer = format!(
        "(sleep 8) &\necho '{{\"certifi_where\": \"{ca}\", \"certifi\": \"2020.01.01\", \"python\": \"3.12.1\"}}'"
    );
    let python = fake_python(&b, "python-forks", &answer);
    let started = std::time::Instant::now();
    let (doc, code) = matrix(&server.url(), &[], &["--python", &python]).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited for the child"
    );
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(row(&doc, "requests")["source"], "certifi", "{doc:#}");
}

/// An AIA URL that is `file://`, or redirects there, or answers more than 64 KiB: nothing is
/// read from the disk, the body is capped, and each says why in the fetch's error.
#[tokio::test(flavor = "multi_thread")]
async fn an_aia_url_to_a_file_or_a_huge_answer_is_refused() {
    let huge = Behavior::Respond {
        code: 200,
        headers: vec![("Content-Type".into(), "application/pkix-cert".into())],
        body: vec![b'A'; 2 * 1024 * 1024],
    };
    let to_file = Behavior::Respond {
        code: 302,
        headers: vec![("Location".into(), "file:///etc/passwd".into())],
        body: Vec::new(),
    };
    let aia =
        HttpServer::start_router(vec![("/huge".into(), huge), ("/file".into(), to_file)]).await;
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let base = format!("http://127.0.0.1:{}", aia.addr.port());
    for url in [
        format!("{base}/huge"),
        format!("{base}/file"),
        "file:///etc/passwd".to_string(),
    ] {
        let server = TlsServer::start_with(TlsOptions {
            aia_url: Some(url.clone()),
            ..TlsOptions::new(CertKind::MissingIntermediate, Behavior::ok("x"))
        })
        .await;
        let (doc, code) = matrix(
            &server.url(),
            &[("REQUESTS_CA_BUNDLE", &ca)],
            &["--fetch-intermediate"],
        )
        .await;
        assert_eq!(code, 7, "{url}: {doc:#}");
        let fetch = &stage(&doc, "tls")["detail"]["intermediate_fetch"];
        assert!(fetch["error"].as_str().is_some(), "{url}: {fetch:#}");
        assert!(!doc.to_string().contains("root:x:0"), "{url}");
    }
}

/// A self-signed CA:TRUE certificate as the server's own (what `openssl req -x509` makes) that
/// is itself in the bundle: OpenSSL (requests, curl) takes it as its own trust anchor and checks
/// only the leaf's name, dates and purpose; netpeel agrees, in the verdict and in every column.
/// Not in the bundle it stays `cert_ca_as_end_entity` (requests: "self-signed certificate"). A
/// CA:TRUE server certificate signed by a CA of the bundle is accepted by OpenSSL as well.
#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_ca_certificate_in_the_bundle_is_its_own_anchor() {
    let checked = crate::common::requests_available("CA leaf in the bundle")
        && crate::common::curl_available("CA leaf in the bundle");
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    // (certificate, in the bundle, netpeel's kind, requests' words, curl's exit)
    let cases = [
        (CertKind::CaAsEndEntity, true, None, "", 0),
        (
            CertKind::CaAsEndEntityWrongName,
            true,
            Some("cert_name_mismatch"),
            "Hostname mismatch",
            60,
        ),
        (
            CertKind::CaAsEndEntityExpired,
            true,
            Some("cert_expired"),
            "certificate has expired",
            60,
        ),
        (
            CertKind::CaAsEndEntity,
            false,
            Some("cert_ca_as_end_entity"),
            "self-signed certificate",
            60,
        ),
        // Signed by the CA in the bundle: OpenSSL accepts a CA:TRUE server certificate too.
        (CertKind::CaAsEndEntitySigned, false, None, "", 0),
    ];
    let mut wrong = Vec::new();
    for (i, (kind, in_bundle, expected, requests_says, curl_exit)) in cases.into_iter().enumerate()
    {
        let server = TlsServer::start(kind, Behavior::ok("x")).await;
        let bundle = if in_bundle {
            b.write(
                &format!("leaf{i}.pem"),
                &format!("{}{}", certs::test_ca().pem, server.leaf_pem),
            )
        } else {
            ca.clone()
        };
        let env = [
            ("REQUESTS_CA_BUNDLE", bundle.as_str()),
            ("SSL_CERT_FILE", bundle.as_str()),
        ];
        let case = format!("{kind:?} (in the bundle: {in_bundle})");
        let (doc, code) = matrix(&server.url(), &env, &[]).await;
        let v = &doc["verdict"];
        if v["kind"].as_str() != expected || (expected.is_none() && code != 0) {
            wrong.push(format!("{case}: netpeel {code} {v}"));
        }
        for client in ["requests", "curl"] {
            let r = row(&doc, client);
            if r["verified"] != expected.is_none() || r["error_kind"].as_str() != expected {
                wrong.push(format!("{case}: {client} row {r}"));
            }
        }
        if v["curl_exit"].as_i64().unwrap_or(0) != curl_exit {
            wrong.push(format!("{case}: verdict's curl exit {}", v["curl_exit"]));
        }
        if !checked {
            continue;
        }
        let (class, message) = real_requests_said(&server.url(), &env).await;
        let requests_ok = class == "ok";
        if requests_ok != expected.is_none() || !message.contains(requests_says) {
            wrong.push(format!("{case}: real requests {class}: {message}"));
        }
        let claimed = v["requests_exception"].as_str().unwrap_or("ok");
        if claimed.rsplit('.').next() != Some(class.as_str()) {
            wrong.push(format!(
                "{case}: requests raised {class}, verdict says {claimed}"
            ));
        }
        let curl = real_curl(&server.url(), &env).await;
        if curl != curl_exit as i32 {
            wrong.push(format!("{case}: real curl exits {curl}"));
        }
    }
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

/// Python is asked once per process (keyed by `--python`): a replay's attempts and a watch's
/// probes do not start an interpreter each.
#[tokio::test(flavor = "multi_thread")]
async fn python_is_asked_once_per_run_whatever_the_mode() {
    let server = TlsServer::start(
        CertKind::Valid,
        Behavior::Respond {
            code: 503,
            headers: Vec::new(),
            body: b"busy".to_vec(),
        },
    )
    .await;
    let b = Bundles::new();
    let ca = b.write("certifi-cacert.pem", &certs::test_ca().pem);
    let runs: [(&str, Vec<&str>, Option<usize>); 2] = [
        (
            "replay",
            vec!["--retries", "2", "--status-forcelist", "503"],
            Some(3),
        ),
        ("watch", vec!["--watch", "-c", "3", "-i", "0"], None),
    ];
    for (mode, flags, attempts) in runs {
        let spawns = b.dir.path().join(format!("{mode}-spawns"));
        let answer = format!(
            "echo started >> '{}'\necho '{{\"certifi_where\": \"{ca}\", \"certifi\": \"2020.01.01\"}}'",
            spawns.display()
        );
        let python = fake_python(&b, &format!("python-{mode}"), &answer);
        let mut args = flags.clone();
        args.extend(["--python", python.as_str(), "--json"]);
        let url = server.url();
        args.push(&url);
        let run = crate::common::netpeel_env(&args, &[]).await;
        let doc = run.json();
        if let Some(n) = attempts {
            let made = doc["attempts"].as_array().map_or(0, Vec::len);
            assert_eq!(made, n, "{mode}: {doc:#}");
        }
        let started = std::fs::read_to_string(&spawns).unwrap_or_default();
        assert_eq!(started.lines().count(), 1, "{mode}: {started:?}");
    }
}

/// An http:// URL redirected to https://: the https hop's TLS stage carries the trust matrix,
/// verified with requests' store (here a private CA via REQUESTS_CA_BUNDLE), and a hop whose
/// chain requests' store lacks fails with the verdict naming the redirect.
#[tokio::test(flavor = "multi_thread")]
async fn an_http_url_redirected_to_https_carries_the_matrix() {
    let tls = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let http = HttpServer::start(Behavior::redirect(302, &tls.url())).await;
    let url = format!("http://127.0.0.1:{}/", http.addr.port());
    let b = Bundles::new();
    let ca = b.write("ca.pem", &certs::test_ca().pem);
    let no_python = ["--python", "/nonexistent/python3"];
    let (doc, code) = matrix(&url, &[("REQUESTS_CA_BUNDLE", &ca)], &no_python).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        doc["redirects"].as_array().map(Vec::len),
        Some(1),
        "{doc:#}"
    );
    let requests = row(&doc, "requests");
    assert_eq!(
        (&requests["verified"], &requests["source"]),
        (&Value::Bool(true), &Value::from("REQUESTS_CA_BUNDLE")),
        "{doc:#}"
    );
    assert_eq!(row(&doc, "mozilla")["verified"], false);
    // requests' store lacks the CA, curl's (SSL_CERT_FILE) has it.
    let (doc, code) = matrix(&url, &[("SSL_CERT_FILE", &ca)], &no_python).await;
    let v = &doc["verdict"];
    assert_eq!(
        (code, v["kind"].as_str()),
        (7, Some("cert_unknown_issuer")),
        "{v:#}"
    );
    assert!(
        v["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("After 1 redirect")),
        "{v:#}"
    );
    assert_eq!(row(&doc, "curl")["verified"], true, "{doc:#}");
    assert!(causes(&doc).contains(&"private_ca".to_string()), "{doc:#}");
    // Not followed (--no-follow), and a REQUESTS_CA_BUNDLE pointing nowhere: the http hop
    // does not fail on it (requests opens the bundle for https only).
    let missing = [("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")];
    let (doc, _) = matrix(&url, &missing, &["--no-follow"]).await;
    assert_ne!(doc["verdict"]["kind"], "ca_bundle_missing", "{doc:#}");
    let plain = HttpServer::start(Behavior::ok("x")).await;
    let plain_url = format!("http://127.0.0.1:{}/", plain.addr.port());
    let (doc, code) = matrix(&plain_url, &missing, &no_python).await;
    assert_eq!(code, 0, "{doc:#}");
    let warned = |doc: &Value| {
        doc["verdict"]["notes"]
            .to_string()
            .contains("requests would fail only if a redirect led to https")
    };
    assert!(warned(&doc), "{doc:#}");
    // A plain http answer verified nothing: no word on certifi; the https hop says it.
    let (doc, _) = matrix(&plain_url, &[], &no_python).await;
    let notes = doc["verdict"]["notes"].to_string();
    assert!(!notes.contains("certifi"), "{notes}");
    let (doc, _) = matrix(&url, &[], &no_python).await;
    let notes = doc["verdict"]["notes"].to_string();
    assert!(notes.contains("certifi could not be asked"), "{notes}");
    // ... and is requests' OSError once the redirect leads to https.
    let (doc, code) = matrix(&url, &missing, &no_python).await;
    assert_eq!(
        (code, doc["verdict"]["kind"].as_str()),
        (7, Some("ca_bundle_missing")),
        "{doc:#}"
    );
    // The verdict says it: no "would fail only if" beside it.
    assert!(!warned(&doc), "{doc:#}");
    // The real requests, which follows the redirect, does each of these.
    if !crate::common::requests_available("http to https redirect") {
        return;
    }
    let cases = [
        (&url, vec![("REQUESTS_CA_BUNDLE", ca.as_str())], "ok"),
        (&url, vec![("SSL_CERT_FILE", ca.as_str())], "SSLError"),
        (&url, missing.to_vec(), "OSError"),
        (&plain_url, missing.to_vec(), "ok"),
    ];
    for (target, env, expected) in cases {
        let said = real_requests(target, &env).await;
        assert_eq!(said, expected, "{target} with {env:?}");
    }
}
