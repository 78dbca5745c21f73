//! Paths: which fields each context has, checking a parsed path against a
//! statement's context, and reading and writing the field it names.

use crate::ast::{Key, Path};
use crate::context::{Context, DataPointMut, Item};
use crate::error::{Error, Result};
use crate::value::{Value, hex};
use weir_plugin_sdk::otlp::any_value::Value as V;
use weir_plugin_sdk::otlp::{AnyValue, KeyValue, KeyValueList};

/// A field of one context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Attributes,
    DroppedAttributesCount,
    Name,
    Version,
    TraceId,
    TraceIdString,
    SpanId,
    SpanIdString,
    ParentSpanId,
    ParentSpanIdString,
    TraceState,
    Kind,
    StartTime,
    EndTime,
    Time,
    ObservedTime,
    DroppedEventsCount,
    DroppedLinksCount,
    StatusCode,
    StatusMessage,
    Flags,
    Description,
    Unit,
    Type,
    AggregationTemporality,
    IsMonotonic,
    ValueDouble,
    ValueInt,
    Count,
    Sum,
    SeverityNumber,
    SeverityText,
    Body,
    EventName,
}

use Field as F;

/// Field names per context, as written after the context prefix.
const FIELDS: &[(Context, &str, Field)] = &[
    (Context::Resource, "attributes", F::Attributes),
    (
        Context::Resource,
        "dropped_attributes_count",
        F::DroppedAttributesCount,
    ),
    (Context::Scope, "name", F::Name),
    (Context::Scope, "version", F::Version),
    (Context::Scope, "attributes", F::Attributes),
    (
        Context::Scope,
        "dropped_attributes_count",
        F::DroppedAttributesCount,
    ),
    (Context::Span, "trace_id", F::TraceId),
    (Context::Span, "trace_id.string", F::TraceIdString),
    (Context::Span, "span_id", F::SpanId),
    (Context::Span, "span_id.string", F::SpanIdString),
    (Context::Span, "parent_span_id", F::ParentSpanId),
    (
        Context::Span,
        "parent_span_id.string",
        F::ParentSpanIdString,
    ),
    (Context::Span, "trace_state", F::TraceState),
    (Context::Span, "name", F::Name),
    (Context::Span, "kind", F::Kind),
    (Context::Span, "start_time_unix_nano", F::StartTime),
    (Context::Span, "end_time_unix_nano", F::EndTime),
    (Context::Span, "attributes", F::Attributes),
    (
        Context::Span,
        "dropped_attributes_count",
        F::DroppedAttributesCount,
    ),
    (Context::Span, "dropped_events_count", F::DroppedEventsCount),
    (Context::Span, "dropped_links_count", F::DroppedLinksCount),
    (Context::Span, "status.code", F::StatusCode),
    (Context::Span, "status.message", F::StatusMessage),
    (Context::Span, "flags", F::Flags),
    (Context::SpanEvent, "time_unix_nano", F::Time),
    (Context::SpanEvent, "name", F::Name),
    (Context::SpanEvent, "attributes", F::Attributes),
    (
        Context::SpanEvent,
        "dropped_attributes_count",
        F::DroppedAttributesCount,
    ),
    (Context::Metric, "name", F::Name),
    (Context::Metric, "description", F::Description),
    (Context::Metric, "unit", F::Unit),
    (Context::Metric, "type", F::Type),
    (
        Context::Metric,
        "aggregation_temporality",
        F::AggregationTemporality,
    ),
    (Context::Metric, "is_monotonic", F::IsMonotonic),
    (Context::DataPoint, "attributes", F::Attributes),
    (Context::DataPoint, "start_time_unix_nano", F::StartTime),
    (Context::DataPoint, "time_unix_nano", F::Time),
    (Context::DataPoint, "value_double", F::ValueDouble),
    (Context::DataPoint, "value_int", F::ValueInt),
    (Context::DataPoint, "flags", F::Flags),
    (Context::DataPoint, "count", F::Count),
    (Context::DataPoint, "sum", F::Sum),
    (Context::Log, "time_unix_nano", F::Time),
    (Context::Log, "observed_time_unix_nano", F::ObservedTime),
    (Context::Log, "severity_number", F::SeverityNumber),
    (Context::Log, "severity_text", F::SeverityText),
    (Context::Log, "body", F::Body),
    (Context::Log, "attributes", F::Attributes),
    (
        Context::Log,
        "dropped_attributes_count",
        F::DroppedAttributesCount,
    ),
    (Context::Log, "flags", F::Flags),
    (Context::Log, "trace_id", F::TraceId),
    (Context::Log, "trace_id.string", F::TraceIdString),
    (Context::Log, "span_id", F::SpanId),
    (Context::Log, "span_id.string", F::SpanIdString),
    (Context::Log, "event_name", F::EventName),
];

