//! Snapshots of the dashboard's main screens at 80×24 (SSH) and 120×40, drawn with ratatui's
//! TestBackend. Each screen comes from the real engine run against a loopback server; the
//! report is then masked (times, ports, certificate dates) so the snapshots are stable.

use std::time::{Duration, Instant};

use netpeel::engine::events::{Events, ProbeEvent};
use netpeel::engine::settings::{CaBundle, CaSource};
use netpeel::engine::trust::{TrustClient, TrustStore};
use netpeel::engine::{ProbeSettings, Stage};
use netpeel::report::Report;
use netpeel::tui::{App, Event, HeaderInfo, Theme, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;
use testkit::dns::{DnsAnswer, DnsServer};
use testkit::http::{Behavior, HttpServer};
use testkit::tls::{CertKind, TlsServer};

const PLAIN: Theme = Theme {
    color: false,
    ascii: false,
};

/// Settings as the CLI builds them (built here field by field, so these tests do not depend on
/// the CLI's signatures; the environment is ignored).
fn settings(url: &str) -> ProbeSettings {
    ProbeSettings::new(url)
}

/// `--cacert PATH`.
fn with_ca(mut s: ProbeSettings, path: &std::path::Path) -> ProbeSettings {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
        .expect("CA file")
        .collect::<Result<Vec<_>, _>>()
        .expect("CA PEM");
    s.ca = CaBundle {
        source: CaSource::Bundle {
            path: path.to_path_buf(),
            from: "--cacert".into(),
        },
        certs,
    };
    s
}

/// What changes from run to run, and what it becomes in the snapshot.
struct Masks {
    pairs: Vec<(String, String)>,
}

impl Masks {
    fn new() -> Masks {
        Masks { pairs: Vec::new() }
    }

    fn port(mut self, real: u16, shown: u16) -> Masks {
        self.pairs.push((format!(":{real}"), format!(":{shown}")));
        self
    }

    fn text(mut self, real: &str, shown: &str) -> Masks {
        self.pairs.push((real.to_string(), shown.to_string()));
        self
    }

    fn apply(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (real, shown) in &self.pairs {
            out = out.replace(real.as_str(), shown);
        }
        mask_times(&out)
    }
}

/// "after 13 ms" → "after 2 ms", "0.4 s" → "2 ms": times inside sentences.
fn mask_times(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_number =
            chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric());
        if starts_number {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let rest: String = chars[j..].iter().take(4).collect();
            let unit = if rest.starts_with(" ms") {
                Some(3)
            } else if rest.starts_with(" s")
                && !rest[2..].starts_with(|c: char| c.is_alphanumeric())
            {
                Some(2)
            } else {
                None
            };
            if let Some(len) = unit {
                out.push_str("2 ms");
                i = j + len;
                continue;
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Fixed times per stage so bars and columns do not move between runs.
fn stage_ms(stage: &str) -> f64 {
    match stage {
        "url" => 0.1,
        "dns" => 0.4,
        "tcp" => 0.3,
        "proxy" => 0.5,
        "tls" => 2.2,
        _ => 3.1,
    }
}

fn mask_value(v: &mut Value, key: &str, stage: Option<&str>, masks: &Masks) {
    match v {
        Value::String(s) => *s = masks.apply(s),
        Value::Number(_) if key == "elapsed_ms" => {
            *v = Value::from(stage.map(stage_ms).unwrap_or(0.2));
        }
        Value::Number(_) if key.ends_with("_ms") => *v = Value::from(0.2),
        Value::Array(items) => {
            for item in items {
                mask_value(item, key, None, masks);
            }
        }
        Value::Object(map) => {
            let this_stage = map
                .get("stage")
                .and_then(|s| s.as_str())
                .map(str::to_string);
            for (k, item) in map.iter_mut() {
                mask_value(item, k, this_stage.as_deref(), masks);
            }
        }
        _ => {}
    }
}

fn mask_report(report: &Report, masks: &Masks) -> Report {
    let mut v = serde_json::to_value(report).expect("report to JSON");
    mask_value(&mut v, "", None, masks);
    v["total_ms"] = Value::from(6.3);
    // The local end of the connection: an ephemeral port.
    if let Some(stages) = v["stages"].as_array_mut() {
        for s in stages {
            if s["stage"] == "tcp" && s["detail"]["local"].is_string() {
                s["detail"]["local"] = Value::from("127.0.0.1:40000");
            }
        }
    }
    serde_json::from_value(v).expect("masked report reads back")
}

fn mask_header(h: &mut HeaderInfo, masks: &Masks) {
    h.url = masks.apply(&h.url);
    for s in &mut h.settings {
        s.text = masks.apply(&s.text);
    }
}

/// The leaf certificate's dates, which move with the clock, shown as fixed ones.
fn cert_masks(masks: Masks, report: &Report) -> Masks {
    let v = serde_json::to_value(report).expect("report to JSON");
    let leaf = v["stages"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["stage"] == "tls"))
        .map(|s| s["detail"]["chain"].clone())
        .unwrap_or_default();
    let mut masks = masks;
    let fixed = [
        ("2026-10-22T22:04:36Z", "2026-11-18T22:04:36Z"),
        ("2026-10-23T09:00:00Z", "2026-11-22T09:00:00Z"),
    ];
    if let Some(chain) = leaf.as_array() {
        for (c, (nb, na)) in chain.iter().zip(fixed) {
            if let (Some(b), Some(a)) = (c["not_before"].as_str(), c["not_after"].as_str()) {
                masks = masks.text(b, nb).text(a, na);
            }
        }
    }
    masks
}

/// Run the real engine on `settings`, feeding its events and then its (masked) report to a
/// fresh App, as the dashboard's loop does.
async fn probed_app(settings: ProbeSettings, masks: impl Fn(&Report) -> Masks) -> App {
    let t0 = Instant::now();
    let header = HeaderInfo::from_settings(&settings);
    let mut app = App::new(header, t0);
    app.start(t0);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = netpeel::engine::probe(settings, Events::new(tx)).await;
    while let Ok(event) = rx.try_recv() {
        app.update(Event::Probe {
            attempt: 1,
            event,
            at: t0,
        });
    }
    let report = netpeel::report::build(&outcome);
    let masks = masks(&report);
    mask_header(&mut app.header, &masks);
    app.update(Event::Finished {
        attempt: 1,
        report: Box::new(mask_report(&report, &masks)),
        at: t0,
    });
    app
}

fn draw(app: &App, (w, h): (u16, u16), theme: Theme) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| ui::draw(f, app, &theme)).expect("draw");
    term
}

fn screen(app: &App, size: (u16, u16), theme: Theme) -> String {
    ui::screen_text(draw(app, size, theme).backend().buffer())
}

const SMALL: (u16, u16) = (80, 24);
const LARGE: (u16, u16) = (120, 40);

