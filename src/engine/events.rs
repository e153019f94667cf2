//! Progress reported while a probe runs. The dashboard consumes these; the plain report ignores
//! them. Sending never blocks and never fails the probe (a closed receiver is fine).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::stage::Stage;

#[derive(Clone, Debug, PartialEq)]
pub enum ProbeEvent {
    StageStarted {
        stage: Stage,
    },
    StageFinished {
        stage: Stage,
        ok: bool,
        elapsed: Duration,
        summary: String,
    },
    StageSkipped {
        stage: Stage,
        reason: String,
    },
    /// One TCP connect attempt finished (urllib3 tries addresses one after another).
    ConnectAttempt {
        addr: SocketAddr,
        ok: bool,
        elapsed: Duration,
        detail: String,
    },
    /// A redirect is being followed: the next hop starts with its own stages.
    Redirected {
        status: u16,
        location: String,
    },
    Finished,
}

/// A cheap handle that stages use to report progress.
#[derive(Clone, Debug, Default)]
pub struct Events {
    tx: Option<UnboundedSender<ProbeEvent>>,
}

impl Events {
    pub fn new(tx: UnboundedSender<ProbeEvent>) -> Self {
        Events { tx: Some(tx) }
    }

    pub fn none() -> Self {
        Events { tx: None }
    }

    pub fn emit(&self, event: ProbeEvent) {
        if let Some(tx) = &self.tx {
            // A receiver that went away (dashboard closed) must not disturb the probe.
            let _ = tx.send(event);
        }
    }
}
