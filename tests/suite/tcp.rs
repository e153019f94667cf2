//! TCP stage: refused, a true connect timeout (full accept queue), several addresses tried in
//! order with one row each, and the total deadline.

use testkit::http::{Behavior, HttpServer};
use testkit::tcp::{BlackholeListener, refused_addr};

use crate::common::{assert_failure, probe, stage};

#[tokio::test(flavor = "multi_thread")]
async fn refused_port() {
    let addr = refused_addr();
    let (doc, code) = probe(&[&format!("http://{addr}/")]).await;
    assert_failure(
        &doc,
        code,
        "tcp",
        "connection_refused",
        "requests.exceptions.ConnectionError",
        5,
    );
    assert_eq!(
        doc["verdict"]["urllib3_cause"],
        "urllib3.exceptions.NewConnectionError"
    );
    assert_eq!(doc["verdict"]["curl_exit"], 7);
    let attempts = &stage(&doc, "tcp")["detail"]["attempts"];
    assert_eq!(attempts[0]["address"], addr.to_string());
    assert_eq!(attempts[0]["result"], "connection_refused");
    assert_eq!(attempts[0]["os_errno"], 111);
}

#[tokio::test(flavor = "multi_thread")]
async fn full_accept_queue_is_a_connect_timeout() {
    let hole = BlackholeListener::start();
    let (doc, code) = probe(&[
        "--connect-timeout",
        "0.5",
        &format!("http://{}/", hole.addr),
    ])
    .await;
    assert_failure(
        &doc,
        code,
        "tcp",
        "connect_timeout",
        "requests.exceptions.ConnectTimeout",
        5,
    );
    assert_eq!(doc["verdict"]["governing_timeout"], "connect");
    assert_eq!(doc["verdict"]["curl_exit"], 28);
    let ms = stage(&doc, "tcp")["elapsed_ms"].as_f64().unwrap_or(0.0);
    assert!(
        (450.0..2500.0).contains(&ms),
        "connect took {ms} ms with a 0.5 s timeout"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_address_is_tried_in_order_with_a_row_each() {
    // localhost:PORT resolves to 127.0.0.1 and ::1; only the IPv6 one listens.
    let web = HttpServer::start_v6(Behavior::ok("six")).await;
    let port = web.addr.port();
    let pin = format!("multi.test:{port}:127.0.0.1,::1");
    let (doc, code) = probe(&["--resolve", &pin, &format!("http://multi.test:{port}/")]).await;
    assert_eq!(code, 0, "{doc:#}");
    let attempts = stage(&doc, "tcp")["detail"]["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows: Vec<(&str, &str)> = attempts
        .iter()
        .map(|a| {
            (
                a["address"].as_str().unwrap_or(""),
                a["result"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (format!("127.0.0.1:{port}").as_str(), "connection_refused"),
            (format!("[::1]:{port}").as_str(), "connected")
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn when_all_addresses_fail_the_last_error_is_reported() {
    let hole = BlackholeListener::start();
    let port = hole.addr.port();
    // 127.0.0.2 is loopback too, and nothing listens there on this port: refused first,
    // then the black hole times out; urllib3 raises the last error.
    let pin = format!("two.test:{port}:127.0.0.2,127.0.0.1");
    let (doc, code) = probe(&[
        "--connect-timeout",
        "0.3",
        "--resolve",
        &pin,
        &format!("http://two.test:{port}/"),
    ])
    .await;
    assert_failure(
        &doc,
        code,
        "tcp",
        "connect_timeout",
        "requests.exceptions.ConnectTimeout",
        5,
    );
    let results: Vec<String> = stage(&doc, "tcp")["detail"]["attempts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["result"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(results, ["connection_refused", "connect_timeout"]);
    assert!(
        doc["verdict"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("All 2 addresses failed"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_time_cuts_a_long_connect_and_says_so() {
    let hole = BlackholeListener::start();
    let (doc, code) = probe(&[
        "--connect-timeout",
        "20",
        "--max-time",
        "0.4",
        &format!("http://{}/", hole.addr),
    ])
    .await;
    assert_failure(&doc, code, "tcp", "total_timeout", "", 5);
    assert_eq!(doc["verdict"]["governing_timeout"], "total");
    assert!(doc["verdict"]["requests_exception"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv4_only_flag_skips_ipv6_addresses() {
    let web = HttpServer::start(Behavior::ok("four")).await;
    let port = web.addr.port();
    let pin = format!("both.test:{port}:::1,127.0.0.1");
    let (doc, code) = probe(&[
        "-4",
        "--resolve",
        &pin,
        &format!("http://both.test:{port}/"),
    ])
    .await;
    assert_eq!(code, 0, "{doc:#}");
    let attempts = stage(&doc, "tcp")["detail"]["attempts"]
        .as_array()
        .map(|a| a.len());
    assert_eq!(attempts, Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn family_flags_apply_to_ip_literals_too() {
    let web = HttpServer::start(Behavior::ok("x")).await;
    let (doc, code) = probe(&["-6", &web.url()]).await;
    assert_failure(
        &doc,
        code,
        "tcp",
        "tcp_other",
        "requests.exceptions.ConnectionError",
        5,
    );
    assert!(
        doc["verdict"]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("-4/-6"))
    );
}

/// A server that accepts and resets at once: the TCP handshake completed, so the connect
/// succeeded and the request fails, every time, however fast the reset arrives: requests
/// raises ConnectionError(ProtocolError('Connection aborted.', …)) with ConnectionResetError
/// or, when its read finds the socket already closed, RemoteDisconnected; never the connect
/// failure (NewConnectionError) that reading the reset at connect time would suggest.
#[tokio::test(flavor = "multi_thread")]
async fn a_reset_right_after_the_handshake_is_blamed_on_the_request_every_time() {
    let server = testkit::http::HttpServer::start(testkit::http::Behavior::ResetOnAccept).await;
    for _ in 0..10 {
        let (doc, code) = crate::common::probe(&[&server.url()]).await;
        assert_eq!(code, 8, "{doc:#}");
        assert_eq!(doc["verdict"]["layer"], "http", "{doc:#}");
        let kind = doc["verdict"]["kind"].as_str().unwrap_or("");
        assert!(
            ["connection_reset", "remote_disconnected"].contains(&kind),
            "{doc:#}"
        );
        assert_eq!(
            doc["verdict"]["requests_exception"],
            "requests.exceptions.ConnectionError"
        );
        assert_eq!(
            doc["verdict"]["urllib3_cause"],
            "urllib3.exceptions.ProtocolError"
        );
        assert_eq!(crate::common::status(&doc, "tcp"), "ok", "{doc:#}");
    }
}
