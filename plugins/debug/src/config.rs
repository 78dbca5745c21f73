//! The debug exporter's configuration.

use serde_json::Value;

/// How much of each batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// One summary line per batch.
    #[default]
    Basic,
    /// One line per span, data point or log record.
    Normal,
    /// Everything, in the Go collector's multi-line layout.
    Detailed,
}

const IGNORED: [&str; 3] = [
    "sampling_initial",
    "sampling_thereafter",
    "use_internal_logger",
];

/// Parses the config block: `verbosity` plus the keys in `IGNORED`.
pub fn parse(config_json: &str) -> Result<Verbosity, String> {
    let value: Value =
        serde_json::from_str(config_json).map_err(|e| format!("config is not valid JSON: {e}"))?;
    let map = match value {
        Value::Null => return Ok(Verbosity::Basic),
        Value::Object(map) => map,
        _ => return Err("expected a map".to_owned()),
    };
    let mut verbosity = Verbosity::Basic;
    for (key, value) in &map {
        match key.as_str() {
            "verbosity" => {
                verbosity = match value.as_str() {
                    Some("basic") => Verbosity::Basic,
                    Some("normal") => Verbosity::Normal,
                    Some("detailed") => Verbosity::Detailed,
                    _ => {
                        return Err(format!(
                            "verbosity: expected basic, normal or detailed, got {value}"
                        ));
                    }
                }
            }
            key if IGNORED.contains(&key) => {}
            key => {
                return Err(format!(
                    "{key}: unknown key; expected verbosity, sampling_initial, \
                     sampling_thereafter or use_internal_logger"
                ));
            }
        }
    }
    Ok(verbosity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verbosity_and_ignores_sampling() {
        assert_eq!(parse("{}"), Ok(Verbosity::Basic));
        assert_eq!(
            parse(r#"{"verbosity": "detailed", "sampling_initial": 5}"#),
            Ok(Verbosity::Detailed)
        );
        assert_eq!(
            parse(r#"{"verbosity": "normal", "use_internal_logger": false}"#),
            Ok(Verbosity::Normal)
        );
        assert_eq!(
            parse(r#"{"verbosity": "loud"}"#).unwrap_err(),
            r#"verbosity: expected basic, normal or detailed, got "loud""#
        );
        assert!(
            parse(r#"{"colour": 1}"#)
                .unwrap_err()
                .starts_with("colour: unknown key")
        );
    }
}
