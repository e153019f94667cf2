//! HTTP/2 with --http2: h2 offered in ALPN and used when the server picks it; GOAWAY and
//! stream resets get kinds of their own. Without --http2 netpeel speaks HTTP/1.1, as requests.

use testkit::h2::{H2Behavior, H2Server};

use crate::common::{assert_failure, probe, stage};

async fn h2_probe(b: H2Behavior, extra: &[&str]) -> (serde_json::Value, i32, H2Server) {
    let server = H2Server::start(b).await;
    let ca = server.ca_pem_path.display().to_string();
    let url = server.url();
    let mut args = vec!["--cacert", ca.as_str()];
    args.extend_from_slice(extra);
    args.push(&url);
    let (doc, code) = probe(&args).await;
    (doc, code, server)
}

#[tokio::test(flavor = "multi_thread")]
async fn http2_is_negotiated_when_offered() {
    let ok = || H2Behavior::Respond {
        code: 200,
        body: "two".into(),
    };
    let (doc, code, server) = h2_probe(ok(), &["--http2"]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(stage(&doc, "tls")["detail"]["alpn"], "h2");
    assert_eq!(
        stage(&doc, "tls")["detail"]["alpn_offered"],
        serde_json::json!(["h2", "http/1.1"])
    );
    assert_eq!(
        stage(&doc, "http")["detail"]["response"]["version"],
        "HTTP/2.0"
    );
    assert_eq!(stage(&doc, "http")["detail"]["body"]["preview"], "two");
    assert_eq!(server.protocols(), ["h2"]);

    // Without --http2, HTTP/1.1 as requests does, even though the server prefers h2.
    let (doc, code, server) = h2_probe(ok(), &[]).await;
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(stage(&doc, "tls")["detail"]["alpn"], "http/1.1");
    assert_eq!(
        stage(&doc, "http")["detail"]["response"]["version"],
        "HTTP/1.1"
    );
    assert_eq!(server.protocols(), ["http/1.1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn goaway_has_its_own_kind() {
    let (doc, code, _s) = h2_probe(H2Behavior::GoAway, &["--http2"]).await;
    assert_failure(&doc, code, "http", "h2_goaway", "", 8);
    assert_eq!(doc["verdict"]["curl_exit"], 16);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_reset_names_its_code() {
    let (doc, code, _s) = h2_probe(H2Behavior::ResetStream, &["--http2"]).await;
    assert_failure(&doc, code, "http", "h2_stream_reset", "", 8);
    let message = stage(&doc, "http")["detail"]["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("REFUSED_STREAM") || message.contains("INTERNAL_ERROR"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn our_own_goaway_is_not_blamed_on_the_server() {
    // The server sends a DATA frame on stream 0: netpeel's h2 library answers with its own
    // GOAWAY(PROTOCOL_ERROR). That is the server breaking the protocol, not the server's
    // GOAWAY.
    let (doc, code, _s) = h2_probe(H2Behavior::BadFrame, &["--http2"]).await;
    assert_failure(&doc, code, "http", "h2_protocol_error", "", 8);
    let message = stage(&doc, "http")["detail"]["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("netpeel's HTTP/2 library sent GOAWAY")
            && message.contains("PROTOCOL_ERROR"),
        "{message}"
    );
    // The server's own GOAWAY keeps its kind.
    let (doc, code, _s) = h2_probe(H2Behavior::GoAway, &["--http2"]).await;
    assert_failure(&doc, code, "http", "h2_goaway", "", 8);
}
