//! Reviews: reviewers assigned to an application, their declarations and
//! scores, and what the scores add up to.

pub mod grpc;
pub mod rules;
pub mod store;
