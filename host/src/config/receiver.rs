//! The `otlp` receiver's configuration, as the OpenTelemetry Collector spells it.

use std::path::PathBuf;

use serde::Deserialize;

pub use super::auth::ReceiverAuthConfig;

/// Default limit of a request body, after decompression: 20 MiB.
pub const DEFAULT_MAX_REQUEST_BODY_SIZE: u64 = 20 * 1024 * 1024;

/// `receivers: otlp[/name]: {protocols: {grpc: ..., http: ...}}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OtlpReceiverConfig {
    /// The protocols to serve; at least one.
    pub protocols: OtlpProtocols,
}

/// Which OTLP transports a receiver serves. A key present with no value
/// (`grpc:`) serves that protocol on its default endpoint.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct OtlpProtocols {
    #[serde(default, deserialize_with = "present_or_default")]
    pub grpc: Option<GrpcServerConfig>,
    #[serde(default, deserialize_with = "present_or_default")]
    pub http: Option<HttpServerConfig>,
}

/// OTLP/gRPC server settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcServerConfig {
    /// `host:port` to listen on; port 0 picks a free port (printed at start).
    /// Default `127.0.0.1:4317`.
    pub endpoint: String,
    /// TLS (and mTLS with `client_ca_file`); plaintext when absent.
    pub tls: Option<TlsServerConfig>,
    /// Largest request message accepted, in MiB, after decompression. Default 20.
    pub max_recv_msg_size_mib: Option<u64>,
    /// Accepted for compatibility; request metadata is passed on regardless.
    pub include_metadata: bool,
    /// `auth: {authenticator: basicauth/x}`: requests must authenticate.
    pub auth: Option<ReceiverAuthConfig>,
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        GrpcServerConfig {
            endpoint: "127.0.0.1:4317".into(),
            tls: None,
            max_recv_msg_size_mib: None,
            include_metadata: false,
            auth: None,
        }
    }
}

impl GrpcServerConfig {
    /// The message size limit in bytes.
    pub fn max_message_bytes(&self) -> u64 {
        self.max_recv_msg_size_mib
            .map(|mib| mib * 1024 * 1024)
            .unwrap_or(DEFAULT_MAX_REQUEST_BODY_SIZE)
    }
}

/// OTLP/HTTP server settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpServerConfig {
    /// `host:port` to listen on; port 0 picks a free port. Default `127.0.0.1:4318`.
    pub endpoint: String,
    /// TLS (and mTLS with `client_ca_file`); plaintext when absent.
    pub tls: Option<TlsServerConfig>,
    /// Largest request body accepted, in bytes, after decompression. Default 20 MiB.
    pub max_request_body_size: u64,
    /// Path for traces. Default `/v1/traces`.
    pub traces_url_path: String,
    /// Path for metrics. Default `/v1/metrics`.
    pub metrics_url_path: String,
    /// Path for logs. Default `/v1/logs`.
    pub logs_url_path: String,
    /// Accepted for compatibility; request metadata is passed on regardless.
    pub include_metadata: bool,
    /// `auth: {authenticator: basicauth/x}`: requests must authenticate.
    pub auth: Option<ReceiverAuthConfig>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            endpoint: "127.0.0.1:4318".into(),
            tls: None,
            max_request_body_size: DEFAULT_MAX_REQUEST_BODY_SIZE,
            traces_url_path: "/v1/traces".into(),
            metrics_url_path: "/v1/metrics".into(),
            logs_url_path: "/v1/logs".into(),
            include_metadata: false,
            auth: None,
        }
    }
}

/// Server TLS. Paths are relative to the config file's folder.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    /// PEM certificate chain the server presents.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of that certificate.
    pub key_file: PathBuf,
    /// PEM CA bundle; when set, clients must present a certificate signed by
    /// it (mTLS) or the handshake is refused.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// Lowest TLS version accepted: `1.2` (default) or `1.3`.
    #[serde(default)]
    pub min_version: Option<String>,
}

/// `grpc:` with no value means "on, with defaults"; absent means off.
fn present_or_default<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}
