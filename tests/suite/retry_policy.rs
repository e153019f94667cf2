//! The replay's urllib3 policy checked against the REAL urllib3 `Retry`, with no network.
//!
//! Every case is a `ReplaySettings` plus a sequence of synthetic attempts (errors named after
//! the exception urllib3's pool would hand to `Retry.increment`, or responses with a status and
//! an optional `Retry-After`). `tests/differential/retry_schedule.py` drives a real `Retry` the
//! way `HTTPConnectionPool.urlopen` does (with `random.random`, `time.time` and `time.sleep`
//! faked) and pushes whatever escapes through requests' real `HTTPAdapter.send`; netpeel's
//! `replay::policy::decide` is asked after every prefix of the same sequence. Both must agree
//! on every step: retry and how long to sleep (and why), or stop and with what — the response,
//! the exception raised as it is, or the exception wrapping `MaxRetryError` and its reason.

use std::time::{Duration, UNIX_EPOCH};

use netpeel::replay::policy::{
    AttemptError, AttemptRecord, ConnectFault, Decision, OtherFault, ReadFault, ReplaySettings,
    SleepReason, StopOutcome, decide,
};
use serde_json::{Value, json};

use crate::common;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/differential/retry_schedule.py"
);
const NOW: f64 = 1_700_000_000.0;
/// `Tue, 14 Nov 2023 22:14:50 GMT` is NOW + 90 s.
const DATE_PLUS_90: &str = "Tue, 14 Nov 2023 22:14:50 GMT";

struct Case {
    name: &'static str,
    settings: ReplaySettings,
    random: f64,
    steps: Vec<Value>,
}

fn case(name: &'static str, settings: ReplaySettings, steps: Vec<Value>) -> Case {
    Case {
        name,
        settings,
        random: 0.5,
        steps,
    }
}

fn u3(f: impl FnOnce(&mut ReplaySettings)) -> ReplaySettings {
    let mut s = ReplaySettings::urllib3_default();
    f(&mut s);
    s
}

fn req(f: impl FnOnce(&mut ReplaySettings)) -> ReplaySettings {
    let mut s = ReplaySettings::default();
    f(&mut s);
    s
}

fn err(name: &str) -> Value {
    json!(name)
}

fn errs(name: &str, n: usize) -> Vec<Value> {
    vec![json!(name); n]
}

fn resp(status: u16) -> Value {
    json!({ "status": status })
}

fn resp_ra(status: u16, retry_after: &str) -> Value {
    json!({ "status": status, "retry_after": retry_after })
}

