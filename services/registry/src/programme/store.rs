//! The counts behind the programme's figures: GROUP BY queries over the
//! suppliers and their confirmed stage changes.

use gearshift_platform::{Error, db};

/// The raw counts behind the programme's figures.
#[tracing::instrument(skip_all)]
pub async fn counts(db: &db::Db) -> Result<super::figures::Counts, Error> {
    let conn = &mut *db.conn().await?;
    let by_status_stage_region: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT status, stage, region, COUNT(*) FROM suppliers GROUP BY status, stage, region",
    )
    .fetch_all(&mut *conn)
    .await?;
    let by_groups_stage: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT parts_groups, stage, COUNT(*) FROM suppliers WHERE status <> 'WITHDRAWN' \
         GROUP BY parts_groups, stage",
    )
    .fetch_all(&mut *conn)
    .await?;
    let moves: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT from_stage, to_stage, decide_time FROM stage_changes \
         WHERE state = 'CONFIRMED' AND decide_time IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let (certifications_expiring,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM supplier_certifications c JOIN suppliers s ON s.id = c.supplier_id \
         WHERE s.status <> 'WITHDRAWN' AND c.valid_until >= $1 AND c.valid_until <= $2",
    )
    .bind(db.clock().today().to_string())
    .bind(db.clock().date_in(90).to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(super::figures::Counts {
        by_status_stage_region,
        by_groups_stage,
        moves,
        certifications_expiring,
    })
}
