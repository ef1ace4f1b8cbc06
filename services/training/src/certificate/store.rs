//! The certificates' SQL: the public view as an encoded message.

use gearshift_platform::Error;
use gearshift_platform::sql::{decode_message, encode_message};
use gearshift_proto::training::v1 as pb;
use sqlx::AnyConnection;

pub async fn insert(
    conn: &mut AnyConnection,
    enrollment_id: &str,
    c: &pb::Certificate,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO certificates (id, enrollment_id, revoked, content, issue_time) \
         VALUES ($1, $2, 0, $3, $4)",
    )
    .bind(&c.id)
    .bind(enrollment_id)
    .bind(encode_message(c))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(String, pb::Certificate)>, Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT enrollment_id, content FROM certificates WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.map(|(e, content)| Ok((e, decode_message(&content)?)))
        .transpose()
}

/// Marks `c` revoked (it carries the reason and time); `false` when it
/// already was.
pub async fn revoke(conn: &mut AnyConnection, c: &pb::Certificate) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE certificates SET revoked = 1, content = $2 WHERE id = $1 AND revoked = 0",
    )
    .bind(&c.id)
    .bind(encode_message(c))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
