//! The accept loop shared by the gRPC and HTTP listeners: accept a TCP
//! connection, run the TLS handshake when configured, and serve the
//! connection with hyper (HTTP/1.1 + h2, or h2 only for gRPC).
//!
//! What is known about a connection (peer address, client certificate
//! chain) is captured once in a [`ConnectionInfo`] and handed to every
//! request on it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::tls::TlsReloader;
use crate::telemetry::{ReceiverLabels, metrics};
use crate::tenant::CertIdentity;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an HTTP/1 client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server knows about the connection a request came on.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The client's address.
    pub peer_addr: SocketAddr,
    /// The listener's address.
    pub local_addr: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The client's certificate chain (leaf first) as DER, when it presented one (mTLS).
    pub client_certs: Option<Arc<[CertificateDer<'static>]>>,
    /// The names in the client's leaf certificate, read once at the handshake.
    pub client_identity: Option<Arc<CertIdentity>>,
}

/// A request handler: one per listener, called for each request with the
/// connection it arrived on.
pub type Handler = Arc<
    dyn Fn(
            Arc<ConnectionInfo>,
            http::Request<Incoming>,
        ) -> BoxFuture<'static, http::Response<tonic::body::Body>>
        + Send
        + Sync,
>;

/// Listener settings that are not the handler.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Receiver id, for logs and metric labels.
    pub receiver: Arc<str>,
    /// `grpc` or `http`.
    pub transport: &'static str,
    /// Refuse HTTP/1 (gRPC needs h2).
    pub http2_only: bool,
}

/// Accepts connections until `stop` turns true, then waits for every open
/// connection to finish its in-flight requests.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsReloader>,
    handler: Handler,
    opts: ServeOptions,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let conn_stop = stop.clone();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if opts.http2_only {
        builder = builder.http2_only();
    }
    // A client that never finishes its request headers does not hold a connection forever.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            // Reap finished connection tasks so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer_addr)) => {
                    let conn = Connection { tls: tls.clone(), handler: handler.clone(), opts: opts.clone(), builder: builder.clone() };
                    connections.spawn(conn.run(stream, peer_addr, conn_stop.clone()));
                }
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(receiver = %opts.receiver, transport = opts.transport, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

struct Connection {
    tls: Option<TlsReloader>,
    handler: Handler,
    opts: ServeOptions,
    builder: auto::Builder<TokioExecutor>,
}

impl Connection {
    async fn run(self, stream: TcpStream, peer_addr: SocketAddr, stop: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        let local_addr = stream.local_addr().unwrap_or(peer_addr);
        let Some(tls) = self.tls.clone() else {
            let info = ConnectionInfo {
                peer_addr,
                local_addr,
                tls: false,
                client_certs: None,
                client_identity: None,
            };
            return self.http(stream, info, stop).await;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
        let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return self.handshake_failed(peer_addr, &e.to_string()),
            Err(_) => return self.handshake_failed(peer_addr, "timed out"),
        };
        let client_certs: Option<Arc<[CertificateDer<'static>]>> = stream
            .get_ref()
            .1
            .peer_certificates()
            .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect());
        let client_identity = client_certs
            .as_ref()
            .and_then(|chain| chain.first())
            .and_then(|leaf| CertIdentity::from_der(leaf))
            .map(Arc::new);
        let info = ConnectionInfo {
            peer_addr,
            local_addr,
            tls: true,
            client_certs,
            client_identity,
        };
        self.http(stream, info, stop).await
    }

    /// A failed handshake costs the client its connection, nothing else.
    fn handshake_failed(&self, peer: SocketAddr, reason: &str) {
        tracing::debug!(receiver = %self.opts.receiver, transport = self.opts.transport, %peer, reason, "TLS handshake failed");
        let labels = ReceiverLabels {
            receiver: self.opts.receiver.to_string(),
            transport: self.opts.transport.into(),
            signal: "unknown".into(),
        };
        metrics()
            .receiver_tls_handshake_failures
            .get_or_create(&labels)
            .inc();
    }

    async fn http<S>(self, stream: S, info: ConnectionInfo, mut stop: watch::Receiver<bool>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let info = Arc::new(info);
        let handler = self.handler.clone();
        let service = hyper::service::service_fn(move |req| {
            let response = handler(info.clone(), req);
            async move { Ok::<_, Infallible>(response.await) }
        });
        let conn = self.builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => return log_end(&self.opts, result),
            _ = stopped(&mut stop) => {}
        }
        // Shutting down: finish in-flight requests, take no new ones.
        conn.as_mut().graceful_shutdown();
        log_end(&self.opts, conn.await);
    }
}

/// Resolves once the shutdown signal fired (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

fn log_end(opts: &ServeOptions, result: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(e) = result {
        tracing::debug!(receiver = %opts.receiver, transport = opts.transport, error = %e, "connection ended with an error");
    }
}
