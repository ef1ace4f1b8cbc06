//! The programme's figures (`GET /v1/registry/stats`): counts by status,
//! stage, region and parts group, progress toward the target, moves per
//! quarter. Turns the store's raw counts into what the API shows; no I/O.

use std::collections::{BTreeMap, HashMap};

use gearshift_platform::clock::Clock;
use gearshift_platform::time;
use gearshift_proto::registry::v1 as pb;

use super::parts_groups::GROUPS;
use crate::stage_change::rules::Stage;
use crate::supplier::rules::Status as SupplierStatus;

/// The programme's headline target (configuration).
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub suppliers: u32,
    pub year: u32,
}

/// Raw counts as the store returns them.
pub struct Counts {
    /// (status, stage, region, count)
    pub by_status_stage_region: Vec<(String, String, String, i64)>,
    /// (`,A,B,` parts groups, stage, count) of suppliers in the programme
    pub by_groups_stage: Vec<(String, String, i64)>,
    /// (from, to, decide time) of confirmed stage changes
    pub moves: Vec<(String, String, i64)>,
    pub certifications_expiring: i64,
}

fn zeroed<'a>(names: impl Iterator<Item = &'a str>) -> HashMap<String, i32> {
    names.map(|n| (n.to_string(), 0)).collect()
}

