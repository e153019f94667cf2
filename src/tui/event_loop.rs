//! The loop: it only wires sources to [`App::update`] — terminal events, the running probe's
//! events and outcome, a tick while a probe runs, signals — carries out the returned
//! [`Command`], and draws. Idle, it sleeps on the terminal: no ticks, no redraws.
//! (ratatui's event-driven template, with the engine as one more event source.)

use std::future::pending;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::{JoinError, JoinHandle};

use super::app::{App, Command, Event, QuitReason};
use super::paste::Retarget;
use super::replay::{RunEnd, TrySummary};
use super::terminal::Tui;
use super::theme::Theme;
use super::ui;
use crate::engine::events::{Events, ProbeEvent};
use crate::engine::{ProbeOutcome, ProbeSettings};
use crate::explain::plan::ProbePlan;
use crate::replay::policy::ReplaySettings;
use crate::replay::run::ReplayRun;
use crate::{replay, report};

/// Redraw rate while a stage runs: enough for a tenth-of-a-second counter, cheap over SSH.
const TICK: Duration = Duration::from_millis(100);

/// What a run's task returns: one probe, or a whole replay.
enum Outcome {
    Probe(Box<ProbeOutcome>),
    Replay(Box<ReplayRun>),
}

/// A probe or replay running in its own task; dropping it cancels it (`r`, `c` while running),
/// sleeps included.
struct Running {
    attempt: u32,
    events: UnboundedReceiver<ProbeEvent>,
    /// Each finished attempt of a replay, from `replay::run::run`'s callback.
    tries: UnboundedReceiver<TrySummary>,
    task: JoinHandle<Outcome>,
    /// A replay's ended attempts in full, kept so that a run stopped part-way (`c`, `q`, a
    /// signal) still reports what it found.
    done: Arc<Mutex<Vec<replay::run::Attempt>>>,
    settings: ReplaySettings,
    started: Instant,
}

impl Running {
    /// The report of the attempts this replay had ended; `None` for a single probe or before
    /// the first attempt ended.
    fn report_so_far(&self, at: Instant) -> Option<Box<report::Report>> {
        let attempts = self.done.lock().map(|l| l.clone()).unwrap_or_default();
        let total = at.saturating_duration_since(self.started);
        let run = ReplayRun::interrupted(&self.settings, attempts, total)?;
        report::build_replay(&run).map(Box::new)
    }
}

