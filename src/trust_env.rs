//! The certificate stores each client would use, read from the environment the way each
//! client reads it, for the engine's trust matrix (the engine itself reads no environment):
//!
//! - requests: `--cacert` (its `verify=`), else `REQUESTS_CA_BUNDLE`, else `CURL_CA_BUNDLE`,
//!   else the certifi bundle of the Python that would run the user's code (asked once, bounded
//!   in time and output), else netpeel's built-in Mozilla roots;
//! - curl 7.88 (its tool reads these, OpenSSL does not): `--cacert`, else `CURL_CA_BUNDLE`,
//!   else `SSL_CERT_DIR` (with the default CA file), else `SSL_CERT_FILE` (with the default CA
//!   directory), else the system bundle and `/etc/ssl/certs`;
//! - the OS store (the system bundle) when curl's is another; Mozilla's roots (webpki-roots).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::engine::settings::{CaBundle, CaProblem, CaSource};
use crate::engine::trust::{StoreProblem, TrustClient, TrustStore, mozilla_root_count};

/// The system bundles of the usual distributions, in the order Go's crypto/x509 tries them.
pub(crate) const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",             // openSUSE
    "/etc/pki/tls/cacert.pem",            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
    "/etc/ssl/cert.pem",                  // Alpine, macOS
];

/// OpenSSL's default CA directory on Debian-like systems (curl's CApath there).
const SYSTEM_CA_DIR: &str = "/etc/ssl/certs";

/// Largest CA bundle read (the system's is about 200 KiB; `/dev/zero` must not fill memory).
pub(crate) const MAX_CA_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;
/// A CA directory: at most this many files read, each at most 1 MiB, 16 MiB in all.
const MAX_DIR_FILES: usize = 4096;
const MAX_DIR_FILE_BYTES: u64 = 1024 * 1024;
/// Certificates kept per store (Mozilla's list has about 150).
const MAX_CERTS: usize = 10_000;
/// The Python question: answered within this time, in at most this many bytes.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_PYTHON_OUTPUT: u64 = 64 * 1024;

/// What requests' store and the matrix come to.
pub(crate) struct TrustSetup {
    /// The bundle the probe verifies with (requests').
    pub ca: CaBundle,
    pub ca_problem: Option<CaProblem>,
    pub stores: Vec<TrustStore>,
    pub notes: Vec<String>,
}

/// Why a bundle could not be read.
pub(crate) enum BundleError {
    /// requests/curl fail on it at run time: the probe's own verdict.
    Unusable(StoreProblem, String),
    /// Not a regular file, too big, unreadable: a usage error.
    Refused(String),
}

/// The bundle's certificates. A missing file and a file without a PEM certificate are the
/// clients' failures (`Unusable`); a FIFO, a device, an oversized or unreadable file are refused.
pub(crate) fn read_bundle(
    path: &Path,
    from: &str,
) -> Result<Vec<CertificateDer<'static>>, BundleError> {
    if std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Err(BundleError::Unusable(
            StoreProblem::Missing,
            "no such file".into(),
        ));
    }
    let bytes = crate::cli::read_ca_file(path, from).map_err(BundleError::Refused)?;
    let blocks: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .take(MAX_CERTS)
        .collect();
    // OpenSSL refuses the whole file for one CERTIFICATE block that is no certificate (requests:
    // SSLError "[X509] PEM lib"; curl: exit 77), even beside good ones.
    let not_a_certificate = |b: &Result<CertificateDer<'static>, _>| {
        b.as_ref()
            .map_or(true, |c| x509_parser::parse_x509_certificate(c).is_err())
    };
    if blocks.iter().any(not_a_certificate) {
        let what = "a CERTIFICATE block in the file is no certificate";
        return Err(BundleError::Unusable(StoreProblem::Empty, what.into()));
    }
    let certs: Vec<CertificateDer<'static>> = blocks.into_iter().filter_map(Result::ok).collect();
    if certs.is_empty() {
        let what = if bytes.is_empty() {
            "the file is empty"
        } else {
            "the file holds no PEM certificate"
        };
        return Err(BundleError::Unusable(StoreProblem::Empty, what.into()));
    }
    Ok(certs)
}

