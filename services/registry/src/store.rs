//! The registry's SQL. One code path for SQLite and PostgreSQL (see
//! `gearshift_platform::db` for the rules the queries follow).

use gearshift_platform::{Error, db};
use sqlx::{AnyConnection, AnyPool};

use crate::domain::{BusinessNumber, Status, Supplier};
use crate::stage::{self, Stage, StageChange};

const COLUMNS: &str = "id, business_number, legal_name, status, status_reason, create_time, update_time, revision, profile, stage";

type Row = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
);

fn from_row(r: Row) -> Result<Supplier, Error> {
    let status = Status::parse(&r.3)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown stored status {:?}", r.3)))?;
    Ok(Supplier {
        id: r.0,
        business_number: BusinessNumber::from_stored(r.1),
        legal_name: r.2,
        status,
        status_reason: r.4,
        create_time: r.5,
        update_time: r.6,
        revision: r.7,
        profile: serde_json::from_str(&r.8).map_err(Error::internal)?,
        stage: Stage::parse(&r.9)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown stored stage {:?}", r.9)))?,
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

fn profile_json(s: &Supplier) -> Result<String, Error> {
    serde_json::to_string(&s.profile).map_err(Error::internal)
}

/// `,A,B,` so that a group filter is `LIKE '%,A,%'` on both engines.
fn groups_column(s: &Supplier) -> String {
    if s.profile.parts_groups.is_empty() {
        String::new()
    } else {
        format!(",{},", s.profile.parts_groups.join(","))
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the record's writable values as `$1`..`$14`, in the column order
/// that `insert` and `update` both use.
fn bind_record<'q>(query: AnyQuery<'q>, s: &'q Supplier) -> Result<AnyQuery<'q>, Error> {
    Ok(query
        .bind(s.business_number.digits())
        .bind(&s.legal_name)
        .bind(s.status.as_str())
        .bind(&s.status_reason)
        .bind(s.update_time)
        .bind(s.revision)
        .bind(profile_json(s)?)
        .bind(&s.profile.region)
        .bind(s.profile.employee_count.map(i64::from))
        .bind(s.profile.sme.map(i64::from))
        .bind(i64::from(s.profile.council_member))
        .bind(groups_column(s))
        .bind(s.stage.as_str())
        .bind(s.stage.rank()))
}

#[tracing::instrument(skip_all, fields(supplier.id = %s.id))]
pub async fn insert(conn: &mut AnyConnection, s: &Supplier) -> Result<(), Error> {
    let query = sqlx::query(
        "INSERT INTO suppliers (business_number, legal_name, status, status_reason, update_time, revision, \
         profile, region, employee_count, sme, council_member, parts_groups, stage, stage_rank, id, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    );
    let result = bind_record(query, s)?
        .bind(&s.id)
        .bind(s.create_time)
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

/// What a supplier list is narrowed to; empty values mean "any".
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Only this supplier (a company's own key).
    pub only_id: String,
    pub status: String,
    pub region: String,
    pub parts_group: String,
    pub sme: Option<bool>,
    pub council_member: Option<bool>,
    pub query: String,
}

impl Filter {
    /// The filter's values in a fixed order, for page-token fingerprints.
    pub fn fingerprint_parts(&self) -> Vec<String> {
        vec![
            self.only_id.clone(),
            self.status.clone(),
            self.region.clone(),
            self.parts_group.clone(),
            format!("{:?}", self.sme),
            format!("{:?}", self.council_member),
            self.query.clone(),
        ]
    }
}

/// `%text%` for LIKE, with the wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Suppliers in id (= creation) order after `after_id`, narrowed by `filter`.
#[tracing::instrument(skip(pool))]
pub async fn list(
    pool: &AnyPool,
    after_id: &str,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<Supplier>, Error> {
    // One statement for every combination: an empty (or negative) parameter
    // switches its condition off, so the SQL text never depends on input.
    let sql = format!(
        "SELECT {COLUMNS} FROM suppliers WHERE id > $1 \
         AND ($2 = '' OR id = $2) \
         AND ($3 = '' OR status = $3) \
         AND ($4 = '' OR region = $4) \
         AND ($5 = '' OR parts_groups LIKE $5) \
         AND ($6 < 0 OR sme = $6) \
         AND ($7 < 0 OR council_member = $7) \
         AND ($8 = '' OR LOWER(legal_name) LIKE $9 ESCAPE '\\' \
              OR ($10 <> '' AND business_number LIKE $10 ESCAPE '\\')) \
         ORDER BY id LIMIT $11"
    );
    let query = filter.query.trim().to_lowercase();
    let digits: String = query.chars().filter(|c| c.is_ascii_digit()).collect();
    let flag = |b: Option<bool>| b.map(i64::from).unwrap_or(-1);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after_id)
        .bind(&filter.only_id)
        .bind(&filter.status)
        .bind(&filter.region)
        .bind(if filter.parts_group.is_empty() {
            String::new()
        } else {
            format!("%,{},%", filter.parts_group)
        })
        .bind(flag(filter.sme))
        .bind(flag(filter.council_member))
        .bind(&query)
        .bind(contains_pattern(&query))
        .bind(if digits.is_empty() {
            String::new()
        } else {
            contains_pattern(&digits)
        })
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
    let query = sqlx::query(
        "UPDATE suppliers SET business_number = $1, legal_name = $2, status = $3, status_reason = $4, \
         update_time = $5, revision = $6, profile = $7, region = $8, employee_count = $9, sme = $10, \
         council_member = $11, parts_groups = $12, stage = $13, stage_rank = $14 \
         WHERE id = $15 AND revision = $16",
    );
    let result = bind_record(query, s)?
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

#[tracing::instrument(skip(conn))]
pub async fn get_by_number(
    conn: &mut AnyConnection,
    digits: &str,
) -> Result<Option<Supplier>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM suppliers WHERE business_number = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(digits)
        .fetch_optional(conn)
        .await?;
    row.map(from_row).transpose()
}

/// The suppliers with these ids (in no particular order; missing ones absent).
#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn get_many(pool: &AnyPool, ids: &[String]) -> Result<Vec<Supplier>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Placeholders only: the SQL is built from fixed fragments, values are bound.
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM suppliers WHERE id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(pool).await?;
    rows.into_iter().map(from_row).collect()
}

const STAGE_COLUMNS: &str = "id, supplier_id, from_stage, to_stage, state, content, recorded_by, \
                             recorded_by_role, create_time, decided_by, decide_time, decision_note";

type StageRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    String,
);

/// The free-text parts of a stage change, stored as one JSON column.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StageContent {
    evidence: String,
    evidence_documents: Vec<String>,
    reason: String,
}

fn stage_from_row(r: StageRow) -> Result<StageChange, Error> {
    let corrupt =
        |what: &str, v: &str| Error::internal(anyhow::anyhow!("unknown stored {what} {v:?}"));
    let content: StageContent = serde_json::from_str(&r.5).map_err(Error::internal)?;
    Ok(StageChange {
        from_stage: Stage::parse(&r.2).ok_or_else(|| corrupt("stage", &r.2))?,
        to_stage: Stage::parse(&r.3).ok_or_else(|| corrupt("stage", &r.3))?,
        state: stage::State::parse(&r.4).ok_or_else(|| corrupt("state", &r.4))?,
        id: r.0,
        supplier_id: r.1,
        evidence: content.evidence,
        evidence_documents: content.evidence_documents,
        reason: content.reason,
        recorded_by: r.6,
        recorded_by_role: r.7,
        create_time: r.8,
        decided_by: r.9,
        decide_time: r.10,
        decision_note: r.11,
    })
}

#[tracing::instrument(skip_all, fields(stage_change.id = %c.id))]
pub async fn insert_stage_change(conn: &mut AnyConnection, c: &StageChange) -> Result<(), Error> {
    let content = serde_json::to_string(&StageContent {
        evidence: c.evidence.clone(),
        evidence_documents: c.evidence_documents.clone(),
        reason: c.reason.clone(),
    })
    .map_err(Error::internal)?;
    let sql = format!(
        "INSERT INTO stage_changes ({STAGE_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&c.id)
        .bind(&c.supplier_id)
        .bind(c.from_stage.as_str())
        .bind(c.to_stage.as_str())
        .bind(c.state.as_str())
        .bind(content)
        .bind(&c.recorded_by)
        .bind(&c.recorded_by_role)
        .bind(c.create_time)
        .bind(&c.decided_by)
        .bind(c.decide_time)
        .bind(&c.decision_note)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(skip(conn))]
pub async fn get_stage_change(
    conn: &mut AnyConnection,
    supplier_id: &str,
    id: &str,
) -> Result<Option<StageChange>, Error> {
    let sql =
        format!("SELECT {STAGE_COLUMNS} FROM stage_changes WHERE supplier_id = $1 AND id = $2");
    let row: Option<StageRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(supplier_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(stage_from_row).transpose()
}

/// The supplier's proposal that waits for an operator, if any.
#[tracing::instrument(skip(conn))]
pub async fn pending_proposal(
    conn: &mut AnyConnection,
    supplier_id: &str,
) -> Result<Option<StageChange>, Error> {
    let sql = format!(
        "SELECT {STAGE_COLUMNS} FROM stage_changes WHERE supplier_id = $1 AND state = 'PROPOSED' \
         ORDER BY id LIMIT 1"
    );
    let row: Option<StageRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(supplier_id)
        .fetch_optional(conn)
        .await?;
    row.map(stage_from_row).transpose()
}

/// Records the decision on a proposal, if it is still PROPOSED; returns
/// whether it was.
#[tracing::instrument(skip_all, fields(stage_change.id = %c.id))]
pub async fn decide_stage_change(conn: &mut AnyConnection, c: &StageChange) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE stage_changes SET state = $1, decided_by = $2, decide_time = $3, decision_note = $4 \
         WHERE id = $5 AND state = 'PROPOSED'",
    )
    .bind(c.state.as_str())
    .bind(&c.decided_by)
    .bind(c.decide_time)
    .bind(&c.decision_note)
    .bind(&c.id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A supplier's stage changes in id (= creation) order after `after_id`;
/// `state` empty for all.
#[tracing::instrument(skip(pool))]
pub async fn list_stage_changes(
    pool: &AnyPool,
    supplier_id: &str,
    after_id: &str,
    state: &str,
    limit: i64,
) -> Result<Vec<StageChange>, Error> {
    let sql = format!(
        "SELECT {STAGE_COLUMNS} FROM stage_changes WHERE supplier_id = $1 AND id > $2 \
         AND ($3 = '' OR state = $3) ORDER BY id LIMIT $4"
    );
    let rows: Vec<StageRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(supplier_id)
        .bind(after_id)
        .bind(state)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(stage_from_row).collect()
}
