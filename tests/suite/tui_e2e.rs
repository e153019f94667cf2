//! The dashboard in a real terminal: tmux runs the netpeel binary in a shell at 80×24 against a
//! loopback server, the test types keys and reads the screen as a person would, and checks that
//! the shell gets its terminal back (prompt, normal screen, cursor) with the report printed.
//!
//! tmux is required on CI (.ci/run installs it); elsewhere the tests are skipped with a message
//! when it is missing. Every wait is bounded.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use testkit::http::{Behavior, HttpServer};
use testkit::keepalive::{IdleEnd, KeepAliveServer};
use testkit::tls::{CertKind, TlsServer};

/// Longest wait for the screen to show something.
const WAIT: Duration = Duration::from_secs(20);
const PROMPT: &str = "np-e2e$ ";

fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is missing on CI: .ci/run should have installed it"
        );
        eprintln!("SKIPPED: tmux is not installed; the dashboard's end-to-end tests need it");
    }
    found
}

/// One private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A shell with a known prompt in an 80×24 window.
    fn start(width: u16, height: u16) -> Tmux {
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "netpeel-e2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let t = Tmux { socket };
        let shell = format!("env PS1='{PROMPT}' NO_COLOR= sh");
        let out = t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            &shell,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t.wait_for("the shell prompt", |s| s.contains(PROMPT.trim_end()));
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Keys as tmux names them ("Up", "Enter", "C-c") or literal text.
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}: {out:?}");
    }

    fn type_line(&self, line: &str) {
        let out = self.run(&["send-keys", "-t", "e2e", "-l", line]);
        assert!(out.status.success(), "send-keys: {out:?}");
        self.keys(&["Enter"]);
    }

    /// The visible screen.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// The screen with the scrollback above it.
    fn history(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "e2e", "-S", "-300"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "e2e", f]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Poll the screen until `ok` holds (bounded by WAIT).
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            // A capture can land in the middle of a redraw; believe a screen only when a
            // second capture a moment later still passes, and return that one.
            if ok(&screen) {
                std::thread::sleep(Duration::from_millis(40));
                let settled = self.screen();
                if ok(&settled) {
                    return settled;
                }
            }
            assert!(
                start.elapsed() < WAIT,
                "waited {WAIT:?} for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The shell is back: prompt on the last line, normal screen, cursor shown.
    fn wait_for_shell(&self) -> String {
        let screen = self.wait_for("the shell prompt after quitting", |s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
        });
        assert_eq!(
            self.format("#{alternate_on}"),
            "0",
            "still on the alternate screen"
        );
        assert_eq!(
            self.format("#{cursor_flag}"),
            "1",
            "the cursor is still hidden"
        );
        screen
    }

    /// `echo EXIT=$?` after the command: the exit code it left.
    fn exit_code(&self) -> String {
        self.type_line("echo EXIT=$?");
        let screen = self.wait_for("the exit code", |s| {
            s.lines().any(|l| l.starts_with("EXIT="))
        });
        screen
            .lines()
            .find_map(|l| l.strip_prefix("EXIT="))
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn netpeel_line(args: &[&str]) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_netpeel"));
    let mut line = shell_quote(&bin.display().to_string());
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    line
}

