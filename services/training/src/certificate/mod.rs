//! Completion certificates: issued, verified by anyone, revoked.

pub mod grpc;
pub mod store;
