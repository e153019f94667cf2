//! Entering and leaving the dashboard's terminal mode (raw mode, alternate screen, hidden
//! cursor), so that every exit path restores it: a normal quit, Ctrl-C (a key in raw mode),
//! a signal (handled by the loop), an I/O error, and a panic.
//!
//! Not `ratatui::init()`: its panic hook does not show the cursor again, and the CLI's own hook
//! (one line, then `exit(1)`) would run before ratatui's `Terminal` is dropped, leaving it
//! hidden. Ours restores everything first, then hands over to the previous hook.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub(super) type Tui = Terminal<CrosstermBackend<Stdout>>;

/// True while the terminal is in dashboard mode: restoring twice (panic hook, then drop) must
/// not print escape sequences onto the normal screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Put the terminal back as the shell expects it. Safe to call at any time, from any thread;
/// only the first call after [`enter`] does anything. Errors are ignored: there is nothing
/// better to do with a terminal that went away (SSH dropped).
pub(super) fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let mut out = io::stdout();
        let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
        let _ = out.flush();
    }
}

/// Owns the dashboard's terminal; dropping it restores the terminal.
pub(super) struct Guard {
    pub terminal: Tui,
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Chain a hook that restores the terminal before the previous one (the CLI's) runs, so its
/// one-line message lands on the normal screen.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

pub(super) fn enter() -> io::Result<Guard> {
    install_panic_hook();
    ACTIVE.store(true, Ordering::SeqCst);
    let setup = || -> io::Result<Tui> {
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        Terminal::new(CrosstermBackend::new(io::stdout()))
    };
    match setup() {
        Ok(terminal) => Ok(Guard { terminal }),
        Err(e) => {
            // Half-entered (raw mode on, no alternate screen): undo what was done.
            restore();
            Err(e)
        }
    }
}
