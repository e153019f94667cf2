//! The dashboard's keys, in one table: which key does what in which mode, how the `?` help
//! spells it and what the key bar says about it. The app looks a key up here and acts on the
//! [`Action`] it gets; the help and the key bar render from the same rows, so the three cannot
//! drift apart. The watch dashboard (`--watch`) and the reuse view (`--reuse-after`,
//! `--idle-sweep`) read their keys from the same table, in modes of their own.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the dashboard is showing, as far as keys are concerned: each mode has its own bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// The stage list and its panels, no overlay open.
    Main,
    /// The `?` overlay.
    Help,
    /// The `e` settings editor, moving between fields.
    Editor,
    /// The `e` settings editor while a field's value is being typed.
    EditorTyping,
    /// The `C`/`v` compare view.
    Compare,
    /// The `x` export overlay.
    Export,
    /// The `p` paste box: what is typed or pasted is the error to explain.
    Paste,
    /// The watch dashboard: the run's numbers and the timeline, its cursor on a failure.
    Watch,
    /// The watch dashboard showing one failed probe's full report.
    WatchDetail,
    /// The reuse view: the gaps, the selected gap's requests and idle countdown, the verdict.
    Reuse,
    /// The reuse view's `x` overlay: the fix for what was measured.
    ReuseExport,
}

impl Mode {
    #[cfg(test)]
    pub(crate) const ALL: [Mode; 11] = [
        Mode::Main,
        Mode::Help,
        Mode::Editor,
        Mode::EditorTyping,
        Mode::Compare,
        Mode::Export,
        Mode::Paste,
        Mode::Watch,
        Mode::WatchDetail,
        Mode::Reuse,
        Mode::ReuseExport,
    ];

    /// The watch dashboard's modes (the single-probe app is never in them).
    #[cfg(test)]
    pub(super) fn is_watch(self) -> bool {
        matches!(self, Mode::Watch | Mode::WatchDetail)
    }

    /// The modes of the dashboards other than the single-probe app (watch, reuse): they have
    /// no help overlay, their key bar names all their keys.
    #[cfg(test)]
    pub(super) fn is_other_dashboard(self) -> bool {
        self.is_watch() || matches!(self, Mode::Reuse | Mode::ReuseExport)
    }
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// In every mode, before the mode's own bindings (Ctrl-C must always get out).
    Everywhere,
    Only(Mode),
}

impl Scope {
    pub(super) fn covers(self, mode: Mode) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Only(m) => m == mode,
        }
    }
}

/// A key as the table names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Key {
    /// This key whatever modifiers are held: the dashboard has always read Shift-c as `C` and
    /// ignored Alt, so terminals that add modifiers of their own still work.
    Plain(KeyCode),
    /// The character with Ctrl held; it wins over a plain binding of the same character.
    Ctrl(char),
    /// Any key that no other binding of the mode takes ("any key closes it").
    Other,
}