fn snap(name: &str, app: &App) -> (String, String) {
    let small = screen(app, SMALL, PLAIN);
    let large = screen(app, LARGE, PLAIN);
    insta::assert_snapshot!(format!("{name}_80x24"), small);
    insta::assert_snapshot!(format!("{name}_120x40"), large);
    (small, large)
}

/// The verdict is vital: every sentence of it must be on the 80×24 screen, whole.
fn assert_verdict_whole(screen: &str, words: &[&str]) {
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    for w in words {
        assert!(flat.contains(w), "{w:?} missing from\n{screen}");
    }
}

async fn tls_expired_app() -> (App, TlsServer) {
    let server = TlsServer::start(CertKind::Expired, Behavior::ok("hello\n")).await;
    let ca = server.ca_pem_path.display().to_string();
    let port = server.addr.port();
    let ca_dir = ca.clone();
    let url = format!("{}health", server.url());
    let app = probed_app(with_ca(settings(&url), &server.ca_pem_path), |r| {
        cert_masks(Masks::new().port(port, 8443).text(&ca_dir, "ca.pem"), r)
    })
    .await;
    (app, server)
}

#[tokio::test(flavor = "multi_thread")]
async fn running() {
    // A probe caught while the TLS handshake runs: the engine's events, stamped by hand so the
    // live counters read the same every time.
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut settings = settings("https://localhost:8443/health");
    settings.connect_timeout = Duration::from_secs(5);
    let mut app = App::new(HeaderInfo::from_settings(&settings), t0);
    app.start(t0);
    let events = [
        (ProbeEvent::StageStarted { stage: Stage::Url }, 0),
        (
            ProbeEvent::StageFinished {
                stage: Stage::Url,
                ok: true,
                elapsed: Duration::from_micros(60),
                summary: "https://localhost:8443/health".into(),
            },
            0,
        ),
        (ProbeEvent::StageStarted { stage: Stage::Dns }, 0),
        (
            ProbeEvent::StageFinished {
                stage: Stage::Dns,
                ok: true,
                elapsed: Duration::from_micros(400),
                summary: "2 address(es)".into(),
            },
            1,
        ),
        (ProbeEvent::StageStarted { stage: Stage::Tcp }, 1),
        (
            ProbeEvent::ConnectAttempt {
                addr: "[::1]:8443".parse().expect("address"),
                ok: false,
                elapsed: Duration::from_micros(150),
                detail: "connection refused".into(),
            },
            1,
        ),
        (
            ProbeEvent::ConnectAttempt {
                addr: "127.0.0.1:8443".parse().expect("address"),
                ok: true,
                elapsed: Duration::from_micros(200),
                detail: "connected".into(),
            },
            2,
        ),
        (
            ProbeEvent::StageFinished {
                stage: Stage::Tcp,
                ok: true,
                elapsed: Duration::from_micros(350),
                summary: "connected to 127.0.0.1:8443".into(),
            },
            2,
        ),
        (ProbeEvent::StageStarted { stage: Stage::Tls }, 2),
    ];
    for (event, at) in events {
        app.update(Event::Probe {
            attempt: 1,
            event,
            at: ms(at),
        });
    }
    app.update(Event::Tick(ms(1_234)));
    let (small, _) = snap("running", &app);
    assert!(small.contains("running    1.2 s"), "{small}");
    assert!(small.contains("run 1 · running 1.2 s"), "{small}");
}

