//! Replay settings as something to paste: a Python `requests` snippet with a urllib3 `Retry`, or
//! the nearest curl command line. What the target cannot express is said in a comment.
//!
//! Secrets: the request comes as an [`ExportRequest`], which holds none: a secret header, the
//! URL's password and the proxy's password are read from environment variables the snippet
//! names.

use std::fmt::Write as _;

use super::budget::worst_case;
use super::export_request::{
    ExportProxy, ExportRequest, ExportValue, PROXY_PASSWORD_VAR, URL_PASSWORD_VAR,
};
use super::policy::CURL_TRANSIENT_STATUSES;
use super::settings::{
    DEFAULT_ALLOWED_METHODS, DEFAULT_BACKOFF_MAX, DEFAULT_RETRY_AFTER_MAX, PolicyKind,
    ReplaySettings,
};
use crate::engine::settings::IpFamily;

/// What `--export` prints: the names are the flag's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// [`python`]: a `requests` snippet.
    Python,
    /// [`curl`]: the nearest curl command line.
    Curl,
}

impl ExportFormat {
    /// The settings in this format, for `request`.
    pub fn render(self, settings: &ReplaySettings, request: &ExportRequest) -> String {
        match self {
            ExportFormat::Python => python(settings, request),
            ExportFormat::Curl => curl(settings, request),
        }
    }
}

/// A number the way Python would read it back: integers without a fraction.
pub(crate) fn num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn secs(d: std::time::Duration) -> String {
    num(d.as_secs_f64())
}

