//! Held spans: each with the resource and scope it came under (shared by
//! the spans of one request), and turning released spans back into requests.

use std::collections::HashMap;
use std::sync::Arc;

use weir_plugin_sdk::otlp::{
    self, ExportTraceServiceRequest,
    common::v1::InstrumentationScope,
    resource::v1::Resource,
    trace::v1::{ResourceSpans, ScopeSpans, Span},
};

/// A trace id as 16 bytes (shorter or longer ids are zero-padded or cut).
pub type TraceId = [u8; 16];

pub fn trace_id(bytes: &[u8]) -> TraceId {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    id
}

/// The resource of a `ResourceSpans`, without its spans.
#[derive(Debug, Default)]
pub struct ResourceCtx {
    pub resource: Option<Resource>,
    pub schema_url: String,
}

/// The scope of a `ScopeSpans`, without its spans.
#[derive(Debug, Default)]
pub struct ScopeCtx {
    pub scope: Option<InstrumentationScope>,
    pub schema_url: String,
}

/// One span and where it came from.
#[derive(Debug)]
pub struct HeldSpan {
    pub resource: Arc<ResourceCtx>,
    pub scope: Arc<ScopeCtx>,
    pub span: Span,
}

/// The spans of one trace held while it waits for its decision.
#[derive(Debug)]
pub struct Trace {
    pub id: TraceId,
    pub spans: Vec<HeldSpan>,
    /// When its first span arrived (host clock, ns).
    pub first_arrival: u64,
}

/// Splits a request into its spans, each keyed by trace id.
pub fn explode(payload: &[u8]) -> Result<Vec<(TraceId, HeldSpan)>, String> {
    let request = otlp::decode_traces(payload).map_err(|e| e.0)?;
    let mut out = Vec::new();
    for rs in request.resource_spans {
        let resource = Arc::new(ResourceCtx {
            resource: rs.resource,
            schema_url: rs.schema_url,
        });
        for ss in rs.scope_spans {
            let scope = Arc::new(ScopeCtx {
                scope: ss.scope,
                schema_url: ss.schema_url,
            });
            for span in ss.spans {
                out.push((
                    trace_id(&span.trace_id),
                    HeldSpan {
                        resource: resource.clone(),
                        scope: scope.clone(),
                        span,
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// Builds requests of at most `max_spans` spans from released spans,
/// grouping spans that shared a resource and scope when they arrived.
pub fn assemble(spans: Vec<HeldSpan>, max_spans: usize) -> Vec<Vec<u8>> {
    let mut requests = Vec::new();
    let mut iter = spans.into_iter().peekable();
    while iter.peek().is_some() {
        let mut request = ExportTraceServiceRequest::default();
        let mut resources: HashMap<*const ResourceCtx, usize> = HashMap::new();
        let mut scopes: HashMap<(*const ResourceCtx, *const ScopeCtx), usize> = HashMap::new();
        for held in iter.by_ref().take(max_spans.max(1)) {
            let rkey = Arc::as_ptr(&held.resource);
            let ri = *resources.entry(rkey).or_insert_with(|| {
                request.resource_spans.push(ResourceSpans {
                    resource: held.resource.resource.clone(),
                    schema_url: held.resource.schema_url.clone(),
                    scope_spans: Vec::new(),
                });
                request.resource_spans.len() - 1
            });
            let rs = &mut request.resource_spans[ri];
            let si = *scopes
                .entry((rkey, Arc::as_ptr(&held.scope)))
                .or_insert_with(|| {
                    rs.scope_spans.push(ScopeSpans {
                        scope: held.scope.scope.clone(),
                        schema_url: held.scope.schema_url.clone(),
                        spans: Vec::new(),
                    });
                    rs.scope_spans.len() - 1
                });
            rs.scope_spans[si].spans.push(held.span);
        }
        requests.push(otlp::encode(&request));
    }
    requests
}
