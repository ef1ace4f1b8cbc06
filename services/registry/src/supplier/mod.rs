//! The supplier: the system of record for a company in the cluster. Its
//! business number, lifecycle (`rules`), profile (`profile`), who may do
//! what (`access`), its SQL (`store`) and its gRPC handlers (`grpc`).

pub mod access;
pub mod grpc;
pub mod profile;
pub mod rules;
pub mod store;

pub use rules::{BusinessNumber, Supplier};
