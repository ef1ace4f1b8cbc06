//! What the registry tells about the programme as a whole: its figures
//! (`GET /v1/registry/stats`), whether a supplier meets a programme's
//! eligibility rules (`CheckEligibility`, for the other services) and the
//! parts groups with their ICE dependence.

use std::collections::{BTreeMap, HashMap};

use gearshift_platform::clock::Clock;
use gearshift_platform::error::{Violations, respond};
use gearshift_platform::{Error, Principal, Role, time};
use gearshift_proto::registry::v1 as pb;
use pb::eligibility_rule::Rule;
use tonic::{Request, Response, Status};

use crate::domain::{Status as SupplierStatus, Supplier, access};
use crate::grpc::{RegistryService, supplier_id};
use crate::stage::Stage;
use crate::stage_grpc::stage_from_proto;

/// The programme's headline target (configuration).
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub suppliers: u32,
    pub year: u32,
}

/// (group, Korean name, English name)
const GROUPS: &[(pb::PartsGroup, &str, &str)] = &[
    (
        pb::PartsGroup::PowertrainEngine,
        "파워트레인·엔진",
        "Powertrain and engine",
    ),
    (
        pb::PartsGroup::TransmissionDriveline,
        "변속기·구동계",
        "Transmission and driveline",
    ),
    (
        pb::PartsGroup::ChassisSuspensionBrakes,
        "섀시·현가·제동",
        "Chassis, suspension and brakes",
    ),
    (
        pb::PartsGroup::BodyExterior,
        "차체·외장",
        "Body and exterior",
    ),
    (
        pb::PartsGroup::InteriorSeats,
        "내장·시트",
        "Interior and seats",
    ),
    (
        pb::PartsGroup::ElectricalElectronics,
        "전기·전자",
        "Electrical and electronics",
    ),
    (
        pb::PartsGroup::BatteryEnergyStorage,
        "배터리·에너지저장",
        "Battery and energy storage",
    ),
    (
        pb::PartsGroup::EmotorInverterPowerElectronics,
        "구동모터·인버터·전력전자",
        "E-motor, inverter and power electronics",
    ),
    (
        pb::PartsGroup::ThermalManagement,
        "열관리",
        "Thermal management",
    ),
    (
        pb::PartsGroup::AdasSensorsLidar,
        "ADAS·센서·라이다",
        "ADAS, sensors and lidar",
    ),
    (
        pb::PartsGroup::InfotainmentConnectivity,
        "인포테인먼트·커넥티비티",
        "Infotainment and connectivity",
    ),
    (
        pb::PartsGroup::HydrogenFuelCell,
        "수소연료전지",
        "Hydrogen fuel cell",
    ),
    (
        pb::PartsGroup::LightweightMaterials,
        "경량소재",
        "Lightweight materials",
    ),
    (pb::PartsGroup::ExhaustSystem, "배기계", "Exhaust system"),
    (pb::PartsGroup::FuelSystem, "연료계", "Fuel system"),
    (pb::PartsGroup::Other, "기타", "Other"),
];

pub fn parts_groups() -> pb::ListPartsGroupsResponse {
    pb::ListPartsGroupsResponse {
        parts_groups: GROUPS
            .iter()
            .map(|(g, ko, en)| pb::PartsGroupInfo {
                parts_group: *g as i32,
                name_ko: ko.to_string(),
                name_en: en.to_string(),
                ice_dependent: crate::profile::ice_dependent(*g),
            })
            .collect(),
    }
}

// ---- figures ---------------------------------------------------------------

/// The programme's figures: companies and institutes; not companies.
pub fn read_stats(p: &Principal) -> Result<(), Error> {
    match &p.role {
        Role::Operator | Role::Institute(_) => Ok(()),
        Role::Reviewer | Role::Supplier(_) => Err(Error::PermissionDenied(format!(
            "programme figures are for operators and institutes; the key has role {}",
            p.role
        ))),
    }
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

// ---- eligibility -----------------------------------------------------------

pub const RULES_MAX: usize = 20;

/// A rule's name as reported, and the rule checked for sense.
fn rule_name(rule: &Rule) -> &'static str {
    match rule {
        Rule::Active(_) => "active",
        Rule::Local(_) => "local",
        Rule::Sme(_) => "sme",
        Rule::MinStage(_) => "minStage",
        Rule::PartsGroupIn(_) => "partsGroupIn",
        Rule::EmployeeCount(_) => "employeeCount",
    }
}

