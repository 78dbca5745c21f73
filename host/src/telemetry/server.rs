//! The admin endpoint (`service.telemetry.metrics.address`, loopback by
//! default): the collector's own metrics at `GET /metrics` (Prometheus
//! text), and `POST /reload`, which reloads the configuration and answers
//! with how it went.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use super::metrics;
use crate::service::ReloadRequest;

/// Binds `address` and serves until `shutdown` turns true.
pub async fn start(
    address: &str,
    mut shutdown: watch::Receiver<bool>,
    reloads: Option<mpsc::Sender<ReloadRequest>>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(address).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!("telemetry listener: {e}");
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            let reloads = reloads.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| handle(request, reloads.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(local)
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(body.into()))
        .expect("static response parts are valid")
}

async fn handle(
    request: Request<hyper::body::Incoming>,
    reloads: Option<mpsc::Sender<ReloadRequest>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => Response::builder()
            .header(
                "content-type",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )
            .body(Full::new(Bytes::from(metrics().encode())))
            .expect("static response parts are valid"),
        (&Method::POST, "/reload") => reload(reloads).await,
        (_, "/metrics") => text(StatusCode::METHOD_NOT_ALLOWED, "use GET\n"),
        (_, "/reload") => text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; try GET /metrics or POST /reload\n",
        ),
    };
    Ok(response)
}

async fn reload(reloads: Option<mpsc::Sender<ReloadRequest>>) -> Response<Full<Bytes>> {
    let Some(reloads) = reloads else {
        return text(StatusCode::NOT_FOUND, "reload is not available here\n");
    };
    let (reply, answer) = oneshot::channel();
    let request = ReloadRequest {
        reason: "POST /reload".into(),
        reply: Some(reply),
    };
    if reloads.send(request).await.is_err() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    match answer.await {
        Ok(Ok(message)) => text(StatusCode::OK, format!("{message}\n")),
        Ok(Err(errors)) => text(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("reload refused; the running configuration stays:\n{errors}\n"),
        ),
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
    }
}
