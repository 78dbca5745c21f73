//! TLS and mTLS with certificates made by rcgen at test time.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::CertificateDer;

use super::{Reply, config, send, start_with, traces_bytes};
use crate::config::receiver::TlsServerConfig;
use crate::receiver::TlsError;
use crate::receiver::tls::{Alpn, TlsReloader};

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    Ca {
        der: cert.der().clone(),
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A leaf certificate (PEM chain, PEM key) signed by `ca`.
fn leaf(ca: &Ca, cn: &str, sans: &[&str]) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

struct Material {
    _dir: tempfile::TempDir,
    server: TlsServerConfig,
    ca: Ca,
    client: (String, String),
    stranger: (String, String),
}

fn material() -> Material {
    let dir = tempfile::tempdir().unwrap();
    let other = ca("some other CA");
    let ca = ca("weir test CA");
    let (cert, key) = leaf(&ca, "localhost", &["localhost", "127.0.0.1"]);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let server = TlsServerConfig {
        cert_file: write("server.crt", &cert),
        key_file: write("server.key", &key),
        client_ca_file: Some(write("ca.crt", &ca.pem)),
        min_version: None,
    };
    let client = leaf(&ca, "tenant-a", &["tenant-a"]);
    let stranger = leaf(&other, "tenant-a", &["tenant-a"]);
    Material {
        _dir: dir,
        server,
        ca,
        client,
        stranger,
    }
}

fn client_config(ca: &Ca, identity: Option<&(String, String)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = rustls_pemfile::certs(&mut cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = rustls_pemfile::private_key(&mut key.as_bytes())
                .unwrap()
                .unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    };
    Arc::new(config)
}

async fn post_tls(
    addr: std::net::SocketAddr,
    tls: Arc<rustls::ClientConfig>,
) -> anyhow::Result<Reply> {
    let request = http::Request::post("/v1/traces")
        .header("host", "localhost")
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(traces_bytes(1))))?;
    send(addr, Some(tls), request).await
}

fn handshake_failures(id: &str) -> u64 {
    let labels = crate::telemetry::ReceiverLabels {
        receiver: id.into(),
        transport: "http".into(),
        signal: "unknown".into(),
    };
    crate::telemetry::metrics()
        .receiver_tls_handshake_failures
        .get_or_create(&labels)
        .get()
}

