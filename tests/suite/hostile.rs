//! Hostile servers: nothing they send reaches the terminal raw. A reason phrase, a header, a
//! body preview, a certificate subject or a proxy's answer carrying ESC sequences, CR, C1 or
//! bidi controls is shown visibly in the text report and on stderr, and written as `\uXXXX`
//! escapes in JSON, which still reads back as exactly what the server sent.

use testkit::http::Behavior;
use testkit::tls::certs::HOSTILE_CN;
use testkit::tls::{CertKind, TlsServer};

use crate::common::{netpeel, raw_server};

/// A response whose reason phrase, header and body would clear the screen (CSI as C1), write
/// the clipboard (OSC 52 as C1), reverse the text (bidi override), overwrite the line (CR) and
/// recolour it (ESC). The head holds only what HTTP parsers accept (obs-text); the body anything.
const HOSTILE_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\xc2\x9b2J\xe2\x80\xae\r\n\
X-Evil: a\xc2\x9d52;c;ZWNobyBwd25lZA==\xc2\x9cb\r\n\
Content-Length: 35\r\nConnection: close\r\n\r\n\
\rVERDICT: ok\x1b[32m\xe2\x80\xaegnp.exe\x7f\x1b[0m___";

/// Characters a terminal acts on rather than shows (newline aside: the report's own lines).
fn dangerous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{9}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn assert_terminal_safe(what: &str, text: &str) {
    if let Some((i, c)) = text.char_indices().find(|(_, c)| dangerous(*c)) {
        let around = &text[i.saturating_sub(40)..(i + 40).min(text.len())];
        panic!("{what}: raw {c:?} reached the output near {around:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_bytes_in_the_text_report_are_shown_visibly() {
    let (addr, _task) = raw_server(HOSTILE_RESPONSE, None).await;
    let run = netpeel(&["--report", &format!("http://{addr}/")]).await;
    assert_terminal_safe("report", &run.stdout);
    assert_terminal_safe("stderr", &run.stderr);
    assert!(run.stdout.contains("\\x9d52;c;"), "{}", run.stdout);
    assert!(run.stdout.contains("\\u{202e}"), "{}", run.stdout);
    assert!(run.stdout.contains("\\x1b[32m"), "{}", run.stdout);
    // The body's CR cannot start a line of its own: it stays inside the preview's line.
    assert!(
        run.stdout
            .contains("body: \\rVERDICT: ok\\x1b[32m\\u{202e}gnp.exe\\x7f"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_escapes_controls_and_stays_lossless() {
    let (addr, _task) = raw_server(HOSTILE_RESPONSE, None).await;
    let run = netpeel(&["--json", &format!("http://{addr}/")]).await;
    assert_terminal_safe("json", &run.stdout);
    assert!(run.stdout.contains("\\u009d") && run.stdout.contains("\\u202e"));
    let doc = run.json();
    let http = &crate::common::stage(&doc, "http")["detail"];
    let evil = http["response"]["headers"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["name"] == "x-evil"))
        .map(|h| h["value"].clone());
    assert_eq!(evil, Some("a\u{9d}52;c;ZWNobyBwd25lZA==\u{9c}b".into()));
    let preview = http["body"]["preview"].as_str().unwrap_or_default();
    assert!(
        preview.starts_with("\rVERDICT: ok\u{1b}[32m\u{202e}"),
        "{preview:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_certificate_subject_is_shown_visibly() {
    let server = TlsServer::start(CertKind::HostileSubject, Behavior::ok("fine")).await;
    let ca = server.ca_pem_path.display().to_string();
    let run = netpeel(&["--report", "--cacert", &ca, &server.url()]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_terminal_safe("report", &run.stdout);
    assert!(
        run.stdout
            .contains("\\x1b]0;pwned\\x07\\rVERDICT: ok\\u{202e}"),
        "{}",
        run.stdout
    );
    let json = netpeel(&["--json", "--cacert", &ca, &server.url()]).await;
    assert_terminal_safe("json", &json.stdout);
    let subject =
        crate::common::stage(&json.json(), "tls")["detail"]["chain"][0]["subject"].clone();
    assert!(
        subject.as_str().is_some_and(|s| s.contains(HOSTILE_CN)),
        "{subject}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_proxy_answer_is_shown_visibly() {
    // A CONNECT proxy that refuses with a reason phrase, header and body line that would
    // rewrite the screen.
    const REFUSAL: &[u8] = b"HTTP/1.1 403 Forbidden\x1b[2J\x1b]0;proxy\x07\r\n\
Via: \x1b[31mevil\r\nContent-Length: 20\r\nConnection: close\r\n\r\n\x1b[1A\rVERDICT: ok\x1b[0m";
    let (addr, _task) = raw_server(REFUSAL, None).await;
    let proxy = format!("http://{addr}");
    let run = netpeel(&["--report", "--proxy", &proxy, "https://127.0.0.1:9/"]).await;
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert_terminal_safe("report", &run.stdout);
    assert_terminal_safe("stderr", &run.stderr);
    assert!(run.stdout.contains("\\x1b[2J"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_a_server_echoes_back_are_masked_everywhere() {
    use base64::Engine;
    // An httpbin-style /headers: the body and a header repeat the credentials sent.
    let basic = base64::engine::general_purpose::STANDARD.encode("bob:hunter22");
    let echo = format!(
        r#"{{"headers": {{"Authorization": "Basic {basic}", "X-Api-Key": "k3y-v4lue-9", "Cookie": "sid=s3cr3t99"}}, "user": "bob:hunter22"}}"#
    );
    let server = testkit::http::HttpServer::start(Behavior::Respond {
        code: 200,
        headers: vec![("X-Echo-Key".into(), "k3y-v4lue-9".into())],
        body: echo.into_bytes(),
    })
    .await;
    let url = format!("http://bob:hunter22@{}/headers", server.addr);
    for format in ["--json", "--report"] {
        let run = netpeel(&[
            format,
            "-H",
            "X-Api-Key: k3y-v4lue-9",
            "-H",
            "Cookie: sid=s3cr3t99",
            &url,
        ])
        .await;
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        for secret in ["hunter22", basic.as_str(), "k3y-v4lue-9", "s3cr3t99"] {
            assert!(
                !run.stdout.contains(secret),
                "{format}: {secret} in {}",
                run.stdout
            );
            assert!(
                !run.stderr.contains(secret),
                "{format}: {secret} in {}",
                run.stderr
            );
        }
        // The sent request reached the server with its credentials: only the report masks.
        assert!(server.requests().iter().any(|r| r.contains("k3y-v4lue-9")));
    }
    let run = netpeel(&["--json", "-H", "X-Api-Key: k3y-v4lue-9", &url]).await;
    let doc = run.json();
    let preview = crate::common::stage(&doc, "http")["detail"]["body"]["preview"].to_string();
    assert!(preview.contains(r#"Basic ***"#), "{preview}");
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_in_the_query_are_masked_whatever_their_length() {
    // A server that echoes the request line back in its body, as a debugging endpoint does.
    let server = testkit::http::HttpServer::start(Behavior::Respond {
        code: 200,
        headers: vec![],
        body: b"you asked for /x?password=PW1&token=t0k3n-abc&page=2\n".to_vec(),
    })
    .await;
    let url = format!(
        "http://{}/x?password=PW1&token=t0k3n-abc&page=2",
        server.addr
    );
    for format in ["--json", "--report"] {
        let run = netpeel(&[format, &url]).await;
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        for secret in ["PW1", "t0k3n-abc"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{format}: {secret} in {}{}",
                run.stdout,
                run.stderr
            );
        }
        assert!(run.stdout.contains("page=2"), "{}", run.stdout);
    }
    // The request itself went out with them.
    assert!(server.requests().iter().any(|r| r.contains("password=PW1")));
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_in_urls_are_masked_wherever_they_are_quoted() {
    // A redirect not followed: its Location, and the note quoting it.
    let server = testkit::http::HttpServer::start(Behavior::Respond {
        code: 302,
        headers: vec![(
            "Location".into(),
            "http://deploy:t0ps3cret@127.0.0.1:1/next".into(),
        )],
        body: Vec::new(),
    })
    .await;
    let url = format!("http://{}/", server.addr);
    for format in ["--json", "--report"] {
        let run = netpeel(&[format, "--no-follow", &url]).await;
        assert!(
            !run.stdout.contains("t0ps3cret"),
            "{format}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("deploy:***@"),
            "{format}: {}",
            run.stdout
        );
    }
    // Passwords holding a space and a quote, in a URL that parses and in one that does not.
    for bad in [
        "http://bob:pa ss'wd1@127.0.0.1:1/",
        "http://bob:pa ss'wd1@127.0.0.1:x/",
    ] {
        for format in ["--json", "--report"] {
            let run = netpeel(&[format, bad]).await;
            assert!(!run.stdout.contains("ss'wd1"), "{format}: {}", run.stdout);
            assert!(!run.stderr.contains("ss'wd1"), "{format}: {}", run.stderr);
        }
    }
    // A proxy password holding / and # in a usage error.
    let run = netpeel(&[
        "--proxy",
        "http://u:se/cr#et@127.0.0.1:1",
        "http://127.0.0.1:2/",
    ])
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        !run.stderr.contains("cr#et") && !run.stderr.contains("se/cr"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn masking_keeps_the_report_whole() {
    use base64::Engine;
    // A URL with a port and an `@` in its query has no password: it is shown as it is.
    let server = testkit::http::HttpServer::start(Behavior::ok("fine")).await;
    let url = format!("http://{}/x?email=bob@example.test", server.addr);
    let run = netpeel(&["--report", &url]).await;
    assert!(run.stdout.contains(&url), "{}", run.stdout);

    // A cookie value that is one of netpeel's own words ("http", "failed") masks what the
    // server echoes, not the report's stages.
    let run = netpeel(&["--json", "-H", "Cookie: v=http; w=failed", &url]).await;
    let doc = run.json();
    assert!(
        crate::common::stage(&doc, "http")["detail"].is_object(),
        "{doc:#}"
    );

    // An echo that the 200-byte preview would cut in two, JSON-escaped on the way back.
    let secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.SIGNATURE\\part\"x";
    let echoed = serde_json::to_string(secret).unwrap_or_default();
    let body = format!("{}{echoed}", "p".repeat(150));
    let echo = testkit::http::HttpServer::start(Behavior::Respond {
        code: 200,
        headers: vec![],
        body: body.into_bytes(),
    })
    .await;
    let header = format!("Authorization: Bearer {secret}");
    let run = netpeel(&["--json", "-H", &header, &format!("http://{}/", echo.addr)]).await;
    let preview = crate::common::stage(&run.json(), "http")["detail"]["body"]["preview"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!preview.contains("eyJhbGci"), "{preview}");
    assert!(preview.len() <= 200, "{}", preview.len());

    // Credentials sent on an earlier hop (kept on a same-host redirect) are masked where the
    // last hop's server echoes them.
    let token = base64::engine::general_purpose::STANDARD.encode("bob:FirstPass1");
    let router = testkit::http::HttpServer::start_router(vec![
        (
            "/redir".to_string(),
            Behavior::Respond {
                code: 302,
                headers: vec![("Location".into(), "/headers".into())],
                body: Vec::new(),
            },
        ),
        (
            "/headers".to_string(),
            Behavior::Respond {
                code: 200,
                headers: vec![],
                body: format!(r#"{{"Authorization": "Basic {token}"}}"#).into_bytes(),
            },
        ),
    ])
    .await;
    let url = format!("http://bob:FirstPass1@{}/redir", router.addr);
    let run = netpeel(&["--json", &url]).await;
    assert!(!run.stdout.contains(&token), "{}", run.stdout);
    assert!(!run.stdout.contains("FirstPass1"), "{}", run.stdout);
}
