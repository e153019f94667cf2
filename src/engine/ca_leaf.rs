//! A CA certificate (basicConstraints CA:TRUE) that the server presents as its own. webpki
//! refuses any CA certificate as an end entity (`CaUsedAsEndEntity`); OpenSSL (requests, curl)
//! does not, and accepts it after its usual checks on the leaf in two cases met in practice:
//!
//! - the certificate is self-signed and itself in the store (byte-equal): what
//!   `openssl req -x509` makes by default and what users put in `REQUESTS_CA_BUNDLE`; OpenSSL
//!   finds it in the store and takes it as the trust anchor;
//! - the certificate is signed directly by a certificate of the store (a private CA that issued
//!   its server a certificate with CA:TRUE by mistake).
//!
//! This module makes OpenSSL's checks, in OpenSSL's order, so that netpeel's answer is OpenSSL's:
//!
//! 1. purpose: a keyUsage, when present, allows digitalSignature, keyEncipherment or
//!    keyAgreement, and an extendedKeyUsage, when present, has serverAuth (else OpenSSL's
//!    "unsuitable certificate purpose");
//! 2. the host name (webpki's own name check on the same certificate);
//! 3. the validity dates (the leaf's, then its issuer's).
//!
//! Only when webpki refused for the CA flag or the dates (which it checks before the CA flag);
//! any other refusal (a critical extension it does not know, a bad signature) stands, and so
//! does a CA leaf whose issuer is an intermediate the server sent, or a store issuer with name
//! constraints (not emulated: OpenSSL refuses a leaf outside them, "permitted subtree
//! violation"). A store issuer whose keyUsage lacks keyCertSign, or whose extendedKeyUsage lacks
//! serverAuth, is refused, as OpenSSL refuses it ("invalid CA certificate", "unsuitable
//! certificate purpose").

use rustls::CertificateError;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use x509_parser::prelude::{FromDer, X509Certificate};

/// OpenSSL's answer for a CA certificate `leaf` that webpki refused (`webpki_says`) when it is
/// self-signed and in `anchors`, or signed by one of them; `None` when webpki's answer stands.
pub(crate) fn openssl_on_ca_leaf(
    leaf: &CertificateDer<'_>,
    anchors: &[CertificateDer<'static>],
    name: &ServerName<'_>,
    now: UnixTime,
    webpki_says: &rustls::Error,
) -> Option<Result<(), rustls::Error>> {
    if anchors.is_empty() || !refused_for_ca_or_dates(webpki_says) {
        return None;
    }
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    if !is_ca {
        return None;
    }
    let self_signed =
        cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok();
    let issuer = if self_signed {
        // Its own anchor only when the very certificate is in the store.
        if !anchors.iter().any(|a| a.as_ref() == leaf.as_ref()) {
            return None;
        }
        None
    } else {
        Some(store_issuer(&cert, anchors)?)
    };
    if issuer.as_ref().is_some_and(has_name_constraints) {
        return None;
    }
    let checked = openssl_leaf_checks(leaf, &cert, name, now).and_then(|()| match &issuer {
        Some(issuer) if !may_sign_certificates(issuer) || !extended_usage_allows_server(issuer) => {
            Err(CertificateError::InvalidPurpose)
        }
        Some(issuer) => dates(issuer, now),
        None => Ok(()),
    });
    Some(checked.map_err(rustls::Error::InvalidCertificate))
}

/// After webpki accepted a chain: OpenSSL also checks the store certificate the chain ends at,
/// which webpki takes for its name and key only. When every store CA that signed a presented
/// certificate lacks keyCertSign, has an extendedKeyUsage without serverAuth, or is out of its
/// dates, OpenSSL refuses ("invalid CA certificate", "unsuitable certificate purpose",
/// "certificate has expired"); one that passes is enough (it may be the one OpenSSL's path
/// takes), and a chain whose anchor cannot be told keeps webpki's answer.
pub(crate) fn openssl_on_anchor(
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    anchors: &[CertificateDer<'static>],
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let presented: Vec<X509Certificate<'_>> = std::iter::once(leaf)
        .chain(intermediates)
        .filter_map(|c| X509Certificate::from_der(c.as_ref()).ok().map(|(_, x)| x))
        .collect();
    // A presented certificate that is itself in the store is an anchor webpki and OpenSSL
    // both take as it is.
    let in_store = std::iter::once(leaf)
        .chain(intermediates)
        .any(|c| anchors.iter().any(|a| a.as_ref() == c.as_ref()));
    let issuers: Vec<X509Certificate<'_>> = presented
        .iter()
        .filter_map(|c| store_issuer(c, anchors))
        .collect();
    if in_store || issuers.is_empty() {
        return Ok(());
    }
    let verdict = |i: &X509Certificate<'_>| {
        if !may_sign_certificates(i) || !extended_usage_allows_server(i) {
            Err(CertificateError::InvalidPurpose)
        } else {
            dates(i, now)
        }
    };
    if issuers.iter().any(|i| verdict(i).is_ok()) {
        return Ok(());
    }
    issuers
        .first()
        .map_or(Ok(()), verdict)
        .map_err(rustls::Error::InvalidCertificate)
}

/// webpki's refusals that come before, or are, its CA check on the leaf.
fn refused_for_ca_or_dates(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(ce) => match ce {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => true,
            CertificateError::Other(other) => matches!(
                other.0.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ),
            _ => false,
        },
        _ => false,
    }
}

