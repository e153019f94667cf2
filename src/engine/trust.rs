//! Which certificate store each client trusts: the presented chain verified against requests'
//! store, curl's, the OS store and Mozilla's roots, and the cause named when they disagree
//! (a private CA or TLS interception, a missing intermediate, a chain out of order or with an
//! expired cross-sign, an old certifi). The stores are data the caller loaded (the CLI reads
//! the environment and asks Python); nothing here reads the process environment.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::tls::{TlsFailure, classify_rustls};
use super::verifier::Recorded;

/// The client whose trust a store stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustClient {
    Requests,
    Curl,
    /// The operating system's bundle, when curl's store is not it.
    Os,
    /// Mozilla's roots as webpki-roots ships them: what a browser without enterprise roots trusts.
    Mozilla,
}

impl TrustClient {
    pub fn name(self) -> &'static str {
        match self {
            TrustClient::Requests => "requests",
            TrustClient::Curl => "curl",
            TrustClient::Os => "os",
            TrustClient::Mozilla => "mozilla",
        }
    }
}

/// Why a client cannot use its store at all (it fails before looking at the chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreProblem {
    /// The named file does not exist (requests: `OSError` before connecting; curl 77).
    Missing,
    /// The file holds no certificate (requests: `SSLError` at the handshake; curl 77).
    Empty,
    /// curl's CA file is a directory: curl takes a file there (exit 77, "error setting
    /// certificate file"); requests reads a directory as OpenSSL's CA directory instead.
    Directory,
}

/// One client's trust anchors, loaded by the caller.
#[derive(Clone, Debug)]
pub struct TrustStore {
    pub client: TrustClient,
    /// How the store reads in a sentence: "certifi 2024.8.30", "system store", "Mozilla roots".
    pub store: String,
    /// What chose it: `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`, `SSL_CERT_FILE`, `SSL_CERT_DIR`,
    /// `--cacert`, `certifi`, `system`, `built-in`.
    pub source: String,
    pub path: Option<PathBuf>,
    pub roots: Arc<RootCertStore>,
    /// The store's certificates as read (DER): a self-signed CA certificate the server presents
    /// is accepted, as OpenSSL accepts it, when it is one of these (see `ca_leaf`).
    pub certs: Arc<[CertificateDer<'static>]>,
    pub problem: Option<StoreProblem>,
}

impl TrustStore {
    /// Mozilla's roots compiled into netpeel.
    pub fn mozilla(client: TrustClient, store: String, source: &str) -> TrustStore {
        TrustStore {
            client,
            store,
            source: source.to_string(),
            path: None,
            roots: Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            // webpki-roots carries anchors, not certificates; no public root is a server's own.
            certs: Arc::new([]),
            problem: None,
        }
    }
}

/// The trust anchors of `certs`. When none is usable (a CA directory without a hashed file)
/// nothing is trusted, as in OpenSSL: one anchor no certificate names as its issuer stands in,
/// because webpki refuses to build a verifier over an empty store.
pub fn roots_from(certs: &[CertificateDer<'static>]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(certs.iter().cloned());
    if roots.is_empty() {
        roots.roots.push(rustls_pki_types::TrustAnchor {
            subject: rustls_pki_types::Der::from_slice(b"netpeel: no certificate is trusted"),
            subject_public_key_info: rustls_pki_types::Der::from_slice(b"none"),
            name_constraints: None,
        });
    }
    roots
}

/// How many roots webpki-roots carries, for "Mozilla roots (N)".
pub fn mozilla_root_count() -> usize {
    webpki_roots::TLS_SERVER_ROOTS.len()
}

/// One store's verdict on the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct TrustCheck {
    pub client: TrustClient,
    pub store: String,
    pub source: String,
    pub path: Option<PathBuf>,
    pub verified: bool,
    /// Why it did not verify (None when it did or when the store itself is unusable).
    pub failure: Option<TlsFailure>,
    pub problem: Option<StoreProblem>,
    pub error: Option<String>,
}

/// What is wrong with the chain or the stores, in the order the report names them.
#[derive(Clone, Debug, PartialEq)]
pub enum TrustCause {
    /// The chain verifies against curl's or the OS store, not against Mozilla's roots.
    PrivateCa {
        issuer: String,
        product: Option<String>,
        trusted_by: Vec<TrustClient>,
        os_bundle: Option<PathBuf>,
    },
    /// A certificate's issuer is neither in the chain nor a root; `url` from its AIA.
    MissingIntermediate { issuer: String, url: Option<String> },
    /// The chain is not in issuing order (each certificate followed by its issuer).
    WrongOrder,
    /// Certificates that are not on the path from the leaf.
    ExtraCerts { subjects: Vec<String> },
    /// An expired certificate above the leaf (a cross-sign, typically).
    ExpiredInChain {
        subject: String,
        issuer: String,
        not_after: String,
        verified_anyway: bool,
    },
    /// requests' certifi lacks the root that Mozilla's current list has.
    OldCertifi { store: String },
    /// requests' bundle (not certifi) lacks the root that Mozilla's list has.
    BundleLacksMozillaRoot { source: String },
}

impl TrustCause {
    pub fn name(&self) -> &'static str {
        match self {
            TrustCause::PrivateCa { product: None, .. } => "private_ca",
            TrustCause::PrivateCa { .. } => "tls_interception",
            TrustCause::MissingIntermediate { .. } => "missing_intermediate",
            TrustCause::WrongOrder => "wrong_order",
            TrustCause::ExtraCerts { .. } => "extra_certs",
            TrustCause::ExpiredInChain { .. } => "expired_in_chain",
            TrustCause::OldCertifi { .. } => "old_certifi",
            TrustCause::BundleLacksMozillaRoot { .. } => "bundle_lacks_root",
        }
    }

