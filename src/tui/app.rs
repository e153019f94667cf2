//! The dashboard's state and its one pure transition, [`App::update`]: an [`Event`] in (a key,
//! an engine event, a tick), maybe a [`Command`] out for the loop to carry out. Nothing here
//! touches the terminal, the network or the clock: time comes in with the events, so every
//! behaviour is unit-tested by feeding events.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use crate::engine::Stage;
use crate::engine::events::ProbeEvent;
use crate::replay::budget::UrlStages;
use crate::replay::export_request::ExportRequest;
use crate::replay::policy::ReplaySettings;
use crate::report::Report;

use super::header_info::HeaderInfo;
use super::keys::{self, Action, Mode};
use super::paste::{BURST_GAP, PasteBox, Retarget, Then, ThenProbe};
use super::replay::{Editor, FieldKind, RunEnd, Sleeping, TrySummary};
use super::theme::Status;
use crate::explain::Explained;
use crate::explain::plan::{Overrides, ProbePlan};
use crate::report::escape::for_terminal;

/// Everything the loop feeds into [`App::update`].
#[derive(Clone, Debug)]
pub enum Event {
    Key(KeyEvent),
    /// A key as the loop read it from the terminal, with when it arrived: keys closer than
    /// `paste::BURST_GAP` are a paste without brackets (in the paste box: all text).
    KeyAt {
        key: KeyEvent,
        at: Instant,
    },
    /// A bracketed paste: in the paste box, its text; in the main view, it opens the box.
    Paste(String),
    /// The loop switched the probe's settings to an explained paste's target (after
    /// `Command::Explain`): the next run probes it.
    Retargeted(Box<Retarget>),
    /// The paste's target cannot be probed (a URL or proxy the settings refuse): why.
    NotProbed(String),
    /// The terminal changed size: nothing to update, but the screen is drawn again at once.
    Resize,
    /// A tick while a probe runs (live counters); `Instant` is "now".
    Tick(Instant),
    /// A progress event from attempt `attempt`, stamped when the loop received it.
    Probe {
        attempt: u32,
        event: ProbeEvent,
        at: Instant,
    },
    /// Attempt `attempt` finished; its report, built with `report::build`.
    Finished {
        attempt: u32,
        report: Box<Report>,
        at: Instant,
    },
    /// The probe task died without an outcome (a bug in the engine): shown, never fatal.
    Crashed {
        attempt: u32,
        message: String,
        at: Instant,
    },
    /// One attempt of replay run `attempt` ended (before the policy's sleep, if any).
    Try {
        attempt: u32,
        summary: Box<TrySummary>,
        at: Instant,
    },
    /// Replay run `attempt` ended: the report of its last attempt (with the attempts list)
    /// and how requests would end.
    RunEnded {
        attempt: u32,
        report: Box<Report>,
        end: RunEnd,
        at: Instant,
    },
    /// The loop started run `attempt` (its task is spawned) at `at`: the run's clock starts
    /// here, not at the key that asked for it (the app's `now` is only as fresh as the last
    /// event, which can be long ago when the screen was idle).
    Started {
        attempt: u32,
        at: Instant,
    },
    /// Run `attempt` was stopped before it ended (`c`, `q`, a signal): the report of the
    /// attempts it had finished (a replay's), if any.
    Cut {
        attempt: u32,
        report: Option<Box<Report>>,
        at: Instant,
    },
    /// SIGTERM, SIGINT or SIGHUP: leave now.
    Signal,
}

/// What the loop must do after an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Start attempt `attempt`, cancelling (aborting) any probe still running.
    Run {
        attempt: u32,
    },
    /// Abort the running probe or replay (`c`, or `Esc` during a replay).
    Cancel,
    /// Put the export's Python snippet on the clipboard (OSC 52).
    Clipboard,
    /// Ctrl-Z: restore the terminal, stop (SIGTSTP), and draw again after `fg`.
    Suspend,
    /// An explained paste names this target: build its probe settings (the environment is
    /// the command line's to read) and answer with `Event::Retargeted` or `Event::NotProbed`.
    Explain(ProbePlan),
    Quit(QuitReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuitReason {
    /// `q`, `Esc` or Ctrl-C.
    User,
    /// A signal from outside.
    Signal,
}

/// The panels `Tab` moves between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The "then" panel of an explained paste (only while there is one).
    Then,
    Stages,
    Detail,
    Verdict,
    Attempts,
}

impl Focus {
    const ORDER: [Focus; 5] = [
        Focus::Then,
        Focus::Stages,
        Focus::Detail,
        Focus::Verdict,
        Focus::Attempts,
    ];

    fn step(self, forward: bool) -> Focus {
        let i = Focus::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        let n = Focus::ORDER.len();
        Focus::ORDER[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }

    pub fn name(self) -> &'static str {
        match self {
            Focus::Then => "then",
            Focus::Stages => "stages",
            Focus::Detail => "detail",
            Focus::Verdict => "verdict",
            Focus::Attempts => "runs",
        }
    }
}

/// One stage as seen live, before the attempt's report exists.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveStage {
    pub stage: Stage,
    pub status: Status,
    pub started: Option<Instant>,
    pub elapsed: Option<Duration>,
    pub summary: String,
}

/// One TCP connect attempt seen live (urllib3 tries the addresses in turn).
#[derive(Clone, Debug, PartialEq)]
pub struct LiveConnect {
    pub addr: String,
    pub ok: bool,
    pub elapsed: Duration,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttemptState {
    Running { since: Instant },
    Done { report: Box<Report> },
    Cancelled { after: Duration },
    Crashed { message: String },
}

/// One run of the probe in this session (the first, then one per `r`).
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub n: u32,
    pub state: AttemptState,
    /// The replay settings this run used (a copy of the app's at `r`).
    pub settings: ReplaySettings,
    /// The attempts of a replay run, oldest first (empty for a single probe).
    pub tries: Vec<TrySummary>,
    /// The policy's sleep being waited out.
    pub sleeping: Option<Sleeping>,
    /// How a replay run ended.
    pub end: Option<RunEnd>,
    /// The report of the attempts a cancelled replay had finished (the last one's stages, the
    /// attempts so far).
    pub partial: Option<Box<Report>>,
    /// How long the policy's sleep had run when the run was cancelled during it.
    pub sleep_cut: Option<Duration>,
}

impl Attempt {
    /// A run that can make more than one attempt: shown as a timeline.
    pub fn is_replay(&self) -> bool {
        super::replay::is_replay(&self.settings)
    }
}

/// Scroll offsets of the panels that can hold more than they show. The renderer records each
/// panel's largest useful offset in `max`, so scrolling stops at the end.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scroll {
    pub detail: u16,
    pub verdict: u16,
    pub attempts: u16,
    /// The export overlay (`x`).
    pub export: u16,
    /// The "then" panel.
    pub then: u16,
}

#[derive(Debug)]
pub struct App {
    pub header: HeaderInfo,
    pub now: Instant,
    /// Stages of the current attempt as the events describe them.
    pub live: Vec<LiveStage>,
    pub live_connects: Vec<LiveConnect>,
    /// Every attempt of this session, oldest first; the last one is the current one.
    pub attempts: Vec<Attempt>,
    /// The selected stage; `None` follows the probe (the running or failing stage).
    pub chosen: Option<Stage>,
    pub focus: Focus,
    /// The detail panel takes the whole body (Enter).
    pub expanded: bool,
    pub help: bool,
    pub scroll: Scroll,
    /// Largest scroll offsets, written by the renderer (it alone knows the wrapped heights).
    pub max_scroll: std::cell::Cell<(u16, u16, u16)>,
    /// Counts ticks, for the spinner.
    pub frame: usize,
    /// Hops of the current attempt after the first (redirects followed).
    pub hops: u32,
    /// The replay settings the next `r` uses (from the CLI; edited with `e`).
    pub replay: ReplaySettings,
    /// The URL (password masked), for the screens.
    pub url: String,
    /// The request as the export writes it (no secrets: they are read from variables).
    pub request: ExportRequest,
    /// The stages a probe of the URL goes through, for the editor's worst case.
    pub url_stages: UrlStages,
    /// The `e` settings editor, when open.
    pub editor: Option<Editor>,
    /// The compare view (`C`/`v`), when open: the index of the leftmost run shown.
    pub compare: Option<usize>,
    /// How many runs the compare view fits side by side (written by the renderer, which knows
    /// the width): `→` stops when the last run is the rightmost column.
    pub compare_fit: std::cell::Cell<usize>,
    /// The export overlay (`x`), when open.
    pub export: bool,
    /// The export's largest scroll offset, written by its renderer.
    pub export_max: std::cell::Cell<u16>,
    /// A replay's probe said `Finished`: its next event starts the next attempt's rows.
    pub try_ended: bool,
    /// An older attempt picked with ↑/↓ on the Attempts panel: its stages, detail and
    /// verdict are shown. `None` shows the current one (a new run goes back to it).
    pub viewed: Option<u32>,
    /// The `p` paste box, when open.
    pub paste: Option<PasteBox>,
    /// The last explained paste: the "then" panel above the stages.
    pub then: Option<Then>,
    /// The "then" panel's largest scroll offset, written by its renderer.
    pub then_max: std::cell::Cell<u16>,
    /// What the command line set for a paste's probe (`netpeel explain`'s flags).
    pub paste_overrides: Overrides,
    /// When the last key arrived (keys in a burst are a paste).
    last_key_at: Option<Instant>,
}

/// Stages whose row is only worth a line in some states: the URL when it failed (its parts are
/// in the header), a proxy when one is used (then always, even when it was not reached).
fn row_wanted(stage: Stage, status: Status, proxied: bool) -> bool {
    match stage {
        Stage::Url => status == Status::Failed,
        Stage::Proxy => proxied || matches!(status, Status::Ok | Status::Failed | Status::Running),
        _ => true,
    }
}

impl App {
    pub fn new(header: HeaderInfo, now: Instant) -> App {
        App {
            header,
            now,
            live: Vec::new(),
            live_connects: Vec::new(),
            attempts: Vec::new(),
            chosen: None,
            focus: Focus::Stages,
            expanded: false,
            help: false,
            scroll: Scroll::default(),
            max_scroll: std::cell::Cell::new((u16::MAX, u16::MAX, u16::MAX)),
            frame: 0,
            hops: 0,
            url: String::new(),
            request: ExportRequest::for_url(""),
            url_stages: UrlStages::ALL,
            replay: ReplaySettings::default(),
            editor: None,
            compare: None,
            compare_fit: std::cell::Cell::new(super::panels::compare::SHOWN),
            export: false,
            export_max: std::cell::Cell::new(u16::MAX),
            try_ended: false,
            viewed: None,
            paste: None,
            then: None,
            then_max: std::cell::Cell::new(u16::MAX),
            paste_overrides: Overrides::default(),
            last_key_at: None,
        }
    }