/// Turns raw counts into the figures the API shows.
pub fn figures(c: &Counts, target: Target, clock: &Clock) -> pb::RegistryStats {
    let stages = || Stage::ALL.iter().map(|s| s.as_str());
    let mut by_status = zeroed(
        [
            SupplierStatus::PendingVerification,
            SupplierStatus::Active,
            SupplierStatus::Suspended,
            SupplierStatus::Withdrawn,
        ]
        .iter()
        .map(|s| s.as_str()),
    );
    let mut by_stage = zeroed(stages());
    let regions = (0..=6).filter_map(|r| pb::Region::try_from(r).ok().map(|r| r.as_str_name()));
    let mut by_region = zeroed(regions);
    let mut total = 0i64;
    for (status, stage, region, n) in &c.by_status_stage_region {
        total += n;
        *by_status.entry(status.clone()).or_default() += *n as i32;
        if status == SupplierStatus::Withdrawn.as_str() {
            continue;
        }
        *by_stage.entry(stage.clone()).or_default() += *n as i32;
        let region = if region.is_empty() {
            pb::Region::Unspecified.as_str_name()
        } else {
            region.as_str()
        };
        *by_region.entry(region.to_string()).or_default() += *n as i32;
    }
    let mut by_group: HashMap<String, pb::StageCounts> = GROUPS
        .iter()
        .map(|(g, _, _)| {
            (
                g.as_str_name().to_string(),
                pb::StageCounts {
                    by_stage: zeroed(stages()),
                },
            )
        })
        .collect();
    for (groups, stage, n) in &c.by_groups_stage {
        for g in groups.split(',').filter(|g| !g.is_empty()) {
            let counts = by_group.entry(g.to_string()).or_default();
            *counts.by_stage.entry(stage.clone()).or_default() += *n as i32;
        }
    }
    let mut quarters: BTreeMap<(i16, i8), pb::QuarterTransitions> = BTreeMap::new();
    for (from, to, at) in &c.moves {
        let (Some(from), Some(to)) = (Stage::parse(from), Stage::parse(to)) else {
            continue;
        };
        let (year, quarter) = time::quarter(*at, clock.zone());
        let q = quarters
            .entry((year, quarter))
            .or_insert_with(|| pb::QuarterTransitions {
                quarter: format!("{year}-Q{quarter}"),
                ..Default::default()
            });
        if to > from {
            q.moves_up += 1;
        } else {
            q.moves_down += 1;
        }
        if to == Stage::FutureCarSupplier {
            q.reached_future_car_supplier += 1;
        }
    }
    let done = by_stage
        .get(Stage::FutureCarSupplier.as_str())
        .copied()
        .unwrap_or(0);
    let percent = f64::from(done) * 100.0 / f64::from(target.suppliers.max(1));
    pb::RegistryStats {
        total_suppliers: total as i32,
        suppliers_by_status: by_status,
        suppliers_by_stage: by_stage,
        suppliers_by_region: by_region,
        suppliers_by_parts_group_and_stage: by_group,
        target: Some(pb::TargetProgress {
            future_car_suppliers: done,
            target: target.suppliers as i32,
            target_year: target.year as i32,
            percent: (percent * 10.0).round() / 10.0,
        }),
        transitions_per_quarter: quarters.into_values().collect(),
        certifications_expiring_in_90_days: c.certifications_expiring as i32,
        compute_time: Some(time::to_timestamp(clock.now_micros())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn figures_count_the_programme_and_its_target() {
        let counts = Counts {
            by_status_stage_region: vec![
                (
                    "ACTIVE".into(),
                    "FUTURE_CAR_SUPPLIER".into(),
                    "GWANGJU_BUK_GU".into(),
                    3,
                ),
                ("ACTIVE".into(), "PLANNING".into(), String::new(), 2),
                (
                    "WITHDRAWN".into(),
                    "FUTURE_CAR_SUPPLIER".into(),
                    "GWANGJU_SEO_GU".into(),
                    1,
                ),
            ],
            by_groups_stage: vec![
                (
                    ",BATTERY_ENERGY_STORAGE,THERMAL_MANAGEMENT,".into(),
                    "PLANNING".into(),
                    2,
                ),
                (
                    ",BATTERY_ENERGY_STORAGE,".into(),
                    "FUTURE_CAR_SUPPLIER".into(),
                    3,
                ),
            ],
            moves: vec![
                (
                    "ICE_DEPENDENT".into(),
                    "EXPLORING".into(),
                    1_795_793_400_000_000,
                ),
                (
                    "CONVERTING".into(),
                    "FUTURE_CAR_SUPPLIER".into(),
                    1_795_793_400_000_000,
                ),
                ("PLANNING".into(), "EXPLORING".into(), 1_767_193_200_000_000), // 2026-01-01 00:00 Seoul
            ],
            certifications_expiring: 4,
        };
        let f = figures(
            &counts,
            Target {
                suppliers: 100,
                year: 2030,
            },
            &Clock::manual(jiff::Timestamp::UNIX_EPOCH).0,
        );
        assert_eq!(f.total_suppliers, 6);
        assert_eq!(f.suppliers_by_status["ACTIVE"], 5);
        assert_eq!(f.suppliers_by_status["SUSPENDED"], 0);
        assert_eq!(
            f.suppliers_by_stage["FUTURE_CAR_SUPPLIER"], 3,
            "withdrawn ones do not count"
        );
        assert_eq!(f.suppliers_by_region["REGION_UNSPECIFIED"], 2);
        assert_eq!(f.suppliers_by_region["GWANGJU_SEO_GU"], 0);
        let battery = &f.suppliers_by_parts_group_and_stage["BATTERY_ENERGY_STORAGE"].by_stage;
        assert_eq!(
            (battery["PLANNING"], battery["FUTURE_CAR_SUPPLIER"]),
            (2, 3)
        );
        assert_eq!(
            f.suppliers_by_parts_group_and_stage["THERMAL_MANAGEMENT"].by_stage["PLANNING"],
            2
        );
        let t = f.target.unwrap();
        assert_eq!(
            (t.future_car_suppliers, t.target, t.target_year),
            (3, 100, 2030)
        );
        assert_eq!(t.percent, 3.0);
        let q: Vec<(String, i32, i32, i32)> = f
            .transitions_per_quarter
            .iter()
            .map(|q| {
                (
                    q.quarter.clone(),
                    q.moves_up,
                    q.moves_down,
                    q.reached_future_car_supplier,
                )
            })
            .collect();
        assert_eq!(
            q,
            [("2026-Q1".into(), 0, 1, 0), ("2026-Q4".into(), 2, 0, 1)]
        );
        assert_eq!(f.certifications_expiring_in_90_days, 4);
    }
}