/// Checks every rule makes sense before any is evaluated.
pub fn validate_rules(rules: &[pb::EligibilityRule]) -> Result<(), Error> {
    let mut v = Violations::new();
    if rules.is_empty() || rules.len() > RULES_MAX {
        v.add("rules", format!("must hold 1 to {RULES_MAX} rules"));
    }
    for (i, r) in rules.iter().enumerate() {
        let at = |f: &str| format!("rules[{i}].{f}");
        match &r.rule {
            None => v.add(
                format!("rules[{i}]"),
                "must set one of active, local, sme, minStage, partsGroupIn, employeeCount",
            ),
            Some(Rule::Active(false) | Rule::Local(false) | Rule::Sme(false)) => {
                let name = r.rule.as_ref().map(rule_name).unwrap_or_default();
                v.add(
                    at(name),
                    "set it to true to require it, or leave the rule out",
                );
            }
            Some(Rule::MinStage(s)) => match stage_from_proto(&at("minStage"), *s) {
                Ok(Some(_)) => {}
                Ok(None) => v.add(at("minStage"), "is required"),
                Err(_) => v.add(at("minStage"), "is not a transition stage"),
            },
            Some(Rule::PartsGroupIn(set)) => {
                if set.groups.is_empty() {
                    v.add(
                        at("partsGroupIn.groups"),
                        "must name at least one parts group",
                    );
                }
                for (j, g) in set.groups.iter().enumerate() {
                    if crate::profile::parts_group_name(*g).is_none() {
                        v.add(
                            format!("rules[{i}].partsGroupIn.groups[{j}]"),
                            "is not a parts group",
                        );
                    }
                }
            }
            Some(Rule::EmployeeCount(range)) => {
                if range.min.is_none() && range.max.is_none() {
                    v.add(at("employeeCount"), "must set min, max or both");
                }
                if range.min.is_some_and(|n| n < 0) || range.max.is_some_and(|n| n < 0) {
                    v.add(at("employeeCount"), "must not be negative");
                }
                if let (Some(lo), Some(hi)) = (range.min, range.max)
                    && lo > hi
                {
                    v.add(at("employeeCount.max"), "must not be below min");
                }
            }
            Some(_) => {}
        }
    }
    v.into_result()
}

/// Evaluates one (valid) rule against a supplier.
pub fn evaluate(s: &Supplier, rule: &Rule) -> pb::RuleResult {
    let (passed, reason) = match rule {
        Rule::Active(_) => (
            s.status == SupplierStatus::Active,
            format!("status is {}", s.status.as_str()),
        ),
        Rule::Local(_) => match s.profile.region.as_str() {
            "" => (false, "no address on record".to_string()),
            "OUTSIDE_GWANGJU" => (false, "the address is outside Gwangju".to_string()),
            district => (true, format!("the address is in {district}")),
        },
        Rule::Sme(_) => match s.profile.sme {
            Some(true) => (true, "is an SME".to_string()),
            Some(false) => (false, "is not an SME".to_string()),
            None => (false, "SME status is not on record".to_string()),
        },
        Rule::MinStage(min) => {
            let min = stage_from_proto("minStage", *min)
                .ok()
                .flatten()
                .unwrap_or_default();
            if s.stage >= min {
                (
                    true,
                    format!("stage {} is at least {}", s.stage.as_str(), min.as_str()),
                )
            } else {
                (
                    false,
                    format!("stage {} is below {}", s.stage.as_str(), min.as_str()),
                )
            }
        }
        Rule::PartsGroupIn(set) => {
            let wanted: Vec<&str> = set
                .groups
                .iter()
                .filter_map(|g| pb::PartsGroup::try_from(*g).ok())
                .map(|g| g.as_str_name())
                .collect();
            match s
                .profile
                .parts_groups
                .iter()
                .find(|g| wanted.contains(&g.as_str()))
            {
                Some(g) => (true, format!("makes {g}")),
                None => (false, format!("makes none of {}", wanted.join(", "))),
            }
        }
        Rule::EmployeeCount(range) => match s.profile.employee_count {
            None => (false, "employee count is not on record".to_string()),
            Some(n) => {
                let ok = range.min.is_none_or(|lo| n >= lo) && range.max.is_none_or(|hi| n <= hi);
                let bounds = format!(
                    "{}–{}",
                    range.min.map(|n| n.to_string()).unwrap_or_default(),
                    range.max.map(|n| n.to_string()).unwrap_or_default()
                );
                if ok {
                    (true, format!("{n} employees, within {bounds}"))
                } else {
                    (false, format!("{n} employees, outside {bounds}"))
                }
            }
        },
    };
    pb::RuleResult {
        rule: rule_name(rule).to_string(),
        passed,
        reason,
    }
}

// ---- the API ---------------------------------------------------------------

impl RegistryService {
    pub(crate) async fn get_registry_stats(
        &self,
        request: Request<pb::GetRegistryStatsRequest>,
    ) -> Result<Response<pb::RegistryStats>, Status> {
        respond(
            async {
                let principal = Principal::from_request(&request)?;
                read_stats(&principal)?;
                let counts = crate::store::programme_counts(&self.db).await?;
                Ok(figures(&counts, self.target, self.db.clock()))
            }
            .await,
        )
    }

