//! OTLP/gRPC: the three `Export` methods, served without decoding the
//! message. A raw codec hands over the request's protobuf bytes; tonic's
//! `Grpc` does the framing, gzip and the (decompressed) size limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Buf, BufMut, Bytes};
use futures_util::future::BoxFuture;
use http::{Request, Response};
use hyper::body::Incoming;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};

use super::Ingest;
use super::export::Exporter;
use super::prefix;
use super::reply;
use super::server::{ConnectionInfo, Handler};
use super::status::{Outcome, Recorder, Rejection};
use crate::Signal;
use crate::pipeline::{Accepted, Reservation};
use crate::tenant::Principal;

/// gRPC paths of the OTLP services.
const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// A codec that passes message bytes through untouched, both ways.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

struct GrpcReceiver {
    limit: usize,
    exporter: Exporter,
}

/// The request handler of an OTLP/gRPC listener.
pub fn handler(id: &str, limit: u64, ingest: Arc<dyn Ingest>) -> Handler {
    let receiver = Arc::new(GrpcReceiver {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
        exporter: Exporter {
            ingest,
            recorder: Recorder {
                receiver: id.into(),
                transport: "grpc",
            },
        },
    });
    Arc::new(move |conn, request| Box::pin(receiver.clone().handle(conn, request)))
}

impl GrpcReceiver {
    async fn handle(
        self: Arc<Self>,
        conn: Arc<ConnectionInfo>,
        request: Request<Incoming>,
    ) -> Response<tonic::body::Body> {
        // Route by path, as tonic's generated servers do.
        let signal = match request.uri().path() {
            TRACES => Signal::Traces,
            METRICS => Signal::Metrics,
            LOGS => Signal::Logs,
            path => {
                let rejection = Rejection::new(Outcome::NotFound, format!("unknown method {path}"));
                self.exporter.recorder.record(None, rejection.outcome, 0, 0);
                return rejection.to_grpc().into_http();
            }
        };
        // Credentials before the message is read (UNAUTHENTICATED).
        let principal = match self.exporter.authenticate(request.headers(), &conn) {
            Ok(principal) => principal,
            Err(rejection) => {
                self.exporter
                    .recorder
                    .record(Some(signal), rejection.outcome, 0, 0);
                return rejection.to_grpc().into_http();
            }
        };
        // An unknown tenant or one over its rate limit is refused before the
        // message is read (PERMISSION_DENIED, RESOURCE_EXHAUSTED).
        if let Err(rejection) = self.exporter.admit(signal, &principal) {
            self.exporter
                .recorder
                .record(Some(signal), rejection.outcome, 0, 0);
            return rejection.to_grpc().into_http();
        }
        // The message's length prefix before tonic reads the message: a
        // memory limiter or tenant budget with no room for it refuses it
        // now (RESOURCE_EXHAUSTED with RetryInfo) without reading the rest.
        let (parts, body) = request.into_parts();
        let (declared, body) = match prefix::peek(body).await {
            Ok(peeked) => peeked,
            Err(e) => {
                let rejection =
                    Rejection::new(Outcome::Invalid, format!("reading the request: {e}"));
                self.exporter
                    .recorder
                    .record(Some(signal), rejection.outcome, 0, 0);
                return rejection.to_grpc().into_http();
            }
        };
        // Past the receiver's own size limit, tonic says so (as grpc-go).
        // Otherwise the room is held while tonic reads the message.
        let reading = match declared.filter(|d| d.length <= self.limit) {
            None => Reservation::default(),
            Some(declared) => {
                match self
                    .exporter
                    .ingest
                    .precheck(signal, &principal, declared.length)
                {
                    Ok(reading) => reading,
                    Err(refusal) => {
                        let rejection = Rejection::from(refusal);
                        self.exporter
                            .recorder
                            .record(Some(signal), rejection.outcome, 0, 0);
                        return rejection.to_grpc().into_http();
                    }
                }
            }
        };
        let request = Request::from_parts(parts, body);
        let exported = Arc::new(AtomicBool::new(false));
        let method = Export {
            receiver: self.clone(),
            signal,
            principal: Some(principal),
            exported: exported.clone(),
            reading: Some(reading),
        };
        // Framing, gzip, and the limit on the decompressed message are tonic's.
        let mut grpc = tonic::server::Grpc::new(RawCodec)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(self.limit)
            .max_encoding_message_size(usize::MAX);
        let response = grpc.unary(method, request).await;
        if exported.load(Ordering::Acquire) {
            return response;
        }
        // tonic refused the request before our method ran (size, framing): count it,
        // and say RESOURCE_EXHAUSTED for an oversized message as grpc-go does.
        let status = Status::from_header_map(response.headers())
            .unwrap_or_else(|| Status::internal("request refused"));
        let rejection = match status.code() {
            Code::OutOfRange | Code::ResourceExhausted => Rejection::new(
                Outcome::TooLarge,
                format!("request message too large: {}", status.message()),
            ),
            _ => Rejection::new(Outcome::Invalid, status.message()),
        };
        self.exporter
            .recorder
            .record(Some(signal), rejection.outcome, 0, 0);
        rejection.to_grpc().into_http()
    }
}

/// One `Export` call, as tonic's `UnaryService`.
struct Export {
    receiver: Arc<GrpcReceiver>,
    signal: Signal,
    principal: Option<Principal>,
    exported: Arc<AtomicBool>,
    /// Room held while tonic read the message; given back once it is read.
    reading: Option<Reservation>,
}

impl tonic::server::UnaryService<Bytes> for Export {
    type Response = Bytes;
    type Future = BoxFuture<'static, Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        self.exported.store(true, Ordering::Release);
        // Read: the pipelines admit it now, in full.
        drop(self.reading.take());
        let (receiver, signal) = (self.receiver.clone(), self.signal);
        let principal = self.principal.take().unwrap_or_default();
        Box::pin(async move {
            let payload = request.into_inner();
            match receiver.exporter.export(signal, payload, principal).await {
                Ok(accepted) => Ok(tonic::Response::new(response_bytes(signal, &accepted))),
                Err(rejection) => Err(rejection.to_grpc()),
            }
        })
    }
}

fn response_bytes(signal: Signal, accepted: &Accepted) -> Bytes {
    if accepted.rejected_items == 0 {
        return Bytes::new();
    }
    let rejected = i64::try_from(accepted.rejected_items).unwrap_or(i64::MAX);
    Bytes::from(reply::protobuf_partial(
        signal,
        rejected,
        accepted.message.clone(),
    ))
}