    /// An explained paste whose probe `settings` the first run is (`netpeel explain FILE` at
    /// a terminal), and the flags that beat what a paste says.
    pub(crate) fn with_paste(mut self, overrides: Overrides, explained: Option<Explained>) -> App {
        if let Some(e) = explained {
            let plan = crate::explain::plan::plan(&e, &overrides);
            let mut then = Then::new(e, plan.as_ref());
            then.probe = ThenProbe::From(self.attempt() + 1);
            self.then = Some(then);
        }
        // `--url` was for the file's error; a pasted one names its own.
        self.paste_overrides = Overrides {
            url: None,
            ..overrides
        };
        self
    }

    /// The replay settings `r` starts with, and the URL the screens and the export name.
    pub fn with_replay(mut self, replay: ReplaySettings, url: &str) -> App {
        self.replay = replay;
        self.url = url.to_string();
        self.request = ExportRequest::for_url(url);
        self.url_stages = UrlStages::of(url);
        self
    }

    /// The stages the probe really goes through (a proxy changes them).
    pub fn with_url_stages(mut self, stages: UrlStages) -> App {
        self.url_stages = stages;
        self
    }

    /// The request the export writes, when more than a URL is known (headers, proxy, TLS).
    pub fn with_request(mut self, request: ExportRequest) -> App {
        self.request = request;
        self
    }

    /// The settings of the current run (what the loop runs on `Command::Run`).
    pub fn run_settings(&self) -> &ReplaySettings {
        self.attempts
            .last()
            .map(|a| &a.settings)
            .unwrap_or(&self.replay)
    }

    /// The leftmost run the compare view shows: as the view was moved, but never so far right
    /// that columns stand empty while earlier runs would fit.
    pub fn compare_first(&self) -> Option<usize> {
        let last = self
            .attempts
            .len()
            .saturating_sub(self.compare_fit.get().max(1));
        self.compare.map(|i| i.min(last))
    }

    /// Any overlay that takes the keys.
    pub fn overlay_open(&self) -> bool {
        self.help
            || self.editor.is_some()
            || self.compare.is_some()
            || self.export
            || self.paste.is_some()
    }

    /// The first attempt; the loop calls this once before reading events.
    pub fn start(&mut self, now: Instant) -> Command {
        self.begin_attempt(now)
    }

    pub fn attempt(&self) -> u32 {
        self.attempts.last().map(|a| a.n).unwrap_or(0)
    }

    pub fn is_running(&self) -> bool {
        matches!(
            self.attempts.last().map(|a| &a.state),
            Some(AttemptState::Running { .. })
        )
    }

    /// The current run's report, once it finished; for a cancelled replay, the report of the
    /// attempts it had made.
    pub fn report(&self) -> Option<&Report> {
        let run = self.attempts.last()?;
        match &run.state {
            AttemptState::Done { report } => Some(report),
            AttemptState::Cancelled { .. } => run.partial.as_deref(),
            _ => None,
        }
    }

    /// The current run was stopped before it ended.
    pub fn was_cut(&self) -> bool {
        matches!(
            self.attempts.last().map(|a| &a.state),
            Some(AttemptState::Cancelled { .. })
        )
    }

    /// The attempt the panels show: the one picked on the Attempts panel, else the current.
    pub fn shown(&self) -> Option<&Attempt> {
        self.viewed
            .and_then(|n| self.attempts.iter().find(|a| a.n == n))
            .or(self.attempts.last())
    }

    /// The shown attempt's report, once it finished (a cancelled replay's: its attempts').
    pub fn shown_report(&self) -> Option<&Report> {
        let shown = self.shown()?;
        match &shown.state {
            AttemptState::Done { report } => Some(report),
            AttemptState::Cancelled { .. } => shown.partial.as_deref(),
            _ => None,
        }
    }

    /// An older attempt is shown: the live rows (the current run's) are not its.
    pub fn viewing_older(&self) -> bool {
        self.viewed.is_some_and(|n| n != self.attempt())
    }

    /// The rows of the stage pipeline: from the report when the attempt finished, else live.
    pub fn rows(&self) -> Vec<(Stage, Status)> {
        // (stage, status, has detail): a proxy reused from an earlier hop is skipped but still
        // the way the request went, so its row stays.
        let all: Vec<(Stage, Status, bool)> = match self.shown_report() {
            Some(r) => r
                .stages
                .iter()
                .map(|s| (s.stage, Status::from(s.status), s.detail.is_some()))
                .collect(),
            // A cancelled older attempt left no rows.
            None if self.viewing_older() => Vec::new(),
            None => self
                .live
                .iter()
                .map(|s| (s.stage, s.status, false))
                .collect(),
        };
        let proxied = self.proxied();
        all.into_iter()
            .filter(|(stage, status, detail)| {
                row_wanted(*stage, *status, proxied) || (*stage == Stage::Proxy && *detail)
            })
            .map(|(stage, status, _)| (stage, status))
            .collect()
    }

    /// Whether the shown attempt went through a proxy: its report says so once it exists
    /// (a redirect may leave the proxy behind), the settings before.
    pub fn proxied(&self) -> bool {
        match self.shown_report() {
            Some(r) => crate::report::words::uses_proxy(r),
            None => self.header.proxied,
        }
    }

    /// A stage's name in the rows and titles ("TCP → proxy" when a proxy is used).
    pub fn stage_label(&self, stage: Stage) -> String {
        crate::report::words::stage_label(stage, self.proxied())
    }

    /// The stage the detail panel shows: the chosen one if it has a row, else the one the probe
    /// is at (running, failed) or the last that ran.
    pub fn selected(&self) -> Option<Stage> {
        let rows = self.rows();
        if let Some(c) = self.chosen
            && rows.iter().any(|(n, _)| *n == c)
        {
            return Some(c);
        }
        let pick = |want: Status| rows.iter().find(|(_, s)| *s == want);
        pick(Status::Failed)
            .or_else(|| pick(Status::Running))
            .or_else(|| {
                rows.iter()
                    .rev()
                    .find(|(_, s)| matches!(s, Status::Ok | Status::Skipped))
            })
            .or(rows.first())
            .map(|(n, _)| *n)
    }

    /// The live row of `stage` (created on first sight).
    fn live_stage(&mut self, stage: Stage) -> &mut LiveStage {
        let i = match self.live.iter().position(|s| s.stage == stage) {
            Some(i) => i,
            None => {
                self.live.push(LiveStage {
                    stage,
                    status: Status::Waiting,
                    started: None,
                    elapsed: None,
                    summary: String::new(),
                });
                self.live.len() - 1
            }
        };
        &mut self.live[i]
    }

    fn begin_attempt(&mut self, now: Instant) -> Command {
        self.now = now;
        self.stop_run(now);
        let n = self.attempt() + 1;
        self.viewed = None;
        self.attempts.push(Attempt {
            n,
            state: AttemptState::Running { since: now },
            settings: self.replay.clone(),
            tries: Vec::new(),
            sleeping: None,
            end: None,
            partial: None,
            sleep_cut: None,
        });
        self.reset_live();
        self.scroll = Scroll {
            attempts: self.scroll.attempts,
            ..Scroll::default()
        };
        Command::Run { attempt: n }
    }

    /// Every stage waiting: a new run, or the next attempt of a replay.
    fn reset_live(&mut self) {
        self.try_ended = false;
        self.live = Stage::ALL
            .iter()
            .map(|s| LiveStage {
                stage: *s,
                status: Status::Waiting,
                started: None,
                elapsed: None,
                summary: String::new(),
            })
            .collect();
        self.live_connects.clear();
        self.hops = 0;
    }

    /// `c`, or `Esc` during a replay: stop the run where it is.
    fn cancel(&mut self) -> Option<Command> {
        let now = self.now;
        self.stop_run(now)?;
        Some(Command::Cancel)
    }

    /// End the running run as cancelled at `now`: the sleep it was in counts only as far as
    /// it ran, and stages that had not finished say they did not run (not "waiting" for a
    /// run that is over). `None` when nothing was running.
    fn stop_run(&mut self, now: Instant) -> Option<()> {
        let last = self.attempts.last_mut()?;
        let AttemptState::Running { since } = last.state else {
            return None;
        };
        last.state = AttemptState::Cancelled {
            after: now.saturating_duration_since(since),
        };
        if let Some(s) = last.sleeping.take() {
            let left = s.until.saturating_duration_since(now);
            last.sleep_cut = Some(s.total.saturating_sub(left));
        }
        for s in &mut self.live {
            if matches!(s.status, Status::Waiting | Status::Running) {
                s.status = Status::NotRun;
                s.summary = "cancelled".into();
            }
        }
        Some(())
    }

    /// The current run, mutable, if it is `attempt` and still running.
    fn running_run(&mut self, attempt: u32) -> Option<&mut Attempt> {
        self.attempts
            .iter_mut()
            .find(|a| a.n == attempt)
            .filter(|a| matches!(a.state, AttemptState::Running { .. }))
    }

    pub fn update(&mut self, event: Event) -> Option<Command> {
        match event {
            Event::Key(_)
            | Event::KeyAt { .. }
            | Event::Paste(_)
            | Event::Retargeted(_)
            | Event::NotProbed(_) => self.input(event),
            Event::Resize => None,
            Event::Tick(now) => {
                self.now = now;
                self.frame = self.frame.wrapping_add(1);
                None
            }
            Event::Probe { attempt, event, at } => {
                // Events of a cancelled attempt may still be queued: they belong to no row.
                if attempt == self.attempt() && self.is_running() {
                    self.now = at;
                    if self.try_ended && !matches!(event, ProbeEvent::Finished) {
                        // The replay's next attempt began: its sleep is over.
                        self.reset_live();
                        if let Some(a) = self.attempts.last_mut() {
                            a.sleeping = None;
                        }
                    }
                    self.probe_event(event, at);
                }
                None
            }
            Event::Try {
                attempt,
                summary,
                at,
            } => {
                self.now = at;
                if let Some(a) = self.running_run(attempt) {
                    a.sleeping = summary.sleep_after.map(|(d, reason)| Sleeping {
                        until: at + d,
                        total: d,
                        reason,
                    });
                    a.tries.push(*summary);
                }
                None
            }
            Event::RunEnded {
                attempt,
                report,
                end,
                at,
            } => {
                self.now = at;
                if let Some(a) = self.running_run(attempt) {
                    // Server bytes in the report are shown visibly, never interpreted.
                    a.state = AttemptState::Done {
                        report: Box::new(report.for_terminal()),
                    };
                    a.sleeping = None;
                    a.end = Some(end);
                }
                None
            }
            Event::Finished {
                attempt,
                report,
                at,
            } => {
                self.now = at;
                if let Some(a) = self.attempts.iter_mut().find(|a| a.n == attempt)
                    && matches!(a.state, AttemptState::Running { .. })
                {
                    a.state = AttemptState::Done {
                        report: Box::new(report.for_terminal()),
                    };
                }
                None
            }
            Event::Crashed {
                attempt,
                message,
                at,
            } => {
                self.crashed(attempt, &message, at);
                None
            }
            Event::Started { attempt, at } => {
                self.started(attempt, at);
                None
            }
            Event::Cut {
                attempt,
                report,
                at,
            } => {
                self.cut(attempt, report, at);
                None
            }
            Event::Signal => Some(Command::Quit(QuitReason::Signal)),
        }
    }

