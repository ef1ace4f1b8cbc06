//! The API keys' SQL (SQLite or PostgreSQL, one code path).

use gearshift_platform::Error;
use gearshift_platform::db::Db;
use sqlx::AnyConnection;

pub const ENABLED: &str = "ENABLED";
pub const REVOKED: &str = "REVOKED";

/// A key as stored: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: String,
    pub display_name: String,
    pub role: String,
    pub secret_hash: String,
    pub secret_prefix: String,
    pub state: String,
    pub create_time: i64,
    pub revoke_time: Option<i64>,
    pub creator: String,
}

const COLUMNS: &str =
    "id, display_name, role, secret_hash, secret_prefix, state, create_time, revoke_time, creator";

pub async fn insert<'e, E>(executor: E, key: &ApiKey) -> Result<(), Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO api_keys (id, display_name, role, secret_hash, secret_prefix, state, create_time, revoke_time, creator) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.id)
    .bind(&key.display_name)
    .bind(&key.role)
    .bind(&key.secret_hash)
    .bind(&key.secret_prefix)
    .bind(&key.state)
    .bind(key.create_time)
    .bind(key.revoke_time)
    .bind(&key.creator)
    .execute(executor)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn find_enabled_by_hash(db: &Db, hash: &str) -> Result<Option<ApiKey>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE secret_hash = $1 AND state = $2");
    let row: Option<ApiKey> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .bind(ENABLED)
        .fetch_optional(&mut *db.conn().await?)
        .await?;
    Ok(row)
}

pub async fn find_by_hash(db: &Db, hash: &str) -> Result<Option<ApiKey>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE secret_hash = $1");
    let row: Option<ApiKey> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(&mut *db.conn().await?)
        .await?;
    Ok(row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<ApiKey>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn list(
    conn: &mut AnyConnection,
    after_id: &str,
    limit: i64,
) -> Result<Vec<ApiKey>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?)
}

pub async fn count(db: &Db) -> Result<i64, Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(&mut *db.conn().await?)
        .await?;
    Ok(n)
}

/// Marks the key revoked, if it is not already; returns whether it changed.
pub async fn revoke(conn: &mut AnyConnection, id: &str, at: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE api_keys SET state = $1, revoke_time = $2 WHERE id = $3 AND state = $4",
    )
    .bind(REVOKED)
    .bind(at)
    .bind(id)
    .bind(ENABLED)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
