//! The `resource` processor: the OpenTelemetry Collector's resource
//! processor, the attribute actions (`insert`, `update`, `upsert`, `delete`
//! with `value`, `from_attribute` or `from_context`) applied to each
//! resource's attributes, for traces, metrics and logs:
//!
//! ```yaml
//! processors:
//!   resource:
//!     attributes:
//!       - {key: deployment.environment, value: prod, action: upsert}
//!       - {key: cloud.region, from_attribute: region, action: insert}
//!       - {key: internal.id, action: delete}
//! ```
//!
//! A request holds few resources, so decoding it costs little next to the
//! items under them; only the resource of each group is rewritten.

use std::sync::Mutex;

use serde_json::Value;
use weir_plugin_sdk::actions::{self, Action};
use weir_plugin_sdk::otlp;
use weir_plugin_sdk::otlp::resource::v1::Resource;
use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals,
};

/// Parses the component's config block (as JSON): the `attributes` list.
pub fn parse_config(config_json: &str) -> Result<Vec<Action>, String> {
    let root: Value =
        serde_json::from_str(config_json).map_err(|e| format!("config is not valid JSON: {e}"))?;
    let Value::Object(root) = root else {
        return Err("expected a map with an `attributes` list".to_owned());
    };
    if let Some(key) = root.keys().find(|k| *k != "attributes") {
        return Err(format!("{key}: unknown key; expected attributes"));
    }
    actions::parse_actions(root.get("attributes"), "attributes")
}

/// Applies `actions` to every resource in `payload` (a `signal` request).
pub fn process_payload(
    actions: &[Action],
    ctx: &Context,
    signal: Signal,
    payload: &[u8],
) -> Result<Vec<u8>, String> {
    let edit = |resource: &mut Option<Resource>| {
        let resource = resource.get_or_insert_with(Resource::default);
        actions::apply(actions, ctx, &mut resource.attributes);
    };
    Ok(match signal {
        Signal::Traces => {
            let mut request = otlp::decode_traces(payload).map_err(|e| e.0)?;
            request
                .resource_spans
                .iter_mut()
                .for_each(|r| edit(&mut r.resource));
            otlp::encode(&request)
        }
        Signal::Metrics => {
            let mut request = otlp::decode_metrics(payload).map_err(|e| e.0)?;
            request
                .resource_metrics
                .iter_mut()
                .for_each(|r| edit(&mut r.resource));
            otlp::encode(&request)
        }
        Signal::Logs => {
            let mut request = otlp::decode_logs(payload).map_err(|e| e.0)?;
            request
                .resource_logs
                .iter_mut()
                .for_each(|r| edit(&mut r.resource));
            otlp::encode(&request)
        }
    })
}

/// The actions `init` accepted; the host calls `init` once per instance.
static ACTIONS: Mutex<Vec<Action>> = Mutex::new(Vec::new());

struct ResourceProcessor;

impl Guest for ResourceProcessor {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        let parsed = parse_config(&config_json).map_err(PluginError::InvalidConfig)?;
        *ACTIONS.lock().unwrap_or_else(|e| e.into_inner()) = parsed;
        Ok(ProcessorInfo {
            signals: Signals::all(),
            stateful: false,
        })
    }

    fn process(ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let actions = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
        let payload = process_payload(&actions, &ctx, batch.signal, &batch.payload)
            .map_err(PluginError::Rejected)?;
        Ok(vec![Batch {
            signal: batch.signal,
            payload,
        }])
    }

    fn tick(_now_unix_nanos: u64) -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }

    fn flush() -> Result<Vec<Batch>, PluginError> {
        Ok(Vec::new())
    }
}

weir_plugin_sdk::export_processor!(ResourceProcessor);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_plugin_sdk::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use weir_plugin_sdk::otlp::{ExportLogsServiceRequest, key_value, string_value};

    fn ctx() -> Context {
        Context {
            tenant: "acme".into(),
            environment: "prod".into(),
            pipeline: "logs".into(),
            metadata: vec![],
        }
    }

    #[test]
    fn edits_resource_attributes_not_the_records() {
        let actions = parse_config(
            r#"{"attributes": [
                {"key": "deployment.environment", "from_context": "weir.environment", "action": "upsert"},
                {"key": "host", "action": "delete"},
                {"key": "region", "value": "eu", "action": "insert"}
            ]}"#,
        )
        .unwrap();
        let request = ExportLogsServiceRequest {
            resource_logs: vec![
                ResourceLogs {
                    resource: Some(Resource {
                        attributes: vec![key_value("host", string_value("h1"))],
                        ..Default::default()
                    }),
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![LogRecord {
                            attributes: vec![key_value("host", string_value("kept"))],
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                // No resource at all: one is made to hold the attributes.
                ResourceLogs::default(),
            ],
        };
        let out = process_payload(&actions, &ctx(), Signal::Logs, &otlp::encode(&request)).unwrap();
        let out = otlp::decode_logs(&out).unwrap();
        let want = vec![
            key_value("deployment.environment", string_value("prod")),
            key_value("region", string_value("eu")),
        ];
        for rl in &out.resource_logs {
            assert_eq!(rl.resource.as_ref().unwrap().attributes, want);
        }
        let record = &out.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(
            record.attributes,
            vec![key_value("host", string_value("kept"))]
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        assert_eq!(
            parse_config("{}").unwrap_err(),
            "attributes: at least one action is required"
        );
        assert_eq!(
            parse_config(r#"{"attributes": [{"key": "a", "action": "upsert"}]}"#).unwrap_err(),
            "attributes[0]: upsert needs exactly one of value, from_attribute or from_context"
        );
        assert!(
            parse_config(r#"{"actions": []}"#)
                .unwrap_err()
                .starts_with("actions: unknown key")
        );
    }

    #[test]
    fn undecodable_input_is_rejected() {
        let actions =
            parse_config(r#"{"attributes": [{"key": "a", "action": "delete"}]}"#).unwrap();
        assert!(process_payload(&actions, &ctx(), Signal::Traces, &[0xff, 0xff]).is_err());
    }
}
