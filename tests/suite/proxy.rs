//! The proxy stage: which proxy is used and why (flags, environment, NO_PROXY), the CONNECT
//! exchange and its refusals, absolute-form forwarding, SOCKS5 (local vs remote DNS), and the
//! proxy's own DNS/TCP failures.

use std::collections::HashMap;
use std::net::SocketAddr;

use testkit::http::{Behavior, HttpServer};
use testkit::proxy::{ProxyBehavior, ProxyServer};
use testkit::socks::{Atyp, SocksOptions, SocksServer};
use testkit::tls::{CertKind, TlsServer};

use crate::common::{probe, probe_env, stage, status};

const PROXY_ERR: &str = "requests.exceptions.ProxyError";

fn resolve(name: &str, addr: SocketAddr) -> HashMap<String, SocketAddr> {
    HashMap::from([(name.to_string(), addr)])
}

/// The verdict names the proxy layer, kind and requests exception; exit code 6.
fn assert_proxy_failure(doc: &serde_json::Value, code: i32, kind: &str, requests: &str) {
    let v = &doc["verdict"];
    assert_eq!(v["layer"], "proxy", "{v:#}");
    assert_eq!(v["kind"], kind, "{v:#}");
    assert_eq!(v["requests_exception"], requests, "{v:#}");
    assert_eq!(code, 6, "{v:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_through_a_connect_proxy() {
    let target = TlsServer::start(CertKind::Valid, Behavior::ok("tunnelled")).await;
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward { require_auth: None },
        HashMap::new(),
    )
    .await;
    let ca = target.ca_pem_path.display().to_string();
    let url = format!("https://127.0.0.1:{}/", target.addr.port());
    let (doc, code) = probe(&["--proxy", &proxy.url(), "--cacert", &ca, &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    let p = &stage(&doc, "proxy")["detail"];
    assert_eq!(p["exchange"], "connect");
    assert_eq!(p["connect"]["status"], 200);
    assert_eq!(p["source"], "--proxy");
    assert_eq!(doc["settings"]["proxy"], proxy.url());
    // DNS and TCP were about the proxy; TLS about the target, through the tunnel.
    assert_eq!(stage(&doc, "tcp")["detail"]["peer"], proxy.addr.to_string());
    assert_eq!(stage(&doc, "tls")["detail"]["verified"], true);
    assert!(
        proxy
            .requests()
            .first()
            .is_some_and(|r| r.starts_with(&format!(
                "CONNECT 127.0.0.1:{} HTTP/1.1",
                target.addr.port()
            )))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_through_a_proxy_uses_the_absolute_form() {
    let target = HttpServer::start(Behavior::ok("forwarded")).await;
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward { require_auth: None },
        resolve("backend.test", target.addr),
    )
    .await;
    let (doc, code) = probe(&["--proxy", &proxy.url(), "http://backend.test/path?q=1"]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(stage(&doc, "proxy")["detail"]["exchange"], "forward");
    assert_eq!(
        stage(&doc, "http")["detail"]["request"]["target"],
        "http://backend.test/path?q=1"
    );
    assert!(
        proxy
            .requests()
            .first()
            .is_some_and(|r| r.starts_with("GET http://backend.test/path?q=1 HTTP/1.1"))
    );
    // The target name was never resolved here: the proxy did it.
    assert_eq!(stage(&doc, "dns")["detail"]["source"], "ip_literal");
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_from_the_environment_and_no_proxy() {
    let target = HttpServer::start(Behavior::ok("x")).await;
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward { require_auth: None },
        resolve("api.corp.test", target.addr),
    )
    .await;
    let url = "http://api.corp.test/";
    let (doc, code) = probe_env(&[url], &[("HTTP_PROXY", &proxy.url())]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["settings"]["proxy_source"], "HTTP_PROXY");
    // NO_PROXY matching the host: direct (the name then does not resolve: nothing else listens).
    let direct = format!("http://127.0.0.1:{}/", target.addr.port());
    let (doc, code) = probe_env(
        &[&direct],
        &[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", "127.0.0.1")],
    )
    .await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(status(&doc, "proxy"), "skipped");
    assert!(
        doc["settings"]["proxy_reason"]
            .as_str()
            .is_some_and(|r| r.contains("NO_PROXY")),
        "{doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarding_proxys_407_is_blamed_on_the_proxy_not_the_server() {
    let target = HttpServer::start(Behavior::ok("x")).await;
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward {
            require_auth: Some(("ops".into(), "s3cret".into())),
        },
        HashMap::new(),
    )
    .await;
    let (doc, code) = probe(&["--proxy", &proxy.url(), &target.url()]).await;
    assert_proxy_failure(
        &doc,
        code,
        "proxy_forward_auth_required",
        "requests.exceptions.HTTPError",
    );
    assert_eq!(doc["verdict"]["curl_exit"], 22);
    assert!(
        doc["verdict"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("Proxy-Authorization")),
        "{doc:#}"
    );
    assert_eq!(target.connections(), 0, "the proxy never forwarded it");
    let with_creds = proxy.url().replace("http://", "http://ops:s3cret@");
    let (doc, code) = probe(&["--proxy", &with_creds, &target.url()]).await;
    assert_eq!(code, 0, "{doc:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_auth_required_names_the_scheme_and_credentials_are_redacted() {
    let target = TlsServer::start(CertKind::Valid, Behavior::ok("x")).await;
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward {
            require_auth: Some(("ops".into(), "s3cret".into())),
        },
        HashMap::new(),
    )
    .await;
    let url = format!("https://127.0.0.1:{}/", target.addr.port());
    let ca = target.ca_pem_path.display().to_string();
    let (doc, code) = probe(&["--proxy", &proxy.url(), "--cacert", &ca, &url]).await;
    assert_proxy_failure(&doc, code, "proxy_auth_required", PROXY_ERR);
    assert_eq!(stage(&doc, "proxy")["detail"]["auth_scheme"], "Basic");
    assert_eq!(doc["verdict"]["curl_exit"], 56);

    let with_creds = proxy.url().replace("http://", "http://ops:s3cret@");
    let run =
        crate::common::netpeel(&["--json", "--proxy", &with_creds, "--cacert", &ca, &url]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(!run.stdout.contains("s3cret"), "{}", run.stdout);
    assert!(
        proxy
            .requests()
            .last()
            .is_some_and(|r| r.contains("Proxy-Authorization: Basic "))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_refusals_carry_their_status_and_body() {
    for status_code in [403u16, 502, 503] {
        let proxy = ProxyServer::start(
            ProxyBehavior::Refuse {
                status: status_code,
                body: format!("policy says no ({status_code})\nmore"),
            },
            HashMap::new(),
        )
        .await;
        let (doc, code) = probe(&["--proxy", &proxy.url(), "https://127.0.0.1:9/"]).await;
        assert_proxy_failure(&doc, code, "proxy_denied", PROXY_ERR);
        assert_eq!(
            stage(&doc, "proxy")["detail"]["connect"]["status"],
            status_code
        );
        assert_eq!(
            stage(&doc, "proxy")["detail"]["body_line"],
            format!("policy says no ({status_code})")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_or_closing_proxy() {
    let stall = ProxyServer::start(ProxyBehavior::Stall, HashMap::new()).await;
    let (doc, code) = probe(&[
        "--connect-timeout",
        "0.5",
        "--proxy",
        &stall.url(),
        "https://127.0.0.1:9/",
    ])
    .await;
    // requests raises ReadTimeout here (bounded by the connect timeout), not ProxyError.
    assert_proxy_failure(
        &doc,
        code,
        "proxy_timeout",
        "requests.exceptions.ReadTimeout",
    );
    assert_eq!(doc["verdict"]["governing_timeout"], "connect");

    let close = ProxyServer::start(ProxyBehavior::CloseTunnel, HashMap::new()).await;
    let (doc, code) = probe(&["--proxy", &close.url(), "https://127.0.0.1:9/"]).await;
    assert_proxy_failure(
        &doc,
        code,
        "proxy_tunnel_closed",
        "requests.exceptions.SSLError",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_itself_unreachable() {
    let dead = testkit::tcp::refused_addr();
    let (doc, code) = probe(&["--proxy", &format!("http://{dead}"), "https://127.0.0.1:9/"]).await;
    assert_proxy_failure(&doc, code, "proxy_connection_refused", PROXY_ERR);
    assert_eq!(status(&doc, "tcp"), "failed");

    let dns = testkit::dns::DnsServer::start(vec![(
        "proxy.corp.test",
        testkit::dns::DnsAnswer::NxDomain,
    )])
    .await;
    let (doc, code) = probe(&[
        "--dns",
        &dns.addr.to_string(),
        "--proxy",
        "http://proxy.corp.test:3128",
        "https://127.0.0.1:9/",
    ])
    .await;
    assert_proxy_failure(&doc, code, "proxy_dns_failure", PROXY_ERR);
    assert_eq!(doc["verdict"]["curl_exit"], 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn socks5h_names_the_host_socks5_resolves_it_here() {
    let target = HttpServer::start(Behavior::ok("socks")).await;
    let socks = SocksServer::start(SocksOptions {
        resolve: resolve("app.test", target.addr),
        ..SocksOptions::default()
    })
    .await;
    let url = format!("http://app.test:{}/", target.addr.port());
    let (doc, code) = probe(&["--proxy", &socks.url(true), &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        stage(&doc, "proxy")["detail"]["socks"]["address_type"],
        "domain"
    );
    assert_eq!(socks.requests().first().map(|r| r.atyp), Some(Atyp::Domain));

    // socks5://: resolved here (pinned with --resolve), sent as an address.
    let pin = format!("app.test:{}:127.0.0.1", target.addr.port());
    let (doc, code) = probe(&["--resolve", &pin, "--proxy", &socks.url(false), &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        stage(&doc, "proxy")["detail"]["socks"]["address_type"],
        "ipv4"
    );
    assert_eq!(socks.requests().last().map(|r| r.atyp), Some(Atyp::Ipv4));
}

#[tokio::test(flavor = "multi_thread")]
async fn socks_reply_codes_and_auth() {
    let socks = SocksServer::start(SocksOptions {
        reply: Some(testkit::socks::reply::NOT_ALLOWED),
        ..SocksOptions::default()
    })
    .await;
    let (doc, code) = probe(&["--proxy", &socks.url(true), "http://blocked.test/"]).await;
    assert_proxy_failure(
        &doc,
        code,
        "socks_reply_error",
        "requests.exceptions.ConnectionError",
    );
    assert_eq!(stage(&doc, "proxy")["detail"]["socks"]["reply"], 2);

    let authed = SocksServer::start(SocksOptions {
        auth: Some(("u".into(), "right".into())),
        ..SocksOptions::default()
    })
    .await;
    let wrong = authed.url(true).replace("://", "://u:wrong@");
    let (doc, code) = probe(&["--proxy", &wrong, "http://x.test/"]).await;
    assert_proxy_failure(
        &doc,
        code,
        "socks_auth_failed",
        "requests.exceptions.ConnectionError",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_that_closes_or_answers_garbage() {
    // urllib3 counts the proxy as connected before CONNECT: requests raises ConnectionError.
    let (silent, t1) = crate::common::raw_server(b"", None).await;
    let (ssh, t2) = crate::common::raw_server(b"SSH-2.0-OpenSSH_9.6\r\n", None).await;
    let (doc, code) = probe(&[
        "--proxy",
        &format!("http://{silent}"),
        "https://127.0.0.1:9/",
    ])
    .await;
    assert_proxy_failure(
        &doc,
        code,
        "proxy_closed",
        "requests.exceptions.ConnectionError",
    );
    let (doc, code) = probe(&["--proxy", &format!("http://{ssh}"), "https://127.0.0.1:9/"]).await;
    assert_proxy_failure(
        &doc,
        code,
        "proxy_not_http",
        "requests.exceptions.ConnectionError",
    );
    t1.abort();
    t2.abort();
}

/// https:// proxies: TLS to the proxy, then CONNECT (or forwarding) inside it; each verdict's
/// curl column checked against the real curl (`-x https://…`, the test CA for the proxy too).
#[tokio::test(flavor = "multi_thread")]
async fn https_proxies_and_what_curl_does_there() {
    let target = TlsServer::start(CertKind::Valid, Behavior::ok("ok\n")).await;
    let plain_target = HttpServer::start(Behavior::ok("ok\n")).await;
    let ca = target.ca_pem_path.display().to_string();
    let https_url = format!("https://127.0.0.1:{}/", target.addr.port());
    let http_url = plain_target.url();
    let fwd = || ProxyBehavior::Forward { require_auth: None };
    let good = ProxyServer::start_tls(fwd(), HashMap::new()).await;
    let unknown_ca = ProxyServer::start_tls_with(CertKind::UnknownCa, fwd(), HashMap::new()).await;
    let expired = ProxyServer::start_tls_with(CertKind::Expired, fwd(), HashMap::new()).await;
    let plain = ProxyServer::start(fwd(), HashMap::new()).await;
    let plain_as_https = format!("https://{}", plain.addr);
    let cases = [
        (good.url(), https_url.as_str(), None),
        (good.url(), http_url.as_str(), None),
        (
            unknown_ca.url(),
            https_url.as_str(),
            Some("proxy_tls_failed"),
        ),
        // requests does not check the proxy's certificate for an http:// URL; curl does.
        (expired.url(), http_url.as_str(), None),
        (
            plain_as_https.clone(),
            https_url.as_str(),
            Some("proxy_not_tls"),
        ),
        (
            plain_as_https.clone(),
            http_url.as_str(),
            Some("proxy_not_tls"),
        ),
    ];
    for (proxy, url, kind) in &cases {
        let (doc, _) = probe(&["--cacert", &ca, "--proxy", proxy, url]).await;
        let v = &doc["verdict"];
        assert_eq!(v["kind"].as_str(), *kind, "{proxy} {url}: {v:#}");
        if kind.is_some() {
            assert_eq!(v["layer"], "proxy", "{v:#}");
            assert_eq!(v["requests_exception"], PROXY_ERR, "{v:#}");
        }
        if *kind == Some("proxy_not_tls") {
            assert!(
                v["hint"].as_str().unwrap_or("").contains("http://"),
                "{v:#}"
            );
        }
        if proxy == &expired.url() {
            assert!(v["notes"].to_string().contains("CERT_NONE"), "{v:#}");
        }
        // The proxy's own TLS: its certificate and what verification found.
        let proxy_tls = &stage(&doc, "proxy")["detail"]["tls"];
        match *kind {
            None if proxy == &good.url() => assert_eq!(proxy_tls["verified"], true, "{doc:#}"),
            Some("proxy_tls_failed") => assert_eq!(
                proxy_tls["verification_error_kind"], "cert_unknown_issuer",
                "{doc:#}"
            ),
            _ => {}
        }
        if !crate::common::curl_available("https proxy") {
            continue;
        }
        let mut cmd = tokio::process::Command::new("curl");
        cmd.args(["-sS", "-o", "/dev/null", "--max-time", "10"]);
        cmd.args(["--cacert", &ca, "--proxy-cacert", &ca, "-x", proxy, url]);
        crate::common::hermetic(&mut cmd);
        let out = crate::common::output_within(&mut cmd, std::time::Duration::from_secs(20))
            .await
            .expect("curl runs");
        assert_eq!(
            v["curl_exit"].as_i64(),
            out.status.code().map(i64::from),
            "{proxy} {url}: curl says {}; verdict {v:#}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `--proxy-cacert` trusts the proxy's CA apart from the target's; `--proxy-insecure` skips the
/// proxy's check (and the verdict says what it would have found).
#[tokio::test(flavor = "multi_thread")]
async fn proxy_cacert_and_proxy_insecure() {
    let target = TlsServer::start(CertKind::Valid, Behavior::ok("ok\n")).await;
    let ca = target.ca_pem_path.display().to_string();
    let url = format!("https://127.0.0.1:{}/", target.addr.port());
    let fwd = ProxyBehavior::Forward { require_auth: None };
    let proxy = ProxyServer::start_tls_with(CertKind::UnknownCa, fwd, HashMap::new()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy_ca = dir.path().join("proxy-ca.pem");
    std::fs::write(&proxy_ca, &testkit::tls::certs::untrusted_ca().pem).expect("write");
    let proxy_ca = proxy_ca.display().to_string();
    let p = proxy.url();

    let (doc, code) = probe(&["--cacert", &ca, "--proxy", &p, &url]).await;
    assert_eq!(doc["verdict"]["kind"], "proxy_tls_failed", "{doc:#}");
    assert_eq!(code, 6);

    let (doc, code) = probe(&[
        "--cacert",
        &ca,
        "--proxy-cacert",
        &proxy_ca,
        "--proxy",
        &p,
        &url,
    ])
    .await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(stage(&doc, "proxy")["detail"]["tls"]["verified"], true);

    let (doc, code) = probe(&["--cacert", &ca, "--proxy-insecure", "--proxy", &p, &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    let notes = doc["verdict"]["notes"].to_string();
    assert!(notes.contains("cert_unknown_issuer"), "{notes}");
}
