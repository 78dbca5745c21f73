//! What a server's answer means for the request: done, worth retrying
//! (with the server's hint when it gave one), or never going to work.
//!
//! | answer | outcome |
//! | --- | --- |
//! | HTTP 2xx, gRPC `OK` | sent |
//! | HTTP 408, 429, 5xx | retryable; `Retry-After` (seconds or a date) is the hint |
//! | other HTTP 4xx (and 1xx/3xx) | permanent |
//! | gRPC `UNAVAILABLE`, `CANCELLED`, `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`, `DATA_LOSS` | retryable; `RetryInfo` is the hint |
//! | gRPC `RESOURCE_EXHAUSTED` | retryable only with a `RetryInfo` (the server will recover), as the Go collector does |
//! | other gRPC codes | permanent |
//! | connect error, timeout, reset | retryable |

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use tonic::Code;
use tonic_types::StatusExt;

/// How one attempt to send a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Try again, not before `retry_after` when the server said so.
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The server refused the data itself: retrying cannot help.
    Permanent {
        reason: String,
    },
}

impl SendOutcome {
    pub fn retryable(reason: impl Into<String>) -> Self {
        SendOutcome::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }
}

/// Classifies an HTTP response; `body` is a prefix of the response body,
/// kept for the reason text.
pub fn from_http(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> SendOutcome {
    if status.is_success() {
        return SendOutcome::Sent;
    }
    let reason = format!("HTTP {status}{}", body_snippet(body));
    let retryable = status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error();
    if retryable {
        SendOutcome::Retryable {
            reason,
            retry_after: retry_after(headers, SystemTime::now()),
        }
    } else {
        SendOutcome::Permanent { reason }
    }
}

/// Classifies a gRPC response from its headers and trailers (a
/// trailers-only answer carries `grpc-status` in the headers).
pub fn from_grpc(
    http_status: StatusCode,
    headers: &HeaderMap,
    trailers: &HeaderMap,
) -> SendOutcome {
    if !http_status.is_success() {
        // Not a gRPC answer at all (a proxy, or no gRPC service there).
        return from_http(http_status, headers, b"");
    }
    let status = tonic::Status::from_header_map(trailers)
        .or_else(|| tonic::Status::from_header_map(headers));
    let Some(status) = status else {
        return SendOutcome::retryable("gRPC response without grpc-status");
    };
    let code = status.code();
    if code == Code::Ok {
        return SendOutcome::Sent;
    }
    let reason = format!("gRPC {code:?}: {}", status.message());
    let hint = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay);
    let retryable = match code {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => true,
        Code::ResourceExhausted => hint.is_some(),
        _ => false,
    };
    if retryable {
        SendOutcome::Retryable {
            reason,
            retry_after: hint,
        }
    } else {
        SendOutcome::Permanent { reason }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn body_snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(256)]);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn http_status_classes() {
        let none = HeaderMap::new();
        assert_eq!(from_http(StatusCode::OK, &none, b""), SendOutcome::Sent);
        assert_eq!(
            from_http(StatusCode::NO_CONTENT, &none, b""),
            SendOutcome::Sent
        );
        assert!(matches!(
            from_http(StatusCode::BAD_REQUEST, &none, b"bad labels"),
            SendOutcome::Permanent { reason } if reason == "HTTP 400 Bad Request: bad labels"
        ));
        assert!(matches!(
            from_http(StatusCode::UNAUTHORIZED, &none, b""),
            SendOutcome::Permanent { .. }
        ));
        for s in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(s).unwrap();
            assert!(
                matches!(
                    from_http(status, &none, b""),
                    SendOutcome::Retryable {
                        retry_after: None,
                        ..
                    }
                ),
                "{s}"
            );
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let h = headers(&[("retry-after", "7")]);
        assert!(matches!(
            from_http(StatusCode::TOO_MANY_REQUESTS, &h, b""),
            SendOutcome::Retryable { retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        let h = headers(&[("retry-after", &later)]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
    }

    fn grpc_trailers(status: tonic::Status) -> HeaderMap {
        status.into_http::<()>().headers().clone()
    }

    #[test]
    fn grpc_codes_and_retry_info() {
        let ok = HeaderMap::new();
        let t = grpc_trailers(tonic::Status::new(Code::Ok, ""));
        assert_eq!(from_grpc(StatusCode::OK, &ok, &t), SendOutcome::Sent);
        let t = grpc_trailers(tonic::Status::invalid_argument("bad span"));
        assert!(matches!(
            from_grpc(StatusCode::OK, &ok, &t),
            SendOutcome::Permanent { reason } if reason.contains("InvalidArgument: bad span")
        ));
        let t = grpc_trailers(tonic::Status::unavailable("down"));
        assert!(matches!(
            from_grpc(StatusCode::OK, &ok, &t),
            SendOutcome::Retryable {
                retry_after: None,
                ..
            }
        ));
        // RESOURCE_EXHAUSTED is retried only when the server gives a delay.
        let t = grpc_trailers(tonic::Status::resource_exhausted("full"));
        assert!(matches!(
            from_grpc(StatusCode::OK, &ok, &t),
            SendOutcome::Permanent { .. }
        ));
        let with_info = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "full",
            tonic_types::ErrorDetails::with_retry_info(Some(Duration::from_secs(3))),
        );
        let t = grpc_trailers(with_info);
        assert!(matches!(
            from_grpc(StatusCode::OK, &ok, &t),
            SendOutcome::Retryable { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        // Trailers-only answers carry the status in the headers.
        let h = grpc_trailers(tonic::Status::unauthenticated("who"));
        assert!(matches!(
            from_grpc(StatusCode::OK, &h, &HeaderMap::new()),
            SendOutcome::Permanent { .. }
        ));
        assert!(matches!(
            from_grpc(StatusCode::OK, &ok, &HeaderMap::new()),
            SendOutcome::Retryable { .. }
        ));
    }
}
