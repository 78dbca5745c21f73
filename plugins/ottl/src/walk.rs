//! Visiting every item of a context in a decoded request: the callback
//! gets the item with everything above it and says whether to keep it.
//! Transform always keeps; filter drops what matches. A metric whose data
//! points were all dropped is dropped too; [`prune_traces`] and friends
//! then remove scopes and resources left empty.

use crate::context::{Context, DataPointMut, Item, MetricShape};
use weir_plugin_sdk::otlp::common::v1::InstrumentationScope;
use weir_plugin_sdk::otlp::metrics::v1::metric::Data;
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::otlp::{
    ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest,
};

/// Keeps the elements for which `f` says so; stops calling `f` after its
/// first error and returns it (the rest are kept).
fn retain_each<T, E>(
    v: &mut Vec<T>,
    mut f: impl FnMut(&mut T) -> Result<bool, E>,
) -> Result<(), E> {
    let mut error = None;
    v.retain_mut(|x| {
        if error.is_some() {
            return true;
        }
        match f(x) {
            Ok(keep) => keep,
            Err(e) => {
                error = Some(e);
                true
            }
        }
    });
    error.map_or(Ok(()), Err)
}

/// A resource or scope that was absent and is still empty goes back to absent
/// (a statement may have created it to read or write through).
fn restore_absent<T: Default + PartialEq>(slot: &mut Option<T>, was_absent: bool) {
    if was_absent && slot.as_ref().is_some_and(|v| *v == T::default()) {
        *slot = None;
    }
}

