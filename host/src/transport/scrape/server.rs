//! The HTTP side of a scrape endpoint: `GET /metrics` answers with the
//! text exposition of what its store holds; series past their expiration
//! are dropped before each answer and on a timer.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{ScrapeStore, Serving};

/// The content type of the text exposition format 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves until `stop` fires or its sender drops.
pub(super) async fn serve(
    listener: TcpListener,
    store: Arc<ScrapeStore>,
    serving: Arc<Mutex<Serving>>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut sweep = tokio::time::interval(Duration::from_secs(30));
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("scrape listener: {e}");
                    continue;
                }
            },
            _ = sweep.tick() => {
                let expiration = serving.lock().unwrap_or_else(|p| p.into_inner()).metric_expiration;
                store.expire(expiration, Instant::now());
                continue;
            }
            _ = &mut stop => return,
        };
        let (store, serving) = (store.clone(), serving.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let answer = answer(&request, &store, &serving);
                async move { Ok::<_, Infallible>(answer) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(
    request: &Request<hyper::body::Incoming>,
    store: &ScrapeStore,
    serving: &Mutex<Serving>,
) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            let serving = *serving.lock().unwrap_or_else(|p| p.into_inner());
            store.expire(serving.metric_expiration, Instant::now());
            (
                StatusCode::OK,
                TEXT_FORMAT,
                store.render(serving.send_timestamps),
            )
        }
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "use GET\n".to_string(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found; try GET /metrics\n".to_string(),
        ),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static response parts are valid")
}
