//! Sends one outgoing request to the exporter's endpoint: only the path
//! comes from the plugin, the scheme and host from the operator's config.
//! Adds the config's headers and credentials, compresses the body, frames
//! gRPC messages, and classifies the answer ([`SendOutcome`]).

use std::io::Write;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};

use super::TransportError;
use super::config::{AuthConfig, Compression, NetworkExporterConfig};
use super::connector::{HttpClient, Protocols, client};
use super::outcome::{self, SendOutcome};

/// A request as an exporter plugin encoded it.
#[derive(Debug, Clone, Default)]
pub struct OutgoingRequest {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// The most of a response body kept (for the reason text of a failure).
const RESPONSE_LIMIT: usize = 64 * 1024;

/// The endpoint of one network exporter, with its clients and settings.
pub struct NetworkSink {
    endpoint: Uri,
    http: HttpClient,
    grpc: HttpClient,
    headers: HeaderMap,
    auth: Option<AuthConfig>,
    compression: Compression,
    timeout: Duration,
}

impl NetworkSink {
    /// Builds the clients (reading TLS files now, so errors show at start).
    pub fn new(config: &NetworkExporterConfig) -> Result<Self, TransportError> {
        let endpoint = endpoint_uri(&config.endpoint, config.tls.insecure)?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let bad = |e: String| TransportError::Config(format!("headers.{name}: {e}"));
            let name_h = HeaderName::try_from(name.as_str()).map_err(|e| bad(e.to_string()))?;
            let value_h = HeaderValue::try_from(value.as_str()).map_err(|e| bad(e.to_string()))?;
            headers.insert(name_h, value_h);
        }
        Ok(NetworkSink {
            http: client(&config.tls, Protocols::Http, config.timeout)?,
            grpc: client(&config.tls, Protocols::Grpc, config.timeout)?,
            endpoint,
            headers,
            auth: config.auth.clone(),
            compression: config.compression,
            timeout: config.timeout,
        })
    }

    /// The endpoint, for logs.
    pub fn describe(&self) -> String {
        self.endpoint.to_string()
    }

    /// Sends one request, once, within the timeout.
    pub async fn send(&self, request: &OutgoingRequest) -> SendOutcome {
        match tokio::time::timeout(self.timeout, self.attempt(request)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => match e {
                TransportError::Config(reason) => SendOutcome::Permanent { reason },
                other => SendOutcome::retryable(other.to_string()),
            },
            Err(_) => SendOutcome::retryable(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn attempt(&self, request: &OutgoingRequest) -> Result<SendOutcome, TransportError> {
        let grpc = request.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type") && v.starts_with("application/grpc")
        });
        let uri = self.uri_for(&request.path)?;
        let mut builder = Request::builder().method(Method::POST).uri(uri);
        let headers = builder.headers_mut().expect("a fresh builder has headers");
        for (name, value) in &request.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| TransportError::Config(format!("plugin header `{name}`: {e}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|e| TransportError::Config(format!("plugin header `{name}`: {e}")))?;
            headers.insert(name, value);
        }
        // The operator's headers and credentials win over the plugin's.
        for (name, value) in &self.headers {
            headers.insert(name, value.clone());
        }
        if let Some(auth) = &self.auth {
            headers.insert(AUTHORIZATION, authorization(auth)?);
        }
        let body = if grpc {
            headers.insert("te", HeaderValue::from_static("trailers"));
            let (flag, message) = match self.compression {
                Compression::Gzip => {
                    headers.insert("grpc-encoding", HeaderValue::from_static("gzip"));
                    (1u8, compress(Compression::Gzip, &request.body)?)
                }
                // gRPC servers commonly speak gzip only; others go uncompressed.
                _ => (0u8, request.body.clone()),
            };
            let mut framed = BytesMut::with_capacity(5 + message.len());
            framed.put_u8(flag);
            framed
                .put_u32(u32::try_from(message.len()).map_err(|_| {
                    TransportError::Config("gRPC message larger than 4 GiB".into())
                })?);
            framed.extend_from_slice(&message);
            framed.freeze()
        } else if headers.contains_key(CONTENT_ENCODING) {
            // The plugin encoded the body for its protocol (Loki, remote write).
            request.body.clone()
        } else {
            match self.compression.encoding() {
                Some(name) => {
                    headers.insert(CONTENT_ENCODING, HeaderValue::from_static(name));
                    compress(self.compression, &request.body)?
                }
                None => request.body.clone(),
            }
        };
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            );
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| TransportError::Config(e.to_string()))?;
        let client = if grpc { &self.grpc } else { &self.http };
        let response = client
            .request(request)
            .await
            .map_err(|e| TransportError::Send(error_chain(&e)))?;
        let (parts, body) = response.into_parts();
        let collected = Limited::new(body, RESPONSE_LIMIT)
            .collect()
            .await
            .map_err(|e| TransportError::Send(format!("reading the response: {e}")))?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let body = collected.to_bytes();
        Ok(if grpc {
            outcome::from_grpc(parts.status, &parts.headers, &trailers)
        } else {
            outcome::from_http(parts.status, &parts.headers, &body)
        })
    }

