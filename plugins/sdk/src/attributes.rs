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