/// The certificates of an OpenSSL CA directory: its hashed files (`xxxxxxxx.N`, what OpenSSL
/// looks up), bounded in count and bytes. A missing directory is empty, as OpenSSL takes it.
fn read_ca_dir(dir: &Path) -> Vec<CertificateDer<'static>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut certs = Vec::new();
    let mut total = 0u64;
    for entry in entries.flatten().take(MAX_DIR_FILES) {
        let name = entry.file_name();
        if !is_hashed_name(&name.to_string_lossy()) {
            continue;
        }
        // Follows symlinks (Debian's entries are links into /usr/share/ca-certificates).
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_DIR_FILE_BYTES || total > MAX_CA_BUNDLE_BYTES {
            continue;
        }
        let Ok(file) = std::fs::File::open(entry.path()) else {
            continue;
        };
        let mut bytes = Vec::new();
        if file
            .take(MAX_DIR_FILE_BYTES)
            .read_to_end(&mut bytes)
            .is_err()
        {
            continue;
        }
        total += bytes.len() as u64;
        certs.extend(CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok));
        if certs.len() >= MAX_CERTS {
            break;
        }
    }
    certs
}

/// `0123abcd.0`: eight hex digits, a dot, a number.
fn is_hashed_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((hash, n)) => {
            hash.len() == 8
                && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn roots_of(certs: &[CertificateDer<'static>]) -> Arc<RootCertStore> {
    Arc::new(crate::engine::trust::roots_from(certs))
}

fn store(
    client: TrustClient,
    label: String,
    source: &str,
    path: Option<PathBuf>,
    certs: &[CertificateDer<'static>],
) -> TrustStore {
    TrustStore {
        client,
        store: label,
        source: source.to_string(),
        path,
        roots: roots_of(certs),
        certs: certs.into(),
        problem: None,
    }
}

fn broken(client: TrustClient, source: &str, path: &Path, problem: StoreProblem) -> TrustStore {
    TrustStore {
        client,
        store: format!("{source} {}", path.display()),
        source: source.to_string(),
        path: Some(path.to_path_buf()),
        roots: Arc::new(RootCertStore::empty()),
        certs: Arc::new([]),
        problem: Some(problem),
    }
}

/// The first system bundle that exists.
pub(crate) fn system_bundle() -> Option<PathBuf> {
    SYSTEM_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// What Python says about its certifi and requests (`--python`), if it answers in time.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub(crate) struct PythonFacts {
    pub certifi_where: Option<String>,
    pub certifi: Option<String>,
    pub requests: Option<String>,
    pub urllib3: Option<String>,
    pub python: Option<String>,
    pub error: Option<String>,
}

/// Asks only what it needs: importlib.metadata for versions (no import of requests), certifi
/// for where its bundle is.
const PYTHON_SCRIPT: &str = r#"
import json, sys
out = {"python": sys.version.split()[0]}
try:
    from importlib import metadata
    for m in ("requests", "urllib3", "certifi"):
        try:
            out[m] = metadata.version(m)
        except Exception:
            out[m] = None
except Exception as e:
    out["error"] = repr(e)[:200]
try:
    import certifi
    out["certifi_where"] = certifi.where()
    out["certifi"] = getattr(certifi, "__version__", None) or out.get("certifi")
except Exception as e:
    out["error"] = repr(e)[:200]
print(json.dumps(out))
"#;

/// Python's answer for the process, keyed by `--python`: a mode that builds its settings again
/// (an attempt, a probe, a gap) costs no second interpreter start (about 50 ms each).
pub(crate) fn ask_python(python: &str) -> Result<PythonFacts, String> {
    type Answers = Mutex<HashMap<String, Result<PythonFacts, String>>>;
    static ANSWERS: OnceLock<Answers> = OnceLock::new();
    let answers = ANSWERS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(known) = answers.lock().ok().and_then(|a| a.get(python).cloned()) {
        return known;
    }
    let answer = ask_python_now(python);
    if let Ok(mut a) = answers.lock() {
        a.insert(python.to_string(), answer.clone());
    }
    answer
}

/// Run `python` once, within [`PYTHON_TIMEOUT`], reading at most [`MAX_PYTHON_OUTPUT`] bytes.
fn ask_python_now(python: &str) -> Result<PythonFacts, String> {
    let mut child = Command::new(python)
        .args(["-c", PYTHON_SCRIPT])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{python} could not be run: {e}"))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{python}: no output pipe"));
    };
    // The output is read on a thread and handed over a channel: a wrapper that left a process
    // holding the pipe open cannot make netpeel wait past the time bound. The answer is one
    // line: read up to its end, not to the pipe's (which that process would hold off).
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut out = Vec::new();
        let mut answer = std::io::BufReader::new(stdout.take(MAX_PYTHON_OUTPUT));
        let _ = answer.read_until(b'\n', &mut out);
        let _ = sender.send(out);
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < PYTHON_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => break None,
        }
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "{python} did not answer within {} s",
            PYTHON_TIMEOUT.as_secs()
        ));
    };
    let left = PYTHON_TIMEOUT.saturating_sub(started.elapsed()) + Duration::from_millis(100);
    let out = receiver.recv_timeout(left).unwrap_or_default();
    if !status.success() {
        return Err(format!("{python} exited with {status}"));
    }
    serde_json::from_slice(&out).map_err(|e| format!("{python} answered something else: {e}"))
}

