//! Courses: the catalogue, by code.

pub mod grpc;
pub mod rules;
pub mod store;
