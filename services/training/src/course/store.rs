//! The courses' SQL. The record is stored as its encoded message.

use gearshift_platform::Error;
use gearshift_platform::sql::{Conditions, Value, decode_message, encode_message};
use gearshift_proto::training::v1 as pb;
use pb::course::Status;
use sqlx::AnyConnection;

/// A course as stored: the message (status, times and etag are columns)
/// and those columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub status: Status,
    pub body: pb::Course,
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

fn decode(r: Row) -> Result<Stored, Error> {
    Ok(Stored {
        status: Status::from_str_name(&r.status)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown status {:?}", r.status)))?,
        body: decode_message(&r.content)?,
        id: r.id,
        create_time: r.create_time,
        update_time: r.update_time,
        revision: r.revision,
    })
}

/// Inserts `c`; `false` when its code is taken.
pub async fn insert(conn: &mut AnyConnection, c: &Stored) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO courses (id, code, status, track, institute, content, create_time, \
         update_time, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&c.id)
    .bind(&c.body.code)
    .bind(c.status.as_str_name())
    .bind(
        pb::Track::try_from(c.body.track)
            .unwrap_or(pb::Track::Unspecified)
            .as_str_name(),
    )
    .bind(&c.body.institute)
    .bind(encode_message(&c.body))
    .bind(c.create_time)
    .bind(c.update_time)
    .bind(c.revision)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update(conn: &mut AnyConnection, c: &Stored, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE courses SET status = $2, content = $3, update_time = $4, revision = $5 \
         WHERE id = $1 AND revision = $6",
    )
    .bind(&c.id)
    .bind(c.status.as_str_name())
    .bind(encode_message(&c.body))
    .bind(c.update_time)
    .bind(c.revision)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM courses WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// Who sees which courses: everything, or the published ones and (for an
/// institute) its own.
pub enum Visible<'a> {
    All,
    Published { own_institute: Option<&'a str> },
}

/// By code, after the last code seen, narrowed to what is visible and the
/// filters set.
pub async fn list(
    conn: &mut AnyConnection,
    visible: Visible<'_>,
    status: Option<Status>,
    track: Option<pb::Track>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<Stored>, Error> {
    let mut c = Conditions::new();
    match visible {
        Visible::All => {}
        Visible::Published {
            own_institute: Some(code),
        } => c.push("(status = 'PUBLISHED' OR institute = {})", [code]),
        Visible::Published {
            own_institute: None,
        } => c.push("status = 'PUBLISHED'", Vec::<Value>::new()),
    }
    if let Some(s) = status {
        c.push("status = {}", [s.as_str_name()]);
    }
    if let Some(t) = track {
        c.push("track = {}", [t.as_str_name()]);
    }
    if let Some(code) = after {
        c.push("code > {}", [code]);
    }
    let rows: Vec<Row> = c.fetch(conn, COLUMNS, "courses", "code", limit).await?;
    rows.into_iter().map(decode).collect()
}

/// Of `ids`, those that are courses.
pub async fn existing(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<String>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(sqlx::FromRow)]
    struct Id {
        id: String,
    }
    let mut c = Conditions::new();
    let marks = vec!["{}"; ids.len()].join(", ");
    c.push(
        &format!("id IN ({marks})"),
        ids.iter().map(|i| Value::Text(i.clone())),
    );
    let rows: Vec<Id> = c.fetch(conn, "id", "courses", "id", i64::MAX).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
