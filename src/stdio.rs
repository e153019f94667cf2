//! What netpeel writes to stdout and stderr outside a renderer: one-line messages that cannot
//! be forged by what they quote, and output that a closed pipe ends quietly.

use std::io::Write;

/// One line on stderr, "netpeel: …", whatever the message quotes (a flag value, an environment
/// variable, a server's words). A closed stderr is no reason to fail.
pub(crate) fn say(msg: &str) {
    let line = format!("netpeel: {}\n", crate::report::escape::for_terminal(msg));
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Text on stdout; false when it could not be written. A closed pipe (`netpeel … | head`,
/// `| true`) ends the output quietly, as other Unix tools do; any other failure (a full disk)
/// is said on stderr, so a cut-short report never passes for a whole one.
#[must_use]
pub(crate) fn print_out(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => true,
        Err(e) => {
            say(&format!("cannot write the output: {e}"));
            false
        }
    }
}