fn selected_row(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find(|l| l.starts_with("› "))
        .map(|l| l[4..].split_whitespace().next().unwrap_or(""))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_reads_a_tls_failure_reruns_and_quits() {
    if !tmux_available() {
        return;
    }
    let server = TlsServer::start(CertKind::Expired, Behavior::ok("hello\n")).await;
    let ca = server.ca_pem_path.display().to_string();
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&["--cacert", &ca, &server.url()]));

    // The dashboard: the failing stage, the verdict whole, the keys.
    let screen = tmux.wait_for("the verdict", |s| s.contains("Verdict (exit code 7)"));
    assert!(screen.contains("run 1 · failed"), "{screen}");
    assert!(
        screen.contains("✗ FAILED") && screen.contains("certificate expired 3 days ago"),
        "{screen}"
    );
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    for words in [
        "TLS failed: the server's certificate has expired (cert_expired)",
        "Python requests would raise requests.exceptions.SSLError (caused by urllib3.exceptions.SSLError).",
        "curl would exit 60.",
        "hint: Renew the certificate",
        "r run again",
        "q quit",
    ] {
        assert!(
            flat.contains(words),
            "{words:?} not on the screen:\n{screen}"
        );
    }
    assert_eq!(selected_row(&screen), Some("TLS"), "{screen}");

    // Select another stage and back to TLS: the detail follows.
    tmux.keys(&["Up"]);
    tmux.wait_for("the TCP detail", |s| s.contains("TCP detail"));
    tmux.keys(&["j"]);
    let screen = tmux.wait_for("the TLS detail", |s| s.contains("TLS detail"));
    assert!(screen.contains("SNI localhost"), "{screen}");
    assert_eq!(selected_row(&screen), Some("TLS"), "{screen}");
    // Enter gives the chain the whole body.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the expanded detail", |s| s.contains("(Enter: back)"));
    assert!(screen.contains("EXPIRED 3 days ago"), "{screen}");
    assert!(
        screen.contains("SANs    localhost, 127.0.0.1, ::1"),
        "{screen}"
    );
    tmux.keys(&["Enter"]);
    tmux.wait_for("the verdict again", |s| s.contains("Verdict (exit code 7)"));

    // r: a second attempt, listed under the first.
    tmux.keys(&["r"]);
    let screen = tmux.wait_for("attempt 2 done", |s| {
        s.contains("run 2 · failed") && s.contains("#2") && s.contains("#1")
    });
    assert!(screen.contains("Verdict (exit code 7)"), "{screen}");

    // ?: help over the dashboard.
    tmux.keys(&["?"]);
    let screen = tmux.wait_for("the help", |s| s.contains("Help: keys"));
    assert!(screen.contains("run the probe again"), "{screen}");

    // q: back to the shell, with the report in the scrollback.
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(
        history.contains("VERDICT: TLS failed (cert_expired)"),
        "{history}"
    );
    assert!(history.contains("exit code 7"), "{history}");
    assert_eq!(tmux.exit_code(), "7");
    assert!(server.connections() >= 2, "two attempts reached the server");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_a_probe_runs_restores_the_terminal() {
    if !tmux_available() {
        return;
    }
    let server = HttpServer::start(Behavior::StallBeforeResponse).await;
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&["--ascii", "--no-color", &server.url()]));
    let screen = tmux.wait_for("the running HTTP stage", |s| {
        s.contains("running") && s.contains("HTTP")
    });
    assert!(screen.is_ascii(), "--ascii sends only ASCII:\n{screen}");
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for_shell();
    assert!(screen.contains("interrupted"), "{screen}");
    assert_eq!(tmux.exit_code(), "130");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_restores_the_terminal() {
    if !tmux_available() {
        return;
    }
    let server = HttpServer::start(Behavior::StallBeforeResponse).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (pid_file, line) = with_pid_file(dir.path(), &[&server.url()]);
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&line);
    tmux.wait_for("the running HTTP stage", |s| s.contains("running"));
    send_signal(&pid_file, "-TERM");
    let screen = tmux.wait_for_shell();
    assert!(screen.contains("netpeel: interrupted"), "{screen}");
    assert_eq!(tmux.exit_code(), "130");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_runs_in_the_dashboard_and_its_timeline_shows_every_attempt() {
    if !tmux_available() {
        return;
    }
    let s503 = Behavior::Respond {
        code: 503,
        headers: vec![],
        body: b"x".to_vec(),
    };
    let server = HttpServer::start_sequence(vec![s503.clone(), s503, Behavior::ok("ok")]).await;
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&[
        "--retries",
        "3",
        "--status-forcelist",
        "503",
        "--backoff-factor",
        "0.1",
        &server.url(),
    ]));
    let screen = tmux.wait_for("the replay's end", |s| s.contains("success on attempt 3"));
    assert!(screen.contains("Timeline of run #1"), "{screen}");
    for row in [" #1 ", " #2 ", " #3 "] {
        assert!(screen.contains(row), "{row:?} in\n{screen}");
    }
    assert_eq!(screen.matches("HTTP 503").count(), 2, "{screen}");
    assert!(screen.contains("HTTP 200"), "{screen}");
    assert!(screen.contains("(backoff 2)"), "{screen}");
    assert_eq!(server.connections(), 3);

    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    assert_eq!(tmux.exit_code(), "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watch_dashboard_counts_live_pauses_resets_and_quits_with_the_report() {
    if !tmux_available() {
        return;
    }
    let status_503 = Behavior::Respond {
        code: 503,
        headers: vec![],
        body: b"busy\n".to_vec(),
    };
    let server =
        HttpServer::start_cycle(vec![Behavior::ok("a"), Behavior::ok("b"), status_503]).await;
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&["--watch", "-i", "0.05", &server.url()]));

    // Live: the counts grow, the timeline shows the 503s as H, the verdict is on screen.
    let screen = tmux.wait_for("a few probes with a failure", |s| {
        s.contains("VERDICT: intermittent failures") && s.contains("..H..H")
    });
    assert!(screen.contains("netpeel watch"), "{screen}");
    assert!(screen.contains("http_server_error"), "{screen}");
    assert!(screen.contains("q quit"), "{screen}");

    tmux.keys(&["p"]);
    let paused = tmux.wait_for("the pause", |s| s.contains("PAUSED"));
    let count = |s: &str| {
        s.lines()
            .find_map(|l| l.split(" probes").next()?.trim().parse::<u64>().ok())
    };
    assert!(count(&paused).is_some(), "{paused}");
    // A probe already under way when `p` arrived still finishes: count after it has.
    std::thread::sleep(Duration::from_millis(500));
    let before = count(&tmux.screen());
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(count(&tmux.screen()), before, "no probe runs while paused");

    // The cursor starts on the newest failure; ← moves it to the one before (every third
    // probe fails), Enter opens that probe's own report (its stages), Esc closes it.
    let selected = |s: &str| {
        s.lines().find_map(|l| {
            l.strip_prefix("probe #")?
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
    };
    let newest = selected(&tmux.screen()).expect("a failure is selected");
    tmux.keys(&["Left"]);
    tmux.wait_for("the older failure", |s| selected(s) == Some(newest - 3));
    tmux.keys(&["Enter"]);
    let title = format!("probe #{} (", newest - 3);
    tmux.wait_for("its report with the 503", |s| {
        s.contains(&title) && s.contains("503")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the detail closed", |s| !s.contains(&title));

    tmux.keys(&["r"]);
    tmux.wait_for("the reset", |s| s.contains("0 probes"));
    tmux.keys(&["p"]);
    tmux.wait_for("probes again", |s| {
        !s.contains("PAUSED") && count(s).is_some_and(|n| n >= 3)
    });

    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(history.contains("OUTCOMES"), "{history}");
    assert!(history.contains("TIMELINE (last "), "{history}");
    let code = tmux.exit_code();
    assert!(code == "0" || code == "9", "exit code {code}");
}

/// A pid file and the shell line that runs netpeel under that pid (`exec`).
fn with_pid_file(dir: &Path, args: &[&str]) -> (std::path::PathBuf, String) {
    let pid_file = dir.join("pid");
    let line = format!(
        "sh -c 'echo $$ > {}; exec \"$0\" \"$@\"' {}",
        pid_file.display(),
        netpeel_line(args)
    );
    (pid_file, line)
}

fn send_signal(pid_file: &Path, signal: &str) {
    let pid = std::fs::read_to_string(pid_file).expect("pid file");
    let sent = Command::new("kill")
        .args([signal, pid.trim()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}

/// A refused port, three retries, a long backoff: two attempts fail at once (urllib3 does not
/// sleep before the first retry), then the run sleeps 10 s.
fn refused_with_long_backoff() -> Vec<String> {
    let port = testkit::tcp::refused_addr().port();
    [
        "--retries",
        "3",
        "--backoff-factor",
        "5",
        &format!("http://127.0.0.1:{port}/"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `line` typed into a fresh 80×24 shell, once its replay sleeps before attempt 3.
fn replay_in_its_sleep(line: &str) -> (Tmux, String) {
    let tmux = Tmux::start(80, 24);
    tmux.type_line(line);
    let screen = tmux.wait_for("the sleep before attempt 3", |s| {
        s.contains("sleeping") && s.contains("before attempt 3")
    });
    (tmux, screen)
}

/// The report printed on the way out holds the replay's two attempts and says it was cut.
fn assert_two_attempts_reported(tmux: &Tmux) -> String {
    let history = tmux.history();
    assert!(history.contains("REPLAY  policy urllib3"), "{history}");
    assert!(history.contains("  #2 "), "{history}");
    assert!(
        history.contains("interrupted after 2 attempts"),
        "the report's result:\n{history}"
    );
    history
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_replay_in_its_sleep_keeps_what_it_found_and_q_prints_it() {
    if !tmux_available() {
        return;
    }
    let args = refused_with_long_backoff();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The run's state leads the timeline; the header numbers the run and the attempt apart.
    let (tmux, screen) = replay_in_its_sleep(&netpeel_line(&args));
    assert!(
        screen.contains("run 1 · waiting before attempt 3"),
        "{screen}"
    );
    std::thread::sleep(Duration::from_millis(600));
    tmux.keys(&["c"]);
    let screen = tmux.wait_for("the cancelled run", |s| {
        s.contains("cancelled after 2 attempts")
    });
    // No stage is left waiting for a run that is over.
    assert!(!screen.contains("waiting"), "{screen}");
    // The verdict is the attempts' (the run's exit code is 130: it was cut).
    assert!(
        screen.contains("Verdict of the last attempt (run cancelled: exit code 130)"),
        "{screen}"
    );
    assert!(screen.contains("TCP failed"), "{screen}");
    // Tab to the timeline, Enter gives it the body: the cut sleep shows how long it ran, not
    // its full 10 s.
    tmux.keys(&["Tab", "Tab", "Tab", "Enter"]);
    let screen = tmux.wait_for("the expanded timeline", |s| s.contains(" #2 "));
    let slept = screen
        .lines()
        .find(|l| l.contains(" #2 "))
        .unwrap_or_default();
    assert!(
        slept.contains("slept ") && slept.contains("of 10.00 s, cancelled"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = assert_two_attempts_reported(&tmux);
    assert!(
        history.contains("netpeel: interrupted: run 1 stopped after 2 attempts (reported above)"),
        "{history}"
    );
    assert_eq!(tmux.exit_code(), "130");
}

#[tokio::test(flavor = "multi_thread")]
async fn quitting_or_a_hangup_between_attempts_prints_the_attempts_so_far() {
    if !tmux_available() {
        return;
    }
    let args = refused_with_long_backoff();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Ctrl-C (and q alike) while the run sleeps.
    let (tmux, _) = replay_in_its_sleep(&netpeel_line(&args));
    tmux.keys(&["C-c"]);
    tmux.wait_for_shell();
    let history = assert_two_attempts_reported(&tmux);
    assert!(
        history.contains("netpeel: interrupted: run 1 stopped after 2 attempts"),
        "{history}"
    );
    assert!(!history.contains("had not finished"), "{history}");
    assert_eq!(tmux.exit_code(), "130");
    drop(tmux);

    // SIGHUP (the SSH session went away) in the same place.
    let dir = tempfile::tempdir().expect("temp dir");
    let (pid_file, line) = with_pid_file(dir.path(), &args);
    let (tmux, _) = replay_in_its_sleep(&line);
    send_signal(&pid_file, "-HUP");
    tmux.wait_for_shell();
    assert_two_attempts_reported(&tmux);
    assert_eq!(tmux.exit_code(), "130");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_after_the_probe_finished_prints_its_report() {
    if !tmux_available() {
        return;
    }
    let port = testkit::tcp::refused_addr().port();
    let url = format!("http://127.0.0.1:{port}/");
    let dir = tempfile::tempdir().expect("temp dir");
    let (pid_file, line) = with_pid_file(dir.path(), &[&url]);
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&line);
    tmux.wait_for("the verdict", |s| s.contains("Verdict (exit code 5)"));
    send_signal(&pid_file, "-TERM");
    let screen = tmux.wait_for_shell();
    assert!(screen.contains("netpeel: interrupted"), "{screen}");
    let history = tmux.history();
    assert!(history.contains("VERDICT: TCP failed"), "{history}");
    assert_eq!(tmux.exit_code(), "130");
}

/// The time after `label` on the screen, in seconds ("run 2 · running 1.2 s" → 1.2).
fn clock_after(screen: &str, label: &str) -> Option<f64> {
    let rest = screen.split(label).nth(1)?;
    let mut words = rest.split_whitespace();
    let n: f64 = words.next()?.parse().ok()?;
    match words.next()? {
        "ms" => Some(n / 1000.0),
        "s" => Some(n),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_running_clock_starts_with_the_run_not_with_the_last_screen_update() {
    if !tmux_available() {
        return;
    }
    // A server that never answers: each run waits out a 2 s read timeout.
    let server = HttpServer::start(Behavior::StallBeforeResponse).await;
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&["--read-timeout", "2", &server.url()]));
    tmux.wait_for("run 1 failed", |s| s.contains("run 1 · failed"));
    // Idle for 3 s (nothing redraws), then r: the clock counts from r, not from run 1's end.
    std::thread::sleep(Duration::from_secs(3));
    tmux.keys(&["r"]);
    let running = "run 2 · running ";
    let screen = tmux.wait_for("run 2 running", |s| clock_after(s, running).is_some());
    let clock = clock_after(&screen, running).unwrap_or(f64::MAX);
    assert!(clock < 1.5, "run 2 only just started:\n{screen}");
    // Cancelled, its total is its own too.
    tmux.keys(&["c"]);
    let cancelled = "run 2 · cancelled after ";
    let screen = tmux.wait_for("run 2 cancelled", |s| clock_after(s, cancelled).is_some());
    let after = clock_after(&screen, cancelled).unwrap_or(f64::MAX);
    assert!(after < 2.0, "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
}

/// A TLS server with an expired certificate, and its CA file for `--cacert`.
async fn expired_server() -> (TlsServer, String) {
    let server = TlsServer::start(CertKind::Expired, Behavior::ok("hello\n")).await;
    let ca = server.ca_pem_path.display().to_string();
    (server, ca)
}

/// Issue 11, item 12: a terminal that cannot host the dashboard (TERM=dumb, a TERM terminfo
/// does not know) gets the printed report, as a pipe does: no alternate screen.
#[tokio::test(flavor = "multi_thread")]
async fn a_dumb_terminal_gets_the_printed_report() {
    if !tmux_available() {
        return;
    }
    let (server, ca) = expired_server().await;
    let tmux = Tmux::start(80, 24);
    for term in ["dumb", "no-such-terminal-np"] {
        tmux.type_line("clear");
        let line = netpeel_line(&["--cacert", &ca, &server.url()]);
        tmux.type_line(&format!("TERM={term} {line}"));
        let screen = tmux.wait_for("the printed report", |s| {
            s.contains("exit code 7") && s.trim_end().ends_with(PROMPT.trim_end())
        });
        assert!(
            screen.contains("VERDICT: TLS failed (cert_expired)"),
            "{term}: {screen}"
        );
        assert!(!screen.contains("Verdict (exit code"), "{term}: {screen}");
        assert_eq!(tmux.format("#{alternate_on}"), "0");
        assert_eq!(tmux.exit_code(), "7", "{term}");
    }
}

/// Issue 11, item 12: with --ascii the dashboard and the report printed on quit are pure
/// ASCII, arrows and all.
#[tokio::test(flavor = "multi_thread")]
async fn ascii_holds_for_the_report_printed_on_quit() {
    if !tmux_available() {
        return;
    }
    let (server, ca) = expired_server().await;
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&["--ascii", "--cacert", &ca, &server.url()]));
    let screen = tmux.wait_for("the verdict", |s| s.contains("Verdict (exit code 7)"));
    assert!(screen.is_ascii(), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(history.contains("VERDICT: TLS failed"), "{history}");
    // The certificate's validity reads "… -> …" (an arrow in Unicode).
    assert!(history.contains(" -> "), "{history}");
    assert!(history.bytes().all(|b| b < 0x80), "{history}");
}

/// Issue 11, item 13: Ctrl-Z gives the shell its terminal back (normal screen, cursor) and
/// stops netpeel; `fg` brings the dashboard back, drawn whole.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_z_suspends_and_fg_redraws() {
    if !tmux_available() {
        return;
    }
    let (server, ca) = expired_server().await;
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&["--cacert", &ca, &server.url()]));
    tmux.wait_for("the verdict", |s| s.contains("Verdict (exit code 7)"));
    tmux.keys(&["C-z"]);
    let screen = tmux.wait_for_shell();
    assert!(screen.contains("Stopped"), "{screen}");
    tmux.type_line("fg");
    let screen = tmux.wait_for("the dashboard again", |s| {
        s.contains("Verdict (exit code 7)") && s.contains("q quit")
    });
    assert_eq!(tmux.format("#{alternate_on}"), "1", "{screen}");
    assert!(
        screen.contains("certificate expired 3 days ago"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    assert_eq!(tmux.exit_code(), "7");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reuse_view_counts_down_the_gap_shows_the_verdict_and_q_prints_the_report() {
    if !tmux_available() {
        return;
    }
    // A request after 0.5 s idle is read and never answered: the 2 s gap ends in ReadTimeout.
    let args = ["--read-timeout", "1", "--reuse-after", "0.2,2"];
    let (_server, tmux) = reuse_in_tmux(IdleEnd::Silent(Duration::from_millis(500)), &args).await;
    let screen = tmux.wait_for("the idle countdown", |s| {
        s.contains("netpeel reuse") && s.contains(" s of 2.0 s, ") && s.contains(" s left")
    });
    assert!(
        screen.contains("first request, new connection:"),
        "{screen}"
    );
    assert!(screen.contains("running"), "{screen}");
    let screen = tmux.wait_for("the verdict", |s| s.contains("VERDICT: After"));
    assert!(
        screen.contains("silent ReadTimeout: no answer on the idle connection"),
        "{screen}"
    );
    assert!(
        screen.contains("second request, same connection (DNS/TCP/TLS reused):"),
        "{screen}"
    );
    assert!(
        screen.contains("open   answered on the same connection"),
        "{screen}"
    );
    // ↑ chooses the 0.2 s gap, x shows the fix, any key closes it.
    tmux.keys(&["Up"]);
    tmux.wait_for("the first gap chosen", |s| s.contains("gap 200 ms"));
    tmux.keys(&["x"]);
    tmux.wait_for("the fix", |s| s.contains("Export: the fix"));
    tmux.keys(&["PageDown"]);
    tmux.wait_for("the fix scrolled", |s| s.contains("TCP_KEEPIDLE"));
    tmux.keys(&["Space"]);
    tmux.wait_for("the fix closed", |s| !s.contains("Export: the fix"));
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(
        history.contains("REUSE  the connection kept idle"),
        "{history}"
    );
    assert!(
        history.contains("no answer on the idle connection"),
        "{history}"
    );
    assert_eq!(tmux.exit_code(), "8");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_in_the_reuse_view_prints_the_gaps_that_had_ended() {
    if !tmux_available() {
        return;
    }
    let (_server, tmux) = reuse_in_tmux(IdleEnd::Never, &["--reuse-after", "0.2,30"]).await;
    tmux.wait_for("the first gap's end while the second idles", |s| {
        s.contains("open   answered on the same connection") && s.contains(" s left")
    });
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for_shell();
    assert!(
        screen.contains("interrupted: the gaps that had ended"),
        "{screen}"
    );
    let history = tmux.history();
    assert!(
        history.contains("answered on the same connection"),
        "{history}"
    );
    assert_eq!(tmux.exit_code(), "130");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reuse_view_honours_no_report_on_exit() {
    if !tmux_available() {
        return;
    }
    let args = ["--no-report-on-exit", "--reuse-after", "0.1"];
    let (_server, tmux) = reuse_in_tmux(IdleEnd::Never, &args).await;
    tmux.wait_for("the verdict", |s| {
        s.contains("VERDICT: Every gap was answered")
    });
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(!history.contains("REUSE  the connection"), "{history}");
    assert_eq!(tmux.exit_code(), "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reuse_view_shows_each_sweep_try_and_the_estimate() {
    if !tmux_available() {
        return;
    }
    // Closes after 0.9 s idle: the first round (0.2 s to 1.2 s) measures it while it runs.
    let args = ["--idle-sweep", "1.2"];
    let (_server, tmux) = reuse_in_tmux(IdleEnd::Fin(Duration::from_millis(900)), &args).await;
    tmux.wait_for("the sweep's first round", |s| {
        s.contains("sweep up to 1.20 s: round 1, 6 connections")
    });
    let screen = tmux.wait_for("the estimate", |s| s.contains("(fin), 1 round(s)"));
    assert!(screen.contains("6 gap(s): 6 ended"), "{screen}");
    assert!(screen.contains("200 ms r1  open"), "{screen}");
    assert!(
        screen.contains("1.20 s r1  fin    closed (FIN) after"),
        "{screen}"
    );
    assert!(
        screen.contains("VERDICT: The server closes idle connections after"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    assert!(
        tmux.history().contains("idle sweep up to"),
        "the text report"
    );
    assert_eq!(tmux.exit_code(), "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_in_the_reuse_view_prints_the_gaps_that_had_ended() {
    if !tmux_available() {
        return;
    }
    let server = KeepAliveServer::start(IdleEnd::Never).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (pid_file, line) = with_pid_file(dir.path(), &["--reuse-after", "0.1,30", &server.url()]);
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&line);
    tmux.wait_for("the first gap's end while the second idles", |s| {
        s.contains("open   answered on the same connection") && s.contains(" s left")
    });
    send_signal(&pid_file, "-HUP");
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(
        history.contains("REUSE  the connection kept idle"),
        "{history}"
    );
    assert!(
        history.contains("interrupted: the gaps that had ended"),
        "{history}"
    );
    assert_eq!(tmux.exit_code(), "130");
}

/// A keep-alive server that gives up on idle connections as `end` says, and reuse mode run on
/// it with `args` in an 80×24 tmux window.
async fn reuse_in_tmux(end: IdleEnd, args: &[&str]) -> (KeepAliveServer, Tmux) {
    let server = KeepAliveServer::start(end).await;
    let tmux = Tmux::start(80, 24);
    let url = server.url();
    let mut line: Vec<&str> = args.to_vec();
    line.push(&url);
    tmux.type_line(&netpeel_line(&line));
    (server, tmux)
}

// ---- Explain in the dashboard: `p`, a bracketed paste, Enter; `netpeel explain FILE` ----

/// The corpus's real traceback of a refused connection, on a port refused now.
fn refused_traceback() -> (String, u16) {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/explain/corpus");
    let text = std::fs::read_to_string(format!("{corpus}/requests_refused.txt")).expect("corpus");
    let port = testkit::tcp::refused_addr().port();
    let text = text
        .replace("port=45287", &format!("port={port}"))
        .replace(":45287/", &format!(":{port}/"));
    (text, port)
}

impl Tmux {
    /// Paste `text` into the pane as a terminal does: bracketed, when the application asked
    /// for it (`paste-buffer -p`).
    fn paste(&self, dir: &Path, text: &str) {
        let file = dir.join("paste.txt");
        std::fs::write(&file, text).expect("paste file");
        let path = file.display().to_string();
        let out = self.run(&["load-buffer", "-b", "np", &path]);
        assert!(out.status.success(), "load-buffer: {out:?}");
        let out = self.run(&["paste-buffer", "-p", "-d", "-b", "np", "-t", "e2e"]);
        assert!(out.status.success(), "paste-buffer: {out:?}");
    }
}

/// The dashboard on a healthy loopback server at 80×24, its first run done (the screen then),
/// and `p` pressed: the paste box open.
async fn paste_box_open() -> (Tmux, tempfile::TempDir, HttpServer, String) {
    let server = HttpServer::start(Behavior::ok("hello\n")).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::start(80, 24);
    tmux.type_line(&netpeel_line(&["--no-color", &server.url()]));
    let before = tmux.wait_for("the first run", |s| s.contains("Verdict (exit code 0)"));
    tmux.keys(&["p"]);
    tmux.wait_for("the paste box", |s| s.contains("Paste the error"));
    (tmux, dir, server, before)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_traceback_is_explained_and_what_it_names_is_probed() {
    if !tmux_available() {
        return;
    }
    let (tmux, dir, _server, _) = paste_box_open().await;
    let (text, port) = refused_traceback();
    tmux.paste(dir.path(), &text);
    let lines = text.lines().count();
    let screen = tmux.wait_for("the paste in the box", |s| {
        s.contains(&format!("{lines} lines"))
    });
    assert!(
        screen.contains("Traceback (most recent call last):"),
        "{screen}"
    );
    assert!(screen.contains("Enter/^D explain"), "{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("then and now", |s| {
        s.contains("Verdict (exit code 5)") && s.contains("same failure")
    });
    for words in [
        "Then: the pasted error",
        "then  TCP / connection_refused",
        &format!("http://127.0.0.1:{port}/v1/items?page=2&token=***"),
        "run 2 · failed",
    ] {
        assert!(screen.contains(words), "{words:?} in\n{screen}");
    }
    assert!(!screen.contains("s3cr3t"), "the token is masked:\n{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(
        history.contains("THEN  what the pasted error says"),
        "{history}"
    );
    assert!(history.contains("THEN vs NOW"), "{history}");
    assert!(!history.contains("s3cr3t"), "{history}");
    assert_eq!(tmux.exit_code(), "5");
}

/// A terminal pasting without brackets sends the text as keys, each line break as Enter
/// (tmux's `paste-buffer` without `-p`): the burst stays text, a lone Enter explains.
#[tokio::test(flavor = "multi_thread")]
async fn a_paste_without_brackets_is_text_until_a_lone_enter() {
    if !tmux_available() {
        return;
    }
    let (tmux, dir, _server, _) = paste_box_open().await;
    // curl's two lines, the command and its error: the line break between them must not
    // explain the first alone. (Short: crossterm 0.29 reads a burst of keys 1 KiB at a time
    // and may leave the rest of a longer one until the next key.)
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/explain/corpus");
    let port = testkit::tcp::refused_addr().port().to_string();
    let text = std::fs::read_to_string(format!("{corpus}/curl_refused.txt"))
        .expect("corpus")
        .replace("37643", &port);
    let file = dir.path().join("paste.txt");
    std::fs::write(&file, &text).expect("paste file");
    let path = file.display().to_string();
    assert!(
        tmux.run(&["load-buffer", "-b", "np", &path])
            .status
            .success()
    );
    assert!(
        tmux.run(&["paste-buffer", "-d", "-b", "np", "-t", "e2e"])
            .status
            .success()
    );
    let screen = tmux.wait_for("the whole paste in the box", |s| {
        s.contains("2 lines") && s.contains("curl: (7) Failed to connect")
    });
    assert!(!screen.contains("no error netpeel recognises"), "{screen}");
    assert!(!screen.contains("Then: the pasted error"), "{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("then and now", |s| {
        s.contains("Verdict (exit code 5)") && s.contains("same failure")
    });
    assert!(
        screen.contains("then  TCP / connection_refused"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    assert_eq!(tmux.exit_code(), "5");
}

#[tokio::test(flavor = "multi_thread")]
async fn escape_sequences_in_a_paste_do_not_reach_the_terminal() {
    if !tmux_available() {
        return;
    }
    let (tmux, dir, _server, before) = paste_box_open().await;
    let title = tmux.format("#{pane_title}");
    // A retitle (OSC 2), a clear screen and a cursor move home, then text to overwrite with.
    let hostile = "\u{1b}]2;pwned\u{7}\u{1b}[2J\u{1b}[HFAKE VERDICT: ok\n\u{9b}31mred\n";
    tmux.paste(dir.path(), hostile);
    let screen = tmux.wait_for("the paste, escaped", |s| s.contains("2 lines"));
    assert!(
        screen.contains(r"\x1b]2;pwned\x07\x1b[2J\x1b[HFAKE VERDICT: ok"),
        "{screen}"
    );
    assert!(screen.contains(r"\x9b31mred"), "{screen}");
    assert!(
        screen.contains("netpeel GET"),
        "the screen was not cleared:\n{screen}"
    );
    assert_eq!(
        tmux.format("#{pane_title}"),
        title,
        "the title is unchanged"
    );
    tmux.keys(&["Escape"]);
    let after = tmux.wait_for("the box closed", |s| !s.contains("Paste an error"));
    assert_eq!(after, before, "the screen is as it was");
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    assert_eq!(tmux.exit_code(), "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_file_at_a_terminal_opens_the_dashboard() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (text, port) = refused_traceback();
    let file = dir.path().join("traceback.txt");
    std::fs::write(&file, &text).expect("traceback file");
    let tmux = Tmux::start(80, 24);
    let file = file.display().to_string();
    tmux.type_line(&netpeel_line(&["explain", "--no-color", &file]));
    let screen = tmux.wait_for("then and now", |s| {
        s.contains("Verdict (exit code 5)") && s.contains("same failure")
    });
    assert!(
        screen.contains("then  TCP / connection_refused"),
        "{screen}"
    );
    assert!(screen.contains(&format!("127.0.0.1:{port}")), "{screen}");
    assert!(screen.contains("run 1 · failed"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(history.contains("THEN vs NOW"), "{history}");
    assert_eq!(tmux.exit_code(), "5");
    // Piped, the same file prints the report (no dashboard), as before.
    tmux.type_line(&format!("{} | cat", netpeel_line(&["explain", &file])));
    tmux.wait_for_shell();
    let history = tmux.history();
    assert!(history.matches("THEN vs NOW").count() >= 2, "{history}");
}
