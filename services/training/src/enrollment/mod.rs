//! Enrolments: a trainee's place in a cohort, never past its seats.

pub mod grpc;
pub mod rules;
pub mod store;
