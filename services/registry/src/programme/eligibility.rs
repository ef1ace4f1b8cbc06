//! Whether a supplier meets a programme's eligibility rules
//! (`CheckEligibility`, for the other services): each rule checked for
//! sense, then evaluated with a sentence of reason. No I/O.

use gearshift_platform::Error;
use gearshift_platform::error::Violations;
use gearshift_proto::registry::v1 as pb;
use pb::eligibility_rule::Rule;

use crate::stage_change::grpc::stage_from_proto;
use crate::supplier::rules::{Status as SupplierStatus, Supplier};

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
                    if crate::supplier::profile::parts_group_name(*g).is_none() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage_change::rules::Stage;
    use crate::supplier::BusinessNumber;
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
}
