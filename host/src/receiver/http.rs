//! OTLP/HTTP: `POST` of an `Export*ServiceRequest` in protobuf or JSON to
//! the signal's path (`/v1/traces`, `/v1/metrics`, `/v1/logs` by default).

use std::sync::Arc;

use http::{Method, Request, Response};
use hyper::body::Incoming;

use super::body::{self, Encoding};
use super::export::Exporter;
use super::reply::{self, Format};
use super::server::{ConnectionInfo, Handler};
use super::status::{Outcome, Recorder, Rejection};
use super::{Ingest, json};
use crate::Signal;
use crate::config::receiver::HttpServerConfig;
use crate::pipeline::Reservation;

struct HttpReceiver {
    routes: [(String, Signal); 3],
    limit: usize,
    exporter: Exporter,
}

/// The request handler of an OTLP/HTTP listener.
pub fn handler(id: &str, config: &HttpServerConfig, ingest: Arc<dyn Ingest>) -> Handler {
    let receiver = Arc::new(HttpReceiver {
        routes: [
            (config.traces_url_path.clone(), Signal::Traces),
            (config.metrics_url_path.clone(), Signal::Metrics),
            (config.logs_url_path.clone(), Signal::Logs),
        ],
        limit: usize::try_from(config.max_request_body_size).unwrap_or(usize::MAX),
        exporter: Exporter {
            ingest,
            recorder: Recorder {
                receiver: id.into(),
                transport: "http",
            },
        },
    });
    Arc::new(move |conn, request| {
        let receiver = receiver.clone();
        Box::pin(async move { receiver.handle(conn, request).await })
    })
}

impl HttpReceiver {
    async fn handle(
        &self,
        conn: Arc<ConnectionInfo>,
        request: Request<Incoming>,
    ) -> Response<tonic::body::Body> {
        // Errors before we know the format answer in protobuf, OTLP's default.
        let format = Format::from_headers(request.headers()).unwrap_or(Format::Protobuf);
        let signal = self
            .routes
            .iter()
            .find(|(path, _)| path == request.uri().path())
            .map(|(_, s)| *s);
        match self.receive(signal, &conn, request).await {
            Ok((signal, accepted)) => reply::accepted(signal, format, &accepted),
            Err(Early(rejection)) => {
                self.exporter
                    .recorder
                    .record(signal, rejection.outcome, 0, 0);
                reply::rejected(format, &rejection)
            }
            Err(Counted(rejection)) => reply::rejected(format, &rejection),
        }
    }

    /// The request path, one step per line.
    async fn receive(
        &self,
        signal: Option<Signal>,
        conn: &ConnectionInfo,
        request: Request<Incoming>,
    ) -> Result<(Signal, crate::pipeline::Accepted), Failure> {
        // Only the three signal paths exist.
        let signal = signal.ok_or_else(|| {
            Early(Rejection::new(
                Outcome::NotFound,
                format!("no OTLP endpoint at {}", request.uri().path()),
            ))
        })?;
        // OTLP/HTTP is POST only.
        if request.method() != Method::POST {
            return Err(Early(Rejection::new(
                Outcome::MethodNotAllowed,
                format!("method {} not allowed: use POST", request.method()),
            )));
        }
        // Protobuf or JSON; anything else is a 415.
        let format = Format::from_headers(request.headers()).map_err(Early)?;
        // gzip, deflate or identity; anything else is a 400.
        let encoding = Encoding::from_headers(request.headers()).map_err(Early)?;
        // Credentials before the body: an unauthenticated client costs no read (401).
        let principal = self
            .exporter
            .authenticate(request.headers(), conn)
            .map_err(Early)?;
        let (parts, incoming) = request.into_parts();
        // An unknown tenant or one over its rate limit is refused before its
        // body is decoded (403, 429): a flood costs a read, not a parse. The
        // body is drained so the connection stays usable.
        if let Err(rejection) = self.exporter.admit(signal, &principal) {
            body::discard(incoming, self.limit).await;
            return Err(Early(rejection));
        }
        // A declared length the memory limiter or the tenant's budget has
        // no room for: 429 (413 past the whole budget) before reading.
        // Otherwise that room is held while the body is read.
        let reading = match body::content_length(&parts.headers) {
            Some(length) => {
                let length = usize::try_from(length).unwrap_or(usize::MAX);
                self.exporter
                    .ingest
                    .precheck(signal, &principal, length)
                    .map_err(|refusal| Early(refusal.into()))?
            }
            None => Reservation::default(),
        };
        // The body, decompressed, within max_request_body_size (413 past it).
        let bytes = body::read(incoming, &parts.headers, encoding, self.limit)
            .await
            .map_err(Early)?;
        // Read: the pipelines admit it now, in full.
        drop(reading);
        // JSON becomes protobuf here, once; the pipelines see only protobuf.
        let payload = match format {
            Format::Protobuf => bytes,
            Format::Json => json::to_protobuf(signal, &bytes).map_err(Early)?,
        };
        // Validate, ingest and count (recorded by the exporter).
        let accepted = self
            .exporter
            .export(signal, payload, principal)
            .await
            .map_err(Counted)?;
        Ok((signal, accepted))
    }
}

/// A refusal, and whether the exporter already counted it.
enum Failure {
    Early(Rejection),
    Counted(Rejection),
}
use Failure::{Counted, Early};
