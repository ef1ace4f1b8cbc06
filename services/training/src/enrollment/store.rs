//! The enrolments' SQL: plain columns, no encoded message.

use gearshift_platform::Error;
use gearshift_platform::sql::{Conditions, Value};
use gearshift_proto::training::v1 as pb;
use pb::enrollment::Status;
use sqlx::AnyConnection;

use super::rules::{InLine, is_active};

#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub cohort_id: String,
    pub trainee_id: String,
    pub supplier_id: Option<String>,
    pub institute: String,
    pub status: Status,
    pub young: bool,
    pub waitlist_seq: Option<i64>,
    pub status_reason: String,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
    pub attendance_percent: i64,
    pub certificate_id: Option<String>,
    pub offer_expire_time: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    cohort_id: String,
    trainee_id: String,
    supplier_id: Option<String>,
    institute: String,
    status: String,
    young: i64,
    waitlist_seq: Option<i64>,
    status_reason: String,
    create_time: i64,
    update_time: i64,
    revision: i64,
    attendance_percent: i64,
    certificate_id: Option<String>,
    offer_expire_time: Option<i64>,
}

const COLUMNS: &str = "id, cohort_id, trainee_id, supplier_id, institute, status, young, \
                       waitlist_seq, status_reason, create_time, update_time, revision, \
                       attendance_percent, certificate_id, offer_expire_time";

fn decode(r: Row) -> Result<Stored, Error> {
    Ok(Stored {
        status: Status::from_str_name(&r.status)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown status {:?}", r.status)))?,
        id: r.id,
        cohort_id: r.cohort_id,
        trainee_id: r.trainee_id,
        supplier_id: r.supplier_id,
        institute: r.institute,
        young: r.young != 0,
        waitlist_seq: r.waitlist_seq,
        status_reason: r.status_reason,
        create_time: r.create_time,
        update_time: r.update_time,
        revision: r.revision,
        attendance_percent: r.attendance_percent,
        certificate_id: r.certificate_id,
        offer_expire_time: r.offer_expire_time,
    })
}

/// Inserts `e`; `false` when the trainee is already in the cohort.
pub async fn insert(conn: &mut AnyConnection, e: &Stored) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO enrollments (id, cohort_id, trainee_id, supplier_id, institute, status, \
         active, young, waitlist_seq, status_reason, create_time, update_time, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
    )
    .bind(&e.id)
    .bind(&e.cohort_id)
    .bind(&e.trainee_id)
    .bind(&e.supplier_id)
    .bind(&e.institute)
    .bind(e.status.as_str_name())
    .bind(i64::from(is_active(e.status)))
    .bind(i64::from(e.young))
    .bind(e.waitlist_seq)
    .bind(&e.status_reason)
    .bind(e.create_time)
    .bind(e.update_time)
    .bind(e.revision)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update(conn: &mut AnyConnection, e: &Stored, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE enrollments SET status = $2, active = $3, status_reason = $4, update_time = $5, \
         revision = $6, attendance_percent = $8, certificate_id = $9, offer_expire_time = $10 \
         WHERE id = $1 AND revision = $7",
    )
    .bind(&e.id)
    .bind(e.status.as_str_name())
    .bind(i64::from(is_active(e.status)))
    .bind(&e.status_reason)
    .bind(e.update_time)
    .bind(e.revision)
    .bind(expected)
    .bind(e.attendance_percent)
    .bind(&e.certificate_id)
    .bind(e.offer_expire_time)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM enrollments WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// The trainee's active enrolment in the cohort, if any.
pub async fn of_trainee_in(
    conn: &mut AnyConnection,
    trainee: &str,
    cohort: &str,
) -> Result<Option<Stored>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM enrollments WHERE trainee_id = $1 AND cohort_id = $2 AND active = 1"
    );
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(trainee)
        .bind(cohort)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// A cohort the trainee holds a seat or a place in line for whose dates
