//! The HTTP clients of a network exporter: hyper-util's pooled client over
//! hyper-rustls. One offers HTTP/1.1 and HTTP/2 (ALPN picks over TLS; plain
//! text speaks HTTP/1.1); the gRPC one speaks HTTP/2 only (h2c in plain text).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::ServerName;

use super::TransportError;
use super::config::ClientTlsConfig;
use super::tls::client_config;

/// A pooled client sending whole bodies.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Which protocols a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocols {
    /// HTTP/1.1, or HTTP/2 when the TLS server offers it.
    Http,
    /// HTTP/2 only (gRPC).
    Grpc,
}

/// Builds a client for `tls` speaking `protocols`.
pub fn client(
    tls: &ClientTlsConfig,
    protocols: Protocols,
    connect_timeout: Duration,
) -> Result<HttpClient, TransportError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let mut builder = HttpsConnectorBuilder::new()
        .with_tls_config(client_config(tls)?)
        .https_or_http();
    if let Some(name) = &tls.server_name_override {
        let name = ServerName::try_from(name.clone())
            .map_err(|e| TransportError::Tls(format!("tls.server_name_override `{name}`: {e}")))?;
        builder = builder.with_server_name_resolver(FixedServerNameResolver::new(name));
    }
    let connector = match protocols {
        Protocols::Http => builder.enable_all_versions().wrap_connector(http),
        Protocols::Grpc => builder.enable_http2().wrap_connector(http),
    };
    let mut client = Client::builder(TokioExecutor::new());
    client.pool_idle_timeout(Duration::from_secs(90));
    if protocols == Protocols::Grpc {
        client.http2_only(true);
    }
    Ok(client.build(connector))
}
