//! Cohorts: runs of a course, with seats and a waitlist.

pub mod grpc;
pub mod rules;
pub mod store;
