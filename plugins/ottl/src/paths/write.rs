//! Writing the field a checked path names, and lending out the map that
//! map editors (`delete_key`, `limit`, ...) work on.

use super::{F, Field, ResolvedPath, read_only};
use crate::ast::Key;
use crate::context::{Context, DataPointMut, Item};
use crate::value::Value;
use weir_plugin_sdk::otlp::any_value::Value as V;
use weir_plugin_sdk::otlp::{AnyValue, KeyValue, KeyValueList};

/// The attribute list of `ctx`'s item, for editing (a missing resource or
/// scope is created; the driver removes it again if it stays empty).
pub fn attributes_mut<'b>(item: &'b mut Item<'_>, ctx: Context) -> Option<&'b mut Vec<KeyValue>> {
    match ctx {
        Context::Resource => Some(
            &mut item
                .resource
                .get_or_insert_with(Default::default)
                .attributes,
        ),
        Context::Scope => Some(&mut item.scope.get_or_insert_with(Default::default).attributes),
        Context::Span => item.span.as_deref_mut().map(|s| &mut s.attributes),
        Context::SpanEvent => item.event.as_deref_mut().map(|e| &mut e.attributes),
        Context::Metric => item.metric.as_deref_mut().map(|m| &mut m.metadata),
        Context::DataPoint => Some(match item.datapoint.as_mut()? {
            DataPointMut::Number(p) => &mut p.attributes,
            DataPointMut::Histogram(p) => &mut p.attributes,
            DataPointMut::ExponentialHistogram(p) => &mut p.attributes,
            DataPointMut::Summary(p) => &mut p.attributes,
        }),
        Context::Log => item.log.as_deref_mut().map(|l| &mut l.attributes),
    }
}

/// The slot `keys` name under a map, created when missing (string keys
/// only; a list index must exist).
fn slot_in_map<'b>(map: &'b mut Vec<KeyValue>, keys: &[Key]) -> Option<&'b mut Option<AnyValue>> {
    let (Key::Str(k), rest) = keys.split_first()? else {
        return None;
    };
    let i = match map.iter().position(|kv| kv.key == *k) {
        Some(i) => i,
        None => {
            map.push(KeyValue {
                key: k.clone(),
                value: None,
                ..Default::default()
            });
            map.len() - 1
        }
    };
    slot_in_any(&mut map[i].value, rest)
}

fn slot_in_any<'b>(
    slot: &'b mut Option<AnyValue>,
    keys: &[Key],
) -> Option<&'b mut Option<AnyValue>> {
    let Some(key) = keys.first() else {
        return Some(slot);
    };
    if slot.as_ref().is_none_or(|v| v.value.is_none()) && matches!(key, Key::Str(_)) {
        *slot = Some(AnyValue {
            value: Some(V::KvlistValue(KeyValueList::default())),
        });
    }
    match (key, slot.as_mut()?.value.as_mut()?) {
        (Key::Str(_), V::KvlistValue(kv)) => slot_in_map(&mut kv.values, keys),
        _ => None,
    }
}

/// Writes `value` into the field `path` names. Nil writes nothing, and a
/// value of the wrong type for a typed field is ignored (as in Go).
pub fn set(item: &mut Item<'_>, path: &ResolvedPath, value: Value) {
    if matches!(value, Value::Nil) || read_only(path.field) {
        return;
    }
    match path.field {
        F::Attributes => {
            let Some(attrs) = attributes_mut(item, path.context) else {
                return;
            };
            if path.keys.is_empty() {
                if let Value::Map(map) = value {
                    *attrs = map;
                }
                return;
            }
            set_list_aware(attrs, &path.keys, value);
        }
        F::Body => {
            let Some(log) = item.log.as_deref_mut() else {
                return;
            };
            if path.keys.is_empty() {
                log.body = value.into_any();
                return;
            }
            if let Some(slot) = slot_in_any(&mut log.body, &path.keys) {
                *slot = value.into_any();
            }
        }
        field => set_scalar(item, path.context, field, value),
    }
}

/// Sets under a map; an integer key into a list edits the list in place.
fn set_list_aware(map: &mut Vec<KeyValue>, keys: &[Key], value: Value) {
    if let Some(pos) = keys.iter().position(|k| matches!(k, Key::Int(_))) {
        // Walk to the list, then set the element.
        let Some(slot) = slot_in_map(map, &keys[..pos]) else {
            return;
        };
        let Some(AnyValue {
            value: Some(V::ArrayValue(list)),
        }) = slot.as_mut()
        else {
            return;
        };
        let Key::Int(i) = keys[pos] else { return };
        let Some(element) = usize::try_from(i).ok().and_then(|i| list.values.get_mut(i)) else {
            return;
        };
        let mut holder = Some(std::mem::take(element));
        if let Some(inner) = slot_in_any(&mut holder, &keys[pos + 1..]) {
            *inner = value.into_any();
        }
        *element = holder.unwrap_or_default();
        return;
    }
    if let Some(slot) = slot_in_map(map, keys) {
        *slot = value.into_any();
    }
}