#[tokio::test(flavor = "multi_thread")]
async fn success() {
    let server = TlsServer::start(CertKind::Valid, Behavior::ok("hello\n")).await;
    let ca = server.ca_pem_path.display().to_string();
    let port = server.addr.port();
    let app = probed_app(with_ca(settings(&server.url()), &server.ca_pem_path), |r| {
        cert_masks(Masks::new().port(port, 8443).text(&ca, "ca.pem"), r)
    })
    .await;
    assert_eq!(app.exit_code(), 0);
    let (small, _) = snap("success", &app);
    assert_verdict_whole(&small, &["ok: every stage succeeded", "curl would exit 0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn dns_failure() {
    let dns = DnsServer::start(vec![("api.internal.test", DnsAnswer::NxDomain)]).await;
    let port = dns.addr.port();
    let mut s = settings("http://api.internal.test:8080/health");
    s.dns_server = Some(dns.addr);
    let app = probed_app(s, |_| Masks::new().port(port, 5353)).await;
    assert_eq!(app.exit_code(), 4);
    let (small, _) = snap("dns_failure", &app);
    assert_verdict_whole(
        &small,
        &[
            "DNS failed",
            "requests.exceptions.ConnectionError",
            "NameResolutionError",
            "curl would exit 6",
            "hint:",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tcp_refused() {
    let addr = testkit::tcp::refused_addr();
    let port = addr.port();
    let app = probed_app(settings(&format!("https://{addr}/health")), |_| {
        Masks::new().port(port, 8443)
    })
    .await;
    assert_eq!(app.exit_code(), 5);
    let (small, _) = snap("tcp_refused", &app);
    assert!(small.contains("refused by 127.0.0.1:8443"), "{small}");
    // The TCP detail's one row that matters, not only a table header.
    assert!(
        small
            .lines()
            .any(|l| l.trim_start().starts_with("127.0.0.1:8443")
                && l.ends_with("connection_refused")),
        "{small}"
    );
    assert_verdict_whole(&small, &["TCP failed", "curl would exit 7", "hint:"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_expired_with_the_chain_shown() {
    let (mut app, _server) = tls_expired_app().await;
    assert_eq!(app.exit_code(), 7);
    assert_eq!(app.selected(), Some(Stage::Tls), "the failing stage");
    let (small, large) = snap("tls_expired", &app);
    assert!(small.contains("certificate expired 3 days ago"), "{small}");
    assert_verdict_whole(
        &small,
        &[
            "TLS failed: the server's certificate has expired (cert_expired)",
            "Python requests would raise requests.exceptions.SSLError (caused by urllib3.exceptions.SSLError).",
            "curl would exit 60.",
            "hint: Renew the certificate",
        ],
    );
    // The README shows this very screen.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains(small.trim_end()),
        "README.md's dashboard capture is stale: paste this screen into it\n{small}"
    );
    // 120×40 has room for the whole chain; at 80×24 Enter gives it the screen.
    assert!(large.contains("EXPIRED 3 days ago"), "{large}");
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Enter,
    )));
    let expanded = screen(&app, SMALL, PLAIN);
    insta::assert_snapshot!("tls_expired_expanded_80x24", expanded);
    assert!(expanded.contains("EXPIRED 3 days ago"), "{expanded}");
    assert!(
        expanded.contains("SANs    localhost, 127.0.0.1, ::1"),
        "{expanded}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_503() {
    let server = HttpServer::start(Behavior::Respond {
        code: 503,
        headers: vec![
            ("Content-Type".into(), "text/plain".into()),
            ("Retry-After".into(), "30".into()),
        ],
        body: b"upstream unavailable\n".to_vec(),
    })
    .await;
    let port = server.addr.port();
    let app = probed_app(settings(&format!("{}status", server.url())), |_| {
        Masks::new().port(port, 8080)
    })
    .await;
    assert_eq!(app.exit_code(), 9);
    let (small, _) = snap("http_503", &app);
    assert!(small.contains("503 Service Unavailable"), "{small}");
    assert_verdict_whole(
        &small,
        &[
            "HTTP failed",
            "requests.exceptions.HTTPError",
            "curl --fail would exit 22",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help() {
    let (mut app, _server) = tls_expired_app().await;
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('?'),
    )));
    let (small, _) = snap("help", &app);
    for key in ["Enter", "Tab", "r ", "q  Esc", "Ctrl-C"] {
        assert!(small.contains(key), "{key:?} in\n{small}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ascii_mode_sends_only_ascii() {
    let (mut app, _server) = tls_expired_app().await;
    let theme = Theme {
        color: false,
        ascii: true,
    };
    let small = screen(&app, SMALL, theme);
    insta::assert_snapshot!("tls_expired_ascii_80x24", small);
    assert!(small.is_ascii(), "{small}");
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('?'),
    )));
    for size in [SMALL, LARGE] {
        let s = screen(&app, size, theme);
        assert!(s.is_ascii(), "{s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_colour_meaning_stays_in_symbols_and_words() {
    let (app, _server) = tls_expired_app().await;
    let term = draw(&app, SMALL, PLAIN);
    let buf = term.backend().buffer();
    let coloured = buf
        .content
        .iter()
        .filter(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset);
    assert_eq!(coloured.count(), 0, "NO_COLOR: no colour at all");
    let text = ui::screen_text(buf);
    assert!(text.contains("✗ FAILED"), "{text}");
    // With colour, the failure is red.
    let colour = draw(
        &app,
        SMALL,
        Theme {
            color: true,
            ascii: false,
        },
    );
    let red = colour
        .backend()
        .buffer()
        .content
        .iter()
        .any(|c| c.fg == ratatui::style::Color::Red);
    assert!(red);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_size_down_to_tiny_draws_without_panicking() {
    let (mut app, _server) = tls_expired_app().await;
    for (w, h) in [(80, 24), (100, 30), (60, 15), (20, 5), (1, 1), (200, 60)] {
        screen(&app, (w, h), PLAIN);
        app.expanded = !app.expanded;
        screen(&app, (w, h), PLAIN);
        app.help = !app.help;
        screen(&app, (w, h), PLAIN);
    }
}

/// A failing proxy gets its own row and a CONNECT view; redirects and --all-addresses show up
/// in the HTTP and TCP detail.
#[tokio::test(flavor = "multi_thread")]
async fn proxy_redirects_and_addresses_are_shown() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let proxy = testkit::proxy::ProxyServer::start(
        testkit::proxy::ProxyBehavior::Refuse {
            status: 403,
            body: "blocked by policy".into(),
        },
        std::collections::HashMap::new(),
    )
    .await;
    let mut s = settings("https://127.0.0.1:9/");
    s.proxy = netpeel::engine::proxy_select::ProxyChoice {
        proxy: Some(netpeel::engine::proxy_select::ProxyUrl {
            scheme: netpeel::engine::proxy_select::ProxyScheme::Http,
            host: "127.0.0.1".into(),
            port: proxy.addr.port(),
            username: None,
            password: None,
            display: proxy.url(),
        }),
        source: Some(netpeel::engine::proxy_select::ProxySource::Flag),
        reason: "--proxy given".into(),
        notes: Vec::new(),
    };
    let app = probed_app(s, |_| Masks::new()).await;
    let text = screen(&app, LARGE, PLAIN);
    assert!(text.contains("PROXY"), "{text}");
    assert!(text.contains("> CONNECT 127.0.0.1:9 HTTP/1.1"), "{text}");
    assert!(text.contains("blocked by policy"), "{text}");

    let server = HttpServer::start_router(vec![
        ("/a".into(), Behavior::redirect(302, "/b")),
        ("/b".into(), Behavior::ok("b")),
    ])
    .await;
    let mut s = settings(&format!("http://{}/a", server.addr));
    s.all_addresses = true;
    let mut app = probed_app(s, |_| Masks::new()).await;
    let text = screen(&app, LARGE, PLAIN);
    assert!(text.contains("redirects followed"), "{text}");
    // Select TCP (HTTP → TLS → TCP): the per-address table.
    for _ in 0..2 {
        app.update(Event::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE)));
    }
    let text = screen(&app, LARGE, PLAIN);
    assert!(text.contains("every address, probed on its own"), "{text}");
}

// ---- Replay in the dashboard: timeline, editor, compare ----

use netpeel::replay::policy::ReplaySettings;
use netpeel::tui::replay::{RunEnd, TrySummary};

/// `--retries 3 --status-forcelist 503 --backoff-factor 0.01`, as the CLI builds it.
fn retry_503() -> ReplaySettings {
    ReplaySettings {
        total: Some(3),
        status_forcelist: vec![503],
        backoff_factor: 0.01,
        read_disabled: false,
        ..ReplaySettings::default()
    }
}

fn small(app: &App, name: &str) -> String {
    let s = screen(app, SMALL, PLAIN);
    insta::assert_snapshot!(name.to_string(), s);
    s
}

/// A real replay against `server` (503, 503, 200), fed to a fresh App as the loop does, with
/// every time fixed.
async fn replayed_app(server: &HttpServer, rs: ReplaySettings) -> App {
    replayed_app_at(&server.url(), server.addr.port(), 8080, rs).await
}

/// A real replay of `url` (its port shown as `shown`), fed to a fresh App as the loop does.
async fn replayed_app_at(url: &str, port: u16, shown: u16, rs: ReplaySettings) -> App {
    let t0 = Instant::now();
    let masks = Masks::new()
        .port(port, shown)
        .text(&format!("port={port}"), &format!("port={shown}"));
    let url = url.to_string();
    let settings = settings(&url);
    let mut header = HeaderInfo::from_settings(&settings);
    mask_header(&mut header, &masks);
    let mut app = App::new(header, t0).with_replay(rs.clone(), &masks.apply(&url));
    app.start(t0);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tries = Vec::new();
    let run = netpeel::replay::run::run(&settings, &rs, Events::new(tx), |a| {
        tries.push(TrySummary::from_attempt(a))
    })
    .await;
    while let Ok(event) = rx.try_recv() {
        app.update(Event::Probe {
            attempt: 1,
            event,
            at: t0,
        });
    }
    for mut t in tries {
        for s in &mut t.stages {
            s.2 = s.2.map(|_| stage_ms(s.0.name()));
        }
        t.elapsed = Duration::from_millis(4);
        t.sleep_after = t
            .sleep_after
            .map(|(_, why)| (Duration::from_millis(10), why));
        app.update(Event::Try {
            attempt: 1,
            summary: Box::new(t),
            at: t0,
        });
    }
    let report = netpeel::report::build_replay(&run).expect("attempts");
    let masks = cert_masks(masks, &report);
    let ok = report.verdict.ok;
    let end = RunEnd {
        success_on: run.attempts.last().filter(|_| ok).map(|a| a.number),
        message: masks.apply(&run.stop.message(&url)),
        total: Duration::from_millis(40),
    };
    app.update(Event::RunEnded {
        attempt: 1,
        report: Box::new(mask_report(&report, &masks)),
        end,
        at: t0,
    });
    app
}

fn sequence_503_503_200() -> Vec<Behavior> {
    let s503 = Behavior::Respond {
        code: 503,
        headers: vec![],
        body: b"x".to_vec(),
    };
    vec![s503.clone(), s503, Behavior::ok("ok")]
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_timeline_of_three_attempts() {
    let server = HttpServer::start_sequence(sequence_503_503_200()).await;
    let app = replayed_app(&server, retry_503()).await;
    assert_eq!(server.connections(), 3);
    let s = small(&app, "replay_timeline_80x24");
    assert!(s.contains("Timeline of run #1"), "{s}");
    for row in ["#1", "#2", "#3"] {
        assert!(s.contains(row), "{row} in\n{s}");
    }
    assert_eq!(s.matches("HTTP 503").count(), 2, "{s}");
    assert!(s.contains("HTTP 200"), "{s}");
    assert!(s.contains("success on attempt 3"), "{s}");
    assert!(s.contains("(backoff 1)"), "{s}");
}

fn press(app: &mut App, code: crossterm::event::KeyCode) {
    app.update(Event::Key(crossterm::event::KeyEvent::from(code)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, crossterm::event::KeyCode::Char(c));
    }
}

/// The screen's lines joined by spaces, for sentences that wrap; inside an overlay's box,
/// only what is between its sides.
fn flat(screen: &str) -> String {
    screen
        .lines()
        .map(|l| match (l.find('│'), l.rfind('│')) {
            (Some(a), Some(b)) if a < b => &l[a + '│'.len_utf8()..b],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The replay settings editor (`e`) open over a fresh app.
fn editor_app() -> App {
    let t0 = Instant::now();
    let header = HeaderInfo::from_settings(&settings("http://127.0.0.1:8080/"));
    let mut app = App::new(header, t0).with_replay(retry_503(), "http://127.0.0.1:8080/");
    app.start(t0);
    press(&mut app, crossterm::event::KeyCode::Char('e'));
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_editor_shows_the_budget_broken_down_and_says_why_a_value_is_refused() {
    use crossterm::event::KeyCode;
    let mut app = editor_app();
    let s = small(&app, "replay_editor_80x24");
    let f = flat(&s);
    // http://127.0.0.1: no DNS, no TLS; connect 10 + read 30 per attempt. Retry-After apart.
    assert!(
        f.contains("worst case: 4 × 40 s attempts + sleeps 0 + 0.02 + 0.04 s = 2.7 min"),
        "{s}"
    );
    assert!(
        f.contains("a server's Retry-After can stretch each of 3 sleeps to 6 h"),
        "{s}"
    );
    assert!(!f.contains("18."), "no absurd total: {s}");
    // The key bar is the editor's: no r, no q (the editor takes them as text).
    let bar = s.lines().last().unwrap_or("");
    assert!(bar.starts_with("↑↓ field"), "{bar}");
    assert!(
        !bar.contains("q quit") && !bar.contains("r run again"),
        "{bar}"
    );
    // The selected field says what it means.
    assert!(f.contains("whose retry loop to replay"), "{s}");
    // 120×40 has room for the policy's formula too.
    let large = screen(&app, LARGE, PLAIN);
    assert!(large.contains("sleep = min(backoff_max"), "{large}");

    // Retries total: a bad value is refused in place, under the field, and kept to correct.
    for _ in 0..6 {
        press(&mut app, KeyCode::Down);
    }
    for bad in ["abc", "2.5"] {
        type_text(&mut app, bad);
        press(&mut app, KeyCode::Enter);
        let s = screen(&app, SMALL, PLAIN);
        let lines: Vec<&str> = s.lines().collect();
        let field = lines
            .iter()
            .position(|l| l.contains("retries total"))
            .unwrap_or_else(|| panic!("{s}"));
        assert!(lines[field].contains(&format!("{bad}_")), "{s}");
        assert!(
            lines[field + 1].contains(&format!(
                "retries total: '{bad}' is not a count from 0 to 100, or none"
            )),
            "{s}"
        );
        press(&mut app, KeyCode::Esc);
    }
    assert_eq!(app.replay.total, Some(3), "unchanged");
    let s = screen(&app, SMALL, PLAIN);
    assert!(
        flat(&s).contains("0 = never retry; none = no limit of its own"),
        "{s}"
    );
    // `-` stops at 0: never a silent "none = unbounded".
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('-'));
    }
    assert_eq!(app.replay.total, Some(0));
    // Retries read: what "off (read=False)" means.
    app.replay.read_disabled = true;
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    let s = screen(&app, SMALL, PLAIN);
    assert!(
        flat(&s).contains("off (read=False) = requests' default"),
        "{s}"
    );
    // The Retry-After cap is a field; set to a minute, the budget says so.
    press(&mut app, KeyCode::Char('+'));
    app.replay.total = Some(3);
    press(&mut app, KeyCode::End);
    type_text(&mut app, "60");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.replay.retry_after_max, 60.0);
    let s = screen(&app, SMALL, PLAIN);
    assert!(s.contains("Retry-After cap     60 s"), "{s}");
    assert!(
        flat(&s).contains("Retry-After can stretch each of 3 sleeps to 60 s"),
        "{s}"
    );
    // Unbounded: total=None with categories left unlimited.
    app.replay.total = None;
    let s = screen(&app, SMALL, PLAIN);
    assert!(s.contains("unbounded"), "{s}");
    assert!(
        screen(
            &app,
            SMALL,
            Theme {
                color: false,
                ascii: true
            }
        )
        .is_ascii()
    );
    // Closed, the main screen says what the next r runs.
    app.replay.total = Some(3);
    press(&mut app, KeyCode::Esc);
    let s = screen(&app, SMALL, PLAIN);
    assert!(s.contains("r replay: 4 attempts max"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_compare_view() {
    let server = HttpServer::start_sequence(sequence_503_503_200()).await;
    let mut app = replayed_app(&server, retry_503()).await;
    // A second run with other settings: no retries, so one probe; it is cancelled here.
    app.replay = ReplaySettings {
        total: Some(0),
        backoff_factor: 0.5,
        ..retry_503()
    };
    let key = |c| Event::Key(crossterm::event::KeyEvent::from(c));
    app.update(key(crossterm::event::KeyCode::Char('r')));
    app.update(key(crossterm::event::KeyCode::Char('c')));
    app.update(key(crossterm::event::KeyCode::Char('C')));
    let s = small(&app, "replay_compare_80x24");
    assert!(s.contains("* retries total"), "{s}");
    assert!(s.contains("* backoff factor"), "{s}");
    assert!(s.contains("  policy"), "unchanged, not marked:\n{s}");
    assert!(s.contains("cancelled"), "{s}");
}

/// Mutual TLS in the dashboard: the TLS detail says the server asked for a client certificate,
/// that none was sent, and which CAs it accepts.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_client_certificate_is_shown_in_the_tls_detail() {
    use testkit::tls::{ClientAuth, TlsOptions};
    let server = TlsServer::start_with(TlsOptions {
        client_auth: ClientAuth::Required,
        tls12_only: true,
        ..TlsOptions::new(CertKind::Valid, Behavior::ok("ok\n"))
    })
    .await;
    let url = server.url().replace("localhost", "127.0.0.1");
    let app = probed_app(with_ca(settings(&url), &server.ca_pem_path), |_| {
        Masks::new()
    })
    .await;
    assert_eq!(app.selected(), Some(Stage::Tls), "the failing stage");
    let large = screen(&app, LARGE, PLAIN);
    let flat = large.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("client cert asked for; none sent (--cert)"),
        "{large}"
    );
    assert!(flat.contains("netpeel test client CA"), "{large}");
}

/// `--retries 3` on a refused port: four attempts, ConnectionError. At 80×24 the result line
/// is on the first screen, whole; Tab to the timeline and Enter gives it the body.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_replays_result_is_in_view_at_80x24_and_enter_expands_the_timeline() {
    use crossterm::event::KeyCode;
    let addr = testkit::tcp::refused_addr();
    let rs = ReplaySettings {
        status_forcelist: vec![],
        ..retry_503()
    };
    let mut app = replayed_app_at(&format!("http://{addr}/"), addr.port(), 8080, rs).await;
    let s = small(&app, "replay_failed_80x24");
    // The README shows this very screen.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains(s.trim_end()),
        "README.md's replay capture is stale: paste this screen into it\n{s}"
    );
    let f = flat(&s);
    assert!(
        f.contains("✗ after 4 attempts (40 ms): raises requests.exceptions.ConnectionError"),
        "{s}"
    );
    assert!(s.contains("run 1 · failed after 4 attempts · 40 ms"), "{s}");
    // The verdict stays whole too.
    assert_verdict_whole(&s, &["TCP failed", "curl would exit 7"]);
    // Tab to the timeline (stages → detail → verdict → runs); Enter expands it.
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Enter);
    let s = small(&app, "replay_failed_timeline_expanded_80x24");
    for row in [" #1 ", " #2 ", " #3 ", " #4 "] {
        assert!(s.contains(row), "{row:?} in\n{s}");
    }
    assert!(!s.contains("Verdict"), "the timeline has the body:\n{s}");
    // Tab moves to the stage list, Enter collapses; on the verdict, Enter expands the verdict.
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Enter);
    let s = screen(&app, SMALL, PLAIN);
    assert!(s.contains("Verdict") && !s.contains("Timeline"), "{s}");
}

/// Wide terminals: a replay's timeline takes the full width, kind names whole; the runs list
/// is as wide as its outcomes; compare uses the width.
#[tokio::test(flavor = "multi_thread")]
async fn wide_terminals_give_the_timeline_and_compare_their_width() {
    use crossterm::event::KeyCode;
    let server = TlsServer::start(CertKind::UnknownCa, Behavior::ok("hello\n")).await;
    let url = server.url().replace("localhost", "127.0.0.1");
    let mut app = replayed_app_at(&url, server.addr.port(), 8443, retry_503()).await;
    let kind = app
        .attempts
        .last()
        .and_then(|a| a.tries.first())
        .map(|t| t.outcome.clone())
        .unwrap_or_default();
    assert!(kind.len() > 17, "a long kind name: {kind}");
    let large = screen(&app, LARGE, PLAIN);
    insta::assert_snapshot!("replay_tls_120x40", large);
    let huge = screen(&app, (200, 50), PLAIN);
    for s in [&large, &huge] {
        let rows = format!("✗ {kind} ");
        assert_eq!(
            s.matches(rows.as_str()).count(),
            4,
            "{kind} whole, 4 rows:\n{s}"
        );
        assert!(s.contains("then 10 ms (backoff 2)"), "{s}");
    }
    // Compare: two more runs (cancelled), the view as wide as the terminal needs.
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('r'));
    }
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('C'));
    let s = screen(&app, LARGE, PLAIN);
    insta::assert_snapshot!("replay_compare_120x40", s);
    assert!(s.contains("Compare runs #2–#5 of 5"), "{s}");
    // Four runs share 120 columns; at 200 every value is whole.
    let wide = screen(&app, (200, 50), PLAIN);
    assert!(wide.contains("HEAD,GET,PUT,DELETE,OPTIONS,TRACE"), "{wide}");
    assert!(wide.contains("Compare runs #2–#5 of 5"), "{wide}");
    // → does not scroll past the last run; ← goes back one.
    press(&mut app, KeyCode::Right);
    let s = screen(&app, LARGE, PLAIN);
    assert!(s.contains("Compare runs #2–#5 of 5"), "{s}");
    press(&mut app, KeyCode::Left);
    let s = screen(&app, LARGE, PLAIN);
    assert!(s.contains("Compare runs #1–#4 of 5"), "{s}");
}