/// A Python string literal in double quotes.
pub(crate) fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A shell word in single quotes (when it needs quoting at all).
pub(crate) fn sh(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn opt_count(v: Option<u32>) -> String {
    v.map_or("None".into(), |v| v.to_string())
}

fn list_u16(v: &[u16]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// The `Retry(...)` values a policy maps to, before they are written out as arguments.
struct RetryShape {
    total: Option<u32>,
    backoff_factor: f64,
    backoff_max: f64,
    forcelist: Vec<u16>,
    any_method: bool,
    respect_retry_after: bool,
    read_false: bool,
    per_category: bool,
}

impl RetryShape {
    /// urllib3's own policy: the settings as they are.
    fn urllib3(s: &ReplaySettings) -> Self {
        RetryShape {
            total: s.total,
            backoff_factor: s.backoff_factor,
            backoff_max: s.backoff_max,
            forcelist: s.status_forcelist.clone(),
            any_method: s.allowed_methods.is_empty(),
            respect_retry_after: s.respect_retry_after,
            read_false: s.read_disabled,
            per_category: true,
        }
    }

    /// The other policies retry one count of any error on any method, without Retry-After
    /// and without per-category counts; each adjusts the rest.
    fn simple(s: &ReplaySettings) -> Self {
        RetryShape {
            total: Some(s.simple_retries()),
            any_method: true,
            respect_retry_after: false,
            read_false: false,
            per_category: false,
            ..RetryShape::urllib3(s)
        }
    }
}

/// The nearest `Retry` for the policy, and comments on what differs from it.
fn retry_shape(s: &ReplaySettings) -> (RetryShape, Vec<String>) {
    match s.policy {
        PolicyKind::Urllib3 => (RetryShape::urllib3(s), Vec::new()),
        PolicyKind::Loop => loop_shape(s),
        PolicyKind::Fixed => fixed_shape(s),
        PolicyKind::FullJitter => full_jitter_shape(s),
        PolicyKind::Curl => curl_shape(s),
    }
}

fn loop_shape(s: &ReplaySettings) -> (RetryShape, Vec<String>) {
    let shape = RetryShape {
        forcelist: Vec::new(),
        ..RetryShape::simple(s)
    };
    let differs = vec![
        format!(
            "the loop sleeps backoff_factor × 2^(n−1) from the first retry ({} s, {} s, …); \
             urllib3 retries the first failure at once, then backoff_factor × 2^(n−1)",
            num(s.backoff_factor),
            num(s.backoff_factor * 2.0)
        ),
        "the loop retries ConnectionError/Timeout also after a body stalled (urllib3 \
         never sees body errors) and never a status; Retry(...) below retries any \
         method, as the loop does"
            .into(),
    ];
    (shape, differs)
}

fn fixed_shape(s: &ReplaySettings) -> (RetryShape, Vec<String>) {
    // backoff_max = backoff_factor flattens urllib3's doubling into a constant sleep.
    let shape = RetryShape {
        backoff_max: s.backoff_factor,
        ..RetryShape::simple(s)
    };
    let differs = vec![
        format!(
            "fixed waits {} s before every retry; urllib3 cannot: backoff_max = \
             backoff_factor gives 0 s for the first retry, then {} s each",
            num(s.backoff_factor),
            num(s.backoff_factor)
        ),
        "fixed retries every error, including a body cut short; urllib3 never sees body \
         errors"
            .into(),
    ];
    (shape, differs)
}

fn full_jitter_shape(s: &ReplaySettings) -> (RetryShape, Vec<String>) {
    let differs = vec![format!(
        "full jitter sleeps U(0, min({}, {} × 2^(n−1))); urllib3 sleeps the whole \
         min(backoff_max, backoff_factor × 2^(n−1) + U(0, backoff_jitter)) and 0 for the \
         first retry",
        num(s.backoff_max),
        num(s.backoff_factor)
    )];
    (RetryShape::simple(s), differs)
}

fn curl_shape(s: &ReplaySettings) -> (RetryShape, Vec<String>) {
    let mut shape = RetryShape {
        forcelist: CURL_TRANSIENT_STATUSES.to_vec(),
        respect_retry_after: true,
        ..RetryShape::simple(s)
    };
    let mut differs = Vec::new();
    if s.backoff_factor > 0.0 {
        // --retry-delay: a constant sleep, as for the fixed policy.
        shape.backoff_max = s.backoff_factor;
        differs.push(format!(
            "curl --retry-delay {} waits {} s before every retry; urllib3 retries the \
             first at once",
            num(s.backoff_factor),
            num(s.backoff_factor)
        ));
    } else {
        // curl's own schedule: 1 s doubling up to 600 s.
        shape.backoff_factor = 1.0;
        shape.backoff_max = 600.0;
        differs.push(
            "curl sleeps 1, 2, 4 … s up to 600 s; urllib3 with backoff_factor=1 sleeps \
             0, 2, 4 … s"
                .into(),
        );
    }
    differs.push(format!(
        "curl retries only timeouts and DNS failures{}; urllib3 also retries resets, \
         protocol and TLS errors",
        if s.curl_retry_all_errors {
            " (and every error with --retry-all-errors)"
        } else if s.curl_retry_connrefused {
            " (and refused connections with --retry-connrefused)"
        } else {
            ", not refused connections"
        }
    ));
    differs.push(
        "curl waits max(Retry-After, its own sleep) without a cap; urllib3 waits the \
         Retry-After value, capped at retry_after_max"
            .into(),
    );
    (shape, differs)
}

/// The `Retry(...)` arguments, one per line, and comments on what differs from the policy.
fn retry_args(s: &ReplaySettings) -> (Vec<String>, Vec<String>) {
    let (shape, mut differs) = retry_shape(s);
    let mut args = vec![format!("total={}", opt_count(shape.total))];
    if shape.per_category {
        args.extend(category_args(s, shape.read_false));
    }
    args.extend(backoff_args(s, &shape, &mut differs));
    args.push(format!("status_forcelist={}", list_u16(&shape.forcelist)));
    args.extend(methods_arg(s, shape.any_method));
    args.extend(retry_after_args(s, shape.respect_retry_after));
    if !s.raise_on_status {
        args.push("raise_on_status=False".into());
    }
    (args, differs)
}

/// urllib3's per-category counts, only those set.
fn category_args(s: &ReplaySettings, read_false: bool) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(c) = s.connect {
        args.push(format!("connect={c}"));
    }
    if read_false {
        args.push("read=False".into());
    } else if let Some(r) = s.read {
        args.push(format!("read={r}"));
    }
    if let Some(st) = s.status {
        args.push(format!("status={st}"));
    }
    if let Some(o) = s.other {
        args.push(format!("other={o}"));
    }
    args
}

/// backoff_factor always, backoff_max and backoff_jitter when not the default; a jitter the
/// policy does not use is said in `differs` instead.
fn backoff_args(s: &ReplaySettings, shape: &RetryShape, differs: &mut Vec<String>) -> Vec<String> {
    let mut args = vec![format!("backoff_factor={}", num(shape.backoff_factor))];
    if shape.backoff_max != DEFAULT_BACKOFF_MAX {
        args.push(format!("backoff_max={}", num(shape.backoff_max)));
    }
    if s.backoff_jitter != 0.0 && s.policy == PolicyKind::Urllib3 {
        args.push(format!("backoff_jitter={}", num(s.backoff_jitter)));
    } else if s.backoff_jitter != 0.0 && s.policy != PolicyKind::FullJitter {
        differs.push(format!(
            "backoff_jitter {} is not part of the {} policy",
            num(s.backoff_jitter),
            s.policy.name()
        ));
    }
    args
}

/// `allowed_methods`: None for any method, left out when it is urllib3's default set.
fn methods_arg(s: &ReplaySettings, any_method: bool) -> Option<String> {
    let default_methods = s.allowed_methods.len() == DEFAULT_ALLOWED_METHODS.len()
        && DEFAULT_ALLOWED_METHODS
            .iter()
            .all(|m| s.allowed_methods.iter().any(|x| x == m));
    if any_method {
        Some("allowed_methods=None".into())
    } else if !default_methods {
        let items: Vec<String> = s.allowed_methods.iter().map(|m| py_str(m)).collect();
        Some(format!("allowed_methods=[{}]", items.join(", ")))
    } else {
        None
    }
}

/// Retry-After handling; its cap only matters when the header is respected.
fn retry_after_args(s: &ReplaySettings, respect: bool) -> Vec<String> {
    let mut args = Vec::new();
    if !respect {
        args.push("respect_retry_after_header=False".into());
    }
    if s.retry_after_max != DEFAULT_RETRY_AFTER_MAX && respect {
        args.push(format!("retry_after_max={}", num(s.retry_after_max)));
    }
    args
}

/// A ready-to-paste Python snippet: a `Session` with an `HTTPAdapter(max_retries=Retry(...))`
/// and the request as netpeel sent it (headers, proxy, TLS trust, redirects, timeouts), then
/// `raise_for_status()`. For policies other than urllib3 the nearest `Retry` is given with a
/// comment on what differs; secrets are read from the environment variables named on top.
pub fn python(settings: &ReplaySettings, request: &ExportRequest) -> String {
    let s = settings;
    let (args, differs) = retry_args(s);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# netpeel replay: {} policy — {}",
        s.policy.name(),
        s.policy.formula()
    );
    for d in &differs {
        let _ = writeln!(out, "# differs from {}: {d}", s.policy.name());
    }
    if let Some((variable, path)) = &request.ca_problem {
        let _ = writeln!(
            out,
            "# netpeel: {variable}={} cannot be used (missing or without a certificate), so\n\
             # requests fails before verifying anything. Fix the environment first:\n\
             #   unset {variable}    (requests then uses certifi)\n\
             # or point it at a PEM bundle, e.g. {variable}=/etc/ssl/certs/ca-certificates.crt",
            path.display()
        );
    }
    let vars = request.env_vars();
    if !vars.is_empty() {
        let _ = writeln!(
            out,
            "# set first (netpeel does not write secrets): {}",
            vars.join(", ")
        );
        out.push_str("import os\n");
    }
    if request.proxy.is_some() {
        out.push_str("from urllib.parse import quote\n");
    }
    out.push_str(
        "import requests\n\
         from requests.adapters import HTTPAdapter\n\
         from urllib3.util.retry import Retry\n\n\
         retry = Retry(\n",
    );
    for a in &args {
        let _ = writeln!(out, "    {a},");
    }
    out.push_str(
        ")\n\
         session = requests.Session()\n\
         adapter = HTTPAdapter(max_retries=retry)\n\
         session.mount(\"http://\", adapter)\n\
         session.mount(\"https://\", adapter)\n",
    );
    let call_args = python_request_setup(&mut out, request);
    python_request_call(&mut out, s, request, &call_args);
    out.push_str("r.raise_for_status()\n");
    python_cannot(&mut out, s, request);
    out
}

