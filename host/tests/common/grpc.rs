//! OTLP/gRPC from tests: a blocking client that sends already-encoded
//! request bytes (a pass-through codec, so a test can send any bytes), and
//! a raw HTTP/2 client that declares a message's length and keeps the rest
//! of the body unsent, to see what a server answers before it has it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic_types::StatusExt;

pub const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// A refusal as a client sees it.
#[derive(Debug, Clone)]
pub struct Refused {
    pub code: tonic::Code,
    pub message: String,
    /// A `google.rpc.RetryInfo` delay came with it.
    pub retry_after: Option<Duration>,
}

impl From<tonic::Status> for Refused {
    fn from(status: tonic::Status) -> Self {
        Refused {
            code: status.code(),
            message: status.message().to_string(),
            retry_after: status.get_details_retry_info().and_then(|r| r.retry_delay),
        }
    }
}

/// A blocking gRPC client on its own runtime (one per thread).
pub struct Client {
    runtime: tokio::runtime::Runtime,
    grpc: tonic::client::Grpc<Channel>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let channel = runtime
            .block_on(
                Channel::from_shared(format!("http://{addr}"))
                    .unwrap()
                    .connect(),
            )
            .expect("connects");
        let grpc = tonic::client::Grpc::new(channel)
            .max_encoding_message_size(usize::MAX)
            .max_decoding_message_size(usize::MAX);
        Client { runtime, grpc }
    }

    /// One unary call of `path` with `body`, and `metadata` headers.
    pub fn export(
        &mut self,
        path: &'static str,
        body: Vec<u8>,
        metadata: &[(&'static str, &str)],
    ) -> Result<(), Refused> {
        let grpc = &mut self.grpc;
        self.runtime.block_on(async {
            grpc.ready().await.expect("ready");
            let mut request = tonic::Request::new(Bytes::from(body));
            for (k, v) in metadata {
                request.metadata_mut().insert(*k, v.parse().unwrap());
            }
            grpc.unary(
                request,
                http::uri::PathAndQuery::from_static(path),
                RawCodec,
            )
            .await
            .map(|_| ())
            .map_err(Refused::from)
        })
    }
}

/// What the server answered to a message it was only told the length of.
#[derive(Debug)]
pub struct Declared {
    /// The gRPC status (the answer is trailers-only), and how long it took.
    pub refused: Refused,
    pub latency: Duration,
}

/// Sends a `path` call declaring a `declared`-byte message, but only its
/// 5-byte prefix and `sent` bytes of it; the body is never ended, so an
/// answer at all means the server answered without the message. `None` if
/// no answer came within 10 s.
pub fn declare(
    addr: SocketAddr,
    path: &str,
    declared: u32,
    sent: usize,
    metadata: &[(&str, &str)],
) -> Option<Declared> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
        let frames = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|frame| (frame, rx))
        }));
        let mut request = http::Request::post(format!("http://{addr}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in metadata {
            request = request.header(*k, *v);
        }
        let request = request.body(StreamBody::new(frames)).unwrap();
        let mut head = vec![0u8];
        head.extend_from_slice(&declared.to_be_bytes());
        head.extend(std::iter::repeat_n(0x0a, sent));
        tx.send(Ok(Frame::data(Bytes::from(head)))).await.unwrap();
        let started = Instant::now();
        let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
            .await
            .ok()?
            .ok()?;
        let latency = started.elapsed();
        let (parts, body) = response.into_parts();
        // Trailers-only: the status is in the headers; else in the trailers.
        let status = match tonic::Status::from_header_map(&parts.headers) {
            Some(status) => status,
            None => {
                let trailers = body.collect().await.ok()?.trailers().cloned()?;
                tonic::Status::from_header_map(&trailers)?
            }
        };
        drop(tx);
        Some(Declared {
            refused: status.into(),
            latency,
        })
    })
}
