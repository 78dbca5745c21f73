//! The `prometheusremotewrite` exporter: metrics to Prometheus, Mimir,
//! Thanos or Cortex through remote write 1.0 (`WriteRequest` protobuf,
//! snappy-compressed). The host posts each request to `endpoint` (the full
//! URL, such as `http://prometheus:9090/api/v1/write`).
//!
//! Names and labels follow the OpenTelemetry → Prometheus translation
//! ([`naming`]); what can be sent is in [`convert`]. Points that remote
//! write 1.0 cannot carry (delta temporality, exponential histograms) are
//! counted (`weir_plugin_counter_total{name="delta_points_dropped"}` and
//! `exponential_histogram_points_dropped`) and logged, not sent.

pub mod config;
pub use weir_plugin_sdk::prometheus::{convert, naming, remote_write as proto};
#[cfg(test)]
mod tests;

use std::sync::Mutex;

use prost::Message;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals,
};
use weir_plugin_sdk::otlp;
use weir_plugin_sdk::prometheus::report_dropped;

pub use config::Config;
pub use convert::Report;
use proto::{TimeSeries, WriteRequest};

static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

/// The remote write requests for one metrics batch (split to stay under
/// `max_batch_size_bytes` before compression), and what was not sent.
pub fn encode(config: &Config, payload: &[u8]) -> Result<(Vec<Outgoing>, Report), String> {
    let request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
    let (series, report) = convert::convert(&config.options(), &request);
    let metadata: Vec<_> = series.metadata.values().cloned().collect();
    let all = series.into_time_series();
    let mut requests = Vec::new();
    let mut current: Vec<TimeSeries> = Vec::new();
    let mut size = 0;
    for ts in all {
        let len = ts.encoded_len() + 8;
        if !current.is_empty() && size + len > config.max_batch_size_bytes {
            requests.push(std::mem::take(&mut current));
            size = 0;
        }
        size += len;
        current.push(ts);
    }
    if !current.is_empty() {
        requests.push(current);
    }
    let mut out = Vec::with_capacity(requests.len());
    for (i, timeseries) in requests.into_iter().enumerate() {
        let write = WriteRequest {
            timeseries,
            // Metadata rides with the first request.
            metadata: if i == 0 { metadata.clone() } else { Vec::new() },
        };
        let body = snap::raw::Encoder::new()
            .compress_vec(&write.encode_to_vec())
            .map_err(|e| format!("snappy: {e}"))?;
        out.push(Outgoing {
            // The endpoint names the full URL (`/api/v1/write`).
            path: String::new(),
            headers: vec![
                (
                    "content-type".to_owned(),
                    "application/x-protobuf".to_owned(),
                ),
                ("content-encoding".to_owned(), "snappy".to_owned()),
                (
                    "x-prometheus-remote-write-version".to_owned(),
                    "0.1.0".to_owned(),
                ),
                (
                    "user-agent".to_owned(),
                    "weir-prometheusremotewrite".to_owned(),
                ),
            ],
            body,
        });
    }
    Ok((out, report))
}

struct RemoteWriteExporter;

impl Guest for RemoteWriteExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ExporterInfo {
            signals: Signals::METRICS,
            destination: Destination::Network,
        })
    }

    fn encode(_ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        if batch.signal != Signal::Metrics {
            return Err(PluginError::Rejected(
                "prometheusremotewrite exports metrics only".to_owned(),
            ));
        }
        let config = CONFIG.lock().unwrap_or_else(|e| e.into_inner());
        let config = config
            .as_ref()
            .ok_or_else(|| PluginError::Rejected("encode called before init".to_owned()))?;
        let (out, report) = encode(config, &batch.payload).map_err(PluginError::Rejected)?;
        report_dropped(&report, |r| {
            format!(
                "not sent: {} delta points and {} exponential histogram points (remote write 1.0 has no form for them; use cumulative temporality) from {}",
                r.delta_points,
                r.exponential_histogram_points,
                r.dropped_metrics.join(", ")
            )
        });
        Ok(out)
    }
}

weir_plugin_sdk::export_exporter!(RemoteWriteExporter);