/// Statements before the call (max_redirects, headers, proxies); the call's extra arguments.
fn python_request_setup(out: &mut String, r: &ExportRequest) -> Vec<String> {
    let mut call = Vec::new();
    if r.follow_redirects && r.max_redirects != 30 {
        let _ = writeln!(out, "session.max_redirects = {}", r.max_redirects);
    }
    if !r.headers.is_empty() {
        out.push_str("headers = {\n");
        for (name, value) in &r.headers {
            let _ = writeln!(out, "    {}: {},", py_str(name), py_value(value));
        }
        out.push_str("}\n");
        call.push("headers=headers".to_string());
    }
    if let Some(user) = &r.basic_user {
        call.push(format!(
            "auth=({}, os.environ[{}])",
            py_str(user),
            py_str(URL_PASSWORD_VAR)
        ));
    }
    if let Some(proxy) = &r.proxy {
        let _ = writeln!(out, "proxy = {}", py_proxy(proxy));
        out.push_str("proxies = {\"http\": proxy, \"https\": proxy");
        if let Some(noproxy) = &r.noproxy {
            let _ = write!(out, ", \"no_proxy\": {}", py_str(noproxy));
        }
        out.push_str("}\n");
        call.push("proxies=proxies".to_string());
    }
    if r.insecure {
        call.push("verify=False".to_string());
    } else if let Some(bundle) = &r.trust_fix {
        let shown = bundle.to_string_lossy();
        let _ = writeln!(
            out,
            "# netpeel: the chain's root is trusted by the OS store (or curl's), not by certifi (a\n\
             # private CA or TLS interception): verify with that store. Without code changes:\n\
             #   export REQUESTS_CA_BUNDLE={shown}\n\
             # or, with Python 3.10+ and `pip install truststore`, before using requests:\n\
             #   import truststore; truststore.inject_into_ssl()"
        );
        call.push(format!("verify={}", py_str(&shown)));
    } else if let Some(ca) = &r.cacert {
        call.push(format!("verify={}", py_str(&ca.to_string_lossy())));
    }
    if !r.follow_redirects {
        call.push("allow_redirects=False".to_string());
    }
    call
}

