//! The host-owned keys of a network exporter's YAML block: where to send,
//! how (TLS, headers, auth, compression, timeout), how to retry and how much
//! to queue. The exporter plugin sees the same block and ignores these keys
//! (`weir_plugin_sdk::config::NETWORK_KEYS`); the host reads only these.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Fsync;
use crate::config::units::{duration, opt_duration};

/// The keys of an exporter block that belong to the host when the exporter
/// sends to the network.
pub const NETWORK_KEYS: &[&str] = &[
    "endpoint",
    "tls",
    "headers",
    "auth",
    "compression",
    "timeout",
    "retry_on_failure",
    "sending_queue",
];

/// Everything the host needs to deliver a network exporter's requests.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkExporterConfig {
    /// `http(s)://host:port[/base/path]`; `host:port` means https (http with
    /// `tls.insecure: true`). Every request goes here, to no other host.
    pub endpoint: String,
    #[serde(default)]
    pub tls: ClientTlsConfig,
    /// Headers added to every request (they win over the plugin's).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// Body compression, applied unless the plugin already encoded the body
    /// (it set `Content-Encoding`, as the Loki and remote-write encoders do).
    #[serde(default)]
    pub compression: Compression,
    /// Per-attempt deadline (connect, send, response).
    #[serde(default = "default_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
    #[serde(default)]
    pub retry_on_failure: RetryConfig,
    #[serde(default)]
    pub sending_queue: QueueConfig,
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

/// Client TLS, in the Go collector's `configtls` shape.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientTlsConfig {
    /// CA bundle to trust instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key, for servers that ask for mTLS.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Plain text for an endpoint without a scheme (`host:port`).
    #[serde(default)]
    pub insecure: bool,
    /// Accept any server certificate. For tests only: it defeats TLS.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// The name to check the server's certificate against (and send as SNI)
    /// instead of the endpoint's host.
    pub server_name_override: Option<String>,
}

/// Credentials sent with every request.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum AuthConfig {
    /// `Authorization: Basic base64(username:password)`.
    Basic { username: String, password: String },
    /// `Authorization: Bearer <token>`, the token given inline or read from
    /// a file at every request (so a rotated token is picked up).
    Bearer {
        token: Option<String>,
        token_file: Option<PathBuf>,
    },
}

/// How request bodies are compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compression {
    #[default]
    Gzip,
    Zstd,
    Snappy,
    None,
}

impl<'de> Deserialize<'de> for Compression {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Option::<String>::deserialize(d)?.unwrap_or_default();
        match text.as_str() {
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            "snappy" => Ok(Compression::Snappy),
            "none" | "" => Ok(Compression::None),
            other => Err(serde::de::Error::custom(format!(
                "expected gzip, zstd, snappy or none, found `{other}`"
            ))),
        }
    }
}

impl Compression {
    /// The `Content-Encoding` (and `grpc-encoding`) name, if any.
    pub fn encoding(self) -> Option<&'static str> {
        match self {
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
            Compression::Snappy => Some("snappy"),
            Compression::None => None,
        }
    }
}

/// `retry_on_failure`: exponential backoff with jitter, as the Go
/// collector's `configretry` (same keys and defaults).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    pub enabled: bool,
    #[serde(deserialize_with = "duration")]
    pub initial_interval: Duration,
    #[serde(deserialize_with = "duration")]
    pub max_interval: Duration,
    /// Give up on a request after this long; `0` retries forever.
    #[serde(deserialize_with = "duration")]
    pub max_elapsed_time: Duration,
    pub multiplier: f64,
    /// Each wait is drawn from `interval × [1 - f, 1 + f]`.
    pub randomization_factor: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
            multiplier: 1.5,
            randomization_factor: 0.5,
        }
    }
}

/// What `sending_queue.queue_size` counts.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sizer {
    /// Batches waiting to be sent.
    #[default]
    Requests,
    /// Spans, data points or log records waiting.
    Items,
    /// Bytes of the waiting batches.
    Bytes,
}

/// `sending_queue`: a bounded in-memory queue in front of the sender.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// `false`: no queue of its own beyond one request per consumer.
    pub enabled: bool,
    /// Concurrent senders.
    pub num_consumers: usize,
    pub queue_size: usize,
    pub sizer: Sizer,
    /// When full: `false` refuses new data at the receivers (429 /
    /// `RESOURCE_EXHAUSTED` with a retry hint), `true` makes them wait.
    pub block_on_overflow: bool,
    /// The retry hint given to clients while the queue is full.
    #[serde(deserialize_with = "opt_duration")]
    pub retry_after: Option<Duration>,
    /// Keeps the queue on disk: `file_storage/<name>` (a `file_storage`
    /// extension's directory and fsync) or `{directory, fsync}`. A batch is
    /// stored before the client is told it was accepted, and replayed after
    /// a restart.
    pub storage: Option<StorageConfig>,
}

/// `sending_queue.storage`.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageConfig {
    /// The id of a `file_storage` extension listed in `service.extensions`.
    Extension(String),
    /// A directory of the queue's own.
    Directory { directory: PathBuf, fsync: Fsync },
}

