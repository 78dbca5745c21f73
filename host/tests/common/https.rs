//! A small blocking HTTPS/1.1 client with a client certificate, for tests
//! that send many requests quickly (curl starts a process per request).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// Client settings: which CA to trust, which certificate to present.
#[derive(Clone)]
pub struct HttpsClient {
    config: Arc<rustls::ClientConfig>,
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    let pem = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .unwrap()
}

fn key(path: &Path) -> PrivateKeyDer<'static> {
    let pem = std::fs::read(path).unwrap();
    rustls_pemfile::private_key(&mut pem.as_slice())
        .unwrap()
        .unwrap()
}

impl HttpsClient {
    /// Trusts `dir/ca.crt` and presents `dir/client.crt` (the files `weir certs generate` writes).
    pub fn new(ca_dir: &Path, client_dir: &Path) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs(&ca_dir.join("ca.crt")) {
            roots.add(cert).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(
                certs(&client_dir.join("client.crt")),
                key(&client_dir.join("client.key")),
            )
            .unwrap();
        HttpsClient {
            config: Arc::new(config),
        }
    }

    /// POSTs `body` to `https://127.0.0.1:port/path`; the status, or the
    /// connection/handshake error.
    pub fn post(
        &self,
        addr: SocketAddr,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<u16, String> {
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let conn =
            rustls::ClientConnection::new(self.config.clone(), name).map_err(|e| e.to_string())?;
        let tcp =
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        tls.write_all(body).map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        match tls.read_to_end(&mut response) {
            Ok(_) => {}
            // Servers may close without close_notify after `Connection: close`.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
            Err(e) => return Err(e.to_string()),
        }
        let text = String::from_utf8_lossy(&response);
        text.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no HTTP status in {text:?}"))
    }
}
