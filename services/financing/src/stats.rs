//! `GET /v1/financing/stats`: the programme's figures, from a handful of
//! grouped queries over columns kept for them (no record is decoded but
//! the programmes').

use std::collections::BTreeMap;

use gearshift_platform::{Error, Principal, time};
use gearshift_proto::financing::v1 as pb;
use gearshift_proto::registry::v1::{PartsGroup, TransitionStage};
use pb::application::Status;
use tonic::Request;

use crate::FinancingService;

#[derive(sqlx::FromRow)]
struct ProgrammeRow {
    id: String,
    status: String,
    content: String,
    total_won: Option<i64>,
    committed_won: Option<i64>,
    disbursed_won: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    programme_id: String,
    status: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct DecidedRow {
    submit_time: i64,
    decide_time: i64,
    approved_amount_won: i64,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    key: Option<String>,
    n: i64,
    requested: i64,
    approved: i64,
    disbursed: i64,
}

impl GroupRow {
    fn amounts(&self) -> pb::Amounts {
        pb::Amounts {
            applications: self.n,
            requested_won: self.requested,
            approved_won: self.approved,
            disbursed_won: self.disbursed,
        }
    }
}

/// The median of `values` (sorted here); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

fn group_sql(column: &str) -> String {
    format!(
        "SELECT {column} AS key, COUNT(*) AS n, \
         CAST(COALESCE(SUM(requested_amount_won), 0) AS BIGINT) AS requested, \
         CAST(COALESCE(SUM(approved_amount_won), 0) AS BIGINT) AS approved, \
         CAST(COALESCE(SUM(disbursed_won), 0) AS BIGINT) AS disbursed \
         FROM applications WHERE submit_time IS NOT NULL GROUP BY {column} ORDER BY {column}"
    )
}

pub async fn get(
    svc: &FinancingService,
    request: Request<pb::GetFinancingStatsRequest>,
) -> Result<pb::FinancingStats, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let mut conn = svc.db.conn().await?;
    let compute_time = svc.db.clock().now_micros();

    let programmes: Vec<ProgrammeRow> = sqlx::query_as(
        "SELECT p.id, p.status, p.content, b.total_won, b.committed_won, b.disbursed_won \
         FROM programmes p LEFT JOIN budgets b ON b.programme_id = p.id \
         ORDER BY p.create_time, p.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let counts: Vec<CountRow> = sqlx::query_as(
        "SELECT programme_id, status, COUNT(*) AS n FROM applications \
         GROUP BY programme_id, status",
    )
    .fetch_all(&mut *conn)
    .await?;
    let decided: Vec<DecidedRow> = sqlx::query_as(
        "SELECT submit_time, decide_time, approved_amount_won FROM applications \
         WHERE decide_time IS NOT NULL AND submit_time IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let by_group: Vec<GroupRow> = sqlx::query_as(sqlx::AssertSqlSafe(group_sql("parts_group")))
        .fetch_all(&mut *conn)
        .await?;
    let by_stage: Vec<GroupRow> = sqlx::query_as(sqlx::AssertSqlSafe(group_sql("stage")))
        .fetch_all(&mut *conn)
        .await?;

    let status_of = |s: &str| Status::from_str_name(s).map_or(0, |s| s as i32);
    let mut per_programme: BTreeMap<&str, Vec<pb::StatusCount>> = BTreeMap::new();
    let mut overall: BTreeMap<i32, i64> = BTreeMap::new();
    for c in &counts {
        per_programme
            .entry(c.programme_id.as_str())
            .or_default()
            .push(pb::StatusCount {
                status: status_of(&c.status),
                count: c.n,
            });
        *overall.entry(status_of(&c.status)).or_default() += c.n;
    }
    let mut figures = Vec::with_capacity(programmes.len());
    for p in &programmes {
        let body = crate::programme::store::decode_content(&p.content)?;
        let total = p.total_won.unwrap_or(body.total_budget_won);
        let committed = p.committed_won.unwrap_or(0);
        let mut statuses = per_programme.remove(p.id.as_str()).unwrap_or_default();
        statuses.sort_by_key(|s| s.status);
        figures.push(pb::ProgrammeFigures {
            programme_id: p.id.clone(),
            name_ko: body.name_ko,
            status: pb::programme::Status::from_str_name(&p.status).map_or(0, |s| s as i32),
            total_budget_won: total,
            committed_won: committed,
            disbursed_won: p.disbursed_won.unwrap_or(0),
            remaining_won: total - committed,
            applications_by_status: statuses,
        });
    }
    let approvals = decided.iter().filter(|d| d.approved_amount_won > 0).count();
    let mut days: Vec<f64> = decided
        .iter()
        .map(|d| (d.decide_time - d.submit_time) as f64 / MICROS_PER_DAY)
        .collect();
    Ok(pb::FinancingStats {
        programmes: figures,
        applications_by_status: overall
            .into_iter()
            .map(|(status, count)| pb::StatusCount { status, count })
            .collect(),
        approval_rate: if decided.is_empty() {
            0.0
        } else {
            approvals as f64 / decided.len() as f64
        },
        median_days_to_decision: (median(&mut days) * 100.0).round() / 100.0,
        by_parts_group: by_group
            .iter()
            .map(|g| pb::AmountsByPartsGroup {
                parts_group: g
                    .key
                    .as_deref()
                    .and_then(PartsGroup::from_str_name)
                    .map_or(0, |k| k as i32),
                amounts: Some(g.amounts()),
            })
            .collect(),
        by_stage: by_stage
            .iter()
            .map(|g| pb::AmountsByStage {
                stage: g
                    .key
                    .as_deref()
                    .and_then(TransitionStage::from_str_name)
                    .map_or(0, |k| k as i32),
                amounts: Some(g.amounts()),
            })
            .collect(),
        compute_time: Some(time::to_timestamp(compute_time)),
    })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), 0.0);
        assert_eq!(median(&mut [3.0]), 3.0);
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