fn py_value(v: &ExportValue) -> String {
    match v {
        // requests drops a header whose value is None (a session default too), as netpeel
        // drops an empty one; an empty string would be sent.
        ExportValue::Literal(text) if text.is_empty() => "None".to_string(),
        ExportValue::Literal(text) => py_str(text),
        ExportValue::FromEnv(var) => format!("os.environ[{}]", py_str(var)),
    }
}

/// The proxy URL as a Python expression, credentials percent-encoded at run time.
fn py_proxy(p: &ExportProxy) -> String {
    let Some(user) = &p.user else {
        return py_str(&p.url);
    };
    let (scheme, rest) = p.url.split_once("://").unwrap_or(("http", p.url.as_str()));
    let password = if p.has_password {
        format!(
            " + \":\" + quote(os.environ[{}], safe=\"\")",
            py_str(PROXY_PASSWORD_VAR)
        )
    } else {
        String::new()
    };
    format!(
        "{} + quote({}, safe=\"\"){password} + {}",
        py_str(&format!("{scheme}://")),
        py_str(user),
        py_str(&format!("@{rest}"))
    )
}

/// `r = session.request(…)`: one line when only the timeout is added, else one argument per
/// line.
fn python_request_call(out: &mut String, s: &ReplaySettings, r: &ExportRequest, extra: &[String]) {
    let mut args = vec![py_str(&s.method.to_uppercase()), py_str(&r.url)];
    args.extend(extra.iter().cloned());
    args.push(format!(
        "timeout=({}, {})",
        secs(s.connect_timeout),
        secs(s.read_timeout)
    ));
    if extra.is_empty() {
        let _ = writeln!(out, "r = session.request({})", args.join(", "));
    } else {
        out.push_str("r = session.request(\n");
        for a in &args {
            let _ = writeln!(out, "    {a},");
        }
        out.push_str(")\n");
    }
}

/// The closing comment: what netpeel did that requests cannot be told to do.
fn python_cannot(out: &mut String, s: &ReplaySettings, r: &ExportRequest) {
    out.push_str("# requests cannot express:\n");
    if let Some(m) = s.max_time {
        let _ = writeln!(
            out,
            "#   max_time {} s: requests has no overall deadline per attempt",
            secs(m)
        );
    }
    let _ = writeln!(
        out,
        "#   dns_timeout {} s: getaddrinfo is not bounded by the connect timeout",
        secs(s.dns_timeout)
    );
    let _ = writeln!(
        out,
        "#   the read timeout ({} s) bounds each gap between reads, not the whole body",
        secs(s.read_timeout)
    );
    for line in left_out_of_python(r) {
        let _ = writeln!(out, "#   {line}");
    }
}

fn left_out_of_python(r: &ExportRequest) -> Vec<String> {
    let mut out = Vec::new();
    if !r.resolve.is_empty() {
        out.push(format!(
            "--resolve {}: requests asks getaddrinfo (put the name in /etc/hosts)",
            r.resolve.join(" ")
        ));
    }
    if let Some(dns) = &r.dns_server {
        out.push(format!(
            "--dns {dns}: requests asks the system resolver (/etc/resolv.conf)"
        ));
    }
    if r.family != IpFamily::Any {
        out.push(format!(
            "{}: requests tries every address getaddrinfo returns",
            if r.family == IpFamily::V4 { "-4" } else { "-6" }
        ));
    }
    if r.http2 {
        out.push("--http2: requests speaks HTTP/1.1 only".into());
    }
    out
}

