//! Tickets: a company's request, its moves and its service levels.

pub mod access;
pub mod figures;
pub mod grpc;
pub mod rules;
pub mod sla;
pub mod store;
