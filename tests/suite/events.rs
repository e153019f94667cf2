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
        ProbeEvent::Finished => "finished".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_reports_each_stage_as_it_goes() {
    let server = HttpServer::start(Behavior::ok("x")).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = netpeel::engine::probe(ProbeSettings::new(server.url()), Events::new(tx)).await;
    assert!(outcome.http.detail().is_some());
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push(name(&e));
    }
    assert_eq!(
        seen,
        [
            "start url",
            "ok url",
            "skip dns",
            "start tcp",
            "attempt connected",
            "ok tcp",
            "skip tls",
            "start http",
            "ok http",
            "finished"
        ]
    );
    assert_eq!(Stage::ALL.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_stage_is_reported_failed_and_nothing_after_it_runs() {
    let addr = testkit::tcp::refused_addr();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    netpeel::engine::probe(
        ProbeSettings::new(format!("https://{addr}/")),
        Events::new(tx),
    )
    .await;
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push(name(&e));
    }
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
