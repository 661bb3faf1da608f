//! TLS client settings shared by MQTT (`mqtts://`) and CoT (`tls://`): rustls with the `ring`
//! provider, a CA file or the system's roots, an optional client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::OutputError;

/// Files of a TLS client (all PEM).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificate(s) the server's chain must lead to; `None`: the system's roots.
    pub ca: Option<PathBuf>,
    /// Client certificate chain, for servers that ask for one (TAK servers do).
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    /// True when any file is named.
    pub fn any(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some()
    }

    /// Reads every file and builds the client configuration. `flag` prefixes the flag names in
    /// errors (`"mqtt"` → `--mqtt-ca`). Errors ([`OutputError::Tls`], one line): a file that
    /// cannot be read or holds no PEM certificate/key, a certificate without a key or the
    /// other way round, a key that does not fit the certificate.
    pub fn client_config(&self, flag: &str) -> Result<Arc<ClientConfig>, OutputError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        match &self.ca {
            Some(p) => {
                let certs = read_certs(p, &format!("--{flag}-ca"))?;
                for c in certs {
                    roots.add(c).map_err(|e| {
                        OutputError::Tls(format!("--{flag}-ca {}: {e}", p.display()))
                    })?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
            }
        }
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| OutputError::Tls(format!("TLS setup: {e}")))?
            .with_root_certificates(roots);
        let config = match (&self.cert, &self.key) {
            (None, None) => builder.with_no_client_auth(),
            (Some(c), Some(k)) => {
                let chain = read_certs(c, &format!("--{flag}-cert"))?;
                let key = PrivateKeyDer::from_pem_file(k).map_err(|e| {
                    OutputError::Tls(format!(
                        "--{flag}-key {}: cannot read a PEM private key: {}",
                        k.display(),
                        pem_error(&e)
                    ))
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    OutputError::Tls(format!(
                        "--{flag}-cert {} / --{flag}-key {}: {e}",
                        c.display(),
                        k.display()
                    ))
                })?
            }
            (Some(_), None) => {
                return Err(OutputError::Tls(format!(
                    "--{flag}-cert needs --{flag}-key (the certificate's private key)"
                )))
            }
            (None, Some(_)) => {
                return Err(OutputError::Tls(format!(
                    "--{flag}-key needs --{flag}-cert (the client certificate)"
                )))
            }
        };
        Ok(Arc::new(config))
    }
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        rustls::pki_types::pem::Error::NoItemsFound => "no PEM item of that kind in it".into(),
        other => format!("{other:?}"),
    }
}

/// Every certificate of a PEM file; at least one.
fn read_certs(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, OutputError> {
    let bad = |why: String| OutputError::Tls(format!("{flag} {}: {why}", path.display()));
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| bad(pem_error(&e)))?;
    let certs: Vec<_> = iter
        .collect::<Result<_, _>>()
        .map_err(|e| bad(pem_error(&e)))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// A one-line description of a TLS failure for users: the rustls error names the cause
/// (`invalid peer certificate: UnknownIssuer`, `BadSignature`, …).
pub fn describe_tls_error(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s.replace('\n', " ")
}
