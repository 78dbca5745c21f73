//! The `loki` exporter: log records to Loki's push API
//! (`/loki/api/v1/push`). Records are grouped into streams by their labels
//! (see [`labels`]); each line is written as JSON or logfmt (see [`line`]);
//! the request is Loki's protobuf, snappy-compressed, or JSON ([`push`]).
//! The tenant goes in `X-Scope-OrgID`: `tenant_id` from config, else the
//! batch's tenant unless it is `default`.

pub mod config;
pub mod labels;
pub mod line;
pub mod push;
#[cfg(test)]
mod tests;

use std::sync::Mutex;

use weir_plugin_sdk::exporter::{
    Batch, Context, Destination, ExporterInfo, Guest, Outgoing, PluginError, Signal, Signals, host,
};
use weir_plugin_sdk::otlp;

pub use config::{Config, Encoding, LineFormat};
use push::{Entry, Streams};

pub const PUSH_PATH: &str = "/loki/api/v1/push";

static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

/// Groups the records of an `ExportLogsServiceRequest` into streams.
/// `now` stamps records that carry neither time nor observed time.
pub fn streams(config: &Config, payload: &[u8], now: u64) -> Result<Streams, String> {
    let request = otlp::decode_logs(payload).map_err(|e| e.0)?;
    let mut streams = Streams::new();
    for rl in &request.resource_logs {
        let resource = rl
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let (base, used_resource) = labels::resource_labels(&config.labels, resource);
        for sl in &rl.scope_logs {
            for record in &sl.log_records {
                let mut labels = base.clone();
                let used_attrs = labels::record_labels(
                    &config.labels,
                    resource,
                    &record.attributes,
                    &mut labels,
                );
                let line = line::render(
                    config.line_format,
                    &line::LineParts {
                        record,
                        resource,
                        scope: sl.scope.as_ref(),
                        used_attrs: &used_attrs,
                        used_resource: &used_resource,
                    },
                );
                let unix_nanos = [record.time_unix_nano, record.observed_time_unix_nano, now]
                    .into_iter()
                    .find(|t| *t != 0)
                    .unwrap_or(now);
                streams
                    .entry(labels)
                    .or_default()
                    .push(Entry { unix_nanos, line });
            }
        }
    }
    Ok(streams)
}

/// The push request for one batch (none when it holds no records).
pub fn encode(
    config: &Config,
    tenant: &str,
    payload: &[u8],
    now: u64,
) -> Result<Vec<Outgoing>, String> {
    let streams = streams(config, payload, now)?;
    if streams.is_empty() {
        return Ok(Vec::new());
    }
    let mut headers = Vec::new();
    let body = match config.encoding {
        Encoding::Protobuf => {
            headers.push((
                "content-type".to_owned(),
                "application/x-protobuf".to_owned(),
            ));
            // Loki reads protobuf bodies as snappy blocks; saying so keeps
            // the host from compressing them again.
            headers.push(("content-encoding".to_owned(), "snappy".to_owned()));
            push::protobuf(&streams)?
        }
        Encoding::Json => {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
            push::json(&streams)
        }
    };
    let tenant = config
        .tenant_id
        .clone()
        .or_else(|| (!tenant.is_empty() && tenant != "default").then(|| tenant.to_owned()));
    if let Some(tenant) = tenant {
        headers.push(("x-scope-orgid".to_owned(), tenant));
    }
    Ok(vec![Outgoing {
        path: PUSH_PATH.to_owned(),
        headers,
        body,
    }])
}

struct LokiExporter;

impl Guest for LokiExporter {
    fn init(config_json: String) -> Result<ExporterInfo, PluginError> {
        let config = Config::parse(&config_json).map_err(PluginError::InvalidConfig)?;
        *CONFIG.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        Ok(ExporterInfo {
            signals: Signals::LOGS,
            destination: Destination::Network,
        })
    }

    fn encode(ctx: Context, batch: Batch) -> Result<Vec<Outgoing>, PluginError> {
        if batch.signal != Signal::Logs {
            return Err(PluginError::Rejected("loki exports logs only".to_owned()));
        }
        let config = CONFIG
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| PluginError::Rejected("encode called before init".to_owned()))?;
        encode(&config, &ctx.tenant, &batch.payload, host::now_unix_nanos())
            .map_err(PluginError::Rejected)
    }
}

weir_plugin_sdk::export_exporter!(LokiExporter);