/// The nearest curl command line (`--fail`, connect timeout, max time, `--retry …`), then a
/// comment block listing what curl cannot express.
pub fn curl(settings: &ReplaySettings, request: &ExportRequest) -> String {
    let s = settings;
    let mut words: Vec<String> = vec![
        "curl".into(),
        "--fail".into(),
        "--silent".into(),
        "--show-error".into(),
        // requests asks for gzip/deflate and decodes; plain curl does neither.
        "--compressed".into(),
    ];
    let mut cannot: Vec<String> = Vec::new();
    words.push(format!("--connect-timeout {}", secs(s.connect_timeout)));
    if let Some(m) = s.max_time {
        words.push(format!("--max-time {}", secs(m)));
    }
    let retries = curl_retry_count(s, &mut cannot);
    if retries > 0 {
        curl_retry_flags(s, retries, &mut words, &mut cannot);
    }
    match s.method.to_uppercase().as_str() {
        "GET" => {}
        "HEAD" => words.push("--head".into()),
        m => words.push(format!("-X {}", sh(m))),
    }
    curl_request_words(request, &mut words, &mut cannot);
    words.push(sh(&request.url));

    curl_cannot_timeouts(s, &mut cannot);
    if s.policy != PolicyKind::Curl && retries > 0 {
        curl_cannot_statuses(s, &mut cannot);
    }
    curl_cannot_sleeps(s, retries, &mut cannot);
    curl_text(s, &words, &cannot)
}

/// The request's own flags: redirects, headers, credentials, proxy, TLS trust, name pinning.
fn curl_request_words(r: &ExportRequest, words: &mut Vec<String>, cannot: &mut Vec<String>) {
    if r.follow_redirects {
        words.push(format!("-L --max-redirs {}", r.max_redirects));
    }
    for (name, value) in &r.headers {
        words.push(match value {
            // "Name:" is curl's way to remove a header.
            ExportValue::Literal(text) if text.is_empty() => {
                format!("-H {}", sh(&format!("{name}:")))
            }
            ExportValue::Literal(text) => format!("-H {}", sh(&format!("{name}: {text}"))),
            ExportValue::FromEnv(var) => format!("-H \"{}: ${var}\"", dq(name)),
        });
    }
    if let Some(user) = &r.basic_user {
        words.push(format!("-u \"{}:${URL_PASSWORD_VAR}\"", dq(user)));
    }
    if let Some(p) = &r.proxy {
        words.push(format!("--proxy {}", sh(&p.url)));
        match (&p.user, p.has_password) {
            (Some(user), true) => {
                words.push(format!(
                    "--proxy-user \"{}:${PROXY_PASSWORD_VAR}\"",
                    dq(user)
                ));
            }
            (Some(user), false) => words.push(format!("--proxy-user {}", sh(&format!("{user}:")))),
            (None, _) => {}
        }
    }
    if let Some(noproxy) = &r.noproxy {
        words.push(format!("--noproxy {}", sh(noproxy)));
    }
    if r.insecure {
        words.push("-k".into());
    } else if let Some(ca) = &r.cacert {
        words.push(format!("--cacert {}", sh(&ca.to_string_lossy())));
    }
    for pin in &r.resolve {
        words.push(format!("--resolve {}", sh(pin)));
    }
    match r.family {
        IpFamily::Any => {}
        IpFamily::V4 => words.push("-4".into()),
        IpFamily::V6 => words.push("-6".into()),
    }
    if r.http2 {
        words.push("--http2".into());
    }
    if let Some(dns) = &r.dns_server {
        cannot.push(format!(
            "--dns {dns}: Debian's curl is built without c-ares (--dns-servers)"
        ));
    }
}