impl<'de> Deserialize<'de> for StorageConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Dir {
            directory: PathBuf,
            #[serde(default)]
            fsync: Fsync,
        }
        let value = serde_json::Value::deserialize(d)?;
        match value {
            serde_json::Value::String(id) => Ok(StorageConfig::Extension(id)),
            serde_json::Value::Object(_) => {
                let dir: Dir = serde_json::from_value(value).map_err(serde::de::Error::custom)?;
                Ok(StorageConfig::Directory {
                    directory: dir.directory,
                    fsync: dir.fsync,
                })
            }
            _ => Err(serde::de::Error::custom(
                "expected `file_storage/<name>` or {directory, fsync}",
            )),
        }
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            num_consumers: 10,
            queue_size: 1000,
            sizer: Sizer::Requests,
            block_on_overflow: false,
            retry_after: None,
            storage: None,
        }
    }
}

impl NetworkExporterConfig {
    /// Reads the host's keys out of an exporter block; an error names the
    /// key path inside the block (`tls.ca_file: ...`).
    pub fn from_block(block: &serde_json::Value) -> Result<Self, String> {
        let mut ours = serde_json::Map::new();
        if let serde_json::Value::Object(map) = block {
            for key in NETWORK_KEYS {
                if let Some(v) = map.get(*key) {
                    ours.insert((*key).to_string(), v.clone());
                }
            }
        }
        if !ours.contains_key("endpoint") {
            return Err("endpoint: required (the URL to send to)".into());
        }
        let value = serde_json::Value::Object(ours);
        let config: NetworkExporterConfig =
            serde_path_to_error::deserialize(&value).map_err(|e| {
                let path = e.path().to_string();
                format!("{path}: {}", e.into_inner())
            })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(AuthConfig::Bearer { token, token_file }) = &self.auth
            && token.is_some() == token_file.is_some()
        {
            return Err("auth.bearer: expected exactly one of token or token_file".into());
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err("tls: cert_file and key_file go together".into());
        }
        let r = &self.retry_on_failure;
        if r.multiplier < 1.0 {
            return Err(format!(
                "retry_on_failure.multiplier: expected at least 1, found {}",
                r.multiplier
            ));
        }
        if !(0.0..=1.0).contains(&r.randomization_factor) {
            return Err(format!(
                "retry_on_failure.randomization_factor: expected 0 to 1, found {}",
                r.randomization_factor
            ));
        }
        let q = &self.sending_queue;
        if q.num_consumers == 0 {
            return Err("sending_queue.num_consumers: expected at least 1".into());
        }
        if q.enabled && q.queue_size == 0 {
            return Err("sending_queue.queue_size: expected at least 1".into());
        }
        if self.timeout.is_zero() {
            return Err("timeout: expected more than 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_only_the_host_keys_with_go_defaults() {
        let c = NetworkExporterConfig::from_block(&json!({
            "endpoint": "https://loki:3100",
            "labels": {"resource": {"service.name": "service"}},
            "auth": {"bearer": {"token_file": "/run/token"}},
            "compression": "zstd",
            "retry_on_failure": {"initial_interval": "100ms"},
            "sending_queue": {"queue_size": 5, "sizer": "bytes"},
        }))
        .unwrap();
        assert_eq!(c.endpoint, "https://loki:3100");
        assert_eq!(c.compression, Compression::Zstd);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(
            c.retry_on_failure.initial_interval,
            Duration::from_millis(100)
        );
        assert_eq!(c.retry_on_failure.max_interval, Duration::from_secs(30));
        assert_eq!(c.sending_queue.sizer, Sizer::Bytes);
        assert_eq!(c.sending_queue.num_consumers, 10);
        assert!(matches!(
            c.auth,
            Some(AuthConfig::Bearer { token: None, .. })
        ));
    }

    #[test]
    fn storage_names_an_extension_or_a_directory() {
        let queue = |v| {
            NetworkExporterConfig::from_block(
                &json!({"endpoint": "x", "sending_queue": {"storage": v}}),
            )
            .map(|c| c.sending_queue.storage)
        };
        assert_eq!(
            queue(json!("file_storage/q")).unwrap(),
            Some(StorageConfig::Extension("file_storage/q".into()))
        );
        assert_eq!(
            queue(json!({"directory": "/var/lib/weir", "fsync": "always"})).unwrap(),
            Some(StorageConfig::Directory {
                directory: "/var/lib/weir".into(),
                fsync: Fsync::Always
            })
        );
        let e = queue(json!({"directory": "/d", "fsync": "sometimes"})).unwrap_err();
        assert!(
            e.starts_with("sending_queue.storage") && e.contains("expected always, batch or never"),
            "{e}"
        );
        let e = queue(json!(3)).unwrap_err();
        assert!(
            e.contains("expected `file_storage/<name>` or {directory, fsync}"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_key_path() {
        let err = |v| NetworkExporterConfig::from_block(&v).unwrap_err();
        assert_eq!(err(json!({})), "endpoint: required (the URL to send to)");
        let e = err(json!({"endpoint": "x", "tls": {"ca": "a"}}));
        assert!(e.starts_with("tls.ca: unknown field `ca`"), "{e}");
        let e = err(json!({"endpoint": "x", "compression": "lz4"}));
        assert!(e.contains("expected gzip, zstd, snappy or none"), "{e}");
        let e = err(json!({"endpoint": "x", "retry_on_failure": {"max_interval": "soon"}}));
        assert!(e.starts_with("retry_on_failure.max_interval"), "{e}");
        let e = err(json!({"endpoint": "x", "auth": {"bearer": {}}}));
        assert!(e.contains("exactly one of token or token_file"), "{e}");
        let e = err(json!({"endpoint": "x", "sending_queue": {"num_consumers": 0}}));
        assert!(e.starts_with("sending_queue.num_consumers"), "{e}");
    }
}