/// The export at 80×24 scrolls: the curl half is reachable.
#[tokio::test(flavor = "multi_thread")]
async fn the_export_scrolls_to_the_curl_line_at_80x24() {
    use crossterm::event::KeyCode;
    let t0 = Instant::now();
    let header = HeaderInfo::from_settings(&settings("http://127.0.0.1:8080/"));
    let mut app = App::new(header, t0).with_replay(retry_503(), "http://127.0.0.1:8080/");
    app.start(t0);
    press(&mut app, KeyCode::Char('x'));
    let s = small(&app, "export_80x24");
    assert!(!s.contains("curl:"), "below the fold at first:\n{s}");
    assert!(s.contains("↓ more"), "{s}");
    for _ in 0..40 {
        press(&mut app, KeyCode::Down);
    }
    let s = small(&app, "export_scrolled_80x24");
    assert!(
        s.contains("--retry 3 \\") && s.contains("# curl cannot express:"),
        "{s}"
    );
    assert!(s.contains(" 47/47 "), "at the end:\n{s}");
    assert!(
        s.lines()
            .last()
            .is_some_and(|l| l.contains("any other key close")),
        "{s}"
    );
    assert!(app.export, "scrolling keeps it open");
    press(&mut app, KeyCode::Char('z'));
    assert!(!app.export);
}