/// Text for inside a double-quoted shell word (where `$VAR` must still expand).
fn dq(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `--retry`'s count: urllib3's worst case in attempts, less the first, or the simple count.
fn curl_retry_count(s: &ReplaySettings, cannot: &mut Vec<String>) -> u32 {
    let budget = worst_case(s);
    match (s.policy, s.total) {
        (PolicyKind::Urllib3, _) if budget.unbounded => {
            cannot.push(
                "retrying without limit (urllib3 total=None here): curl needs a count".into(),
            );
            1000
        }
        (PolicyKind::Urllib3, _) => budget.max_attempts.saturating_sub(1),
        _ => s.simple_retries(),
    }
}

/// `--retry N` with the delay and which errors it covers.
fn curl_retry_flags(
    s: &ReplaySettings,
    retries: u32,
    words: &mut Vec<String>,
    cannot: &mut Vec<String>,
) {
    words.push(format!("--retry {retries}"));
    curl_retry_delay(s, words, cannot);
    let connrefused = match s.policy {
        PolicyKind::Curl => s.curl_retry_connrefused,
        _ => true,
    };
    if s.policy == PolicyKind::Curl && s.curl_retry_all_errors {
        words.push("--retry-all-errors".into());
    } else if connrefused {
        words.push("--retry-connrefused".into());
    }
    if s.policy != PolicyKind::Curl {
        cannot.push(
            "retrying resets, protocol and TLS errors: only --retry-all-errors does, and with \
             --fail it also retries every HTTP error"
                .into(),
        );
    }
}

/// A fixed sleep maps to `--retry-delay`; any other schedule is curl's own doubling.
fn curl_retry_delay(s: &ReplaySettings, words: &mut Vec<String>, cannot: &mut Vec<String>) {
    let fixed = match s.policy {
        PolicyKind::Fixed | PolicyKind::Curl => s.backoff_factor > 0.0,
        _ => false,
    };
    if fixed {
        // curl takes whole seconds here (7.x rejects "0.5"): round up, and say so.
        let whole = s.backoff_factor.ceil().max(1.0);
        words.push(format!("--retry-delay {}", num(whole)));
        if whole != s.backoff_factor {
            cannot.push(format!(
                "a {} s retry delay: --retry-delay takes whole seconds ({} here)",
                num(s.backoff_factor),
                num(whole)
            ));
        }
    } else if s.policy != PolicyKind::Curl {
        cannot.push(format!(
            "the {} backoff schedule: curl sleeps 1, 2, 4 … s up to 600 s, or a fixed \
             --retry-delay",
            s.policy.name()
        ));
    }
}

/// The read and DNS timeouts, and urllib3's per-category counts: curl has none of them.
fn curl_cannot_timeouts(s: &ReplaySettings, cannot: &mut Vec<String>) {
    cannot.push(format!(
        "the read timeout ({} s between reads): curl has none; nearest --speed-limit 1 \
         --speed-time {} (an average-rate check)",
        secs(s.read_timeout),
        secs(s.read_timeout)
    ));
    cannot.push(format!(
        "the DNS timeout ({} s): curl's --connect-timeout covers DNS, TCP and TLS together",
        secs(s.dns_timeout)
    ));
    if s.policy == PolicyKind::Urllib3
        && (s.connect.is_some() || s.read.is_some() || s.status.is_some() || s.other.is_some())
    {
        cannot.push(format!(
            "per-category retry counts (connect={}, read={}, status={}, other={}): curl has one \
             --retry count",
            opt_count(s.connect),
            opt_count(s.read),
            opt_count(s.status),
            opt_count(s.other)
        ));
    }
}

/// Where the retried statuses and methods differ from curl's fixed transient set.
fn curl_cannot_statuses(s: &ReplaySettings, cannot: &mut Vec<String>) {
    let beyond: Vec<u16> = s
        .status_forcelist
        .iter()
        .copied()
        .filter(|c| !CURL_TRANSIENT_STATUSES.contains(c))
        .collect();
    if !beyond.is_empty() {
        cannot.push(format!(
            "status_forcelist {} beyond curl's transient set 408, 429, 500, 502, 503, 504",
            list_u16(&beyond)
        ));
    }
    let missing: Vec<u16> = CURL_TRANSIENT_STATUSES
        .iter()
        .copied()
        .filter(|c| !s.status_forcelist.contains(c))
        .collect();
    if !missing.is_empty() {
        cannot.push(format!(
            "not retrying {}: curl always retries its transient statuses",
            list_u16(&missing)
        ));
    }
    if s.policy == PolicyKind::Urllib3 && !s.allowed_methods.is_empty() {
        cannot.push("allowed_methods: curl retries every method, POST included".into());
    }
}

/// Jitter and Retry-After: curl's sleeps are deterministic and always honour the header.
fn curl_cannot_sleeps(s: &ReplaySettings, retries: u32, cannot: &mut Vec<String>) {
    let jitter = match s.policy {
        PolicyKind::FullJitter => Some("full jitter".to_string()),
        _ if s.backoff_jitter != 0.0 => {
            Some(format!("jitter (backoff_jitter {})", num(s.backoff_jitter)))
        }
        _ => None,
    };
    if let Some(j) = jitter {
        cannot.push(format!("{j}: curl's sleeps are not random"));
    }
    let ignores_retry_after = match s.policy {
        PolicyKind::Urllib3 => !s.respect_retry_after,
        PolicyKind::Curl => false,
        PolicyKind::Loop | PolicyKind::Fixed | PolicyKind::FullJitter => true,
    };
    if ignores_retry_after && retries > 0 {
        cannot.push(
            "ignoring Retry-After: curl always waits max(Retry-After, its own sleep) on a \
             transient status"
                .into(),
        );
    } else if s.policy == PolicyKind::Urllib3 && retries > 0 {
        cannot.push(format!(
            "capping Retry-After at {} s: curl waits as long as the server says",
            num(s.retry_after_max)
        ));
    }
}

/// The header comment, the command one word group per line, then what curl cannot express.
fn curl_text(s: &ReplaySettings, words: &[String], cannot: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# netpeel replay: {} policy, nearest curl",
        s.policy.name()
    );
    let _ = writeln!(out, "{}", words.join(" \\\n  "));
    out.push_str("# curl cannot express:\n");
    for c in cannot {
        let _ = writeln!(out, "#   {c}");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn python_for(s: &ReplaySettings, url: &str) -> String {
        python(s, &ExportRequest::for_url(url))
    }

    fn curl_for(s: &ReplaySettings, url: &str) -> String {
        curl(s, &ExportRequest::for_url(url))
    }

    #[test]
    fn a_ca_variable_pointing_nowhere_is_called_out_in_the_snippet() {
        let mut r = ExportRequest::for_url("https://api.test/");
        r.ca_problem = Some((
            "REQUESTS_CA_BUNDLE".into(),
            std::path::PathBuf::from("/nonexistent/ca.pem"),
        ));
        let got = python(&ReplaySettings::default(), &r);
        assert!(
            got.contains("# netpeel: REQUESTS_CA_BUNDLE=/nonexistent/ca.pem cannot be used"),
            "{got}"
        );
        assert!(got.contains("#   unset REQUESTS_CA_BUNDLE"), "{got}");
    }

    #[test]
    fn a_private_ca_found_by_the_probe_exports_the_os_store_as_verify() {
        let mut r = ExportRequest::for_url("https://api.test/");
        r.trust_fix = Some(std::path::PathBuf::from(
            "/etc/ssl/certs/ca-certificates.crt",
        ));
        let got = python(&ReplaySettings::default(), &r);
        assert!(
            got.contains("verify=\"/etc/ssl/certs/ca-certificates.crt\""),
            "{got}"
        );
        assert!(got.contains("export REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"));
        assert!(got.contains("truststore.inject_into_ssl()"), "{got}");
        // -k wins: nothing to verify with.
        r.insecure = true;
        assert!(!python(&ReplaySettings::default(), &r).contains("truststore"));
    }

    #[test]
    fn python_requests_default() {
        let got = python_for(&ReplaySettings::default(), "https://api.test/health");
        let want = "\
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

retry = Retry(
    total=0,
    read=False,
    backoff_factor=0,
    status_forcelist=[],
)
session = requests.Session()
adapter = HTTPAdapter(max_retries=retry)
session.mount(\"http://\", adapter)
session.mount(\"https://\", adapter)
r = session.request(\"GET\", \"https://api.test/health\", timeout=(10, 30))
r.raise_for_status()
# requests cannot express:
#   dns_timeout 5 s: getaddrinfo is not bounded by the connect timeout
#   the read timeout (30 s) bounds each gap between reads, not the whole body
";
        assert!(got.ends_with(want), "{got}");
        assert!(got.starts_with("# netpeel replay: urllib3 policy"), "{got}");
    }

    #[test]
    fn python_full_urllib3() {
        let s = ReplaySettings {
            total: None,
            connect: Some(3),
            read: Some(2),
            status: Some(4),
            backoff_factor: 0.5,
            backoff_max: 30.0,
            backoff_jitter: 0.25,
            status_forcelist: vec![502, 503],
            allowed_methods: vec!["GET".into(), "POST".into()],
            respect_retry_after: false,
            raise_on_status: false,
            method: "post".into(),
            max_time: Some(Duration::from_millis(2500)),
            connect_timeout: Duration::from_millis(3050),
            ..ReplaySettings::urllib3_default()
        };
        let got = python_for(&s, "https://user:hunter2@api.test/a\"b");
        for line in [
            "    total=None,\n    connect=3,\n    read=2,\n    status=4,\n    backoff_factor=0.5,\n    backoff_max=30,\n    backoff_jitter=0.25,\n    status_forcelist=[502, 503],\n    allowed_methods=[\"GET\", \"POST\"],\n    respect_retry_after_header=False,\n    raise_on_status=False,\n)",
            "r = session.request(\n    \"POST\",\n    \"https://api.test/a%22b\",\n    auth=(\"user\", os.environ[\"NETPEEL_URL_PASSWORD\"]),\n    timeout=(3.05, 30),\n)",
            "#   max_time 2.5 s: requests has no overall deadline per attempt",
        ] {
            assert!(got.contains(line), "missing {line:?} in\n{got}");
        }
        assert!(!got.contains("hunter2"));
    }

    #[test]
    fn python_other_policies_say_what_differs() {
        for p in [
            PolicyKind::Loop,
            PolicyKind::Fixed,
            PolicyKind::FullJitter,
            PolicyKind::Curl,
        ] {
            let s = ReplaySettings {
                policy: p,
                total: Some(4),
                backoff_factor: 2.0,
                ..ReplaySettings::default()
            };
            let got = python_for(&s, "http://h.test/");
            assert!(
                got.contains(&format!("# differs from {}:", p.name())),
                "{got}"
            );
            assert!(got.contains("    total=4,\n"), "{got}");
            assert!(!got.contains("read=False"), "{got}");
            assert!(got.contains("allowed_methods=None"), "{got}");
        }
        let fixed = python_for(
            &ReplaySettings {
                policy: PolicyKind::Fixed,
                backoff_factor: 2.0,
                ..ReplaySettings::default()
            },
            "http://h.test/",
        );
        assert!(
            fixed.contains("backoff_factor=2,\n    backoff_max=2,"),
            "{fixed}"
        );
        let curl_like = python_for(
            &ReplaySettings {
                policy: PolicyKind::Curl,
                ..ReplaySettings::default()
            },
            "http://h.test/",
        );
        assert!(
            curl_like.contains("status_forcelist=[408, 429, 500, 502, 503, 504]"),
            "{curl_like}"
        );
    }

    #[test]
    fn curl_command_lines() {
        let got = curl_for(&ReplaySettings::default(), "https://api.test/health");
        assert!(
            got.contains("curl \\\n  --fail \\\n  --silent \\\n  --show-error \\\n  --compressed \\\n  --connect-timeout 10 \\\n  -L --max-redirs 30 \\\n  https://api.test/health\n"),
            "{got}"
        );
        assert!(!got.contains("--retry"), "{got}");
        assert!(
            got.contains("#   the read timeout (30 s between reads)"),
            "{got}"
        );

        let s = ReplaySettings {
            policy: PolicyKind::Fixed,
            total: Some(5),
            backoff_factor: 3.0,
            backoff_jitter: 1.0,
            status_forcelist: vec![503, 520],
            method: "POST".into(),
            max_time: Some(Duration::from_secs(60)),
            ..ReplaySettings::default()
        };
        let got = curl_for(&s, "http://u:secret@h.test/p?q='x'");
        for part in [
            "--max-time 60",
            "--retry 5",
            "--retry-delay 3",
            "--retry-connrefused",
            "-X POST",
            // the password comes from a variable; the URL is re-serialized, so ' becomes %27
            "-u \"u:$NETPEEL_URL_PASSWORD\"",
            "'http://h.test/p?q=%27x%27'",
            "ignoring Retry-After",
            "status_forcelist [520] beyond curl's transient set",
            "jitter (backoff_jitter 1)",
        ] {
            assert!(got.contains(part), "missing {part:?} in\n{got}");
        }
        assert!(!got.contains("secret"));
        assert_eq!(sh("it's"), r"'it'\''s'");
        assert_eq!(sh("https://h.test/a"), "https://h.test/a");
        assert_eq!(sh("https://h.test/a?b=1&c"), "'https://h.test/a?b=1&c'");

        let s = ReplaySettings {
            method: "HEAD".into(),
            total: Some(2),
            connect: Some(1),
            ..ReplaySettings::urllib3_default()
        };
        let got = curl_for(&s, "https://h.test/");
        assert!(got.contains("--head"), "{got}");
        assert!(got.contains("--retry 2"), "{got}");
        assert!(
            got.contains("per-category retry counts (connect=1"),
            "{got}"
        );

        let s = ReplaySettings {
            policy: PolicyKind::Curl,
            total: Some(3),
            curl_retry_all_errors: true,
            ..ReplaySettings::default()
        };
        let got = curl_for(&s, "https://h.test/");
        assert!(got.contains("--retry 3 \\\n  --retry-all-errors"), "{got}");
        assert!(!got.contains("--retry-delay"), "{got}");
    }
}
