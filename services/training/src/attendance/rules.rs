//! What attendance adds up to, with no I/O.

use std::collections::BTreeMap;

use gearshift_proto::training::v1 as pb;
use pb::enrollment::Status;

/// A day's record as it counts: the newest per day wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub day: String,
    pub present: bool,
    /// Order of recording; later corrects earlier.
    pub seq: i64,
}

/// The newest record of each day.
fn newest(marks: &[Mark]) -> BTreeMap<&str, &Mark> {
    let mut out: BTreeMap<&str, &Mark> = BTreeMap::new();
    for m in marks {
        let e = out.entry(m.day.as_str()).or_insert(m);
        if m.seq > e.seq {
            *e = m;
        }
    }
    out
}

/// The share of `session_days` attended (0 to 100, rounded down), by the
/// newest record of each day; days without a record count as absent.
pub fn percent(session_days: &[String], marks: &[Mark]) -> i32 {
    share(session_days, &newest(marks))
}

fn share(session_days: &[String], newest: &BTreeMap<&str, &Mark>) -> i32 {
    if session_days.is_empty() {
        return 0;
    }
    let attended = session_days
        .iter()
        .filter(|d| newest.get(d.as_str()).is_some_and(|m| m.present))
        .count();
    i32::try_from(attended * 100 / session_days.len()).unwrap_or(100)
}

/// How a seat holder's course ended: never attended is NO_SHOW; at least
/// `threshold` % is COMPLETED; anything else INCOMPLETE.
pub fn outcome(session_days: &[String], marks: &[Mark], threshold: i32) -> (Status, i32) {
    let newest = newest(marks);
    let p = share(session_days, &newest);
    let status = if !newest.values().any(|m| m.present) {
        Status::NoShow
    } else if p >= threshold {
        Status::Completed
    } else {
        Status::Incomplete
    };
    (status, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2027-01-{d:02}")).collect()
    }

    fn mark(day: usize, present: bool, seq: i64) -> Mark {
        Mark {
            day: format!("2027-01-{day:02}"),
            present,
            seq,
        }
    }

    #[test]
    fn completion_table() {
        let ten = days(10);
        let present =
            |n: usize| -> Vec<Mark> { (1..=n).map(|d| mark(d, true, d as i64)).collect() };
        type Case = (&'static str, Vec<Mark>, i32, Status, i32);
        let cases: Vec<Case> = vec![
            ("never recorded", vec![], 80, Status::NoShow, 0),
            (
                "recorded absent every day",
                (1..=10).map(|d| mark(d, false, d as i64)).collect(),
                80,
                Status::NoShow,
                0,
            ),
            ("8 of 10 at 80 %", present(8), 80, Status::Completed, 80),
            ("7 of 10 at 80 %", present(7), 80, Status::Incomplete, 70),
            ("7 of 10 at 70 %", present(7), 70, Status::Completed, 70),
            ("all", present(10), 100, Status::Completed, 100),
        ];
        for (name, marks, threshold, status, pct) in cases {
            assert_eq!(outcome(&ten, &marks, threshold), (status, pct), "{name}");
        }
    }

    #[test]
    fn the_newest_record_of_a_day_counts() {
        let ten = days(10);
        let mut marks: Vec<Mark> = (1..=8).map(|d| mark(d, true, d as i64)).collect();
        assert_eq!(percent(&ten, &marks), 80);
        // Day 3 corrected to absent: 70 %.
        marks.push(mark(3, false, 20));
        assert_eq!(percent(&ten, &marks), 70);
        // And back.
        marks.push(mark(3, true, 21));
        assert_eq!(percent(&ten, &marks), 80);
        // A record for a day that is not a session day counts for nothing.
        marks.push(mark(25, true, 22));
        assert_eq!(percent(&ten, &marks), 80);
    }
}
