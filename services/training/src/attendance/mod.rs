//! Attendance per session day, and what it adds up to.

pub mod grpc;
pub mod rules;
pub mod store;
