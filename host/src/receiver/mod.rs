//! OTLP receivers: OTLP/gRPC and OTLP/HTTP (protobuf and JSON) servers that
//! validate requests without decoding them and hand their bytes to [`Ingest`].
//!
//! A request's path, one step per module:
//! [`server`] (accept, TLS/mTLS handshake, per-connection [`ConnectionInfo`])
//! → [`http`] or [`grpc`] (route, size limit, decompress, JSON → protobuf,
//! wire-scan validation) → [`Ingest`] → [`status`] (the one place where an
//! outcome becomes an HTTP status, a gRPC code and a metric label).
//!
//! [`start`] binds every configured endpoint before it returns, so a bind
//! failure is reported at start-up and `endpoint: 127.0.0.1:0` yields the
//! real port in [`RunningReceiver`].

mod body;
mod export;
pub mod filelog;
mod grpc;
pub mod hostmetrics;
mod http;
mod json;
mod prefix;
mod reply;
mod server;
mod status;
mod tls;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::receiver::OtlpReceiverConfig;
use crate::pipeline::Ingest;

pub use server::ConnectionInfo;
pub use tls::{TlsError, TlsReloader};

/// Why a receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// The endpoint is not `host:port`, or the host does not resolve.
    #[error("receiver {receiver}: invalid {transport} endpoint `{endpoint}`: {reason}")]
    Endpoint {
        receiver: String,
        transport: &'static str,
        endpoint: String,
        reason: String,
    },
    /// Binding the listening socket failed (in use, permission, no such address).
    #[error("cannot listen on {endpoint}: {reason}")]
    Bind { endpoint: String, reason: String },
    /// The TLS material could not be loaded.
    #[error("receiver {receiver} ({transport}): {source}")]
    Tls {
        receiver: String,
        transport: &'static str,
        source: TlsError,
    },
    /// Neither `grpc` nor `http` is configured.
    #[error("receiver {0}: no protocols configured (expected `grpc`, `http` or both)")]
    NoProtocols(String),
}

/// `Result` with a [`ReceiverError`].
pub type Result<T, E = ReceiverError> = std::result::Result<T, E>;

/// A receiver whose listeners are bound and serving.
#[derive(Debug)]
pub struct RunningReceiver {
    /// The bound OTLP/gRPC address (the real port when the endpoint said 0).
    pub grpc_addr: Option<SocketAddr>,
    /// The bound OTLP/HTTP address.
    pub http_addr: Option<SocketAddr>,
    tls: Vec<TlsReloader>,
    tasks: JoinSet<()>,
}

impl RunningReceiver {
    /// Handles to the TLS configurations in use (one per TLS listener), to
    /// re-read certificates without rebinding.
    pub fn tls(&self) -> &[TlsReloader] {
        &self.tls
    }

    /// Re-reads every listener's certificate, key and client CA files; new
    /// handshakes use them, open connections keep theirs. On error the old
    /// configuration stays in use.
    pub fn reload_tls(&self) -> Result<(), TlsError> {
        self.tls.iter().try_for_each(TlsReloader::reload)
    }

    /// Waits until the shutdown signal fired and every connection finished.
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts the receiver `id`: binds its configured endpoints and serves them
/// until `shutdown` completes; then stops accepting and lets in-flight
/// requests finish (see [`RunningReceiver::wait`]).
pub async fn start(
    id: &str,
    config: &OtlpReceiverConfig,
    ingest: Arc<dyn Ingest>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningReceiver> {
    let protocols = &config.protocols;
    if protocols.grpc.is_none() && protocols.http.is_none() {
        return Err(ReceiverError::NoProtocols(id.to_string()));
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut running = RunningReceiver {
        grpc_addr: None,
        http_addr: None,
        tls: Vec::new(),
        tasks: JoinSet::new(),
    };

    if let Some(grpc) = &protocols.grpc {
        let listener = bind(id, "grpc", &grpc.endpoint).await?;
        running.grpc_addr = listener.local_addr().ok();
        let tls = load_tls(
            id,
            "grpc",
            grpc.tls.as_ref(),
            tls::Alpn::Grpc,
            &mut running.tls,
        )?;
        let handler = grpc::handler(id, grpc.max_message_bytes(), ingest.clone());
        let opts = server::ServeOptions {
            receiver: id.into(),
            transport: "grpc",
            http2_only: true,
        };
        running
            .tasks
            .spawn(server::serve(listener, tls, handler, opts, stop_rx.clone()));
    }
    if let Some(http) = &protocols.http {
        let listener = bind(id, "http", &http.endpoint).await?;
        running.http_addr = listener.local_addr().ok();
        let tls = load_tls(
            id,
            "http",
            http.tls.as_ref(),
            tls::Alpn::Http,
            &mut running.tls,
        )?;
        let handler = http::handler(id, http, ingest.clone());
        let opts = server::ServeOptions {
            receiver: id.into(),
            transport: "http",
            http2_only: false,
        };
        running
            .tasks
            .spawn(server::serve(listener, tls, handler, opts, stop_rx.clone()));
    }
    // The signal is relayed through a watch channel so every listener and
    // connection task sees it.
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    Ok(running)
}

async fn bind(id: &str, transport: &'static str, endpoint: &str) -> Result<TcpListener> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(endpoint)
        .await
        .map_err(|e| ReceiverError::Endpoint {
            receiver: id.into(),
            transport,
            endpoint: endpoint.into(),
            reason: e.to_string(),
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(bind_reason(&e)),
        }
    }
    Err(ReceiverError::Bind {
        endpoint: endpoint.into(),
        reason: last.unwrap_or_else(|| "the host resolved to no address".into()),
    })
}

fn bind_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "address in use".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this host".into(),
        _ => e.to_string(),
    }
}

fn load_tls(
    id: &str,
    transport: &'static str,
    config: Option<&crate::config::receiver::TlsServerConfig>,
    alpn: tls::Alpn,
    handles: &mut Vec<TlsReloader>,
) -> Result<Option<TlsReloader>> {
    let Some(config) = config else {
        return Ok(None);
    };
    let reloader =
        TlsReloader::load(config.clone(), alpn).map_err(|source| ReceiverError::Tls {
            receiver: id.into(),
            transport,
            source,
        })?;
    handles.push(reloader.clone());
    Ok(Some(reloader))
}

/// Loads every TLS file a receiver config names, without binding anything:
/// a reload checks certificates before it swaps anything in.
pub fn check_tls(id: &str, config: &OtlpReceiverConfig) -> Result<()> {
    let mut handles = Vec::new();
    if let Some(grpc) = &config.protocols.grpc {
        load_tls(id, "grpc", grpc.tls.as_ref(), tls::Alpn::Grpc, &mut handles)?;
    }
    if let Some(http) = &config.protocols.http {
        load_tls(id, "http", http.tls.as_ref(), tls::Alpn::Http, &mut handles)?;
    }
    Ok(())
}
