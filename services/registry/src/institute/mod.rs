//! The partner directory: the eight research institutes and the industry
//! partners, seeded on first start, kept up to date by operators, readable
//! by every authenticated caller.

pub mod access;
pub mod grpc;
pub mod rules;
pub mod store;