/// Fields that cannot be written (they describe the metric's data shape).
fn read_only(field: Field) -> bool {
    matches!(field, F::Type | F::AggregationTemporality | F::IsMonotonic)
}

/// A path checked against a context.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedPath {
    pub context: Context,
    pub field: Field,
    pub keys: Vec<Key>,
    /// As written, for messages.
    pub text: String,
}

impl ResolvedPath {
    /// Whether the path names a whole map (`attributes`, or a key of one
    /// that may hold a map).
    pub fn may_be_map(&self) -> bool {
        matches!(self.field, F::Attributes | F::Body)
    }
}

/// The context a path names explicitly by its first segment, if any.
pub fn named_context(path: &Path) -> Option<Context> {
    if path.names.len() < 2 {
        return None;
    }
    Context::from_name(&path.names[0])
}

/// Checks `path` in a statement of context `ctx`. The first segment may
/// name the statement's context or one above it; without one, the path is
/// in the statement's context.
pub fn resolve(path: &Path, ctx: Context) -> Result<ResolvedPath> {
    let (context, rest) = match named_context(path) {
        Some(named) => (named, &path.names[1..]),
        None => (ctx, &path.names[..]),
    };
    if !ctx.sees(context) {
        return Err(Error::at(
            path.column,
            format!(
                "path `{path}` is in the {} context, which a {} statement cannot reach",
                context.name(),
                ctx.name()
            ),
        ));
    }
    let name = rest.join(".");
    let Some(&(_, _, field)) = FIELDS.iter().find(|(c, n, _)| *c == context && *n == name) else {
        let known: Vec<&str> = FIELDS
            .iter()
            .filter(|(c, _, _)| *c == context)
            .map(|(_, n, _)| *n)
            .collect();
        return Err(Error::at(
            path.column,
            format!(
                "unknown path `{path}`: the {} context has {}",
                context.name(),
                known.join(", ")
            ),
        ));
    };
    if !path.keys.is_empty() && !matches!(field, F::Attributes | F::Body) {
        return Err(Error::at(
            path.column,
            format!("path `{path}`: `{name}` is not a map or list and takes no keys"),
        ));
    }
    Ok(ResolvedPath {
        context,
        field,
        keys: path.keys.clone(),
        text: path.to_string(),
    })
}

/// Checks that a resolved path can be written.
pub fn check_writable(path: &ResolvedPath, column: usize) -> Result<()> {
    if read_only(path.field) {
        return Err(Error::at(
            column,
            format!("path `{}` cannot be written", path.text),
        ));
    }
    Ok(())
}

fn id_value(bytes: &[u8]) -> Value {
    Value::Bytes(bytes.to_vec())
}

/// Reads the field `path` names; absent things read as nil.
pub fn get(item: &Item<'_>, path: &ResolvedPath) -> Value {
    let base = match path.field {
        F::Attributes => match attributes(item, path.context) {
            Some(attrs) => return get_keyed_map(attrs, &path.keys),
            None => return Value::Nil,
        },
        F::Body => match item.log.as_ref().and_then(|l| l.body.as_ref()) {
            Some(body) => return get_keyed_any(body, &path.keys),
            None => return Value::Nil,
        },
        field => scalar(item, path.context, field),
    };
    base.unwrap_or(Value::Nil)
}