/// How requests' built-in fallback reads.
fn built_in_label(why: &str) -> String {
    format!(
        "netpeel's built-in Mozilla roots (webpki-roots, {} roots; {why})",
        mozilla_root_count()
    )
}

/// Mozilla's roots compiled in, as the probe's bundle.
fn built_in_bundle() -> CaBundle {
    CaBundle {
        source: CaSource::BuiltIn,
        certs: Vec::new(),
    }
}

/// requests' store from `--cacert` or its CA variable: a directory (OpenSSL's CA directory),
/// a bundle, or a file requests fails on (its own verdict; a usage error for the flag).
fn requests_chosen_store(
    path: PathBuf,
    from: String,
    notes: &mut Vec<String>,
) -> Result<(CaBundle, TrustStore, Option<CaProblem>), String> {
    if path.is_dir() {
        return Ok(requests_dir_store(path, from, notes));
    }
    match read_bundle(&path, &from) {
        Ok(certs) => {
            let label = format!("{from} {}", path.display());
            Ok(requests_bundle(label, path, from, certs))
        }
        // The flag is the user's own input: a bad file is a usage error, as before.
        Err(BundleError::Unusable(_, why)) if from == "--cacert" => {
            Err(format!("{from} {}: {why}", path.display()))
        }
        Err(BundleError::Refused(e)) => Err(e),
        Err(BundleError::Unusable(problem, detail)) => {
            let s = broken(TrustClient::Requests, &from, &path, problem);
            let p = CaProblem {
                variable: from,
                path,
                problem,
                detail,
            };
            Ok((built_in_bundle(), s, Some(p)))
        }
    }
}

/// requests' store, with the bundle the probe verifies with and a problem when its variable
/// names an unusable file. `chosen` is `--cacert` or the variable, as `choose_ca` found it.
fn requests_store(
    chosen: Option<(PathBuf, String)>,
    python: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<(CaBundle, TrustStore, Option<CaProblem>), String> {
    let built_in = built_in_bundle();
    if let Some((path, from)) = chosen {
        return requests_chosen_store(path, from, notes);
    }
    let Some(python) = python else {
        notes.push("The URL is http://, so requests' certifi was not asked (--python asks it): for the https hop netpeel used its built-in Mozilla roots, the list certifi ships.".into());
        let s = TrustStore::mozilla(
            TrustClient::Requests,
            built_in_label("certifi not asked for an http:// URL"),
            "built-in",
        );
        return Ok((built_in, s, None));
    };
    let facts = match ask_python(python) {
        Ok(f) => f,
        Err(e) => {
            notes.push(format!("requests' certifi could not be asked ({e}): netpeel used its built-in Mozilla roots, the list certifi ships."));
            let s = TrustStore::mozilla(
                TrustClient::Requests,
                built_in_label("Python not asked"),
                "built-in",
            );
            return Ok((built_in, s, None));
        }
    };
    let Some(where_) = facts.certifi_where.clone() else {
        let why = facts.error.clone().unwrap_or_else(|| "no certifi".into());
        notes.push(format!(
            "{python} has no certifi ({why}): netpeel used its built-in Mozilla roots."
        ));
        let s = TrustStore::mozilla(
            TrustClient::Requests,
            built_in_label("no certifi"),
            "built-in",
        );
        return Ok((built_in, s, None));
    };
    let path = PathBuf::from(where_);
    match read_bundle(&path, "certifi") {
        Ok(certs) => {
            let version = facts.certifi.clone().unwrap_or_else(|| "?".into());
            let versions: Vec<String> = [
                ("Python", &facts.python),
                ("requests", &facts.requests),
                ("urllib3", &facts.urllib3),
            ]
            .iter()
            .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name} {v}")))
            .collect();
            let label = format!("certifi {version} ({})", versions.join(", "));
            let s = store(
                TrustClient::Requests,
                label,
                "certifi",
                Some(path.clone()),
                &certs,
            );
            let ca = CaBundle {
                source: CaSource::Bundle {
                    path,
                    from: "certifi".into(),
                },
                certs,
            };
            Ok((ca, s, None))
        }
        Err(BundleError::Refused(e) | BundleError::Unusable(_, e)) => {
            notes.push(format!("certifi's bundle {} could not be read ({e}): netpeel used its built-in Mozilla roots.", path.display()));
            let s = TrustStore::mozilla(
                TrustClient::Requests,
                built_in_label("certifi unreadable"),
                "built-in",
            );
            Ok((built_in, s, None))
        }
    }
}