/// What a key asks the app to do. Some actions depend on the state (Esc: cancel a replay,
/// else collapse, else quit): the app's handler decides, not the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Leave the dashboard (the report is printed).
    Quit,
    /// Ctrl-C (in raw mode no SIGINT comes): the main view quits; the watch ends its run as
    /// the signal would, so the summary says it was stopped.
    Interrupt,
    /// Ctrl-Z (in raw mode no SIGTSTP comes): give the terminal back and stop, as a shell job
    /// does; `fg` redraws.
    Suspend,
    /// The previous stage, or scroll the focused panel up a line.
    MoveUp,
    MoveDown,
    /// The first stage, or the top of the focused panel.
    MoveFirst,
    MoveLast,
    /// Scroll the focused panel (the detail, from the stage list) by a page.
    PageUp,
    PageDown,
    NextPanel,
    PreviousPanel,
    /// The focused panel (the detail, from the stage list) takes the whole body, or gives it
    /// back.
    ToggleExpand,
    /// Start the next run with the edited replay settings, cancelling one still running.
    Rerun,
    /// Stop the running probe or replay.
    Cancel,
    /// Esc in the main view: cancel a running replay, else collapse the expanded detail, else
    /// quit.
    Back,
    OpenHelp,
    OpenEditor,
    OpenCompare,
    OpenExport,
    CloseHelp,
    CloseCompare,
    CloseExport,
    /// Show one run further back (left) or forward (right) in the compare view.
    CompareEarlier,
    CompareLater,
    CloseEditor,
    PreviousField,
    NextField,
    FirstField,
    LastField,
    /// Step the selected field's value up (`+`, →) or down (`-`, ←).
    StepUp,
    StepDown,
    /// Enter on a field: a choice steps to its next value, other fields start being typed.
    EditField,
    /// Space on a field: a choice steps to its next value; on other fields a space is typed
    /// like any character.
    SpaceOnField,
    /// Enter while typing: the value is checked and set (or refused with a reason).
    CommitEdit,
    /// Esc while typing: the value stays as it was.
    CancelEdit,
    /// `p`: open the paste box.
    OpenPaste,
    /// Enter in the paste box (a lone Enter, not one inside a paste): explain the text and
    /// probe what it names; an unrecognised text keeps the box open with the reason.
    ExplainPaste,
    ClosePaste,
    /// Backspace in the paste box: the last character goes.
    DeletePasted,
    /// Ctrl-U in the paste box: start again.
    ClearPaste,
    /// Watch: `p`, no new probe starts until pressed again.
    TogglePause,
    /// Watch: `r`, the statistics start again.
    ResetStats,
    /// Watch: the timeline's cursor moves to the previous (older) or next failure; with a
    /// report open, that failure's report replaces it.
    FailureEarlier,
    FailureLater,
    /// Watch: the selected failure's full report (stages and verdict).
    OpenFailure,
    CloseFailure,
}

/// Text shown for a key, with the variant `--ascii` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Label {
    pub unicode: &'static str,
    pub ascii: &'static str,
}

impl Label {
    pub(super) const fn same(text: &'static str) -> Label {
        Label {
            unicode: text,
            ascii: text,
        }
    }

    pub(super) fn pick(self, ascii: bool) -> &'static str {
        if ascii { self.ascii } else { self.unicode }
    }
}

/// How the `?` overlay shows a binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Help {
    /// A row of its own: the keys as spelled there, and what they do.
    Row { keys: Label, text: &'static str },
    /// Described by the row of the binding just above it (↑ and ↓ share one row).
    WithAbove,
    /// A key of an overlay, which says in its own title or hints how it is used.
    InOverlay,
    /// A key of the watch dashboard or the reuse view, which have no help overlay: their key
    /// bar names their keys.
    InWatchBar,
}

/// What the key bar says next to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BarWords {
    Fixed(&'static str),
    /// One word while the stage list has the focus, the other while a panel does.
    ByFocus {
        stages: &'static str,
        panel: &'static str,
    },
    /// One word while the detail is in its place, the other while it is expanded.
    ByExpanded {
        collapsed: &'static str,
        expanded: &'static str,
    },
}

/// When the key bar shows a key (the bar has room for the keys that matter now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BarWhen {
    Always,
    WhileRunning,
    WhileIdle,
}

/// A key's entry in the key bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BarEntry {
    pub keys: Label,
    pub words: BarWords,
    pub when: BarWhen,
}

/// The state the key bar's words and choices depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BarState {
    pub stages_focused: bool,
    pub expanded: bool,
    pub running: bool,
}

impl BarEntry {
    pub(super) fn shown(&self, state: BarState) -> bool {
        match self.when {
            BarWhen::Always => true,
            BarWhen::WhileRunning => state.running,
            BarWhen::WhileIdle => !state.running,
        }
    }

    pub(super) fn words(&self, state: BarState) -> &'static str {
        match self.words {
            BarWords::Fixed(w) => w,
            BarWords::ByFocus { stages, panel } => {
                if state.stages_focused {
                    stages
                } else {
                    panel
                }
            }
            BarWords::ByExpanded {
                collapsed,
                expanded,
            } => {
                if state.expanded {
                    expanded
                } else {
                    collapsed
                }
            }
        }
    }
}

/// One row of the table: in `scope`, any of `keys` means `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub action: Action,
    pub help: Help,
    pub bar: Option<BarEntry>,
}

impl Binding {
    const fn new(scope: Scope, keys: &'static [Key], action: Action, help: Help) -> Binding {
        Binding {
            scope,
            keys,
            action,
            help,
            bar: None,
        }
    }

