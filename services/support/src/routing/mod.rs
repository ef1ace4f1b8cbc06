//! Routing rules: which institute a category (and parts group) goes to.

pub mod grpc;
pub mod store;

/// A rule as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub category: String,
    /// A registry parts group name, or empty for any.
    pub parts_group: String,
    pub institute: String,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}
