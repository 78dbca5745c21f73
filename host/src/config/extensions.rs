//! `extensions:` as in the Go collector: components that serve the
//! collector rather than a pipeline, enabled by listing them in
//! `service.extensions`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;

use super::error::Errors;
use super::model::ComponentId;
use super::tree::{Node, Value};

/// An extension's settings, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtensionConfig {
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
}

/// Parses the `extensions:` section.
pub fn extensions(
    section: Option<&Node>,
    errors: &mut Errors,
) -> BTreeMap<ComponentId, ExtensionConfig> {
    super::load::components(
        section,
        "extensions",
        errors,
        |id, node, path, errors| match id.kind.as_str() {
            "health_check" => super::load::typed::<HealthCheckConfig>(node, &path, errors)
                .map(ExtensionConfig::HealthCheck),
            "file_storage" => super::load::typed::<FileStorageConfig>(node, &path, errors)
                .map(ExtensionConfig::FileStorage),
            other => {
                errors.add(
                    path,
                    format!(
                        "unknown extension type `{other}`; expected health_check or file_storage"
                    ),
                );
                None
            }
        },
    )
}

/// Parses `service.extensions`: ids of declared extensions, each once.
pub fn enabled(
    node: &Node,
    declared: &BTreeSet<ComponentId>,
    errors: &mut Errors,
) -> Vec<ComponentId> {
    let Value::Seq(items) = &node.value else {
        errors.add("service.extensions", "expected a list of extension ids");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("service.extensions[{i}]");
        let Value::String(text) = &item.value else {
            errors.add(path, "expected an extension id");
            continue;
        };
        match ComponentId::parse(text) {
            Ok(id) if !declared.contains(&id) => errors.add(
                path,
                format!("extension `{text}` is not declared under `extensions:`"),
            ),
            Ok(id) if out.contains(&id) => errors.add(path, format!("`{text}` is listed twice")),
            Ok(id) => out.push(id),
            Err(message) => errors.add(path, message),
        }
    }
    out
}
