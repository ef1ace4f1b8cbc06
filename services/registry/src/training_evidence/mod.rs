//! Training evidence: the training centre's completions, kept on the
//! company's transition record.

pub mod grpc;