/// Every replay screen and overlay, at every size down to 1×1, draws without panicking.
#[tokio::test(flavor = "multi_thread")]
async fn replay_screens_and_overlays_draw_at_every_size() {
    use crossterm::event::KeyCode;
    let server = HttpServer::start_sequence(sequence_503_503_200()).await;
    let mut app = replayed_app(&server, retry_503()).await;
    let sizes = [
        (1, 1),
        (20, 5),
        (40, 12),
        (60, 20),
        (80, 24),
        (100, 30),
        (200, 60),
    ];
    let draw_all = |app: &App| {
        for size in sizes {
            screen(app, size, PLAIN);
        }
    };
    draw_all(&app);
    // Each panel in turn expanded.
    for _ in 0..4 {
        press(&mut app, KeyCode::Enter);
        draw_all(&app);
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Tab);
    }
    for (open, close) in [
        ('e', KeyCode::Esc),
        ('C', KeyCode::Char('z')),
        ('x', KeyCode::Char('z')),
    ] {
        press(&mut app, KeyCode::Char(open));
        draw_all(&app);
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::End);
        draw_all(&app);
        press(&mut app, close);
    }
}

// ---- Issue 11, the probe view: whole verdicts, proxy rows, small windows, ASCII ----

/// How the trust matrix's notes on curl's store begin (only when a chain was checked).
const BUNDLE_NOTE: &str = "requests and curl disagree here";

