//! `GET /v1/training/stats`: a few grouped queries, and the registry asked
//! once (in batches of 500) for the companies' parts groups.

use std::collections::BTreeMap;

use gearshift_platform::{Error, Principal, time};
use gearshift_proto::registry::v1::PartsGroup;
use gearshift_proto::training::v1 as pb;
use tonic::Request;

use crate::TrainingService;

#[derive(sqlx::FromRow)]
struct SeatRow {
    track: String,
    month: String,
    cohorts: i64,
    offered: i64,
    filled: i64,
    waitlisted: i64,
}

/// `2027-04` → `2027-Q2`.
pub fn quarter(month: &str) -> String {
    let (year, m) = month.split_once('-').unwrap_or((month, "1"));
    let m: u32 = m.parse().unwrap_or(1);
    format!("{year}-Q{}", m.saturating_sub(1) / 3 + 1)
}

pub async fn get(
    svc: &TrainingService,
    request: Request<pb::GetTrainingStatsRequest>,
) -> Result<pb::TrainingStats, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let compute_time = svc.db.clock().now_micros();
    let (seat_rows, outcomes, young, by_supplier, job_seekers) = {
        let mut conn = svc.db.conn().await?;
        let seats: Vec<SeatRow> = sqlx::query_as(
            "SELECT k.track AS track, SUBSTR(c.start_date, 1, 7) AS month, COUNT(*) AS cohorts, \
             CAST(COALESCE(SUM(c.capacity), 0) AS BIGINT) AS offered, \
             CAST(COALESCE(SUM(c.seats_taken), 0) AS BIGINT) AS filled, \
             CAST(COALESCE(SUM(c.waitlisted), 0) AS BIGINT) AS waitlisted \
             FROM cohorts c JOIN courses k ON k.id = c.course_id \
             WHERE c.status <> 'CANCELLED' GROUP BY k.track, SUBSTR(c.start_date, 1, 7)",
        )
        .fetch_all(&mut *conn)
        .await?;
        let outcomes: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM enrollments \
             WHERE status IN ('COMPLETED', 'INCOMPLETE', 'NO_SHOW') GROUP BY status",
        )
        .fetch_all(&mut *conn)
        .await?;
        let young: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM enrollments WHERE young = 1 AND active = 1 \
             GROUP BY status",
        )
        .fetch_all(&mut *conn)
        .await?;
        let by_supplier: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT supplier_id, COUNT(DISTINCT trainee_id) FROM enrollments WHERE active = 1 \
             GROUP BY supplier_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let job_seekers = by_supplier
            .iter()
            .find(|(s, _)| s.is_none())
            .map_or(0, |(_, n)| *n);
        let by_supplier: Vec<(String, i64)> = by_supplier
            .into_iter()
            .filter_map(|(s, n)| s.map(|s| (s, n)))
            .collect();
        (seats, outcomes, young, by_supplier, job_seekers)
    };
    // Quarters folded from months.
    let mut seats: BTreeMap<(i32, String), pb::SeatFigures> = BTreeMap::new();
    for r in seat_rows {
        let track = pb::Track::from_str_name(&r.track).map_or(0, |t| t as i32);
        let q = quarter(&r.month);
        let f = seats
            .entry((track, q.clone()))
            .or_insert_with(|| pb::SeatFigures {
                track,
                quarter: q,
                ..Default::default()
            });
        f.cohorts += r.cohorts;
        f.offered += r.offered;
        f.filled += r.filled;
        f.waitlisted += r.waitlisted;
    }
    let count = |rows: &[(String, i64)], s: &str| {
        rows.iter()
            .filter(|(k, _)| k == s)
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    let completed = count(&outcomes, "COMPLETED");
    let finished = outcomes.iter().map(|(_, n)| n).sum::<i64>();
    // Parts groups: the registry, asked for the companies with trainees.
    let ids: Vec<String> = by_supplier.iter().map(|(s, _)| s.clone()).collect();
    let companies = svc.registry.suppliers(&request, &ids).await?;
    let mut groups: BTreeMap<i32, i64> = BTreeMap::new();
    for (id, n) in &by_supplier {
        let group = companies
            .iter()
            .find(|c| &c.id == id)
            .map_or(PartsGroup::Unspecified as i32, |c| c.primary_parts_group);
        *groups.entry(group).or_default() += n;
    }
    let mut by_supplier: Vec<pb::TraineesBySupplier> = by_supplier
        .into_iter()
        .map(|(supplier_id, trainees)| pb::TraineesBySupplier {
            supplier_id,
            trainees,
        })
        .collect();
    by_supplier.sort_by(|a, b| {
        b.trainees
            .cmp(&a.trainees)
            .then_with(|| a.supplier_id.cmp(&b.supplier_id))
    });
    Ok(pb::TrainingStats {
        seats: seats.into_values().collect(),
        completion_rate: if finished == 0 {
            0.0
        } else {
            completed as f64 / finished as f64
        },
        young_completed: count(&young, "COMPLETED"),
        young_enrolled: young.iter().map(|(_, n)| n).sum(),
        by_supplier,
        by_parts_group: groups
            .into_iter()
            .map(|(parts_group, trainees)| pb::TraineesByPartsGroup {
                parts_group,
                trainees,
            })
            .collect(),
        job_seekers,
        compute_time: Some(time::to_timestamp(compute_time)),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn months_fold_into_quarters() {
        let q: Vec<String> = [
            "2027-01", "2027-03", "2027-04", "2027-09", "2027-10", "2027-12",
        ]
        .iter()
        .map(|m| super::quarter(m))
        .collect();
        assert_eq!(
            q,
            [
                "2027-Q1", "2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4", "2027-Q4"
            ]
        );
    }
}
