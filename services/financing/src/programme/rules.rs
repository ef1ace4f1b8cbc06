//! A programme's checks, with no I/O.

use gearshift_platform::Error;
use gearshift_platform::error::Violations;
use gearshift_proto::financing::v1 as pb;

/// The largest amount of won the service takes: 10^15 (a thousand
/// trillion), far above any budget and far below `i64::MAX`.
pub const MAX_WON: i64 = 1_000_000_000_000_000;
pub const MAX_RULES: usize = 20;
pub const MAX_DOCUMENTS: usize = 30;

/// Trimmed text of at most `max` characters with no control characters.
pub fn text(raw: &str, max: usize, required: bool) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters".into());
    }
    if required && t.is_empty() {
        return Err("is required".into());
    }
    Ok(t.to_string())
}

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
        let c = code.trim();
        let valid = (2..=16).contains(&c.len())
            && c.starts_with(|ch: char| ch.is_ascii_uppercase())
            && c.chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit());
        if !valid {
            v.add(
                format!("programme.advisorInstitutes[{i}]"),
                "must be an institute's directory code, e.g. GJTP",
            );
        } else if !out.advisor_institutes.iter().any(|o| o == c) {
            out.advisor_institutes.push(c.to_string());
        }
    }
    v.into_result()?;
    Ok(out)
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
    fn a_valid_programme_passes() {
        assert!(check(&valid()).is_ok());
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
        ];
        for (change, field) in cases {
            let mut p = valid();
            change(&mut p);
            let got = fields(check(&p).expect_err(field));
            assert_eq!(got, [*field]);
        }
    }
}
