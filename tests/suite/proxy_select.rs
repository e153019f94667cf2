//! Differential test of `netpeel::engine::proxy_select::choose` against the REAL Python requests.
//!
//! Every case is a URL and an environment (ordered name/value pairs). The oracle,
//! tests/differential/proxy_select.py, replaces os.environ with that environment and asks
//! requests twice: with its own functions (`get_environ_proxies(url)` then `select_proxy`) and
//! end to end (`requests.get(url)` stopped at urllib3's urlopen, before any socket). netpeel's
//! `choose(url, None, None, env)` must agree with it on: proxy or not; which variable (its value
//! is the string requests selected); the proxy's scheme, host, port and credentials as urllib3's
//! pool got them; and whether requests fails on the proxy URL. SOCKS proxies are compared with
//! `parse_url` of the selected string when PySocks is missing (requests then refuses them).
//!
//! No network: the oracle is pure string handling, guards socket name resolution and connects,
//! and stops requests before it opens a connection. All cases run in one Python process.
//!
//! The URL handed to Python is the `url` crate's serialisation, so both sides read the same
//! string (see proxy_select.rs on what that normalisation hides).

use std::fmt::Write as _;

use netpeel::engine::proxy_select::{ProxyChoice, ProxySource, choose};
use serde_json::{Value, json};
use url::Url;

const ORACLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/differential/proxy_select.py"
);

const P: &str = "http://proxy:3128";

struct Case {
    id: &'static str,
    url: &'static str,
    env: &'static [(&'static str, &'static str)],
}

const fn case(
    id: &'static str,
    url: &'static str,
    env: &'static [(&'static str, &'static str)],
) -> Case {
    Case { id, url, env }
}

