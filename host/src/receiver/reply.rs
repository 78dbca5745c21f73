//! OTLP/HTTP responses: the `Export*ServiceResponse` of an accepted request
//! and the `google.rpc.Status` body of a refused one, each encoded in the
//! request's format (protobuf or JSON), as the OTLP/HTTP spec asks.

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use opentelemetry_proto::tonic::collector::{logs, metrics, trace};
use prost::Message;

use super::status::{Outcome, Rejection};
use crate::Signal;
use crate::pipeline::Accepted;

/// The body format of a request, and so of its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    Json,
}

impl Format {
    /// The format `Content-Type` names, parameters (`; charset=utf-8`) ignored.
    pub fn from_headers(headers: &HeaderMap) -> Result<Format, Rejection> {
        let value = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Ok(Format::Protobuf),
            "application/json" => Ok(Format::Json),
            _ => Err(Rejection::new(
                Outcome::UnsupportedMediaType,
                format!(
                    "unsupported Content-Type `{value}`: expected application/x-protobuf or application/json"
                ),
            )),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => "application/x-protobuf",
            Format::Json => "application/json",
        }
    }
}

/// 200 with an `Export*ServiceResponse`, with `partial_success` when some
/// items were rejected.
pub fn accepted(
    signal: Signal,
    format: Format,
    accepted: &Accepted,
) -> Response<tonic::body::Body> {
    let rejected = i64::try_from(accepted.rejected_items).unwrap_or(i64::MAX);
    let body = match format {
        Format::Protobuf if rejected == 0 => Vec::new(),
        Format::Protobuf => protobuf_partial(signal, rejected, accepted.message.clone()),
        Format::Json if rejected == 0 => b"{}".to_vec(),
        Format::Json => {
            let field = match signal {
                Signal::Traces => "rejectedSpans",
                Signal::Metrics => "rejectedDataPoints",
                Signal::Logs => "rejectedLogRecords",
            };
            // int64 is a string in the proto3 JSON mapping.
            let partial = serde_json::json!({ field: rejected.to_string(), "errorMessage": accepted.message });
            serde_json::json!({ "partialSuccess": partial })
                .to_string()
                .into_bytes()
        }
    };
    response(StatusCode::OK, format, body)
}

pub fn protobuf_partial(signal: Signal, rejected: i64, error_message: String) -> Vec<u8> {
    match signal {
        Signal::Traces => trace::v1::ExportTraceServiceResponse {
            partial_success: Some(trace::v1::ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message,
            }),
        }
        .encode_to_vec(),
        Signal::Metrics => metrics::v1::ExportMetricsServiceResponse {
            partial_success: Some(metrics::v1::ExportMetricsPartialSuccess {
                rejected_data_points: rejected,
                error_message,
            }),
        }
        .encode_to_vec(),
        Signal::Logs => logs::v1::ExportLogsServiceResponse {
            partial_success: Some(logs::v1::ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message,
            }),
        }
        .encode_to_vec(),
    }
}

/// An error status with a `google.rpc.Status` body; `Retry-After` on 429/503,
/// `Allow` on 405.
pub fn rejected(format: Format, rejection: &Rejection) -> Response<tonic::body::Body> {
    let code = rejection.outcome.grpc_code() as i32;
    let body = match format {
        Format::Protobuf => tonic_types::Status {
            code,
            message: rejection.message.clone(),
            details: Vec::new(),
        }
        .encode_to_vec(),
        Format::Json => serde_json::json!({ "code": code, "message": rejection.message })
            .to_string()
            .into_bytes(),
    };
    let mut response = response(rejection.outcome.http_status(), format, body);
    if let Some(secs) = rejection.retry_after_secs() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    if rejection.outcome == Outcome::MethodNotAllowed {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

fn response(status: StatusCode, format: Format, body: Vec<u8>) -> Response<tonic::body::Body> {
    let mut response = Response::new(tonic::body::Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    response
}
