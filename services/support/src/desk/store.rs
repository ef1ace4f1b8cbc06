//! The desks' SQL.

use std::collections::HashMap;

use gearshift_platform::Error;
use sqlx::AnyConnection;

use super::rules::{Desk, Person};
use crate::ticket::rules::Status;

#[derive(sqlx::FromRow)]
struct Row {
    institute: String,
    auto_assign: i64,
    business_hours: String,
    people: String,
    last_person: String,
    update_time: i64,
    revision: i64,
}

/// The desk of `institute`, or a new (unsaved) one.
pub async fn get(conn: &mut AnyConnection, institute: &str) -> Result<Desk, Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT institute, auto_assign, business_hours, people, last_person, update_time, \
         revision FROM support_desks WHERE institute = $1",
    )
    .bind(institute)
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else {
        return Ok(Desk::new(institute));
    };
    let people: Vec<Person> = serde_json::from_str(&r.people).map_err(Error::internal)?;
    Ok(Desk {
        institute: r.institute,
        auto_assign: r.auto_assign != 0,
        business_hours: r.business_hours,
        people,
        last_person: r.last_person,
        update_time: r.update_time,
        revision: r.revision,
    })
}

/// Stores `desk` if the stored one is still at `expected` (0: none yet);
/// `false` when another write got there first.
pub async fn save(conn: &mut AnyConnection, desk: &Desk, expected: i64) -> Result<bool, Error> {
    let people = serde_json::to_string(&desk.people).map_err(Error::internal)?;
    let query = if expected == 0 {
        "INSERT INTO support_desks (institute, auto_assign, business_hours, people, last_person, \
         update_time, revision) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (institute) DO NOTHING"
    } else {
        "UPDATE support_desks SET auto_assign = $2, business_hours = $3, people = $4, \
         last_person = $5, update_time = $6, revision = $7 WHERE institute = $1 AND revision = $8"
    };
    let mut q = sqlx::query(query)
        .bind(&desk.institute)
        .bind(i64::from(desk.auto_assign))
        .bind(&desk.business_hours)
        .bind(people)
        .bind(&desk.last_person)
        .bind(desk.update_time)
        .bind(desk.revision);
    if expected != 0 {
        q = q.bind(expected);
    }
    Ok(q.execute(conn).await?.rows_affected() == 1)
}

/// Open tickets per person of `institute`.
pub async fn open_counts(
    conn: &mut AnyConnection,
    institute: &str,
) -> Result<HashMap<String, i64>, Error> {
    let open: Vec<String> = Status::open()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let sql = format!(
        "SELECT person, COUNT(*) FROM tickets WHERE institute = $1 AND person <> '' \
         AND status IN ({}) GROUP BY person",
        open.join(", ")
    );
    let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(institute)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}