fn cases() -> Vec<Case> {
    vec![
        // --- which variable, by scheme and case ---
        case("no variables", "https://api.corp.test/", &[]),
        case(
            "HTTPS_PROXY for https",
            "https://api.corp.test/",
            &[("HTTPS_PROXY", P)],
        ),
        case(
            "HTTPS_PROXY only, http URL",
            "http://api.corp.test/",
            &[("HTTPS_PROXY", P)],
        ),
        case(
            "HTTP_PROXY for http",
            "http://api.corp.test/",
            &[("HTTP_PROXY", P)],
        ),
        case(
            "HTTP_PROXY only, https URL",
            "https://api.corp.test/",
            &[("HTTP_PROXY", P)],
        ),
        case(
            "lowercase beats uppercase",
            "https://a.test/",
            &[
                ("HTTPS_PROXY", "http://upper:1"),
                ("https_proxy", "http://lower:2"),
            ],
        ),
        case(
            "lowercase beats uppercase, other order",
            "https://a.test/",
            &[
                ("https_proxy", "http://lower:2"),
                ("HTTPS_PROXY", "http://upper:1"),
            ],
        ),
        case(
            "mixed-case name",
            "https://a.test/",
            &[("Https_Proxy", "http://mixed:3")],
        ),
        case(
            "two mixed-case spellings, later wins",
            "https://a.test/",
            &[
                ("Https_Proxy", "http://first:1"),
                ("HTTPS_Proxy", "http://second:2"),
            ],
        ),
        case(
            "empty lowercase hides uppercase",
            "https://a.test/",
            &[("https_proxy", ""), ("HTTPS_PROXY", P)],
        ),
        case("empty uppercase", "https://a.test/", &[("HTTPS_PROXY", "")]),
        case(
            "empty uppercase, lowercase set",
            "https://a.test/",
            &[("HTTPS_PROXY", ""), ("https_proxy", P)],
        ),
        case("ftp_proxy only", "https://a.test/", &[("FTP_PROXY", P)]),
        // --- CGI (httpoxy) ---
        case(
            "REQUEST_METHOD drops HTTP_PROXY",
            "http://a.test/",
            &[("HTTP_PROXY", P), ("REQUEST_METHOD", "GET")],
        ),
        case(
            "empty REQUEST_METHOD still counts",
            "http://a.test/",
            &[("HTTP_PROXY", P), ("REQUEST_METHOD", "")],
        ),
        case(
            "REQUEST_METHOD keeps http_proxy",
            "http://a.test/",
            &[("http_proxy", P), ("REQUEST_METHOD", "GET")],
        ),
        case(
            "REQUEST_METHOD keeps HTTP_proxy",
            "http://a.test/",
            &[("HTTP_proxy", P), ("REQUEST_METHOD", "GET")],
        ),
        case(
            "REQUEST_METHOD keeps HTTPS_PROXY",
            "https://a.test/",
            &[("HTTPS_PROXY", P), ("REQUEST_METHOD", "GET")],
        ),
        case(
            "REQUEST_METHOD drops HTTP_PROXY, ALL_PROXY remains",
            "http://a.test/",
            &[
                ("HTTP_PROXY", P),
                ("ALL_PROXY", "http://all:9"),
                ("REQUEST_METHOD", "GET"),
            ],
        ),
        // --- all_proxy and host-specific keys ---
        case(
            "ALL_PROXY socks5h",
            "https://a.test/",
            &[("ALL_PROXY", "socks5h://socks:1080")],
        ),
        case(
            "scheme beats all",
            "https://a.test/",
            &[
                ("all_proxy", "http://all:1"),
                ("HTTPS_PROXY", "http://scheme:2"),
            ],
        ),
        case(
            "scheme://host key",
            "https://api.corp.test/",
            &[
                ("HTTPS_PROXY", P),
                ("https://api.corp.test_proxy", "http://special:1"),
            ],
        ),
        case(
            "all://host key beats all",
            "http://api.corp.test/",
            &[
                ("ALL_PROXY", P),
                ("all://api.corp.test_proxy", "http://special:2"),
            ],
        ),
        case(
            "scheme://host key, other host",
            "https://www.corp.test/",
            &[("https://api.corp.test_proxy", "http://special:1")],
        ),
        // --- NO_PROXY: names ---
        case(
            "NO_PROXY suffix",
            "https://api.corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "corp.test")],
        ),
        case(
            "NO_PROXY leading dot, bare domain",
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", ".corp.test")],
        ),
        case(
            "NO_PROXY without a dot boundary",
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "rp.test")],
        ),
        case(
            "NO_PROXY host:port, same port",
            "https://corp.test:8443/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "corp.test:8443")],
        ),
        case(
            "NO_PROXY host:port, default port",
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "corp.test:8443")],
        ),
        case(
            "NO_PROXY host:port, other port",
            "https://corp.test:9443/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "corp.test:8443")],
        ),
        case(
            "NO_PROXY star",
            "https://a.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "*")],
        ),
        case(
            "NO_PROXY star in a list",
            "https://a.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "b.test,*")],
        ),
        case(
            "NO_PROXY star with blanks",
            "https://a.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", " * ")],
        ),
        case(
            "NO_PROXY spaces around entries",
            "https://api.corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", " other.test , corp.test ")],
        ),
        case(
            "NO_PROXY space inside an entry",
            "https://corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "co rp.test")],
        ),
        case(
            "NO_PROXY uppercase entry",
            "https://api.corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "EXAMPLE.com")],
        ),
        case(
            "no_proxy lowercase beats NO_PROXY",
            "https://api.corp.test/",
            &[
                ("HTTPS_PROXY", P),
                ("no_proxy", "other.test"),
                ("NO_PROXY", "corp.test"),
            ],
        ),
        case(
            "empty no_proxy falls back to NO_PROXY",
            "https://api.corp.test/",
            &[
                ("HTTPS_PROXY", P),
                ("no_proxy", ""),
                ("NO_PROXY", "corp.test"),
            ],
        ),
        case(
            "mixed-case No_Proxy",
            "https://api.corp.test/",
            &[("HTTPS_PROXY", P), ("No_Proxy", "corp.test")],
        ),
        case(
            "NO_PROXY localhost with a port in the URL",
            "http://localhost:8080/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "localhost")],
        ),
        case(
            "trailing-dot host, NO_PROXY without the dot",
            "https://corp.test./",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "corp.test")],
        ),
        case(
            "trailing-dot host, NO_PROXY '.'",
            "https://corp.test./",
            &[("HTTPS_PROXY", P), ("NO_PROXY", ".")],
        ),
        case(
            "NO_PROXY matches but no proxy variable",
            "https://api.corp.test/",
            &[("NO_PROXY", "corp.test")],
        ),
        case(
            "bypassed before the bad proxy URL is read",
            "https://api.corp.test/",
            &[("HTTPS_PROXY", "ftp://proxy"), ("NO_PROXY", "corp.test")],
        ),
        // --- NO_PROXY: IPv4 ---
        case(
            "NO_PROXY CIDR contains",
            "http://10.1.2.3/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "10.0.0.0/8")],
        ),
        case(
            "NO_PROXY CIDR does not contain",
            "http://192.168.2.1/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "192.168.1.0/24")],
        ),
        case(
            "NO_PROXY CIDR /33 is not a CIDR",
            "http://10.1.2.3/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "10.0.0.0/33")],
        ),
        case(
            "NO_PROXY short inet_aton CIDR",
            "http://10.1.2.3/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "10/8")],
        ),
        case(
            "NO_PROXY exact IP, URL with port",
            "http://10.1.2.3:8080/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "10.1.2.3")],
        ),
        case(
            "NO_PROXY IP text suffix",
            "http://10.1.2.3/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "2.3")],
        ),
        case(
            "NO_PROXY IP:port entry",
            "http://10.1.2.3:8080/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "10.1.2.3:8080")],
        ),
        case(
            "NO_PROXY 127.0.0.1, https",
            "https://127.0.0.1:8443/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "localhost,127.0.0.1")],
        ),
        // --- NO_PROXY: IPv6 ---
        case(
            "NO_PROXY ::1",
            "http://[::1]:8080/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "::1")],
        ),
        case(
            "NO_PROXY [::1] (brackets never match)",
            "http://[::1]:8080/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "[::1]")],
        ),
        case(
            "NO_PROXY ::1:port",
            "http://[::1]:8080/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "::1:8080")],
        ),
        case(
            "NO_PROXY IPv6 cut like a port",
            "http://[2001:db8::1]/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "2001:db8:")],
        ),
        case(
            "NO_PROXY IPv6 CIDR is not supported",
            "http://[2001:db8::1]/",
            &[("HTTP_PROXY", P), ("NO_PROXY", "2001:db8::/32")],
        ),
        // --- proxy URL forms ---
        case(
            "scheme-less host:port",
            "https://a.test/",
            &[("HTTPS_PROXY", "proxy.corp:3128")],
        ),
        case(
            "scheme-less IP:port",
            "https://a.test/",
            &[("HTTPS_PROXY", "10.0.0.1:3128")],
        ),
        case(
            "scheme-less localhost:port",
            "https://a.test/",
            &[("HTTPS_PROXY", "localhost:3128")],
        ),
        case(
            "scheme-less my-proxy:port",
            "https://a.test/",
            &[("HTTPS_PROXY", "my-proxy:3128")],
        ),
        case(
            "scheme-less name only",
            "https://a.test/",
            &[("HTTPS_PROXY", "proxy")],
        ),
        case(
            "network-path //proxy",
            "https://a.test/",
            &[("HTTPS_PROXY", "//proxy:3128")],
        ),
        case(
            "https proxy, no port",
            "https://a.test/",
            &[("HTTPS_PROXY", "https://proxy")],
        ),
        case(
            "port 0",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://proxy:0")],
        ),
        case(
            "leading zeros in port",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://proxy:003128")],
        ),
        case(
            "port out of range",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://proxy:99999")],
        ),
        case(
            "port not a number",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://proxy:abc")],
        ),
        case(
            "uppercase URL",
            "https://a.test/",
            &[("HTTPS_PROXY", "HTTP://PROXY.Corp:3128")],
        ),
        case(
            "path and slash",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://proxy:3128/")],
        ),
        case(
            "trailing newline",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://proxy:3128\n")],
        ),
        case(
            "leading blank",
            "https://a.test/",
            &[("HTTPS_PROXY", " http://proxy:3128")],
        ),
        case("no host", "https://a.test/", &[("HTTPS_PROXY", "http://")]),
        case(
            "port but no host",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://:3128")],
        ),
        case(
            "ftp scheme",
            "https://a.test/",
            &[("HTTPS_PROXY", "ftp://proxy:21")],
        ),
        case(
            "IPv6 proxy",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://[::1]:3128")],
        ),
        case(
            "IPv6 proxy, unclosed",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://[::1:3128")],
        ),
        case(
            "IDNA proxy host",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://bücher.test:3128")],
        ),
        // --- credentials ---
        case(
            "user and percent-encoded password",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://user:p%40ss@proxy:3128")],
        ),
        case(
            "user only",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://user@proxy:3128")],
        ),
        case(
            "user only, http URL",
            "http://a.test/",
            &[("HTTP_PROXY", "http://user@proxy:3128")],
        ),
        case(
            "empty password",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://user:@proxy:3128")],
        ),
        case(
            "empty user",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://:pw@proxy:3128")],
        ),
        case(
            "raw @ in password",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://user:p@ss@proxy:3128")],
        ),
        case(
            "stray % in password",
            "https://a.test/",
            &[("HTTPS_PROXY", "http://u:a%41%zz@proxy:3128")],
        ),
        case(
            "scheme-less with credentials",
            "https://a.test/",
            &[("HTTPS_PROXY", "user:pw@proxy.corp:3128")],
        ),
        // --- SOCKS ---
        case(
            "socks5 with credentials",
            "https://a.test/",
            &[("HTTPS_PROXY", "socks5://user:pw@socks.corp:1081")],
        ),
        case(
            "socks5h uppercase",
            "https://a.test/",
            &[("ALL_PROXY", "SOCKS5H://Socks.Corp")],
        ),
        case(
            "socks4",
            "https://a.test/",
            &[("ALL_PROXY", "socks4://socks:1080")],
        ),
        // --- odd targets ---
        case(
            "userinfo in the target URL",
            "https://u:p@api.corp.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "corp.test")],
        ),
        case(
            "IDNA target",
            "https://bücher.test/",
            &[("HTTPS_PROXY", P), ("NO_PROXY", "xn--bcher-kva.test")],
        ),
    ]
}

