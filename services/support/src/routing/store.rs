//! The routing rules' SQL.

use gearshift_platform::Error;
use sqlx::AnyConnection;

use super::Rule;

const COLUMNS: &str = "id, category, parts_group, institute, create_time, update_time, revision";

/// Every rule: the ones naming a parts group first, then by category.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Rule>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM routing_rules \
         ORDER BY category, CASE WHEN parts_group = '' THEN 1 ELSE 0 END, parts_group, id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Rule>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM routing_rules WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The institute for a category and parts group: a rule naming the parts
/// group wins over one for any parts group.
pub async fn route(
    conn: &mut AnyConnection,
    category: &str,
    parts_group: &str,
) -> Result<Option<String>, Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT institute FROM routing_rules WHERE category = $1 \
         AND (parts_group = $2 OR parts_group = '') \
         ORDER BY CASE WHEN parts_group = '' THEN 1 ELSE 0 END LIMIT 1",
    )
    .bind(category)
    .bind(parts_group)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(i,)| i))
}

/// Whether another rule already covers the same category and parts group.
pub async fn clash(conn: &mut AnyConnection, rule: &Rule) -> Result<bool, Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM routing_rules WHERE category = $1 AND parts_group = $2 AND id <> $3",
    )
    .bind(&rule.category)
    .bind(&rule.parts_group)
    .bind(&rule.id)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

pub async fn insert(conn: &mut AnyConnection, r: &Rule) -> Result<(), Error> {
    let sql = format!("INSERT INTO routing_rules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&r.id)
        .bind(&r.category)
        .bind(&r.parts_group)
        .bind(&r.institute)
        .bind(r.create_time)
        .bind(r.update_time)
        .bind(r.revision)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update(conn: &mut AnyConnection, r: &Rule, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE routing_rules SET category = $2, parts_group = $3, institute = $4, \
         update_time = $5, revision = $6 WHERE id = $1 AND revision = $7",
    )
    .bind(&r.id)
    .bind(&r.category)
    .bind(&r.parts_group)
    .bind(&r.institute)
    .bind(r.update_time)
    .bind(r.revision)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool, Error> {
    let done = sqlx::query("DELETE FROM routing_rules WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
