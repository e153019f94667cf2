//! The JSON Schema under assets/ and the check every `--json` output goes through.
//!
//! `assert_valid` is called by `common::probe` on every document the suite sees, so the schema
//! has to accept every real output; the tests here check that the schema is itself a valid
//! draft 2020-12 schema, that it agrees with the verdict table the binary prints, that real
//! outputs from loopback servers pass, and that it rejects documents that are subtly wrong.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Value, json};
use testkit::dns::{DnsAnswer, DnsServer};
use testkit::http::{Behavior, HttpServer};
use testkit::tcp::refused_addr;
use testkit::tls::{CertKind, TlsServer};

use crate::common;

const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/report.schema.json");
/// Embedded, so editing the schema rebuilds the suite.
const SCHEMA_TEXT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/report.schema.json"
));

/// The schema document, parsed once.
fn schema() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(SCHEMA_TEXT)
            .unwrap_or_else(|e| panic!("{SCHEMA_PATH} is not JSON: {e}"))
    })
}

/// The compiled validator, built once for the whole suite.
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::new(schema()).unwrap_or_else(|e| {
            panic!("{SCHEMA_PATH} does not compile as a draft 2020-12 schema: {e}")
        })
    })
}

/// Every way `doc` breaks the schema, one line each (empty when it is valid).
pub fn errors(doc: &Value) -> Vec<String> {
    validator()
        .iter_errors(doc)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!(
                "at {}: {e} (schema {})",
                if at.is_empty() { "/" } else { at.as_str() },
                e.schema_path()
            )
        })
        .collect()
}

/// Panics, listing every validation error and the whole document, unless `doc` matches
/// assets/report.schema.json.
pub fn assert_valid(doc: &Value) {
    let errs = errors(doc);
    if !errs.is_empty() {
        panic!(
            "the --json document does not match {SCHEMA_PATH} ({} error(s)):\n  {}\ndocument:\n{doc:#}",
            errs.len(),
            errs.join("\n  ")
        );
    }
    // The dashboard and the text report escape a report by reading it back as the model: every
    // document netpeel writes must read back.
    if let Err(e) = serde_json::from_value::<netpeel::report::Report>(doc.clone()) {
        panic!("the --json document does not read back as a report: {e}\ndocument:\n{doc:#}");
    }
}

/// The validator for `netpeel explain --no-probe --json` documents: the schema's
/// `#/$defs/explainOnly`, with the same definitions.
fn explain_only_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let wrapper = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": schema()["$defs"].clone(),
            "$ref": "#/$defs/explainOnly",
        });
        jsonschema::draft202012::new(&wrapper)
            .unwrap_or_else(|e| panic!("{SCHEMA_PATH}: #/$defs/explainOnly does not compile: {e}"))
    })
}

/// Panics unless `doc` matches `#/$defs/explainOnly` (the `explain --no-probe` document).
pub fn assert_valid_explain_only(doc: &Value) {
    let errs: Vec<String> = explain_only_validator()
        .iter_errors(doc)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errs.is_empty(),
        "the explain document does not match {SCHEMA_PATH}#/$defs/explainOnly:\n  {}\ndocument:\n{doc:#}",
        errs.join("\n  ")
    );
}

/// Asserts the schema rejects `doc`, which `what` broke on purpose.
fn assert_rejected(doc: &Value, what: &str) {
    assert!(
        !errors(doc).is_empty(),
        "the schema accepted a document with {what}:\n{doc:#}"
    );
}