fn run_oracle(input: &Value) -> Value {
    crate::common::python_json(ORACLE, input)
}

fn env_of(c: &Case) -> Vec<(String, String)> {
    c.env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The first value of `name` in the case's environment.
fn env_value<'a>(c: &'a Case, name: &str) -> Option<&'a str> {
    c.env.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn short(exception: &str) -> &str {
    exception.rsplit('.').next().unwrap_or(exception)
}

/// What netpeel says, one line, for the table.
fn netpeel_line(r: &Result<ProxyChoice, String>) -> String {
    match r {
        Err(e) => format!("error: {e}"),
        Ok(c) => match &c.proxy {
            None => format!("direct ({})", c.reason),
            Some(p) => format!(
                "{} via {} ({})",
                p.display,
                c.source.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                c.reason
            ),
        },
    }
}

fn oracle_line(o: &Value) -> String {
    let e2e = &o["e2e"];
    match e2e["outcome"].as_str().unwrap_or("?") {
        "direct" => "direct".into(),
        "proxy" => format!(
            "{}://{}:{} auth {} (selected {})",
            e2e["scheme"].as_str().unwrap_or("?"),
            e2e["host"].as_str().unwrap_or("?"),
            e2e["port"],
            e2e["auth"],
            o["selected"]
        ),
        "socks_unavailable" => format!("socks, PySocks missing (selected {})", o["selected"]),
        _ => format!(
            "raises {}: {} (selected {})",
            short(e2e["exception"].as_str().unwrap_or("?")),
            e2e["message"].as_str().unwrap_or(""),
            o["selected"]
        ),
    }
}

