//! Plugin configuration (the component's YAML block as JSON): the keys the
//! host keeps for itself, and turning config values into OTLP values.

use crate::otlp::{AnyValue, ArrayValue, KeyValueList, any_value::Value, key_value};

/// The keys of a network exporter's block that the host reads (endpoint,
/// TLS, headers, auth, compression, timeout, retries, queue). An exporter
/// plugin sees the whole block and must ignore these.
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

/// The block as a JSON object without the host's [`NETWORK_KEYS`], ready
/// for a `deny_unknown_fields` struct; an error when it is not an object.
pub fn exporter_keys(config_json: &str) -> Result<serde_json::Value, String> {
    let value: serde_json::Value =
        serde_json::from_str(config_json).map_err(|e| format!("config is not valid JSON: {e}"))?;
    match value {
        serde_json::Value::Object(mut map) => {
            map.retain(|k, _| !NETWORK_KEYS.contains(&k.as_str()));
            Ok(serde_json::Value::Object(map))
        }
        serde_json::Value::Null => Ok(serde_json::json!({})),
        other => Err(format!("expected a mapping of settings, found {other}")),
    }
}

/// A network exporter's own keys as `T` (host keys stripped); an error
/// names the key path: `labels.static: invalid type: ...`.
pub fn parse_exporter<T: serde::de::DeserializeOwned>(config_json: &str) -> Result<T, String> {
    let value = exporter_keys(config_json)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// Converts a JSON config value to an [`AnyValue`]: strings, booleans,
/// integers (as `int`), other numbers (as `double`), arrays (as `array`) and
/// objects (as `kvlist`, keys in sorted order). `null` becomes an empty
/// `AnyValue`.
pub fn json_to_any_value(value: &serde_json::Value) -> AnyValue {
    use serde_json::Value as J;
    let value = match value {
        J::Null => None,
        J::Bool(b) => Some(Value::BoolValue(*b)),
        J::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::IntValue(i),
            None => Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        J::String(s) => Some(Value::StringValue(s.clone())),
        J::Array(items) => Some(Value::ArrayValue(ArrayValue {
            values: items.iter().map(json_to_any_value).collect(),
        })),
        J::Object(map) => Some(Value::KvlistValue(KeyValueList {
            values: map
                .iter()
                .map(|(k, v)| key_value(k.clone(), json_to_any_value(v)))
                .collect(),
        })),
    };
    AnyValue { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_scalars_lists_and_maps() {
        let v = json_to_any_value(&json!({"s": "x", "i": 3, "f": 1.5, "b": true, "l": [1, "a"]}));
        let Some(Value::KvlistValue(kv)) = v.value else {
            panic!("not a kvlist")
        };
        let get = |key: &str| {
            kv.values
                .iter()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.clone())
                .and_then(|v| v.value)
        };
        assert_eq!(get("s"), Some(Value::StringValue("x".into())));
        assert_eq!(get("i"), Some(Value::IntValue(3)));
        assert_eq!(get("f"), Some(Value::DoubleValue(1.5)));
        assert_eq!(get("b"), Some(Value::BoolValue(true)));
        assert!(matches!(get("l"), Some(Value::ArrayValue(a)) if a.values.len() == 2));
        assert_eq!(json_to_any_value(&json!(null)), AnyValue { value: None });
    }
}