    /// The watch's bar shows all its keys all the time, in fixed words.
    const fn in_watch_bar(self, keys: Label, words: &'static str) -> Binding {
        self.in_bar(keys, BarWords::Fixed(words), BarWhen::Always)
    }

    const fn in_bar(self, keys: Label, words: BarWords, when: BarWhen) -> Binding {
        Binding {
            bar: Some(BarEntry { keys, words, when }),
            ..self
        }
    }
}

const fn row(keys: &'static str, text: &'static str) -> Help {
    Help::Row {
        keys: Label::same(keys),
        text,
    }
}

const MAIN: Scope = Scope::Only(Mode::Main);
const HELP: Scope = Scope::Only(Mode::Help);
const EDITOR: Scope = Scope::Only(Mode::Editor);
const TYPING: Scope = Scope::Only(Mode::EditorTyping);
const COMPARE: Scope = Scope::Only(Mode::Compare);
const EXPORT: Scope = Scope::Only(Mode::Export);
const PASTE: Scope = Scope::Only(Mode::Paste);
const WATCH: Scope = Scope::Only(Mode::Watch);
const WATCH_DETAIL: Scope = Scope::Only(Mode::WatchDetail);
const REUSE: Scope = Scope::Only(Mode::Reuse);
const REUSE_EXPORT: Scope = Scope::Only(Mode::ReuseExport);

const fn ch(c: char) -> Key {
    Key::Plain(KeyCode::Char(c))
}

const fn code(c: KeyCode) -> Key {
    Key::Plain(c)
}

