//! The `scrape` destination: what a `prometheus` exporter's plugin encodes
//! (series as a remote write `WriteRequest`) is kept in a [`ScrapeStore`]
//! and served at `GET /metrics` on the exporter's `endpoint`, for
//! Prometheus to scrape. One server per endpoint, shared by the old and new
//! pipelines across a reload, so the port stays bound and the series stay.

mod server;
mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

pub use store::{ScrapeStore, StoreError};

use super::TransportError;

/// The host's keys of a scrape exporter's block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeConfig {
    /// `endpoint`: where `/metrics` is served (`0.0.0.0:8889`).
    pub endpoint: String,
    /// `send_timestamps`: print each sample's timestamp (default false).
    pub send_timestamps: bool,
    /// `metric_expiration`: forget a series not updated for this long (default 5m).
    pub metric_expiration: Duration,
}

/// Keys of a network exporter that a scrape endpoint has no use for.
const NOT_FOR_SCRAPE: &[&str] = &[
    "tls",
    "headers",
    "auth",
    "compression",
    "timeout",
    "retry_on_failure",
    "sending_queue",
];

impl ScrapeConfig {
    /// Reads the host's keys; an error starts with the key path.
    pub fn from_block(block: &serde_json::Value) -> Result<Self, String> {
        let get = |key: &str| block.get(key).filter(|v| !v.is_null());
        if let Some(key) = NOT_FOR_SCRAPE.iter().find(|k| get(k).is_some()) {
            return Err(format!(
                "{key}: not supported by a scrape endpoint (Prometheus pulls from it)"
            ));
        }
        let endpoint = match get("endpoint") {
            Some(serde_json::Value::String(e)) if !e.is_empty() => e.clone(),
            Some(other) => return Err(format!("endpoint: expected host:port, found {other}")),
            None => return Err("endpoint: required (host:port to serve /metrics on)".into()),
        };
        if endpoint.contains("://") || !endpoint.contains(':') {
            return Err(format!(
                "endpoint: expected host:port such as 0.0.0.0:8889, found `{endpoint}`"
            ));
        }
        let send_timestamps = match get("send_timestamps") {
            None => false,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(other) => {
                return Err(format!(
                    "send_timestamps: expected true or false, found {other}"
                ));
            }
        };
        let metric_expiration = match get("metric_expiration") {
            None => Duration::from_secs(300),
            Some(serde_json::Value::String(text)) => crate::config::units::parse_duration(text)
                .map_err(|e| format!("metric_expiration: {e}"))?,
            Some(other) => {
                return Err(format!(
                    "metric_expiration: expected a duration such as `5m`, found {other}"
                ));
            }
        };
        if metric_expiration.is_zero() {
            return Err("metric_expiration: expected more than 0".into());
        }
        Ok(ScrapeConfig {
            endpoint,
            send_timestamps,
            metric_expiration,
        })
    }
}

/// How an endpoint serves (the latest config that named it wins).
#[derive(Debug, Clone, Copy)]
struct Serving {
    send_timestamps: bool,
    metric_expiration: Duration,
}

/// A bound scrape endpoint; its server stops when the last handle drops.
pub struct ScrapeEndpoint {
    address: SocketAddr,
    store: Arc<ScrapeStore>,
    serving: Arc<Mutex<Serving>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for ScrapeEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "scrape endpoint {}", self.address)
    }
}

impl ScrapeEndpoint {
    /// The endpoint for `config.endpoint`, shared with every exporter
    /// serving it (old and new pipelines during a reload); binds it the
    /// first time. Must run inside the tokio runtime.
    pub fn shared(config: &ScrapeConfig) -> Result<Arc<Self>, TransportError> {
        static OPEN: OnceLock<Mutex<HashMap<String, Weak<ScrapeEndpoint>>>> = OnceLock::new();
        let mut open = OPEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        open.retain(|_, e| e.strong_count() > 0);
        let serving = Serving {
            send_timestamps: config.send_timestamps,
            metric_expiration: config.metric_expiration,
        };
        if let Some(endpoint) = open.get(&config.endpoint).and_then(Weak::upgrade) {
            *endpoint.serving.lock().unwrap_or_else(|p| p.into_inner()) = serving;
            return Ok(endpoint);
        }
        let listener = std::net::TcpListener::bind(&config.endpoint)
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .and_then(tokio::net::TcpListener::from_std)
            .map_err(|source| TransportError::Bind {
                endpoint: config.endpoint.clone(),
                source,
            })?;
        let address = listener
            .local_addr()
            .map_err(|source| TransportError::Bind {
                endpoint: config.endpoint.clone(),
                source,
            })?;
        let store = Arc::new(ScrapeStore::default());
        let serving = Arc::new(Mutex::new(serving));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(server::serve(
            listener,
            store.clone(),
            serving.clone(),
            stopped,
        ));
        tracing::info!(transport = "prometheus", %address, "serving /metrics for scraping");
        let endpoint = Arc::new(ScrapeEndpoint {
            address,
            store,
            serving,
            _stop: stop,
        });
        open.insert(config.endpoint.clone(), Arc::downgrade(&endpoint));
        Ok(endpoint)
    }

    /// Keeps what an exporter encoded.
    pub fn keep(&self, bodies: &[Vec<u8>]) -> Result<(), TransportError> {
        let now = Instant::now();
        for body in bodies {
            self.store
                .apply(body, now)
                .map_err(|e| TransportError::Config(e.to_string()))?;
        }
        Ok(())
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_keys_follow_the_go_exporter() {
        let config = ScrapeConfig::from_block(&serde_json::json!({
            "endpoint": "0.0.0.0:8889", "namespace": "app", "const_labels": {"a": "b"}
        }))
        .unwrap();
        assert_eq!(
            config,
            ScrapeConfig {
                endpoint: "0.0.0.0:8889".into(),
                send_timestamps: false,
                metric_expiration: Duration::from_secs(300),
            }
        );
        let config = ScrapeConfig::from_block(&serde_json::json!({
            "endpoint": "127.0.0.1:0", "send_timestamps": true, "metric_expiration": "90s"
        }))
        .unwrap();
        assert!(config.send_timestamps);
        assert_eq!(config.metric_expiration, Duration::from_secs(90));
    }

    #[test]
    fn what_a_scrape_endpoint_cannot_use_is_refused() {
        let err = |block: serde_json::Value| ScrapeConfig::from_block(&block).unwrap_err();
        assert!(err(serde_json::json!({})).starts_with("endpoint: required"));
        assert!(
            err(serde_json::json!({"endpoint": "http://x:1"}))
                .starts_with("endpoint: expected host:port")
        );
        assert!(
            err(serde_json::json!({"endpoint": "x:1", "tls": {"insecure": true}}))
                .starts_with("tls: not supported")
        );
        assert!(
            err(serde_json::json!({"endpoint": "x:1", "metric_expiration": "soon"}))
                .starts_with("metric_expiration: ")
        );
        assert!(
            err(serde_json::json!({"endpoint": "x:1", "send_timestamps": "yes"}))
                .starts_with("send_timestamps: expected true or false")
        );
    }
}