    /// What the person does (keys, a paste) and what the loop answers to an explained paste.
    fn input(&mut self, event: Event) -> Option<Command> {
        match event {
            Event::Key(key) => self.key(key, false),
            Event::KeyAt { key, at } => {
                let burst = self
                    .last_key_at
                    .is_some_and(|t| at.saturating_duration_since(t) < BURST_GAP);
                if key.kind != KeyEventKind::Release {
                    self.last_key_at = Some(at);
                }
                self.key(key, burst)
            }
            Event::Paste(text) => {
                self.pasted(&text);
                None
            }
            Event::Retargeted(to) => Some(self.retargeted(*to)),
            Event::NotProbed(why) => {
                if let Some(then) = self.then.as_mut() {
                    then.probe = ThenProbe::NotProbed(for_terminal(&why));
                }
                None
            }
            _ => None,
        }
    }

    /// Run `attempt`'s task died without an outcome: shown, never fatal.
    fn crashed(&mut self, attempt: u32, message: &str, at: Instant) {
        self.now = at;
        if let Some(a) = self.attempts.iter_mut().find(|a| a.n == attempt)
            && matches!(a.state, AttemptState::Running { .. })
        {
            a.state = AttemptState::Crashed {
                message: for_terminal(message),
            };
        }
    }

    /// The loop spawned run `attempt` at `at`: its clock starts now.
    fn started(&mut self, attempt: u32, at: Instant) {
        self.now = at;
        if let Some(a) = self.running_run(attempt) {
            a.state = AttemptState::Running { since: at };
        }
    }

    /// Run `attempt` was stopped; `report` covers the attempts it had finished.
    fn cut(&mut self, attempt: u32, report: Option<Box<Report>>, at: Instant) {
        self.now = at;
        if attempt == self.attempt() {
            self.stop_run(at);
        }
        if let Some(a) = self.attempts.iter_mut().find(|a| a.n == attempt)
            && matches!(a.state, AttemptState::Cancelled { .. })
        {
            // Server bytes in the report are shown visibly, never interpreted.
            a.partial = report.map(|r| Box::new(r.for_terminal()));
        }
    }

    /// A stage that starts again after it ended means the engine began a new hop (it follows
    /// a redirect): the rows start over, whatever event announced the hop.
    fn new_hop_if_restarted(&mut self, stage: Stage) {
        let ended = self
            .live
            .iter()
            .any(|s| s.stage == stage && !matches!(s.status, Status::Waiting | Status::Running));
        if ended {
            self.hops += 1;
            for s in &mut self.live {
                *s = LiveStage {
                    stage: s.stage,
                    status: Status::Waiting,
                    started: None,
                    elapsed: None,
                    summary: String::new(),
                };
            }
            self.live_connects.clear();
        }
    }

    fn probe_event(&mut self, event: ProbeEvent, at: Instant) {
        // Events the dashboard has no use for yet (the engine grows) change nothing.
        #[allow(unreachable_patterns)]
        match event {
            ProbeEvent::StageStarted { stage } => {
                self.new_hop_if_restarted(stage);
                let s = self.live_stage(stage);
                s.status = Status::Running;
                s.started = Some(at);
            }
            ProbeEvent::StageFinished {
                stage,
                ok,
                elapsed,
                summary,
            } => {
                let s = self.live_stage(stage);
                s.status = if ok { Status::Ok } else { Status::Failed };
                s.elapsed = Some(elapsed);
                // Stage summaries quote what the server said (a reason phrase, an alert).
                s.summary = for_terminal(&summary);
            }
            ProbeEvent::StageSkipped { stage, reason } => {
                self.new_hop_if_restarted(stage);
                let s = self.live_stage(stage);
                s.status = Status::Skipped;
                s.summary = for_terminal(&reason);
            }
            ProbeEvent::ConnectAttempt {
                addr,
                ok,
                elapsed,
                detail,
            } => {
                self.live_connects.push(LiveConnect {
                    addr: addr.to_string(),
                    ok,
                    elapsed,
                    detail: for_terminal(&detail),
                });
                // The TCP row says what happened so far while the next address is tried.
                let tried = self.live_connects.len();
                let s = self.live_stage(Stage::Tcp);
                if !ok {
                    s.summary = for_terminal(&format!("{addr}: {detail} ({tried} tried)"));
                }
            }
            // The report follows at once (Event::Finished) and replaces the live rows; in a
            // replay the next attempt's first event starts the rows over.
            ProbeEvent::Finished => {
                self.try_ended = true;
                // A replay shows these rows while it sleeps: stages this attempt never
                // reached will not run in it, they are not "waiting".
                for s in &mut self.live {
                    if s.status == Status::Waiting {
                        s.status = Status::NotRun;
                    }
                }
            }
            _ => {}
        }
    }

    /// The mode the keys are read in: the overlay on top, else the main view.
    pub(super) fn key_mode(&self) -> Mode {
        // Overlays open only from the main view, so at most one is open; this is the order
        // the keys were always read in.
        if self.help {
            return Mode::Help;
        }
        if let Some(ed) = &self.editor {
            return if ed.editing.is_some() {
                Mode::EditorTyping
            } else {
                Mode::Editor
            };
        }
        if self.compare.is_some() {
            Mode::Compare
        } else if self.export {
            Mode::Export
        } else if self.paste.is_some() {
            Mode::Paste
        } else {
            Mode::Main
        }
    }

    /// `burst`: the key came right after another (a paste without brackets).
    fn key(&mut self, key: KeyEvent, burst: bool) -> Option<Command> {
        // Key releases (kitty protocol, Windows) would act twice.
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let mode = self.key_mode();
        // In a burst every key is text, Enter a line break and Ctrl-C a character: pasted
        // text never explains half a traceback, closes the box or quits.
        if mode == Mode::Paste && burst {
            self.paste_text(key, true);
            return None;
        }
        match keys::action_for(mode, &key) {
            Some(action) => self.act(action),
            None => {
                // Only the editor and the paste box take keys the table does not name.
                match mode {
                    Mode::Editor | Mode::EditorTyping => self.editor_text(key),
                    Mode::Paste => self.paste_text(key, false),
                    _ => {}
                }
                None
            }
        }
    }

    /// A key typed into the paste box. In a burst, Enter and Tab are the line break and tab
    /// the terminal turned into keys, and control keys their characters (escaped when shown).
    fn paste_text(&mut self, key: KeyEvent, burst: bool) {
        let Some(pb) = self.paste.as_mut() else {
            return;
        };
        let ctrl = key
            .modifiers
            .contains(crossterm::event::KeyModifiers::CONTROL);
        let c = match key.code {
            KeyCode::Char(c) if ctrl && burst && c.is_ascii_alphabetic() => {
                char::from((c.to_ascii_lowercase() as u8) & 0x1f)
            }
            // A Ctrl key the box does not bind, typed by hand: nothing to add.
            KeyCode::Char(_) if ctrl => return,
            KeyCode::Char(c) => c,
            KeyCode::Enter if burst => '\n',
            KeyCode::Tab => '\t',
            KeyCode::Esc if burst => '\u{1b}',
            _ => return,
        };
        pb.push_str(c.encode_utf8(&mut [0; 4]));
    }

