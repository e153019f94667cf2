//! How the dashboard looks: colour on or off (`--no-color`, `NO_COLOR`), Unicode or plain ASCII
//! (`--ascii`). Every status has a symbol *and* a word, so meaning never rests on colour alone.

use std::borrow::Cow;

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

use crate::engine::StageStatus;

/// What a stage row or an attempt can be showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Waiting,
    Running,
    Ok,
    Failed,
    Skipped,
    NotRun,
}

impl From<StageStatus> for Status {
    fn from(s: StageStatus) -> Self {
        match s {
            StageStatus::Ok => Status::Ok,
            StageStatus::Failed => Status::Failed,
            StageStatus::Skipped => Status::Skipped,
            StageStatus::NotRun => Status::NotRun,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

/// ASCII box drawing for terminals without line-drawing characters.
const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    /// Failures are bold as well as red: still visible without colour.
    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn running(self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The selected row: reverse video works on every terminal, coloured or not.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn status_style(self, s: Status) -> Style {
        match s {
            Status::Ok => self.ok(),
            Status::Failed => self.bad(),
            Status::Running => self.running(),
            Status::Skipped => self.warn(),
            Status::Waiting | Status::NotRun => self.dim(),
        }
    }

    /// `frame` animates the running symbol (it advances with the ticks).
    pub fn symbol(self, s: Status, frame: usize) -> &'static str {
        const SPIN: [&str; 4] = ["◐", "◓", "◑", "◒"];
        const SPIN_ASCII: [&str; 4] = ["|", "/", "-", "\\"];
        match (s, self.ascii) {
            (Status::Running, false) => SPIN[frame % SPIN.len()],
            (Status::Running, true) => SPIN_ASCII[frame % SPIN_ASCII.len()],
            (Status::Ok, false) => "✓",
            (Status::Ok, true) => "+",
            (Status::Failed, false) => "✗",
            (Status::Failed, true) => "x",
            (Status::Skipped, false) => "↷",
            (Status::Skipped, true) => "~",
            (Status::NotRun, _) => "-",
            (Status::Waiting, _) => ".",
        }
    }

    pub fn word(s: Status) -> &'static str {
        match s {
            Status::Waiting => "waiting",
            Status::Running => "running",
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
            Status::NotRun => "not run",
        }
    }

    pub fn border(self) -> border::Set<'static> {
        if self.ascii {
            ASCII_BORDER
        } else {
            border::PLAIN
        }
    }

    /// The marker in front of the selected row.
    pub fn pointer(self) -> &'static str {
        if self.ascii { ">" } else { "›" }
    }

    pub fn more_below(self) -> &'static str {
        if self.ascii { "v more" } else { "↓ more" }
    }

    /// A horizontal bar of `fraction` (0..=1) of `width` cells, in eighths when Unicode is allowed.
    pub fn bar(self, fraction: f64, width: usize) -> String {
        if width == 0 || !fraction.is_finite() || fraction <= 0.0 {
            return String::new();
        }
        let fraction = fraction.min(1.0);
        if self.ascii {
            let n = ((fraction * width as f64).ceil() as usize).clamp(1, width);
            return "#".repeat(n);
        }
        const PARTS: [&str; 8] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"];
        let eighths = ((fraction * width as f64 * 8.0).ceil() as usize).clamp(1, width * 8);
        let mut s = "█".repeat(eighths / 8);
        if !eighths.is_multiple_of(8) {
            s.push_str(PARTS[eighths % 8 - 1]);
        }
        s
    }

    /// Report text can hold arrows and ellipses; `--ascii` spells them out.
    pub fn text<'a>(self, s: &'a str) -> Cow<'a, str> {
        if !self.ascii || s.is_ascii() {
            return Cow::Borrowed(s);
        }
        crate::report::ascii::spell(s)
    }

    pub fn ellipsis(self) -> &'static str {
        if self.ascii { "~" } else { "…" }
    }

    /// The separator between settings in the header.
    pub fn sep(self) -> &'static str {
        if self.ascii { " | " } else { " · " }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_grow_with_the_fraction_and_never_pass_the_width() {
        let t = Theme {
            color: false,
            ascii: false,
        };
        assert_eq!(t.bar(0.0, 10), "");
        assert_eq!(t.bar(1.0, 4), "████");
        assert_eq!(t.bar(0.5, 4), "██");
        assert_eq!(t.bar(0.01, 4).chars().count(), 1);
        assert_eq!(t.bar(7.0, 4), "████");
        let a = Theme { ascii: true, ..t };
        assert_eq!(a.bar(0.5, 4), "##");
        assert_eq!(a.bar(0.01, 4), "#");
    }

    #[test]
    fn ascii_mode_spells_out_unicode() {
        let a = Theme {
            color: false,
            ascii: true,
        };
        assert_eq!(a.text("a → b…"), "a -> b...");
        assert_eq!(a.text("日本"), "??");
        assert!(a.text("plain").is_ascii());
        for s in [
            Status::Waiting,
            Status::Running,
            Status::Ok,
            Status::Failed,
            Status::Skipped,
            Status::NotRun,
        ] {
            assert!(a.symbol(s, 3).is_ascii());
        }
    }

    #[test]
    fn without_colour_failures_stay_bold() {
        let t = Theme {
            color: false,
            ascii: false,
        };
        assert_eq!(t.ok(), Style::new());
        assert!(t.bad().add_modifier.contains(Modifier::BOLD));
    }
}