/// The store's CA certificate that issued `cert` (its subject is `cert`'s issuer and its key
/// verifies `cert`'s signature).
fn store_issuer<'a>(
    cert: &X509Certificate<'_>,
    anchors: &'a [CertificateDer<'static>],
) -> Option<X509Certificate<'a>> {
    anchors.iter().find_map(|a| {
        let (_, issuer) = X509Certificate::from_der(a.as_ref()).ok()?;
        let is_ca = matches!(issuer.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        let signed = issuer.subject().as_raw() == cert.issuer().as_raw()
            && cert.verify_signature(Some(issuer.public_key())).is_ok();
        (is_ca && signed).then_some(issuer)
    })
}

/// Name constraints: their check is not emulated, so webpki's refusal stands.
fn has_name_constraints(cert: &X509Certificate<'_>) -> bool {
    !matches!(cert.name_constraints(), Ok(None))
}

/// OpenSSL takes a certificate as a CA only when its keyUsage, if any, allows keyCertSign.
fn may_sign_certificates(cert: &X509Certificate<'_>) -> bool {
    match cert.key_usage() {
        Ok(Some(ku)) => ku.value.key_cert_sign(),
        Ok(None) => true,
        Err(_) => false,
    }
}

fn openssl_leaf_checks(
    leaf: &CertificateDer<'_>,
    cert: &X509Certificate<'_>,
    name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), CertificateError> {
    if !fit_for_server_auth(cert) {
        return Err(CertificateError::InvalidPurpose);
    }
    let parsed =
        webpki::EndEntityCert::try_from(leaf).map_err(|_| CertificateError::BadEncoding)?;
    parsed
        .verify_is_valid_for_subject_name(name)
        .map_err(|_| CertificateError::NotValidForName)?;
    dates(cert, now)
}

fn dates(cert: &X509Certificate<'_>, now: UnixTime) -> Result<(), CertificateError> {
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = cert.validity();
    if now < validity.not_before.timestamp() {
        return Err(CertificateError::NotValidYet);
    }
    if now > validity.not_after.timestamp() {
        return Err(CertificateError::Expired);
    }
    Ok(())
}

/// OpenSSL's `check_purpose_ssl_server` on the leaf: the key usages it rejects without one of
/// these bits, and an extended key usage without serverAuth.
fn fit_for_server_auth(cert: &X509Certificate<'_>) -> bool {
    let key_usage_ok = match cert.key_usage() {
        Ok(Some(ku)) => {
            ku.value.digital_signature() || ku.value.key_encipherment() || ku.value.key_agreement()
        }
        Ok(None) => true,
        Err(_) => false,
    };
    key_usage_ok && extended_usage_allows_server(cert)
}

