//! Paths: which fields each context has and checking a parsed path against
//! a statement's context; [`read`] and [`write`] get and set the field a
//! checked path names.

use crate::ast::{Key, Path};
use crate::context::Context;
use crate::error::{Error, Result};

mod read;
mod write;

pub use read::get;
pub use write::{attributes_mut, map_mut, set};

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

pub(crate) use Field as F;

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
pub(crate) fn read_only(field: Field) -> bool {
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