    /// A bracketed paste: into the open box, or it opens the box from the main view.
    fn pasted(&mut self, text: &str) {
        match self.key_mode() {
            Mode::Main => {
                self.paste = Some(PasteBox::default());
            }
            Mode::Paste => {}
            _ => return,
        }
        // Terminals (and tmux) paste line breaks as CR, as the Enter key sends them.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        if let Some(pb) = self.paste.as_mut() {
            pb.push_str(&text);
        }
    }

    /// Enter in the paste box: explain it; not an error netpeel knows, the box stays with
    /// the reason (never a guess). Explained, the box closes, the "then" panel shows it and
    /// the loop is asked to probe what it names.
    fn explain_paste(&mut self) -> Option<Command> {
        let pb = self.paste.as_mut()?;
        if pb.text.trim().is_empty() {
            pb.error = Some("nothing pasted yet: paste the error, then Enter".into());
            return None;
        }
        let Some(explained) = crate::explain::explain(&pb.text, pb.truncated) else {
            pb.error = Some(crate::explain::UNRECOGNISED.into());
            return None;
        };
        self.paste = None;
        let plan = crate::explain::plan::plan(&explained, &self.paste_overrides);
        self.then = Some(Then::new(explained, plan.as_ref()));
        self.scroll.then = 0;
        plan.map(Command::Explain)
    }

    /// The loop switched to the paste's target: new header, export and replay settings, and
    /// the run that probes it.
    fn retargeted(&mut self, to: Retarget) -> Command {
        self.header = to.header;
        self.url = to.url;
        self.request = to.request;
        self.url_stages = to.url_stages;
        self.replay = to.replay;
        self.chosen = None;
        let next = self.attempt() + 1;
        if let Some(then) = self.then.as_mut() {
            then.probe = ThenProbe::From(next);
        }
        self.begin_attempt(self.now)
    }

    /// The report printed on quit: the current run's, with the explanation around it when
    /// the run probed what the paste names.
    pub fn exit_report(&self) -> Option<Report> {
        let report = self.report()?.clone();
        Some(match &self.then {
            Some(then) => then.attach(self.attempt(), report),
            None => report,
        })
    }

    /// The next panel `Tab` goes to: the "then" panel only while there is one.
    fn focus_step(&self, forward: bool) -> Focus {
        let mut f = self.focus.step(forward);
        if f == Focus::Then && self.then.is_none() {
            f = f.step(forward);
        }
        f
    }

    /// Carry out `action`; the state decides what keys with more than one meaning do.
    fn act(&mut self, action: Action) -> Option<Command> {
        match action {
            Action::Quit | Action::Interrupt => return Some(Command::Quit(QuitReason::User)),
            Action::Suspend => return Some(Command::Suspend),
            Action::Back => return self.back(),
            Action::Cancel => return self.cancel(),
            Action::Rerun => return Some(self.begin_attempt(self.now)),
            Action::OpenExport => {
                self.export = true;
                self.scroll.export = 0;
                return Some(Command::Clipboard);
            }
            Action::OpenHelp => self.help = true,
            Action::OpenEditor => self.editor = Some(Editor::default()),
            Action::OpenCompare => {
                // The newest runs, as many as fit (the renderer keeps the last in view).
                self.compare = Some(self.attempts.len().saturating_sub(4));
            }
            Action::CloseHelp => self.help = false,
            Action::CloseCompare => self.compare = None,
            Action::CloseExport => self.export = false,
            Action::CompareEarlier => {
                self.compare = self.compare_first().map(|i| i.saturating_sub(1))
            }
            Action::CompareLater => {
                // Never past the last run: it stays the rightmost column.
                let last = self
                    .attempts
                    .len()
                    .saturating_sub(self.compare_fit.get().max(1));
                self.compare = self.compare_first().map(|i| (i + 1).min(last));
            }
            Action::NextPanel => self.focus = self.focus_step(true),
            Action::PreviousPanel => self.focus = self.focus_step(false),
            Action::OpenPaste => self.paste = Some(PasteBox::default()),
            Action::ClosePaste => self.paste = None,
            Action::ExplainPaste => return self.explain_paste(),
            Action::DeletePasted => {
                if let Some(pb) = self.paste.as_mut() {
                    pb.backspace();
                }
            }
            Action::ClearPaste => {
                if let Some(pb) = self.paste.as_mut() {
                    pb.clear();
                }
            }
            Action::ToggleExpand => {
                self.expanded = !self.expanded;
                self.scroll.detail = 0;
                self.scroll.then = 0;
            }
            Action::MoveUp => self.move_by(-1),
            Action::MoveDown => self.move_by(1),
            Action::PageUp => self.scroll_focused(-10),
            Action::PageDown => self.scroll_focused(10),
            Action::MoveFirst => self.move_by(i32::MIN / 2),
            Action::MoveLast => self.move_by(i32::MAX / 2),
            Action::CloseEditor
            | Action::PreviousField
            | Action::NextField
            | Action::FirstField
            | Action::LastField
            | Action::StepUp
            | Action::StepDown
            | Action::EditField
            | Action::SpaceOnField
            | Action::CommitEdit
            | Action::CancelEdit => self.editor_act(action),
            // The watch dashboard's: no mode of this app binds them.
            Action::TogglePause
            | Action::ResetStats
            | Action::FailureEarlier
            | Action::FailureLater
            | Action::OpenFailure
            | Action::CloseFailure => {}
        }
        None
    }

    /// Esc in the main view: a running replay is cancelled first (it may sleep for long), an
    /// expanded detail collapses, and only then does Esc quit.
    fn back(&mut self) -> Option<Command> {
        let replaying = self.is_running() && self.attempts.last().is_some_and(|a| a.is_replay());
        if replaying {
            return self.cancel();
        }
        if self.expanded {
            self.expanded = false;
            return None;
        }
        Some(Command::Quit(QuitReason::User))
    }

    /// The editor's actions: ↑/↓ a field, +/- or ←/→ a step, Enter edits (commits while
    /// typing), Esc cancels the typing, then closes. The settings change at once; the next
    /// `r` uses them.
    fn editor_act(&mut self, action: Action) {
        if action == Action::CloseEditor {
            self.editor = None;
            return;
        }
        let Some(ed) = self.editor.as_mut() else {
            return;
        };
        let s = &mut self.replay;
        let field = ed.selected();
        let n = super::replay::Field::ALL.len();
        let choice = field.kind() == FieldKind::Choice;
        match action {
            Action::CommitEdit => ed.commit(s),
            Action::CancelEdit => ed.cancel(),
            Action::PreviousField => ed.field = (ed.field + n - 1) % n,
            Action::NextField => ed.field = (ed.field + 1) % n,
            Action::FirstField => ed.field = 0,
            Action::LastField => ed.field = n - 1,
            Action::StepUp | Action::StepDown => {
                ed.error = None;
                field.step(s, action == Action::StepUp);
            }
            // A choice has no text to type: Enter and space step it.
            Action::EditField | Action::SpaceOnField if choice => field.step(s, true),
            Action::EditField => ed.begin(s, None),
            Action::SpaceOnField => ed.begin(s, Some(' ')),
            _ => {}
        }
    }

    /// A key the editor's bindings do not name: typed into the value being edited, or the
    /// first character of a new value (a choice field takes no text).
    fn editor_text(&mut self, key: KeyEvent) {
        let Some(ed) = self.editor.as_mut() else {
            return;
        };
        if let Some(text) = ed.editing.as_mut() {
            match key.code {
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) if !c.is_control() => text.push(c),
                _ => {}
            }
            return;
        }
        if let KeyCode::Char(c) = key.code
            && ed.selected().kind() != FieldKind::Choice
            && !c.is_control()
        {
            ed.begin(&self.replay, Some(c));
        }
    }

    /// ↑/↓: the selection in the stage list, an attempt in the session's list, or the scroll
    /// of the focused panel (or of the export, when it is open).
    fn move_by(&mut self, delta: i32) {
        let timeline = self.attempts.last().is_some_and(|a| a.is_replay());
        if self.focus == Focus::Attempts && !timeline && !self.export && !self.attempts.is_empty() {
            self.view_attempt(delta);
            return;
        }
        if self.focus != Focus::Stages || self.export {
            self.scroll_focused(delta);
            return;
        }
        let rows = self.rows();
        if rows.is_empty() {
            return;
        }
        let current = self
            .selected()
            .and_then(|s| rows.iter().position(|(n, _)| *n == s))
            .unwrap_or(0) as i64;
        let next = (current + delta as i64).clamp(0, rows.len() as i64 - 1) as usize;
        let stage = rows[next].0;
        if self.chosen != Some(stage) {
            self.scroll.detail = 0;
        }
        self.chosen = Some(stage);
    }

    /// Pick the attempt `delta` rows down the Attempts list (newest first, so down is older);
    /// the newest one is the current view again.
    fn view_attempt(&mut self, delta: i32) {
        let newest_first: Vec<u32> = self.attempts.iter().rev().map(|a| a.n).collect();
        let current = self.shown().map(|a| a.n).unwrap_or(0);
        let at = newest_first.iter().position(|n| *n == current).unwrap_or(0) as i64;
        let next = (at + delta as i64).clamp(0, newest_first.len() as i64 - 1) as usize;
        let n = newest_first[next];
        self.viewed = (n != self.attempt()).then_some(n);
        self.chosen = None;
        self.scroll.detail = 0;
        self.scroll.verdict = 0;
        // The attempts panel scrolls with the pick, so the picked row stays in view.
        self.scroll.attempts = (next as u16).min(self.max_scroll.get().2);
    }

    fn scroll_focused(&mut self, delta: i32) {
        if self.export {
            let max = self.export_max.get();
            let next = (self.scroll.export as i64 + delta as i64).clamp(0, max as i64);
            self.scroll.export = next as u16;
            return;
        }
        let (max_d, max_v, max_a) = self.max_scroll.get();
        let (offset, max) = match self.focus {
            // PageUp/PageDown on the stage list scroll the detail beside it.
            Focus::Stages | Focus::Detail => (&mut self.scroll.detail, max_d),
            Focus::Verdict => (&mut self.scroll.verdict, max_v),
            Focus::Attempts => (&mut self.scroll.attempts, max_a),
            Focus::Then => (&mut self.scroll.then, self.then_max.get()),
        };
        let next = (*offset as i64 + delta as i64).clamp(0, max as i64);
        *offset = next as u16;
    }

    /// The exit code of the dashboard: the current run's verdict, or "interrupted" when it
    /// had not finished (a cancelled replay's report is of the attempts so far).
    pub fn exit_code(&self) -> i32 {
        match self.report() {
            Some(r) if !self.was_cut() => r.verdict.exit_code as i32,
            _ => crate::engine::verdict::exit::INTERRUPTED as i32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ProbeSettings;
    use crossterm::event::KeyModifiers;

    fn app() -> (App, Instant) {
        let t0 = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let mut app = App::new(header, t0);
        assert_eq!(app.start(t0), Command::Run { attempt: 1 });
        (app, t0)
    }

    fn key(c: KeyCode) -> Event {
        Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    fn ev(app: &mut App, event: ProbeEvent, at: Instant) {
        let attempt = app.attempt();
        assert_eq!(app.update(Event::Probe { attempt, event, at }), None);
    }

    fn finished(stage: Stage, ok: bool, summary: &str) -> ProbeEvent {
        ProbeEvent::StageFinished {
            stage,
            ok,
            elapsed: Duration::from_millis(2),
            summary: summary.into(),
        }
    }

    /// A report like the engine's for a refused port (built for real, no network needed).
    fn refused_report() -> Report {
        let mut r = crate::tui::sample::report_tcp_refused();
        r.url = "https://127.0.0.1:1/".into();
        r
    }

    #[test]
    fn arrows_on_attempts_show_an_older_attempt_and_r_goes_back_to_the_new_one() {
        let (mut app, t0) = app();
        let done = |app: &mut App, n: u32, report: Report| {
            app.update(Event::Finished {
                attempt: n,
                report: Box::new(report),
                at: t0,
            });
        };
        done(&mut app, 1, refused_report());
        app.update(key(KeyCode::Char('r')));
        let mut ok = crate::tui::sample::report_tcp_refused();
        ok.verdict.exit_code = 0;
        ok.stages.retain(|s| s.stage != Stage::Tls);
        done(&mut app, 2, ok);
        // Tab to the Attempts panel (stages → detail → verdict → attempts).
        for _ in 0..3 {
            app.update(key(KeyCode::Tab));
        }
        assert_eq!(app.focus, Focus::Attempts);
        assert_eq!(app.shown().map(|a| a.n), Some(2));
        assert!(!app.rows().iter().any(|(s, _)| *s == Stage::Tls));
        app.update(key(KeyCode::Down));
        assert_eq!(app.viewed, Some(1), "down the list is older");
        assert_eq!(app.shown().map(|a| a.n), Some(1));
        assert!(
            app.rows().iter().any(|(s, _)| *s == Stage::Tls),
            "its stages"
        );
        assert_eq!(app.shown_report().map(|r| r.verdict.exit_code), Some(5));
        // The current attempt still decides the exit code and the printed report.
        assert_eq!(app.exit_code(), 0);
        app.update(key(KeyCode::Down));
        assert_eq!(app.viewed, Some(1), "stops at the oldest");
        app.update(key(KeyCode::Up));
        assert_eq!(app.viewed, None, "the newest is the current view");
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Char('r')));
        assert_eq!(app.viewed, None, "a new run is shown live");
        assert_eq!(app.shown().map(|a| a.n), Some(3));
    }

    #[test]
    fn ctrl_z_asks_the_loop_to_suspend_in_every_mode() {
        let (mut app, _) = app();
        let ctrl_z = Event::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
        assert_eq!(app.update(ctrl_z.clone()), Some(Command::Suspend));
        app.update(key(KeyCode::Char('?')));
        assert_eq!(app.update(ctrl_z), Some(Command::Suspend));
    }

    #[test]
    fn server_bytes_reach_the_screen_escaped() {
        let (mut app, t0) = app();
        // A live summary quoting the server (a reason phrase, an alert).
        ev(
            &mut app,
            finished(Stage::Http, false, "503 \u{1b}]0;x\u{7}\r\u{202e}"),
            t0,
        );
        let http = app.live.iter().find(|s| s.stage == Stage::Http);
        assert_eq!(
            http.map(|s| s.summary.as_str()),
            Some("503 \\x1b]0;x\\x07\\r\\u{202e}")
        );
        let mut report = refused_report();
        report.verdict.summary = "refused\u{1b}[2J\u{9b}".into();
        app.update(Event::Finished {
            attempt: 1,
            report: Box::new(report),
            at: t0,
        });
        let shown = app.report().map(|r| r.verdict.summary.clone());
        assert_eq!(shown.as_deref(), Some("refused\\x1b[2J\\x9b"));
    }

    #[test]
    fn the_first_attempt_starts_with_every_engine_stage_waiting() {
        let (app, _) = app();
        assert!(app.is_running());
        assert_eq!(app.attempt(), 1);
        let stages: Vec<Stage> = app.live.iter().map(|s| s.stage).collect();
        assert_eq!(stages, Stage::ALL);
        assert!(app.live.iter().all(|s| s.status == Status::Waiting));
        // The URL row is hidden while it is fine; DNS leads.
        assert_eq!(app.rows().first().map(|r| r.0), Some(Stage::Dns));
    }

    #[test]
    fn stage_events_move_rows_through_their_states() {
        let (mut app, t0) = app();
        let t1 = t0 + Duration::from_millis(5);
        ev(&mut app, ProbeEvent::StageStarted { stage: Stage::Dns }, t1);
        let dns = &app.live[1];
        assert_eq!((dns.status, dns.started), (Status::Running, Some(t1)));
        assert_eq!(app.selected(), Some(Stage::Dns), "follows the probe");
        ev(&mut app, finished(Stage::Dns, true, "1 address(es)"), t1);
        assert_eq!(app.live[1].status, Status::Ok);
        assert_eq!(app.live[1].summary, "1 address(es)");
        assert_eq!(app.live[1].elapsed, Some(Duration::from_millis(2)));
        ev(
            &mut app,
            ProbeEvent::StageSkipped {
                stage: Stage::Tls,
                reason: "http:// URL".into(),
            },
            t1,
        );
        let tls = app.live.iter().find(|s| s.stage == Stage::Tls);
        assert_eq!(tls.map(|s| s.status), Some(Status::Skipped));
        ev(&mut app, finished(Stage::Tcp, false, "refused"), t1);
        assert_eq!(app.selected(), Some(Stage::Tcp), "the failure");
    }

    #[test]
    fn connect_attempts_are_listed_live_and_summarised_on_the_tcp_row() {
        let (mut app, t0) = app();
        ev(&mut app, ProbeEvent::StageStarted { stage: Stage::Tcp }, t0);
        ev(
            &mut app,
            ProbeEvent::ConnectAttempt {
                addr: "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!()),
                ok: false,
                elapsed: Duration::from_millis(1),
                detail: "connection refused".into(),
            },
            t0,
        );
        assert_eq!(app.live_connects.len(), 1);
        let tcp = app.live.iter().find(|s| s.stage == Stage::Tcp);
        assert_eq!(
            tcp.map(|s| s.summary.as_str()),
            Some("127.0.0.1:1: connection refused (1 tried)")
        );
    }

    #[test]
    fn the_finished_event_and_the_report_end_the_attempt() {
        let (mut app, t0) = app();
        ev(&mut app, ProbeEvent::Finished, t0);
        assert!(app.is_running(), "running until the report arrives");
        let report = Box::new(refused_report());
        app.update(Event::Finished {
            attempt: 1,
            report,
            at: t0,
        });
        assert!(!app.is_running());
        assert_eq!(app.exit_code(), 5);
        assert_eq!(app.selected(), Some(Stage::Tcp));
        // Rows now come from the report.
        let tcp = app.rows().into_iter().find(|r| r.0 == Stage::Tcp);
        assert_eq!(tcp.map(|r| r.1), Some(Status::Failed));
    }

    #[test]
    fn a_crashed_probe_is_shown_not_fatal() {
        let (mut app, t0) = app();
        let cmd = app.update(Event::Crashed {
            attempt: 1,
            message: "boom".into(),
            at: t0,
        });
        assert_eq!(cmd, None);
        assert!(matches!(
            app.attempts[0].state,
            AttemptState::Crashed { .. }
        ));
        assert_eq!(app.exit_code(), 130);
    }

    #[test]
    fn a_stage_starting_again_is_a_new_hop() {
        let (mut app, t0) = app();
        ev(&mut app, ProbeEvent::StageStarted { stage: Stage::Url }, t0);
        ev(&mut app, finished(Stage::Url, true, "ok"), t0);
        ev(&mut app, ProbeEvent::StageStarted { stage: Stage::Tcp }, t0);
        ev(&mut app, finished(Stage::Tcp, true, "connected"), t0);
        assert_eq!(app.hops, 0);
        ev(&mut app, ProbeEvent::StageStarted { stage: Stage::Url }, t0);
        assert_eq!(app.hops, 1);
        let tcp = app.live.iter().find(|s| s.stage == Stage::Tcp);
        assert_eq!(tcp.map(|s| s.status), Some(Status::Waiting));
        let url = app.live.iter().find(|s| s.stage == Stage::Url);
        assert_eq!(url.map(|s| s.status), Some(Status::Running));
    }

    #[test]
    fn an_unknown_stage_gets_a_row_of_its_own() {
        let (mut app, t0) = app();
        app.live.retain(|s| s.stage != Stage::Http);
        ev(
            &mut app,
            ProbeEvent::StageStarted { stage: Stage::Http },
            t0,
        );
        assert!(app.rows().iter().any(|r| r.0 == Stage::Http));
    }

    #[test]
    fn r_cancels_the_running_attempt_and_starts_the_next() {
        let (mut app, t0) = app();
        ev(&mut app, ProbeEvent::StageStarted { stage: Stage::Tcp }, t0);
        let later = t0 + Duration::from_millis(300);
        app.update(Event::Tick(later));
        assert_eq!(
            app.update(key(KeyCode::Char('r'))),
            Some(Command::Run { attempt: 2 })
        );
        assert_eq!(app.attempt(), 2);
        assert_eq!(
            app.attempts[0].state,
            AttemptState::Cancelled {
                after: Duration::from_millis(300)
            }
        );
        assert!(app.live.iter().all(|s| s.status == Status::Waiting));
        // A late event of attempt 1 changes nothing.
        app.update(Event::Probe {
            attempt: 1,
            event: finished(Stage::Tcp, false, "late"),
            at: later,
        });
        assert!(app.live.iter().all(|s| s.status == Status::Waiting));
        // Nor does a late report of attempt 1.
        app.update(Event::Finished {
            attempt: 1,
            report: Box::new(refused_report()),
            at: later,
        });
        assert!(app.is_running());
    }

    #[test]
    fn r_after_a_finished_attempt_keeps_it_in_the_list() {
        let (mut app, t0) = app();
        app.update(Event::Finished {
            attempt: 1,
            report: Box::new(refused_report()),
            at: t0,
        });
        app.update(key(KeyCode::Char('r')));
        assert!(matches!(app.attempts[0].state, AttemptState::Done { .. }));
        assert!(app.is_running());
        assert_eq!(
            app.exit_code(),
            130,
            "the current attempt has no verdict yet"
        );
    }

    #[test]
    fn arrows_and_jk_move_the_selection_within_the_rows() {
        let (mut app, t0) = app();
        app.update(Event::Finished {
            attempt: 1,
            report: Box::new(refused_report()),
            at: t0,
        });
        let rows: Vec<Stage> = app.rows().into_iter().map(|r| r.0).collect();
        assert_eq!(rows, [Stage::Dns, Stage::Tcp, Stage::Tls, Stage::Http]);
        app.update(key(KeyCode::Down));
        assert_eq!(app.selected(), Some(Stage::Tls));
        app.update(key(KeyCode::Char('j')));
        app.update(key(KeyCode::Char('j')));
        assert_eq!(app.selected(), Some(Stage::Http), "stops at the end");
        app.update(key(KeyCode::Char('k')));
        app.update(key(KeyCode::Up));
        assert_eq!(app.selected(), Some(Stage::Tcp));
        app.update(key(KeyCode::Home));
        assert_eq!(app.selected(), Some(Stage::Dns));
        app.update(key(KeyCode::End));
        assert_eq!(app.selected(), Some(Stage::Http));
    }

    #[test]
    fn tab_cycles_the_panels_and_arrows_then_scroll() {
        let (mut app, _) = app();
        app.max_scroll.set((3, 1, 0));
        app.update(key(KeyCode::Tab));
        assert_eq!(app.focus, Focus::Detail);
        for _ in 0..5 {
            app.update(key(KeyCode::Down));
        }
        assert_eq!(app.scroll.detail, 3, "stops at the end of the content");
        app.update(key(KeyCode::Up));
        assert_eq!(app.scroll.detail, 2);
        app.update(key(KeyCode::Tab));
        assert_eq!(app.focus, Focus::Verdict);
        app.update(key(KeyCode::PageDown));
        assert_eq!(app.scroll.verdict, 1);
        app.update(key(KeyCode::Tab));
        assert_eq!(app.focus, Focus::Attempts);
        app.update(key(KeyCode::Tab));
        assert_eq!(app.focus, Focus::Stages);
        app.update(key(KeyCode::BackTab));
        assert_eq!(app.focus, Focus::Attempts);
    }

    #[test]
    fn enter_expands_and_esc_collapses_before_quitting() {
        let (mut app, _) = app();
        app.update(key(KeyCode::Enter));
        assert!(app.expanded);
        assert_eq!(app.update(key(KeyCode::Esc)), None);
        assert!(!app.expanded);
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Enter));
        assert!(!app.expanded);
        assert_eq!(
            app.update(key(KeyCode::Esc)),
            Some(Command::Quit(QuitReason::User))
        );
    }

    #[test]
    fn question_mark_opens_help_and_any_key_closes_it() {
        let (mut app, _) = app();
        app.update(key(KeyCode::Char('?')));
        assert!(app.help);
        assert_eq!(app.update(key(KeyCode::Char('r'))), None, "modal");
        assert!(!app.help);
        app.update(key(KeyCode::Char('?')));
        assert_eq!(
            app.update(key(KeyCode::Char('q'))),
            Some(Command::Quit(QuitReason::User))
        );
    }

    #[test]
    fn q_ctrl_c_and_signals_quit() {
        let (mut app, _) = app();
        assert_eq!(
            app.update(key(KeyCode::Char('q'))),
            Some(Command::Quit(QuitReason::User))
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            app.update(Event::Key(ctrl_c)),
            Some(Command::Quit(QuitReason::User))
        );
        assert_eq!(
            app.update(Event::Signal),
            Some(Command::Quit(QuitReason::Signal))
        );
    }

    #[test]
    fn key_releases_and_resizes_change_nothing() {
        let (mut app, _) = app();
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(app.update(Event::Key(release)), None);
        assert_eq!(app.update(Event::Resize), None);
        assert_eq!(app.update(key(KeyCode::Char('z'))), None);
    }

    #[test]
    fn ticks_advance_the_clock_and_the_spinner() {
        let (mut app, t0) = app();
        let t1 = t0 + Duration::from_secs(1);
        app.update(Event::Tick(t1));
        assert_eq!((app.now, app.frame), (t1, 1));
    }
}

