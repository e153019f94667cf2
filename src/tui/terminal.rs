//! Entering and leaving the dashboard's terminal mode (raw mode, alternate screen, hidden
//! cursor, bracketed paste), so that every exit path restores it: a normal quit, Ctrl-C (a key in raw mode),
//! a signal (handled by the loop), an I/O error, and a panic.
//!
//! Not `ratatui::init()`: its panic hook does not show the cursor again, and the CLI's own hook
//! (one line, then `exit(1)`) would run before ratatui's `Terminal` is dropped, leaving it
//! hidden. Ours restores everything first, then hands over to the previous hook.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
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
        // Bracketed paste off again: a shell that does not expect it would see the markers.
        let _ = execute!(
            out,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            cursor::Show
        );
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

/// Ctrl-Z: the shell gets its terminal back and the process stops (SIGTSTP to its process
/// group, as the terminal driver sends it outside raw mode); after `fg` the dashboard takes
/// the terminal again and `clear` makes the next draw repaint every cell.
pub(super) fn suspend(terminal: &mut Tui) -> io::Result<()> {
    restore();
    #[cfg(unix)]
    // SAFETY: kill(2) takes no pointers; pid 0 is this process's group. It returns once the
    // group is continued (SIGCONT from `fg` or `bg`).
    unsafe {
        libc::kill(0, libc::SIGTSTP);
    }
    ACTIVE.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    take_screen()?;
    terminal.clear()
}

/// The alternate screen, the cursor hidden, and bracketed paste: a pasted error arrives whole
/// (`p`), its line breaks not as Enter keys.
fn take_screen() -> io::Result<()> {
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        cursor::Hide,
        EnableBracketedPaste
    )
}

pub(super) fn enter() -> io::Result<Guard> {
    install_panic_hook();
    ACTIVE.store(true, Ordering::SeqCst);
    let setup = || -> io::Result<Tui> {
        enable_raw_mode()?;
        take_screen()?;
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

/// What the terminfo database says about a terminal name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    /// Known; whether it can move the cursor (the dashboard draws by cursor address).
    Found { cursor_address: bool },
    /// The database exists but does not know the name.
    Unknown,
    /// No database on this machine (a minimal container): the name is all there is.
    NoDatabase,
}

/// Whether `$TERM` can host the dashboard: set, not `dumb`, and (where a terminfo database
/// exists) known to it with cursor addressing. Otherwise the report is printed, as for a
/// pipe: vim and less would refuse such a terminal too.
pub(crate) fn terminal_usable() -> bool {
    if cfg!(not(unix)) {
        // The Windows console is driven by API calls, not by TERM.
        return true;
    }
    let term = std::env::var("TERM").ok();
    usable(term.as_deref(), terminfo_entry)
}

fn usable(term: Option<&str>, lookup: impl Fn(&str) -> Entry) -> bool {
    let Some(term) = term.map(str::trim).filter(|t| !t.is_empty()) else {
        return false;
    };
    if term == "dumb" || !plain_name(term) {
        return false;
    }
    match lookup(term) {
        Entry::Found { cursor_address } => cursor_address,
        Entry::Unknown => false,
        Entry::NoDatabase => true,
    }
}

/// A terminal name as terminfo spells them: no path, so a TERM like `../../dev/zero` never
/// makes the lookup read an arbitrary file.
fn plain_name(term: &str) -> bool {
    term.len() <= 64
        && !term.starts_with('.')
        && term
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
}

fn terminfo_entry(term: &str) -> Entry {
    use terminfo::{Database, capability::CursorAddress};
    match Database::from_name(term) {
        Ok(db) => Entry::Found {
            cursor_address: db.get::<CursorAddress>().is_some(),
        },
        // Without even xterm the machine has no database to ask.
        Err(_) if Database::from_name("xterm").is_err() => Entry::NoDatabase,
        Err(_) => Entry::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumb_unset_unknown_and_path_like_terminals_get_the_printed_report() {
        let xterm = |_: &str| Entry::Found {
            cursor_address: true,
        };
        assert!(usable(Some("xterm-256color"), xterm));
        assert!(!usable(None, xterm));
        assert!(!usable(Some(""), xterm));
        assert!(!usable(Some("dumb"), xterm));
        assert!(!usable(Some("../../dev/zero"), xterm));
        assert!(!usable(Some("a/b"), xterm));
        let no_cursor = |_: &str| Entry::Found {
            cursor_address: false,
        };
        assert!(!usable(Some("lpr"), no_cursor));
        assert!(!usable(Some("nosuchterm"), |_| Entry::Unknown));
        assert!(usable(Some("screen"), |_| Entry::NoDatabase));
    }

    #[test]
    fn the_machines_terminfo_database_is_read() {
        // This machine (and CI's) has ncurses' database: xterm moves the cursor, dumb does not.
        if terminfo_entry("xterm") == Entry::NoDatabase {
            eprintln!("SKIPPED: no terminfo database on this machine");
            return;
        }
        assert_eq!(
            terminfo_entry("xterm"),
            Entry::Found {
                cursor_address: true
            }
        );
        assert_eq!(
            terminfo_entry("dumb"),
            Entry::Found {
                cursor_address: false
            }
        );
        assert_eq!(terminfo_entry("no-such-terminal-np"), Entry::Unknown);
    }
}
