//! Real reports for unit tests: the engine run against loopback (a refused port), so the
//! tests follow the report model as it changes.

use crate::engine::ProbeSettings;
use crate::engine::events::Events;
use crate::report::Report;

fn probe(url: String) -> Report {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime");
    let outcome = runtime.block_on(crate::engine::probe(
        ProbeSettings::new(url),
        Events::none(),
    ));
    crate::report::build(&outcome)
}

/// `https://127.0.0.1:PORT/` where nothing listens: TCP refused.
pub(crate) fn report_tcp_refused() -> Report {
    let addr = testkit::tcp::refused_addr();
    probe(format!("https://{addr}/"))
}