#[cfg(test)]
mod replay_tests {
    use super::*;
    use crate::engine::ProbeSettings;
    use crate::replay::policy::{PolicyKind, SleepReason};
    use crate::tui::replay::{Field, RunEnd, TrySummary};
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> Event {
        Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    fn retrying() -> ReplaySettings {
        ReplaySettings {
            total: Some(3),
            status_forcelist: vec![503],
            backoff_factor: 0.1,
            read_disabled: false,
            ..ReplaySettings::default()
        }
    }

    fn start_app(rs: ReplaySettings) -> (App, Instant) {
        let t0 = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("http://127.0.0.1:1/"));
        let mut app = App::new(header, t0).with_replay(rs, "http://127.0.0.1:1/");
        assert_eq!(app.start(t0), Command::Run { attempt: 1 });
        (app, t0)
    }

    fn summary(n: usize, ok: bool, sleep: Option<f64>) -> Box<TrySummary> {
        Box::new(TrySummary {
            number: n,
            ok,
            outcome: if ok { "HTTP 200" } else { "HTTP 503" }.into(),
            stages: vec![(Stage::Tcp, Status::Ok, Some(0.3))],
            elapsed: Duration::from_millis(3),
            sleep_after: sleep
                .map(|s| (Duration::from_secs_f64(s), SleepReason::Backoff(n as u32))),
        })
    }

