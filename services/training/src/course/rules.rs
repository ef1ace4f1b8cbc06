//! A course's checks, with no I/O.

use gearshift_platform::Error;
use gearshift_platform::check::{id, institute_code, text};
use gearshift_platform::error::Violations;
use gearshift_proto::training::v1 as pb;

/// A course code: 2 to 20 upper-case letters, digits or dashes.
fn code(raw: &str) -> Result<String, String> {
    let c = raw.trim();
    let valid = (2..=20).contains(&c.len())
        && c.starts_with(|ch: char| ch.is_ascii_uppercase())
        && c.chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '-');
    if valid {
        Ok(c.to_string())
    } else {
        Err("must be 2 to 20 upper-case letters, digits or dashes, e.g. BAT-101".into())
    }
}

/// A new course's fields, checked; output-only fields cleared.
pub fn check(input: &pb::Course) -> Result<pb::Course, Error> {
    let mut v = Violations::new();
    let mut out = pb::Course {
        code: v
            .check("course.code", code(&input.code))
            .unwrap_or_default(),
        title_ko: v
            .check("course.titleKo", text(&input.title_ko, 200, true))
            .unwrap_or_default(),
        title_en: v
            .check("course.titleEn", text(&input.title_en, 200, false))
            .unwrap_or_default(),
        description: v
            .check("course.description", text(&input.description, 5_000, false))
            .unwrap_or_default(),
        institute: v
            .check("course.institute", institute_code(&input.institute))
            .unwrap_or_default(),
        hours: input.hours,
        ..Default::default()
    };
    match pb::Track::try_from(input.track) {
        Ok(pb::Track::Unspecified) => v.add("course.track", "is required"),
        Ok(t) => out.track = t as i32,
        Err(_) => v.add("course.track", "is not a track"),
    }
    match pb::Level::try_from(input.level) {
        Ok(pb::Level::Unspecified) => v.add("course.level", "is required"),
        Ok(l) => out.level = l as i32,
        Err(_) => v.add("course.level", "is not a level"),
    }
    if !(1..=1_000).contains(&input.hours) {
        v.add("course.hours", "must be 1 to 1,000");
    }
    if input.prerequisite_course_ids.len() > 10 {
        v.add("course.prerequisiteCourseIds", "must be at most 10 courses");
    }
    for (i, p) in input.prerequisite_course_ids.iter().enumerate() {
        let field = format!("course.prerequisiteCourseIds[{i}]");
        match id(p, "crs", "a course") {
            Ok(p) if out.prerequisite_course_ids.contains(&p) => v.add(field, "is listed twice"),
            Ok(p) => out.prerequisite_course_ids.push(p),
            Err(e) => v.add(field, e),
        }
    }
    v.into_result()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> pb::Course {
        pb::Course {
            code: "BAT-101".into(),
            title_ko: "배터리 시스템 기초".into(),
            track: pb::Track::BatterySystems as i32,
            level: pb::Level::Introductory as i32,
            hours: 24,
            institute: "GJTP".into(),
            ..Default::default()
        }
    }

    #[test]
    fn courses_are_checked_field_by_field() {
        assert!(check(&valid()).is_ok());
        type Change = fn(&mut pb::Course);
        let cases: &[(Change, &str)] = &[
            (|c| c.code = "bat 101".into(), "course.code"),
            (|c| c.title_ko = " ".into(), "course.titleKo"),
            (|c| c.track = 0, "course.track"),
            (|c| c.level = 99, "course.level"),
            (|c| c.hours = 0, "course.hours"),
            (|c| c.institute = "gjtp".into(), "course.institute"),
            (
                |c| c.prerequisite_course_ids = vec!["crs_nope".into()],
                "course.prerequisiteCourseIds[0]",
            ),
        ];
        for (change, field) in cases {
            let mut c = valid();
            change(&mut c);
            match check(&c) {
                Err(Error::InvalidArgument(v)) => {
                    let fields: Vec<String> = v.into_iter().map(|f| f.field).collect();
                    assert_eq!(fields, [*field]);
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