/// Stop `running` (dropping it aborts the task) and tell the app what it had found.
fn cut(app: &mut App, running: Running) {
    let at = Instant::now();
    let report = running.report_so_far(at);
    let attempt = running.attempt;
    drop(running);
    app.update(Event::Cut {
        attempt,
        report,
        at,
    });
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Run `rs` on `base`: a plain probe when the settings allow one attempt (what the dashboard
/// always did), else the replay engine with its sleeps.
fn spawn(attempt: u32, base: &ProbeSettings, rs: &ReplaySettings) -> Running {
    let (tx, events) = unbounded_channel();
    let (try_tx, tries) = unbounded_channel();
    let done = Arc::new(Mutex::new(Vec::new()));
    let sink = done.clone();
    let base = base.clone();
    let settings = rs.clone();
    let rs = rs.clone();
    let task = tokio::spawn(async move {
        if crate::tui::replay::is_replay(&rs) {
            let run = crate::replay::run::run(&base, &rs, Events::new(tx), move |a| {
                if let Ok(mut list) = sink.lock() {
                    list.push(a.clone());
                }
                let _ = try_tx.send(TrySummary::from_attempt(a));
            })
            .await;
            Outcome::Replay(Box::new(run))
        } else {
            let settings = crate::replay::run::attempt_settings(&base, &rs);
            Outcome::Probe(Box::new(
                crate::engine::probe(settings, Events::new(tx)).await,
            ))
        }
    });
    Running {
        attempt,
        events,
        tries,
        task,
        done,
        settings,
        started: Instant::now(),
    }
}

enum ProbeMsg {
    Event(ProbeEvent),
    Try(Box<TrySummary>),
    /// Boxed: an outcome is large, events are small and many.
    Done(Box<Result<Outcome, JoinError>>),
}

/// The running probe's next message. Events come first: the channel closes only when the
/// probe has returned (it owns the sender), and then the task's result is ready. Both awaits
/// are cancel-safe, so this can lose a `select!` race without losing anything.
async fn next_from(probe: &mut Option<Running>) -> (u32, ProbeMsg) {
    let Some(p) = probe else {
        return pending().await;
    };
    // Events first: an attempt's events are all sent before its summary.
    tokio::select! {
        biased;
        Some(e) = p.events.recv() => return (p.attempt, ProbeMsg::Event(e)),
        Some(t) = p.tries.recv() => return (p.attempt, ProbeMsg::Try(Box::new(t))),
        else => {}
    }
    (p.attempt, ProbeMsg::Done(Box::new((&mut p.task).await)))
}

/// The app's event for a finished task.
fn finished(attempt: u32, result: Result<Outcome, JoinError>, url: &str, at: Instant) -> Event {
    match result {
        Ok(Outcome::Probe(outcome)) => Event::Finished {
            attempt,
            report: Box::new(report::build(&outcome)),
            at,
        },
        Ok(Outcome::Replay(run)) => match report::build_replay(&run) {
            Some(r) => {
                let end = RunEnd {
                    success_on: run
                        .attempts
                        .last()
                        .filter(|_| r.verdict.ok)
                        .map(|a| a.number),
                    message: run.stop.message(url),
                    total: run.total,
                };
                Event::RunEnded {
                    attempt,
                    report: Box::new(r),
                    end,
                    at,
                }
            }
            None => Event::Crashed {
                attempt,
                message: "a replay without attempts".into(),
                at,
            },
        },
        Err(e) => Event::Crashed {
            attempt,
            message: e.to_string(),
            at,
        },
    }
}

/// OSC 52: ask the terminal to put `text` on the clipboard. Terminals without support ignore
/// the sequence; tmux passes it on when its `set-clipboard` option allows.
pub(super) fn osc52(terminal: &mut Tui, text: &str) -> io::Result<()> {
    use base64::Engine;
    use std::io::Write;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let out = terminal.backend_mut();
    write!(out, "\x1b]52;c;{b64}\x07")?;
    out.flush()
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
pub(super) async fn run(
    terminal: &mut Tui,
    app: &mut App,
    theme: &Theme,
    mut settings: ProbeSettings,
    settings_for: &dyn Fn(&ProbePlan) -> Result<ProbeSettings, String>,
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
        // A command can answer with another (an explained paste: its target, then its run).
        while let Some(c) = command.take() {
            command = match c {
                Command::Run { attempt } => {
                    // The run being replaced (`r` while one runs) keeps what it had found.
                    if let Some(old) = probe.take() {
                        cut(app, old);
                    }
                    let run = spawn(attempt, &settings, app.run_settings());
                    let at = run.started;
                    probe = Some(run);
                    app.update(Event::Started { attempt, at })
                }
                Command::Cancel => {
                    if let Some(old) = probe.take() {
                        cut(app, old);
                    }
                    None
                }
                Command::Clipboard => {
                    let python = crate::replay::export::python(
                        &app.replay,
                        &app.request.with_trust_fix(app.report()),
                    );
                    // Best effort: a terminal that cannot take it loses nothing.
                    let _ = osc52(terminal, &python);
                    None
                }
                // The paste's target: its settings as `netpeel explain` builds them.
                Command::Explain(plan) => match settings_for(&plan) {
                    Ok(next) => {
                        let to = Retarget::of(&next, ReplaySettings::default());
                        settings = next;
                        app.update(Event::Retargeted(Box::new(to)))
                    }
                    Err(why) => app.update(Event::NotProbed(why)),
                },
                Command::Quit(reason) => {
                    // The report printed on the way out covers the attempts made so far.
                    if let Some(old) = probe.take() {
                        cut(app, old);
                    }
                    return Ok(reason);
                }
                // The probe runs on while stopped; its events wait in the channel.
                Command::Suspend => {
                    super::terminal::suspend(terminal)?;
                    None
                }
            };
        }
        terminal.draw(|frame| ui::draw(frame, app, theme))?;

        let event = tokio::select! {
            input_event = input.next() => match from_terminal(input_event)? {
                Some(event) => event,
                // Mouse and focus events are not used: nothing to redraw.
                None => continue,
            },
            (attempt, msg) = next_from(&mut probe) => {
                let at = Instant::now();
                match msg {
                    ProbeMsg::Event(event) => Event::Probe { attempt, event, at },
                    ProbeMsg::Try(summary) => Event::Try { attempt, summary, at },
                    ProbeMsg::Done(result) => {
                        probe = None;
                        finished(attempt, *result, &app.url, at)
                    }
                }
            }
            _ = ticker.tick(), if app.is_running() => Event::Tick(Instant::now()),
            _ = arrived(&mut term) => Event::Signal,
            _ = arrived(&mut int) => Event::Signal,
            _ = arrived(&mut hup) => Event::Signal,
        };
        command = app.update(event);
        if command.is_none() {
            command = take_ready_input(app)?;
        }
    }
}

/// Most input events taken between two draws.
const MAX_READY: usize = 4096;

/// Feed the app the input that is already there, before the next draw: a paste without
/// brackets arrives as a burst of keys, and drawing after each would slow it to the pace of
/// the draws (and stretch the burst). Stops at the first command, or when nothing is ready.
fn take_ready_input(app: &mut App) -> io::Result<Option<Command>> {
    use crossterm::event::{poll, read};
    for _ in 0..MAX_READY {
        // Not `EventStream::next` polled by hand: a stream left pending with a waker other
        // than the loop's would never wake the loop again. `poll` with no wait reads what the
        // terminal has sent and returns at once (false while the stream's own reader waits).
        if !poll(Duration::ZERO)? {
            return Ok(None);
        }
        if let Some(event) = from_terminal(Some(read()))?
            && let Some(command) = app.update(event)
        {
            return Ok(Some(command));
        }
    }
    Ok(None)
}

/// The app's event for what the terminal sent; `None` for what the dashboard does not use
/// (mouse, focus). An error: the terminal failed or its input closed.
fn from_terminal(read: Option<io::Result<TermEvent>>) -> io::Result<Option<Event>> {
    match read {
        // Stamped: keys in a burst are a paste without brackets.
        Some(Ok(TermEvent::Key(key))) => Ok(Some(Event::KeyAt {
            key,
            at: Instant::now(),
        })),
        Some(Ok(TermEvent::Paste(text))) => Ok(Some(Event::Paste(text))),
        Some(Ok(TermEvent::Resize(..))) => Ok(Some(Event::Resize)),
        Some(Ok(_)) => Ok(None),
        Some(Err(e)) => Err(e),
        None => Err(io::Error::other("the terminal's input closed")),
    }
}
