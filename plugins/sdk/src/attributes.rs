//! Helpers for attribute lists (`Vec<KeyValue>`) with the OpenTelemetry
//! Collector's action semantics: insert only if absent, update only if
//! present, upsert either way, delete.

use crate::otlp::{AnyValue, KeyValue, key_value};

/// The value of attribute `key`, if present.
pub fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

fn position(attrs: &[KeyValue], key: &str) -> Option<usize> {
    attrs.iter().position(|kv| kv.key == key)
}

/// Adds `key = value` unless `key` is already present. Returns whether it was added.
pub fn insert(attrs: &mut Vec<KeyValue>, key: &str, value: AnyValue) -> bool {
    if position(attrs, key).is_some() {
        return false;
    }
    attrs.push(key_value(key, value));
    true
}

/// Sets `key = value` only if `key` is present. Returns whether it was changed.
pub fn update(attrs: &mut [KeyValue], key: &str, value: AnyValue) -> bool {
    match position(attrs, key) {
        Some(i) => {
            attrs[i].value = Some(value);
            true
        }
        None => false,
    }
}

/// Sets `key = value`, adding it if absent.
pub fn upsert(attrs: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    if !update(attrs, key, value.clone()) {
        attrs.push(key_value(key, value));
    }
}

/// Removes every attribute named `key`. Returns whether any was removed.
pub fn delete(attrs: &mut Vec<KeyValue>, key: &str) -> bool {
    let before = attrs.len();
    attrs.retain(|kv| kv.key != key);
    attrs.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{int_value, string_value};

    #[test]
    fn actions_follow_collector_semantics() {
        let mut attrs = vec![key_value("a", string_value("1"))];
        assert!(!insert(&mut attrs, "a", string_value("x")));
        assert!(insert(&mut attrs, "b", int_value(2)));
        assert!(!update(&mut attrs, "c", string_value("x")));
        assert!(update(&mut attrs, "a", string_value("y")));
        upsert(&mut attrs, "c", string_value("z"));
        upsert(&mut attrs, "b", int_value(3));
        assert_eq!(get(&attrs, "a"), Some(&string_value("y")));
        assert_eq!(get(&attrs, "b"), Some(&int_value(3)));
        assert_eq!(get(&attrs, "c"), Some(&string_value("z")));
        assert!(delete(&mut attrs, "a"));
        assert!(!delete(&mut attrs, "a"));
        assert_eq!(attrs.len(), 2);
    }
}

/// The value as text, as Go's `Value.AsString()` writes it: strings as they
/// are, numbers and booleans in their usual form, bytes in base64, arrays
/// and maps as JSON.
pub fn as_text(value: Option<&AnyValue>) -> String {
    use crate::otlp::any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => base64(b),
        Some(Value::StringValueStrindex(i)) => format!("strindex:{i}"),
        Some(_) => as_json(value).to_string(),
    }
}

/// The value as JSON: maps as objects, arrays as arrays, bytes in base64,
/// an empty value as `null`.
pub fn as_json(value: Option<&AnyValue>) -> serde_json::Value {
    use crate::otlp::any_value::Value;
    use serde_json::Value as J;
    match value.and_then(|v| v.value.as_ref()) {
        None => J::Null,
        Some(Value::StringValue(s)) => J::from(s.as_str()),
        Some(Value::BoolValue(b)) => J::from(*b),
        Some(Value::IntValue(i)) => J::from(*i),
        Some(Value::DoubleValue(d)) => J::from(*d),
        Some(Value::BytesValue(b)) => J::from(base64(b)),
        Some(Value::StringValueStrindex(i)) => J::from(format!("strindex:{i}")),
        Some(Value::ArrayValue(a)) => J::Array(a.values.iter().map(|v| as_json(Some(v))).collect()),
        Some(Value::KvlistValue(kv)) => map_as_json(&kv.values),
    }
}

/// An attribute list as a JSON object.
pub fn map_as_json(attrs: &[KeyValue]) -> serde_json::Value {
    serde_json::Value::Object(
        attrs
            .iter()
            .map(|kv| (kv.key.clone(), as_json(kv.value.as_ref())))
            .collect(),
    )
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod text_tests {
    use super::*;
    use crate::otlp::{int_value, string_value};

    #[test]
    fn text_and_json_forms() {
        assert_eq!(as_text(Some(&string_value("a b"))), "a b");
        assert_eq!(as_text(Some(&int_value(-3))), "-3");
        assert_eq!(as_text(None), "");
        let bytes = AnyValue {
            value: Some(crate::otlp::any_value::Value::BytesValue(b"hi!".to_vec())),
        };
        assert_eq!(as_text(Some(&bytes)), "aGkh");
        let attrs = vec![key_value("k", int_value(1))];
        assert_eq!(map_as_json(&attrs).to_string(), r#"{"k":1}"#);
    }
}
