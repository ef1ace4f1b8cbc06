//! Trainees: people in training, and who may see their personal data.

pub mod grpc;
pub mod rules;
pub mod store;
