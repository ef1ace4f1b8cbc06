//! The conversation on a ticket: public replies and internal notes.

pub mod grpc;
pub mod store;

/// A comment as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Comment {
    pub id: String,
    pub ticket_id: String,
    pub body: String,
    /// `PUBLIC` or `INTERNAL`.
    pub visibility: String,
    pub author: String,
    pub author_role: String,
    pub create_time: i64,
}

pub const PUBLIC: &str = "PUBLIC";
pub const INTERNAL: &str = "INTERNAL";
