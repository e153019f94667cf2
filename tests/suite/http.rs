//! HTTP stage: statuses, stalls, closes, resets, garbage, short and trickling bodies, the
//! request that was sent, and secrets kept out of the output.

use std::time::Duration;

use testkit::http::{Behavior, HttpServer};
use testkit::tls::{CertKind, TlsServer};

use crate::common::{assert_failure, netpeel, probe, stage};

const CONN: &str = "requests.exceptions.ConnectionError";
const CHUNKED: &str = "requests.exceptions.ChunkedEncodingError";

fn respond(code: u16, body: &str) -> Behavior {
    Behavior::Respond {
        code,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: body.as_bytes().to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ok_200_with_timings_and_heads() {
    let server = HttpServer::start(respond(200, "all good\n")).await;
    let (doc, code) = probe(&[&format!("{}health?x=1", server.url())]).await;
    assert_eq!(code, 0, "{doc:#}");
    let v = &doc["verdict"];
    assert_eq!(v["ok"], true);
    assert!(v["layer"].is_null() && v["kind"].is_null() && v["requests_exception"].is_null());
    assert_eq!(v["curl_exit"], 0);
    let h = &stage(&doc, "http")["detail"];
    assert_eq!(h["request"]["method"], "GET");
    assert_eq!(h["request"]["target"], "/health?x=1");
    assert_eq!(h["response"]["status"], 200);
    assert_eq!(h["body"]["bytes"], 9);
    assert_eq!(h["body"]["preview"], "all good\n");
    assert!(h["time_to_first_byte_ms"].as_f64().is_some());
    let sent = server.requests();
    assert!(sent.first().is_some_and(
        |r| r.starts_with("GET /health?x=1 HTTP/1.1\r\n") && r.contains("\r\nHost: 127.0.0.1:")
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn https_200() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("tls body")).await;
    let ca = server.ca_pem_path.display().to_string();
    let (doc, code) = probe(&["--cacert", &ca, &server.url()]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(stage(&doc, "http")["detail"]["body"]["bytes"], 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_404_is_an_http_error() {
    let server = HttpServer::start(respond(404, "no such thing")).await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(
        &doc,
        code,
        "http",
        "http_client_error",
        "requests.exceptions.HTTPError",
        9,
    );
    assert_eq!(doc["verdict"]["curl_exit"], 22);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_503_is_a_server_error() {
    let server = HttpServer::start(respond(503, "overloaded")).await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(
        &doc,
        code,
        "http",
        "http_server_error",
        "requests.exceptions.HTTPError",
        9,
    );
    assert_eq!(
        stage(&doc, "http")["detail"]["body"]["preview"],
        "overloaded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_before_the_response_is_a_read_timeout() {
    let server = HttpServer::start(Behavior::StallBeforeResponse).await;
    let (doc, code) = probe(&["--read-timeout", "0.5", &server.url()]).await;
    assert_failure(
        &doc,
        code,
        "http",
        "read_timeout",
        "requests.exceptions.ReadTimeout",
        8,
    );
    assert_eq!(doc["verdict"]["governing_timeout"], "read");
    let ms = stage(&doc, "http")["elapsed_ms"].as_f64().unwrap_or(0.0);
    assert!((450.0..2500.0).contains(&ms), "{ms} ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn close_before_the_response_is_remote_disconnected() {
    let server = HttpServer::start(Behavior::CloseBeforeResponse).await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(&doc, code, "http", "remote_disconnected", CONN, 8);
    assert_eq!(
        doc["verdict"]["urllib3_cause"],
        "urllib3.exceptions.ProtocolError"
    );
    assert_eq!(doc["verdict"]["curl_exit"], 52);
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_before_the_response() {
    let server = HttpServer::start(Behavior::ResetBeforeResponse).await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(&doc, code, "http", "connection_reset", CONN, 8);
    assert_eq!(doc["verdict"]["curl_exit"], 56);
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_instead_of_http() {
    let server = HttpServer::start(Behavior::Garbage).await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(&doc, code, "http", "not_http", CONN, 8);
    assert_eq!(doc["verdict"]["curl_exit"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn trickle_then_close_is_an_incomplete_body_not_a_timeout() {
    // One byte every 100 ms never trips a 0.5 s read timeout (it is a gap, not a total).
    let server = HttpServer::start(Behavior::TrickleThenClose {
        content_length: 100,
        sent: 8,
        interval: Duration::from_millis(100),
    })
    .await;
    let (doc, code) = probe(&["--read-timeout", "0.5", &server.url()]).await;
    assert_failure(&doc, code, "http", "incomplete_body", CHUNKED, 8);
    let body = &stage(&doc, "http")["detail"]["body"];
    assert_eq!(body["bytes"], 8);
    assert_eq!(body["content_length"], 100);
    assert_eq!(doc["verdict"]["curl_exit"], 18);
    assert!(stage(&doc, "http")["elapsed_ms"].as_f64().unwrap_or(0.0) > 600.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn body_stall_is_a_body_read_timeout_raised_as_connection_error() {
    let server = HttpServer::start(Behavior::StallMidBody {
        content_length: 100,
        sent: 10,
    })
    .await;
    let (doc, code) = probe(&["--read-timeout", "0.5", &server.url()]).await;
    assert_failure(&doc, code, "http", "body_read_timeout", CONN, 8);
    assert_eq!(
        doc["verdict"]["urllib3_cause"],
        "urllib3.exceptions.ReadTimeoutError"
    );
    assert_eq!(doc["verdict"]["governing_timeout"], "read");
    assert_eq!(stage(&doc, "http")["detail"]["response"]["status"], 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_mid_body() {
    let server = HttpServer::start(Behavior::ResetMidBody {
        content_length: 100,
        sent: 10,
    })
    .await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(&doc, code, "http", "body_reset", CHUNKED, 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn chunked_body_without_its_last_chunk() {
    let server = HttpServer::start(Behavior::ChunkedThenClose).await;
    let (doc, code) = probe(&[&server.url()]).await;
    assert_failure(&doc, code, "http", "incomplete_body", CHUNKED, 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_time_bounds_a_stalled_response() {
    let server = HttpServer::start(Behavior::StallBeforeResponse).await;
    let (doc, code) = probe(&["--read-timeout", "30", "-m", "0.5", &server.url()]).await;
    assert_failure(&doc, code, "http", "total_timeout", "", 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn method_and_headers_are_sent_and_secrets_redacted() {
    let server = HttpServer::start(respond(200, "ok")).await;
    let url = format!("http://alice:s3cret-pw@{}/x", server.addr);
    let plain = format!("http://{}/x", server.addr);
    let args = [
        "-X",
        "delete",
        "-H",
        "Authorization: Bearer tok-123",
        "-H",
        "Cookie: sid=abc",
        "-H",
        "X-Trace: 7",
        plain.as_str(),
    ];
    let mut json_args = vec!["--json"];
    json_args.extend_from_slice(&args);
    let json = netpeel(&json_args).await;
    let text = netpeel(&args).await;
    assert_eq!(json.code, 0, "{}", json.stdout);
    let sent = server.requests();
    let first = sent.first().cloned().unwrap_or_default();
    assert!(first.starts_with("DELETE /x HTTP/1.1"), "{first}");
    assert!(
        first.contains("Authorization: Bearer tok-123") && first.contains("X-Trace: 7"),
        "{first}"
    );
    for out in [&json.stdout, &text.stdout] {
        for secret in ["tok-123", "sid=abc", "s3cret-pw"] {
            assert!(!out.contains(secret), "{secret} leaked into:\n{out}");
        }
        assert!(
            out.contains("Bearer ***") && out.contains("X-Trace"),
            "{out}"
        );
    }
    // Basic auth from the URL is sent as requests does (replacing a given Authorization, as
    // requests' prepare_auth does), and redacted.
    let (doc, _) = probe(&["-H", "Authorization: Bearer tok-123", &url]).await;
    let sent = server.requests();
    assert!(
        sent.last().is_some_and(|r| {
            r.contains("Authorization: Basic YWxpY2U6czNjcmV0LXB3") && !r.contains("tok-123")
        }),
        "{sent:?}"
    );
    assert!(
        doc["url"]
            .as_str()
            .is_some_and(|u| u.contains("alice:***@"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_head_trickled_byte_by_byte_is_not_a_read_timeout() {
    // requests' read timeout is a gap between reads: 40 ms gaps never trip 0.5 s, even though
    // the whole head takes far longer than that.
    let reply: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    let (addr, task) = crate::common::raw_server(reply, Some(Duration::from_millis(15))).await;
    let (doc, code) = probe(&["--read-timeout", "0.5", &format!("http://{addr}/")]).await;
    task.abort();
    assert_eq!(code, 0, "{doc:#}");
    assert!(stage(&doc, "http")["elapsed_ms"].as_f64().unwrap_or(0.0) > 500.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_above_599_passes_raise_for_status() {
    let (addr, task) =
        crate::common::raw_server(b"HTTP/1.1 600 Weird\r\nContent-Length: 0\r\n\r\n", None).await;
    let (doc, code) = probe(&[&format!("http://{addr}/")]).await;
    task.abort();
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        doc["verdict"]["notes"]
            .to_string()
            .contains("curl --fail would exit 22")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reason_phrase_is_the_servers_own() {
    let (addr, task) = crate::common::raw_server(
        b"HTTP/1.1 410 Custom Gone Away\r\nContent-Length: 0\r\n\r\n",
        None,
    )
    .await;
    let (doc, code) = probe(&[&format!("http://{addr}/")]).await;
    task.abort();
    assert_eq!(code, 9);
    assert_eq!(
        stage(&doc, "http")["detail"]["response"]["reason"],
        "Custom Gone Away"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_header_line_is_skipped_like_http_client_does() {
    let (addr, task) = crate::common::raw_server(
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\nX-Ok: 1\r\nContent-Length: 2\r\n\r\nok",
        None,
    )
    .await;
    let (doc, code) = probe(&[&format!("http://{addr}/")]).await;
    task.abort();
    assert_eq!(code, 0, "{doc:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_headers_is_a_bad_response_head_not_another_protocol() {
    let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..150 {
        reply.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    reply.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let reply: &'static [u8] = Box::leak(reply.into_boxed_slice());
    let (addr, task) = crate::common::raw_server(reply, None).await;
    let (doc, code) = probe(&[&format!("http://{addr}/")]).await;
    task.abort();
    assert_failure(&doc, code, "http", "bad_response_head", CONN, 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_head_response_is_not_a_truncated_body() {
    let server = HttpServer::start(respond(200, "a body HEAD does not get")).await;
    let run = netpeel(&["-X", "HEAD", &server.url()]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("body 0 bytes"), "{}", run.stdout);
    assert!(!run.stdout.contains("body 0 of"), "{}", run.stdout);
}
