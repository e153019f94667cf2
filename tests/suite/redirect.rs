//! Redirects followed as requests follows them: relative and absolute Locations, method
//! changes, loops, cross-origin hops with new connections, downgrade and dropped Authorization.

use std::time::Duration;

use testkit::http::{Behavior, HttpServer};

use crate::common::{assert_failure, netpeel, probe, stage};

fn redirect(code: u16, location: &str) -> Behavior {
    Behavior::Respond {
        code,
        headers: vec![("Location".into(), location.into())],
        body: Vec::new(),
    }
}

fn route(path: &str, b: Behavior) -> (String, Behavior) {
    (path.to_string(), b)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_is_followed_and_each_hop_listed() {
    let server = HttpServer::start_router(vec![
        route("/a", redirect(301, "/b")),
        route("/b", redirect(302, "c")),
        route("/c", Behavior::ok("done")),
    ])
    .await;
    let (doc, code) = probe(&[&format!("http://{}/a", server.addr)]).await;
    assert_eq!(code, 0, "{doc:#}");
    let hops = doc["redirects"].as_array().cloned().unwrap_or_default();
    assert_eq!(hops.len(), 2);
    assert_eq!(hops[0]["status"], 301);
    assert_eq!(hops[0]["location"], "/b");
    assert_eq!(hops[1]["next_url"], format!("http://{}/c", server.addr));
    assert_eq!(doc["final_url"], format!("http://{}/c", server.addr));
    assert_eq!(stage(&doc, "http")["detail"]["body"]["preview"], "done");
    assert!(
        doc["verdict"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("After 2 redirects"))
    );
    // Each hop has its own stages.
    assert_eq!(hops[0]["stages"].as_array().map(|s| s.len()), Some(6));
}

#[tokio::test(flavor = "multi_thread")]
async fn see_other_turns_post_into_get_and_307_keeps_it() {
    let server = HttpServer::start_router(vec![
        route("/form", redirect(303, "/result")),
        route("/result", redirect(307, "/final")),
        route("/final", Behavior::ok("ok")),
    ])
    .await;
    let (doc, code) = probe(&["-X", "POST", &format!("http://{}/form", server.addr)]).await;
    assert_eq!(code, 0, "{doc:#}");
    let methods: Vec<String> = server
        .request_lines()
        .iter()
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(methods, ["POST", "GET", "GET"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loop_ends_in_too_many_redirects_and_shows_the_cycle() {
    let server = HttpServer::start_router(vec![
        route("/x", redirect(302, "/y")),
        route("/y", redirect(302, "/x")),
    ])
    .await;
    let (doc, code) = probe(&["--max-redirects", "5", &format!("http://{}/x", server.addr)]).await;
    assert_failure(
        &doc,
        code,
        "http",
        "too_many_redirects",
        "requests.exceptions.TooManyRedirects",
        10,
    );
    assert_eq!(doc["verdict"]["curl_exit"], 47);
    let summary = doc["verdict"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("/x → ") && summary.contains("/y → "),
        "{summary}"
    );
    assert_eq!(doc["redirects"].as_array().map(|a| a.len()), Some(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_follow_stops_at_the_first_hop() {
    let server = HttpServer::start_router(vec![
        route("/a", redirect(302, "/b")),
        route("/b", Behavior::ok("b")),
    ])
    .await;
    let (doc, code) = probe(&["--no-follow", &format!("http://{}/a", server.addr)]).await;
    assert_eq!(code, 0);
    assert_eq!(stage(&doc, "http")["detail"]["response"]["status"], 302);
    assert!(doc["verdict"]["notes"].to_string().contains("--no-follow"));
    assert_eq!(server.request_lines().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_a_dead_port_fails_in_that_hops_tcp_stage() {
    let dead = testkit::tcp::refused_addr();
    let server = HttpServer::start_router(vec![route(
        "/",
        redirect(302, &format!("http://{dead}/next")),
    )])
    .await;
    let (doc, code) = probe(&[&format!("http://{}/", server.addr)]).await;
    assert_failure(
        &doc,
        code,
        "tcp",
        "connection_refused",
        "requests.exceptions.ConnectionError",
        5,
    );
    assert_eq!(doc["redirects"][0]["reused_connection"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_host_hops_drop_authorization() {
    let other = HttpServer::start(Behavior::ok("other")).await;
    // The first hop is reached as "localhost", the second as 127.0.0.1: another host.
    let first = HttpServer::start_router(vec![route(
        "/",
        redirect(302, &format!("http://{}/", other.addr)),
    )])
    .await;
    let url = format!("http://localhost:{}/", first.addr.port());
    let (doc, code) = probe(&["-4", "-H", "Authorization: Bearer t0k", &url]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        first
            .requests()
            .first()
            .is_some_and(|r| r.contains("Authorization: Bearer t0k"))
    );
    assert!(
        other
            .requests()
            .first()
            .is_some_and(|r| !r.to_ascii_lowercase().contains("authorization"))
    );
    assert_eq!(doc["redirects"][0]["auth_dropped"], true);
    assert!(
        doc["verdict"]["notes"]
            .to_string()
            .contains("Authorization was not sent on")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn same_host_hops_keep_authorization() {
    let server = HttpServer::start_router(vec![
        route("/a", redirect(302, "/b")),
        route("/b", Behavior::ok("b")),
    ])
    .await;
    let (doc, code) = probe(&[
        "-H",
        "Authorization: Bearer t0k",
        &format!("http://{}/a", server.addr),
    ])
    .await;
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.contains("Authorization: Bearer t0k"))
    );
    assert_eq!(doc["redirects"][0]["auth_dropped"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_to_http_downgrade_is_flagged() {
    let plain = HttpServer::start(Behavior::ok("plain")).await;
    let tls = testkit::tls::TlsServer::start(
        testkit::tls::CertKind::Valid,
        redirect(302, &format!("http://{}/", plain.addr)),
    )
    .await;
    let ca = tls.ca_pem_path.display().to_string();
    let (doc, code) = probe(&["--cacert", &ca, &tls.url()]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["redirects"][0]["downgrade"], true);
    assert!(
        doc["verdict"]["notes"]
            .to_string()
            .contains("from https to http")
    );
    let text = netpeel(&["--cacert", &ca, &tls.url()]).await;
    assert!(text.stdout.contains("REDIRECTS"), "{}", text.stdout);
}

/// A keep-alive server on one port: /a redirects to /b, /b answers 200; counts connections.
async fn keep_alive_server() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    let task = tokio::spawn(async move {
        for _ in 0..4 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                for _ in 0..8 {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk))
                            .await
                        {
                            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                            _ => return,
                        }
                    }
                    let end = buf
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map(|p| p + 4)
                        .unwrap_or(buf.len());
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end);
                    let reply: &[u8] = if head.starts_with("GET /a ") {
                        b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n"
                    } else {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    };
                    if sock.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, connections, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn same_origin_hops_reuse_the_connection() {
    let (addr, connections, task) = keep_alive_server().await;
    let (doc, code) = probe(&[&format!("http://{addr}/a")]).await;
    task.abort();
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one connection for both hops"
    );
    assert_eq!(crate::common::status(&doc, "tcp"), "skipped");
    assert!(
        stage(&doc, "tcp")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("reused"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_whose_body_breaks_off_is_still_followed() {
    // requests drains a redirect's body and swallows ChunkedEncodingError while doing so.
    let server = HttpServer::start_router(vec![
        route(
            "/a",
            Behavior::Respond {
                code: 302,
                headers: vec![
                    ("Location".into(), "/b".into()),
                    ("Content-Length".into(), "100".into()),
                ],
                body: b"abc".to_vec(),
            },
        ),
        route("/b", Behavior::ok("b")),
    ])
    .await;
    let (doc, code) = probe(&[&format!("http://{}/a", server.addr)]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["redirects"][0]["method"], "GET");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_location_ends_the_chain() {
    let server = HttpServer::start_router(vec![route("/", redirect(302, ""))]).await;
    let (doc, code) = probe(&[&format!("http://{}/", server.addr)]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["redirects"], serde_json::json!([]));
    assert_eq!(stage(&doc, "http")["detail"]["response"]["status"], 302);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cycle_shown_is_the_loop_only() {
    let server = HttpServer::start_router(vec![
        route("/start", redirect(302, "/x")),
        route("/x", redirect(302, "/y")),
        route("/y", redirect(302, "/x")),
    ])
    .await;
    let (doc, _) = probe(&[&format!("http://{}/start", server.addr)]).await;
    let summary = doc["verdict"]["summary"].as_str().unwrap_or("").to_string();
    assert_eq!(summary.matches(" → ").count(), 2, "{summary}");
    assert!(!summary.contains("/start"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn once_proxied_no_proxy_does_not_take_the_proxy_away() {
    use std::collections::HashMap;
    use testkit::proxy::{ProxyBehavior, ProxyServer};
    let ip2: std::net::IpAddr = [127, 0, 0, 2].into();
    let second = HttpServer::start_on(ip2, 0, Behavior::ok("second")).await;
    let first = HttpServer::start_router(vec![route(
        "/",
        redirect(302, &format!("http://{}/", second.addr)),
    )])
    .await;
    let proxy = ProxyServer::start(
        ProxyBehavior::Forward { require_auth: None },
        HashMap::new(),
    )
    .await;
    let (doc, code) = crate::common::probe_env(
        &[&format!("http://{}/", first.addr)],
        &[("http_proxy", &proxy.url()), ("no_proxy", "127.0.0.2")],
    )
    .await;
    assert_eq!(code, 0, "{doc:#}");
    // requests keeps the environment proxy for later hops (resolve_proxies only adds).
    assert_eq!(proxy.requests().len(), 2, "{:?}", proxy.requests());
    assert_eq!(crate::common::status(&doc, "proxy"), "ok");
}

/// The request heads a server received, lower-cased, one per hop.
fn cookie_per_hop(first: &HttpServer, other: Option<&HttpServer>) -> Vec<bool> {
    let mut heads = first.requests();
    if let Some(o) = other {
        heads.extend(o.requests());
    }
    heads
        .iter()
        .map(|h| h.to_ascii_lowercase().contains("\r\ncookie:"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_cookie_is_dropped_on_every_redirect_as_requests_drops_it() {
    if !crate::common::requests_available("cookie on redirect differential") {
        return;
    }
    for cross_host in [false, true] {
        let mut seen = Vec::new();
        for tool in ["netpeel", "requests"] {
            let other = HttpServer::start(Behavior::ok("other")).await;
            let target = if cross_host {
                format!("http://{}/b", other.addr)
            } else {
                "/b".to_string()
            };
            let first = HttpServer::start_router(vec![
                route("/a", redirect(302, &target)),
                route("/b", Behavior::ok("b")),
            ])
            .await;
            let url = format!("http://{}/a", first.addr);
            if tool == "netpeel" {
                let (doc, code) = probe(&["-H", "Cookie: session=s3cr3t", &url]).await;
                assert_eq!(code, 0, "{doc:#}");
            } else {
                let args = ["--header".to_string(), "Cookie: session=s3cr3t".into(), url];
                let oracle = crate::differential::requests_oracle(&args).await;
                assert_eq!(oracle.map(|o| o["outcome"].clone()), Ok("ok".into()));
            }
            seen.push(cookie_per_hop(&first, cross_host.then_some(&other)));
        }
        assert_eq!(
            seen[0],
            vec![true, false],
            "netpeel, cross host {cross_host}"
        );
        assert_eq!(
            seen[0], seen[1],
            "netpeel vs requests, cross host {cross_host}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locations_userinfo_is_not_sent_as_requests_does_not_send_it() {
    if !crate::common::requests_available("location userinfo differential") {
        return;
    }
    let mut seen = Vec::new();
    for tool in ["netpeel", "requests"] {
        let other = HttpServer::start(Behavior::ok("other")).await;
        let location = format!("http://loc:LocPass99@{}/b", other.addr);
        let first = HttpServer::start_router(vec![route("/a", redirect(302, &location))]).await;
        let url = format!("http://{}/a", first.addr);
        if tool == "netpeel" {
            let (doc, code) = probe(&[&url]).await;
            assert_eq!(code, 0, "{doc:#}");
        } else {
            let oracle = crate::differential::requests_oracle(&[url]).await;
            assert_eq!(oracle.map(|o| o["outcome"].clone()), Ok("ok".into()));
        }
        let heads = other.requests();
        seen.push(
            heads
                .iter()
                .map(|h| h.to_ascii_lowercase().contains("\r\nauthorization:"))
                .collect::<Vec<bool>>(),
        );
    }
    assert_eq!(seen[0], vec![false], "netpeel");
    assert_eq!(seen[0], seen[1], "netpeel vs requests");
}
