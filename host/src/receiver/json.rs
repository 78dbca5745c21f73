//! OTLP/JSON → OTLP protobuf, once, at the edge (the pipelines only see
//! protobuf). Uses `opentelemetry-proto`'s serde support (`with-serde`):
//! lowerCamelCase keys, hex `traceId`/`spanId`, enums as integers, 64-bit
//! integers as strings or numbers, unknown fields ignored (all checked in
//! `tests/json.rs`).
//!
//! Gaps in that serde support, and what we do about them:
//! - `{"arrayValue": {}}` / `{"kvlistValue": {}}` (an empty list, as Go's
//!   protojson writes it) fail with "missing field `values`": `ArrayValue` and
//!   `KeyValueList` lack `#[serde(default)]`.
//! - `null` for a field (proto3 JSON: the default value) fails for ids and
//!   other non-`Option` fields.
//!
//! Both are handled by a fallback: when the direct parse fails, the document
//! is parsed as a `serde_json::Value`, nulls are dropped and missing `values`
//! filled in, and it is parsed again. The common path stays one parse; when
//! both fail the client gets the first error, which names line and column.
//! Enum names as strings (`"kind": "SPAN_KIND_SERVER"`) are not accepted:
//! the OTLP spec requires integers.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::{logs, metrics, trace};
use prost::Message;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::status::{Outcome, Rejection};
use crate::Signal;

/// Parses an `Export*ServiceRequest` in OTLP/JSON and encodes it as protobuf.
pub fn to_protobuf(signal: Signal, json: &[u8]) -> Result<Bytes, Rejection> {
    // Unlike protobuf, where no bytes is an empty message, no JSON is no document.
    if json.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejection::new(
            Outcome::Invalid,
            "empty JSON body: expected an OTLP/JSON object",
        ));
    }
    let encoded = match signal {
        Signal::Traces => parse::<trace::v1::ExportTraceServiceRequest>(json)?.encode_to_vec(),
        Signal::Metrics => parse::<metrics::v1::ExportMetricsServiceRequest>(json)?.encode_to_vec(),
        Signal::Logs => parse::<logs::v1::ExportLogsServiceRequest>(json)?.encode_to_vec(),
    };
    Ok(Bytes::from(encoded))
}

fn parse<T: DeserializeOwned>(json: &[u8]) -> Result<T, Rejection> {
    let first = match serde_json::from_slice(json) {
        Ok(request) => return Ok(request),
        Err(e) => e,
    };
    // A syntax error stays one; only a data error may be a gap we patch.
    if first.is_data()
        && let Ok(mut value) = serde_json::from_slice::<Value>(json)
    {
        patch(&mut value);
        if let Ok(request) = serde_json::from_value(value) {
            return Ok(request);
        }
    }
    // serde_json's message names what was expected and the line and column.
    Err(Rejection::new(
        Outcome::Invalid,
        format!("invalid OTLP/JSON: {first}"),
    ))
}

/// Drops `null` members and gives `arrayValue`/`kvlistValue` their `values`.
fn patch(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.retain(|_, v| !v.is_null());
            for (key, member) in members.iter_mut() {
                if let ("arrayValue" | "kvlistValue", Value::Object(list)) =
                    (key.as_str(), &mut *member)
                {
                    list.entry("values")
                        .or_insert_with(|| Value::Array(Vec::new()));
                }
                patch(member);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(patch),
        _ => {}
    }
}