/// The verdict panel's title row at 80×24, and the verdict's sentences a person must read.
fn verdict_sentences(app: &App) -> Vec<String> {
    let v = &app.report().expect("a finished attempt").verdict;
    let mut out = vec![v.summary.clone()];
    out.extend(v.hint.clone());
    out.extend(v.notes.iter().cloned());
    out.extend(v.requests_exception.clone());
    out
}

/// Item 7: the failures a new user found cut at 80×24 ("↓ more 9/11") show their verdict
/// whole, notes included; the CA bundle's note only where a certificate was verified.
#[tokio::test(flavor = "multi_thread")]
async fn the_verdict_is_whole_at_80x24_and_the_bundle_note_only_follows_certificates() {
    let cases = [
        ("unknown_ca", CertKind::UnknownCa, Behavior::ok("x")),
        (
            "plain_http_on_tls",
            CertKind::Valid,
            Behavior::ReadThenBadRequest,
        ),
        ("handshake_stall", CertKind::Valid, Behavior::AcceptAndHold),
    ];
    let forward = testkit::proxy::ProxyBehavior::Forward { require_auth: None };
    let proxy = testkit::proxy::ProxyServer::start(forward, std::collections::HashMap::new()).await;
    let through_proxy = (
        "unknown_ca_through_a_proxy",
        CertKind::UnknownCa,
        Behavior::ok("x"),
    );
    for (name, cert, behavior) in cases.into_iter().chain([through_proxy]) {
        let server = TlsServer::start(cert, behavior).await;
        let ca = server.ca_pem_path.display().to_string();
        let port = server.addr.port();
        // The tallest screen: a header line and a stage row more for the proxy.
        let mut s = match name {
            "unknown_ca_through_a_proxy" => {
                proxy_settings(&format!("https://127.0.0.1:{port}/"), proxy.addr)
            }
            _ => settings(&server.url()),
        };
        s = with_ca(s, &server.ca_pem_path);
        let proxy_port = proxy.addr.port();
        s.connect_timeout = Duration::from_millis(300);
        // curl's store as the CLI loads it: the system's (here Mozilla's roots), which does
        // not hold the test CA, so requests and curl disagree when a certificate is verified.
        s.trust_stores = vec![TrustStore::mozilla(
            TrustClient::Curl,
            "system store".into(),
            "system",
        )];
        let app = probed_app(s, |r| {
            let masks = Masks::new().port(port, 8443).port(proxy_port, 3128);
            cert_masks(masks.text(&ca, "ca.pem"), r)
        })
        .await;
        // Neither store trusts the unknown CA, so they agree: no note on curl's store (the
        // CLI test in tls.rs shows the note where a verified certificate makes them differ).
        let has_note = app
            .report()
            .is_some_and(|r| r.verdict.notes.iter().any(|n| n.contains(BUNDLE_NOTE)));
        assert!(!has_note, "{name}");
        let small = screen(&app, SMALL, PLAIN);
        insta::assert_snapshot!(format!("verdict_whole_{name}_80x24"), small);
        let title = small
            .lines()
            .find(|l| l.contains("Verdict"))
            .expect("the verdict's title");
        assert!(
            !title.contains("more"),
            "{name}: the verdict scrolls\n{small}"
        );
        let sentences = verdict_sentences(&app);
        let words: Vec<&str> = sentences.iter().map(String::as_str).collect();
        assert_verdict_whole(&small, &words);
        let hint = app.report().and_then(|r| r.verdict.hint.clone());
        assert!(hint.is_some(), "{name} has a hint");
    }
}

/// Item 13: the hint is the most actionable line: normal weight, not dim; notes stay dim.
#[tokio::test(flavor = "multi_thread")]
async fn the_hint_is_not_dim() {
    use ratatui::style::Modifier;
    let (app, _server) = tls_expired_app().await;
    let theme = Theme {
        color: true,
        ascii: false,
    };
    let term = draw(&app, SMALL, theme);
    let buf = term.backend().buffer();
    let text = ui::screen_text(buf);
    let row = text
        .lines()
        .position(|l| l.starts_with("hint: "))
        .expect("the hint") as u16;
    let cell = &buf[(8, row)];
    assert!(!cell.modifier.contains(Modifier::DIM), "{cell:?}");
    assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
}

fn proxy_settings(url: &str, proxy: std::net::SocketAddr) -> ProbeSettings {
    use netpeel::engine::proxy_select::{ProxyChoice, ProxyScheme, ProxySource, ProxyUrl};
    let mut s = settings(url);
    s.proxy = ProxyChoice {
        proxy: Some(ProxyUrl {
            scheme: ProxyScheme::Http,
            host: proxy.ip().to_string(),
            port: proxy.port(),
            username: None,
            password: None,
            display: format!("http://{proxy}"),
        }),
        source: Some(ProxySource::Flag),
        reason: "--proxy given".into(),
        notes: Vec::new(),
    };
    s
}

