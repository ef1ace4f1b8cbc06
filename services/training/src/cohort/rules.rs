//! A cohort's checks and status machine, with no I/O.

use gearshift_platform::Error;
use gearshift_platform::check::{date, text};
use gearshift_platform::error::Violations;
use gearshift_proto::training::v1 as pb;
use jiff::civil::{Date, Weekday};
use pb::cohort::Status;

/// The attendance that completes a course when the cohort sets none.
pub const DEFAULT_COMPLETION_PERCENT: i32 = 80;
pub const MAX_CAPACITY: i32 = 10_000;
pub const MAX_SESSION_DAYS: usize = 200;

/// Every weekday from `start` to `end`.
fn weekdays(start: Date, end: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = start;
    while d <= end && out.len() < MAX_SESSION_DAYS {
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            out.push(d);
        }
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    out
}

/// A new cohort's fields, checked and normalised (session days sorted,
/// defaults filled); output-only fields cleared.
pub fn check(input: &pb::Cohort) -> Result<pb::Cohort, Error> {
    let mut v = Violations::new();
    let mut out = pb::Cohort {
        course_id: input.course_id.clone(),
        location: v
            .check("cohort.location", text(&input.location, 200, false))
            .unwrap_or_default(),
        online: input.online,
        capacity: input.capacity,
        company_quota: input.company_quota,
        waitlist: input.waitlist,
        ..Default::default()
    };
    let start = v.check("cohort.startDate", date(&input.start_date));
    let end = v.check("cohort.endDate", date(&input.end_date));
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            v.add("cohort.endDate", "must not be before startDate");
        } else if s.until(e).map(|span| span.get_days()).unwrap_or(i32::MAX) > 730 {
            v.add("cohort.endDate", "must be within two years of startDate");
        } else {
            let mut days = Vec::new();
            if input.session_days.len() > MAX_SESSION_DAYS {
                v.add(
                    "cohort.sessionDays",
                    format!("must be at most {MAX_SESSION_DAYS} days"),
                );
            }
            for (i, raw) in input.session_days.iter().enumerate() {
                let field = format!("cohort.sessionDays[{i}]");
                match date(raw) {
                    Ok(d) if d < s || d > e => {
                        v.add(field, "must be between startDate and endDate");
                    }
                    Ok(d) if days.contains(&d) => v.add(field, "is listed twice"),
                    Ok(d) => days.push(d),
                    Err(err) => v.add(field, err),
                }
            }
            if input.session_days.is_empty() {
                days = weekdays(s, e);
                if days.is_empty() {
                    v.add(
                        "cohort.sessionDays",
                        "the dates hold no weekday: list the session days",
                    );
                }
            }
            days.sort();
            out.start_date = s.to_string();
            out.end_date = e.to_string();
            out.session_days = days.iter().map(Date::to_string).collect();
        }
    }
    if !(1..=MAX_CAPACITY).contains(&input.capacity) {
        v.add("cohort.capacity", "must be 1 to 10,000 seats");
    }
    if input.company_quota < 0 || input.company_quota > MAX_CAPACITY {
        v.add(
            "cohort.companyQuota",
            "must be 0 (no limit) to 10,000 places",
        );
    }
    if !input.online && out.location.is_empty() {
        v.add("cohort.location", "is required unless the cohort is online");
    }
    match (&input.enrollment_opens_time, &input.enrollment_closes_time) {
        (Some(o), Some(c)) => {
            use gearshift_platform::time::from_timestamp;
            if from_timestamp(c) <= from_timestamp(o) {
                v.add(
                    "cohort.enrollmentClosesTime",
                    "must be after enrollmentOpensTime",
                );
            }
            out.enrollment_opens_time = Some(*o);
            out.enrollment_closes_time = Some(*c);
        }
        (o, c) => {
            if o.is_none() {
                v.add("cohort.enrollmentOpensTime", "is required");
            }
            if c.is_none() {
                v.add("cohort.enrollmentClosesTime", "is required");
            }
        }
    }
    out.waitlist_policy = match pb::WaitlistPolicy::try_from(input.waitlist_policy) {
        Ok(pb::WaitlistPolicy::Unspecified) => pb::WaitlistPolicy::FirstCome as i32,
        Ok(p) => p as i32,
        Err(_) => {
            v.add("cohort.waitlistPolicy", "is not a waitlist policy");
            0
        }
    };
    if !(0..=336).contains(&input.offer_hours) {
        v.add(
            "cohort.offerHours",
            "must be 0 (seats go straight to the next in line) to 336 hours",
        );
    }
    out.offer_hours = input.offer_hours;
    out.completion_percent = match input.completion_percent {
        0 => DEFAULT_COMPLETION_PERCENT,
        p if (1..=100).contains(&p) => p,
        _ => {
            v.add("cohort.completionPercent", "must be 1 to 100");
            0
        }
    };
    v.into_result()?;
    Ok(out)
}

/// The statuses a cohort may move to from `from`.
pub fn next(from: Status) -> &'static [Status] {
    match from {
        Status::Scheduled => &[Status::Enrolling, Status::Cancelled],
        Status::Enrolling => &[Status::Running, Status::Cancelled],
        Status::Running => &[Status::Finished, Status::Cancelled],
        Status::Finished | Status::Cancelled | Status::Unspecified => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> pb::Cohort {
        pb::Cohort {
            course_id: "crs_01m8gxzvfad1tehke53vy2eehf".into(),
            start_date: "2027-01-04".into(),
            end_date: "2027-01-15".into(),
            location: "광주 그린카진흥원 2층".into(),
            capacity: 10,
            enrollment_opens_time: Some(prost_types::Timestamp {
                seconds: 1_790_000_000,
                nanos: 0,
            }),
            enrollment_closes_time: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn session_days_default_to_the_weekdays() {
        let c = check(&valid()).expect("valid");
        assert_eq!(c.session_days.len(), 10, "two weeks of weekdays");
        assert_eq!(c.session_days[0], "2027-01-04");
        assert_eq!(c.session_days[9], "2027-01-15");
        assert_eq!(c.completion_percent, 80);
        assert_eq!(c.waitlist_policy, pb::WaitlistPolicy::FirstCome as i32);
    }

    #[test]
    fn bad_cohorts_name_the_field() {
        type Change = fn(&mut pb::Cohort);
        let cases: &[(Change, &str)] = &[
            (|c| c.end_date = "2027-01-03".into(), "cohort.endDate"),
            (|c| c.start_date = "2027-13-01".into(), "cohort.startDate"),
            (|c| c.capacity = 0, "cohort.capacity"),
            (|c| c.capacity = -5, "cohort.capacity"),
            (|c| c.company_quota = -1, "cohort.companyQuota"),
            (
                |c| c.session_days = vec!["2027-02-01".into()],
                "cohort.sessionDays[0]",
            ),
            (|c| c.location.clear(), "cohort.location"),
            (
                |c| c.enrollment_closes_time = None,
                "cohort.enrollmentClosesTime",
            ),
            (
                |c| c.enrollment_closes_time = c.enrollment_opens_time,
                "cohort.enrollmentClosesTime",
            ),
            (|c| c.completion_percent = 101, "cohort.completionPercent"),
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

    #[test]
    fn the_status_machine() {
        assert_eq!(
            next(Status::Scheduled),
            [Status::Enrolling, Status::Cancelled]
        );
        assert!(next(Status::Finished).is_empty());
        assert!(next(Status::Cancelled).is_empty());
        assert!(!next(Status::Enrolling).contains(&Status::Finished));
    }
}