fn set_scalar(item: &mut Item<'_>, ctx: Context, field: Field, value: Value) {
    let text = |v: &Value| match v {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    };
    let int = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        _ => None,
    };
    let bytes = |v: &Value, len: usize| match v {
        Value::Bytes(b) if b.len() == len => Some(b.clone()),
        _ => None,
    };
    let hex_bytes = |v: &Value, len: usize| match v {
        Value::Str(s) if s.len() == 2 * len => (0..len)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>(),
        _ => None,
    };
    macro_rules! put {
        ($target:expr, $conv:expr) => {
            if let Some(v) = $conv {
                $target = v;
            }
        };
    }
    match ctx {
        Context::Resource => {
            if field == F::DroppedAttributesCount {
                put!(
                    item.resource
                        .get_or_insert_with(Default::default)
                        .dropped_attributes_count,
                    int(&value).map(|i| i as u32)
                );
            }
        }
        Context::Scope => {
            let scope = item.scope.get_or_insert_with(Default::default);
            match field {
                F::Name => put!(scope.name, text(&value)),
                F::Version => put!(scope.version, text(&value)),
                F::DroppedAttributesCount => put!(
                    scope.dropped_attributes_count,
                    int(&value).map(|i| i as u32)
                ),
                _ => {}
            }
        }
        Context::Span => {
            let Some(span) = item.span.as_deref_mut() else {
                return;
            };
            match field {
                F::TraceId => put!(span.trace_id, bytes(&value, 16)),
                F::TraceIdString => put!(span.trace_id, hex_bytes(&value, 16)),
                F::SpanId => put!(span.span_id, bytes(&value, 8)),
                F::SpanIdString => put!(span.span_id, hex_bytes(&value, 8)),
                F::ParentSpanId => put!(span.parent_span_id, bytes(&value, 8)),
                F::ParentSpanIdString => put!(span.parent_span_id, hex_bytes(&value, 8)),
                F::TraceState => put!(span.trace_state, text(&value)),
                F::Name => put!(span.name, text(&value)),
                F::Kind => put!(span.kind, int(&value).map(|i| i as i32)),
                F::StartTime => put!(span.start_time_unix_nano, int(&value).map(|i| i as u64)),
                F::EndTime => put!(span.end_time_unix_nano, int(&value).map(|i| i as u64)),
                F::DroppedAttributesCount => {
                    put!(span.dropped_attributes_count, int(&value).map(|i| i as u32))
                }
                F::DroppedEventsCount => {
                    put!(span.dropped_events_count, int(&value).map(|i| i as u32))
                }
                F::DroppedLinksCount => {
                    put!(span.dropped_links_count, int(&value).map(|i| i as u32))
                }
                F::StatusCode => {
                    if let Some(code) = int(&value) {
                        span.status.get_or_insert_with(Default::default).code = code as i32;
                    }
                }
                F::StatusMessage => {
                    if let Some(message) = text(&value) {
                        span.status.get_or_insert_with(Default::default).message = message;
                    }
                }
                F::Flags => put!(span.flags, int(&value).map(|i| i as u32)),
                _ => {}
            }
        }
        Context::SpanEvent => {
            let Some(event) = item.event.as_deref_mut() else {
                return;
            };
            match field {
                F::Time => put!(event.time_unix_nano, int(&value).map(|i| i as u64)),
                F::Name => put!(event.name, text(&value)),
                F::DroppedAttributesCount => put!(
                    event.dropped_attributes_count,
                    int(&value).map(|i| i as u32)
                ),
                _ => {}
            }
        }
        Context::Metric => {
            let Some(metric) = item.metric.as_deref_mut() else {
                return;
            };
            match field {
                F::Name => put!(metric.name, text(&value)),
                F::Description => put!(metric.description, text(&value)),
                F::Unit => put!(metric.unit, text(&value)),
                _ => {}
            }
        }
        Context::DataPoint => {
            let Some(dp) = item.datapoint.as_mut() else {
                return;
            };
            set_datapoint(dp, field, &value);
        }
        Context::Log => {
            let Some(log) = item.log.as_deref_mut() else {
                return;
            };
            match field {
                F::Time => put!(log.time_unix_nano, int(&value).map(|i| i as u64)),
                F::ObservedTime => put!(log.observed_time_unix_nano, int(&value).map(|i| i as u64)),
                F::SeverityNumber => put!(log.severity_number, int(&value).map(|i| i as i32)),
                F::SeverityText => put!(log.severity_text, text(&value)),
                F::DroppedAttributesCount => {
                    put!(log.dropped_attributes_count, int(&value).map(|i| i as u32))
                }
                F::Flags => put!(log.flags, int(&value).map(|i| i as u32)),
                F::TraceId => put!(log.trace_id, bytes(&value, 16)),
                F::TraceIdString => put!(log.trace_id, hex_bytes(&value, 16)),
                F::SpanId => put!(log.span_id, bytes(&value, 8)),
                F::SpanIdString => put!(log.span_id, hex_bytes(&value, 8)),
                F::EventName => put!(log.event_name, text(&value)),
                _ => {}
            }
        }
    }
}

