//! Gearshift's API as generated Rust: prost messages, tonic clients and servers,
//! and the descriptor set that the gateway and gRPC reflection read.
//!
//! The `.proto` files beside this crate are the single source of truth for every
//! RPC, message, enum and REST mapping.

#![forbid(unsafe_code)]

/// Every Gearshift proto file and its imports, with source info and the
/// `google.api.http` options, as an encoded `FileDescriptorSet`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/gearshift_descriptor.bin"));

pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
}

pub mod registry {
    pub mod v1 {
        tonic::include_proto!("gearshift.registry.v1");
    }
}

pub mod support {
    pub mod v1 {
        tonic::include_proto!("gearshift.support.v1");
    }
}

pub mod financing {
    pub mod v1 {
        tonic::include_proto!("gearshift.financing.v1");
    }
}

pub mod iam {
    pub mod v1 {
        tonic::include_proto!("gearshift.iam.v1");
    }
}

pub mod training {
    pub mod v1 {
        tonic::include_proto!("gearshift.training.v1");
    }
}
