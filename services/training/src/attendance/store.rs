//! The attendance records' SQL: inserted, never updated.

use gearshift_platform::Error;
use gearshift_platform::sql::{Conditions, Value};
use gearshift_proto::training::v1 as pb;
use sqlx::AnyConnection;

use super::rules::Mark;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    enrollment_id: String,
    session_day: String,
    present: i64,
    note: String,
    recorded_by: String,
    record_time: i64,
    seq: i64,
}

const COLUMNS: &str =
    "id, enrollment_id, session_day, present, note, recorded_by, record_time, seq";

fn to_proto(r: Row) -> (pb::AttendanceRecord, i64) {
    (
        pb::AttendanceRecord {
            id: r.id,
            enrollment_id: r.enrollment_id,
            session_day: r.session_day,
            present: r.present != 0,
            note: r.note,
            recorded_by: r.recorded_by,
            record_time: Some(gearshift_platform::time::to_timestamp(r.record_time)),
        },
        r.seq,
    )
}

/// Appends `r`, numbered after the enrolment's last record.
pub async fn insert(
    conn: &mut AnyConnection,
    r: &pb::AttendanceRecord,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO attendance (id, enrollment_id, session_day, present, note, recorded_by, \
         record_time, seq) SELECT $1, $2, $3, $4, $5, $6, $7, COALESCE(MAX(seq), 0) + 1 \
         FROM attendance WHERE enrollment_id = $2",
    )
    .bind(&r.id)
    .bind(&r.enrollment_id)
    .bind(&r.session_day)
    .bind(i64::from(r.present))
    .bind(&r.note)
    .bind(&r.recorded_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every record of an enrolment, as marks for the rules.
pub async fn marks(conn: &mut AnyConnection, enrollment: &str) -> Result<Vec<Mark>, Error> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT session_day, present, seq FROM attendance WHERE enrollment_id = $1")
            .bind(enrollment)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(day, present, seq)| Mark {
            day,
            present: present != 0,
            seq,
        })
        .collect())
}

/// Oldest first, after the `seq` of the last one seen.
pub async fn list(
    conn: &mut AnyConnection,
    enrollment: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<(pb::AttendanceRecord, i64)>, Error> {
    let mut c = Conditions::new();
    c.push("enrollment_id = {}", [enrollment]);
    if let Some(seq) = after {
        c.push("seq > {}", [Value::Int(seq)]);
    }
    let rows: Vec<Row> = c.fetch(conn, COLUMNS, "attendance", "seq", limit).await?;
    Ok(rows.into_iter().map(to_proto).collect())
}
