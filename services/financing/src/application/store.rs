//! The applications' SQL. The record is stored as its encoded message.

use base64::Engine as _;
use gearshift_platform::Error;
use gearshift_proto::financing::v1 as pb;
use pb::application::Status;
use prost::Message as _;
use sqlx::AnyConnection;

use super::rules::is_active;

/// An application as stored: the message (status, times and etag are
/// columns) and those columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub status: Status,
    pub body: pb::Application,
    pub create_time: i64,
    pub update_time: i64,
    pub submit_time: Option<i64>,
    pub revision: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    status: String,
    content: String,
    create_time: i64,
    update_time: i64,
    submit_time: Option<i64>,
    revision: i64,
}

const COLUMNS: &str = "id, status, content, create_time, update_time, submit_time, revision";

fn decode(r: Row) -> Result<Stored, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&r.content)
        .map_err(Error::internal)?;
    Ok(Stored {
        status: Status::from_str_name(&r.status)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown status {:?}", r.status)))?,
        body: pb::Application::decode(bytes.as_slice()).map_err(Error::internal)?,
        id: r.id,
        create_time: r.create_time,
        update_time: r.update_time,
        submit_time: r.submit_time,
        revision: r.revision,
    })
}

fn encode(a: &pb::Application) -> String {
    base64::engine::general_purpose::STANDARD.encode(a.encode_to_vec())
}

/// Inserts `a`; `false` when the company already has an active
/// application to the programme (the partial unique index says so).
pub async fn insert(conn: &mut AnyConnection, a: &Stored) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO applications (id, programme_id, supplier_id, status, active, \
         requested_amount_won, content, create_time, update_time, submit_time, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind(&a.id)
    .bind(&a.body.programme_id)
    .bind(&a.body.supplier_id)
    .bind(a.status.as_str_name())
    .bind(i64::from(is_active(a.status)))
    .bind(a.body.requested_amount_won)
    .bind(encode(&a.body))
    .bind(a.create_time)
    .bind(a.update_time)
    .bind(a.submit_time)
    .bind(a.revision)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update(conn: &mut AnyConnection, a: &Stored, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE applications SET status = $2, active = $3, requested_amount_won = $4, \
         content = $5, update_time = $6, submit_time = $7, revision = $8 \
         WHERE id = $1 AND revision = $9",
    )
    .bind(&a.id)
    .bind(a.status.as_str_name())
    .bind(i64::from(is_active(a.status)))
    .bind(a.body.requested_amount_won)
    .bind(encode(&a.body))
    .bind(a.update_time)
    .bind(a.submit_time)
    .bind(a.revision)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// Newest first, narrowed by the filters that are set, after
/// `(create_time, id)` of the last one seen.
pub async fn list(
    conn: &mut AnyConnection,
    programme_id: Option<&str>,
    programme_in: Option<&[String]>,
    supplier_id: Option<&str>,
    status: Option<Status>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Stored>, Error> {
    use gearshift_platform::sql::{Conditions, Value};
    let mut c = Conditions::new();
    if let Some(p) = programme_id {
        c.push("programme_id = {}", [p]);
    }
    if let Some(ids) = programme_in {
        let marks = vec!["{}"; ids.len()].join(", ");
        c.push(
            &format!("programme_id IN ({marks})"),
            ids.iter().map(|i| Value::Text(i.clone())),
        );
    }
    if let Some(s) = supplier_id {
        c.push("supplier_id = {}", [s]);
    }
    if let Some(s) = status {
        c.push("status = {}", [s.as_str_name()]);
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
            "applications",
            "create_time DESC, id DESC",
            limit,
        )
        .await?;
    rows.into_iter().map(decode).collect()
}