fn scalar(item: &Item<'_>, ctx: Context, field: Field) -> Option<Value> {
    let s = |v: &String| Value::Str(v.clone());
    let u = |v: u64| Value::Int(v as i64);
    Some(match ctx {
        Context::Resource => match field {
            F::DroppedAttributesCount => Value::Int(
                item.resource
                    .as_ref()
                    .map_or(0, |r| r.dropped_attributes_count) as i64,
            ),
            _ => return None,
        },
        Context::Scope => {
            let scope = item.scope.as_ref();
            match field {
                F::Name => Value::Str(scope.map(|s| s.name.clone()).unwrap_or_default()),
                F::Version => Value::Str(scope.map(|s| s.version.clone()).unwrap_or_default()),
                F::DroppedAttributesCount => {
                    Value::Int(scope.map_or(0, |s| s.dropped_attributes_count) as i64)
                }
                _ => return None,
            }
        }
        Context::Span => {
            let span = item.span.as_deref()?;
            match field {
                F::TraceId => id_value(&span.trace_id),
                F::TraceIdString => Value::Str(hex(&span.trace_id)),
                F::SpanId => id_value(&span.span_id),
                F::SpanIdString => Value::Str(hex(&span.span_id)),
                F::ParentSpanId => id_value(&span.parent_span_id),
                F::ParentSpanIdString => Value::Str(hex(&span.parent_span_id)),
                F::TraceState => s(&span.trace_state),
                F::Name => s(&span.name),
                F::Kind => Value::Int(span.kind as i64),
                F::StartTime => u(span.start_time_unix_nano),
                F::EndTime => u(span.end_time_unix_nano),
                F::DroppedAttributesCount => Value::Int(span.dropped_attributes_count as i64),
                F::DroppedEventsCount => Value::Int(span.dropped_events_count as i64),
                F::DroppedLinksCount => Value::Int(span.dropped_links_count as i64),
                F::StatusCode => Value::Int(span.status.as_ref().map_or(0, |s| s.code) as i64),
                F::StatusMessage => Value::Str(
                    span.status
                        .as_ref()
                        .map(|s| s.message.clone())
                        .unwrap_or_default(),
                ),
                F::Flags => Value::Int(span.flags as i64),
                _ => return None,
            }
        }
        Context::SpanEvent => {
            let event = item.event.as_deref()?;
            match field {
                F::Time => u(event.time_unix_nano),
                F::Name => s(&event.name),
                F::DroppedAttributesCount => Value::Int(event.dropped_attributes_count as i64),
                _ => return None,
            }
        }
        Context::Metric => {
            let metric = item.metric.as_deref()?;
            match field {
                F::Name => s(&metric.name),
                F::Description => s(&metric.description),
                F::Unit => s(&metric.unit),
                F::Type => Value::Int(item.shape.data_type),
                F::AggregationTemporality => Value::Int(item.shape.aggregation_temporality),
                F::IsMonotonic => Value::Bool(item.shape.is_monotonic),
                _ => return None,
            }
        }
        Context::DataPoint => datapoint_scalar(item.datapoint.as_ref()?, field)?,
        Context::Log => {
            let log = item.log.as_deref()?;
            match field {
                F::Time => u(log.time_unix_nano),
                F::ObservedTime => u(log.observed_time_unix_nano),
                F::SeverityNumber => Value::Int(log.severity_number as i64),
                F::SeverityText => s(&log.severity_text),
                F::DroppedAttributesCount => Value::Int(log.dropped_attributes_count as i64),
                F::Flags => Value::Int(log.flags as i64),
                F::TraceId => id_value(&log.trace_id),
                F::TraceIdString => Value::Str(hex(&log.trace_id)),
                F::SpanId => id_value(&log.span_id),
                F::SpanIdString => Value::Str(hex(&log.span_id)),
                F::EventName => s(&log.event_name),
                _ => return None,
            }
        }
    })
}

