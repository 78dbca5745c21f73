//! The `loki` exporter's own keys (the host reads `endpoint`, `tls`, `auth`,
//! `headers`, `compression`, `timeout`, `retry_on_failure`, `sending_queue`):
//!
//! ```yaml
//! labels:
//!   static: {cluster: eu-1}                      # on every stream
//!   resource: {service.name: service_name}       # resource attribute -> label
//!   attributes: {http.method: method}            # log record attribute -> label
//! line_format: json        # json (default) or logfmt
//! encoding: protobuf       # protobuf + snappy (default) or json
//! tenant_id: acme          # X-Scope-OrgID; default: the batch's tenant unless `default`
//! ```
//!
//! Besides these, the hints `loki.resource.labels` (a resource attribute
//! listing resource attributes) and `loki.attribute.labels` (a record or
//! resource attribute listing record attributes) name more labels.

use std::collections::BTreeMap;

use serde::Deserialize;

/// How each log line is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineFormat {
    #[default]
    Json,
    Logfmt,
}

/// How the push request is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// `logproto.PushRequest`, snappy-compressed (what Promtail sends).
    #[default]
    Protobuf,
    /// `{"streams": [{"stream": {...}, "values": [["<ns>", "<line>"]]}]}`.
    Json,
}

/// Labels named in config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// Fixed labels on every stream.
    #[serde(default, rename = "static")]
    pub fixed: BTreeMap<String, String>,
    /// Resource attribute -> label name.
    #[serde(default)]
    pub resource: BTreeMap<String, String>,
    /// Log record attribute -> label name.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// The accepted configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub line_format: LineFormat,
    #[serde(default)]
    pub encoding: Encoding,
    pub tenant_id: Option<String>,
}

impl Config {
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let config: Config = weir_plugin_sdk::config::parse_exporter(config_json)?;
        for name in config
            .labels
            .fixed
            .keys()
            .chain(config.labels.resource.values())
            .chain(config.labels.attributes.values())
        {
            if crate::labels::sanitize(name) != *name {
                return Err(format!(
                    "labels: `{name}` is not a valid Loki label name ([a-zA-Z_][a-zA-Z0-9_]*)"
                ));
            }
        }
        Ok(config)
    }
}
