//! The trainees' SQL. Personal data is in the encoded message.

use gearshift_platform::Error;
use gearshift_platform::sql::{Conditions, Value, decode_message, encode_message};
use gearshift_proto::training::v1 as pb;
use sqlx::AnyConnection;

#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub body: pb::Trainee,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    content: String,
    create_time: i64,
    update_time: i64,
    revision: i64,
}

const COLUMNS: &str = "id, content, create_time, update_time, revision";

fn decode(r: Row) -> Result<Stored, Error> {
    Ok(Stored {
        body: decode_message(&r.content)?,
        id: r.id,
        create_time: r.create_time,
        update_time: r.update_time,
        revision: r.revision,
    })
}

pub async fn insert(conn: &mut AnyConnection, t: &Stored) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO trainees (id, supplier_id, content, create_time, update_time, revision) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.id)
    .bind((!t.body.supplier_id.is_empty()).then_some(t.body.supplier_id.as_str()))
    .bind(encode_message(&t.body))
    .bind(t.create_time)
    .bind(t.update_time)
    .bind(t.revision)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM trainees WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// Holds the trainee's row until the transaction ends, so that two
/// enrolments of one trainee run one after the other (their overlap and
/// "already in" checks then see each other).
pub async fn lock(conn: &mut AnyConnection, id: &str) -> Result<bool, Error> {
    let done = sqlx::query("UPDATE trainees SET revision = revision WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Who a list may show.
pub enum Scope<'a> {
    All,
    Company(&'a str),
    /// Trainees in a cohort this institute teaches.
    Institute(&'a str),
}

/// Newest first, after `(create_time, id)` of the last one seen.
pub async fn list(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    supplier_id: Option<&str>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Stored>, Error> {
    let mut c = Conditions::new();
    match scope {
        Scope::All => {}
        Scope::Company(own) => c.push("supplier_id = {}", [own]),
        Scope::Institute(code) => c.push(
            "id IN (SELECT trainee_id FROM enrollments WHERE institute = {} AND active = 1)",
            [code],
        ),
    }
    if let Some(s) = supplier_id {
        c.push("supplier_id = {}", [s]);
    }
    if let Some((time, id)) = after {
        c.push(
            "(create_time < {} OR (create_time = {} AND id < {}))",
            [Value::Int(time), Value::Int(time), Value::Text(id)],
        );
    }
    let rows: Vec<Row> = c
        .fetch(
            conn,
            COLUMNS,
            "trainees",
            "create_time DESC, id DESC",
            limit,
        )
        .await?;
    rows.into_iter().map(decode).collect()
}

/// Whether `institute` teaches a cohort `trainee` is in.
pub async fn taught_by(
    conn: &mut AnyConnection,
    trainee: &str,
    institute: &str,
) -> Result<bool, Error> {
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM enrollments WHERE trainee_id = $1 AND institute = $2 AND active = 1 \
         LIMIT 1",
    )
    .bind(trainee)
    .bind(institute)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}
