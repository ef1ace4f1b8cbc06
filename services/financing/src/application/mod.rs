//! Applications: a company's request for money from a programme.

pub mod grpc;
pub mod rules;
pub mod store;
pub mod view;
