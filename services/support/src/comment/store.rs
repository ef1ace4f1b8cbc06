//! The comments' SQL.

use gearshift_platform::Error;
use sqlx::AnyConnection;

use super::Comment;

const COLUMNS: &str = "id, ticket_id, body, visibility, author, author_role, create_time";

pub async fn insert(conn: &mut AnyConnection, c: &Comment) -> Result<(), Error> {
    let sql = format!("INSERT INTO comments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&c.id)
        .bind(&c.ticket_id)
        .bind(&c.body)
        .bind(&c.visibility)
        .bind(&c.author)
        .bind(&c.author_role)
        .bind(c.create_time)
        .execute(conn)
        .await?;
    Ok(())
}

/// A ticket's comments after `after_id`, oldest first; only public ones
/// when `public_only`.
pub async fn list(
    conn: &mut AnyConnection,
    ticket_id: &str,
    public_only: bool,
    after_id: &str,
    limit: i64,
) -> Result<Vec<Comment>, Error> {
    let visibility = if public_only {
        " AND visibility = 'PUBLIC'"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM comments WHERE ticket_id = $1 AND id > $2{visibility} \
         ORDER BY id LIMIT $3"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(ticket_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}
