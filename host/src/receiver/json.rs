//! OTLP/JSON → OTLP protobuf, once, at the edge (the pipelines only see
//! protobuf). Uses `opentelemetry-proto`'s serde support (`with-serde`):
//! lowerCamelCase keys, hex `traceId`/`spanId`, enums as integers, 64-bit
//! integers as strings or numbers, unknown fields ignored.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::{logs, metrics, trace};
use prost::Message;
use serde::de::DeserializeOwned;

use super::status::{Outcome, Rejection};
use crate::Signal;

/// Parses an `Export*ServiceRequest` in OTLP/JSON and encodes it as protobuf.
pub fn to_protobuf(signal: Signal, json: &[u8]) -> Result<Bytes, Rejection> {
    // Unlike protobuf, where no bytes is an empty message, no JSON is no document.
    if json.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejection::new(Outcome::Invalid, "empty JSON body: expected an OTLP/JSON object"));
    }
    let encoded = match signal {
        Signal::Traces => parse::<trace::v1::ExportTraceServiceRequest>(json)?.encode_to_vec(),
        Signal::Metrics => parse::<metrics::v1::ExportMetricsServiceRequest>(json)?.encode_to_vec(),
        Signal::Logs => parse::<logs::v1::ExportLogsServiceRequest>(json)?.encode_to_vec(),
    };
    Ok(Bytes::from(encoded))
}

fn parse<T: DeserializeOwned>(json: &[u8]) -> Result<T, Rejection> {
    // serde_json's message names what was expected and the line and column.
    serde_json::from_slice(json).map_err(|e| Rejection::new(Outcome::Invalid, format!("invalid OTLP/JSON: {e}")))
}
