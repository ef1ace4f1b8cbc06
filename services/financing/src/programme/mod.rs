//! Programmes: what is funded, for whom, with how much, when.

pub mod grpc;
pub mod rules;
pub mod store;
