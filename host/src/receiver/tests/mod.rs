//! Receiver tests over real sockets on 127.0.0.1:0: a recording [`Ingest`],
//! TLS material made with rcgen at test time, and small hyper/tonic clients.

mod grpc;
mod http;
mod json;
mod tls;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::{RunningReceiver, start};
use crate::config::receiver::{
    GrpcServerConfig, HttpServerConfig, OtlpProtocols, OtlpReceiverConfig, TlsServerConfig,
};
use crate::pipeline::{Accepted, Ingest, IngestRequest, Refusal};

type IngestFuture = futures_util::future::BoxFuture<'static, Result<Accepted, Refusal>>;

/// Collects what it is given; refuses when told to.
#[derive(Default)]
pub struct Recording {
    pub requests: Mutex<Vec<IngestRequest>>,
    pub refuse: Mutex<Option<Refusal>>,
    pub accept: Mutex<Accepted>,
    /// What `precheck` answers, and the lengths it was asked about.
    pub precheck: Mutex<Option<Refusal>>,
    pub prechecked: Mutex<Vec<usize>>,
}

impl Ingest for Recording {
    fn ingest(&self, request: IngestRequest) -> IngestFuture {
        let refusal = self.refuse.lock().unwrap().clone();
        let accepted = self.accept.lock().unwrap().clone();
        if refusal.is_none() {
            self.requests.lock().unwrap().push(request);
        }
        Box::pin(async move { refusal.map_or(Ok(accepted), Err) })
    }

    fn precheck(
        &self,
        _signal: crate::Signal,
        _principal: &crate::tenant::Principal,
        bytes: usize,
    ) -> Result<crate::pipeline::Reservation, Refusal> {
        self.prechecked.lock().unwrap().push(bytes);
        match self.precheck.lock().unwrap().clone() {
            Some(refusal) => Err(refusal),
            None => Ok(crate::pipeline::Reservation::default()),
        }
    }
}

impl Recording {
    pub fn taken(&self) -> Vec<IngestRequest> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// A started receiver, stopped when dropped.
pub struct Harness {
    pub id: String,
    pub running: RunningReceiver,
    pub ingest: Arc<Recording>,
    _stop: oneshot::Sender<()>,
}

impl Harness {
    pub fn http(&self) -> std::net::SocketAddr {
        self.running.http_addr.expect("http listener")
    }
    pub fn grpc(&self) -> std::net::SocketAddr {
        self.running.grpc_addr.expect("grpc listener")
    }
}

/// A unique receiver id per test, so metric assertions do not collide.
pub fn unique_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("otlp/test{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Both protocols on port 0, with `limit` bytes as the size limit.
pub fn config(limit: u64, tls: Option<TlsServerConfig>) -> OtlpReceiverConfig {
    OtlpReceiverConfig {
        protocols: OtlpProtocols {
            grpc: Some(GrpcServerConfig {
                endpoint: "127.0.0.1:0".into(),
                tls: tls.clone(),
                max_recv_msg_size_mib: None,
                include_metadata: false,
                auth: None,
            }),
            http: Some(HttpServerConfig {
                endpoint: "127.0.0.1:0".into(),
                tls,
                max_request_body_size: limit,
                ..HttpServerConfig::default()
            }),
        },
    }
}

pub async fn start_with(config: OtlpReceiverConfig) -> Harness {
    let ingest = Arc::new(Recording::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let id = unique_id();
    let running = start(&id, &config, ingest.clone(), async move {
        let _ = stopped.await;
    })
    .await
    .expect("receiver starts");
    Harness {
        id,
        running,
        ingest,
        _stop: stop,
    }
}

pub async fn start_plain(limit: u64) -> Harness {
    start_with(config(limit, None)).await
}

/// A traces request with `spans` spans in one resource and scope.
pub fn traces(spans: usize) -> ExportTraceServiceRequest {
    let span = |i: usize| Span {
        trace_id: vec![0x5b; 16],
        span_id: vec![0x0a, 0, 0, 0, 0, 0, 0, i as u8],
        name: format!("span {i}"),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_100_000_000,
        attributes: vec![KeyValue {
            key: "http.status_code".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(200)),
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("checkout".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (0..spans).map(span).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

pub fn traces_bytes(spans: usize) -> Vec<u8> {
    traces(spans).encode_to_vec()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// An HTTP response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: ::http::StatusCode,
    pub headers: ::http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The `google.rpc.Status` of a protobuf error body.
    pub fn rpc_status(&self) -> tonic_types::Status {
        tonic_types::Status::decode(self.body.clone()).expect("a google.rpc.Status body")
    }
}

/// Sends one HTTP/1.1 request on a new connection (over TLS when given).
pub async fn send<B>(
    addr: std::net::SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    request: ::http::Request<B>,
) -> anyhow::Result<Reply>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = TcpStream::connect(addr).await?;
    let reply = match tls {
        None => exchange(tcp, request).await?,
        Some(config) => {
            let name = rustls::pki_types::ServerName::try_from("localhost")?;
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            exchange(stream, request).await?
        }
    };
    Ok(reply)
}

async fn exchange<S, B>(stream: S, request: ::http::Request<B>) -> anyhow::Result<Reply>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// POSTs `body` to `path` with the given headers, plaintext.
pub async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut request = ::http::Request::post(path).header("host", "localhost");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    send(addr, None, request).await.expect("request")
}

#[tokio::test]
async fn port_zero_reports_the_real_port_and_a_taken_port_is_named() {
    let h = start_plain(1024).await;
    assert_ne!(h.http().port(), 0);
    assert_ne!(h.grpc().port(), 0);
    let mut taken = config(1024, None);
    let endpoint = h.http().to_string();
    taken.protocols.grpc = None;
    taken.protocols.http.as_mut().unwrap().endpoint = endpoint.clone();
    let err = start(
        &unique_id(),
        &taken,
        Arc::new(Recording::default()),
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot listen on {endpoint}: address in use")
    );
}

#[tokio::test]
async fn shutdown_stops_accepting_and_wait_returns() {
    let h = start_plain(1024 * 1024).await;
    let addr = h.http();
    assert_eq!(
        post(
            addr,
            "/v1/traces",
            &[("content-type", "application/x-protobuf")],
            traces_bytes(1)
        )
        .await
        .status,
        200
    );
    let Harness {
        running,
        _stop: stop,
        ..
    } = h;
    drop(stop);
    tokio::time::timeout(std::time::Duration::from_secs(5), running.wait())
        .await
        .expect("the receiver stops");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}
