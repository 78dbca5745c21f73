//! **A test plugin.** `stamp` upserts the span attribute `weir.stamp` with
//! the build it comes from: `a`, or `b` when built with the `variant-b`
//! feature. The reload tests swap one build for the other on disk and check
//! that the output follows. Config: `{}`.

use weir_plugin_sdk::processor::{
    Batch, Context, Guest, PluginError, ProcessorInfo, Signal, Signals,
};
use weir_plugin_sdk::{attributes, otlp};

/// The build this is.
pub const STAMP: &str = if cfg!(feature = "variant-b") {
    "b"
} else {
    "a"
};

/// Stamps every span of a traces request.
pub fn stamp(payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut request = otlp::decode_traces(payload).map_err(|e| e.0)?;
    for span in request
        .resource_spans
        .iter_mut()
        .flat_map(|rs| &mut rs.scope_spans)
        .flat_map(|ss| &mut ss.spans)
    {
        attributes::upsert(
            &mut span.attributes,
            "weir.stamp",
            otlp::string_value(STAMP),
        );
    }
    Ok(otlp::encode(&request))
}

struct Stamp;

impl Guest for Stamp {
    fn init(config_json: String) -> Result<ProcessorInfo, PluginError> {
        match config_json.trim() {
            "{}" | "null" | "" => Ok(ProcessorInfo {
                signals: Signals::TRACES,
                stateful: false,
            }),
            other => Err(PluginError::InvalidConfig(format!(
                "stamp takes no settings, got {other}"
            ))),
        }
    }

    fn process(_ctx: Context, batch: Batch) -> Result<Vec<Batch>, PluginError> {
        let payload = stamp(&batch.payload).map_err(PluginError::Rejected)?;
        Ok(vec![Batch {
            signal: Signal::Traces,
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

weir_plugin_sdk::export_processor!(Stamp);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_every_span() {
        let mut request = otlp::decode_traces(&[]).unwrap();
        request.resource_spans.push(Default::default());
        request.resource_spans[0]
            .scope_spans
            .push(Default::default());
        request.resource_spans[0].scope_spans[0].spans =
            vec![Default::default(), Default::default()];
        let out = otlp::decode_traces(&stamp(&otlp::encode(&request)).unwrap()).unwrap();
        for span in &out.resource_spans[0].scope_spans[0].spans {
            let value = attributes::get(&span.attributes, "weir.stamp").unwrap();
            assert_eq!(value, &otlp::string_value(STAMP));
        }
    }
}
