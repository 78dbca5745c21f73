//! Where the actions apply in each signal, as in the Go collector: span
//! attributes, log record attributes, and the data point attributes of every
//! metric type. Resource and scope attributes are left alone.

use crate::config::Action;
use weir_plugin_sdk::actions::apply;
use weir_plugin_sdk::otlp::metrics::v1::metric::Data;
use weir_plugin_sdk::otlp::{
    ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest,
};
use weir_plugin_sdk::processor::Context;

/// Applies the actions to every span.
pub fn traces(actions: &[Action], ctx: &Context, request: &mut ExportTraceServiceRequest) {
    for rs in &mut request.resource_spans {
        for ss in &mut rs.scope_spans {
            for span in &mut ss.spans {
                apply(actions, ctx, &mut span.attributes);
            }
        }
    }
}

/// Applies the actions to every log record.
pub fn logs(actions: &[Action], ctx: &Context, request: &mut ExportLogsServiceRequest) {
    for rl in &mut request.resource_logs {
        for sl in &mut rl.scope_logs {
            for record in &mut sl.log_records {
                apply(actions, ctx, &mut record.attributes);
            }
        }
    }
}

/// Applies the actions to every data point of every metric.
pub fn metrics(actions: &[Action], ctx: &Context, request: &mut ExportMetricsServiceRequest) {
    for rm in &mut request.resource_metrics {
        for sm in &mut rm.scope_metrics {
            for metric in &mut sm.metrics {
                match &mut metric.data {
                    Some(Data::Gauge(g)) => g
                        .data_points
                        .iter_mut()
                        .for_each(|p| apply(actions, ctx, &mut p.attributes)),
                    Some(Data::Sum(s)) => s
                        .data_points
                        .iter_mut()
                        .for_each(|p| apply(actions, ctx, &mut p.attributes)),
                    Some(Data::Histogram(h)) => h
                        .data_points
                        .iter_mut()
                        .for_each(|p| apply(actions, ctx, &mut p.attributes)),
                    Some(Data::ExponentialHistogram(h)) => h
                        .data_points
                        .iter_mut()
                        .for_each(|p| apply(actions, ctx, &mut p.attributes)),
                    Some(Data::Summary(s)) => s
                        .data_points
                        .iter_mut()
                        .for_each(|p| apply(actions, ctx, &mut p.attributes)),
                    None => {}
                }
            }
        }
    }
}
