//! The transition ladder: each move of a supplier between stages is a
//! stage change, recorded by an operator or proposed by the company and
//! decided by an operator. Its rules, access, SQL and gRPC handlers.

pub mod access;
pub mod grpc;
pub mod rules;
pub mod store;