/// overlap `start..=end`.
pub async fn overlapping(
    conn: &mut AnyConnection,
    trainee: &str,
    start: &str,
    end: &str,
) -> Result<Option<String>, Error> {
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT e.cohort_id FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id \
         WHERE e.trainee_id = $1 AND e.status IN ('CONFIRMED', 'WAITLISTED', 'OFFERED') \
         AND c.status NOT IN ('FINISHED', 'CANCELLED') \
         AND c.start_date <= $3 AND c.end_date >= $2 LIMIT 1",
    )
    .bind(trainee)
    .bind(start)
    .bind(end)
    .fetch_optional(conn)
    .await?;
    Ok(found.map(|f| f.0))
}

/// Of `courses`, those the trainee has completed.
pub async fn completed_courses(
    conn: &mut AnyConnection,
    trainee: &str,
) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT c.course_id FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id \
         WHERE e.trainee_id = $1 AND e.status = 'COMPLETED'",
    )
    .bind(trainee)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A cohort's enrolments in any of `statuses`, oldest first.
pub async fn in_cohort(
    conn: &mut AnyConnection,
    cohort: &str,
    statuses: &[Status],
) -> Result<Vec<Stored>, Error> {
    let mut c = Conditions::new();
    c.push("cohort_id = {}", [cohort]);
    let marks = vec!["{}"; statuses.len()].join(", ");
    c.push(
        &format!("status IN ({marks})"),
        statuses.iter().map(|s| Value::Text(s.as_str_name().into())),
    );
    let rows: Vec<Row> = c
        .fetch(conn, COLUMNS, "enrollments", "create_time, id", i64::MAX)
        .await?;
    rows.into_iter().map(decode).collect()
}

/// Up to `limit` offers that lapsed by `now`, oldest first; on PostgreSQL
/// each is claimed (`FOR UPDATE SKIP LOCKED`), so replicas sweeping at
/// once take different ones.
pub async fn lapsed_offers(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
    postgres: bool,
) -> Result<Vec<Stored>, Error> {
    let lock = if postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM enrollments WHERE status = 'OFFERED' AND offer_expire_time <= $1 \
         ORDER BY offer_expire_time, id LIMIT $2{lock}"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(decode).collect()
}

/// A cohort's waitlist, unordered.
pub async fn waitlist(conn: &mut AnyConnection, cohort: &str) -> Result<Vec<InLine>, Error> {
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, young, waitlist_seq FROM enrollments \
         WHERE cohort_id = $1 AND status = 'WAITLISTED'",
    )
    .bind(cohort)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, young, seq)| InLine {
            id,
            young: young != 0,
            seq: seq.unwrap_or(i64::MAX),
        })
        .collect())
}

/// Who a list may show.
pub enum Scope<'a> {
    All,
    Company(&'a str),
    Institute(&'a str),
}

/// What a list is narrowed to.
#[derive(Default)]
pub struct Filter<'a> {
    pub cohort_id: Option<&'a str>,
    pub trainee_id: Option<&'a str>,
    pub status: Option<Status>,
}

/// Oldest first, after `(create_time, id)` of the last one seen.
pub async fn list(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    filter: Filter<'_>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Stored>, Error> {
    let mut c = Conditions::new();
    match scope {
        Scope::All => {}
        Scope::Company(own) => c.push("supplier_id = {}", [own]),
        Scope::Institute(code) => c.push("institute = {}", [code]),
    }
    if let Some(v) = filter.cohort_id {
        c.push("cohort_id = {}", [v]);
    }
    if let Some(v) = filter.trainee_id {
        c.push("trainee_id = {}", [v]);
    }
    if let Some(s) = filter.status {
        c.push("status = {}", [s.as_str_name()]);
    }
    if let Some((time, id)) = after {
        c.push(
            "(create_time > {} OR (create_time = {} AND id > {}))",
            [Value::Int(time), Value::Int(time), Value::Text(id)],
        );
    }
    let rows: Vec<Row> = c
        .fetch(conn, COLUMNS, "enrollments", "create_time, id", limit)
        .await?;
    rows.into_iter().map(decode).collect()
}
