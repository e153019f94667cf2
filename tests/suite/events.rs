//! The engine's progress events (what the dashboard will consume), in order.

use netpeel::engine::events::{Events, ProbeEvent};
use netpeel::engine::{ProbeSettings, Stage};
use testkit::http::{Behavior, HttpServer};

fn name(e: &ProbeEvent) -> String {
    match e {
        ProbeEvent::StageStarted { stage } => format!("start {}", stage.name()),
        ProbeEvent::StageFinished { stage, ok, .. } => {
            format!("{} {}", if *ok { "ok" } else { "failed" }, stage.name())
        }
        ProbeEvent::StageSkipped { stage, .. } => format!("skip {}", stage.name()),
        ProbeEvent::ConnectAttempt { ok, .. } => {
            format!("attempt {}", if *ok { "connected" } else { "failed" })
        }
        ProbeEvent::Redirected { status, .. } => format!("redirect {status}"),
        ProbeEvent::Finished => "finished".into(),
    }
}

/// Probe `url` and return the outcome with the events it sent, by name.
async fn probe_with_events(url: String) -> (netpeel::engine::ProbeOutcome, Vec<String>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = netpeel::engine::probe(ProbeSettings::new(url), Events::new(tx)).await;
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push(name(&e));
    }
    (outcome, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_reports_each_stage_as_it_goes() {
    let server = HttpServer::start(Behavior::ok("x")).await;
    let (outcome, seen) = probe_with_events(server.url()).await;
    assert!(outcome.http.detail().is_some());
    assert_eq!(
        seen,
        [
            "start url",
            "ok url",
            "skip dns",
            "start tcp",
            "attempt connected",
            "ok tcp",
            "skip proxy",
            "skip tls",
            "start http",
            "ok http",
            "finished"
        ]
    );
    assert_eq!(Stage::ALL.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_stage_is_reported_failed_and_nothing_after_it_runs() {
    let addr = testkit::tcp::refused_addr();
    let (_, seen) = probe_with_events(format!("https://{addr}/")).await;
    assert_eq!(
        seen,
        [
            "start url",
            "ok url",
            "skip dns",
            "start tcp",
            "attempt failed",
            "failed tcp",
            "finished"
        ]
    );
}