    /// Attempt 1 of run 1 ran its TCP stage, failed, and the policy sleeps `sleep` seconds.
    fn first_attempt_failed(app: &mut App, t0: Instant, sleep: f64) {
        app.update(Event::Probe {
            attempt: 1,
            event: ProbeEvent::StageStarted { stage: Stage::Tcp },
            at: t0,
        });
        app.update(Event::Probe {
            attempt: 1,
            event: ProbeEvent::Finished,
            at: t0,
        });
        app.update(Event::Try {
            attempt: 1,
            summary: summary(1, false, Some(sleep)),
            at: t0,
        });
    }

    /// Between attempts the rows show the attempt that ended: the stages it did not reach
    /// say so, not "waiting" as if they were about to run.
    #[test]
    fn during_the_sleep_the_stages_an_attempt_did_not_reach_are_not_waiting() {
        let (mut app, t0) = start_app(retrying());
        first_attempt_failed(&mut app, t0, 2.0);
        assert!(app.attempts[0].sleeping.is_some());
        let status =
            |app: &App, stage| app.live.iter().find(|s| s.stage == stage).map(|s| s.status);
        for stage in [Stage::Tls, Stage::Http] {
            assert_eq!(status(&app, stage), Some(Status::NotRun), "{stage:?}");
        }
    }

    #[test]
    fn the_run_keeps_a_copy_of_the_settings() {
        let (mut app, _) = start_app(retrying());
        assert_eq!(app.run_settings(), &retrying());
        app.replay.total = Some(5);
        assert_eq!(
            app.run_settings().total,
            Some(3),
            "the next r uses the edit"
        );
        app.update(key(KeyCode::Char('r')));
        assert_eq!(app.run_settings().total, Some(5));
    }

    #[test]
    fn attempts_fill_the_timeline_and_the_sleep_counts_down() {
        let (mut app, t0) = start_app(retrying());
        first_attempt_failed(&mut app, t0, 0.2);
        let run = &app.attempts[0];
        assert_eq!(run.tries.len(), 1);
        let sleeping = run.sleeping.as_ref().map(|s| s.until);
        assert_eq!(sleeping, Some(t0 + Duration::from_millis(200)));
        // The next attempt's first event: the sleep is over, the rows start again.
        app.update(Event::Probe {
            attempt: 1,
            event: ProbeEvent::StageStarted { stage: Stage::Dns },
            at: t0,
        });
        assert!(app.attempts[0].sleeping.is_none());
        let tcp = app.live.iter().find(|s| s.stage == Stage::Tcp);
        assert_eq!(tcp.map(|s| s.status), Some(Status::Waiting));
        app.update(Event::Try {
            attempt: 1,
            summary: summary(2, true, None),
            at: t0,
        });
        let report = Box::new(crate::tui::sample::report_tcp_refused());
        app.update(Event::RunEnded {
            attempt: 1,
            report,
            end: RunEnd {
                success_on: Some(2),
                message: "returns the 200 response".into(),
                total: Duration::from_millis(250),
            },
            at: t0,
        });
        assert!(!app.is_running());
        assert_eq!(app.attempts[0].tries.len(), 2);
        assert_eq!(
            app.attempts[0].end.as_ref().and_then(|e| e.success_on),
            Some(2)
        );
        // A late attempt of an ended run is not added.
        app.update(Event::Try {
            attempt: 1,
            summary: summary(3, true, None),
            at: t0,
        });
        assert_eq!(app.attempts[0].tries.len(), 2);
    }

    #[test]
    fn c_and_esc_cancel_a_replay_and_esc_quits_after() {
        let (mut app, t0) = start_app(retrying());
        app.update(Event::Try {
            attempt: 1,
            summary: summary(1, false, Some(5.0)),
            at: t0,
        });
        app.update(Event::Tick(t0 + Duration::from_millis(100)));
        assert_eq!(app.update(key(KeyCode::Esc)), Some(Command::Cancel));
        assert!(matches!(
            app.attempts[0].state,
            AttemptState::Cancelled { .. }
        ));
        assert!(app.attempts[0].sleeping.is_none());
        assert_eq!(app.update(key(KeyCode::Char('c'))), None, "nothing runs");
        assert_eq!(
            app.update(key(KeyCode::Esc)),
            Some(Command::Quit(QuitReason::User))
        );
        let (mut other, _) = start_app(retrying());
        assert_eq!(other.update(key(KeyCode::Char('c'))), Some(Command::Cancel));
    }

    /// The header's words, as drawn.
    fn header_text(app: &App) -> String {
        let theme = super::super::theme::Theme {
            color: false,
            ascii: false,
        };
        super::super::panels::header::lines(app, &theme, 100)[0]
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect()
    }

    #[test]
    fn the_run_clock_starts_when_the_loop_starts_the_run() {
        let (mut app, t0) = start_app(ReplaySettings::default());
        app.update(Event::Finished {
            attempt: 1,
            report: Box::new(crate::tui::sample::report_tcp_refused()),
            at: t0,
        });
        // Idle for 15 s: no event moved `now`. Then `r`, and the loop starts the run.
        let pressed = t0 + Duration::from_secs(15);
        assert_eq!(
            app.update(key(KeyCode::Char('r'))),
            Some(Command::Run { attempt: 2 })
        );
        app.update(Event::Started {
            attempt: 2,
            at: pressed,
        });
        app.update(Event::Tick(pressed + Duration::from_millis(300)));
        let header = header_text(&app);
        assert!(header.contains("run 2 · running 300 ms"), "{header}");
        // A cancelled run's total is its own too.
        app.update(key(KeyCode::Char('c')));
        assert_eq!(
            app.attempts[1].state,
            AttemptState::Cancelled {
                after: Duration::from_millis(300)
            }
        );
        // A Started for a run that is no longer running changes nothing.
        app.update(Event::Started {
            attempt: 2,
            at: pressed,
        });
        assert!(!app.is_running());
    }

    #[test]
    fn the_header_numbers_runs_and_attempts_apart() {
        let (mut app, t0) = start_app(retrying());
        assert!(header_text(&app).contains("run 1 · attempt 1 of 4 · running"));
        app.update(Event::Try {
            attempt: 1,
            summary: summary(1, false, Some(0.2)),
            at: t0,
        });
        assert!(header_text(&app).contains("run 1 · waiting before attempt 2"));
        app.update(Event::Try {
            attempt: 1,
            summary: summary(2, true, None),
            at: t0,
        });
        app.update(Event::RunEnded {
            attempt: 1,
            report: Box::new(crate::tui::sample::report_tcp_refused()),
            end: RunEnd {
                success_on: Some(2),
                message: "returns the 200 response".into(),
                total: Duration::from_millis(250),
            },
            at: t0,
        });
        let header = header_text(&app);
        assert!(
            header.contains("run 1 · ok on attempt 2 · 250 ms"),
            "{header}"
        );
    }

    #[test]
    fn a_cancelled_replay_keeps_what_it_found_and_the_part_of_the_sleep_it_slept() {
        let (mut app, t0) = start_app(retrying());
        first_attempt_failed(&mut app, t0, 2.0);
        app.update(Event::Tick(t0 + Duration::from_millis(500)));
        assert_eq!(app.update(key(KeyCode::Char('c'))), Some(Command::Cancel));
        let run = &app.attempts[0];
        assert_eq!(run.sleep_cut, Some(Duration::from_millis(500)));
        assert!(run.sleeping.is_none());
        // No stage is left "waiting" for a run that is over.
        assert!(
            app.live
                .iter()
                .all(|s| !matches!(s.status, Status::Waiting | Status::Running)),
            "{:?}",
            app.live
        );
        // The loop hands over the report of the attempts made: shown, printed, exit 130.
        let report = Box::new(crate::tui::sample::report_tcp_refused());
        app.update(Event::Cut {
            attempt: 1,
            report: Some(report),
            at: t0 + Duration::from_millis(510),
        });
        assert!(app.report().is_some());
        assert!(app.was_cut());
        assert_eq!(app.exit_code(), 130);
        let theme = super::super::theme::Theme {
            color: false,
            ascii: false,
        };
        let timeline: Vec<String> = super::super::panels::attempts::lines(&app, &theme, 80)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(
            timeline[0].contains("cancelled after 1 attempt"),
            "{timeline:?}"
        );
        assert!(
            timeline[1].contains("slept 500 ms of 2.00 s, cancelled"),
            "{timeline:?}"
        );
    }

    #[test]
    fn quitting_mid_run_cuts_it_and_keeps_its_attempts() {
        let (mut app, t0) = start_app(retrying());
        app.update(Event::Try {
            attempt: 1,
            summary: summary(1, false, Some(5.0)),
            at: t0,
        });
        assert_eq!(
            app.update(key(KeyCode::Char('q'))),
            Some(Command::Quit(QuitReason::User))
        );
        // The loop cuts the run on its way out.
        app.update(Event::Cut {
            attempt: 1,
            report: Some(Box::new(crate::tui::sample::report_tcp_refused())),
            at: t0 + Duration::from_secs(1),
        });
        assert_eq!(
            app.attempts[0].state,
            AttemptState::Cancelled {
                after: Duration::from_secs(1)
            }
        );
        assert!(app.report().is_some());
    }