/// Every way netpeel disagrees with requests on one case (empty: agreement).
fn disagreements(c: &Case, ours: &Result<ProxyChoice, String>, o: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let selected = o["selected"].as_str();
    let e2e = &o["e2e"];
    let outcome = e2e["outcome"].as_str().unwrap_or("?");
    // The oracle's two ways of asking must agree with each other first.
    if (outcome == "direct") != selected.is_none() {
        out.push(format!(
            "oracle inconsistent: select_proxy says {:?}, requests.get went {outcome}",
            selected
        ));
    }
    let expected_auth = |v: &Value| -> Option<(String, String)> {
        let a = v.as_array()?;
        Some((a[0].as_str()?.to_string(), a[1].as_str()?.to_string()))
    };
    match ours {
        Ok(choice) => {
            let Some(p) = &choice.proxy else {
                if selected.is_some() {
                    out.push(format!(
                        "requests uses proxy {:?}, netpeel goes direct",
                        selected
                    ));
                }
                return out;
            };
            match &choice.source {
                Some(ProxySource::Env(var)) => {
                    if env_value(c, var) != selected {
                        out.push(format!(
                            "netpeel took {var}={:?}, requests selected {:?}",
                            env_value(c, var),
                            selected
                        ));
                    }
                }
                other => out.push(format!("source is {other:?}, expected a variable")),
            }
            let ours_auth = p.username.clone().zip(p.password.clone());
            let (scheme, host, port, auth) = match outcome {
                "proxy" => (
                    e2e["scheme"].as_str(),
                    e2e["host"].as_str(),
                    e2e["port"].as_u64(),
                    expected_auth(&e2e["auth"]),
                ),
                "socks_unavailable" => {
                    let parsed = &o["parsed"];
                    (
                        parsed["scheme"].as_str(),
                        parsed["host"].as_str(),
                        // PySocks' default port.
                        Some(parsed["port"].as_u64().unwrap_or(1080)),
                        expected_auth(&parsed["auth"]),
                    )
                }
                _ => {
                    out.push(format!(
                        "netpeel uses {}, requests: {}",
                        p.display,
                        oracle_line(o)
                    ));
                    return out;
                }
            };
            if scheme != Some(p.scheme.as_str()) || host != Some(p.host.as_str()) {
                out.push(format!(
                    "proxy {:?}://{:?}, netpeel {}://{}",
                    scheme,
                    host,
                    p.scheme.as_str(),
                    p.host
                ));
            }
            if port != Some(u64::from(p.port)) {
                out.push(format!("proxy port {port:?}, netpeel {}", p.port));
            }
            if auth != ours_auth {
                out.push(format!(
                    "credentials {auth:?}, netpeel {:?}",
                    ours_auth.map(|(u, _)| (u, "<password>"))
                ));
            }
        }
        Err(msg) => match outcome {
            "error" => {
                let exc = e2e["exception"].as_str().unwrap_or("?");
                if exc.starts_with("requests.exceptions.") && !msg.contains(short(exc)) {
                    out.push(format!(
                        "requests raises {exc}, netpeel's error says: {msg}"
                    ));
                }
            }
            // netpeel refuses socks4 and unknown socks flavours outright.
            "socks_unavailable"
                if !matches!(o["parsed"]["scheme"].as_str(), Some("socks5" | "socks5h")) => {}
            "proxy" if matches!(e2e["scheme"].as_str(), Some("socks4" | "socks4a")) => {}
            _ => out.push(format!(
                "netpeel fails ({msg}), requests: {}",
                oracle_line(o)
            )),
        },
    }
    out
}

