//! The file exporter's configuration, in the Go collector's shape:
//!
//! ```yaml
//! path: /var/log/otel.jsonl   # required; the host opens and appends to it
//! format: json                # json (default) or proto
//! append: true                # optional; only `true` (the host always appends)
//! flush_interval: 1s          # accepted and ignored: the host writes each batch as it comes
//! compression: ""             # only none; zstd is not supported yet
//! ```
//!
//! `rotation`, `group_by` and `encoding` are refused by name.

use serde_json::Value;

/// How each batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One line of OTLP/JSON per batch.
    #[default]
    Json,
    /// 4-byte big-endian length, then the protobuf request.
    Proto,
}

/// The accepted configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file the host writes to (checked here, used by the host).
    pub path: String,
    pub format: Format,
}

impl Config {
    /// Parses the config block.
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let value: Value = serde_json::from_str(config_json)
            .map_err(|e| format!("config is not valid JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("path: required (a non-empty string)".to_owned());
        };
        let mut format = Format::Json;
        for (key, value) in &map {
            match key.as_str() {
                "path" => {}
                "format" => {
                    format = match value.as_str() {
                        Some("json") => Format::Json,
                        Some("proto") => Format::Proto,
                        _ => return Err(format!("format: expected json or proto, got {value}")),
                    }
                }
                "flush_interval" => {}
                "append" => match value {
                    Value::Bool(true) | Value::Null => {}
                    _ => {
                        return Err(format!(
                            "append: `{value}` is not supported; the host always appends (use true or leave it out)"
                        ));
                    }
                },
                "compression" => match value.as_str() {
                    Some("" | "none") => {}
                    _ if value.is_null() => {}
                    _ => {
                        return Err(format!(
                            "compression: {value} is not supported yet; expected none"
                        ));
                    }
                },
                "rotation" | "group_by" | "encoding" => {
                    return Err(format!("{key}: not supported yet"));
                }
                _ => {
                    return Err(format!(
                        "{key}: unknown key; expected path, format, append, flush_interval or compression"
                    ));
                }
            }
        }
        let path = match map.get("path") {
            Some(Value::String(path)) if !path.is_empty() => path.clone(),
            _ => return Err("path: required (a non-empty string)".to_owned()),
        };
        Ok(Config { path, format })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_path_and_format() {
        let c = Config::parse(r#"{"path": "/tmp/x", "format": "proto", "flush_interval": "1s"}"#)
            .unwrap();
        assert_eq!(
            c,
            Config {
                path: "/tmp/x".into(),
                format: Format::Proto
            }
        );
        assert_eq!(
            Config::parse(r#"{"path": "x"}"#).unwrap().format,
            Format::Json
        );
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        let err = |json| Config::parse(json).unwrap_err();
        assert_eq!(err("{}"), "path: required (a non-empty string)");
        assert_eq!(
            err(r#"{"path": ""}"#),
            "path: required (a non-empty string)"
        );
        assert!(
            err(r#"{"path": "x", "format": "xml"}"#).starts_with("format: expected json or proto")
        );
        assert!(
            err(r#"{"path": "x", "compression": "zstd"}"#)
                .starts_with("compression: \"zstd\" is not supported yet")
        );
        assert!(
            err(r#"{"path": "x", "rotation": {"max_megabytes": 10}}"#)
                .starts_with("rotation: not supported yet")
        );
        assert!(
            err(r#"{"path": "x", "append": false}"#)
                .starts_with("append: `false` is not supported")
        );
        assert!(err(r#"{"path": "x", "colour": 1}"#).starts_with("colour: unknown key"));
    }
}
