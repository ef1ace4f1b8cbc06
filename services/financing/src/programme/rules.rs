//! A programme's checks, with no I/O.

use gearshift_platform::Error;
use gearshift_platform::error::Violations;
use gearshift_proto::financing::v1 as pb;

/// The largest amount of won the service takes: 10^15 (a thousand
/// trillion), far above any budget and far below `i64::MAX`.
pub const MAX_WON: i64 = 1_000_000_000_000_000;
pub const MAX_RULES: usize = 20;
pub const MAX_DOCUMENTS: usize = 30;

pub use gearshift_platform::check::text;

/// An amount of whole won, 1 to 10^15 (0 allowed when not `required`).
pub fn won(value: i64, required: bool) -> Result<i64, String> {
    if value < 0 {
        return Err("must not be negative".into());
    }
    if value > MAX_WON {
        return Err("must be at most 1,000,000,000,000,000 won".into());
    }
    if required && value == 0 {
        return Err("is required: a whole number of won".into());
    }
    Ok(value)
}

/// A new programme's fields, checked and normalised; output-only fields
/// cleared.
pub fn check(input: &pb::Programme) -> Result<pb::Programme, Error> {
    let mut v = Violations::new();
    let mut out = pb::Programme {
        name_ko: v
            .check("programme.nameKo", text(&input.name_ko, 200, true))
            .unwrap_or_default(),
        name_en: v
            .check("programme.nameEn", text(&input.name_en, 200, false))
            .unwrap_or_default(),
        ..Default::default()
    };
    match pb::ProgrammeKind::try_from(input.kind) {
        Ok(pb::ProgrammeKind::Unspecified) => v.add("programme.kind", "is required"),
        Ok(k) => out.kind = k as i32,
        Err(_) => v.add("programme.kind", "is not a programme kind"),
    }
    let mut purposes = Vec::new();
    for p in &input.purposes {
        match pb::Purpose::try_from(*p) {
            Ok(pb::Purpose::Unspecified) | Err(_) => {
                v.add("programme.purposes", "has a value that is not a purpose");
            }
            Ok(p) if !purposes.contains(&(p as i32)) => purposes.push(p as i32),
            Ok(_) => {}
        }
    }
    if input.purposes.is_empty() {
        v.add("programme.purposes", "needs at least one purpose");
    }
    out.purposes = purposes;
    let budget = v.check(
        "programme.totalBudgetWon",
        won(input.total_budget_won, true),
    );
    let cap = v.check(
        "programme.perCompanyCapWon",
        won(input.per_company_cap_won, true),
    );
    let min = v.check(
        "programme.perCompanyMinWon",
        won(input.per_company_min_won, false),
    );
    if let (Some(budget), Some(cap)) = (budget, cap)
        && cap > budget
    {
        v.add(
            "programme.perCompanyCapWon",
            "must not be over the total budget",
        );
    }
    if let (Some(cap), Some(min)) = (cap, min)
        && min > cap
    {
        v.add(
            "programme.perCompanyMinWon",
            "must not be over the per-company cap",
        );
    }
    out.total_budget_won = budget.unwrap_or_default();
    out.per_company_cap_won = cap.unwrap_or_default();
    out.per_company_min_won = min.unwrap_or_default();
    match (&input.opens_time, &input.closes_time) {
        (Some(o), Some(c)) => {
            if gearshift_platform::time::from_timestamp(c)
                <= gearshift_platform::time::from_timestamp(o)
            {
                v.add("programme.closesTime", "must be after opensTime");
            }
            out.opens_time = Some(*o);
            out.closes_time = Some(*c);
        }
        (o, c) => {
            if o.is_none() {
                v.add("programme.opensTime", "is required");
            }
            if c.is_none() {
                v.add("programme.closesTime", "is required");
            }
        }
    }
    if input.eligibility.len() > MAX_RULES {
        v.add(
            "programme.eligibility",
            format!("must be at most {MAX_RULES} rules"),
        );
    }
    if input.eligibility.iter().any(|r| r.rule.is_none()) {
        v.add("programme.eligibility", "has an empty rule");
    }
    out.eligibility = input.eligibility.clone();
    if input.required_documents.len() > MAX_DOCUMENTS {
        v.add(
            "programme.requiredDocuments",
            format!("must be at most {MAX_DOCUMENTS} documents"),
        );
    }
    for (i, d) in input.required_documents.iter().enumerate() {
        match text(d, 200, true) {
            Ok(d) if out.required_documents.contains(&d) => {
                v.add(
                    format!("programme.requiredDocuments[{i}]"),
                    "is listed twice",
                );
            }
            Ok(d) => out.required_documents.push(d),
            Err(e) => v.add(format!("programme.requiredDocuments[{i}]"), e),
        }
    }
    if input.advisor_institutes.len() > 10 {
        v.add(
            "programme.advisorInstitutes",
            "must be at most 10 institutes",
        );
    }
    for (i, code) in input.advisor_institutes.iter().enumerate() {
        match gearshift_platform::check::institute_code(code) {
            Err(e) => v.add(format!("programme.advisorInstitutes[{i}]"), e),
            Ok(c) if !out.advisor_institutes.contains(&c) => out.advisor_institutes.push(c),
            Ok(_) => {}
        }
    }
    check_review(input, &mut out, &mut v);
    v.into_result()?;
    Ok(out)
}