#[test]
fn proxy_choice_agrees_with_requests() {
    if !crate::common::requests_available("proxy differential") {
        return;
    }
    let list = cases();
    let urls: Vec<Url> = list
        .iter()
        .map(|c| Url::parse(c.url).unwrap_or_else(|e| panic!("{}: {e}", c.id)))
        .collect();
    let input: Value = list
        .iter()
        .zip(&urls)
        .map(|(c, u)| json!({"id": c.id, "url": u.as_str(), "env": c.env}))
        .collect();
    let answer = run_oracle(&input);
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), list.len());

    let mut table = String::new();
    let mut failures = String::new();
    let mut failed = 0;
    for ((c, url), o) in list.iter().zip(&urls).zip(results) {
        assert_eq!(o["id"], c.id);
        let ours = choose(url, None, None, &env_of(c));
        let problems = disagreements(c, &ours, o);
        let _ = writeln!(
            table,
            "{} {}\n      requests: {}\n      netpeel:  {}",
            if problems.is_empty() {
                "  agree   "
            } else {
                "  DISAGREE"
            },
            c.id,
            oracle_line(o),
            netpeel_line(&ours)
        );
        if !problems.is_empty() {
            failed += 1;
            let _ = writeln!(failures, "\n* {}  ({} with {:?})", c.id, url, c.env);
            for p in problems {
                let _ = writeln!(failures, "    - {p}");
            }
        }
    }
    eprintln!(
        "proxy differential: {} cases against requests {} / urllib3 {}, {failed} disagreeing\n{table}",
        list.len(),
        answer["requests"],
        answer["urllib3"]
    );
    assert!(
        failed == 0,
        "{failed} of {} cases: netpeel's proxy choice disagrees with real Python requests:\n{failures}",
        list.len()
    );
}
