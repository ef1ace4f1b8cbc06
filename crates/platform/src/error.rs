//! The error model every service shares, and its one conversion to a gRPC
//! `Status` with `google.rpc` details (AIP-193).
//!
//! Each variant carries an `ErrorInfo.reason`: the stable, machine-readable
//! code that the gateway puts in the problem document's `code` and uses to
//! pick the HTTP status. Internal causes are logged here, once, and never sent
//! to the caller.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// `ErrorInfo.domain` of every Gearshift error.
pub const DOMAIN: &str = "gearshift.gwangju.kr";

/// One problem with one request field. `field` is the lowerCamelCase JSON
/// path a client sent (`supplier.businessNumber`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the request has {} invalid field(s)", .0.len())]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{resource} {id} was not found")]
    NotFound { resource: &'static str, id: String },
    #[error("{message}")]
    AlreadyExists {
        resource: &'static str,
        field: String,
        message: String,
    },
    /// The resource is not in a state that allows the call; `reason` is the
    /// stable code (`INVALID_TRANSITION`), `allowed` what would be allowed.
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
        subject: String,
        allowed: Vec<String>,
    },
    #[error("the resource changed since it was read (current etag {current})")]
    EtagMismatch { current: String },
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyKeyInUse,
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("the deadline passed before the work finished")]
    DeadlineExceeded,
    /// A conflict the database resolves if the transaction runs again;
    /// `db::with_retry` retries these and never lets one reach a caller.
    #[error("transient database conflict")]
    Transient(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Error::Internal(cause.into())
    }

    /// The stable machine code of this error.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::AlreadyExists { .. } => "ALREADY_EXISTS",
            Error::FailedPrecondition { reason, .. } => reason,
            Error::EtagMismatch { .. } => "ETAG_MISMATCH",
            Error::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Error::IdempotencyKeyInUse => "IDEMPOTENCY_KEY_IN_USE",
            Error::PermissionDenied(_) => "PERMISSION_DENIED",
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Unavailable(_) => "UNAVAILABLE",
            Error::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Error::Transient(_) => "UNAVAILABLE",
            Error::Internal(_) => "INTERNAL",
        }
    }

    fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) | Error::IdempotencyKeyReused => Code::InvalidArgument,
            Error::NotFound { .. } => Code::NotFound,
            Error::AlreadyExists { .. } => Code::AlreadyExists,
            Error::FailedPrecondition { .. } => Code::FailedPrecondition,
            Error::EtagMismatch { .. } | Error::IdempotencyKeyInUse => Code::Aborted,
            Error::PermissionDenied(_) => Code::PermissionDenied,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::Unavailable(_) | Error::Transient(_) => Code::Unavailable,
            Error::DeadlineExceeded => Code::DeadlineExceeded,
            Error::Internal(_) => Code::Internal,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_transient(&e) {
            return Error::Transient(e);
        }
        match e {
            sqlx::Error::PoolTimedOut => Error::Unavailable("the database is busy; retry".into()),
            sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Error::Unavailable("the database is unreachable; retry".into())
            }
            other => Error::Internal(other.into()),
        }
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        let mut details = ErrorDetails::new();
        let mut metadata = HashMap::new();
        match &e {
            Error::InvalidArgument(violations) => {
                for v in violations {
                    details.add_bad_request_violation(v.field.clone(), v.description.clone());
                }
            }
            Error::NotFound { resource, id } => {
                metadata.insert("resource".to_string(), resource.to_string());
                metadata.insert("id".to_string(), id.clone());
            }
            Error::AlreadyExists {
                resource, field, ..
            } => {
                metadata.insert("resource".to_string(), resource.to_string());
                metadata.insert("field".to_string(), field.clone());
            }
            Error::FailedPrecondition {
                subject,
                allowed,
                message,
                reason,
            } => {
                details.add_precondition_failure_violation(
                    *reason,
                    subject.clone(),
                    message.clone(),
                );
                if !allowed.is_empty() {
                    metadata.insert("allowed".to_string(), allowed.join(","));
                }
            }
            Error::EtagMismatch { current } => {
                details.add_precondition_failure_violation("ETAG", "etag", e.to_string());
                metadata.insert("currentEtag".to_string(), current.clone());
            }
            Error::Internal(cause) => {
                // Logged once, here; the caller sees only the code and trace id.
                tracing::error!(error = ?cause, "internal error");
            }
            _ => {}
        }
        details.set_error_info(e.reason(), DOMAIN, metadata);
        Status::with_error_details(e.code(), e.to_string(), details)
    }
}

/// A handler's result as tonic wants it.
pub fn respond<T>(result: Result<T, Error>) -> Result<tonic::Response<T>, Status> {
    result.map(tonic::Response::new).map_err(Status::from)
}

/// Collects field violations so a request reports all its problems at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records the error of a field check, if any, and returns the value.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(description) => {
                self.add(field, description);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidArgument(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_field_violations_and_reason() {
        let status: Status = Error::invalid("supplier.legalName", "must not be empty").into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request detail");
        assert_eq!(bad.field_violations[0].field, "supplier.legalName");
        assert_eq!(details.error_info().unwrap().reason, "INVALID_ARGUMENT");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let status: Status = Error::internal(anyhow::anyhow!("password=hunter2")).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("hunter2"));
    }
}