fn enum_strings(v: &Value) -> BTreeSet<String> {
    v["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("expected an enum in {v:#}"))
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let meta = jsonschema::draft202012::meta::validator();
    let problems: Vec<String> = meta
        .iter_errors(schema)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{SCHEMA_PATH} breaks the 2020-12 meta-schema:\n  {}",
        problems.join("\n  ")
    );
    // And it compiles (every $ref resolves, every pattern is a valid regex).
    let _ = validator();
}

/// One row of `netpeel --verdict-table`.
struct Row {
    kind: String,
    layer: String,
    requests: Option<String>,
    urllib3: Option<String>,
    timeout: Option<&'static str>,
    curl_exit: Option<u8>,
    exit: Option<u8>,
}

fn verdict_table() -> Vec<Row> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netpeel"))
        .arg("--verdict-table")
        .output()
        .expect("netpeel --verdict-table runs");
    assert!(
        out.status.success(),
        "netpeel --verdict-table failed: {out:?}"
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 table");
    let unquote = |s: &str| s.trim().trim_matches('`').to_string();
    let opt = |s: &str| {
        let s = s.trim();
        (s != "-" && s != "(none)").then(|| unquote(s))
    };
    text.lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            assert_eq!(cells.len(), 10, "unexpected verdict table row: {line}");
            Row {
                kind: unquote(cells[1]),
                layer: cells[2].trim().to_string(),
                requests: opt(cells[4]),
                urllib3: opt(cells[5]),
                timeout: match cells[6].trim() {
                    "-" => None,
                    "connect-timeout" => Some("connect"),
                    "read-timeout" => Some("read"),
                    "dns-timeout" => Some("dns"),
                    "max-time" => Some("total"),
                    other => panic!("unknown timeout column {other:?} in {line}"),
                },
                curl_exit: opt(cells[7]).map(|c| c.parse().expect("curl exit is a number")),
                exit: cells[8].trim().parse().ok(),
            }
        })
        .collect()
}

/// The exit code netpeel uses for a layer (verdict::exit).
fn layer_exit(layer: &str) -> u8 {
    match layer {
        "url" => 3,
        "dns" => 4,
        "tcp" => 5,
        "proxy" => 6,
        "tls" => 7,
        "http" => 8,
        other => panic!("unknown layer {other}"),
    }
}

#[test]
fn schema_kinds_and_layers_match_the_verdict_table() {
    let table = verdict_table();
    let defs = &schema()["$defs"];
    let table_kinds: BTreeSet<String> = table.iter().map(|r| r.kind.clone()).collect();
    assert_eq!(
        table_kinds.len(),
        table.len(),
        "duplicate kinds in the verdict table"
    );
    assert_eq!(
        enum_strings(&defs["kindName"]),
        table_kinds,
        "$defs/kindName vs netpeel --verdict-table"
    );
    let layers: BTreeSet<String> = ["url", "dns", "tcp", "proxy", "tls", "http"]
        .map(String::from)
        .into();
    assert_eq!(enum_strings(&defs["layerName"]), layers);
    for row in &table {
        assert!(
            row.layer == "any" || layers.contains(&row.layer),
            "unknown layer {}",
            row.layer
        );
    }

    // Every row, as the verdict of a real failure document, must pass; the same verdict in
    // another layer, or with another exit code, must not.
    let base = json!({
        "ok": false, "summary": "s", "hint": "h", "notes": []
    });
    let doc = refused_doc();
    for row in &table {
        let layers_for_row: Vec<&str> = if row.layer == "any" {
            vec!["url", "dns", "tcp", "proxy", "tls", "http"]
        } else {
            vec![row.layer.as_str()]
        };
        for layer in layers_for_row {
            let exit = row.exit.unwrap_or_else(|| layer_exit(layer));
            let mut verdict = base.clone();
            verdict["layer"] = json!(layer);
            verdict["kind"] = json!(row.kind);
            verdict["requests_exception"] = json!(row.requests);
            verdict["urllib3_cause"] = json!(row.urllib3);
            verdict["governing_timeout"] = json!(row.timeout);
            verdict["curl_exit"] = json!(row.curl_exit);
            verdict["exit_code"] = json!(exit);
            let mut d = doc.clone();
            d["verdict"] = verdict.clone();
            let errs = errors(&d);
            assert!(
                errs.is_empty(),
                "kind {} in layer {layer}: {}",
                row.kind,
                errs.join("\n  ")
            );

            let mut wrong_exit = d.clone();
            wrong_exit["verdict"]["exit_code"] = json!(if exit == 4 { 5 } else { 4 });
            assert_rejected(
                &wrong_exit,
                &format!("kind {} with exit code of another layer", row.kind),
            );
            if row.layer != "any" {
                let other = if layer == "dns" { "tls" } else { "dns" };
                let mut wrong_layer = d.clone();
                wrong_layer["verdict"]["layer"] = json!(other);
                wrong_layer["verdict"]["exit_code"] = json!(layer_exit(other));
                assert_rejected(&wrong_layer, &format!("kind {} in layer {other}", row.kind));
            }
        }
    }
}

