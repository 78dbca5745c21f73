//! The `prometheus` exporter: the metrics a pipeline delivers, served for
//! Prometheus to scrape, in the Go collector's config shape:
//!
//! ```yaml
//! exporters:
//!   prometheus:
//!     endpoint: 0.0.0.0:8889            # the host serves GET /metrics here
//!     namespace: app                    # prefix of every metric name
//!     const_labels: {cluster: eu-1}     # on every series (never overriding)
//!     send_timestamps: false            # host: print each sample's timestamp
//!     metric_expiration: 5m             # host: forget series not updated for this long
//!     resource_to_telemetry_conversion: {enabled: false}
//!     add_metric_suffixes: true         # unit and _total suffixes
//! ```
//!
//! The plugin turns each OTLP batch into series with the shared conversion
//! of `weir_plugin_sdk::prometheus` (the same names and labels as
//! `prometheusremotewrite`) and returns them as one remote-write
//! `WriteRequest` with family metadata (the `scrape` destination's body);
//! the host keeps the latest sample of each series and serves the text
//! exposition. As in the Go exporter, monotonic delta sums and delta
//! histograms are added up into running totals (kept in this instance: the
//! exporter runs one, so a total restarts only when the instance is
//! replaced or the config reloaded, which Prometheus reads as a counter
//! reset); non-monotonic delta sums and exponential histograms have no
//! form here: their points are counted
//! (`weir_plugin_counter_total{name="delta_points_dropped"}`,
//! `exponential_histogram_points_dropped`) and logged.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Mutex;

use prost::Message;
use serde::Deserialize;
use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals,
};
use weir_plugin_sdk::otlp;
use weir_plugin_sdk::prometheus::{
    Options, check_label_names, convert, remote_write, report_dropped,
};

/// `{enabled: bool}` blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The accepted configuration (the host reads `endpoint`,
/// `send_timestamps` and `metric_expiration`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub const_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub resource_to_telemetry_conversion: Enabled,
    #[serde(default = "yes")]
    pub add_metric_suffixes: bool,
    /// Read by the host; accepted here so the block checks as a whole.
    #[serde(default)]
    pub send_timestamps: Option<serde_json::Value>,
    /// Read by the host.
    #[serde(default)]
    pub metric_expiration: Option<serde_json::Value>,
}

impl Config {
    pub fn parse(config_json: &str) -> Result<Config, String> {
        let config: Config = weir_plugin_sdk::config::parse_exporter(config_json)?;
        check_label_names("const_labels", config.const_labels.keys())?;
        Ok(config)
    }

    /// How the shared conversion names and labels the series.
    pub fn options(&self) -> Options {
        Options {
            namespace: self.namespace.clone(),
            const_labels: self.const_labels.clone(),
            resource_to_telemetry: self.resource_to_telemetry_conversion.enabled,
            target_info: true,
            add_metric_suffixes: self.add_metric_suffixes,
            // The host needs each family's type and help for `# TYPE`/`# HELP`.
            metadata: true,
        }
    }
}

/// The scrape store's input for one metrics batch (`None`: nothing to
/// keep), and what could not be converted; delta points add to `totals`.
pub fn encode(
    config: &Config,
    payload: &[u8],
    totals: &mut convert::Accumulator,
) -> Result<(Option<Vec<u8>>, convert::Report), String> {
    let request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
    let (series, report) = convert::convert_with(&config.options(), &request, Some(totals));
    let metadata = series.metadata.values().cloned().collect();
    let timeseries = series.into_time_series();
    if timeseries.is_empty() {
        return Ok((None, report));
    }
    let write = remote_write::WriteRequest {
        timeseries,
        metadata,
    };
    Ok((Some(write.encode_to_vec()), report))
}

static CONFIG: Mutex<Option<Config>> = Mutex::new(None);
/// Running totals of delta series.
static TOTALS: Mutex<Option<convert::Accumulator>> = Mutex::new(None);

struct PrometheusExporter;

impl Guest for PrometheusExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ExporterInfo {
            signals: Signals::METRICS,
            destination: Destination::Scrape,
        })
    }

    fn encode(_ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        if batch.signal != Signal::Metrics {
            return Err(PluginError::Rejected(
                "prometheus exports metrics only".to_owned(),
            ));
        }
        let config = CONFIG.lock().unwrap_or_else(|e| e.into_inner());
        let config = config
            .as_ref()
            .ok_or_else(|| PluginError::Rejected("encode called before init".to_owned()))?;
        let mut totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
        let totals = totals.get_or_insert_with(Default::default);
        let (body, report) =
            encode(config, &batch.payload, totals).map_err(PluginError::Rejected)?;
        report_dropped(&report, |r| {
            format!(
                "not kept: {} non-monotonic delta points and {} exponential histogram points (use cumulative temporality) from {}",
                r.delta_points,
                r.exponential_histogram_points,
                r.dropped_metrics.join(", ")
            )
        });
        Ok(body
            .map(|body| Outgoing {
                path: String::new(),
                headers: Vec::new(),
                body,
            })
            .into_iter()
            .collect())
    }
}

weir_plugin_sdk::export_exporter!(PrometheusExporter);
