//! Errors as RFC 9457 problem documents (`application/problem+json`).
//!
//! `code` is the stable machine-readable reason (from the service's
//! `google.rpc.ErrorInfo`, or the gateway's own), `violations` lists each bad
//! field with the reason, and `traceId` finds the request in the traces.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use tonic::Code;
use tonic_types::StatusExt;

#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    #[serde(serialize_with = "status_code")]
    pub status: StatusCode,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub trace_id: String,
    #[serde(skip)]
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

fn status_code<S: serde::Serializer>(s: &StatusCode, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_u16(s.as_u16())
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status,
            detail: detail.into(),
            code: code.to_string(),
            violations: Vec::new(),
            metadata: serde_json::Map::new(),
            trace_id: gearshift_platform::telemetry::current_trace_id(),
            headers: Vec::new(),
        }
    }

    /// A 400 listing the bad fields.
    pub fn invalid(violations: Vec<Violation>) -> Self {
        let detail = violations_detail(&violations);
        Problem {
            violations,
            ..Problem::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", detail)
        }
    }

    pub fn invalid_field(field: &str, description: impl Into<String>) -> Self {
        Self::invalid(vec![Violation {
            field: field.to_string(),
            description: description.into(),
        }])
    }

    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// The problem for a service's gRPC status.
    pub fn from_status(status: &tonic::Status) -> Self {
        let details = status.get_error_details();
        let info = details.error_info();
        let reason = info.map(|i| i.reason.as_str()).unwrap_or("");
        let http = http_status(status.code(), reason);
        let code = if reason.is_empty() {
            code_name(status.code())
        } else {
            reason
        };
        let detail = match status.code() {
            // The service's message for these may name internals.
            Code::Internal | Code::Unknown | Code::DataLoss => "internal error".to_string(),
            Code::Cancelled if status.message().contains("Timeout") => {
                return Problem::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    "DEADLINE_EXCEEDED",
                    "the request took too long",
                );
            }
            _ => status.message().to_string(),
        };
        let mut problem = Problem::new(http, code, detail);
        if let Some(bad) = details.bad_request() {
            problem.violations = bad
                .field_violations
                .iter()
                .map(|v| Violation {
                    field: v.field.clone(),
                    description: v.description.clone(),
                })
                .collect();
            if !problem.violations.is_empty() {
                problem.detail = violations_detail(&problem.violations);
            }
        }
        if let Some(info) = info {
            let mut keys: Vec<_> = info.metadata.iter().collect();
            keys.sort();
            for (k, v) in keys {
                problem
                    .metadata
                    .insert(k.clone(), serde_json::Value::String(v.clone()));
            }
        }
        if http == StatusCode::UNAUTHORIZED {
            problem = problem.with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"gearshift\"");
        }
        problem
    }
}

/// The HTTP status for a service's status (the mapping lives once, in the
/// platform, beside the reason codes it reads).
pub use gearshift_platform::error::http_status;

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (k, v) in self.headers {
            headers.insert(k, v);
        }
        response
    }
}

/// One line for people: the field and what is wrong with it, or which
/// fields are (each described in `violations`).
fn violations_detail(violations: &[Violation]) -> String {
    match violations {
        [one] => format!("{}: {}", one.field, one.description),
        many => {
            let mut fields: Vec<&str> = many.iter().map(|v| v.field.as_str()).collect();
            fields.dedup();
            format!(
                "{} problems with the request, in {}",
                many.len(),
                fields.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gearshift_platform::Error;

    #[test]
    fn service_errors_map_to_http_statuses_by_code_and_reason() {
        let cases: Vec<(Error, StatusCode, &str)> = vec![
            (
                Error::invalid("x", "bad"),
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
            ),
            (
                Error::EtagMismatch {
                    current: "r2".into(),
                },
                StatusCode::PRECONDITION_FAILED,
                "ETAG_MISMATCH",
            ),
            (
                Error::IdempotencyKeyReused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
            ),
            (
                Error::IdempotencyKeyInUse,
                StatusCode::CONFLICT,
                "IDEMPOTENCY_KEY_IN_USE",
            ),
            (
                Error::AlreadyExists {
                    resource: "supplier",
                    field: "businessNumber".into(),
                    message: "dup".into(),
                },
                StatusCode::CONFLICT,
                "ALREADY_EXISTS",
            ),
            (
                Error::NotFound {
                    resource: "supplier",
                    id: "sup_x".into(),
                },
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
            ),
            (
                Error::PermissionDenied("no".into()),
                StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
            ),
            (
                Error::Unauthenticated("no".into()),
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
            ),
            (
                Error::internal(anyhow::anyhow!("secret")),
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
            ),
        ];
        for (error, http, code) in cases {
            let problem = Problem::from_status(&tonic::Status::from(error));
            assert_eq!((problem.status, problem.code.as_str()), (http, code));
            assert!(!problem.detail.contains("secret"));
        }
    }

    #[test]
    fn field_violations_reach_the_document() {
        let status = tonic::Status::from(Error::invalid("supplier.legalName", "is required"));
        let problem = Problem::from_status(&status);
        assert_eq!(problem.violations[0].field, "supplier.legalName");
        let json: serde_json::Value = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["status"], 400);
        assert_eq!(json["violations"][0]["description"], "is required");
    }
}
