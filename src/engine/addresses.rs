//! `--all-addresses`: probe every resolved address on its own, through TCP, TLS and HTTP. One
//! bad backend behind round-robin DNS is a classic intermittent outage; a table with a row per
//! address makes it visible at once.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::StreamExt;

use super::events::Events;
use super::settings::{ProbeSettings, ResolveOverride};
use super::target::TargetHost;
use super::verdict;
use super::{AddressProbe, ProbeOutcome, StageResult};

/// Most addresses probed on their own; a DNS answer may hold thousands. The rest are counted.
pub const MAX_ADDRESS_ROWS: usize = 32;
/// Address probes running at once: a few, not thousands of connections to one target.
const CONCURRENT_PROBES: usize = 8;

/// The addresses worth probing one by one: those DNS gave, when there is more than one and no
/// proxy stands in between (through a proxy the addresses are the proxy's, not the target's).
pub fn candidates(outcome: &ProbeOutcome) -> Vec<IpAddr> {
    if outcome.settings.proxy.proxy.is_some() {
        return Vec::new();
    }
    outcome
        .connection
        .dns
        .detail()
        .map(|d| d.addresses.clone())
        .unwrap_or_default()
}

/// Probe each address with the same settings, pinned to it (as `--resolve` would), without
/// following redirects; all at once, since each is bounded by the same timeouts.
/// `remaining` is what is left of `--max-time`: the rows share the probe's deadline.
pub async fn probe_each(
    outcome: &ProbeOutcome,
    settings: &ProbeSettings,
    remaining: Option<Duration>,
) -> Vec<AddressProbe> {
    let Ok(target) = &outcome.target else {
        return Vec::new();
    };
    if remaining.is_some_and(|r| r.is_zero()) {
        return Vec::new();
    }
    let host = match &target.host {
        TargetHost::Name(n) => n.clone(),
        TargetHost::Ip(ip) => ip.to_string(),
    };
    let probes = candidates(outcome)
        .into_iter()
        .take(MAX_ADDRESS_ROWS)
        .map(|addr| {
            let mut pinned = settings.clone();
            pinned.url = target.url.to_string();
            pinned.follow_redirects = false;
            pinned.all_addresses = false;
            pinned.max_time = remaining;
            pinned.resolve = vec![ResolveOverride {
                host: host.clone(),
                port: target.port,
                addrs: vec![addr],
            }];
            async move {
                let o = Box::pin(super::probe(pinned, Events::none())).await;
                row(addr, &o)
            }
        });
    // In DNS order, a few at a time.
    futures_util::stream::iter(probes)
        .buffered(CONCURRENT_PROBES)
        .collect()
        .await
}

fn row(address: IpAddr, o: &ProbeOutcome) -> AddressProbe {
    let v = verdict::judge(o);
    AddressProbe {
        address,
        tcp: o.connection.tcp.elapsed(),
        tls: match &o.connection.tls {
            StageResult::Skipped { .. } => None,
            other => other.elapsed(),
        },
        http: o.http.elapsed(),
        status: o.http.detail().map(|x| x.response.status),
        kind: v.kind,
        summary: v.summary,
    }
}