/// Every binding. The `?` overlay lists the rows of the main view (and those that apply
/// everywhere) in this order, and the key bar shows its entries in this order too.
pub(super) const BINDINGS: &[Binding] = &[
    // The main view.
    Binding::new(
        MAIN,
        &[code(KeyCode::Up), ch('k')],
        Action::MoveUp,
        Help::Row {
            keys: Label {
                unicode: "↑/↓  j/k",
                ascii: "Up/Down j/k",
            },
            text: "select a stage or an attempt; scroll a panel",
        },
    )
    .in_bar(
        Label {
            unicode: "↑↓",
            ascii: "Up/Dn",
        },
        BarWords::ByFocus {
            stages: "select",
            panel: "scroll",
        },
        BarWhen::Always,
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::Down), ch('j')],
        Action::MoveDown,
        Help::WithAbove,
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::Enter), ch(' ')],
        Action::ToggleExpand,
        row("Enter", "expand the focused panel (again: back)"),
    )
    .in_bar(
        Label::same("Enter"),
        BarWords::ByExpanded {
            collapsed: "expand",
            expanded: "back",
        },
        BarWhen::Always,
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::Tab)],
        Action::NextPanel,
        row("Tab  S-Tab", "move between the panels"),
    )
    .in_bar(
        Label::same("Tab"),
        BarWords::Fixed("panel"),
        BarWhen::Always,
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::BackTab)],
        Action::PreviousPanel,
        Help::WithAbove,
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::PageUp)],
        Action::PageUp,
        row("PgUp PgDn", "scroll the detail (or the focused panel)"),
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::PageDown)],
        Action::PageDown,
        Help::WithAbove,
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::Home), ch('g')],
        Action::MoveFirst,
        row("Home  End", "first / last stage"),
    ),
    Binding::new(
        MAIN,
        &[code(KeyCode::End), ch('G')],
        Action::MoveLast,
        Help::WithAbove,
    ),
    Binding::new(
        MAIN,
        &[ch('r')],
        Action::Rerun,
        row("r", "run the probe again (replay settings; cancels)"),
    )
    .in_bar(
        Label::same("r"),
        BarWords::Fixed("run again"),
        BarWhen::Always,
    ),
    Binding::new(
        MAIN,
        &[ch('c')],
        Action::Cancel,
        row("c", "cancel the run (Esc too, during a replay)"),
    )
    .in_bar(
        Label::same("c"),
        BarWords::Fixed("cancel"),
        BarWhen::WhileRunning,
    ),
    Binding::new(
        MAIN,
        &[ch('e')],
        Action::OpenEditor,
        row("e", "replay settings: timeouts, retries, policy"),
    )
    .in_bar(
        Label::same("e"),
        BarWords::Fixed("replay"),
        BarWhen::WhileIdle,
    ),
    Binding::new(
        MAIN,
        &[ch('C'), ch('v')],
        Action::OpenCompare,
        row("C  v", "compare this session's runs side by side"),
    ),
    Binding::new(
        MAIN,
        &[ch('x')],
        Action::OpenExport,
        row("x", "export: Python requests, curl (clipboard)"),
    ),
    Binding::new(
        MAIN,
        &[ch('p')],
        Action::OpenPaste,
        row("p", "paste an error: explain it, probe what it names"),
    )
    .in_bar(Label::same("p"), BarWords::Fixed("paste"), BarWhen::Always),
    Binding::new(
        MAIN,
        &[ch('?'), code(KeyCode::F(1))],
        Action::OpenHelp,
        row("?", "this help; any key closes it"),
    )
    .in_bar(Label::same("?"), BarWords::Fixed("help"), BarWhen::Always),
    Binding::new(
        MAIN,
        &[ch('q')],
        Action::Quit,
        row("q  Esc", "quit and print the report (Esc: back first)"),
    )
    .in_bar(Label::same("q"), BarWords::Fixed("quit"), BarWhen::Always),
    Binding::new(MAIN, &[code(KeyCode::Esc)], Action::Back, Help::WithAbove),
    // Every mode; listed last in the help, after the main view's keys.
    Binding::new(
        Scope::Everywhere,
        &[Key::Ctrl('c'), Key::Ctrl('d')],
        Action::Interrupt,
        row("Ctrl-C", "quit"),
    ),
    Binding::new(
        Scope::Everywhere,
        &[Key::Ctrl('z')],
        Action::Suspend,
        row("Ctrl-Z", "suspend to the shell (fg: back)"),
    ),
    // The help overlay is modal: q still quits, any other key closes it.
    Binding::new(HELP, &[ch('q')], Action::Quit, Help::InOverlay),
    Binding::new(HELP, &[Key::Other], Action::CloseHelp, Help::InOverlay),
    // The compare view: ←/→ move, q quits, any other key closes it.
    Binding::new(
        COMPARE,
        &[code(KeyCode::Left), ch('h')],
        Action::CompareEarlier,
        Help::InOverlay,
    ),
    Binding::new(
        COMPARE,
        &[code(KeyCode::Right), ch('l')],
        Action::CompareLater,
        Help::InOverlay,
    ),
    Binding::new(COMPARE, &[ch('q')], Action::Quit, Help::InOverlay),
    Binding::new(
        COMPARE,
        &[Key::Other],
        Action::CloseCompare,
        Help::InOverlay,
    ),
    // The export overlay: ↑/↓ and the page keys scroll it (the curl half is below the Python
    // at 80×24), q quits, any other key closes it.
    Binding::new(
        EXPORT,
        &[code(KeyCode::Up), ch('k')],
        Action::MoveUp,
        Help::InOverlay,
    )
    .in_bar(ARROWS_UD, BarWords::Fixed("scroll"), BarWhen::Always),
    Binding::new(
        EXPORT,
        &[code(KeyCode::Down), ch('j')],
        Action::MoveDown,
        Help::InOverlay,
    ),
    Binding::new(
        EXPORT,
        &[code(KeyCode::PageUp)],
        Action::PageUp,
        Help::InOverlay,
    ),
    Binding::new(
        EXPORT,
        &[code(KeyCode::PageDown), ch(' ')],
        Action::PageDown,
        Help::InOverlay,
    ),
    Binding::new(EXPORT, &[ch('q')], Action::Quit, Help::InOverlay).in_bar(
        Label::same("q"),
        BarWords::Fixed("quit"),
        BarWhen::Always,
    ),
    Binding::new(EXPORT, &[Key::Other], Action::CloseExport, Help::InOverlay).in_bar(
        Label::same("any other key"),
        BarWords::Fixed("close"),
        BarWhen::Always,
    ),
    // The paste box. Other keys are text; keys that arrive in a burst (a terminal pasting
    // without brackets) are all text, their Enter a line break. Ctrl-D ends the paste, as
    // `netpeel explain` at a terminal asks (elsewhere it quits).
    Binding::new(
        PASTE,
        &[code(KeyCode::Enter), Key::Ctrl('d')],
        Action::ExplainPaste,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Enter/^D"),
        BarWords::Fixed("explain"),
        BarWhen::Always,
    ),
    Binding::new(
        PASTE,
        &[code(KeyCode::Esc)],
        Action::ClosePaste,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Esc"),
        BarWords::Fixed("close"),
        BarWhen::Always,
    ),
    Binding::new(
        PASTE,
        &[code(KeyCode::Backspace)],
        Action::DeletePasted,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Bksp"),
        BarWords::Fixed("delete"),
        BarWhen::Always,
    ),
    Binding::new(
        PASTE,
        &[Key::Ctrl('u')],
        Action::ClearPaste,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Ctrl-U"),
        BarWords::Fixed("clear"),
        BarWhen::Always,
    ),
    // The settings editor. Other characters are typed into the field (q too: no quitting
    // from a form).
    Binding::new(
        EDITOR,
        &[code(KeyCode::Up)],
        Action::PreviousField,
        Help::InOverlay,
    )
    .in_bar(ARROWS_UD, BarWords::Fixed("field"), BarWhen::Always),
    Binding::new(
        EDITOR,
        &[code(KeyCode::Down), code(KeyCode::Tab)],
        Action::NextField,
        Help::InOverlay,
    ),
    Binding::new(
        EDITOR,
        &[code(KeyCode::Home)],
        Action::FirstField,
        Help::InOverlay,
    ),
    Binding::new(
        EDITOR,
        &[code(KeyCode::End)],
        Action::LastField,
        Help::InOverlay,
    ),
    Binding::new(
        EDITOR,
        &[ch('+'), ch('='), code(KeyCode::Right)],
        Action::StepUp,
        Help::InOverlay,
    )
    .in_bar(Label::same("+/-"), BarWords::Fixed("step"), BarWhen::Always),
    Binding::new(
        EDITOR,
        &[ch('-'), code(KeyCode::Left)],
        Action::StepDown,
        Help::InOverlay,
    ),
    Binding::new(
        EDITOR,
        &[code(KeyCode::Enter)],
        Action::EditField,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Enter"),
        BarWords::Fixed("edit (or type)"),
        BarWhen::Always,
    ),
    Binding::new(EDITOR, &[ch(' ')], Action::SpaceOnField, Help::InOverlay),
    Binding::new(
        EDITOR,
        &[code(KeyCode::Esc)],
        Action::CloseEditor,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Esc"),
        BarWords::Fixed("close, then r runs them"),
        BarWhen::Always,
    ),
    // Typing a value: everything but these two is text.
    Binding::new(
        TYPING,
        &[code(KeyCode::Enter)],
        Action::CommitEdit,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Enter"),
        BarWords::Fixed("set"),
        BarWhen::Always,
    ),
    Binding::new(
        TYPING,
        &[code(KeyCode::Esc)],
        Action::CancelEdit,
        Help::InOverlay,
    )
    .in_bar(
        Label::same("Esc"),
        BarWords::Fixed("keep the old value"),
        BarWhen::Always,
    ),
    // The watch dashboard: ←/→ choose a failure in the timeline, Enter opens its report.
    watch(
        WATCH,
        &[code(KeyCode::Left), ch('h')],
        Action::FailureEarlier,
    )
    .in_watch_bar(ARROWS_LR, "failure"),
    watch(
        WATCH,
        &[code(KeyCode::Right), ch('l')],
        Action::FailureLater,
    ),
    watch(WATCH, &[code(KeyCode::Enter)], Action::OpenFailure)
        .in_watch_bar(Label::same("Enter"), "report"),
    watch(WATCH, &[ch('p')], Action::TogglePause).in_watch_bar(Label::same("p"), "pause/resume"),
    watch(WATCH, &[ch('r')], Action::ResetStats).in_watch_bar(Label::same("r"), "reset"),
    watch(WATCH, &[ch('q'), code(KeyCode::Esc)], Action::Quit)
        .in_watch_bar(Label::same("q"), "quit"),
    // A failure's report: scroll it, step to the neighbouring failures, Esc/Enter close it.
    watch(
        WATCH_DETAIL,
        &[code(KeyCode::Esc), code(KeyCode::Enter)],
        Action::CloseFailure,
    )
    .in_watch_bar(Label::same("Esc"), "close"),
    watch(WATCH_DETAIL, &[code(KeyCode::Up), ch('k')], Action::MoveUp)
        .in_watch_bar(ARROWS_UD, "scroll"),
    watch(
        WATCH_DETAIL,
        &[code(KeyCode::Down), ch('j')],
        Action::MoveDown,
    ),
    watch(WATCH_DETAIL, &[code(KeyCode::PageUp)], Action::PageUp),
    watch(WATCH_DETAIL, &[code(KeyCode::PageDown)], Action::PageDown),
    watch(
        WATCH_DETAIL,
        &[code(KeyCode::Home), ch('g')],
        Action::MoveFirst,
    ),
    watch(
        WATCH_DETAIL,
        &[code(KeyCode::End), ch('G')],
        Action::MoveLast,
    ),
    watch(
        WATCH_DETAIL,
        &[code(KeyCode::Left), ch('h')],
        Action::FailureEarlier,
    )
    .in_watch_bar(ARROWS_LR, "failure"),
    watch(
        WATCH_DETAIL,
        &[code(KeyCode::Right), ch('l')],
        Action::FailureLater,
    ),
    watch(WATCH_DETAIL, &[ch('q')], Action::Quit).in_watch_bar(Label::same("q"), "quit"),
    // The reuse view: ↑/↓ choose a gap, x shows the fix, q quits (and prints the report).
    watch(REUSE, &[code(KeyCode::Up), ch('k')], Action::MoveUp).in_watch_bar(ARROWS_UD, "gap"),
    watch(REUSE, &[code(KeyCode::Down), ch('j')], Action::MoveDown),
    watch(REUSE, &[code(KeyCode::Home), ch('g')], Action::MoveFirst),
    watch(REUSE, &[code(KeyCode::End), ch('G')], Action::MoveLast),
    watch(REUSE, &[ch('x')], Action::OpenExport).in_watch_bar(Label::same("x"), "export the fix"),
    watch(REUSE, &[ch('q'), code(KeyCode::Esc)], Action::Quit)
        .in_watch_bar(Label::same("q"), "quit and print the report"),
    // Its export overlay: the arrows scroll it, q quits, any other key closes it.
    watch(REUSE_EXPORT, &[code(KeyCode::Up), ch('k')], Action::MoveUp)
        .in_watch_bar(ARROWS_UD, "scroll"),
    watch(
        REUSE_EXPORT,
        &[code(KeyCode::Down), ch('j')],
        Action::MoveDown,
    ),
    watch(REUSE_EXPORT, &[code(KeyCode::PageUp)], Action::PageUp),
    watch(REUSE_EXPORT, &[code(KeyCode::PageDown)], Action::PageDown),
    watch(REUSE_EXPORT, &[ch('q')], Action::Quit).in_watch_bar(Label::same("q"), "quit"),
    watch(REUSE_EXPORT, &[Key::Other], Action::CloseExport)
        .in_watch_bar(Label::same("any key"), "close"),
];