/// A connection-refused document from a real run (no server needed).
fn refused_doc() -> Value {
    let url = format!("http://{}/", refused_addr());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netpeel"))
        .args(["--json", &url])
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .output()
        .expect("netpeel runs");
    assert_eq!(out.status.code(), Some(5), "netpeel {url}: {out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_valid(&doc);
    doc
}

/// Runs `netpeel --json ARGS…`, checks the document against the schema and the exit code
/// against `verdict.exit_code`, and returns the document.
async fn checked(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = common::netpeel(&all).await;
    let doc = run.json();
    assert_valid(&doc);
    assert_eq!(
        doc["verdict"]["exit_code"].as_i64(),
        Some(i64::from(run.code)),
        "exit code for {args:?}"
    );
    doc
}

fn kind(doc: &Value) -> &Value {
    &doc["verdict"]["kind"]
}

#[tokio::test(flavor = "multi_thread")]
async fn real_outputs_match_the_schema() {
    // 200 over plain HTTP: TLS skipped, DNS skipped (IP literal).
    let ok = HttpServer::start(Behavior::ok("hello\n")).await;
    let doc = checked(&[&ok.url()]).await;
    assert_eq!(doc["verdict"]["ok"], true, "{doc:#}");
    assert_eq!(common::status(&doc, "tls"), "skipped");

    // The same through a name pinned with --resolve, with a secret header and a deadline.
    let pinned = format!("pinned.test:{}:127.0.0.1", ok.addr.port());
    let url = format!("http://pinned.test:{}/x?q=1", ok.addr.port());
    let doc = checked(&[
        "--resolve",
        &pinned,
        "-H",
        "Authorization: Bearer s3cret",
        "-m",
        "20",
        &url,
    ])
    .await;
    assert_eq!(doc["verdict"]["ok"], true, "{doc:#}");
    assert_eq!(
        common::stage(&doc, "dns")["detail"]["source"],
        "resolve_flag"
    );

    // 503: the http stage is failed but carries the response.
    let unavailable = HttpServer::start(Behavior::Respond {
        code: 503,
        headers: vec![("Retry-After".into(), "1".into())],
        body: b"unavailable\n".to_vec(),
    })
    .await;
    let doc = checked(&[&unavailable.url()]).await;
    assert_eq!(kind(&doc), "http_server_error");

    // No response before the read timeout: http detail without response.
    let stall = HttpServer::start(Behavior::StallBeforeResponse).await;
    let doc = checked(&["--read-timeout", "0.3", &stall.url()]).await;
    assert_eq!(kind(&doc), "read_timeout");
    assert_eq!(doc["verdict"]["governing_timeout"], "read");

    // Not HTTP at all.
    let garbage = HttpServer::start(Behavior::Garbage).await;
    let doc = checked(&[&garbage.url()]).await;
    assert_eq!(kind(&doc), "not_http");

    // TLS: a good handshake, an expired certificate (failed, and under --insecure).
    let good = TlsServer::start(CertKind::Valid, Behavior::ok("tls\n")).await;
    let ca = good.ca_pem_path.to_string_lossy().into_owned();
    let doc = checked(&["--cacert", &ca, &good.url()]).await;
    assert_eq!(doc["verdict"]["ok"], true, "{doc:#}");
    assert_eq!(common::status(&doc, "tls"), "ok");

    let expired = TlsServer::start(CertKind::Expired, Behavior::ok("old\n")).await;
    let ca = expired.ca_pem_path.to_string_lossy().into_owned();
    let doc = checked(&["--cacert", &ca, &expired.url()]).await;
    assert_eq!(kind(&doc), "cert_expired");
    let doc = checked(&["--cacert", &ca, "--insecure", &expired.url()]).await;
    assert_eq!(doc["verdict"]["ok"], true, "{doc:#}");
    assert_eq!(
        common::stage(&doc, "tls")["detail"]["verification_error_kind"],
        "cert_expired"
    );

    // A refused port.
    let doc = checked(&[&format!("http://{}/", refused_addr())]).await;
    assert_eq!(kind(&doc), "connection_refused");

    // Bad URLs.
    let doc = checked(&["htp://x"]).await;
    assert_eq!(kind(&doc), "unsupported_scheme");
    let doc = checked(&["http://127.0.0.1:99999/"]).await;
    assert_eq!(doc["verdict"]["layer"], "url");

    // DNS through the test server: an answer, NXDOMAIN, SERVFAIL.
    let dns = DnsServer::start(vec![
        (
            "ok.test",
            DnsAnswer::Records {
                cname_chain: vec!["alias.test".into()],
                a: vec![std::net::Ipv4Addr::LOCALHOST],
                aaaa: vec![],
                ttl: 60,
            },
        ),
        ("nx.test", DnsAnswer::NxDomain),
        ("servfail.test", DnsAnswer::ServFail),
    ])
    .await;
    let server = dns.addr.to_string();
    let doc = checked(&[
        "--dns",
        &server,
        &format!("http://ok.test:{}/", ok.addr.port()),
    ])
    .await;
    assert_eq!(doc["verdict"]["ok"], true, "{doc:#}");
    assert_eq!(common::stage(&doc, "dns")["detail"]["source"], "servers");
    let doc = checked(&["--dns", &server, "http://nx.test/"]).await;
    assert_eq!(kind(&doc), "nxdomain");
    assert_eq!(doc["verdict"]["layer"], "dns");
    let doc = checked(&[
        "--dns",
        &server,
        "--dns-timeout",
        "2",
        "http://servfail.test/",
    ])
    .await;
    assert_eq!(doc["verdict"]["layer"], "dns");
}

/// Pointer-style access for mutations: `doc.pointer_mut(p)` or a panic naming the path.
fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the sample document"))
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rejects_broken_documents() {
    let server = HttpServer::start(Behavior::Respond {
        code: 503,
        headers: vec![],
        body: b"down\n".to_vec(),
    })
    .await;
    let good = checked(&[&server.url()]).await;
    let refused = refused_doc();

    let mutate = |base: &Value, f: &dyn Fn(&mut Value)| {
        let mut d = base.clone();
        f(&mut d);
        d
    };

    let cases: Vec<(&str, Value)> = vec![
        (
            "an unknown kind",
            mutate(&good, &|d| *at(d, "/verdict/kind") = json!("http_teapot")),
        ),
        (
            "no verdict",
            mutate(&good, &|d| {
                d.as_object_mut().unwrap().remove("verdict");
            }),
        ),
        (
            "an extra top-level property",
            mutate(&good, &|d| d["extra"] = json!(1)),
        ),
        (
            "an extra verdict property",
            mutate(&good, &|d| d["verdict"]["why"] = json!("x")),
        ),
        (
            "an extra property in the http response",
            mutate(&good, &|d| {
                at(d, "/stages/5/detail/response")["extra"] = json!(true);
            }),
        ),
        (
            "a missing summary in a stage",
            mutate(&good, &|d| {
                at(d, "/stages/2")
                    .as_object_mut()
                    .unwrap()
                    .remove("summary");
            }),
        ),
        (
            "an unknown layer",
            mutate(&good, &|d| *at(d, "/verdict/layer") = json!("physical")),
        ),
        (
            "an unknown status",
            mutate(&good, &|d| *at(d, "/stages/2/status") = json!("maybe")),
        ),
        (
            "an unknown governing timeout",
            mutate(&good, &|d| {
                *at(d, "/verdict/governing_timeout") = json!("connect_timeout");
            }),
        ),
        (
            "a kind from another layer",
            mutate(&good, &|d| *at(d, "/verdict/kind") = json!("nxdomain")),
        ),
        (
            "ok with a kind",
            mutate(&good, &|d| *at(d, "/verdict/ok") = json!(true)),
        ),
        (
            "a string exit code",
            mutate(&good, &|d| *at(d, "/verdict/exit_code") = json!("9")),
        ),
        (
            "stages out of order",
            mutate(&good, &|d| {
                at(d, "/stages").as_array_mut().unwrap().swap(2, 3)
            }),
        ),
        (
            "five stages",
            mutate(&good, &|d| {
                at(d, "/stages").as_array_mut().unwrap().pop();
            }),
        ),
        (
            "seven stages",
            mutate(&good, &|d| {
                let extra = d["stages"][5].clone();
                at(d, "/stages").as_array_mut().unwrap().push(extra);
            }),
        ),
        (
            "the tcp detail in the url stage",
            mutate(&good, &|d| {
                let tcp = d["stages"][2]["detail"].clone();
                *at(d, "/stages/0/detail") = tcp;
            }),
        ),
        (
            "a url stage without detail",
            mutate(&good, &|d| *at(d, "/stages/0/detail") = Value::Null),
        ),
        (
            "a not_run stage with detail",
            mutate(&refused, &|d| {
                *at(d, "/stages/5/detail") = json!({
                    "request": {"method": "GET", "target": "/", "version": "HTTP/1.1", "headers": []},
                    "response": null, "time_to_first_byte_ms": null, "body": null, "error": null
                });
            }),
        ),
        (
            "a timed not_run stage",
            mutate(&refused, &|d| *at(d, "/stages/4/elapsed_ms") = json!(1.0)),
        ),
        (
            "a negative duration",
            mutate(&good, &|d| *at(d, "/total_ms") = json!(-1.0)),
        ),
        (
            "a port out of range",
            mutate(&good, &|d| *at(d, "/stages/0/detail/port") = json!(70000)),
        ),
        (
            "an unknown connect result",
            mutate(&refused, &|d| {
                *at(d, "/stages/2/detail/attempts/0/result") = json!("refused");
            }),
        ),
        (
            "a header without a value",
            mutate(&good, &|d| {
                at(d, "/stages/5/detail/request/headers/0")
                    .as_object_mut()
                    .unwrap()
                    .remove("value");
            }),
        ),
        (
            "a null stage list",
            mutate(&good, &|d| *at(d, "/stages") = Value::Null),
        ),
    ];
    for (what, doc) in &cases {
        assert_rejected(doc, what);
    }

    // assert_valid names every error and prints the document.
    let bad = mutate(&good, &|d| {
        d["extra"] = json!(1);
        *at(d, "/verdict/kind") = json!("http_teapot");
    });
    let panic =
        std::panic::catch_unwind(|| assert_valid(&bad)).expect_err("assert_valid must panic");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("extra"), "{message}");
    assert!(message.contains("/verdict/kind"), "{message}");
    assert!(
        message.contains("\"netpeel_version\""),
        "the document is missing from: {message}"
    );
}

/// A report read back with serde keeps every stage's detail (the untagged detail enum must not
/// fall back to the url variant).
#[tokio::test(flavor = "multi_thread")]
async fn a_report_survives_a_round_trip_through_serde() {
    let server = testkit::http::HttpServer::start(testkit::http::Behavior::ok("x")).await;
    let run = crate::common::netpeel(&["--json", &server.url()]).await;
    let report: netpeel::report::Report = serde_json::from_str(&run.stdout).expect("a Report");
    let again = serde_json::to_value(&report).expect("serializes");
    let original: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(again, original);
}
