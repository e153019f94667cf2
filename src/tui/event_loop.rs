//! The loop: it only wires sources to [`App::update`] — terminal events, the running probe's
//! events and outcome, a tick while a probe runs, signals — carries out the returned
//! [`Command`], and draws. Idle, it sleeps on the terminal: no ticks, no redraws.
//! (ratatui's event-driven template, with the engine as one more event source.)

use std::future::pending;
use std::io;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::{JoinError, JoinHandle};

use super::app::{App, Command, Event, QuitReason};
use super::terminal::Tui;
use super::theme::Theme;
use super::ui;
use crate::engine::events::{Events, ProbeEvent};
use crate::engine::{ProbeOutcome, ProbeSettings};
use crate::report;

/// Redraw rate while a stage runs: enough for a tenth-of-a-second counter, cheap over SSH.
const TICK: Duration = Duration::from_millis(100);

/// A probe running in its own task; dropping it cancels the probe (`r` while running).
struct Running {
    attempt: u32,
    events: UnboundedReceiver<ProbeEvent>,
    task: JoinHandle<ProbeOutcome>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn spawn(attempt: u32, settings: &ProbeSettings) -> Running {
    let (tx, events) = unbounded_channel();
    let task = tokio::spawn(crate::engine::probe(settings.clone(), Events::new(tx)));
    Running {
        attempt,
        events,
        task,
    }
}

enum ProbeMsg {
    Event(ProbeEvent),
    /// Boxed: an outcome is large, events are small and many.
    Done(Box<Result<ProbeOutcome, JoinError>>),
}

/// The running probe's next message. Events come first: the channel closes only when the
/// probe has returned (it owns the sender), and then the task's result is ready. Both awaits
/// are cancel-safe, so this can lose a `select!` race without losing anything.
async fn next_from(probe: &mut Option<Running>) -> (u32, ProbeMsg) {
    let Some(p) = probe else {
        return pending().await;
    };
    match p.events.recv().await {
        Some(e) => (p.attempt, ProbeMsg::Event(e)),
        None => (p.attempt, ProbeMsg::Done(Box::new((&mut p.task).await))),
    }
}

#[cfg(unix)]
type Signal = Option<tokio::signal::unix::Signal>;

#[cfg(unix)]
fn signal(kind: tokio::signal::unix::SignalKind) -> Signal {
    tokio::signal::unix::signal(kind).ok()
}

/// Resolves when the signal arrives; never, if it could not be registered.
#[cfg(unix)]
async fn arrived(s: &mut Signal) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => pending().await,
    }
}

#[cfg(not(unix))]
type Signal = Option<()>;

#[cfg(not(unix))]
async fn arrived(_: &mut Signal) {
    pending::<()>().await
}

/// Run the dashboard until the user quits or a signal arrives. An error means the terminal
/// failed (input closed, output gone); the caller restores it either way.
pub async fn run(
    terminal: &mut Tui,
    app: &mut App,
    theme: &Theme,
    settings: &ProbeSettings,
) -> io::Result<QuitReason> {
    #[cfg(unix)]
    let (mut term, mut int, mut hup) = {
        use tokio::signal::unix::SignalKind;
        (
            signal(SignalKind::terminate()),
            // Raw mode turns Ctrl-C into a key; SIGINT can still come from `kill -INT`.
            signal(SignalKind::interrupt()),
            // The SSH connection dropped: leave rather than draw into nothing.
            signal(SignalKind::hangup()),
        )
    };
    #[cfg(not(unix))]
    let (mut term, mut int, mut hup): (Signal, Signal, Signal) = (None, None, None);
    let mut input = EventStream::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut probe: Option<Running> = None;

    let mut command = Some(app.start(Instant::now()));
    loop {
        match command.take() {
            // Replacing the old value drops it, which aborts a probe still running.
            Some(Command::Run { attempt }) => probe = Some(spawn(attempt, settings)),
            Some(Command::Quit(reason)) => return Ok(reason),
            None => {}
        }
        terminal.draw(|frame| ui::draw(frame, app, theme))?;

        let event = tokio::select! {
            input_event = input.next() => match input_event {
                Some(Ok(TermEvent::Key(key))) => Event::Key(key),
                Some(Ok(TermEvent::Resize(..))) => Event::Resize,
                // Mouse, focus and paste events are not used: nothing to redraw.
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e),
                None => return Err(io::Error::other("the terminal's input closed")),
            },
            (attempt, msg) = next_from(&mut probe) => {
                let at = Instant::now();
                match msg {
                    ProbeMsg::Event(event) => Event::Probe { attempt, event, at },
                    ProbeMsg::Done(result) => {
                        probe = None;
                        match *result {
                            Ok(outcome) => Event::Finished {
                                attempt,
                                report: Box::new(report::build(&outcome)),
                                at,
                            },
                            Err(e) => Event::Crashed { attempt, message: e.to_string(), at },
                        }
                    }
                }
            }
            _ = ticker.tick(), if app.is_running() => Event::Tick(Instant::now()),
            _ = arrived(&mut term) => Event::Signal,
            _ = arrived(&mut int) => Event::Signal,
            _ = arrived(&mut hup) => Event::Signal,
        };
        command = app.update(event);
    }
}
