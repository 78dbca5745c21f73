//! OpenTelemetry metrics → Prometheus series, shared by the exporters that
//! speak Prometheus (`prometheusremotewrite` pushes them, `prometheus`
//! hands them to the host's scrape endpoint): names and labels as the Go
//! collector's translator writes them ([`naming`]), the conversion
//! ([`convert`]) and the remote write 1.0 messages that carry the series
//! ([`remote_write`]).

pub mod convert;
pub mod naming;
pub mod remote_write;

use std::collections::BTreeMap;

/// How series are named and labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Prefix of every metric name (`namespace_`), or empty.
    pub namespace: String,
    /// Labels on every series; they never override a series' own.
    pub const_labels: BTreeMap<String, String>,
    /// Every resource attribute as a label too.
    pub resource_to_telemetry: bool,
    /// One `target_info` series per resource with its other attributes.
    pub target_info: bool,
    /// Unit and `_total` suffixes on names.
    pub add_metric_suffixes: bool,
    /// Family metadata (type, help, unit) in the result.
    pub metadata: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: String::new(),
            const_labels: BTreeMap::new(),
            resource_to_telemetry: false,
            target_info: true,
            add_metric_suffixes: true,
            metadata: false,
        }
    }
}

/// Checks that every name is a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`,
/// not starting with `__`); the error names the first that is not.
pub fn check_label_names<'a>(
    key: &str,
    names: impl IntoIterator<Item = &'a String>,
) -> Result<(), String> {
    for name in names {
        if naming::label_name(name) != *name || name.starts_with("__") {
            return Err(format!(
                "{key}: `{name}` is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
            ));
        }
    }
    Ok(())
}

/// Counts the points of a batch that have no Prometheus form
/// (`weir_plugin_counter_total{name="delta_points_dropped"}`,
/// `exponential_histogram_points_dropped`) and, when there were any, logs
/// once the line `explain` makes of the report.
pub fn report_dropped(report: &convert::Report, explain: impl FnOnce(&convert::Report) -> String) {
    use crate::exporter::host;
    if report.delta_points > 0 {
        host::counter_add("delta_points_dropped", report.delta_points);
    }
    if report.exponential_histogram_points > 0 {
        host::counter_add(
            "exponential_histogram_points_dropped",
            report.exponential_histogram_points,
        );
    }
    if report.delta_points + report.exponential_histogram_points > 0 {
        host::log(host::Level::Warn, &explain(report));
    }
}