/// The review settings: criteria whose weights add up to 100, a pass mark,
/// how many reviewers, how far apart their scores may be.
fn check_review(input: &pb::Programme, out: &mut pb::Programme, v: &mut Violations) {
    if input.criteria.is_empty() {
        v.add(
            "programme.criteria",
            "needs at least one criterion; the weights add up to 100",
        );
    }
    if input.criteria.len() > 10 {
        v.add("programme.criteria", "must be at most 10 criteria");
    }
    for (i, c) in input.criteria.iter().enumerate() {
        match text(&c.name, 100, true) {
            Ok(n) if out.criteria.iter().any(|o| o.name == n) => {
                v.add(format!("programme.criteria[{i}].name"), "is listed twice");
            }
            Ok(name) => out.criteria.push(pb::Criterion {
                name,
                weight: c.weight,
            }),
            Err(e) => v.add(format!("programme.criteria[{i}].name"), e),
        }
        if !(1..=100).contains(&c.weight) {
            v.add(
                format!("programme.criteria[{i}].weight"),
                "must be 1 to 100",
            );
        }
    }
    let total: i64 = input.criteria.iter().map(|c| i64::from(c.weight)).sum();
    if !input.criteria.is_empty() && total != 100 {
        v.add(
            "programme.criteria",
            format!("the weights must add up to 100; they add up to {total}"),
        );
    }
    if !(0..=100).contains(&input.pass_mark) {
        v.add("programme.passMark", "must be 0 to 100");
    }
    out.pass_mark = input.pass_mark;
    out.min_reviewers = match input.min_reviewers {
        0 => crate::review::rules::MIN_REVIEWERS,
        n if (crate::review::rules::MIN_REVIEWERS..=10).contains(&n) => n,
        _ => {
            v.add("programme.minReviewers", "must be 2 to 10");
            0
        }
    };
    out.max_score_spread = match input.max_score_spread {
        0 => crate::review::rules::DEFAULT_SPREAD,
        n if (1..=100).contains(&n) => n,
        _ => {
            v.add("programme.maxScoreSpread", "must be 1 to 100 points");
            0
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> pb::Programme {
        pb::Programme {
            name_ko: "미래차 전환 시설자금".into(),
            kind: pb::ProgrammeKind::PolicyLoan as i32,
            purposes: vec![pb::Purpose::FacilityConversion as i32],
            total_budget_won: 10_000_000_000,
            per_company_cap_won: 500_000_000,
            per_company_min_won: 10_000_000,
            opens_time: Some(prost_types::Timestamp {
                seconds: 1_790_000_000,
                nanos: 0,
            }),
            closes_time: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            criteria: vec![
                pb::Criterion {
                    name: "technology".into(),
                    weight: 60,
                },
                pb::Criterion {
                    name: "jobs".into(),
                    weight: 40,
                },
            ],
            ..Default::default()
        }
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::InvalidArgument(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn a_valid_programme_passes_with_review_defaults() {
        let p = check(&valid()).expect("valid");
        assert_eq!((p.min_reviewers, p.max_score_spread), (2, 20));
    }

    #[test]
    fn money_is_whole_positive_won_within_bounds() {
        type Change = fn(&mut pb::Programme);
        let cases: &[(Change, &str)] = &[
            (|p| p.total_budget_won = -1, "programme.totalBudgetWon"),
            (
                |p| p.total_budget_won = MAX_WON + 1,
                "programme.totalBudgetWon",
            ),
            (|p| p.per_company_cap_won = 0, "programme.perCompanyCapWon"),
            (
                |p| p.per_company_cap_won = p.total_budget_won + 1,
                "programme.perCompanyCapWon",
            ),
            (
                |p| p.per_company_min_won = p.per_company_cap_won + 1,
                "programme.perCompanyMinWon",
            ),
            (|p| p.closes_time = p.opens_time, "programme.closesTime"),
            (|p| p.purposes.clear(), "programme.purposes"),
            (|p| p.kind = 0, "programme.kind"),
            (|p| p.name_ko = " ".into(), "programme.nameKo"),
            (|p| p.criteria.clear(), "programme.criteria"),
            (|p| p.criteria[0].weight = 59, "programme.criteria"),
            (
                |p| p.criteria[1].name = "technology".into(),
                "programme.criteria[1].name",
            ),
            (|p| p.pass_mark = 101, "programme.passMark"),
            (|p| p.min_reviewers = 1, "programme.minReviewers"),
            (|p| p.max_score_spread = -1, "programme.maxScoreSpread"),
        ];
        for (change, field) in cases {
            let mut p = valid();
            change(&mut p);
            let got = fields(check(&p).expect_err(field));
            assert_eq!(got, [*field]);
        }
    }
}
