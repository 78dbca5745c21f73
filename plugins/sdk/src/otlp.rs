//! OTLP request types and their protobuf decode/encode.
//!
//! A batch payload is the protobuf encoding of one `Export*ServiceRequest`.
//! [`decode_traces`] and friends turn it into the `opentelemetry-proto` tree;
//! [`encode`] turns any of them back into bytes.

pub use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
pub use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use opentelemetry_proto::tonic::{common, logs, metrics, resource, trace};
pub use prost::{self, Message};

pub use common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};

/// Why a payload could not be decoded; its text names the request type,
/// e.g. `cannot decode ExportTraceServiceRequest: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

fn decode<M: Message + Default>(name: &str, payload: &[u8]) -> Result<M, DecodeError> {
    M::decode(payload).map_err(|e| DecodeError(format!("cannot decode {name}: {e}")))
}

/// Decodes an `ExportTraceServiceRequest`.
pub fn decode_traces(payload: &[u8]) -> Result<ExportTraceServiceRequest, DecodeError> {
    decode("ExportTraceServiceRequest", payload)
}

/// Decodes an `ExportMetricsServiceRequest`.
pub fn decode_metrics(payload: &[u8]) -> Result<ExportMetricsServiceRequest, DecodeError> {
    decode("ExportMetricsServiceRequest", payload)
}

/// Decodes an `ExportLogsServiceRequest`.
pub fn decode_logs(payload: &[u8]) -> Result<ExportLogsServiceRequest, DecodeError> {
    decode("ExportLogsServiceRequest", payload)
}

/// Encodes any request (or other message) to protobuf bytes.
pub fn encode<M: Message>(message: &M) -> Vec<u8> {
    message.encode_to_vec()
}

/// A string [`AnyValue`].
pub fn string_value(s: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    }
}

/// An integer [`AnyValue`].
pub fn int_value(i: i64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::IntValue(i)),
    }
}

/// A [`KeyValue`] attribute.
pub fn key_value(key: impl Into<String>, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace::v1::{ResourceSpans, ScopeSpans, Span};

    #[test]
    fn round_trips_a_trace_request() {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "s".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        assert_eq!(decode_traces(&encode(&request)).unwrap(), request);
    }

    #[test]
    fn decode_error_names_the_request_type() {
        let err = decode_logs(&[0xff, 0xff]).unwrap_err();
        assert!(
            err.0
                .starts_with("cannot decode ExportLogsServiceRequest: "),
            "{err}"
        );
    }
}