    pub(crate) async fn check_eligibility(
        &self,
        request: Request<pb::CheckEligibilityRequest>,
    ) -> Result<Response<pb::CheckEligibilityResponse>, Status> {
        respond(
            async {
                let principal = Principal::from_request(&request)?;
                let req = request.get_ref();
                supplier_id("supplierId", &req.supplier_id)?;
                access::read(&principal, &req.supplier_id)?;
                validate_rules(&req.rules)?;
                let mut conn = self.db.conn().await?;
                let supplier = crate::store::get(&mut conn, &req.supplier_id)
                    .await?
                    .ok_or_else(|| access::not_found(&req.supplier_id))?;
                let results: Vec<pb::RuleResult> = req
                    .rules
                    .iter()
                    .filter_map(|r| r.rule.as_ref())
                    .map(|r| evaluate(&supplier, r))
                    .collect();
                Ok(pb::CheckEligibilityResponse {
                    supplier_id: supplier.id.clone(),
                    eligible: results.iter().all(|r| r.passed),
                    results,
                })
            }
            .await,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BusinessNumber;

    fn supplier() -> Supplier {
        let mut s = Supplier {
            id: "sup_x".into(),
            business_number: BusinessNumber::from_stored("1248100998".into()),
            legal_name: "x".into(),
            status: SupplierStatus::Active,
            status_reason: String::new(),
            create_time: 0,
            update_time: 0,
            revision: 1,
            profile: Default::default(),
            stage: Stage::Planning,
        };
        s.profile.region = "GWANGJU_BUK_GU".into();
        s.profile.sme = Some(true);
        s.profile.employee_count = Some(42);
        s.profile.parts_groups = vec!["BATTERY_ENERGY_STORAGE".into()];
        s
    }

    #[test]
    fn each_rule_passes_or_fails_with_a_reason() {
        let mut s = supplier();
        let groups = |g: Vec<pb::PartsGroup>| {
            Rule::PartsGroupIn(pb::PartsGroupSet {
                groups: g.into_iter().map(|g| g as i32).collect(),
            })
        };
        let range = |min, max| Rule::EmployeeCount(pb::EmployeeRange { min, max });
        let cases = [
            (Rule::Active(true), true),
            (Rule::Local(true), true),
            (Rule::Sme(true), true),
            (Rule::MinStage(pb::TransitionStage::Exploring as i32), true),
            (Rule::MinStage(pb::TransitionStage::Planning as i32), true),
            (
                Rule::MinStage(pb::TransitionStage::Converting as i32),
                false,
            ),
            (groups(vec![pb::PartsGroup::BatteryEnergyStorage]), true),
            (groups(vec![pb::PartsGroup::PowertrainEngine]), false),
            (range(Some(10), Some(42)), true),
            (range(Some(43), None), false),
            (range(None, Some(41)), false),
        ];
        for (rule, expected) in &cases {
            let r = evaluate(&s, rule);
            assert_eq!(r.passed, *expected, "{rule:?}: {}", r.reason);
            assert!(!r.reason.is_empty());
        }
        s.status = SupplierStatus::Suspended;
        s.profile.region = "OUTSIDE_GWANGJU".into();
        s.profile.sme = None;
        s.profile.employee_count = None;
        for rule in [
            Rule::Active(true),
            Rule::Local(true),
            Rule::Sme(true),
            range(Some(1), None),
        ] {
            let r = evaluate(&s, &rule);
            assert!(!r.passed, "{rule:?}");
        }
        assert_eq!(
            evaluate(&s, &Rule::Active(true)).reason,
            "status is SUSPENDED"
        );
    }

    #[test]
    fn nonsense_rules_are_refused_with_the_rule_named() {
        let rule = |r| pb::EligibilityRule { rule: r };
        let err = validate_rules(&[
            rule(None),
            rule(Some(Rule::Sme(false))),
            rule(Some(Rule::MinStage(0))),
            rule(Some(Rule::PartsGroupIn(pb::PartsGroupSet {
                groups: vec![99],
            }))),
            rule(Some(Rule::EmployeeCount(pb::EmployeeRange {
                min: Some(10),
                max: Some(5),
            }))),
        ])
        .unwrap_err();
        let Error::InvalidArgument(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rules[0]",
                "rules[1].sme",
                "rules[2].minStage",
                "rules[3].partsGroupIn.groups[0]",
                "rules[4].employeeCount.max"
            ]
        );
        assert!(validate_rules(&[]).is_err());
    }

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

    #[test]
    fn companies_and_reviewers_do_not_read_the_figures() {
        let p = |role| Principal {
            subject: "k".into(),
            role,
        };
        assert!(read_stats(&p(Role::Operator)).is_ok());
        assert!(read_stats(&p(Role::Institute("GJTP".into()))).is_ok());
        assert!(read_stats(&p(Role::Supplier("sup_x".into()))).is_err());
        assert!(read_stats(&p(Role::Reviewer)).is_err());
    }
}