    #[test]
    fn without_retries_esc_still_quits_while_running() {
        let (mut app, _) = start_app(ReplaySettings::default());
        assert_eq!(
            app.update(key(KeyCode::Esc)),
            Some(Command::Quit(QuitReason::User))
        );
    }

    #[test]
    fn the_editor_moves_steps_types_and_closes() {
        let (mut app, _) = start_app(ReplaySettings::default());
        app.update(key(KeyCode::Char('e')));
        assert!(app.editor.is_some());
        // Policy first: ←/→ and space cycle.
        app.update(key(KeyCode::Right));
        assert_eq!(app.replay.policy, PolicyKind::Loop);
        app.update(key(KeyCode::Char(' ')));
        assert_eq!(app.replay.policy, PolicyKind::Curl);
        app.update(key(KeyCode::Left));
        app.update(key(KeyCode::Left));
        assert_eq!(app.replay.policy, PolicyKind::Urllib3);
        // Down to retries total; +/- step.
        let total = Field::ALL
            .iter()
            .position(|f| *f == Field::Total)
            .unwrap_or(0);
        for _ in 0..total {
            app.update(key(KeyCode::Down));
        }
        assert_eq!(
            app.editor.as_ref().map(|e| e.selected()),
            Some(Field::Total)
        );
        app.update(key(KeyCode::Char('+')));
        app.update(key(KeyCode::Char('+')));
        assert_eq!(app.replay.total, Some(2));
        app.update(key(KeyCode::Char('-')));
        assert_eq!(app.replay.total, Some(1));
        // Typing replaces the value; Enter commits.
        app.update(key(KeyCode::Char('4')));
        app.update(key(KeyCode::Backspace));
        app.update(key(KeyCode::Char('7')));
        assert_eq!(app.replay.total, Some(1), "not yet");
        app.update(key(KeyCode::Enter));
        assert_eq!(app.replay.total, Some(7));
        // Esc cancels an edit, then closes the editor; q inside is text, not quit.
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Char('9')));
        assert_eq!(app.update(key(KeyCode::Char('q'))), None);
        app.update(key(KeyCode::Esc));
        assert_eq!(app.replay.connect, None, "cancelled");
        assert!(app.editor.is_some());
        app.update(key(KeyCode::Up));
        app.update(key(KeyCode::Up));
        assert_eq!(
            app.editor.as_ref().map(|e| e.selected()),
            Some(Field::DnsTimeout)
        );
        // A bad value is refused with a reason, and stays to be corrected; Esc drops it.
        app.update(key(KeyCode::Char('x')));
        app.update(key(KeyCode::Enter));
        assert!(app.editor.as_ref().is_some_and(|e| e.error.is_some()));
        assert_eq!(
            app.editor.as_ref().and_then(|e| e.editing.as_deref()),
            Some("x")
        );
        assert_eq!(app.replay.dns_timeout, Duration::from_secs(5));
        app.update(key(KeyCode::Esc));
        assert!(app.editor.as_ref().is_some_and(|e| e.error.is_none()));
        // Up from the first field wraps to the last.
        for _ in 0..6 {
            app.update(key(KeyCode::Up));
        }
        assert_eq!(
            app.editor.as_ref().map(|e| e.selected()),
            Some(Field::RetryAfterMax)
        );
        app.update(key(KeyCode::Up));
        assert_eq!(
            app.editor.as_ref().map(|e| e.selected()),
            Some(Field::RetryAfter)
        );
        app.update(key(KeyCode::Char(' ')));
        assert!(!app.replay.respect_retry_after);
        app.update(key(KeyCode::Esc));
        assert!(app.editor.is_none());
        // The edits are what the next run uses.
        app.update(key(KeyCode::Char('r')));
        assert_eq!(app.run_settings().total, Some(7));
    }

    #[test]
    fn compare_opens_on_the_newest_runs_and_moves() {
        let (mut app, _) = start_app(ReplaySettings::default());
        for _ in 0..5 {
            app.update(key(KeyCode::Char('r')));
        }
        assert_eq!(app.attempts.len(), 6);
        app.update(key(KeyCode::Char('C')));
        assert_eq!(app.compare, Some(2), "the last four");
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Right));
        assert_eq!(
            app.compare,
            Some(2),
            "the last run stays the rightmost column"
        );
        // A narrower screen fits fewer runs: → goes on until the last one is in view.
        app.compare_fit.set(2);
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Right));
        app.update(key(KeyCode::Right));
        assert_eq!(app.compare, Some(4));
        for _ in 0..9 {
            app.update(key(KeyCode::Left));
        }
        assert_eq!(app.compare, Some(0));
        assert_eq!(app.update(key(KeyCode::Char('r'))), None, "modal");
        assert_eq!(app.compare, None, "other keys close it");
        app.update(key(KeyCode::Char('v')));
        assert!(app.compare.is_some());
    }

    #[test]
    fn x_opens_the_export_and_asks_for_the_clipboard() {
        let (mut app, _) = start_app(retrying());
        assert_eq!(
            app.update(key(KeyCode::Char('x'))),
            Some(Command::Clipboard)
        );
        assert!(app.export);
        assert_eq!(app.update(key(KeyCode::Char('r'))), None);
        assert!(!app.export);
    }
}

/// The key table as the app sees it: every binding, pressed through `update`, does something.
#[cfg(test)]
mod key_table_tests {
    use super::*;
    use crate::engine::ProbeSettings;
    use crate::tui::keys::{BINDINGS, Key, Scope};
    use crate::tui::replay::Field;
    use crossterm::event::KeyModifiers;

    fn press(app: &mut App, code: KeyCode) -> Option<Command> {
        app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// A key event for a table key; for "any other key", one that nothing binds.
    fn event_for(key: Key) -> KeyEvent {
        match key {
            Key::Plain(code) => KeyEvent::new(code, KeyModifiers::NONE),
            Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            Key::Other => KeyEvent::new(KeyCode::F(12), KeyModifiers::NONE),
        }
    }

    /// An app in `mode`, reached by keys alone, where every binding of the mode has something
    /// to change: a probe running, the second stage chosen, the detail scrolled, five runs to
    /// compare, the editor on a number field.
    fn app_in(mode: Mode) -> App {
        let t0 = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let mut app = App::new(header, t0);
        app.start(t0);
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::PageDown);
        let opening: &[KeyCode] = match mode {
            Mode::Main => &[],
            Mode::Help => &[KeyCode::Char('?')],
            // Six runs, the view one step back from the newest: ← and → both move.
            Mode::Compare => &[
                KeyCode::Char('r'),
                KeyCode::Char('r'),
                KeyCode::Char('r'),
                KeyCode::Char('r'),
                KeyCode::Char('r'),
                KeyCode::Char('C'),
                KeyCode::Left,
            ],
            // Scrolled a line: ↑ and ↓ both move.
            Mode::Export => &[KeyCode::Char('x'), KeyCode::Down],
            // Something typed: Backspace and Ctrl-U have a character to take.
            Mode::Paste => &[KeyCode::Char('p'), KeyCode::Char('x')],
            Mode::Editor => &[KeyCode::Char('e'), KeyCode::Down, KeyCode::Down],
            Mode::EditorTyping => &[
                KeyCode::Char('e'),
                KeyCode::Down,
                KeyCode::Down,
                KeyCode::Enter,
            ],
            Mode::Watch | Mode::WatchDetail | Mode::Reuse | Mode::ReuseExport => {
                panic!("{mode:?} is another dashboard's")
            }
        };
        for code in opening {
            press(&mut app, *code);
        }
        assert_eq!(app.key_mode(), mode);
        app
    }

    #[test]
    fn every_binding_is_reached_by_each_of_its_keys_and_changes_something() {
        for binding in BINDINGS {
            // The watch and reuse dashboards' modes are driven in their own modules' tests.
            let modes: Vec<Mode> = match binding.scope {
                Scope::Everywhere => Mode::ALL
                    .into_iter()
                    .filter(|m| !m.is_other_dashboard())
                    .collect(),
                Scope::Only(mode) if mode.is_other_dashboard() => continue,
                Scope::Only(mode) => vec![mode],
            };
            for mode in modes {
                for key in binding.keys {
                    // A key the mode binds itself is that binding's (the paste box's Ctrl-D).
                    let own = BINDINGS
                        .iter()
                        .any(|b| b.scope == Scope::Only(mode) && b.keys.contains(key));
                    if binding.scope == Scope::Everywhere && own {
                        continue;
                    }
                    let mut app = app_in(mode);
                    let event = event_for(*key);
                    assert_eq!(
                        keys::action_for(mode, &event),
                        Some(binding.action),
                        "{key:?} in {mode:?}"
                    );
                    let before = format!("{app:?}");
                    let command = app.update(Event::Key(event));
                    let changed = command.is_some() || format!("{app:?}") != before;
                    assert!(changed, "{key:?} in {mode:?} did nothing");
                }
            }
        }
    }

    #[test]
    fn enter_and_space_step_a_choice_field() {
        let mut app = app_in(Mode::Editor);
        press(&mut app, KeyCode::Home);
        assert_eq!(
            app.editor.as_ref().map(|e| e.selected()),
            Some(Field::Policy)
        );
        let policy = app.replay.policy;
        press(&mut app, KeyCode::Enter);
        assert_ne!(app.replay.policy, policy);
        assert_eq!(app.key_mode(), Mode::Editor, "no typing on a choice");
        press(&mut app, KeyCode::Char(' '));
        press(&mut app, KeyCode::Char('z'));
        assert_eq!(app.key_mode(), Mode::Editor, "a choice takes no text");
    }

    #[test]
    fn space_on_a_number_field_is_typed() {
        let mut app = app_in(Mode::Editor);
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(
            app.editor.as_ref().and_then(|e| e.editing.as_deref()),
            Some(" ")
        );
        press(&mut app, KeyCode::Char('+'));
        press(&mut app, KeyCode::Backspace);
        press(&mut app, KeyCode::Char('3'));
        assert_eq!(
            app.editor.as_ref().and_then(|e| e.editing.as_deref()),
            Some(" 3")
        );
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.replay.connect_timeout, Duration::from_secs(3));
    }

    #[test]
    fn esc_collapses_the_expanded_detail_before_it_quits() {
        let mut app = app_in(Mode::Main);
        press(&mut app, KeyCode::Char(' '));
        assert!(app.expanded);
        assert_eq!(press(&mut app, KeyCode::Esc), None);
        assert!(!app.expanded);
        assert_eq!(
            press(&mut app, KeyCode::Esc),
            Some(Command::Quit(QuitReason::User))
        );
    }
}

#[cfg(test)]
mod paste_tests {
    use super::*;
    use crate::engine::ProbeSettings;
    use crossterm::event::KeyModifiers;