fn datapoint_scalar(dp: &DataPointMut<'_>, field: Field) -> Option<Value> {
    use weir_plugin_sdk::otlp::metrics::v1::number_data_point::Value as N;
    let u = |v: u64| Value::Int(v as i64);
    Some(match (dp, field) {
        (DataPointMut::Number(p), F::StartTime) => u(p.start_time_unix_nano),
        (DataPointMut::Number(p), F::Time) => u(p.time_unix_nano),
        (DataPointMut::Number(p), F::Flags) => Value::Int(p.flags as i64),
        (DataPointMut::Number(p), F::ValueDouble) => match p.value {
            Some(N::AsDouble(d)) => Value::Double(d),
            _ => Value::Double(0.0),
        },
        (DataPointMut::Number(p), F::ValueInt) => match p.value {
            Some(N::AsInt(i)) => Value::Int(i),
            _ => Value::Int(0),
        },
        (DataPointMut::Histogram(p), F::StartTime) => u(p.start_time_unix_nano),
        (DataPointMut::Histogram(p), F::Time) => u(p.time_unix_nano),
        (DataPointMut::Histogram(p), F::Flags) => Value::Int(p.flags as i64),
        (DataPointMut::Histogram(p), F::Count) => u(p.count),
        (DataPointMut::Histogram(p), F::Sum) => Value::Double(p.sum.unwrap_or(0.0)),
        (DataPointMut::ExponentialHistogram(p), F::StartTime) => u(p.start_time_unix_nano),
        (DataPointMut::ExponentialHistogram(p), F::Time) => u(p.time_unix_nano),
        (DataPointMut::ExponentialHistogram(p), F::Flags) => Value::Int(p.flags as i64),
        (DataPointMut::ExponentialHistogram(p), F::Count) => u(p.count),
        (DataPointMut::ExponentialHistogram(p), F::Sum) => Value::Double(p.sum.unwrap_or(0.0)),
        (DataPointMut::Summary(p), F::StartTime) => u(p.start_time_unix_nano),
        (DataPointMut::Summary(p), F::Time) => u(p.time_unix_nano),
        (DataPointMut::Summary(p), F::Flags) => Value::Int(p.flags as i64),
        (DataPointMut::Summary(p), F::Count) => u(p.count),
        (DataPointMut::Summary(p), F::Sum) => Value::Double(p.sum),
        _ => return None,
    })
}

fn attributes<'b>(item: &'b Item<'_>, ctx: Context) -> Option<&'b Vec<KeyValue>> {
    match ctx {
        Context::Resource => item.resource.as_ref().map(|r| &r.attributes),
        Context::Scope => item.scope.as_ref().map(|s| &s.attributes),
        Context::Span => item.span.as_deref().map(|s| &s.attributes),
        Context::SpanEvent => item.event.as_deref().map(|e| &e.attributes),
        Context::Metric => item.metric.as_deref().map(|m| &m.metadata),
        Context::DataPoint => Some(match item.datapoint.as_ref()? {
            DataPointMut::Number(p) => &p.attributes,
            DataPointMut::Histogram(p) => &p.attributes,
            DataPointMut::ExponentialHistogram(p) => &p.attributes,
            DataPointMut::Summary(p) => &p.attributes,
        }),
        Context::Log => item.log.as_deref().map(|l| &l.attributes),
    }
}

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

fn get_keyed_map(map: &[KeyValue], keys: &[Key]) -> Value {
    match keys.split_first() {
        None => Value::Map(map.to_vec()),
        Some((Key::Str(k), rest)) => match map
            .iter()
            .find(|kv| kv.key == *k)
            .and_then(|kv| kv.value.as_ref())
        {
            Some(v) => get_keyed_any(v, rest),
            None => Value::Nil,
        },
        Some((Key::Int(_), _)) => Value::Nil,
    }
}

fn get_keyed_any(value: &AnyValue, keys: &[Key]) -> Value {
    match (keys.split_first(), &value.value) {
        (None, _) => Value::from_any(value),
        (Some((Key::Str(_), _)), Some(V::KvlistValue(kv))) => get_keyed_map(&kv.values, keys),
        (Some((Key::Int(i), rest)), Some(V::ArrayValue(a))) => {
            match usize::try_from(*i).ok().and_then(|i| a.values.get(i)) {
                Some(v) => get_keyed_any(v, rest),
                None => Value::Nil,
            }
        }
        _ => Value::Nil,
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