    /// The fix for requests, when there is a one-line one.
    pub fn fix(&self) -> Option<String> {
        match self {
            TrustCause::PrivateCa { trusted_by, .. } if trusted_by.is_empty() => Some(
                "get the product's root certificate from whoever runs it and point REQUESTS_CA_BUNDLE at a bundle with it".into(),
            ),
            TrustCause::PrivateCa { os_bundle, .. } => Some(match os_bundle {
                Some(p) => format!(
                    "export REQUESTS_CA_BUNDLE={} (the store that trusts it), or call truststore.inject_into_ssl() before using requests (Python 3.10+)",
                    p.display()
                ),
                None => "call truststore.inject_into_ssl() before using requests (Python 3.10+), or point REQUESTS_CA_BUNDLE at a bundle with this root".into(),
            }),
            TrustCause::MissingIntermediate { .. } => Some(
                "configure the server to send its intermediate certificate(s) after the leaf".into(),
            ),
            TrustCause::OldCertifi { .. } => Some("pip install -U certifi".into()),
            _ => None,
        }
    }

    /// One sentence, naming which clients the cause breaks.
    pub fn sentence(&self) -> String {
        match self {
            TrustCause::PrivateCa {
                issuer,
                product,
                trusted_by,
                ..
            } => {
                let who: Vec<&str> = trusted_by.iter().map(|c| client_words(*c)).collect();
                let what = match product {
                    Some(p) => format!("TLS interception: the issuer '{issuer}' looks like {p}'s"),
                    None => format!("a private CA: '{issuer}'"),
                };
                // Named by the issuer alone: no store here has its root.
                if who.is_empty() {
                    return format!(
                        "{what}; no store netpeel checked trusts the chain (not curl's, not the OS store, not Mozilla's roots), so requests and curl reject it here."
                    );
                }
                format!(
                    "{what}; the chain is trusted by {} but not by Mozilla's roots, so requests with certifi (and browsers without enterprise roots) reject it.",
                    who.join(" and ")
                )
            }
            TrustCause::MissingIntermediate { issuer, url } => {
                let aia = match url {
                    Some(u) => format!(" Its AIA caIssuers URL is {u} (try --fetch-intermediate)."),
                    None => " The certificate has no AIA caIssuers URL.".into(),
                };
                format!(
                    "the server does not send the intermediate certificate '{issuer}': browsers fetch it themselves, requests and curl do not.{aia}"
                )
            }
            TrustCause::WrongOrder => "the server sends its chain out of order (a certificate is not followed by its issuer); rustls and OpenSSL (requests, curl) reorder it, strict clients (older Java, some embedded TLS stacks) fail.".into(),
            TrustCause::ExtraCerts { subjects } => {
                // A padded chain can carry dozens: name a few.
                let mut named: Vec<&str> = subjects.iter().take(3).map(String::as_str).collect();
                let more = subjects.len().saturating_sub(named.len());
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                named.dedup();
                format!(
                    "the chain carries {} certificate(s) not on the path from the leaf ({}{more}); OpenSSL and rustls ignore them, they only cost bytes.",
                    subjects.len(),
                    named.join("; ")
                )
            }
            TrustCause::ExpiredInChain {
                subject,
                issuer,
                not_after,
                verified_anyway,
            } => {
                let outcome = if *verified_anyway {
                    "OpenSSL 1.1.0 and later (requests, curl here) and rustls build the path to the trusted root and ignore it; OpenSSL 1.0.x, GnuTLS before 3.6.14 and old Android fail, as with Let's Encrypt's expired DST Root CA X3 cross-sign in 2021"
                } else {
                    "no store here verifies the chain"
                };
                format!(
                    "the chain carries '{subject}' (issued by '{issuer}'), which expired on {not_after}: {outcome}; the server should drop it."
                )
            }
            TrustCause::OldCertifi { store } => format!(
                "the root that signs this chain is in Mozilla's current list but not in requests' {store}: certifi is out of date (pip install -U certifi)."
            ),
            TrustCause::BundleLacksMozillaRoot { source } => format!(
                "the root that signs this chain is in Mozilla's list but not in the bundle {source} names; add it or unset {source}."
            ),
        }
    }
}

