//! Turning plugin configuration (the component's YAML block as JSON) into
//! OTLP values.

use crate::otlp::{AnyValue, ArrayValue, KeyValueList, any_value::Value, key_value};

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
