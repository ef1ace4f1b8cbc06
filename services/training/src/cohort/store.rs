//! The cohorts' SQL: the settings as an encoded message, the seat counters
//! as columns moved by conditional updates.

use gearshift_platform::Error;
use gearshift_platform::sql::{Conditions, Value, decode_message, encode_message};
use gearshift_proto::training::v1 as pb;
use pb::cohort::Status;
use sqlx::AnyConnection;

#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub status: Status,
    pub body: pb::Cohort,
    pub seats_taken: i64,
    pub waitlisted: i64,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    status: String,
    content: String,
    seats_taken: i64,
    waitlisted: i64,
    create_time: i64,
    update_time: i64,
    revision: i64,
}

const COLUMNS: &str =
    "id, status, content, seats_taken, waitlisted, create_time, update_time, revision";

fn decode(r: Row) -> Result<Stored, Error> {
    Ok(Stored {
        status: Status::from_str_name(&r.status)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown status {:?}", r.status)))?,
        body: decode_message(&r.content)?,
        id: r.id,
        seats_taken: r.seats_taken,
        waitlisted: r.waitlisted,
        create_time: r.create_time,
        update_time: r.update_time,
        revision: r.revision,
    })
}

pub async fn insert(conn: &mut AnyConnection, c: &Stored) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO cohorts (id, course_id, institute, status, start_date, end_date, capacity, \
         seats_taken, waitlisted, waitlist_seq, company_quota, content, create_time, \
         update_time, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, $8, $9, $10, $11, $12)",
    )
    .bind(&c.id)
    .bind(&c.body.course_id)
    .bind(&c.body.institute)
    .bind(c.status.as_str_name())
    .bind(&c.body.start_date)
    .bind(&c.body.end_date)
    .bind(i64::from(c.body.capacity))
    .bind(i64::from(c.body.company_quota))
    .bind(encode_message(&c.body))
    .bind(c.create_time)
    .bind(c.update_time)
    .bind(c.revision)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the settings and status (not the counters), if still at
/// `expected`.
pub async fn update(conn: &mut AnyConnection, c: &Stored, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE cohorts SET status = $2, capacity = $3, content = $4, update_time = $5, \
         revision = $6 WHERE id = $1 AND revision = $7",
    )
    .bind(&c.id)
    .bind(c.status.as_str_name())
    .bind(i64::from(c.body.capacity))
    .bind(encode_message(&c.body))
    .bind(c.update_time)
    .bind(c.revision)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM cohorts WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(decode).transpose()
}

/// By start date, after `(start_date, id)` of the last one seen.
pub async fn list(
    conn: &mut AnyConnection,
    course_id: Option<&str>,
    institute: Option<&str>,
    status: Option<Status>,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<Stored>, Error> {
    let mut c = Conditions::new();
    if let Some(course) = course_id {
        c.push("course_id = {}", [course]);
    }
    if let Some(code) = institute {
        c.push("institute = {}", [code]);
    }
    if let Some(s) = status {
        c.push("status = {}", [s.as_str_name()]);
    }
    if let Some((start, id)) = after {
        c.push(
            "(start_date > {} OR (start_date = {} AND id > {}))",
            [
                Value::Text(start.clone()),
                Value::Text(start),
                Value::Text(id),
            ],
        );
    }
    let rows: Vec<Row> = c
        .fetch(conn, COLUMNS, "cohorts", "start_date, id", limit)
        .await?;
    rows.into_iter().map(decode).collect()
}

/// Takes a seat if one is free and the cohort is ENROLLING: the one
/// statement that keeps confirmed enrolments within capacity.
pub async fn take_seat(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE cohorts SET seats_taken = seats_taken + 1, revision = revision + 1, \
         update_time = $2 WHERE id = $1 AND status = 'ENROLLING' AND seats_taken < capacity",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a seat back.
pub async fn free_seat(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), Error> {
    sqlx::query(
        "UPDATE cohorts SET seats_taken = seats_taken - 1, revision = revision + 1, \
         update_time = $2 WHERE id = $1 AND seats_taken > 0",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts one more on the waitlist of an ENROLLING cohort; its number in
/// the order of arrival, or `None` when the cohort is not enrolling.
pub async fn join_waitlist(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<Option<i64>, Error> {
    #[derive(sqlx::FromRow)]
    struct Seq {
        waitlist_seq: i64,
    }
    let seq: Option<Seq> = sqlx::query_as(
        "UPDATE cohorts SET waitlisted = waitlisted + 1, waitlist_seq = waitlist_seq + 1, \
         revision = revision + 1, update_time = $2 WHERE id = $1 AND status = 'ENROLLING' \
         RETURNING waitlist_seq",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(seq.map(|s| s.waitlist_seq))
}

/// One fewer on the waitlist, leaving it without a seat.
pub async fn leave_waitlist(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), Error> {
    sqlx::query(
        "UPDATE cohorts SET waitlisted = waitlisted - 1, revision = revision + 1, \
         update_time = $2 WHERE id = $1 AND waitlisted > 0",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves one from the waitlist to a free seat of an ENROLLING cohort;
/// `false` when there is no free seat (or no one waiting).
pub async fn promote_seat(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE cohorts SET waitlisted = waitlisted - 1, seats_taken = seats_taken + 1, \
         revision = revision + 1, update_time = $2 WHERE id = $1 AND status = 'ENROLLING' \
         AND seats_taken < capacity AND waitlisted > 0",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A cancelled cohort's counters and company places, back to zero.
pub async fn empty(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), Error> {
    sqlx::query(
        "UPDATE cohorts SET seats_taken = 0, waitlisted = 0, revision = revision + 1, \
         update_time = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM company_places WHERE cohort_id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes one of a company's places in a cohort with a quota; `false` when
/// the company has as many as the quota allows.
pub async fn take_company_place(
    conn: &mut AnyConnection,
    cohort_id: &str,
    supplier_id: &str,
    quota: i64,
) -> Result<bool, Error> {
    sqlx::query(
        "INSERT INTO company_places (cohort_id, supplier_id, taken) VALUES ($1, $2, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(cohort_id)
    .bind(supplier_id)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "UPDATE company_places SET taken = taken + 1 \
         WHERE cohort_id = $1 AND supplier_id = $2 AND taken < $3",
    )
    .bind(cohort_id)
    .bind(supplier_id)
    .bind(quota)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn free_company_place(
    conn: &mut AnyConnection,
    cohort_id: &str,
    supplier_id: &str,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE company_places SET taken = taken - 1 \
         WHERE cohort_id = $1 AND supplier_id = $2 AND taken > 0",
    )
    .bind(cohort_id)
    .bind(supplier_id)
    .execute(conn)
    .await?;
    Ok(())
}
