//! Query text built from fixed fragments, for lists with optional filters.
//!
//! Only the conditions in use are written, so each combination of filters
//! is its own prepared statement, which PostgreSQL plans with the indexes
//! that fit it. (A single statement with `($1 = '' OR col = $1)` switches
//! gets a generic plan that took seconds on 20,000 rows; BENCHMARKS.md.)
//! Fragments are literals of the calling code, never input; values are
//! always bound to `$n` placeholders, numbered as they are pushed.

use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::{Any, AnyConnection, FromRow};

use crate::Error;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    /// SQL NULL (bound as a missing integer).
    Null,
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

/// A WHERE clause under construction, and the values it binds.
#[derive(Debug, Default)]
pub struct Conditions {
    clauses: Vec<String>,
    args: Vec<Value>,
}

impl Conditions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds `value` and returns its placeholder, e.g. `$3`.
    pub fn arg(&mut self, value: impl Into<Value>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// Adds a clause; each `{}` in `fragment` is the next of `values`.
    pub fn push<I>(&mut self, fragment: &str, values: I)
    where
        I: IntoIterator,
        I::Item: Into<Value>,
    {
        let mut text = String::with_capacity(fragment.len() + 8);
        let mut rest = fragment;
        for value in values {
            let Some((head, tail)) = rest.split_once("{}") else {
                break;
            };
            text.push_str(head);
            let placeholder = self.arg(value);
            text.push_str(&placeholder);
            rest = tail;
        }
        text.push_str(rest);
        self.clauses.push(text);
    }

    /// `WHERE a AND b`, or nothing without conditions.
    pub fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// Runs `SELECT {columns} FROM {from} WHERE … ORDER BY {order} LIMIT n`
    /// and decodes each row as `T`.
    pub async fn fetch<T>(
        mut self,
        conn: &mut AnyConnection,
        columns: &str,
        from: &str,
        order: &str,
        limit: i64,
    ) -> Result<Vec<T>, Error>
    where
        T: for<'r> FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let limit = self.arg(limit);
        let sql = format!(
            "SELECT {columns} FROM {from} {} ORDER BY {order} LIMIT {limit}",
            self.where_clause()
        );
        // Every fragment is a literal of the caller; values are bound.
        let query: QueryAs<'_, Any, T, AnyArguments> = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        let query = self.args.into_iter().fold(query, |q, v| match v {
            Value::Text(t) => q.bind(t),
            Value::Int(i) => q.bind(i),
            Value::Null => q.bind(None::<i64>),
        });
        Ok(query.fetch_all(conn).await?)
    }
}

/// A message as a text column: base64 of its protobuf encoding. Protobuf's
/// rules for adding fields keep old rows readable as the API grows, and
/// messages that carry other services' types need no serde form.
pub fn encode_message<M: prost::Message>(message: &M) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(message.encode_to_vec())
}

/// A column written by [`encode_message`], decoded.
pub fn decode_message<M: prost::Message + Default>(column: &str) -> Result<M, Error> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(column)
        .map_err(Error::internal)?;
    M::decode(bytes.as_slice()).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_as_values_are_pushed() {
        let mut c = Conditions::new();
        assert_eq!(c.where_clause(), "");
        c.push("status = {}", ["ACTIVE"]);
        c.push(
            "(a > {} OR (a = {} AND id > {}))",
            [Value::Int(3), Value::Int(3), "x".into()],
        );
        c.push("flag = 1", Vec::<Value>::new());
        assert_eq!(
            c.where_clause(),
            "WHERE status = $1 AND (a > $2 OR (a = $3 AND id > $4)) AND flag = 1"
        );
        assert_eq!(c.arg(50), "$5");
    }
}
