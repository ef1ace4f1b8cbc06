//! The applications' SQL. The record is stored as its encoded message.

use gearshift_platform::Error;
use gearshift_platform::sql::{decode_message, encode_message};
use gearshift_proto::financing::v1 as pb;
use pb::application::Status;
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
    /// Who submitted it (an API key id): never its decider.
    pub submitted_by: Option<String>,
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
    submitted_by: Option<String>,
}

const COLUMNS: &str =
    "id, status, content, create_time, update_time, submit_time, revision, submitted_by";

fn decode(r: Row) -> Result<Stored, Error> {
    Ok(Stored {
        status: Status::from_str_name(&r.status)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown status {:?}", r.status)))?,
        body: decode_message(&r.content)?,
        id: r.id,
        create_time: r.create_time,
        update_time: r.update_time,
        submit_time: r.submit_time,
        revision: r.revision,
        submitted_by: r.submitted_by,
    })
}

/// The columns the figures read, taken from the record.
struct Figures {
    decide_time: Option<i64>,
    approved: i64,
    parts_group: Option<&'static str>,
    stage: Option<&'static str>,
}

fn figures(a: &Stored) -> Figures {
    use gearshift_proto::registry::v1::{PartsGroup, TransitionStage};
    let decision = a.body.decision.as_ref();
    let named = |v: i32, name: Option<&'static str>| (v != 0).then_some(name).flatten();
    Figures {
        decide_time: decision
            .and_then(|d| d.decide_time.as_ref())
            .map(gearshift_platform::time::from_timestamp),
        approved: decision.map_or(0, |d| d.approved_amount_won),
        parts_group: named(
            a.body.applicant_parts_group,
            PartsGroup::try_from(a.body.applicant_parts_group)
                .ok()
                .map(|g| g.as_str_name()),
        ),
        stage: named(
            a.body.applicant_stage,
            TransitionStage::try_from(a.body.applicant_stage)
                .ok()
                .map(|g| g.as_str_name()),
        ),
    }
}

/// Inserts `a`; `false` when the company already has an active
/// application to the programme (the partial unique index says so).
pub async fn insert(conn: &mut AnyConnection, a: &Stored) -> Result<bool, Error> {
    let f = figures(a);
    let done = sqlx::query(
        "INSERT INTO applications (id, programme_id, supplier_id, status, active, \
         requested_amount_won, content, create_time, update_time, submit_time, revision, \
         submitted_by, decide_time, approved_amount_won, disbursed_won, parts_group, stage) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&a.id)
    .bind(&a.body.programme_id)
    .bind(&a.body.supplier_id)
    .bind(a.status.as_str_name())
    .bind(i64::from(is_active(a.status)))
    .bind(a.body.requested_amount_won)
    .bind(encode_message(&a.body))
    .bind(a.create_time)
    .bind(a.update_time)
    .bind(a.submit_time)
    .bind(a.revision)
    .bind(&a.submitted_by)
    .bind(f.decide_time)
    .bind(f.approved)
    .bind(a.body.disbursed_won)
    .bind(f.parts_group)
    .bind(f.stage)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn update(conn: &mut AnyConnection, a: &Stored, expected: i64) -> Result<bool, Error> {
    let f = figures(a);
    let done = sqlx::query(
        "UPDATE applications SET status = $2, active = $3, requested_amount_won = $4, \
         content = $5, update_time = $6, submit_time = $7, revision = $8, submitted_by = $10, \
         decide_time = $11, approved_amount_won = $12, disbursed_won = $13, parts_group = $14, \
         stage = $15 WHERE id = $1 AND revision = $9",
    )
    .bind(&a.id)
    .bind(a.status.as_str_name())
    .bind(i64::from(is_active(a.status)))
    .bind(a.body.requested_amount_won)
    .bind(encode_message(&a.body))
    .bind(a.update_time)
    .bind(a.submit_time)
    .bind(a.revision)
    .bind(expected)
    .bind(&a.submitted_by)
    .bind(f.decide_time)
    .bind(f.approved)
    .bind(a.body.disbursed_won)
    .bind(f.parts_group)
    .bind(f.stage)
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

/// What a list is narrowed to; `None` is any.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub programme_id: Option<&'a str>,
    /// One of these programmes (an advisor's).
    pub programme_in: Option<&'a [String]>,
    pub supplier_id: Option<&'a str>,
    /// Assigned to this reviewer.
    pub reviewer: Option<&'a str>,
    pub status: Option<Status>,
}

/// Newest first, narrowed by `filter`, after `(create_time, id)` of the
/// last one seen.
pub async fn list(
    conn: &mut AnyConnection,
    filter: Filter<'_>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Stored>, Error> {
    use gearshift_platform::sql::{Conditions, Value};
    let Filter {
        programme_id,
        programme_in,
        supplier_id,
        reviewer,
        status,
    } = filter;
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
    if let Some(r) = reviewer {
        c.push(
            "id IN (SELECT application_id FROM reviews WHERE reviewer = {})",
            [r],
        );
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
