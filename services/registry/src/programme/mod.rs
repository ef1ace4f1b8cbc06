//! What the registry tells about the programme as a whole: its figures,
//! whether a supplier meets a programme's eligibility rules, and the parts
//! groups with their ICE dependence.

pub mod access;
pub mod eligibility;
pub mod figures;
pub mod grpc;
pub mod parts_groups;
pub mod store;

pub use figures::Target;