/// Item 5: with a proxy, the DNS and TCP rows say they are the proxy's and the PROXY row is
/// always there, in the dashboard and in the text report.
#[tokio::test(flavor = "multi_thread")]
async fn proxy_rows_say_they_are_the_proxys() {
    // A refused proxy: TCP to it fails, the proxy stage is not reached.
    let refused = testkit::tcp::refused_addr();
    let s = proxy_settings("https://localhost:9/", refused);
    let app = probed_app(s, |_| Masks::new().port(refused.port(), 3128)).await;
    let small = screen(&app, SMALL, PLAIN);
    insta::assert_snapshot!("proxy_refused_80x24", small);
    let row = |label: &str| {
        small
            .lines()
            .find(|l| l.chars().skip(2).collect::<String>().starts_with(label))
    };
    assert!(
        row("DNS (proxy)").is_some_and(|l| l.contains("the proxy's host is an IP address")),
        "{small}"
    );
    assert!(
        row("TCP → proxy").is_some_and(|l| l.contains("refused by 127.0.0.1:3128")),
        "{small}"
    );
    assert!(
        row("PROXY").is_some_and(|l| l.contains("not run")),
        "{small}"
    );
    assert!(small.contains("PROXY failed"), "{small}");
    let report = app.report().expect("report");
    let text = netpeel::report::Format::Text.render(report, false);
    for words in ["DNS (proxy)", "TCP -> proxy", "the proxy's host is an IP"] {
        assert!(text.contains(words), "{words:?} in\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("PROXY") && l.contains("not reached")),
        "{text}"
    );

    // A proxy that wants credentials: the URL's host is a name, the proxy's an address.
    let proxy = testkit::proxy::ProxyServer::start(
        testkit::proxy::ProxyBehavior::Forward {
            require_auth: Some(("user".into(), "pass".into())),
        },
        std::collections::HashMap::new(),
    )
    .await;
    let s = proxy_settings("https://localhost:9/", proxy.addr);
    let app = probed_app(s, |_| Masks::new().port(proxy.addr.port(), 3128)).await;
    let small = screen(&app, SMALL, PLAIN);
    insta::assert_snapshot!("proxy_407_80x24", small);
    assert!(small.contains("PROXY failed"), "{small}");
    assert!(
        !small.contains("the host is an IP address"),
        "localhost is a name: {small}"
    );
    assert!(
        small.contains("DNS (proxy)") && small.contains("TCP → proxy"),
        "{small}"
    );
}

/// Item 8: below 60×16 a compact view (stage statuses, the verdict's kind, what size is
/// needed); smaller still, one line; long URLs are shortened in the middle, never overprinted.
#[tokio::test(flavor = "multi_thread")]
async fn small_windows_get_a_compact_view_and_long_urls_are_shortened() {
    let (app, _server) = tls_expired_app().await;
    let compact = screen(&app, (40, 12), PLAIN);
    insta::assert_snapshot!("compact_40x12", compact);
    for words in [
        "TLS  ✗ FAILED",
        "DNS  ✓ ok",
        "HTTP - not run",
        "TLS failed (cert_expired)",
        "window too small (need 60×16)",
    ] {
        assert!(compact.contains(words), "{words:?} in\n{compact}");
    }
    let tiny = screen(&app, (30, 5), PLAIN);
    assert_eq!(tiny.trim(), "window too small (need 60×16)");
    assert!(screen(&app, (59, 24), PLAIN).contains("window too small"));
    assert!(!screen(&app, (60, 16), PLAIN).contains("window too small"));

    // A long URL at 60×20: one line, shortened in the middle; the attempt words beside it
    // or on their own line, never on top of it.
    let mut app = app;
    app.header.url =
        "https://very-long-host.internal.example.test:8443/api/v2/customers/42/health".into();
    let s = screen(&app, (60, 20), PLAIN);
    insta::assert_snapshot!("long_url_60x20", s);
    let first = s.lines().next().unwrap_or("");
    assert!(
        first.starts_with("netpeel GET https://very-long-host"),
        "{s}"
    );
    assert!(first.contains('…') && first.ends_with("/health"), "{s}");
    assert_eq!(s.matches("run 1 · failed in").count(), 1, "{s}");
    let wide = screen(&app, SMALL, PLAIN);
    let first = wide.lines().next().unwrap_or("");
    assert!(
        first.contains("…") && first.contains("run 1 · failed in"),
        "{wide}"
    );
}

/// Item 12: `--ascii` sends only ASCII: the formula's × and −, arrows in proxy rows, the
/// compact view.
#[tokio::test(flavor = "multi_thread")]
async fn ascii_spells_out_the_formula_and_the_proxy_arrows() {
    let ascii = Theme {
        color: false,
        ascii: true,
    };
    let app = editor_app();
    assert!(screen(&app, SMALL, ascii).is_ascii());
    // The formula shows where there is room for it.
    let s = screen(&app, LARGE, ascii);
    assert!(s.is_ascii(), "{s}");
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("backoff_factor x 2^(n-1)"),
        "× and − spelled out, not replaced by ?:\n{s}"
    );

    let refused = testkit::tcp::refused_addr();
    let app = probed_app(proxy_settings("https://localhost:9/", refused), |_| {
        Masks::new()
    })
    .await;
    for size in [SMALL, LARGE, (40, 12)] {
        let s = screen(&app, size, ascii);
        assert!(s.bytes().all(|b| b < 0x80), "{s}");
    }
    assert!(screen(&app, SMALL, ascii).contains("TCP -> proxy"));
}

// ---- Explain in the dashboard: the paste box, the "then" panel, "now" against it ----

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/explain/corpus");

fn corpus_text(name: &str) -> String {
    std::fs::read_to_string(format!("{CORPUS}/{name}.txt")).expect("corpus text")
}

/// The port the corpus text was made on; the snapshots show every port as this one.
const CORPUS_PORT: u16 = 45287;

fn key(app: &mut App, code: crossterm::event::KeyCode) -> Option<netpeel::tui::Command> {
    app.update(Event::Key(crossterm::event::KeyEvent::from(code)))
}

/// The probe's settings for a paste's plan, as `netpeel explain` builds them (URL, proxy,
/// timeouts; no environment).
fn plan_settings(plan: &netpeel::tui::ProbePlan) -> ProbeSettings {
    let mut s = settings(&plan.url);
    if let Some(t) = plan.connect_timeout {
        s.connect_timeout = t;
    }
    if let Some(t) = plan.read_timeout {
        s.read_timeout = t;
    }
    s.max_time = plan.max_time;
    s
}

/// Run the real engine as run `attempt` of `app`, as the loop does.
async fn feed_run(app: &mut App, attempt: u32, settings: ProbeSettings, masks: &Masks) {
    let t0 = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = netpeel::engine::probe(settings, Events::new(tx)).await;
    while let Ok(event) = rx.try_recv() {
        app.update(Event::Probe {
            attempt,
            event,
            at: t0,
        });
    }
    let report = netpeel::report::build(&outcome);
    app.update(Event::Finished {
        attempt,
        report: Box::new(mask_report(&report, masks)),
        at: t0,
    });
}

