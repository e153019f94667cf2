//! Turns "this stage may take N seconds" plus the optional total deadline into one limit, and
//! remembers which of the two it was, so a timeout can be blamed on the right setting.

use std::time::{Duration, Instant};

/// Which user setting bounded an operation that ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutSetting {
    Dns,
    Connect,
    Read,
    Total,
}

impl TimeoutSetting {
    /// The name used in reports: connect, read, dns, total.
    pub fn name(self) -> &'static str {
        match self {
            TimeoutSetting::Dns => "dns",
            TimeoutSetting::Connect => "connect",
            TimeoutSetting::Read => "read",
            TimeoutSetting::Total => "total",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            TimeoutSetting::Dns => "--dns-timeout",
            TimeoutSetting::Connect => "--connect-timeout",
            TimeoutSetting::Read => "--read-timeout",
            TimeoutSetting::Total => "--max-time",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// How long to wait from now.
    pub duration: Duration,
    pub setting: TimeoutSetting,
    /// The value the user set: the stage timeout, or the whole --max-time (not what was left
    /// of it), so sentences quote the number the user typed.
    pub reported: Duration,
}

impl Limit {
    /// "within 1.50 s (--read-timeout)" / "within the --max-time deadline (2 s)".
    pub fn describe(&self) -> String {
        match self.setting {
            TimeoutSetting::Total => format!(
                "within the --max-time deadline ({})",
                super::fmt_duration(self.reported)
            ),
            s => format!(
                "within {} ({})",
                super::fmt_duration(self.reported),
                s.flag()
            ),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
    max_time: Option<Duration>,
}

impl Clock {
    pub fn start(max_time: Option<Duration>) -> Self {
        Clock {
            start: Instant::now(),
            max_time,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// When the total deadline falls, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.max_time.map(|m| self.start + m)
    }

    pub fn max_time(&self) -> Option<Duration> {
        self.max_time
    }

    /// What is left of the total deadline, if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.max_time
            .map(|m| m.saturating_sub(self.start.elapsed()))
    }

    /// The tighter of the stage's own timeout and what is left of the total deadline.
    pub fn limit(&self, stage: Duration, setting: TimeoutSetting) -> Limit {
        match self.max_time {
            Some(total) => {
                let left = total.saturating_sub(self.start.elapsed());
                if left < stage {
                    Limit {
                        duration: left,
                        setting: TimeoutSetting::Total,
                        reported: total,
                    }
                } else {
                    Limit {
                        duration: stage,
                        setting,
                        reported: stage,
                    }
                }
            }
            None => Limit {
                duration: stage,
                setting,
                reported: stage,
            },
        }
    }
}
