//! Held spans, kept as their protobuf bytes: a request is split on the
//! wire (no decode) into spans, each with the resource and scope it came
//! under (shared by the spans of one request). At decision time only the
//! fields policies read are decoded ([`SpanView`]); kept spans go out as
//! the bytes they came in.

use std::collections::HashMap;
use std::sync::Arc;

use weir_plugin_sdk::otlp::{KeyValue, Message, resource::v1::Resource, trace::v1::Status};
use weir_plugin_sdk::wire::{FieldReader, WireType, put_bytes_field};

/// A trace id as 16 bytes (shorter or longer ids are zero-padded or cut).
pub type TraceId = [u8; 16];

pub fn trace_id(bytes: &[u8]) -> TraceId {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    id
}

/// A `ResourceSpans` without its spans: its other fields as they came, and
/// the resource decoded (attribute policies read it).
#[derive(Debug, Default)]
pub struct ResourceCtx {
    pub head: Vec<u8>,
    pub resource: Option<Resource>,
}

/// A `ScopeSpans` without its spans: its other fields as they came.
#[derive(Debug, Default)]
pub struct ScopeCtx {
    pub head: Vec<u8>,
}

/// One held span: its bytes, and where it came from.
#[derive(Debug)]
pub struct StoredSpan {
    pub resource: Arc<ResourceCtx>,
    pub scope: Arc<ScopeCtx>,
    pub bytes: Vec<u8>,
}

/// The fields of a span that policies read (OTLP `Span` field numbers);
/// the rest is skipped when decoding.
#[derive(Clone, PartialEq, Message)]
pub struct SpanView {
    #[prost(string, tag = "3")]
    pub trace_state: String,
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

/// [`SpanView`] without the attributes, for policy sets that read none:
/// prost skips them (and everything else) without allocating.
#[derive(Clone, PartialEq, Message)]
struct SpanViewNoAttributes {
    #[prost(string, tag = "3")]
    trace_state: String,
    #[prost(fixed64, tag = "7")]
    start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    end_time_unix_nano: u64,
    #[prost(message, optional, tag = "15")]
    status: Option<Status>,
}

impl SpanView {
    /// Decodes what policies read; `attributes: false` leaves span
    /// attributes out. A span that does not decode is seen as empty (it is
    /// still kept or dropped with its trace).
    pub fn decode_for(bytes: &[u8], attributes: bool) -> SpanView {
        if attributes {
            return SpanView::decode(bytes).unwrap_or_default();
        }
        let v = SpanViewNoAttributes::decode(bytes).unwrap_or_default();
        SpanView {
            trace_state: v.trace_state,
            start_time_unix_nano: v.start_time_unix_nano,
            end_time_unix_nano: v.end_time_unix_nano,
            attributes: Vec::new(),
            status: v.status,
        }
    }
}

/// A span as policies see it.
#[derive(Debug)]
pub struct ViewedSpan {
    pub resource: Arc<ResourceCtx>,
    pub span: SpanView,
}

/// A trace being decided.
#[derive(Debug)]
pub struct Trace {
    pub id: TraceId,
    pub spans: Vec<ViewedSpan>,
}

impl Trace {
    /// Decodes what policies read of each held span (span attributes only
    /// when `attributes`).
    pub fn view(id: TraceId, spans: &[StoredSpan], attributes: bool) -> Trace {
        Trace {
            id,
            spans: spans
                .iter()
                .map(|s| ViewedSpan {
                    resource: s.resource.clone(),
                    span: SpanView::decode_for(&s.bytes, attributes),
                })
                .collect(),
        }
    }
}

/// Length-delimited fields of `message` numbered `number`: (field bytes
/// without tag and length, the whole field).
fn fields(message: &[u8]) -> impl Iterator<Item = Result<(u32, &[u8], &[u8]), String>> {
    FieldReader::new(message, 0).map(|f| {
        let f = f.map_err(|e| format!("malformed trace request: {e}"))?;
        let value = if f.wire_type == WireType::LengthDelimited {
            f.value
        } else {
            &[][..]
        };
        Ok((f.number, value, f.raw))
    })
}

/// Splits a request into its spans, keyed by trace id, on the wire.
pub fn explode(payload: &[u8]) -> Result<Vec<(TraceId, StoredSpan)>, String> {
    let mut out = Vec::new();
    for field in fields(payload) {
        let (number, resource_spans, _) = field?;
        if number != 1 {
            continue;
        }
        let mut resource = ResourceCtx::default();
        for field in fields(resource_spans) {
            let (number, value, raw) = field?;
            if number == 2 {
                continue;
            }
            resource.head.extend_from_slice(raw);
            if number == 1 {
                resource.resource =
                    Some(Resource::decode(value).map_err(|e| format!("malformed resource: {e}"))?);
            }
        }
        let resource = Arc::new(resource);
        for field in fields(resource_spans) {
            let (number, scope_spans, _) = field?;
            if number != 2 {
                continue;
            }
            let mut scope = ScopeCtx::default();
            for field in fields(scope_spans) {
                let (number, _, raw) = field?;
                if number != 2 {
                    scope.head.extend_from_slice(raw);
                }
            }
            let scope = Arc::new(scope);
            for field in fields(scope_spans) {
                let (number, span, _) = field?;
                if number != 2 {
                    continue;
                }
                let mut id = TraceId::default();
                for field in fields(span) {
                    let (number, value, _) = field?;
                    if number == 1 {
                        id = trace_id(value);
                    }
                }
                out.push((
                    id,
                    StoredSpan {
                        resource: resource.clone(),
                        scope: scope.clone(),
                        bytes: span.to_vec(),
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// Builds requests of at most `max_spans` spans from released spans,
/// grouping spans that shared a resource and scope when they arrived.
pub fn assemble(spans: Vec<StoredSpan>, max_spans: usize) -> Vec<Vec<u8>> {
    type Group = (Arc<ResourceCtx>, Vec<(Arc<ScopeCtx>, Vec<Vec<u8>>)>);
    let mut requests = Vec::new();
    let mut iter = spans.into_iter().peekable();
    while iter.peek().is_some() {
        let mut groups: Vec<Group> = Vec::new();
        let mut resources: HashMap<*const ResourceCtx, usize> = HashMap::new();
        let mut scopes: HashMap<(*const ResourceCtx, *const ScopeCtx), usize> = HashMap::new();
        for held in iter.by_ref().take(max_spans.max(1)) {
            let rkey = Arc::as_ptr(&held.resource);
            let ri = *resources.entry(rkey).or_insert_with(|| {
                groups.push((held.resource.clone(), Vec::new()));
                groups.len() - 1
            });
            let scope_groups = &mut groups[ri].1;
            let si = *scopes
                .entry((rkey, Arc::as_ptr(&held.scope)))
                .or_insert_with(|| {
                    scope_groups.push((held.scope.clone(), Vec::new()));
                    scope_groups.len() - 1
                });
            scope_groups[si].1.push(held.bytes);
        }
        let mut request = Vec::new();
        for (resource, scope_groups) in groups {
            let mut rs = resource.head.clone();
            for (scope, spans) in scope_groups {
                let mut ss = scope.head.clone();
                for span in spans {
                    put_bytes_field(&mut ss, 2, &span);
                }
                put_bytes_field(&mut rs, 2, &ss);
            }
            put_bytes_field(&mut request, 1, &rs);
        }
        requests.push(request);
    }
    requests
}