const ARROWS_UD: Label = Label {
    unicode: "↑↓",
    ascii: "Up/Dn",
};

const ARROWS_LR: Label = Label {
    unicode: "←→",
    ascii: "Left/Right",
};

/// A binding of the watch dashboard: no help row, its key bar names it.
///
/// Its bar entries are always shown, in fixed words: see [`Binding::in_watch_bar`].
const fn watch(scope: Scope, keys: &'static [Key], action: Action) -> Binding {
    Binding::new(scope, keys, action, Help::InWatchBar)
}

/// The bindings that apply in `mode`, in table order.
pub(super) fn bindings(mode: Mode) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.scope.covers(mode))
}

/// The action `event` asks for in `mode`; `None` when no binding takes it (in the editor and
/// the paste box it is then text).
pub(super) fn action_for(mode: Mode, event: &KeyEvent) -> Option<Action> {
    let ctrl_held = event.modifiers.contains(KeyModifiers::CONTROL);
    // The mode's own bindings first: they may take a key of the everywhere rows.
    let bound = |wanted: Key| {
        let of_mode = |own: bool| {
            bindings(mode)
                .filter(move |b| (b.scope != Scope::Everywhere) == own)
                .find(|b| b.keys.contains(&wanted))
                .map(|b| b.action)
        };
        of_mode(true).or_else(|| of_mode(false))
    };
    let ctrl = match event.code {
        KeyCode::Char(c) if ctrl_held => bound(Key::Ctrl(c)),
        _ => None,
    };
    ctrl.or_else(|| bound(Key::Plain(event.code)))
        .or_else(|| bound(Key::Other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_bindings_of_a_mode_share_a_key() {
        // A mode's own binding may take a key from the everywhere rows (the paste box's
        // Ctrl-D ends the paste, as at the command line); within each, a key is bound once.
        for mode in Mode::ALL {
            for everywhere in [true, false] {
                let mut seen: Vec<Key> = Vec::new();
                let rows = bindings(mode).filter(|b| (b.scope == Scope::Everywhere) == everywhere);
                for b in rows {
                    for key in b.keys {
                        assert!(!seen.contains(key), "{key:?} twice in {mode:?}");
                        seen.push(*key);
                    }
                }
            }
        }
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Mode::Paste, &ctrl_d), Some(Action::ExplainPaste));
        assert_eq!(action_for(Mode::Main, &ctrl_d), Some(Action::Interrupt));
    }

    #[test]
    fn main_view_keys_have_help_rows_and_overlay_keys_do_not() {
        let mut above: Option<Scope> = None;
        for b in BINDINGS {
            let main = b.scope.covers(Mode::Main);
            match b.help {
                Help::Row { .. } => assert!(main, "{:?} is not in the main view", b.action),
                Help::InWatchBar => match b.scope {
                    Scope::Only(mode) => assert!(mode.is_other_dashboard(), "{:?}", b.action),
                    Scope::Everywhere => panic!("{:?} is not only the watch's", b.action),
                },
                Help::WithAbove => assert_eq!(above, Some(b.scope), "{:?}", b.action),
                Help::InOverlay => assert!(!main, "{:?} needs a help row", b.action),
            }
            above = Some(b.scope);
        }
    }

    #[test]
    fn the_bar_shows_only_keys_of_views_with_a_bar() {
        // The editor and the export have bars of their own (the main view's keys do nothing
        // there); help and compare close on any key.
        let with_bar = [
            Mode::Main,
            Mode::Editor,
            Mode::EditorTyping,
            Mode::Export,
            Mode::Paste,
        ];
        for b in BINDINGS.iter().filter(|b| b.bar.is_some()) {
            let Scope::Only(mode) = b.scope else {
                panic!("{:?} is in every mode's bar", b.action);
            };
            assert!(
                with_bar.contains(&mode) || mode.is_other_dashboard(),
                "{:?}",
                b.action
            );
        }
    }

    #[test]
    fn every_watch_mode_can_be_left_and_ctrl_c_ends_the_run_as_a_signal() {
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in [
            Mode::Watch,
            Mode::WatchDetail,
            Mode::Reuse,
            Mode::ReuseExport,
        ] {
            assert_eq!(action_for(mode, &q), Some(Action::Quit));
            assert_eq!(action_for(mode, &ctrl_c), Some(Action::Interrupt));
        }
        let z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE);
        assert_eq!(action_for(Mode::Watch, &z), None);
    }

    #[test]
    fn ctrl_wins_over_the_plain_key_and_modifiers_are_otherwise_ignored() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Mode::Main, &ctrl_c), Some(Action::Interrupt));
        let c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(action_for(Mode::Main, &c), Some(Action::Cancel));
        assert_eq!(action_for(Mode::Help, &c), Some(Action::CloseHelp));
        let shift_c = KeyEvent::new(KeyCode::Char('C'), KeyModifiers::SHIFT);
        assert_eq!(action_for(Mode::Main, &shift_c), Some(Action::OpenCompare));
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Mode::Main, &ctrl_r), Some(Action::Rerun));
    }

    #[test]
    fn unbound_keys_are_nothing_in_the_main_view_and_text_in_the_editor() {
        let z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE);
        assert_eq!(action_for(Mode::Main, &z), None);
        assert_eq!(action_for(Mode::Editor, &z), None);
        assert_eq!(action_for(Mode::EditorTyping, &z), None);
        assert_eq!(action_for(Mode::Compare, &z), Some(Action::CloseCompare));
        assert_eq!(action_for(Mode::Export, &z), Some(Action::CloseExport));
        assert_eq!(action_for(Mode::Paste, &z), None);
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(
            action_for(Mode::Paste, &q),
            None,
            "q is text in the paste box"
        );
    }
}
