//! A certificate verifier that does the normal webpki check but *records* the presented chain
//! and the result before deciding. That is how the report shows the chain even when verification
//! fails, and how `--insecure` still says what verification would have found.

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

#[derive(Debug, Default, Clone)]
pub struct Recorded {
    pub chain: Vec<CertificateDer<'static>>,
    /// None until the server's certificate arrived.
    pub result: Option<Result<(), rustls::Error>>,
}

#[derive(Debug)]
pub(super) struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    /// The store's certificates as loaded (DER), for a CA certificate that is its own anchor.
    anchors: Arc<[CertificateDer<'static>]>,
    insecure: bool,
    recorded: Arc<Mutex<Recorded>>,
}

impl RecordingVerifier {
    pub(super) fn new(
        inner: Arc<WebPkiServerVerifier>,
        anchors: Arc<[CertificateDer<'static>]>,
        insecure: bool,
    ) -> (Self, Arc<Mutex<Recorded>>) {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        (
            RecordingVerifier {
                inner,
                anchors,
                insecure,
                recorded: recorded.clone(),
            },
            recorded,
        )
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .and_then(|verified| {
                super::ca_leaf::openssl_on_anchor(end_entity, intermediates, &self.anchors, now)
                    .map(|()| verified)
            })
            .or_else(|webpki_says| {
                // OpenSSL accepts a CA certificate as the server's own when it is in the store (and
                // signs itself) or a store certificate signed it.
                let openssl_says = super::ca_leaf::openssl_on_ca_leaf(
                    end_entity,
                    &self.anchors,
                    server_name,
                    now,
                    &webpki_says,
                );
                match openssl_says {
                    Some(answer) => answer.map(|()| ServerCertVerified::assertion()),
                    None => Err(webpki_says),
                }
            });
        if let Ok(mut rec) = self.recorded.lock() {
            rec.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
            rec.result = Some(result.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        match result {
            Ok(v) => Ok(v),
            Err(_) if self.insecure => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Signature checks prove the server holds the key; keep them even when insecure.
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
