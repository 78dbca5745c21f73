//! The one place where a receiver's outcome becomes an HTTP status, a gRPC
//! code and an `outcome` metric label, and where requests and items are counted.
//!
//! | outcome                  | HTTP | gRPC                 | label                    |
//! |--------------------------|------|----------------------|--------------------------|
//! | accepted                 | 200  | OK                   | `accepted`               |
//! | partially accepted       | 200  | OK                   | `partial`                |
//! | malformed / bad encoding | 400  | INVALID_ARGUMENT     | `invalid`                |
//! | `Refusal::Invalid`       | 400  | INVALID_ARGUMENT     | `invalid`                |
//! | over the size limit      | 413  | RESOURCE_EXHAUSTED   | `too_large`              |
//! | `Refusal::TooLarge`      | 413  | RESOURCE_EXHAUSTED   | `too_large`              |
//! | wrong content type       | 415  | —                    | `unsupported_media_type` |
//! | `Refusal::Exhausted`     | 429 + Retry-After | RESOURCE_EXHAUSTED + RetryInfo | `exhausted` |
//! | `Refusal::Unavailable`   | 503 + Retry-After | UNAVAILABLE | `unavailable`            |
//! | unknown path / method    | 404  | UNIMPLEMENTED        | `not_found`              |
//! | `Refusal::NotConsumed`   | 404  | UNIMPLEMENTED        | `not_found`              |
//! | wrong HTTP method        | 405  | —                    | `method_not_allowed`     |
//! | missing/wrong credential | 401  | UNAUTHENTICATED      | `unauthenticated`        |
//! | `Refusal::Forbidden`     | 403  | PERMISSION_DENIED    | `forbidden`              |

use std::time::Duration;

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

use crate::Signal;
use crate::pipeline::Refusal;
use crate::telemetry::{ReceiverLabels, RequestLabels, metrics};

/// Retry hint sent with `Unavailable` (the pipelines give none).
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why a request was not (fully) accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Partial,
    Invalid,
    TooLarge,
    UnsupportedMediaType,
    Exhausted,
    Unavailable,
    NotFound,
    MethodNotAllowed,
    Unauthenticated,
    Forbidden,
}

impl Outcome {
    /// The `outcome` label of `receiver_requests`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Partial => "partial",
            Outcome::Invalid => "invalid",
            Outcome::TooLarge => "too_large",
            Outcome::UnsupportedMediaType => "unsupported_media_type",
            Outcome::Exhausted => "exhausted",
            Outcome::Unavailable => "unavailable",
            Outcome::NotFound => "not_found",
            Outcome::MethodNotAllowed => "method_not_allowed",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Forbidden => "forbidden",
        }
    }

    /// The HTTP status code.
    pub fn http_status(self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Outcome::Accepted | Outcome::Partial => S::OK,
            Outcome::Invalid => S::BAD_REQUEST,
            Outcome::TooLarge => S::PAYLOAD_TOO_LARGE,
            Outcome::UnsupportedMediaType => S::UNSUPPORTED_MEDIA_TYPE,
            Outcome::Exhausted => S::TOO_MANY_REQUESTS,
            Outcome::Unavailable => S::SERVICE_UNAVAILABLE,
            Outcome::NotFound => S::NOT_FOUND,
            Outcome::MethodNotAllowed => S::METHOD_NOT_ALLOWED,
            Outcome::Unauthenticated => S::UNAUTHORIZED,
            Outcome::Forbidden => S::FORBIDDEN,
        }
    }

    /// The gRPC status code.
    pub fn grpc_code(self) -> Code {
        match self {
            Outcome::Accepted | Outcome::Partial => Code::Ok,
            Outcome::Invalid | Outcome::UnsupportedMediaType | Outcome::MethodNotAllowed => {
                Code::InvalidArgument
            }
            Outcome::TooLarge | Outcome::Exhausted => Code::ResourceExhausted,
            Outcome::Unavailable => Code::Unavailable,
            Outcome::NotFound => Code::Unimplemented,
            Outcome::Unauthenticated => Code::Unauthenticated,
            Outcome::Forbidden => Code::PermissionDenied,
        }
    }
}

/// A request the receiver answers with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub outcome: Outcome,
    pub message: String,
    /// When the client may retry (429/503 `Retry-After`, gRPC `RetryInfo`).
    pub retry_after: Option<Duration>,
}

impl Rejection {
    pub fn new(outcome: Outcome, message: impl Into<String>) -> Self {
        Rejection {
            outcome,
            message: message.into(),
            retry_after: None,
        }
    }

    /// `Retry-After` in whole seconds, rounded up.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
    }

    /// The gRPC status; `Exhausted` carries a `google.rpc.RetryInfo` detail,
    /// an over-limit message does not (as grpc-go).
    pub fn to_grpc(&self) -> tonic::Status {
        let code = self.outcome.grpc_code();
        match (self.outcome, self.retry_after) {
            (Outcome::Exhausted | Outcome::Unavailable, Some(delay)) => {
                tonic::Status::with_error_details(
                    code,
                    &self.message,
                    ErrorDetails::with_retry_info(Some(delay)),
                )
            }
            _ => tonic::Status::new(code, &self.message),
        }
    }
}

impl From<Refusal> for Rejection {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Exhausted {
                retry_after,
                reason,
            } => Rejection {
                outcome: Outcome::Exhausted,
                message: reason,
                retry_after: Some(retry_after),
            },
            Refusal::Invalid(reason) => Rejection::new(Outcome::Invalid, reason),
            Refusal::TooLarge(reason) => Rejection::new(Outcome::TooLarge, reason),
            Refusal::NotConsumed(reason) => Rejection::new(Outcome::NotFound, reason),
            Refusal::Forbidden(reason) => Rejection::new(Outcome::Forbidden, reason),
            Refusal::Unavailable(reason) => Rejection {
                outcome: Outcome::Unavailable,
                message: reason,
                retry_after: Some(UNAVAILABLE_RETRY_AFTER),
            },
        }
    }
}

/// Counts one request of `receiver` over `transport`: its outcome, and its
/// items as accepted or refused.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub receiver: std::sync::Arc<str>,
    pub transport: &'static str,
}

impl Recorder {
    /// Records a request; `accepted` and `refused` are item counts.
    pub fn record(&self, signal: Option<Signal>, outcome: Outcome, accepted: u64, refused: u64) {
        let m = metrics();
        let signal = signal.map_or("unknown", Signal::as_str);
        m.receiver_requests
            .get_or_create(&RequestLabels {
                receiver: self.receiver.to_string(),
                transport: self.transport.into(),
                signal: signal.into(),
                outcome: outcome.label().into(),
            })
            .inc();
        let labels = ReceiverLabels {
            receiver: self.receiver.to_string(),
            transport: self.transport.into(),
            signal: signal.into(),
        };
        if accepted > 0 {
            m.receiver_accepted_items
                .get_or_create(&labels)
                .inc_by(accepted);
        }
        if refused > 0 {
            m.receiver_refused_items
                .get_or_create(&labels)
                .inc_by(refused);
        }
    }
}