fn set_datapoint(dp: &mut DataPointMut<'_>, field: Field, value: &Value) {
    use weir_plugin_sdk::otlp::metrics::v1::number_data_point::Value as N;
    let int = match value {
        Value::Int(i) => Some(*i),
        _ => None,
    };
    let double = match value {
        Value::Double(d) => Some(*d),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    };
    let (start, time, flags) = match dp {
        DataPointMut::Number(p) => {
            match field {
                F::ValueDouble => {
                    if let Some(d) = double {
                        p.value = Some(N::AsDouble(d));
                    }
                }
                F::ValueInt => {
                    if let Some(i) = int {
                        p.value = Some(N::AsInt(i));
                    }
                }
                _ => {}
            }
            (
                &mut p.start_time_unix_nano,
                &mut p.time_unix_nano,
                &mut p.flags,
            )
        }
        DataPointMut::Histogram(p) => {
            match field {
                F::Count => p.count = int.map_or(p.count, |i| i as u64),
                F::Sum => p.sum = double.or(p.sum),
                _ => {}
            }
            (
                &mut p.start_time_unix_nano,
                &mut p.time_unix_nano,
                &mut p.flags,
            )
        }
        DataPointMut::ExponentialHistogram(p) => {
            match field {
                F::Count => p.count = int.map_or(p.count, |i| i as u64),
                F::Sum => p.sum = double.or(p.sum),
                _ => {}
            }
            (
                &mut p.start_time_unix_nano,
                &mut p.time_unix_nano,
                &mut p.flags,
            )
        }
        DataPointMut::Summary(p) => {
            match field {
                F::Count => p.count = int.map_or(p.count, |i| i as u64),
                F::Sum => p.sum = double.unwrap_or(p.sum),
                _ => {}
            }
            (
                &mut p.start_time_unix_nano,
                &mut p.time_unix_nano,
                &mut p.flags,
            )
        }
    };
    if let Some(i) = int {
        match field {
            F::StartTime => *start = i as u64,
            F::Time => *time = i as u64,
            F::Flags => *flags = i as u32,
            _ => {}
        }
    }
}

/// The map a map editor (`delete_key`, `limit`, ...) works on: an
/// attribute list, or a map value under keys. `None` when the path holds
/// no map (the editor then does nothing).
pub fn map_mut<'b>(item: &'b mut Item<'_>, path: &ResolvedPath) -> Option<&'b mut Vec<KeyValue>> {
    let slot = match path.field {
        F::Attributes => {
            let attrs = attributes_mut(item, path.context)?;
            if path.keys.is_empty() {
                return Some(attrs);
            }
            existing_slot_in_map(attrs, &path.keys)?
        }
        F::Body => existing_slot(&mut item.log.as_deref_mut()?.body, &path.keys)?,
        _ => return None,
    };
    match slot.as_mut()?.value.as_mut()? {
        V::KvlistValue(kv) => Some(&mut kv.values),
        _ => None,
    }
}

fn existing_slot_in_map<'b>(
    map: &'b mut [KeyValue],
    keys: &[Key],
) -> Option<&'b mut Option<AnyValue>> {
    let (Key::Str(k), rest) = keys.split_first()? else {
        return None;
    };
    let kv = map.iter_mut().find(|kv| kv.key == *k)?;
    existing_slot(&mut kv.value, rest)
}

fn existing_slot<'b>(
    slot: &'b mut Option<AnyValue>,
    keys: &[Key],
) -> Option<&'b mut Option<AnyValue>> {
    let Some(key) = keys.first() else {
        return Some(slot);
    };
    match (key, slot.as_mut()?.value.as_mut()?) {
        (Key::Str(_), V::KvlistValue(kv)) => existing_slot_in_map(&mut kv.values, keys),
        _ => None,
    }
}
