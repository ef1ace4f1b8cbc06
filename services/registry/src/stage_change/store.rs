//! The stage changes' SQL (SQLite or PostgreSQL, one code path).

use gearshift_platform::Error;
use gearshift_platform::sql::Conditions;
use sqlx::AnyConnection;

use super::rules::{self as stage, Stage, StageChange};

const STAGE_COLUMNS: &str = "id, supplier_id, from_stage, to_stage, state, content, recorded_by, \
                             recorded_by_role, create_time, decided_by, decide_time, decision_note";

/// A stage change as its row reads.
#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    supplier_id: String,
    from_stage: String,
    to_stage: String,
    state: String,
    content: String,
    recorded_by: String,
    recorded_by_role: String,
    create_time: i64,
    decided_by: String,
    decide_time: Option<i64>,
    decision_note: String,
}

/// The free-text parts of a stage change, stored as one JSON column.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StageContent {
    evidence: String,
    evidence_documents: Vec<String>,
    reason: String,
}

impl TryFrom<Row> for StageChange {
    type Error = Error;

    fn try_from(r: Row) -> Result<StageChange, Error> {
        let corrupt =
            |what: &str, v: &str| Error::internal(anyhow::anyhow!("unknown stored {what} {v:?}"));
        let content: StageContent = serde_json::from_str(&r.content).map_err(Error::internal)?;
        Ok(StageChange {
            from_stage: Stage::parse(&r.from_stage)
                .ok_or_else(|| corrupt("stage", &r.from_stage))?,
            to_stage: Stage::parse(&r.to_stage).ok_or_else(|| corrupt("stage", &r.to_stage))?,
            state: stage::State::parse(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
            id: r.id,
            supplier_id: r.supplier_id,
            evidence: content.evidence,
            evidence_documents: content.evidence_documents,
            reason: content.reason,
            recorded_by: r.recorded_by,
            recorded_by_role: r.recorded_by_role,
            create_time: r.create_time,
            decided_by: r.decided_by,
            decide_time: r.decide_time,
            decision_note: r.decision_note,
        })
    }
}

#[tracing::instrument(skip_all, fields(stage_change.id = %c.id))]
pub async fn insert(conn: &mut AnyConnection, c: &StageChange) -> Result<(), Error> {
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
pub async fn get(
    conn: &mut AnyConnection,
    supplier_id: &str,
    id: &str,
) -> Result<Option<StageChange>, Error> {
    let sql =
        format!("SELECT {STAGE_COLUMNS} FROM stage_changes WHERE supplier_id = $1 AND id = $2");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(supplier_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(StageChange::try_from).transpose()
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
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(supplier_id)
        .fetch_optional(conn)
        .await?;
    row.map(StageChange::try_from).transpose()
}

/// Records the decision on a proposal, if it is still PROPOSED; returns
/// whether it was.
#[tracing::instrument(skip_all, fields(stage_change.id = %c.id))]
pub async fn decide(conn: &mut AnyConnection, c: &StageChange) -> Result<bool, Error> {
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
#[tracing::instrument(skip(conn))]
pub async fn list(
    conn: &mut AnyConnection,
    supplier_id: &str,
    after_id: &str,
    state: &str,
    limit: i64,
) -> Result<Vec<StageChange>, Error> {
    let mut c = Conditions::new();
    c.push("supplier_id = {}", [supplier_id]);
    if !after_id.is_empty() {
        c.push("id > {}", [after_id]);
    }
    if !state.is_empty() {
        c.push("state = {}", [state]);
    }
    let rows: Vec<Row> = c
        .fetch(conn, STAGE_COLUMNS, "stage_changes", "id", limit)
        .await?;
    rows.into_iter().map(StageChange::try_from).collect()
}