fn cases() -> Vec<Case> {
    vec![
        // requests' default adapter: Retry(0, read=False)
        case(
            "default: refused",
            ReplaySettings::default(),
            vec![err("refused")],
        ),
        case(
            "default: dns",
            ReplaySettings::default(),
            vec![err("name_resolution")],
        ),
        case(
            "default: connect timeout",
            ReplaySettings::default(),
            vec![err("connect_timeout")],
        ),
        case(
            "default: read timeout",
            ReplaySettings::default(),
            vec![err("read_timeout")],
        ),
        case(
            "default: protocol",
            ReplaySettings::default(),
            vec![err("protocol")],
        ),
        case("default: ssl", ReplaySettings::default(), vec![err("ssl")]),
        case(
            "default: proxy 407",
            ReplaySettings::default(),
            vec![err("proxy_other")],
        ),
        case(
            "default: proxy dns",
            ReplaySettings::default(),
            vec![err("proxy_name_resolution")],
        ),
        case("default: 503", ReplaySettings::default(), vec![resp(503)]),
        case(
            "default: 503 Retry-After (total 0 is falsy)",
            ReplaySettings::default(),
            vec![resp_ra(503, "1")],
        ),
        // Retry() defaults: total 10
        case(
            "Retry(): 11 refused",
            ReplaySettings::urllib3_default(),
            errs("refused", 12),
        ),
        case(
            "backoff 0.5, total 3",
            u3(|s| {
                s.total = Some(3);
                s.backoff_factor = 0.5;
            }),
            errs("connect_timeout", 5),
        ),
        Case {
            random: 0.75,
            ..case(
                "backoff 1, max 5, jitter 2 (jitter before the cap)",
                u3(|s| {
                    s.total = Some(6);
                    s.backoff_factor = 1.0;
                    s.backoff_max = 5.0;
                    s.backoff_jitter = 2.0;
                }),
                errs("new_connection", 8),
            )
        },
        Case {
            random: 0.25,
            ..case(
                "jitter without a factor",
                u3(|s| s.backoff_jitter = 3.0),
                errs("ssl", 4),
            )
        },
        case(
            "connect=2 (ConnectTimeout when exhausted)",
            u3(|s| s.connect = Some(2)),
            errs("connect_timeout", 5),
        ),
        case(
            "read=1 mixed with connect",
            u3(|s| {
                s.read = Some(1);
                s.backoff_factor = 0.1;
            }),
            vec![
                err("refused"),
                err("read_timeout"),
                err("protocol"),
                err("refused"),
            ],
        ),
        case(
            "POST read timeout is raised as is",
            u3(|s| s.method = "POST".into()),
            vec![err("refused"), err("read_timeout")],
        ),
        case(
            "POST protocol error is raised as is",
            u3(|s| s.method = "POST".into()),
            vec![err("ssl"), err("protocol")],
        ),
        case(
            "allowed_methods None retries POST reads",
            u3(|s| {
                s.method = "POST".into();
                s.allowed_methods.clear();
                s.total = Some(2);
            }),
            errs("read_timeout", 4),
        ),
        case(
            "allowed_methods are not upper-cased",
            u3(|s| s.allowed_methods = vec!["get".into()]),
            vec![err("read_timeout")],
        ),
        case(
            "forcelist, status=2: RetryError",
            u3(|s| {
                s.status_forcelist = vec![500, 503];
                s.status = Some(2);
                s.backoff_factor = 1.0;
            }),
            vec![resp(503), resp(500), resp(503), resp(503)],
        ),
        case(
            "forcelist, raise_on_status=False",
            u3(|s| {
                s.status_forcelist = vec![503];
                s.status = Some(1);
                s.raise_on_status = false;
            }),
            vec![resp(503), resp(503)],
        ),
        case(
            "forcelist, total=1",
            u3(|s| {
                s.total = Some(1);
                s.status_forcelist = vec![502];
            }),
            vec![resp(502), resp(502)],
        ),
        case(
            "429 Retry-After without forcelist, then 200",
            u3(|s| s.backoff_factor = 10.0),
            vec![resp_ra(429, "7"), resp_ra(413, "3"), resp(200)],
        ),
        case(
            "500 Retry-After not in forcelist",
            ReplaySettings::urllib3_default(),
            vec![resp_ra(500, "7")],
        ),
        case(
            "500 in forcelist honours Retry-After",
            u3(|s| s.status_forcelist = vec![500]),
            vec![resp_ra(500, "7"), resp(500)],
        ),
        case(
            "Retry-After HTTP dates, capped",
            u3(|s| s.retry_after_max = 60.0),
            vec![
                resp_ra(503, DATE_PLUS_90),
                resp_ra(503, "Tuesday, 14-Nov-23 22:14:50 GMT"),
                resp_ra(503, "Tue Nov 14 22:14:50 2023"),
                resp_ra(503, "99999"),
            ],
        ),
        case(
            "Retry-After date not capped",
            ReplaySettings::urllib3_default(),
            vec![resp_ra(503, DATE_PLUS_90)],
        ),
        case(
            "Retry-After 0 and past dates fall back to the backoff",
            u3(|s| {
                s.backoff_factor = 10.0;
                s.status_forcelist = vec![503];
            }),
            vec![
                resp_ra(503, "0"),
                resp_ra(503, "Tue, 14 Nov 2023 22:00:00 GMT"),
                resp_ra(503, "0"),
            ],
        ),
        case(
            "invalid Retry-After raises InvalidHeader",
            ReplaySettings::urllib3_default(),
            vec![resp_ra(503, "soon")],
        ),
        case(
            "empty Retry-After with forcelist raises InvalidHeader",
            u3(|s| s.status_forcelist = vec![503]),
            vec![resp_ra(503, "")],
        ),
        case(
            "empty Retry-After without forcelist is no Retry-After",
            ReplaySettings::urllib3_default(),
            vec![resp_ra(503, "")],
        ),
        case(
            "total=None: the Retry-After rule needs a truthy total",
            u3(|s| {
                s.total = None;
                s.status = Some(3);
            }),
            vec![resp_ra(503, "1")],
        ),
        case(
            "Retry-After rule stops when total reaches 0",
            u3(|s| s.total = Some(2)),
            vec![resp_ra(429, "1"), resp_ra(429, "1"), resp_ra(429, "1")],
        ),
        case(
            "respect_retry_after_header=False uses the backoff",
            u3(|s| {
                s.respect_retry_after = false;
                s.status_forcelist = vec![503];
                s.backoff_factor = 1.0;
            }),
            vec![resp_ra(503, "60"), resp_ra(503, "60"), resp_ra(429, "60")],
        ),
        case(
            "other=1 for TLS errors",
            u3(|s| s.other = Some(1)),
            errs("ssl", 3),
        ),
        case(
            "proxy errors: connect vs other",
            u3(|s| {
                s.connect = Some(2);
                s.other = Some(0);
            }),
            vec![
                err("proxy_refused"),
                err("proxy_connect_timeout"),
                err("proxy_other"),
            ],
        ),
        case(
            "proxy connect errors exhaust connect",
            u3(|s| s.connect = Some(1)),
            vec![err("proxy_new_connection"), err("proxy_name_resolution")],
        ),
        case(
            "total=None, no limits: keeps retrying, backoff capped",
            u3(|s| {
                s.total = None;
                s.backoff_factor = 0.25;
                s.backoff_max = 3.0;
            }),
            {
                let mut steps = Vec::new();
                for _ in 0..4 {
                    steps.extend([
                        err("refused"),
                        err("read_timeout"),
                        err("ssl"),
                        err("protocol"),
                    ]);
                }
                steps
            },
        ),
        case(
            "status and errors share the history for the backoff",
            u3(|s| {
                s.backoff_factor = 1.0;
                s.status_forcelist = vec![503];
            }),
            vec![
                err("refused"),
                resp(503),
                err("read_timeout"),
                resp(503),
                resp(200),
            ],
        ),
        case(
            "read=False in a custom Retry",
            u3(|s| {
                s.read_disabled = true;
                s.total = Some(5);
            }),
            vec![err("connect_timeout"), err("protocol")],
        ),
        case(
            "total=0 with a forcelist: RetryError at once",
            req(|s| s.status_forcelist = vec![503]),
            vec![resp(503)],
        ),
        case(
            "raise_on_status=False with the Retry-After rule",
            u3(|s| {
                s.total = Some(1);
                s.raise_on_status = false;
            }),
            vec![resp_ra(503, "2"), resp_ra(503, "2")],
        ),
    ]
}

