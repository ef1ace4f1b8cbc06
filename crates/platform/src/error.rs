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

/// The platform's own reason codes. A service's codes are its [`Reason`]
/// enum; both travel as `ErrorInfo.reason` and become the problem's `code`.
pub mod reason {
    pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const ALREADY_EXISTS: &str = "ALREADY_EXISTS";
    pub const ETAG_MISMATCH: &str = "ETAG_MISMATCH";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    pub const IDEMPOTENCY_KEY_IN_USE: &str = "IDEMPOTENCY_KEY_IN_USE";
    pub const CONCURRENT_MODIFICATION: &str = "CONCURRENT_MODIFICATION";
    pub const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    pub const DEADLINE_EXCEEDED: &str = "DEADLINE_EXCEEDED";
    pub const INTERNAL: &str = "INTERNAL";
}

/// A service's stable reason codes, one enum per service (declare it with
/// [`reasons!`](crate::reasons)): the code a client matches on when the
/// state of a resource refuses a call or a business limit is reached.
pub trait Reason: Copy + std::fmt::Debug + Send + Sync + 'static {
    fn as_str(self) -> &'static str;
}

/// Declares a service's reason enum and its codes:
///
/// ```
/// gearshift_platform::reasons! {
///     /// Why the registry refuses a call.
///     pub enum Reason {
///         /// The lifecycle does not allow this move.
///         InvalidTransition = "INVALID_TRANSITION",
///     }
/// }
/// use gearshift_platform::error::Reason as _;
/// assert_eq!(Reason::InvalidTransition.as_str(), "INVALID_TRANSITION");
/// ```
#[macro_export]
macro_rules! reasons {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $crate::error::Reason for $name {
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),*
                }
            }
        }
    };
}

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
    /// service's stable code (`INVALID_TRANSITION`), `allowed` what would be
    /// allowed.
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
        subject: String,
        allowed: Vec<String>,
    },
    /// A business limit is reached (a budget, a seat count): the request was
    /// fine and will keep failing until the limit changes. Never retried.
    #[error("{message}")]
    LimitReached {
        reason: &'static str,
        message: String,
        subject: String,
    },
    /// Another write changed the record between this write's read and its
    /// update: the write path runs the work again, so a caller sees this
    /// only if the race keeps being lost.
    #[error("another request changed the same record at the same time; retry")]
    Conflict,
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
    /// the write path (`write::write`) runs the work again.
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

    /// The resource's state refuses the call, for `reason`.
    pub fn precondition(
        reason: impl Reason,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::FailedPrecondition {
            reason: reason.as_str(),
            message: message.into(),
            subject: subject.into(),
            allowed: Vec::new(),
        }
    }

    /// A business limit refuses the call, for `reason`.
    pub fn limit(
        reason: impl Reason,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::LimitReached {
            reason: reason.as_str(),
            message: message.into(),
            subject: subject.into(),
        }
    }

    /// Whether running the same work again may succeed: a lost race or a
    /// database conflict, never a business refusal.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict | Error::Transient(_))
    }

    /// The stable machine code of this error.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => reason::INVALID_ARGUMENT,
            Error::NotFound { .. } => reason::NOT_FOUND,
            Error::AlreadyExists { .. } => reason::ALREADY_EXISTS,
            Error::FailedPrecondition { reason, .. } | Error::LimitReached { reason, .. } => reason,
            Error::EtagMismatch { .. } => reason::ETAG_MISMATCH,
            Error::IdempotencyKeyReused => reason::IDEMPOTENCY_KEY_REUSED,
            Error::IdempotencyKeyInUse => reason::IDEMPOTENCY_KEY_IN_USE,
            Error::Conflict => reason::CONCURRENT_MODIFICATION,
            Error::PermissionDenied(_) => reason::PERMISSION_DENIED,
            Error::Unauthenticated(_) => reason::UNAUTHENTICATED,
            Error::Unavailable(_) | Error::Transient(_) => reason::UNAVAILABLE,
            Error::DeadlineExceeded => reason::DEADLINE_EXCEEDED,
            Error::Internal(_) => reason::INTERNAL,
        }
    }

    fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) | Error::IdempotencyKeyReused => Code::InvalidArgument,
            Error::NotFound { .. } => Code::NotFound,
            Error::AlreadyExists { .. } => Code::AlreadyExists,
            Error::FailedPrecondition { .. } | Error::LimitReached { .. } => {
                Code::FailedPrecondition
            }
            Error::EtagMismatch { .. } | Error::IdempotencyKeyInUse | Error::Conflict => {
                Code::Aborted
            }
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
            sqlx::Error::Io(_) | sqlx::Error::PoolClosed => Error::Unavailable(
                "the database is unavailable (the connection was lost); retry shortly".into(),
            ),
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
            Error::LimitReached {
                reason,
                subject,
                message,
            } => {
                details.add_precondition_failure_violation(
                    *reason,
                    subject.clone(),
                    message.clone(),
                );
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

/// The HTTP status for a service's gRPC status: by code, and by reason
/// where one code covers several HTTP answers. FAILED_PRECONDITION is 409:
/// the request was fine, the resource's state (or a limit) does not allow it.
pub fn http_status(code: Code, reason: &str) -> http::StatusCode {
    use http::StatusCode as S;
    match (code, reason) {
        (Code::Ok, _) => S::OK,
        (_, reason::ETAG_MISMATCH) => S::PRECONDITION_FAILED,
        (_, reason::IDEMPOTENCY_KEY_REUSED) => S::UNPROCESSABLE_ENTITY,
        (Code::InvalidArgument | Code::OutOfRange, _) => S::BAD_REQUEST,
        (Code::Unauthenticated, _) => S::UNAUTHORIZED,
        (Code::PermissionDenied, _) => S::FORBIDDEN,
        (Code::NotFound, _) => S::NOT_FOUND,
        (Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition, _) => S::CONFLICT,
        (Code::ResourceExhausted, _) => S::TOO_MANY_REQUESTS,
        (Code::Cancelled, _) => S::REQUEST_TIMEOUT,
        (Code::DeadlineExceeded, _) => S::GATEWAY_TIMEOUT,
        (Code::Unimplemented, _) => S::NOT_IMPLEMENTED,
        (Code::Unavailable, _) => S::SERVICE_UNAVAILABLE,
        (Code::Internal | Code::Unknown | Code::DataLoss, _) => S::INTERNAL_SERVER_ERROR,
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

    crate::reasons! {
        enum Why {
            SeatsTaken = "SEATS_TAKEN",
            Closed = "CLOSED",
        }
    }

    #[test]
    fn a_limit_and_a_lost_race_are_different_kinds() {
        let limit = Error::limit(Why::SeatsTaken, "cohort", "all 20 seats are taken");
        let closed = Error::precondition(Why::Closed, "cohort", "enrolment closed");
        assert!(!limit.is_retryable() && !closed.is_retryable());
        assert!(Error::Conflict.is_retryable());
        for (error, code, reason) in [
            (limit, Code::FailedPrecondition, "SEATS_TAKEN"),
            (closed, Code::FailedPrecondition, "CLOSED"),
            (Error::Conflict, Code::Aborted, "CONCURRENT_MODIFICATION"),
        ] {
            let status = Status::from(error);
            assert_eq!(status.code(), code);
            assert_eq!(
                status.get_error_details().error_info().unwrap().reason,
                reason
            );
            assert_eq!(
                http_status(status.code(), reason),
                http::StatusCode::CONFLICT
            );
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let status: Status = Error::internal(anyhow::anyhow!("password=hunter2")).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("hunter2"));
    }
}
