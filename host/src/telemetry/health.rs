//! The `health_check` extension: `GET` on its path (and on `/healthz`)
//! answers 200 `{"status":"Server available",…}` once every pipeline and
//! receiver is running, and 503 `{"status":"Server not available"}` before
//! that and from the moment shutdown begins — so an orchestrator stops
//! sending before the receivers close.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::extensions::HealthCheckConfig;

/// Whether the collector is ready, shared by the service and the endpoint.
#[derive(Debug)]
pub struct Health {
    ready: AtomicBool,
    since: Instant,
    since_wall: SystemTime,
}

impl Health {
    pub fn new() -> Arc<Health> {
        Arc::new(Health {
            ready: AtomicBool::new(false),
            since: Instant::now(),
            since_wall: SystemTime::now(),
        })
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    fn answer(&self) -> (StatusCode, String) {
        if !self.ready.load(Ordering::SeqCst) {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"status":"Server not available"}"#.into(),
            );
        }
        let up_since = time::OffsetDateTime::from(self.since_wall)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let uptime = format!("{:?}", self.since.elapsed());
        (
            StatusCode::OK,
            serde_json::json!({"status": "Server available", "upSince": up_since, "uptime": uptime})
                .to_string(),
        )
    }
}

/// Binds the endpoint and serves until `shutdown` turns true.
pub async fn start(
    config: &HealthCheckConfig,
    health: Arc<Health>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(&config.endpoint).await?;
    let local = listener.local_addr()?;
    let path: Arc<str> = config.path.as_str().into();
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!("health_check listener: {e}");
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            let (health, path) = (health.clone(), path.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<_>| {
                    let found =
                        request.uri().path() == &*path || request.uri().path() == "/healthz";
                    let (status, body) = if found {
                        health.answer()
                    } else {
                        (StatusCode::NOT_FOUND, r#"{"status":"not found"}"#.into())
                    };
                    let response = Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body)))
                        .expect("static response parts are valid");
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(local)
}