fn client_words(c: TrustClient) -> &'static str {
    match c {
        TrustClient::Requests => "requests",
        TrustClient::Curl => "curl",
        TrustClient::Os => "the OS store",
        TrustClient::Mozilla => "Mozilla's roots",
    }
}

/// The intermediate fetched from the AIA URL (`--fetch-intermediate`) and what it changed.
#[derive(Clone, Debug, PartialEq)]
pub struct IntermediateFetch {
    pub url: String,
    /// `der` or `pem` when a certificate was read.
    pub format: Option<String>,
    pub subject: Option<String>,
    /// The stores re-checked with it appended to the chain.
    pub checks: Vec<TrustCheck>,
    pub error: Option<String>,
}

/// The matrix for one handshake, with the causes and the presented chain (DER, for a second
/// check with a fetched intermediate).
#[derive(Clone, Debug, Default)]
pub struct TrustReport {
    pub checks: Vec<TrustCheck>,
    pub causes: Vec<TrustCause>,
    pub chain_der: Vec<CertificateDer<'static>>,
    pub server_name: Option<ServerName<'static>>,
    pub intermediate: Option<IntermediateFetch>,
}

impl TrustReport {
    pub fn check(&self, client: TrustClient) -> Option<&TrustCheck> {
        self.checks.iter().find(|c| c.client == client)
    }

    /// The AIA URL of a missing intermediate, if that is a cause.
    pub fn missing_intermediate_url(&self) -> Option<&str> {
        self.causes.iter().find_map(|c| match c {
            TrustCause::MissingIntermediate { url: Some(u), .. } => Some(u.as_str()),
            _ => None,
        })
    }
}

/// Interception products as `pattern<TAB>product` lines (case-insensitive substrings of an
/// issuer or subject); kept as data so the list can grow without code.
const INTERCEPTION_PRODUCTS: &str = include_str!("../../assets/interception-products.tsv");

/// The product whose interception CA `name` (an issuer or subject) looks like.
pub fn interception_product(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    INTERCEPTION_PRODUCTS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .find(|(pattern, _)| lower.contains(&pattern.trim().to_lowercase()))
        .map(|(_, product)| product.trim())
}

/// Every product the data file names (for tests and the README).
pub fn interception_products() -> Vec<&'static str> {
    INTERCEPTION_PRODUCTS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(_, product)| product.trim())
        .collect()
}

