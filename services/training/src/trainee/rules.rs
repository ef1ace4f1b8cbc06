//! A trainee's checks and the youth measure, with no I/O.

use gearshift_platform::Error;
use gearshift_platform::check::{date, id, text};
use gearshift_platform::error::Violations;
use gearshift_proto::training::v1 as pb;
use jiff::civil::Date;
use pb::trainee::AgeBand;

fn email(raw: &str) -> Result<String, String> {
    let e = raw.trim();
    let well_formed = e.len() <= 254
        && !e.chars().any(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if well_formed {
        Ok(e.to_string())
    } else {
        Err("must be an e-mail address, e.g. kim@example.kr".into())
    }
}

fn phone(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    if p.len() <= 30
        && p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-'))
    {
        Ok(p.to_string())
    } else {
        Err("must be up to 30 digits, spaces, + or -".into())
    }
}

/// A new trainee's fields, checked; output-only fields cleared. `today`
/// bounds the birth date.
pub fn check(input: &pb::Trainee, today: Date) -> Result<pb::Trainee, Error> {
    let mut v = Violations::new();
    let mut out = pb::Trainee {
        name: v
            .check("trainee.name", text(&input.name, 100, true))
            .unwrap_or_default(),
        email: v
            .check("trainee.email", email(&input.email))
            .unwrap_or_default(),
        phone: v
            .check("trainee.phone", phone(&input.phone))
            .unwrap_or_default(),
        ..Default::default()
    };
    if !input.birth_date.trim().is_empty() {
        match date(&input.birth_date) {
            Ok(d) if d >= today => v.add("trainee.birthDate", "must be in the past"),
            Ok(d) if d.year() < 1900 => v.add("trainee.birthDate", "must be after 1900"),
            Ok(d) => out.birth_date = d.to_string(),
            Err(e) => v.add("trainee.birthDate", e),
        }
    }
    match AgeBand::try_from(input.age_band) {
        Ok(AgeBand::Unspecified) if out.birth_date.is_empty() && input.birth_date.is_empty() => {
            v.add(
                "trainee.birthDate",
                "give the birth date, or the age band (YOUNG or NOT_YOUNG)",
            );
        }
        Ok(b) => out.age_band = b as i32,
        Err(_) => v.add("trainee.ageBand", "is not an age band"),
    }
    if !input.supplier_id.is_empty() {
        out.supplier_id = v
            .check(
                "trainee.supplierId",
                id(&input.supplier_id, "sup", "a supplier"),
            )
            .unwrap_or_default();
    }
    v.into_result()?;
    Ok(out)
}

/// Whether the trainee counts as young on `day`: under `young_under`
/// years by the birth date, or by the age band given instead.
pub fn young(t: &pb::Trainee, day: Date, young_under: u32) -> bool {
    match date(&t.birth_date) {
        Ok(born) => {
            let mut age = i32::from(day.year()) - i32::from(born.year());
            if (day.month(), day.day()) < (born.month(), born.day()) {
                age -= 1;
            }
            age < i32::try_from(young_under).unwrap_or(i32::MAX)
        }
        Err(_) => t.age_band == AgeBand::Young as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().expect("date")
    }

    #[test]
    fn the_youth_measure_counts_birthdays() {
        let t = |birth: &str| pb::Trainee {
            birth_date: birth.into(),
            ..Default::default()
        };
        // 35 on 2026-11-25: no longer young; the day before, still.
        assert!(!young(&t("1991-11-25"), day("2026-11-25"), 35));
        assert!(young(&t("1991-11-26"), day("2026-11-25"), 35));
        assert!(
            young(&t("1991-11-25"), day("2026-11-25"), 36),
            "configurable"
        );
        let band = |b: AgeBand| pb::Trainee {
            age_band: b as i32,
            ..Default::default()
        };
        assert!(young(&band(AgeBand::Young), day("2026-11-25"), 35));
        assert!(!young(&band(AgeBand::NotYoung), day("2026-11-25"), 35));
    }

    #[test]
    fn trainees_are_checked() {
        let ok = pb::Trainee {
            name: "김하늘".into(),
            email: "haneul@example.kr".into(),
            birth_date: "2001-04-05".into(),
            ..Default::default()
        };
        assert!(check(&ok, day("2026-11-25")).is_ok());
        type Change = fn(&mut pb::Trainee);
        let cases: &[(Change, &str)] = &[
            (|t| t.name.clear(), "trainee.name"),
            (|t| t.email = "not-an-address".into(), "trainee.email"),
            (|t| t.phone = "call me".into(), "trainee.phone"),
            (|t| t.birth_date = "2030-01-01".into(), "trainee.birthDate"),
            (|t| t.birth_date.clear(), "trainee.birthDate"),
            (|t| t.supplier_id = "sup_nope".into(), "trainee.supplierId"),
        ];
        for (change, field) in cases {
            let mut t = ok.clone();
            change(&mut t);
            match check(&t, day("2026-11-25")) {
                Err(Error::InvalidArgument(v)) => {
                    let fields: Vec<String> = v.into_iter().map(|f| f.field).collect();
                    assert_eq!(fields, [*field]);
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