    fn new_app() -> (App, Instant) {
        let t0 = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("https://127.0.0.1:1/"));
        let mut app = App::new(header, t0);
        app.start(t0);
        (app, t0)
    }

    fn press(app: &mut App, code: KeyCode) -> Option<Command> {
        app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn corpus(name: &str) -> String {
        let path = format!(
            "{}/tests/explain/corpus/{name}.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn p_opens_the_box_a_paste_fills_it_and_esc_closes_it() {
        let (mut app, _) = new_app();
        assert_eq!(press(&mut app, KeyCode::Char('p')), None);
        assert_eq!(app.key_mode(), Mode::Paste);
        // Line breaks pasted as CR (as terminals and tmux send them) or CR LF are lines.
        app.update(Event::Paste("line one\rline two\r\n".into()));
        assert_eq!(
            app.paste.as_ref().map(|p| p.text.as_str()),
            Some("line one\nline two\n")
        );
        // q and r are text here, not quit and run.
        assert_eq!(press(&mut app, KeyCode::Char('q')), None);
        assert_eq!(press(&mut app, KeyCode::Char('r')), None);
        assert!(app.paste.as_ref().is_some_and(|p| p.text.ends_with("qr")));
        press(&mut app, KeyCode::Backspace);
        assert!(app.paste.as_ref().is_some_and(|p| p.text.ends_with("\nq")));
        assert_eq!(press(&mut app, KeyCode::Esc), None);
        assert_eq!(app.paste, None);
        assert_eq!(app.key_mode(), Mode::Main);
        assert_eq!(app.attempts.len(), 1, "no run started");
    }

    #[test]
    fn a_bracketed_paste_in_the_main_view_opens_the_box_with_it() {
        let (mut app, _) = new_app();
        app.update(Event::Paste("curl: (7) Failed".into()));
        assert_eq!(
            app.paste.as_ref().map(|p| p.text.as_str()),
            Some("curl: (7) Failed")
        );
        // Over help it is not taken (help closes on a key, not on a paste).
        let (mut helped, _) = new_app();
        press(&mut helped, KeyCode::Char('?'));
        helped.update(Event::Paste("x".into()));
        assert_eq!(helped.paste, None);
    }

    #[test]
    fn enter_on_junk_keeps_the_box_with_the_reason_and_no_probe() {
        let (mut app, _) = new_app();
        press(&mut app, KeyCode::Char('p'));
        assert_eq!(press(&mut app, KeyCode::Enter), None);
        let error = app.paste.as_ref().and_then(|p| p.error.clone());
        assert!(error.is_some_and(|e| e.contains("nothing pasted")));
        app.update(Event::Paste("hello, this is not an error at all\n".into()));
        assert_eq!(press(&mut app, KeyCode::Enter), None);
        let pb = app.paste.as_ref().expect("the box stays open");
        assert_eq!(pb.error.as_deref(), Some(crate::explain::UNRECOGNISED));
        assert_eq!(app.then, None, "never a guess");
        // Typing again clears the reason.
        press(&mut app, KeyCode::Char('x'));
        assert_eq!(app.paste.as_ref().and_then(|p| p.error.clone()), None);
    }

    #[test]
    fn enter_on_a_real_traceback_asks_for_its_probe_with_its_url_and_timeouts() {
        let (mut app, _) = new_app();
        press(&mut app, KeyCode::Char('p'));
        app.update(Event::Paste(corpus("requests_connect_timeout")));
        let command = press(&mut app, KeyCode::Enter);
        let Some(Command::Explain(plan)) = command else {
            panic!("no probe asked for: {command:?}");
        };
        assert_eq!(plan.url, "http://127.0.0.1:56041/slow");
        assert_eq!(plan.proxy, None);
        assert_eq!(plan.connect_timeout, Some(Duration::from_millis(500)));
        assert_eq!(plan.read_timeout, None);
        assert_eq!(app.paste, None, "the box closed");
        let then = app.then.as_ref().expect("the then panel");
        assert_eq!(then.probe, ThenProbe::Starting);
        assert_eq!(then.shown.kind.name(), "connect_timeout");
        // The loop switched the settings: the next run probes the paste's target.
        let target = ProbeSettings::new(plan.url.clone());
        let to = Retarget::of(&target, ReplaySettings::default());
        let run = app.update(Event::Retargeted(Box::new(to)));
        assert_eq!(run, Some(Command::Run { attempt: 2 }));
        assert_eq!(app.url, "http://127.0.0.1:56041/slow");
        assert_eq!(
            app.then.as_ref().map(|t| &t.probe),
            Some(&ThenProbe::From(2))
        );
    }

    #[test]
    fn ctrl_d_ends_the_paste_as_at_the_command_line_and_quits_elsewhere() {
        let (mut app, _) = new_app();
        let ctrl_d = Event::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
        press(&mut app, KeyCode::Char('p'));
        app.update(Event::Paste(corpus("curl_refused")));
        assert!(matches!(
            app.update(ctrl_d.clone()),
            Some(Command::Explain(_))
        ));
        assert_eq!(
            app.update(ctrl_d),
            Some(Command::Quit(QuitReason::User)),
            "the box closed: Ctrl-D quits again"
        );
    }

    #[test]
    fn explain_file_starts_with_the_then_panel_and_its_url_flag_stays_with_that_file() {
        let t0 = Instant::now();
        let header = HeaderInfo::from_settings(&ProbeSettings::new("http://127.0.0.1:9/"));
        let file = crate::explain::explain(&corpus("requests_refused"), false).expect("explained");
        let overrides = Overrides {
            url: Some("http://127.0.0.1:9/".into()),
            connect_timeout: Some(Duration::from_secs(3)),
            ..Overrides::default()
        };
        let mut app = App::new(header, t0).with_paste(overrides, Some(file));
        assert_eq!(app.start(t0), Command::Run { attempt: 1 });
        assert_eq!(
            app.then.as_ref().map(|t| &t.probe),
            Some(&ThenProbe::From(1))
        );
        // A later paste probes its own URL, with the command line's timeout.
        press(&mut app, KeyCode::Char('p'));
        app.update(Event::Paste(corpus("requests_connect_timeout")));
        let Some(Command::Explain(plan)) = press(&mut app, KeyCode::Enter) else {
            panic!("no probe asked for");
        };
        assert_eq!(plan.url, "http://127.0.0.1:56041/slow");
        assert_eq!(plan.connect_timeout, Some(Duration::from_secs(3)));
    }

    #[test]
    fn the_proxy_the_error_names_is_the_probes_proxy() {
        let (mut app, _) = new_app();
        press(&mut app, KeyCode::Char('p'));
        app.update(Event::Paste(corpus("requests_proxy_refused")));
        let Some(Command::Explain(plan)) = press(&mut app, KeyCode::Enter) else {
            panic!("no probe asked for");
        };
        assert_eq!(plan.url, "https://127.0.0.1:9/v2/orders");
        assert_eq!(plan.proxy.as_deref(), Some("http://127.0.0.1:58805"));
        // What the command line set wins over the paste (netpeel explain --proxy "").
        let (mut flagged, _) = new_app();
        flagged.paste_overrides.proxy = Some(String::new());
        press(&mut flagged, KeyCode::Char('p'));
        flagged.update(Event::Paste(corpus("requests_proxy_refused")));
        let Some(Command::Explain(plan)) = press(&mut flagged, KeyCode::Enter) else {
            panic!("no probe asked for");
        };
        assert_eq!(plan.proxy.as_deref(), Some(""));
    }

    #[test]
    fn a_paste_naming_no_host_is_explained_but_not_probed() {
        let (mut app, _) = new_app();
        press(&mut app, KeyCode::Char('p'));
        app.update(Event::Paste(
            "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))\n"
                .into(),
        ));
        assert_eq!(press(&mut app, KeyCode::Enter), None);
        let then = app.then.as_ref().expect("explained");
        assert!(matches!(&then.probe, ThenProbe::NotProbed(w) if w.contains("names no host")));
        assert_eq!(app.attempts.len(), 1, "no run started");
        // Settings the loop cannot build: the panel says why, nothing runs.
        app.update(Event::NotProbed("bad \u{1b}[2J proxy".into()));
        let then = app.then.as_ref().expect("explained");
        assert_eq!(
            then.probe,
            ThenProbe::NotProbed("bad \\x1b[2J proxy".into())
        );
    }

    /// Keys 1 ms apart: a terminal pasting without brackets.
    fn burst(app: &mut App, t: Instant, keys: &[KeyEvent]) -> Vec<Option<Command>> {
        keys.iter()
            .enumerate()
            .map(|(i, key)| {
                app.update(Event::KeyAt {
                    key: *key,
                    at: t + Duration::from_millis(i as u64),
                })
            })
            .collect()
    }

    #[test]
    fn an_unbracketed_paste_keeps_its_line_breaks_and_a_lone_enter_explains() {
        let (mut app, t0) = new_app();
        press(&mut app, KeyCode::Char('p'));
        let text = corpus("requests_connect_timeout");
        let mut keys: Vec<KeyEvent> = Vec::new();
        for c in text.chars() {
            keys.push(match c {
                '\n' => KeyEvent::from(KeyCode::Enter),
                c => KeyEvent::from(KeyCode::Char(c)),
            });
        }
        // Ctrl-C and Esc in a paste are characters, not quit and close.
        keys.push(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        keys.push(KeyEvent::from(KeyCode::Esc));
        let t1 = t0 + Duration::from_secs(1);
        let commands = burst(&mut app, t1, &keys);
        assert!(commands.iter().all(Option::is_none), "{commands:?}");
        let pb = app.paste.as_ref().expect("still open");
        assert_eq!(pb.text, format!("{text}\u{3}\u{1b}"));
        // The pasted Ctrl-C and Esc follow the last line break: a line of their own.
        assert_eq!(pb.line_count(), text.lines().count() + 1);
        // A person's Enter, well after the burst.
        let enter = Event::KeyAt {
            key: KeyEvent::from(KeyCode::Enter),
            at: t1 + Duration::from_millis(keys.len() as u64 + 500),
        };
        assert!(matches!(app.update(enter), Some(Command::Explain(_))));
    }

    #[test]
    fn tab_reaches_the_then_panel_only_while_there_is_one() {
        let (mut app, _) = new_app();
        let mut seen = Vec::new();
        for _ in 0..5 {
            press(&mut app, KeyCode::Tab);
            seen.push(app.focus);
        }
        assert!(!seen.contains(&Focus::Then), "{seen:?}");
        press(&mut app, KeyCode::Char('p'));
        app.update(Event::Paste(corpus("requests_refused")));
        press(&mut app, KeyCode::Enter);
        app.focus = Focus::Attempts;
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.focus, Focus::Then);
        press(&mut app, KeyCode::Enter);
        assert!(app.expanded, "Enter gives it the screen");
    }
}