/// The callback every walk takes.
pub trait Visit<E>: FnMut(&mut Item<'_>) -> Result<bool, E> {}
impl<E, F: FnMut(&mut Item<'_>) -> Result<bool, E>> Visit<E> for F {}

fn with_levels<E>(
    resource: &mut Option<Resource>,
    scope: &mut Option<InstrumentationScope>,
    run: impl FnOnce(&mut Option<Resource>, &mut Option<InstrumentationScope>) -> Result<bool, E>,
) -> Result<bool, E> {
    let (resource_absent, scope_absent) = (resource.is_none(), scope.is_none());
    let result = run(resource, scope);
    restore_absent(resource, resource_absent);
    restore_absent(scope, scope_absent);
    result
}

/// Visits every item of `ctx` in a trace request.
pub fn traces<E>(
    request: &mut ExportTraceServiceRequest,
    ctx: Context,
    f: &mut impl Visit<E>,
) -> Result<(), E> {
    retain_each(&mut request.resource_spans, |rs| {
        let resource = &mut rs.resource;
        if ctx == Context::Resource {
            return with_levels(resource, &mut None, |r, s| f(&mut Item::new(r, s)));
        }
        retain_each(&mut rs.scope_spans, |ss| {
            with_levels(resource, &mut ss.scope, |resource, scope| {
                if ctx == Context::Scope {
                    return f(&mut Item::new(resource, scope));
                }
                retain_each(&mut ss.spans, |span| {
                    if ctx == Context::Span {
                        let mut item = Item::new(resource, scope);
                        item.span = Some(span);
                        return f(&mut item);
                    }
                    let mut events = std::mem::take(&mut span.events);
                    let result = retain_each(&mut events, |event| {
                        let mut item = Item::new(resource, scope);
                        item.span = Some(&mut *span);
                        item.event = Some(event);
                        f(&mut item)
                    });
                    span.events = events;
                    result.map(|()| true)
                })
                .map(|()| true)
            })
        })
        .map(|()| true)
    })
}

/// Visits every item of `ctx` in a metrics request.
pub fn metrics<E>(
    request: &mut ExportMetricsServiceRequest,
    ctx: Context,
    f: &mut impl Visit<E>,
) -> Result<(), E> {
    retain_each(&mut request.resource_metrics, |rm| {
        let resource = &mut rm.resource;
        if ctx == Context::Resource {
            return with_levels(resource, &mut None, |r, s| f(&mut Item::new(r, s)));
        }
        retain_each(&mut rm.scope_metrics, |sm| {
            with_levels(resource, &mut sm.scope, |resource, scope| {
                if ctx == Context::Scope {
                    return f(&mut Item::new(resource, scope));
                }
                retain_each(&mut sm.metrics, |metric| {
                    let shape = MetricShape::of(metric.data.as_ref());
                    if ctx == Context::Metric {
                        let mut item = Item::new(resource, scope);
                        item.metric = Some(metric);
                        item.shape = shape;
                        return f(&mut item);
                    }
                    let mut data = metric.data.take();
                    let mut visit = |dp: DataPointMut<'_>| {
                        let mut item = Item::new(resource, scope);
                        item.metric = Some(&mut *metric);
                        item.shape = shape;
                        item.datapoint = Some(dp);
                        f(&mut item)
                    };
                    let (before, result, after) = match &mut data {
                        None => (0, Ok(()), 0),
                        Some(Data::Gauge(g)) => {
                            let n = g.data_points.len();
                            let r =
                                retain_each(&mut g.data_points, |p| visit(DataPointMut::Number(p)));
                            (n, r, g.data_points.len())
                        }
                        Some(Data::Sum(s)) => {
                            let n = s.data_points.len();
                            let r =
                                retain_each(&mut s.data_points, |p| visit(DataPointMut::Number(p)));
                            (n, r, s.data_points.len())
                        }
                        Some(Data::Histogram(h)) => {
                            let n = h.data_points.len();
                            let r = retain_each(&mut h.data_points, |p| {
                                visit(DataPointMut::Histogram(p))
                            });
                            (n, r, h.data_points.len())
                        }
                        Some(Data::ExponentialHistogram(h)) => {
                            let n = h.data_points.len();
                            let r = retain_each(&mut h.data_points, |p| {
                                visit(DataPointMut::ExponentialHistogram(p))
                            });
                            (n, r, h.data_points.len())
                        }
                        Some(Data::Summary(s)) => {
                            let n = s.data_points.len();
                            let r = retain_each(&mut s.data_points, |p| {
                                visit(DataPointMut::Summary(p))
                            });
                            (n, r, s.data_points.len())
                        }
                    };
                    metric.data = data;
                    result?;
                    // A metric whose every data point was dropped goes too.
                    Ok(before == 0 || after > 0)
                })
                .map(|()| true)
            })
        })
        .map(|()| true)
    })
}

/// Visits every item of `ctx` in a logs request.
pub fn logs<E>(
    request: &mut ExportLogsServiceRequest,
    ctx: Context,
    f: &mut impl Visit<E>,
) -> Result<(), E> {
    retain_each(&mut request.resource_logs, |rl| {
        let resource = &mut rl.resource;
        if ctx == Context::Resource {
            return with_levels(resource, &mut None, |r, s| f(&mut Item::new(r, s)));
        }
        retain_each(&mut rl.scope_logs, |sl| {
            with_levels(resource, &mut sl.scope, |resource, scope| {
                if ctx == Context::Scope {
                    return f(&mut Item::new(resource, scope));
                }
                retain_each(&mut sl.log_records, |log| {
                    let mut item = Item::new(resource, scope);
                    item.log = Some(log);
                    f(&mut item)
                })
                .map(|()| true)
            })
        })
        .map(|()| true)
    })
}

/// Removes scopes without spans and resources without scopes.
pub fn prune_traces(request: &mut ExportTraceServiceRequest) {
    for rs in &mut request.resource_spans {
        rs.scope_spans.retain(|ss| !ss.spans.is_empty());
    }
    request
        .resource_spans
        .retain(|rs| !rs.scope_spans.is_empty());
}

/// Removes scopes without metrics and resources without scopes.
pub fn prune_metrics(request: &mut ExportMetricsServiceRequest) {
    for rm in &mut request.resource_metrics {
        rm.scope_metrics.retain(|sm| !sm.metrics.is_empty());
    }
    request
        .resource_metrics
        .retain(|rm| !rm.scope_metrics.is_empty());
}

/// Removes scopes without log records and resources without scopes.
pub fn prune_logs(request: &mut ExportLogsServiceRequest) {
    for rl in &mut request.resource_logs {
        rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
    }
    request.resource_logs.retain(|rl| !rl.scope_logs.is_empty());
}