/// requests' store when its variable (or `--cacert`, its `verify=`) names a directory: requests
/// hands it to OpenSSL as the CA directory (`ca_cert_dir`), where only files named by subject
/// hash (`1a2b3c4d.0`) are looked up. Without one nothing is trusted: requests raises SSLError
/// (unable to get local issuer certificate), not a usage error.
fn requests_dir_store(
    path: PathBuf,
    from: String,
    notes: &mut Vec<String>,
) -> (CaBundle, TrustStore, Option<CaProblem>) {
    let certs = read_ca_dir(&path);
    let label = format!(
        "{from} {} (a CA directory: {} certificate(s) in hashed files)",
        path.display(),
        certs.len()
    );
    if certs.is_empty() {
        notes.push(format!(
            "{from}={} is a directory: requests reads it as OpenSSL's CA directory, where only files named by subject hash (like 1a2b3c4d.0) count, and it has none, so nothing is trusted (`openssl rehash {}` makes the names).",
            path.display(),
            path.display()
        ));
    }
    requests_bundle(label, path, from, certs)
}

/// requests' column and the probe's bundle, from the certificates `from` names at `path`.
fn requests_bundle(
    label: String,
    path: PathBuf,
    from: String,
    certs: Vec<CertificateDer<'static>>,
) -> (CaBundle, TrustStore, Option<CaProblem>) {
    let s = store(
        TrustClient::Requests,
        label,
        &from,
        Some(path.clone()),
        &certs,
    );
    let ca = CaBundle {
        source: CaSource::Bundle { path, from },
        certs,
    };
    (ca, s, None)
}