fn retry_kwargs(s: &ReplaySettings) -> Value {
    json!({
        "total": s.total,
        "connect": s.connect,
        "read": if s.read_disabled { json!(false) } else { json!(s.read) },
        "status": s.status,
        "other": s.other,
        "backoff_factor": s.backoff_factor,
        "backoff_max": s.backoff_max,
        "backoff_jitter": s.backoff_jitter,
        "status_forcelist": s.status_forcelist,
        "allowed_methods": if s.allowed_methods.is_empty() { Value::Null } else { json!(s.allowed_methods) },
        "respect_retry_after_header": s.respect_retry_after,
        "raise_on_status": s.raise_on_status,
        "retry_after_max": s.retry_after_max,
    })
}

fn record(step: &Value, method: &str) -> AttemptRecord {
    use AttemptError as E;
    let mut rec = match step {
        Value::String(name) => {
            let e = match name.as_str() {
                "name_resolution" => E::Connect(ConnectFault::NameResolution),
                "refused" => E::Connect(ConnectFault::Refused),
                "new_connection" => E::Connect(ConnectFault::NewConnection),
                "connect_timeout" => E::Connect(ConnectFault::Timeout),
                "proxy_name_resolution" => E::Connect(ConnectFault::ProxyNameResolution),
                "proxy_refused" => E::Connect(ConnectFault::ProxyRefused),
                "proxy_new_connection" => E::Connect(ConnectFault::ProxyNewConnection),
                "proxy_connect_timeout" => E::Connect(ConnectFault::ProxyTimeout),
                "read_timeout" => E::Read(ReadFault::Timeout),
                "protocol" => E::Read(ReadFault::Protocol),
                "ssl" => E::Other(OtherFault::Ssl),
                "proxy_other" => E::Other(OtherFault::Proxy),
                other => panic!("unknown step {other}"),
            };
            AttemptRecord::failed(e, method)
        }
        Value::Object(o) => {
            let status = o["status"].as_u64().expect("status") as u16;
            let r = AttemptRecord::response(status, method);
            match o.get("retry_after").and_then(Value::as_str) {
                Some(ra) => r.with_retry_after(ra),
                None => r,
            }
        }
        other => panic!("bad step {other}"),
    };
    rec.ended_at = UNIX_EPOCH + Duration::from_secs_f64(NOW);
    rec
}