/// The server counts a failed handshake after the client already saw it
/// fail: give the count a moment to arrive.
async fn settled(count: impl Fn() -> u64, want: u64) -> u64 {
    for _ in 0..100 {
        if count() >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    count()
}

#[tokio::test]
async fn mtls_accepts_the_right_ca_and_refuses_others() {
    let m = material();
    let h = start_with(config(1024 * 1024, Some(m.server.clone()))).await;
    let good = client_config(&m.ca, Some(&m.client));

    let reply = post_tls(h.http(), good.clone())
        .await
        .expect("a client of the right CA is served");
    assert_eq!(reply.status, 200);

    assert!(
        post_tls(h.http(), client_config(&m.ca, None))
            .await
            .is_err(),
        "no client certificate"
    );
    assert!(
        post_tls(h.http(), client_config(&m.ca, Some(&m.stranger)))
            .await
            .is_err(),
        "a certificate of another CA"
    );

    let reply = post_tls(h.http(), good)
        .await
        .expect("the next good client is still served");
    assert_eq!(reply.status, 200);
    assert_eq!(h.ingest.taken().len(), 2);
    assert_eq!(settled(|| handshake_failures(&h.id), 2).await, 2);
}

#[tokio::test]
async fn plaintext_to_a_tls_port_fails_the_handshake_only() {
    let m = material();
    let h = start_with(config(1024 * 1024, Some(m.server.clone()))).await;
    let request = http::Request::post("/v1/traces")
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert!(
        send(h.http(), None, request).await.is_err(),
        "a plaintext request gets no HTTP answer"
    );
    let reply = post_tls(h.http(), client_config(&m.ca, Some(&m.client)))
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let m = material();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("server.crt");
    std::fs::write(&empty, "not a certificate").unwrap();
    let load = |cert: &Path, key: &Path| {
        TlsReloader::load(
            TlsServerConfig {
                cert_file: cert.into(),
                key_file: key.into(),
                client_ca_file: None,
                min_version: None,
            },
            Alpn::Http,
        )
    };
    let err = load(&empty, &m.server.key_file).unwrap_err();
    assert!(matches!(err, TlsError::NoCertificate { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "tls.cert_file {}: no PEM certificate found",
            empty.display()
        )
    );
    let err = load(&m.server.cert_file, &empty).unwrap_err();
    assert!(err.to_string().contains("no PEM private key"), "{err}");
    let err = load(&dir.path().join("missing.crt"), &m.server.key_file).unwrap_err();
    assert!(
        err.to_string().contains("missing.crt: cannot read"),
        "{err}"
    );
}

#[test]
fn reload_swaps_the_certificate() {
    let m = material();
    let reloader = TlsReloader::load(m.server.clone(), Alpn::Grpc).unwrap();
    let before = reloader.current();
    assert_eq!(before.alpn_protocols, vec![b"h2".to_vec()]);
    let (cert, key) = leaf(&m.ca, "localhost", &["localhost"]);
    std::fs::write(&m.server.cert_file, cert).unwrap();
    std::fs::write(&m.server.key_file, key).unwrap();
    reloader.reload().unwrap();
    assert!(!Arc::ptr_eq(&before, &reloader.current()));
    // A broken file keeps the old configuration.
    std::fs::write(&m.server.key_file, "garbage").unwrap();
    let current = reloader.current();
    assert!(reloader.reload().is_err());
    assert!(Arc::ptr_eq(&current, &reloader.current()));
}

/// Connects tonic's channel through tokio-rustls with our client config.
#[derive(Clone)]
struct TlsConnect {
    addr: std::net::SocketAddr,
    config: Arc<rustls::ClientConfig>,
}

impl tonic::codegen::Service<::http::Uri> for TlsConnect {
    type Response = hyper_util::rt::TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;
    type Error = std::io::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: ::http::Uri) -> Self::Future {
        let (addr, config) = (self.addr, self.config.clone());
        Box::pin(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            let name = rustls::pki_types::ServerName::try_from("localhost")
                .map_err(std::io::Error::other)?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(hyper_util::rt::TokioIo::new(tls))
        })
    }
}

fn grpc_client(
    addr: std::net::SocketAddr,
    mut config: rustls::ClientConfig,
) -> tonic::client::Grpc<tonic::transport::Channel> {
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = TlsConnect {
        addr,
        config: Arc::new(config),
    };
    let channel = tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector_lazy(connector);
    tonic::client::Grpc::new(channel)
}

#[tokio::test]
async fn grpc_over_mtls() {
    let m = material();
    let h = start_with(config(1024 * 1024, Some(m.server.clone()))).await;
    let good = (*client_config(&m.ca, Some(&m.client))).clone();
    let mut client = grpc_client(h.grpc(), good);
    super::grpc::export(&mut client, super::grpc::TRACES, traces_bytes(2))
        .await
        .expect("accepted over mTLS");
    assert_eq!(h.ingest.taken()[0].items, 2);

    let mut anonymous = grpc_client(h.grpc(), (*client_config(&m.ca, None)).clone());
    assert!(
        super::grpc::export(&mut anonymous, super::grpc::TRACES, traces_bytes(1))
            .await
            .is_err()
    );
    let labels = crate::telemetry::ReceiverLabels {
        receiver: h.id.clone(),
        transport: "grpc".into(),
        signal: "unknown".into(),
    };
    let failures = || {
        crate::telemetry::metrics()
            .receiver_tls_handshake_failures
            .get_or_create(&labels)
            .get()
    };
    assert_eq!(settled(failures, 1).await, 1);
}