/// An extendedKeyUsage, when present, has serverAuth: OpenSSL asks it of the leaf and of each CA
/// above it, the store's included.
fn extended_usage_allows_server(cert: &X509Certificate<'_>) -> bool {
    match cert.extended_key_usage() {
        Ok(Some(eku)) => eku.value.server_auth,
        Ok(None) => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };

    /// A self-signed certificate for localhost, CA:TRUE unless `ca` is false, valid from
    /// `from_days` to `to_days` around now.
    fn self_signed(ca: bool, from_days: i64, to_days: i64) -> CertificateParams {
        let mut p = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        if ca {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now + time::Duration::days(from_days);
        p.not_after = now + time::Duration::days(to_days);
        p
    }

    fn der(p: CertificateParams) -> CertificateDer<'static> {
        let key = KeyPair::generate().expect("key");
        p.self_signed(&key).expect("cert").der().clone()
    }

    fn check(
        cert: &CertificateDer<'static>,
        store: &[CertificateDer<'static>],
        host: &str,
    ) -> Option<Result<(), rustls::Error>> {
        let name = ServerName::try_from(host.to_string()).expect("name");
        let roots = std::sync::Arc::new(crate::engine::trust::roots_from(store));
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .expect("verifier");
        use rustls::client::danger::ServerCertVerifier;
        let now = UnixTime::now();
        // webpki's own refusal, as the verifiers pass it on.
        let webpki_says = webpki
            .verify_server_cert(cert, &[], &name, &[], now)
            .err()?;
        openssl_on_ca_leaf(cert, store, &name, now, &webpki_says)
    }

    /// A store CA ("private CA", CA:TRUE, `edit`ed) and a localhost certificate it signed,
    /// itself CA:TRUE when `leaf_is_ca`.
    fn ca_and_leaf(
        leaf_is_ca: bool,
        edit: &dyn Fn(&mut CertificateParams),
    ) -> (CertificateDer<'static>, CertificateDer<'static>) {
        let key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "private CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        edit(&mut ca);
        let der = ca.self_signed(&key).expect("CA").der().clone();
        let leaf_key = KeyPair::generate().expect("key");
        let leaf = self_signed(leaf_is_ca, -1, 30)
            .signed_by(&leaf_key, &rcgen::Issuer::new(ca, key))
            .expect("leaf")
            .der()
            .clone();
        (der, leaf)
    }

    fn failure(r: Option<Result<(), rustls::Error>>) -> Option<CertificateError> {
        match r {
            Some(Err(rustls::Error::InvalidCertificate(e))) => Some(e),
            _ => None,
        }
    }

    #[test]
    fn a_ca_leaf_in_the_store_is_checked_as_openssl_checks_it() {
        let cert = der(self_signed(true, -1, 30));
        let store = [cert.clone()];
        assert!(matches!(check(&cert, &store, "localhost"), Some(Ok(()))));
        // Not in the store (another certificate there): webpki's answer stands.
        let other = der(self_signed(true, -1, 30));
        assert!(check(&cert, std::slice::from_ref(&other), "localhost").is_none());
        // A CA:FALSE self-signed leaf never reaches here (webpki accepts it from the store).
        let plain = der(self_signed(false, -1, 30));
        assert!(check(&plain, std::slice::from_ref(&plain), "localhost").is_none());
        assert_eq!(
            failure(check(&cert, &store, "wrong.test")),
            Some(CertificateError::NotValidForName)
        );
        let expired = der(self_signed(true, -30, -2));
        assert_eq!(
            failure(check(&expired, std::slice::from_ref(&expired), "localhost")),
            Some(CertificateError::Expired)
        );
        let later = der(self_signed(true, 2, 30));
        assert_eq!(
            failure(check(&later, std::slice::from_ref(&later), "localhost")),
            Some(CertificateError::NotValidYet)
        );
        // OpenSSL's order: the name before the dates.
        assert_eq!(
            failure(check(
                &expired,
                std::slice::from_ref(&expired),
                "wrong.test"
            )),
            Some(CertificateError::NotValidForName)
        );
    }

    #[test]
    fn a_ca_leaf_signed_by_a_store_certificate_is_checked_too() {
        use rcgen::Issuer;
        let ca_key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "private CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_der = ca.self_signed(&ca_key).expect("CA").der().clone();
        let issuer = Issuer::new(ca, ca_key);
        let signed = |p: CertificateParams| {
            let key = KeyPair::generate().expect("key");
            p.signed_by(&key, &issuer).expect("leaf").der().clone()
        };
        let leaf = signed(self_signed(true, -1, 30));
        let store = std::slice::from_ref(&ca_der);
        assert!(matches!(check(&leaf, store, "localhost"), Some(Ok(()))));
        assert_eq!(
            failure(check(&leaf, store, "wrong.test")),
            Some(CertificateError::NotValidForName)
        );
        let expired = signed(self_signed(true, -30, -2));
        assert_eq!(
            failure(check(&expired, store, "localhost")),
            Some(CertificateError::Expired)
        );
        // Its issuer not in the store: webpki's answer (unknown issuer) stands.
        let other = der(self_signed(true, -1, 30));
        assert!(check(&leaf, std::slice::from_ref(&other), "localhost").is_none());
    }

    /// A store CA with name constraints that exclude the leaf's name, or whose keyUsage lacks
    /// keyCertSign, or whose extendedKeyUsage lacks serverAuth: OpenSSL refuses ("permitted subtree
    /// violation", "invalid CA certificate", "unsuitable certificate purpose").
    #[test]
    fn a_ca_leaf_under_a_constrained_or_non_signing_store_ca_is_not_accepted() {
        use rcgen::{GeneralSubtree, NameConstraints};
        let make_ca = |edit: &dyn Fn(&mut CertificateParams)| ca_and_leaf(true, edit);
        let (constrained, leaf) = make_ca(&|ca| {
            ca.name_constraints = Some(NameConstraints {
                permitted_subtrees: vec![GeneralSubtree::DnsName("example.com".into())],
                excluded_subtrees: vec![],
            });
        });
        assert!(!matches!(
            check(&leaf, std::slice::from_ref(&constrained), "localhost"),
            Some(Ok(()))
        ));
        let (signing_only, leaf) = make_ca(&|ca| {
            ca.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        });
        assert_eq!(
            failure(check(
                &leaf,
                std::slice::from_ref(&signing_only),
                "localhost"
            )),
            Some(CertificateError::InvalidPurpose)
        );
        let (client_only, leaf) = make_ca(&|ca| {
            ca.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        });
        assert_eq!(
            failure(check(
                &leaf,
                std::slice::from_ref(&client_only),
                "localhost"
            )),
            Some(CertificateError::InvalidPurpose)
        );
    }

    /// An ordinary CA:FALSE leaf that webpki accepts: OpenSSL still checks the store CA above
    /// it (keyCertSign, serverAuth, its dates); one store CA that passes is enough.
    #[test]
    fn the_store_ca_above_an_accepted_chain_is_checked_as_openssl_checks_it() {
        let make_ca = |edit: &dyn Fn(&mut CertificateParams)| ca_and_leaf(false, edit);
        let now = UnixTime::now();
        let anchor = |leaf: &CertificateDer<'static>, store: &[CertificateDer<'static>]| {
            match openssl_on_anchor(leaf, &[], store, now) {
                Ok(()) => None,
                Err(rustls::Error::InvalidCertificate(e)) => Some(e),
                Err(other) => panic!("{other:?}"),
            }
        };
        let (plain, leaf) = make_ca(&|_| {});
        assert_eq!(anchor(&leaf, std::slice::from_ref(&plain)), None);
        let (signing_only, leaf) =
            make_ca(&|ca| ca.key_usages = vec![KeyUsagePurpose::DigitalSignature]);
        let store = std::slice::from_ref(&signing_only);
        assert_eq!(anchor(&leaf, store), Some(CertificateError::InvalidPurpose));
        let (client_only, client_leaf) =
            make_ca(&|ca| ca.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]);
        assert_eq!(
            anchor(&client_leaf, std::slice::from_ref(&client_only)),
            Some(CertificateError::InvalidPurpose)
        );
        let (expired, expired_leaf) = make_ca(&|ca| {
            let now = time::OffsetDateTime::now_utc();
            ca.not_before = now - time::Duration::days(30);
            ca.not_after = now - time::Duration::days(1);
        });
        assert_eq!(
            anchor(&expired_leaf, std::slice::from_ref(&expired)),
            Some(CertificateError::Expired)
        );
        // Another store's CA did not sign it: nothing to check, webpki's answer stands.
        assert_eq!(anchor(&leaf, std::slice::from_ref(&plain)), None);
        // The very certificate in the store is its own anchor.
        assert_eq!(anchor(&leaf, &[leaf.clone(), signing_only.clone()]), None);
    }

    #[test]
    fn a_ca_leaf_without_a_server_purpose_is_unsuitable() {
        let mut signing_only = self_signed(true, -1, 30);
        signing_only.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let mut client_only = self_signed(true, -1, 30);
        client_only.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        for p in [signing_only, client_only] {
            let cert = der(p);
            assert_eq!(
                failure(check(&cert, std::slice::from_ref(&cert), "localhost")),
                Some(CertificateError::InvalidPurpose)
            );
        }
        let mut server = self_signed(true, -1, 30);
        server.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = der(server);
        assert!(matches!(
            check(&cert, std::slice::from_ref(&cert), "localhost"),
            Some(Ok(()))
        ));
    }
}
