//! Service-level policies: the targets of each priority.

pub mod grpc;
pub mod store;