/// A dashboard whose first run reached a healthy server, then `p`, the real traceback of a
/// refused connection (rewritten to a port refused now), Enter: the loop's part is done by
/// hand (settings for the plan, then the run), the probe is real.
async fn explained_app() -> (App, HttpServer) {
    use crossterm::event::KeyCode;
    let server = HttpServer::start(Behavior::ok("hello\n")).await;
    let port = server.addr.port();
    let mut app = probed_app(settings(&format!("{}health", server.url())), |_| {
        Masks::new().port(port, 8080)
    })
    .await;
    let refused = testkit::tcp::refused_addr().port();
    let text = corpus_text("requests_refused")
        .replace(&format!("port={CORPUS_PORT}"), &format!("port={refused}"))
        .replace(&format!(":{CORPUS_PORT}/"), &format!(":{refused}/"));
    key(&mut app, KeyCode::Char('p'));
    app.update(Event::Paste(text));
    let Some(netpeel::tui::Command::Explain(plan)) = key(&mut app, KeyCode::Enter) else {
        panic!("Enter on a real traceback asks for its probe");
    };
    // Unmasked: this is what is sent (the screens mask the token).
    assert_eq!(
        plan.url,
        format!("http://127.0.0.1:{refused}/v1/items?page=2&token=s3cr3t")
    );
    let s = plan_settings(&plan);
    let masks = Masks::new().port(refused, CORPUS_PORT);
    let to = netpeel::tui::Retarget::of(&s, ReplaySettings::default());
    assert_eq!(
        app.update(Event::Retargeted(Box::new(to))),
        Some(netpeel::tui::Command::Run { attempt: 2 })
    );
    mask_header(&mut app.header, &masks);
    feed_run(&mut app, 2, s, &masks).await;
    (app, server)
}

/// What the paste put on screen with its real port: shown as the corpus's.
fn explained_screen(app: &App, size: (u16, u16)) -> String {
    let then_port = app
        .then
        .as_ref()
        .and_then(|t| t.shown.port)
        .expect("the paste's port");
    screen(app, size, PLAIN)
        .replace(&format!(":{then_port}"), &format!(":{CORPUS_PORT}"))
        .replace(&format!("port={then_port}"), &format!("port={CORPUS_PORT}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_paste_box_counts_previews_and_escapes_and_says_why_it_cannot_explain() {
    use crossterm::event::KeyCode;
    let server = HttpServer::start(Behavior::ok("hello\n")).await;
    let port = server.addr.port();
    let mut app = probed_app(settings(&format!("{}health", server.url())), |_| {
        Masks::new().port(port, 8080)
    })
    .await;
    key(&mut app, KeyCode::Char('p'));
    let empty = screen(&app, SMALL, PLAIN);
    assert!(empty.contains("Paste the error"), "{empty}");
    assert!(
        empty.ends_with("Enter/^D explain  Esc close  Bksp delete  Ctrl-U clear\n"),
        "{empty}"
    );
    app.update(Event::Paste(corpus_text("requests_refused")));
    let full = screen(&app, SMALL, PLAIN);
    insta::assert_snapshot!("paste_box_80x24", full);
    assert!(full.contains("lines, "), "{full}");
    assert!(
        full.contains("Traceback (most recent call last):"),
        "{full}"
    );
    assert!(full.contains("more lines"), "{full}");
    assert!(
        full.contains("requests.exceptions.ConnectionError: HTTPConnectionPool"),
        "the last line, the exception raised:\n{full}"
    );
    // Hostile text: what a terminal would obey is shown, never sent.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('p'));
    app.update(Event::Paste(
        "\u{1b}]0;pwned\u{7}title\n\u{1b}[2Jcleared\r\u{9b}31m\u{202e}evil\n".into(),
    ));
    let hostile = screen(&app, SMALL, PLAIN);
    assert!(hostile.contains(r"\x1b]0;pwned\x07title"), "{hostile}");
    // A CR is a line break, as terminals paste them.
    assert!(hostile.contains(r"\x1b[2Jcleared"), "{hostile}");
    assert!(hostile.contains(r"\x9b31m\u{202e}evil"), "{hostile}");
    assert!(!hostile.contains('\u{1b}') && !hostile.contains('\u{202e}'));
    key(&mut app, KeyCode::Enter);
    let refused = screen(&app, SMALL, PLAIN);
    insta::assert_snapshot!("paste_box_unrecognised_80x24", refused);
    assert!(
        flat(&refused).contains("no error netpeel recognises in this text"),
        "{refused}"
    );
    assert!(app.paste.is_some() && app.then.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_then_panel_sets_the_paste_beside_a_real_probe_of_what_it_names() {
    use crossterm::event::KeyCode;
    let (mut app, _server) = explained_app().await;
    assert_eq!(app.exit_code(), 5, "the probe's verdict: TCP refused");
    let small = explained_screen(&app, SMALL);
    insta::assert_snapshot!("then_now_80x24", small);
    let lines: Vec<&str> = small.lines().collect();
    let then_at = lines
        .iter()
        .position(|l| l.contains("Then: the pasted error"));
    let stages_at = lines.iter().position(|l| l.contains("Stages"));
    assert!(then_at < stages_at && then_at.is_some(), "{small}");
    for words in [
        "then  TCP / connection_refused · requests.exceptions.ConnectionError",
        "http://127.0.0.1:45287/v1/items?page=2",
        "now   ✗ same failure: Still failing the same way",
    ] {
        assert!(small.contains(words), "{words:?} in\n{small}");
    }
    assert_verdict_whole(&small, &["TCP failed", "curl would exit 7", "hint:"]);
    let large = explained_screen(&app, LARGE);
    insta::assert_snapshot!("then_now_120x40", large);
    assert!(large.contains("2. "), "more causes at 120×40:\n{large}");
    // The README shows the 80×24 screen.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains(small.trim_end()),
        "README.md's then-panel capture is stale: paste this screen into it\n{small}"
    );
    // Tab to the panel, Enter: all of it.
    while app.focus != netpeel::tui::Focus::Then {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Enter);
    let whole = explained_screen(&app, SMALL);
    assert!(whole.contains("[errno 111] Connection refused"), "{whole}");
    assert!(whole.contains("Then: the pasted error, and now"), "{whole}");
    // Below 60×16: one line says what the paste was.
    let compact = explained_screen(&app, (40, 12));
    assert!(
        compact.contains("then: TCP / connection_refused"),
        "{compact}"
    );
    // --ascii: ASCII only, at every size.
    let ascii = Theme {
        color: false,
        ascii: true,
    };
    for size in [SMALL, LARGE, (40, 12)] {
        let s = screen(&app, size, ascii);
        assert!(s.is_ascii(), "{s}");
        key(&mut app, KeyCode::Enter);
        let s = screen(&app, size, ascii);
        assert!(s.is_ascii(), "{s}");
    }
    // The report printed on quit: the explanation around the stages.
    let report = app.exit_report().expect("a finished run");
    let x = report.explained.as_ref().expect("explained in the report");
    assert_eq!(
        x.comparison.outcome,
        netpeel::report::model::Comparison::Same
    );
    let text = netpeel::report::Format::Text.render(&report, false);
    assert!(
        text.starts_with("THEN  what the pasted error says"),
        "{text}"
    );
    assert!(text.contains("THEN vs NOW"), "{text}");
}
