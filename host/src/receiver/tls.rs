//! Server TLS: loads a certificate chain, its key and an optional client CA
//! bundle into a rustls `ServerConfig` (ring provider), held in an
//! `ArcSwap` so certificates can be re-read without rebinding.
//!
//! With `client_ca_file`, clients must present a certificate that chains to
//! that bundle (mTLS); a client without one fails the handshake.

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::config::receiver::TlsServerConfig;

/// What is wrong with a TLS setting; each names the key and the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.{key} {}: cannot read: {reason}", path.display())]
    Read {
        key: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("tls.{key} {}: no PEM certificate found", path.display())]
    NoCertificate { key: &'static str, path: PathBuf },
    #[error("tls.key_file {}: no PEM private key (PKCS#8, PKCS#1 or SEC1) found", path.display())]
    NoKey { path: PathBuf },
    #[error("tls.{key} {}: invalid PEM: {reason}", path.display())]
    Pem {
        key: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("tls.client_ca_file {}: {reason}", path.display())]
    ClientCa { path: PathBuf, reason: String },
    #[error("tls.cert_file {} / tls.key_file {}: {reason}", cert.display(), key.display())]
    CertKey {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("tls.min_version: expected `1.2` or `1.3`, found `{0}`")]
    MinVersion(String),
}

/// Which protocols a listener offers through ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    /// OTLP/HTTP: `h2` and `http/1.1`.
    Http,
    /// OTLP/gRPC: `h2` only.
    Grpc,
}

/// The active server configuration of one listener and where it came from;
/// cheap to clone (all clones share the configuration).
#[derive(Debug, Clone)]
pub struct TlsReloader {
    source: Arc<TlsServerConfig>,
    alpn: Alpn,
    current: Arc<ArcSwap<ServerConfig>>,
}

impl TlsReloader {
    /// Loads the files `source` names.
    pub fn load(source: TlsServerConfig, alpn: Alpn) -> Result<Self, TlsError> {
        let config = server_config(&source, alpn)?;
        Ok(TlsReloader {
            source: Arc::new(source),
            alpn,
            current: Arc::new(ArcSwap::from_pointee(config)),
        })
    }

    /// Re-reads the files; on success new handshakes use them, on error the
    /// configuration in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.source, self.alpn)?;
        self.current.store(Arc::new(config));
        Ok(())
    }

    /// The configuration for the next handshake.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.load_full()
    }

    /// The shared handle itself, for a watcher that builds configs elsewhere.
    pub fn handle(&self) -> Arc<ArcSwap<ServerConfig>> {
        self.current.clone()
    }
}

fn server_config(source: &TlsServerConfig, alpn: Alpn) -> Result<ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match source.min_version.as_deref() {
        None | Some("1.2") => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Some("1.3") => &[&rustls::version::TLS13],
        Some(other) => return Err(TlsError::MinVersion(other.into())),
    };
    let chain = read_certs("cert_file", &source.cert_file)?;
    let key = read_key(&source.key_file)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::MinVersion(e.to_string()))?;
    let builder = match &source.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs("client_ca_file", path)? {
                roots.add(cert).map_err(|e| TlsError::ClientCa {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
            // Requires a client certificate: no certificate fails the handshake.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::ClientCa {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::CertKey {
            cert: source.cert_file.clone(),
            key: source.key_file.clone(),
            reason: e.to_string(),
        })?;
    config.alpn_protocols = match alpn {
        Alpn::Http => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Alpn::Grpc => vec![b"h2".to_vec()],
    };
    Ok(config)
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|e| TlsError::Read {
        key,
        path: path.into(),
        reason: e.to_string(),
    })
}

fn read_certs(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(key, path)?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(pem.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            key,
            path: path.into(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            key,
            path: path.into(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read("key_file", path)?;
    rustls_pemfile::private_key(&mut BufReader::new(pem.as_slice()))
        .map_err(|e| TlsError::Pem {
            key: "key_file",
            path: path.into(),
            reason: e.to_string(),
        })?
        .ok_or_else(|| TlsError::NoKey { path: path.into() })
}
