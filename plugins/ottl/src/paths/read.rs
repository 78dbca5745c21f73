//! Reading the field a checked path names.

use super::{F, Field, ResolvedPath};
use crate::ast::Key;
use crate::context::{Context, DataPointMut, Item};
use crate::value::{Value, hex};
use weir_plugin_sdk::otlp::any_value::Value as V;
use weir_plugin_sdk::otlp::{AnyValue, KeyValue};

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
