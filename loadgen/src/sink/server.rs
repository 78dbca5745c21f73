//! The sink's OTLP endpoint: OTLP/HTTP (protobuf, optionally gzip) and
//! OTLP/gRPC (optionally gzip) on one listener, HTTP/1.1 and HTTP/2, plain
//! or TLS. Every well-formed request is counted and answered as accepted.

use std::convert::Infallible;
use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use weir_wire::Signal;

use super::counts::Counts;
use crate::client::{Protocol, grpc_path, http_path};

type Body = BoxBody<Bytes, Infallible>;

/// Accepts connections on `listener` until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    only: Option<Protocol>,
    counts: Arc<Counts>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let counts = counts.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let counts = counts.clone();
                async move { Ok::<_, Infallible>(handle(request, only, &counts).await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let _ = match tls {
                None => builder.serve_connection(TokioIo::new(tcp), service).await,
                Some(acceptor) => match acceptor.accept(tcp).await {
                    Ok(stream) => {
                        builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                    Err(e) => {
                        eprintln!("sink: TLS handshake failed: {e}");
                        return;
                    }
                },
            };
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    only: Option<Protocol>,
    counts: &Counts,
) -> Response<Body> {
    let path = request.uri().path();
    let route = Signal::ALL.into_iter().find_map(|s| {
        if path == http_path(s) {
            Some((s, Protocol::Http))
        } else if path == grpc_path(s) {
            Some((s, Protocol::Grpc))
        } else {
            None
        }
    });
    let Some((signal, protocol)) = route.filter(|(_, p)| only.is_none_or(|o| o == *p)) else {
        return plain(StatusCode::NOT_FOUND, "not an OTLP path this sink serves");
    };
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("reading the body: {e}")),
    };
    match protocol {
        Protocol::Http => http(signal, &parts.headers, &body, counts),
        Protocol::Grpc => grpc(signal, &parts.headers, &body, counts),
    }
}

fn http(signal: Signal, headers: &HeaderMap, body: &[u8], counts: &Counts) -> Response<Body> {
    let content_type = header(headers, "content-type");
    if !content_type.starts_with("application/x-protobuf")
        && !content_type.starts_with("application/protobuf")
    {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this sink reads protobuf bodies only",
        );
    }
    let body = match header(headers, "content-encoding") {
        "" | "identity" => std::borrow::Cow::Borrowed(body),
        "gzip" => match gunzip(body) {
            Ok(b) => b.into(),
            Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("gzip: {e}")),
        },
        other => {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("unsupported Content-Encoding {other}"),
            );
        }
    };
    match counts.record(signal, &body) {
        Ok(_) => {
            let mut response = Response::new(Full::new(Bytes::new()).boxed());
            response.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/x-protobuf"),
            );
            response
        }
        Err(e) => plain(
            StatusCode::BAD_REQUEST,
            &format!("malformed {signal} request: {e}"),
        ),
    }
}

fn grpc(signal: Signal, headers: &HeaderMap, body: &[u8], counts: &Counts) -> Response<Body> {
    let message = match unframe(headers, body) {
        Ok(m) => m,
        Err(e) => return grpc_status(3, &e),
    };
    match counts.record(signal, &message) {
        // An empty Export*ServiceResponse, then status 0 in the trailers.
        Ok(_) => grpc_reply(Bytes::from_static(&[0, 0, 0, 0, 0]), 0, ""),
        Err(e) => grpc_status(3, &format!("malformed {signal} request: {e}")),
    }
}

/// The one message of a unary gRPC request, decompressed.
fn unframe(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, String> {
    let [flag, a, b, c, d, rest @ ..] = body else {
        return Err("request shorter than a gRPC frame header".to_owned());
    };
    let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
    if rest.len() != len {
        return Err(format!("frame says {len} bytes, {} follow", rest.len()));
    }
    match (flag, header(headers, "grpc-encoding")) {
        (0, _) => Ok(rest.to_vec()),
        (1, "gzip") => gunzip(rest).map_err(|e| format!("gzip: {e}")),
        (1, other) => Err(format!("unsupported grpc-encoding `{other}`")),
        (flag, _) => Err(format!("bad compressed flag {flag}")),
    }
}

fn gunzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() * 4);
    flate2::read::GzDecoder::new(body).read_to_end(&mut out)?;
    Ok(out)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn plain(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(message.to_owned())).boxed());
    *response.status_mut() = status;
    response
}

fn grpc_status(code: u32, message: &str) -> Response<Body> {
    grpc_reply(Bytes::new(), code, message)
}

fn grpc_reply(data: Bytes, code: u32, message: &str) -> Response<Body> {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from(code));
    if let Ok(v) =
        HeaderValue::from_str(&message.replace(|c: char| !c.is_ascii_graphic() && c != ' ', "?"))
    {
        trailers.insert("grpc-message", v);
    }
    let mut frames: Vec<Result<Frame<Bytes>, Infallible>> = Vec::with_capacity(2);
    if !data.is_empty() {
        frames.push(Ok(Frame::data(data)));
    }
    frames.push(Ok(Frame::trailers(trailers)));
    let body = StreamBody::new(futures_util::stream::iter(frames));
    let mut response = Response::new(BodyExt::boxed(body));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    response
}
