//! A programme's budget: its figures (one row the conditional increment
//! works on) and the ledger of every movement, written in the same
//! transaction as the step that moves the money.

pub mod grpc;
pub mod store;
