//! Institutes' support desks: their people, automatic assignment and own
//! working hours.

pub mod grpc;
pub mod rules;
pub mod store;