/// Verify `chain` (leaf first) for `name` against each store, then name the causes.
pub fn assess(
    stores: &[TrustStore],
    chain: &[CertificateDer<'static>],
    name: &ServerName<'static>,
) -> TrustReport {
    if stores.is_empty() || chain.is_empty() {
        return TrustReport::default();
    }
    let now = UnixTime::now();
    let checks: Vec<TrustCheck> = stores
        .iter()
        .map(|s| check_store(s, chain, name, now))
        .collect();
    // The bundle that fixes requests: the OS store or curl's, whichever verifies the chain.
    let os_bundle = [TrustClient::Os, TrustClient::Curl]
        .iter()
        .find_map(|c| checks.iter().find(|k| k.client == *c && k.verified))
        .and_then(|k| k.path.clone());
    let causes = causes(stores, &checks, chain, os_bundle);
    TrustReport {
        checks,
        causes,
        chain_der: chain.to_vec(),
        server_name: Some(name.clone()),
        intermediate: None,
    }
}

/// One store's verdict on the chain.
pub fn check_store(
    store: &TrustStore,
    chain: &[CertificateDer<'static>],
    name: &ServerName<'static>,
    now: UnixTime,
) -> TrustCheck {
    let mut check = TrustCheck {
        client: store.client,
        store: store.store.clone(),
        source: store.source.clone(),
        path: store.path.clone(),
        verified: false,
        failure: None,
        problem: store.problem,
        error: None,
    };
    if store.problem.is_some() {
        return check;
    }
    let Some((leaf, intermediates)) = chain.split_first() else {
        return check;
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        match WebPkiServerVerifier::builder_with_provider(store.roots.clone(), provider).build() {
            Ok(v) => v,
            Err(e) => {
                // A store without a usable root is an empty one.
                check.problem = Some(StoreProblem::Empty);
                check.error = Some(e.to_string());
                return check;
            }
        };
    let result = verifier
        .verify_server_cert(leaf, intermediates, name, &[], now)
        .and_then(|_| super::ca_leaf::openssl_on_anchor(leaf, intermediates, &store.certs, now))
        .or_else(|webpki_says| {
            super::ca_leaf::openssl_on_ca_leaf(leaf, &store.certs, name, now, &webpki_says)
                .unwrap_or(Err(webpki_says))
        });
    match result {
        Ok(()) => check.verified = true,
        Err(e) => {
            let rec = Recorded {
                chain: chain.to_vec(),
                result: None,
            };
            check.failure = Some(classify_rustls(&e, &rec));
            check.error = Some(e.to_string());
        }
    }
    check
}

/// What x509-parser reads of one presented certificate, for the chain's shape.
struct Parsed {
    subject_raw: Vec<u8>,
    issuer_raw: Vec<u8>,
    subject: String,
    issuer: String,
    self_signed: bool,
    not_after_unix: i64,
    not_after: String,
    aia_ca_issuers: Option<String>,
}

fn parse(der: &CertificateDer<'_>) -> Option<Parsed> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let self_signed =
        cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok();
    let not_after_unix = cert.validity().not_after.timestamp();
    Some(Parsed {
        subject_raw: cert.subject().as_raw().to_vec(),
        issuer_raw: cert.issuer().as_raw().to_vec(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        self_signed,
        not_after_unix,
        not_after: super::certs::rfc3339(not_after_unix),
        aia_ca_issuers: aia_ca_issuers(&cert),
    })
}

/// The first `caIssuers` URI of the certificate's Authority Information Access.
fn aia_ca_issuers(cert: &X509Certificate<'_>) -> Option<String> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => {
                aia.iter()
                    .find_map(|d| {
                        match (&d.access_method, &d.access_location) {
                (m, GeneralName::URI(uri))
                    if *m == x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS =>
                {
                    Some((*uri).to_string())
                }
                _ => None,
            }
                    })
            }
            _ => None,
        })
}

/// The causes, from the checks and the chain's shape.
fn causes(
    stores: &[TrustStore],
    checks: &[TrustCheck],
    chain: &[CertificateDer<'static>],
    os_bundle: Option<PathBuf>,
) -> Vec<TrustCause> {
    let parsed: Vec<Parsed> = chain.iter().filter_map(|c| parse(c)).collect();
    if parsed.len() != chain.len() || parsed.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let verified = |c: TrustClient| checks.iter().any(|k| k.client == c && k.verified);
    let unknown = |c: TrustClient| {
        checks
            .iter()
            .any(|k| k.client == c && k.failure == Some(TlsFailure::CertUnknownIssuer))
    };
    let path = issuing_path(&parsed);
    let top = &parsed[*path.last().unwrap_or(&0)];
    if let Some(cause) = private_ca(checks, &parsed, top, os_bundle) {
        out.push(cause);
    } else if unknown(TrustClient::Requests) && verified(TrustClient::Mozilla) {
        let requests = stores.iter().find(|s| s.client == TrustClient::Requests);
        out.push(match requests {
            Some(s) if s.source == "certifi" => TrustCause::OldCertifi {
                store: s.store.clone(),
            },
            Some(s) => TrustCause::BundleLacksMozillaRoot {
                source: s.source.clone(),
            },
            None => TrustCause::OldCertifi {
                store: "certifi".into(),
            },
        });
    }
    // Without an AIA URL a missing intermediate and an unknown CA look the same: say nothing
    // more than the verdict's unknown issuer.
    if let Some(url) = &top.aia_ca_issuers
        && !top.self_signed
        && checks.iter().all(|k| !k.verified)
        && unknown(TrustClient::Mozilla)
        && !stores
            .iter()
            .any(|s| has_subject(&s.roots, &top.issuer_raw))
    {
        out.push(TrustCause::MissingIntermediate {
            issuer: top.issuer.clone(),
            url: Some(url.clone()),
        });
    }
    out.extend(shape_causes(
        &parsed,
        &path,
        checks.iter().any(|k| k.verified),
    ));
    out
}

/// The chain is trusted by curl or the OS store and not by Mozilla's roots (or its issuer
/// names an interception product).
fn private_ca(
    checks: &[TrustCheck],
    parsed: &[Parsed],
    top: &Parsed,
    os_bundle: Option<PathBuf>,
) -> Option<TrustCause> {
    let mozilla_rejects = checks
        .iter()
        .any(|k| k.client == TrustClient::Mozilla && !k.verified);
    if !mozilla_rejects {
        return None;
    }
    let trusted_by: Vec<TrustClient> = checks
        .iter()
        .filter(|k| k.verified && matches!(k.client, TrustClient::Curl | TrustClient::Os))
        .map(|k| k.client)
        .collect();
    // Issuers only: a leaf named like a product (checkpoint.example.com) is no interception.
    let product = std::iter::once(top.issuer.as_str())
        .chain(parsed.iter().skip(1).map(|p| p.subject.as_str()))
        .find_map(interception_product)
        .map(str::to_string);
    if trusted_by.is_empty() && product.is_none() {
        return None;
    }
    Some(TrustCause::PrivateCa {
        issuer: top.issuer.clone(),
        product,
        trusted_by,
        os_bundle,
    })
}

fn has_subject(roots: &RootCertStore, subject_raw: &[u8]) -> bool {
    // webpki keeps the subject without its outer SEQUENCE header.
    let inner = strip_sequence_header(subject_raw);
    roots.roots.iter().any(|a| a.subject.as_ref() == inner)
}

fn strip_sequence_header(der: &[u8]) -> &[u8] {
    match der {
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        [0x30, 0x81, _, rest @ ..] => rest,
        [0x30, 0x82, _, _, rest @ ..] => rest,
        _ => der,
    }
}

/// Indices of the path from the leaf, following each certificate's issuer through the
/// presented ones (each used once), as a client builds it.
fn issuing_path(parsed: &[Parsed]) -> Vec<usize> {
    let mut path = vec![0];
    let mut current = 0;
    while !parsed[current].self_signed {
        let next = (0..parsed.len())
            .find(|i| !path.contains(i) && parsed[*i].subject_raw == parsed[current].issuer_raw);
        match next {
            Some(i) => {
                path.push(i);
                current = i;
            }
            None => break,
        }
    }
    path
}

/// Order, extra certificates, expired certificates above the leaf.
fn shape_causes(parsed: &[Parsed], path: &[usize], verified_somewhere: bool) -> Vec<TrustCause> {
    let mut out = Vec::new();
    let in_order = path.iter().enumerate().all(|(pos, idx)| pos == *idx);
    if !in_order {
        out.push(TrustCause::WrongOrder);
    }
    let extra: Vec<String> = (0..parsed.len())
        .filter(|i| !path.contains(i))
        .map(|i| parsed[i].subject.clone())
        .collect();
    if !extra.is_empty() {
        out.push(TrustCause::ExtraCerts { subjects: extra });
    }
    let now = super::certs::now_unix();
    if let Some(p) = parsed
        .iter()
        .skip(1)
        .find(|p| p.not_after_unix < now && !p.self_signed)
    {
        out.push(TrustCause::ExpiredInChain {
            subject: p.subject.clone(),
            issuer: p.issuer.clone(),
            not_after: p.not_after.clone(),
            verified_anyway: verified_somewhere,
        });
    }
    out
}

/// What fetching the intermediate found, in one sentence.
pub fn fetch_sentence(f: &IntermediateFetch) -> String {
    if let Some(e) = &f.error {
        return format!("--fetch-intermediate: {} could not be used: {e}.", f.url);
    }
    let verified: Vec<&str> = f
        .checks
        .iter()
        .filter(|c| c.verified)
        .map(|c| c.client.name())
        .collect();
    let format = f.format.as_deref().unwrap_or("?").to_uppercase();
    if verified.is_empty() {
        format!(
            "--fetch-intermediate: {} ({format}) was fetched from {}, and the chain still does not verify against any store.",
            f.subject.as_deref().unwrap_or("a certificate"),
            f.url
        )
    } else {
        format!(
            "--fetch-intermediate: with the intermediate from its AIA URL ({}, {format}) the chain verifies ({}): browsers fetch it, requests and curl do not: the server must send it.",
            f.url,
            verified.join(", ")
        )
    }
}

/// The most bytes read from an AIA URL: an intermediate is 1 to 2 KiB; a PKCS#7 bundle a few.
pub const MAX_INTERMEDIATE_BYTES: usize = 64 * 1024;

/// Read a fetched intermediate (DER or PEM) and check every store again with it after the chain.
pub fn recheck_with_intermediate(
    stores: &[TrustStore],
    report: &TrustReport,
    url: &str,
    body: &[u8],
) -> IntermediateFetch {
    let mut fetch = IntermediateFetch {
        url: url.to_string(),
        format: None,
        subject: None,
        checks: Vec::new(),
        error: None,
    };
    let (cert, format) = match read_certificate(body) {
        Ok(c) => c,
        Err(e) => {
            fetch.error = Some(e);
            return fetch;
        }
    };
    fetch.format = Some(format.into());
    fetch.subject = parse(&cert).map(|p| p.subject);
    let Some(name) = &report.server_name else {
        fetch.error = Some("no server name to verify for".into());
        return fetch;
    };
    let mut chain = report.chain_der.clone();
    chain.push(cert);
    let now = UnixTime::now();
    fetch.checks = stores
        .iter()
        .map(|s| check_store(s, &chain, name, now))
        .collect();
    fetch
}

/// A certificate as DER, or the first of a PEM file.
fn read_certificate(body: &[u8]) -> Result<(CertificateDer<'static>, &'static str), String> {
    use rustls_pki_types::pem::PemObject;
    if body.len() > MAX_INTERMEDIATE_BYTES {
        return Err(format!("the answer is over {MAX_INTERMEDIATE_BYTES} bytes"));
    }
    let (der, format) = if body.windows(11).any(|w| w == b"-----BEGIN ") {
        let first = CertificateDer::pem_slice_iter(body)
            .next()
            .ok_or_else(|| "the PEM answer holds no certificate".to_string())?
            .map_err(|e| format!("the PEM answer does not parse: {e}"))?;
        (first, "pem")
    } else {
        (CertificateDer::from(body.to_vec()), "der")
    };
    X509Certificate::from_der(der.as_ref())
        .map_err(|e| format!("the answer is neither PEM nor a DER certificate: {e}"))?;
    Ok((der, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_products_of_the_issue_are_in_the_data_file() {
        let listed = interception_products();
        for product in [
            "Zscaler",
            "Netskope",
            "Fortinet",
            "Palo Alto Networks",
            "Blue Coat / Symantec",
            "Cisco Umbrella",
            "Sophos",
            "Forcepoint",
            "Check Point",
            "Kaspersky",
            "ESET",
            "Avast",
            "mitmproxy",
            "Charles Proxy",
            "Fiddler",
        ] {
            assert!(listed.contains(&product), "{product} missing: {listed:?}");
        }
        assert_eq!(
            interception_product("CN=Zscaler Root CA, OU=Zscaler Inc."),
            Some("Zscaler")
        );
        assert_eq!(
            interception_product("CN=mitmproxy, O=mitmproxy"),
            Some("mitmproxy")
        );
        assert_eq!(
            interception_product("CN=DO_NOT_TRUST_FiddlerRoot"),
            Some("Fiddler")
        );
        assert_eq!(
            interception_product("CN=ISRG Root X1, O=Internet Security Research Group"),
            None
        );
    }

    fn check(client: TrustClient, verified: bool) -> TrustCheck {
        TrustCheck {
            client,
            store: client.name().into(),
            source: "x".into(),
            path: None,
            verified,
            failure: (!verified).then_some(TlsFailure::CertUnknownIssuer),
            problem: None,
            error: None,
        }
    }

    fn parsed(subject: u8, issuer: u8, expired: bool) -> Parsed {
        Parsed {
            subject_raw: vec![subject],
            issuer_raw: vec![issuer],
            subject: format!("CN={subject}"),
            issuer: format!("CN={issuer}"),
            self_signed: subject == issuer,
            not_after_unix: if expired { 0 } else { i64::MAX / 2 },
            not_after: String::new(),
            aia_ca_issuers: None,
        }
    }

    #[test]
    fn the_chains_shape_names_order_extra_and_expired_certificates() {
        // leaf(1) <- 2 <- 3 (root): in order, nothing to say.
        let good = [
            parsed(1, 2, false),
            parsed(2, 3, false),
            parsed(3, 3, false),
        ];
        assert_eq!(issuing_path(&good), [0, 1, 2]);
        assert!(shape_causes(&good, &issuing_path(&good), true).is_empty());
        // The intermediates swapped: wrong order.
        let swapped = [
            parsed(1, 2, false),
            parsed(3, 3, false),
            parsed(2, 3, false),
        ];
        let names: Vec<&str> = shape_causes(&swapped, &issuing_path(&swapped), true)
            .iter()
            .map(TrustCause::name)
            .collect();
        assert_eq!(names, ["wrong_order"]);
        // An unrelated certificate and an expired cross-sign above the leaf.
        let odd = [parsed(1, 2, false), parsed(2, 9, true), parsed(7, 8, false)];
        let causes = shape_causes(&odd, &issuing_path(&odd), true);
        let names: Vec<&str> = causes.iter().map(TrustCause::name).collect();
        assert_eq!(names, ["extra_certs", "expired_in_chain"]);
        assert!(
            causes[1].sentence().contains("OpenSSL 1.0.x"),
            "{}",
            causes[1].sentence()
        );
    }

    #[test]
    fn causes_come_from_which_store_verifies() {
        let parsed = vec![Parsed {
            subject_raw: vec![1],
            issuer_raw: vec![2],
            subject: "CN=leaf".into(),
            issuer: "CN=Corp Root".into(),
            self_signed: false,
            not_after_unix: i64::MAX / 2,
            not_after: String::new(),
            aia_ca_issuers: None,
        }];
        let checks = [
            check(TrustClient::Requests, false),
            check(TrustClient::Curl, true),
            check(TrustClient::Mozilla, false),
        ];
        let cause = private_ca(&checks, &parsed, &parsed[0], None).expect("private CA");
        assert_eq!(cause.name(), "private_ca");
        assert!(
            cause.sentence().contains("trusted by curl"),
            "{}",
            cause.sentence()
        );
        // Nobody trusts it and nothing names a product: no private-CA claim.
        let nobody = [
            check(TrustClient::Requests, false),
            check(TrustClient::Curl, false),
            check(TrustClient::Mozilla, false),
        ];
        assert_eq!(private_ca(&nobody, &parsed, &parsed[0], None), None);
        // Mozilla trusts it: not a private CA.
        let mozilla = [
            check(TrustClient::Requests, false),
            check(TrustClient::Mozilla, true),
        ];
        assert_eq!(private_ca(&mozilla, &parsed, &parsed[0], None), None);
    }

    #[test]
    fn an_interception_issuer_no_store_trusts_names_no_empty_list() {
        let parsed = vec![Parsed {
            subject_raw: vec![1],
            issuer_raw: vec![2],
            subject: "CN=leaf".into(),
            issuer: "CN=Zscaler Root CA".into(),
            self_signed: false,
            not_after_unix: i64::MAX / 2,
            not_after: String::new(),
            aia_ca_issuers: None,
        }];
        let nobody = [
            check(TrustClient::Requests, false),
            check(TrustClient::Curl, false),
            check(TrustClient::Mozilla, false),
        ];
        let cause = private_ca(&nobody, &parsed, &parsed[0], None).expect("a product's name");
        let sentence = cause.sentence();
        assert_eq!(cause.name(), "tls_interception");
        assert!(!sentence.contains("trusted by  "), "{sentence}");
        assert!(!sentence.contains("trusted by but"), "{sentence}");
        assert!(sentence.contains("no store"), "{sentence}");
        let fix = cause.fix().unwrap_or_default();
        assert!(
            !fix.contains("truststore"),
            "the OS store lacks it too: {fix}"
        );
    }

    /// A CA and a leaf for localhost it signs, made with rcgen.
    fn ca_and_leaf(cn: &str) -> (CertificateDer<'static>, CertificateDer<'static>) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.distinguished_name.push(rcgen::DnType::CommonName, cn);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("CA");
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().expect("key");
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .signed_by(&leaf_key, &issuer)
            .expect("leaf");
        (ca_cert.der().clone(), leaf.der().clone())
    }

    fn store_of(
        client: TrustClient,
        source: &str,
        certs: &[CertificateDer<'static>],
    ) -> TrustStore {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(certs.iter().cloned());
        TrustStore {
            client,
            store: format!("{source} store"),
            source: source.into(),
            path: None,
            roots: Arc::new(roots),
            certs: certs.into(),
            problem: None,
        }
    }

    #[test]
    fn a_root_mozilla_has_and_certifi_lacks_is_an_old_certifi() {
        let (ca, leaf) = ca_and_leaf("unit test root");
        // The stores that lack the root hold another one (an empty store is no store).
        let (other, _) = ca_and_leaf("another root");
        let name = ServerName::try_from("localhost").expect("name");
        let stores = [
            store_of(
                TrustClient::Requests,
                "certifi",
                std::slice::from_ref(&other),
            ),
            store_of(TrustClient::Curl, "system", std::slice::from_ref(&other)),
            store_of(TrustClient::Mozilla, "built-in", std::slice::from_ref(&ca)),
        ];
        let report = assess(&stores, std::slice::from_ref(&leaf), &name);
        assert!(
            report
                .check(TrustClient::Mozilla)
                .is_some_and(|c| c.verified)
        );
        assert_eq!(
            report.causes.first().map(TrustCause::name),
            Some("old_certifi"),
            "{:?}",
            report.checks
        );
        assert_eq!(
            report.causes[0].fix().as_deref(),
            Some("pip install -U certifi")
        );
        // A REQUESTS_CA_BUNDLE that lacks it is the bundle's fault, not certifi's.
        let stores = [
            store_of(TrustClient::Requests, "REQUESTS_CA_BUNDLE", &[other]),
            store_of(TrustClient::Mozilla, "built-in", &[ca]),
        ];
        let report = assess(&stores, &[leaf], &name);
        assert_eq!(
            report.causes.first().map(TrustCause::name),
            Some("bundle_lacks_root")
        );
    }

    #[test]
    fn a_certificate_reads_as_der_or_pem_and_garbage_is_refused() {
        assert!(read_certificate(b"hello").is_err());
        assert!(
            read_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        assert!(read_certificate(&vec![0u8; MAX_INTERMEDIATE_BYTES + 1]).is_err());
    }
}