    /// The endpoint with the plugin's path appended to its base path.
    fn uri_for(&self, path: &str) -> Result<Uri, TransportError> {
        if !path.is_empty() && !path.starts_with('/') {
            return Err(TransportError::Config(format!(
                "the exporter asked for path `{path}`, which does not start with `/`"
            )));
        }
        let base = self.endpoint.path().trim_end_matches('/');
        let full = if path.is_empty() {
            self.endpoint.path().to_string()
        } else {
            format!("{base}{path}")
        };
        let mut parts = self.endpoint.clone().into_parts();
        parts.path_and_query = Some(full.parse().map_err(|e| {
            TransportError::Config(format!("the exporter asked for path `{path}`: {e}"))
        })?);
        Uri::from_parts(parts).map_err(|e| TransportError::Config(e.to_string()))
    }
}

/// `http(s)://host:port/path`, or `host:port` (https, or http when insecure).
fn endpoint_uri(endpoint: &str, insecure: bool) -> Result<Uri, TransportError> {
    let text = if endpoint.contains("://") {
        endpoint.to_string()
    } else if insecure {
        format!("http://{endpoint}")
    } else {
        format!("https://{endpoint}")
    };
    let uri: Uri = text
        .parse()
        .map_err(|e| TransportError::Config(format!("endpoint `{endpoint}`: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.authority().is_some() => Ok(uri),
        _ => Err(TransportError::Config(format!(
            "endpoint `{endpoint}`: expected http://host:port or https://host:port"
        ))),
    }
}

fn authorization(auth: &AuthConfig) -> Result<HeaderValue, TransportError> {
    use base64::Engine;
    let value = match auth {
        AuthConfig::Basic { username, password } => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
        ),
        AuthConfig::Bearer { token: Some(t), .. } => format!("Bearer {t}"),
        AuthConfig::Bearer {
            token_file: Some(path),
            ..
        } => {
            let token = std::fs::read_to_string(path).map_err(|e| {
                TransportError::Send(format!("auth.bearer.token_file {}: {e}", path.display()))
            })?;
            format!("Bearer {}", token.trim())
        }
        AuthConfig::Bearer { .. } => {
            return Err(TransportError::Config("auth.bearer: no token".into()));
        }
    };
    let mut value = HeaderValue::try_from(value)
        .map_err(|e| TransportError::Config(format!("auth: not a valid header value: {e}")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Compresses a body; `Snappy` is the block format (what Loki and remote
/// write speak), the others their usual stream formats.
pub fn compress(compression: Compression, body: &[u8]) -> Result<Bytes, TransportError> {
    let io = |e: std::io::Error| TransportError::Config(format!("compressing: {e}"));
    Ok(match compression {
        Compression::None => Bytes::copy_from_slice(body),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            enc.write_all(body).map_err(io)?;
            Bytes::from(enc.finish().map_err(io)?)
        }
        Compression::Zstd => Bytes::from(zstd::bulk::compress(body, 1).map_err(io)?),
        Compression::Snappy => Bytes::from(
            snap::raw::Encoder::new()
                .compress_vec(body)
                .map_err(|e| TransportError::Config(format!("compressing: {e}")))?,
        ),
    })
}

/// An error with its causes ("connection refused" is usually the last).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sink(endpoint: &str) -> NetworkSink {
        let config = NetworkExporterConfig::from_block(&serde_json::json!({
            "endpoint": endpoint, "tls": {"insecure": true}
        }))
        .unwrap();
        NetworkSink::new(&config).unwrap()
    }

    #[tokio::test]
    async fn paths_stay_on_the_configured_endpoint() {
        let s = sink("http://127.0.0.1:3100/base/");
        assert_eq!(
            s.uri_for("/loki/api/v1/push").unwrap().to_string(),
            "http://127.0.0.1:3100/base/loki/api/v1/push"
        );
        assert!(s.uri_for("http://evil.example/x").is_err());
        assert!(s.uri_for("//evil.example/x").unwrap().host() == Some("127.0.0.1"));
        let s = sink("127.0.0.1:4317");
        assert_eq!(s.endpoint.scheme_str(), Some("http"));
        assert!(endpoint_uri("ftp://x", false).is_err());
        assert_eq!(
            endpoint_uri("collector:4317", false).unwrap().scheme_str(),
            Some("https")
        );
    }

    #[test]
    fn compression_round_trips() {
        let body = b"hello hello hello hello".repeat(10);
        let gz = compress(Compression::Gzip, &body).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let z = compress(Compression::Zstd, &body).unwrap();
        assert_eq!(zstd::bulk::decompress(&z, 1 << 20).unwrap(), body);
        let s = compress(Compression::Snappy, &body).unwrap();
        assert_eq!(snap::raw::Decoder::new().decompress_vec(&s).unwrap(), body);
    }

    #[test]
    fn credentials() {
        let basic = authorization(&AuthConfig::Basic {
            username: "u".into(),
            password: "p".into(),
        })
        .unwrap();
        assert_eq!(basic, "Basic dTpw");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "abc\n").unwrap();
        let bearer = authorization(&AuthConfig::Bearer {
            token: None,
            token_file: Some(file),
        })
        .unwrap();
        assert_eq!(bearer, "Bearer abc");
    }
}
