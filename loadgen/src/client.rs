//! One client connection to an OTLP receiver: OTLP/HTTP (protobuf, HTTP/1.1)
//! or OTLP/gRPC (HTTP/2, the 5-byte message frame done here), plain TCP or
//! TLS. `send` posts one request body and says how the receiver answered.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use weir_wire::{FieldReader, Signal, WireType};

/// How requests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OTLP/gRPC over HTTP/2.
    Grpc,
    /// OTLP/HTTP with protobuf bodies over HTTP/1.1.
    Http,
}

/// The OTLP/HTTP path of a signal.
pub fn http_path(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "/v1/traces",
        Signal::Metrics => "/v1/metrics",
        Signal::Logs => "/v1/logs",
    }
}

/// The OTLP/gRPC method path of a signal.
pub fn grpc_path(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    }
}

/// Where and how to send.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub protocol: Protocol,
    pub signal: Signal,
    /// TLS config and the name the server's certificate must carry.
    pub tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
}

/// How the receiver answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; `rejected` items were refused in a `partial_success`.
    Accepted { rejected: u64 },
    /// Refused as a whole: `http 429`, `grpc 8`, ...
    Refused { status: String, retryable: bool },
}

enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// An open connection.
pub struct Connection {
    target: Target,
    sender: Sender,
}

impl Connection {
    pub async fn connect(target: &Target) -> anyhow::Result<Connection> {
        let tcp = TcpStream::connect(target.addr)
            .await
            .with_context(|| format!("connecting to {}", target.addr))?;
        tcp.set_nodelay(true)?;
        let sender = match &target.tls {
            None => handshake(target.protocol, TokioIo::new(tcp)).await?,
            Some((config, name)) => {
                let tls = TlsConnector::from(config.clone())
                    .connect(name.clone(), tcp)
                    .await
                    .with_context(|| format!("TLS handshake with {}", target.addr))?;
                handshake(target.protocol, TokioIo::new(tls)).await?
            }
        };
        Ok(Connection {
            target: target.clone(),
            sender,
        })
    }

    /// Posts one request body (protobuf, unframed) and reads the answer.
    pub async fn send(&mut self, body: Bytes) -> anyhow::Result<Outcome> {
        let Target {
            addr,
            protocol,
            signal,
            ..
        } = self.target;
        let scheme = if self.target.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let response = match &mut self.sender {
            Sender::Http1(sender) => {
                let request = Request::post(http_path(signal))
                    .header(http::header::HOST, addr.to_string())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(Full::new(body))?;
                sender.ready().await?;
                sender.send_request(request).await?
            }
            Sender::Http2(sender) => {
                let mut framed = BytesMut::with_capacity(5 + body.len());
                framed.put_u8(0);
                framed.put_u32(u32::try_from(body.len()).context("request too large for gRPC")?);
                framed.put_slice(&body);
                let request = Request::post(format!("{scheme}://{addr}{}", grpc_path(signal)))
                    .header(http::header::CONTENT_TYPE, "application/grpc")
                    .header("te", "trailers")
                    .body(Full::new(framed.freeze()))?;
                sender.ready().await?;
                sender.send_request(request).await?
            }
        };
        let (parts, body) = response.into_parts();
        let collected = body.collect().await.context("reading the response")?;
        let trailers = collected.trailers().cloned();
        let body = collected.to_bytes();
        Ok(match protocol {
            Protocol::Http => http_outcome(parts.status, &body),
            Protocol::Grpc => grpc_outcome(parts.status, &parts.headers, trailers.as_ref(), &body),
        })
    }
}

async fn handshake<T>(protocol: Protocol, io: TokioIo<T>) -> anyhow::Result<Sender>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    Ok(match protocol {
        Protocol::Http => {
            let (sender, conn) = http1::handshake(io).await?;
            tokio::spawn(conn);
            Sender::Http1(sender)
        }
        Protocol::Grpc => {
            let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                .initial_stream_window_size(4 << 20)
                .initial_connection_window_size(8 << 20)
                .handshake(io)
                .await?;
            tokio::spawn(conn);
            Sender::Http2(sender)
        }
    })
}

fn http_outcome(status: StatusCode, body: &[u8]) -> Outcome {
    if status.is_success() {
        return Outcome::Accepted {
            rejected: rejected_items(body),
        };
    }
    Outcome::Refused {
        status: format!("http {}", status.as_u16()),
        retryable: matches!(status.as_u16(), 429 | 502 | 503 | 504),
    }
}

fn grpc_outcome(
    status: StatusCode,
    headers: &HeaderMap,
    trailers: Option<&HeaderMap>,
    body: &[u8],
) -> Outcome {
    if status != StatusCode::OK {
        return Outcome::Refused {
            status: format!("http {}", status.as_u16()),
            retryable: matches!(status.as_u16(), 429 | 502 | 503 | 504),
        };
    }
    // A trailers-only answer carries grpc-status in the headers.
    let code = trailers
        .and_then(|t| t.get("grpc-status"))
        .or_else(|| headers.get("grpc-status"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    match code {
        Some(0) => Outcome::Accepted {
            rejected: rejected_items(body.get(5..).unwrap_or_default()),
        },
        Some(code) => Outcome::Refused {
            status: format!("grpc {code}"),
            // RESOURCE_EXHAUSTED, UNAVAILABLE (as the OTLP spec lists them, with ABORTED).
            retryable: matches!(code, 8 | 14 | 10),
        },
        None => Outcome::Refused {
            status: "grpc (no status)".to_owned(),
            retryable: false,
        },
    }
}

/// `partial_success` (field 1) → rejected count (field 1) of an
/// `Export*ServiceResponse`; the same numbers in all three signals.
pub fn rejected_items(response: &[u8]) -> u64 {
    fn field(message: &[u8], number: u32) -> Option<weir_wire::Field<'_>> {
        FieldReader::new(message, 0)
            .filter_map(Result::ok)
            .find(|f| f.number == number)
    }
    let Some(partial) = field(response, 1).filter(|f| f.wire_type == WireType::LengthDelimited)
    else {
        return 0;
    };
    match field(partial.value, 1) {
        Some(f) if f.wire_type == WireType::Varint => f
            .value
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, b)| acc | (u64::from(b & 0x7f) << (7 * i))),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use prost::Message;

    #[test]
    fn partial_success_counts_are_read() {
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 300,
                error_message: "too old".into(),
            }),
        }
        .encode_to_vec();
        assert_eq!(rejected_items(&response), 300);
        assert_eq!(rejected_items(&[]), 0);
    }

    #[test]
    fn grpc_status_comes_from_trailers_or_headers() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "8".parse().unwrap());
        let outcome = grpc_outcome(StatusCode::OK, &HeaderMap::new(), Some(&trailers), &[]);
        assert_eq!(
            outcome,
            Outcome::Refused {
                status: "grpc 8".into(),
                retryable: true
            }
        );
        trailers.insert("grpc-status", "0".parse().unwrap());
        let outcome = grpc_outcome(StatusCode::OK, &HeaderMap::new(), Some(&trailers), &[]);
        assert_eq!(outcome, Outcome::Accepted { rejected: 0 });
        let outcome = grpc_outcome(StatusCode::OK, &trailers, None, &[]);
        assert_eq!(outcome, Outcome::Accepted { rejected: 0 });
        let outcome = http_outcome(StatusCode::BAD_REQUEST, &[]);
        assert_eq!(
            outcome,
            Outcome::Refused {
                status: "http 400".into(),
                retryable: false
            }
        );
    }
}
