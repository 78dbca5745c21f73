//! `extensions:` as in the Go collector: components that serve the
//! collector rather than a pipeline, enabled by listing them in
//! `service.extensions`. Parsed in `load_tenancy`.

use std::path::PathBuf;

use serde::Deserialize;

use super::auth::{BasicAuthConfig, BearerTokenAuthConfig};

/// An extension's settings, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtensionConfig {
    /// `basicauth`: HTTP Basic credentials for receivers.
    BasicAuth(BasicAuthConfig),
    /// `bearertokenauth`: a static token for receivers.
    BearerTokenAuth(BearerTokenAuthConfig),
    /// `health_check`: `GET /healthz`-style readiness for orchestrators.
    HealthCheck(HealthCheckConfig),
    /// `file_storage`: a folder where components keep state across restarts
    /// (the `filelog` receiver's offsets).
    FileStorage(FileStorageConfig),
}

/// `extensions: health_check: {endpoint, path}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheckConfig {
    /// `host:port` to listen on. Default `127.0.0.1:13133` (the Go
    /// collector's port; it binds all interfaces, Weir loopback unless told).
    pub endpoint: String,
    /// The path answering the check. Default `/`, as in the Go collector;
    /// `/healthz` is also answered.
    pub path: String,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        HealthCheckConfig {
            endpoint: "127.0.0.1:13133".into(),
            path: "/".into(),
        }
    }
}

/// `extensions: file_storage: {directory, create_directory}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileStorageConfig {
    /// Where state files are kept.
    pub directory: PathBuf,
    /// Creates `directory` when it is missing. Default false, as in Go.
    #[serde(default)]
    pub create_directory: bool,
    /// When a persistent sending queue kept here forces its writes to disk
    /// (`always`, `batch`, `never`; Go's `true`/`false` mean always/never).
    #[serde(default)]
    pub fsync: Fsync,
}

/// When a put is forced to disk before it is acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fsync {
    /// Every put is its own durable commit.
    Always,
    /// Puts that arrive together share one durable commit (group commit);
    /// each is still on disk before it is acknowledged.
    #[default]
    Batch,
    /// Not forced: a durable commit follows within a second, so a crash
    /// (or power loss) can lose up to that much.
    Never,
}

impl<'de> Deserialize<'de> for Fsync {
    /// `always`, `batch`, `never`, or the Go `file_storage` extension's
    /// boolean (`true` = always, `false` = never).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(true) => Ok(Fsync::Always),
            Raw::Bool(false) => Ok(Fsync::Never),
            Raw::Text(t) => match t.as_str() {
                "always" => Ok(Fsync::Always),
                "batch" => Ok(Fsync::Batch),
                "never" => Ok(Fsync::Never),
                other => Err(serde::de::Error::custom(format!(
                    "expected always, batch or never, found `{other}`"
                ))),
            },
        }
    }
}
