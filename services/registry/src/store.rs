//! The registry's SQL. One code path for SQLite and PostgreSQL (see
//! `gearshift_platform::db` for the rules the queries follow).

use gearshift_platform::{Error, db};
use sqlx::{AnyConnection, AnyPool};

use crate::domain::{BusinessNumber, Status, Supplier};

const COLUMNS: &str = "id, business_number, legal_name, status, create_time, update_time, revision";

type Row = (String, String, String, String, i64, i64, i64);

fn from_row(r: Row) -> Result<Supplier, Error> {
    let status = Status::parse(&r.3)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown stored status {:?}", r.3)))?;
    Ok(Supplier {
        id: r.0,
        business_number: BusinessNumber::from_stored(r.1),
        legal_name: r.2,
        status,
        create_time: r.4,
        update_time: r.5,
        revision: r.6,
    })
}

fn duplicate_number(number: &BusinessNumber) -> Error {
    Error::AlreadyExists {
        resource: "supplier",
        field: "businessNumber".into(),
        message: format!(
            "a supplier with business number {} is already registered",
            number.formatted()
        ),
    }
}

#[tracing::instrument(skip_all, fields(supplier.id = %s.id))]
pub async fn insert(conn: &mut AnyConnection, s: &Supplier) -> Result<(), Error> {
    let result = sqlx::query(
        "INSERT INTO suppliers (id, business_number, legal_name, status, create_time, update_time, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id)
    .bind(s.business_number.digits())
    .bind(&s.legal_name)
    .bind(s.status.as_str())
    .bind(s.create_time)
    .bind(s.update_time)
    .bind(s.revision)
    .execute(conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if db::is_unique_violation(&e) => Err(duplicate_number(&s.business_number)),
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(skip(conn))]
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Supplier>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM suppliers WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(from_row).transpose()
}

/// Suppliers in id (= creation) order after `after_id`; only `only_id` when set.
#[tracing::instrument(skip(pool))]
pub async fn list(
    pool: &AnyPool,
    after_id: &str,
    only_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Supplier>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM suppliers WHERE id > $1 AND ($2 = '' OR id = $2) ORDER BY id LIMIT $3"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after_id)
        .bind(only_id.unwrap_or(""))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// Writes `s` if the stored revision is still `expected_revision`; returns
/// whether it did. `s.revision` must already be the new revision.
#[tracing::instrument(skip_all, fields(supplier.id = %s.id))]
pub async fn update(
    conn: &mut AnyConnection,
    s: &Supplier,
    expected_revision: i64,
) -> Result<bool, Error> {
    let result = sqlx::query(
        "UPDATE suppliers SET business_number = $1, legal_name = $2, status = $3, update_time = $4, revision = $5 \
         WHERE id = $6 AND revision = $7",
    )
    .bind(s.business_number.digits())
    .bind(&s.legal_name)
    .bind(s.status.as_str())
    .bind(s.update_time)
    .bind(s.revision)
    .bind(&s.id)
    .bind(expected_revision)
    .execute(conn)
    .await;
    match result {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(e) if db::is_unique_violation(&e) => Err(duplicate_number(&s.business_number)),
        Err(e) => Err(e.into()),
    }
}