/// curl's store: a CA file and a CA directory, chosen as curl 7.88's tool chooses them.
fn curl_store(cacert: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> TrustStore {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let default_dir = PathBuf::from(SYSTEM_CA_DIR);
    let (source, file, dir) = if let Some(p) = cacert {
        ("--cacert", Some(p.to_path_buf()), None)
    } else if let Some(p) = set("CURL_CA_BUNDLE") {
        ("CURL_CA_BUNDLE", Some(p), None)
    } else if let Some(d) = set("SSL_CERT_DIR") {
        ("SSL_CERT_DIR", system_bundle(), Some(d))
    } else if let Some(p) = set("SSL_CERT_FILE") {
        ("SSL_CERT_FILE", Some(p), Some(default_dir))
    } else {
        ("system", system_bundle(), Some(default_dir))
    };
    let mut certs = Vec::new();
    if let Some(f) = &file {
        // --cacert, CURL_CA_BUNDLE and SSL_CERT_FILE are curl's CA *file*: a directory there is
        // curl's exit 77, as a missing file is.
        if f.is_dir() {
            return broken(TrustClient::Curl, source, f, StoreProblem::Directory);
        }
        match read_bundle(f, source) {
            Ok(c) => certs = c,
            // curl cannot set its CA file: exit 77.
            Err(BundleError::Unusable(problem, _)) => {
                return broken(TrustClient::Curl, source, f, problem);
            }
            Err(BundleError::Refused(_)) => {
                return broken(TrustClient::Curl, source, f, StoreProblem::Empty);
            }
        }
    }
    if let Some(d) = &dir {
        certs.extend(read_ca_dir(d));
    }
    let primary = if source == "SSL_CERT_DIR" { dir } else { file };
    let label = match (source, &primary) {
        ("system", _) => "system store".to_string(),
        (_, Some(p)) => format!("{source} {}", p.display()),
        (_, None) => source.to_string(),
    };
    store(TrustClient::Curl, label, source, primary, &certs)
}

/// Every store for an https probe. `chosen` is requests' `--cacert` or variable.
pub(crate) fn setup(
    cacert: Option<&Path>,
    chosen: Option<(PathBuf, String)>,
    python: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TrustSetup, String> {
    let mut notes = Vec::new();
    let (ca, requests, ca_problem) = requests_store(chosen, python, &mut notes)?;
    let curl = curl_store(cacert, env);
    let mut stores = vec![requests, curl];
    let curl_is_system = stores[1].source == "system";
    if !curl_is_system && let Some(path) = system_bundle() {
        let os = match read_bundle(&path, "system") {
            Ok(certs) => store(
                TrustClient::Os,
                "system bundle".into(),
                "system",
                Some(path),
                &certs,
            ),
            Err(_) => broken(TrustClient::Os, "system", &path, StoreProblem::Empty),
        };
        stores.push(os);
    }
    stores.push(TrustStore::mozilla(
        TrustClient::Mozilla,
        format!(
            "Mozilla roots (webpki-roots, {} roots)",
            mozilla_root_count()
        ),
        "built-in",
    ));
    Ok(TrustSetup {
        ca,
        ca_problem,
        stores,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_openssl_hashed_names_are_read_from_a_directory() {
        assert!(is_hashed_name("ce275665.0"));
        assert!(is_hashed_name("0123ABCD.12"));
        assert!(!is_hashed_name("ca-certificates.crt"));
        assert!(!is_hashed_name("ce27566.0"));
        assert!(!is_hashed_name("ce275665."));
        assert!(!is_hashed_name("ce275665.r0"));
    }

    #[test]
    fn curl_reads_its_variables_in_its_own_order() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let both = env(&[
            ("SSL_CERT_DIR", "/nonexistent-dir"),
            ("SSL_CERT_FILE", "/nonexistent.pem"),
        ]);
        // SSL_CERT_DIR wins over SSL_CERT_FILE (curl's tool reads the file only without a dir).
        assert_eq!(curl_store(None, &both).source, "SSL_CERT_DIR");
        let file = env(&[("SSL_CERT_FILE", "/nonexistent.pem")]);
        let s = curl_store(None, &file);
        assert_eq!(
            (s.source.as_str(), s.problem),
            ("SSL_CERT_FILE", Some(StoreProblem::Missing))
        );
        let bundle = env(&[
            ("CURL_CA_BUNDLE", "/nonexistent.pem"),
            ("SSL_CERT_DIR", "/x"),
        ]);
        assert_eq!(curl_store(None, &bundle).source, "CURL_CA_BUNDLE");
        assert_eq!(
            curl_store(Some(Path::new("/flag.pem")), &bundle).source,
            "--cacert"
        );
    }

    #[test]
    fn python_is_started_once_per_interpreter_and_process() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let count = dir.path().join("started");
        let script = dir.path().join("python");
        let body = format!(
            "#!/bin/sh\necho x >> '{}'\necho '{{\"certifi\": \"2020.01.01\"}}'\n",
            count.display()
        );
        std::fs::write(&script, body).expect("script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let python = script.display().to_string();
        for _ in 0..3 {
            let facts = ask_python(&python).expect("answers");
            assert_eq!(facts.certifi.as_deref(), Some("2020.01.01"));
        }
        let started = std::fs::read_to_string(&count).unwrap_or_default();
        assert_eq!(started.lines().count(), 1, "{started:?}");
        // Another interpreter is asked on its own; a failure is kept too.
        assert!(ask_python("/nonexistent/other-python").is_err());
        assert!(ask_python("/nonexistent/other-python").is_err());
    }

    #[test]
    fn python_that_is_not_there_is_an_error_not_a_hang() {
        let e = ask_python("/nonexistent/python3").expect_err("no such python");
        assert!(e.contains("could not be run"), "{e}");
    }
}