fn round(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The Rust decision in the oracle's JSON shape.
fn normalize(d: &Decision) -> Value {
    match d {
        Decision::Retry { sleep, reason } => json!({
            "action": "retry",
            "sleep": round(sleep.as_secs_f64()),
            "reason": match reason {
                SleepReason::Backoff(_) => "backoff",
                SleepReason::RetryAfter => "retry_after",
            },
        }),
        Decision::Stop { outcome } => match outcome {
            StopOutcome::Response { status } => {
                json!({"action": "stop", "outcome": "response", "status": status})
            }
            StopOutcome::Raise { exception, cause } => json!({
                "action": "stop", "outcome": "raise", "exception": exception, "cause": cause,
            }),
            StopOutcome::MaxRetries {
                exception,
                reason,
                caused_by,
            } => {
                let mut v = json!({
                    "action": "stop", "outcome": "max_retries", "exception": exception,
                    "reason": reason,
                });
                if reason.ends_with("ResponseError") {
                    v["caused_by"] = json!(caused_by);
                }
                v
            }
            StopOutcome::LastError => json!({"action": "stop", "outcome": "last_error"}),
            StopOutcome::Interrupted { .. } => json!({"action": "stop", "outcome": "interrupted"}),
        },
    }
}

/// The oracle's decision with sleeps rounded and `caused_by` kept only for ResponseError (the
/// other reprs carry connection details netpeel does not model).
fn normalize_oracle(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(s) = v.get("sleep").and_then(Value::as_f64) {
        v["sleep"] = json!(round(s));
    }
    let keep = v
        .get("reason")
        .and_then(Value::as_str)
        .is_some_and(|r| r.ends_with("ResponseError"));
    if !keep && let Some(o) = v.as_object_mut() {
        o.remove("caused_by");
    }
    v
}

fn run_oracle(cases: &[Case]) -> Vec<Value> {
    let input = json!({
        "cases": cases.iter().map(|c| json!({
            "name": c.name,
            "retry": retry_kwargs(&c.settings),
            "method": c.settings.method,
            "now": NOW,
            "random": c.random,
            "steps": c.steps,
        })).collect::<Vec<_>>()
    });
    let doc: Value = crate::common::python_json(SCRIPT, &input);
    doc["cases"].as_array().expect("cases").clone()
}

#[test]
fn urllib3_policy_matches_real_urllib3() {
    if !common::requests_available("retry policy") {
        return;
    }
    let cases = cases();
    assert!(cases.len() >= 20);
    let oracle = run_oracle(&cases);
    assert_eq!(oracle.len(), cases.len());
    let mut failures = Vec::new();
    for (c, o) in cases.iter().zip(&oracle) {
        assert_eq!(o["name"], c.name);
        let want: Vec<Value> = o["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .map(normalize_oracle)
            .collect();
        let records: Vec<AttemptRecord> = c
            .steps
            .iter()
            .map(|s| record(s, &c.settings.method))
            .collect();
        let mut got = Vec::new();
        for i in 1..=records.len() {
            let mut rng = || c.random;
            let d = decide(&c.settings, &records[..i], &mut rng);
            let stop = matches!(d, Decision::Stop { .. });
            got.push(normalize(&d));
            if stop {
                break;
            }
        }
        if got != want {
            failures.push(format!(
                "{}:\n  urllib3: {}\n  netpeel: {}",
                c.name,
                Value::Array(want),
                Value::Array(got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from real urllib3:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
