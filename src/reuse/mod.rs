//! Reuse mode: what happens to a pooled keep-alive connection after it sat idle, and what a
//! `requests.Session` raises when it reuses it (`--reuse-after`, `--idle-sweep`).
//!
//! - [`gap`]: one gap — a request on a new connection, the idle gap, urllib3's dropped check,
//!   the request again — and its wire outcome ([`Wire`]);
//! - [`sweep`]: the bounded search for the idle time after which the far end gives up;
//! - [`export`]: the fix for what was measured, as a Python snippet or a curl command line;
//! - [`progress`]: the run's events as it goes, for the dashboard's reuse view;
//! - [`run`]: the mode from the command line: announce, run, report, exit code.
//!
//! The engine does the network part (`engine::keepalive`); nothing here touches a socket.

pub(crate) mod export;
pub(crate) mod gap;
pub(crate) mod progress;
pub(crate) mod run;
pub(crate) mod sweep;

use std::time::Duration;

/// What the far end did with a connection kept idle, as seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wire {
    /// The request on the reused connection was answered.
    Open,
    /// Closed (FIN) during the gap: urllib3 notices and opens a new connection.
    Fin,
    /// Reset (RST) during the gap: urllib3 notices and opens a new connection.
    Rst,
    /// Closed or reset right as the request went out: requests raises ConnectionError.
    Race,
    /// Kept open but never answered: requests waits for the read timeout (ReadTimeout).
    Silent,
    /// The first request failed: there was no connection to keep.
    FirstFailed,
}

impl Wire {
    pub fn name(self) -> &'static str {
        match self {
            Wire::Open => "open",
            Wire::Fin => "fin",
            Wire::Rst => "rst",
            Wire::Race => "race",
            Wire::Silent => "silent",
            Wire::FirstFailed => "first_failed",
        }
    }

    /// The far end closed it while it sat idle (observable without sending).
    pub(crate) fn closed_idle(self) -> bool {
        matches!(self, Wire::Fin | Wire::Rst)
    }

    /// The reuse itself failed: requests raises.
    pub(crate) fn fails(self) -> bool {
        matches!(self, Wire::Race | Wire::Silent)
    }
}

/// Most gaps one `--reuse-after` takes (each is a connection held open at once).
const MAX_GAPS: usize = 16;
/// Longest gap or sweep: one hour covers every idle timeout seen in the wild (AWS NAT 350 s,
/// Azure 4 min, nginx 75 s) with room to spare.
const MAX_IDLE_S: f64 = 3600.0;

/// The gaps of `--reuse-after`, in seconds, as typed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Gaps(pub(crate) Vec<Duration>);

/// One idle time in seconds: 0 to an hour, fractions allowed.
fn parse_idle(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=MAX_IDLE_S).contains(&v) {
        return Err(format!("'{s}' is outside 0 to {MAX_IDLE_S} seconds"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// `--reuse-after 5,30,120`: one to 16 gaps in seconds.
pub(crate) fn parse_gaps(s: &str) -> Result<Gaps, String> {
    let gaps = s
        .split(',')
        .map(parse_idle)
        .collect::<Result<Vec<_>, _>>()?;
    if gaps.len() > MAX_GAPS {
        return Err(format!("at most {MAX_GAPS} gaps, not {}", gaps.len()));
    }
    Ok(Gaps(gaps))
}

/// `--idle-sweep MAX`: more than 0, at most an hour.
pub(crate) fn parse_sweep_max(s: &str) -> Result<Duration, String> {
    let max = parse_idle(s)?;
    if max.is_zero() {
        return Err("the sweep needs a MAX above 0 seconds".into());
    }
    Ok(max)
}

/// What the command line asked of reuse mode.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReuseRequest {
    pub(crate) gaps: Vec<Duration>,
    pub(crate) sweep_max: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_take_a_comma_list_of_bounded_seconds() {
        let g = parse_gaps("0.5,2, 30").map(|g| g.0);
        assert_eq!(
            g,
            Ok(vec![
                Duration::from_millis(500),
                Duration::from_secs(2),
                Duration::from_secs(30)
            ])
        );
        assert!(parse_gaps("5,,6").is_err());
        assert!(parse_gaps("-1").is_err());
        assert!(parse_gaps("3601").is_err());
        assert!(parse_gaps("nan").is_err());
        assert!(parse_gaps(&vec!["1"; 17].join(",")).is_err());
        assert!(parse_sweep_max("0").is_err());
        assert_eq!(parse_sweep_max("2.5"), Ok(Duration::from_millis(2500)));
    }
}
