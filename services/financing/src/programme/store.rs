//! The programmes' SQL. The record is stored as its encoded message.

use gearshift_platform::Error;
use gearshift_platform::sql::{decode_message, encode_message};
use gearshift_proto::financing::v1 as pb;
use sqlx::AnyConnection;

/// A programme as stored: the message (without id, status, times and
/// etag) and those columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub status: pb::programme::Status,
    pub body: pb::Programme,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    status: String,
    content: String,
    create_time: i64,
    update_time: i64,
    revision: i64,
}

const COLUMNS: &str = "id, status, content, create_time, update_time, revision";

/// A programme's stored `content` column, decoded.
pub fn decode_content(content: &str) -> Result<pb::Programme, Error> {
    decode_message(content)
}

fn decode(r: Row) -> Result<Stored, Error> {
    Ok(Stored {
        status: pb::programme::Status::from_str_name(&r.status)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown status {:?}", r.status)))?,
        body: decode_content(&r.content)?,
        id: r.id,
        create_time: r.create_time,
        update_time: r.update_time,
        revision: r.revision,
    })
}

pub async fn insert(conn: &mut AnyConnection, p: &Stored) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO programmes (id, status, content, create_time, update_time, revision) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&p.id)
    .bind(p.status.as_str_name())
    .bind(encode_message(&p.body))
    .bind(p.create_time)
    .bind(p.update_time)
    .bind(p.revision)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut AnyConnection, p: &Stored, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE programmes SET status = $2, content = $3, update_time = $4, revision = $5 \
         WHERE id = $1 AND revision = $6",
    )
    .bind(&p.id)
    .bind(p.status.as_str_name())
    .bind(encode_message(&p.body))
    .bind(p.update_time)
    .bind(p.revision)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM programmes WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// Newest first, after `(create_time, id)` of the last one seen.
pub async fn list(
    conn: &mut AnyConnection,
    statuses: &[&str],
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Stored>, Error> {
    use gearshift_platform::sql::{Conditions, Value};
    let mut c = Conditions::new();
    if !statuses.is_empty() {
        let list: Vec<String> = statuses.iter().map(|s| format!("'{s}'")).collect();
        c.push(
            &format!("status IN ({})", list.join(", ")),
            Vec::<Value>::new(),
        );
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
            "programmes",
            "create_time DESC, id DESC",
            limit,
        )
        .await?;
    rows.into_iter().map(decode).collect()
}

/// The ids of the programmes that name `institute` as an advisor.
pub async fn advised_by(conn: &mut AnyConnection, institute: &str) -> Result<Vec<String>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM programmes WHERE status <> 'DRAFT'");
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?;
    let mut ids = Vec::new();
    for row in rows {
        let p = decode(row)?;
        if p.body.advisor_institutes.iter().any(|c| c == institute) {
            ids.push(p.id);
        }
    }
    Ok(ids)
}
