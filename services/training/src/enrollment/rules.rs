//! Enrolment's rules, with no I/O: what a status allows, and the order of
//! a waitlist.

use gearshift_platform::Error;
use gearshift_platform::error::Reason as _;
use gearshift_proto::training::v1 as pb;
use pb::enrollment::Status;

use crate::reason::Reason;

/// Holds a seat or a place on the list, or is finished: counts as "in the
/// cohort" (one enrolment per trainee per cohort).
pub fn is_active(s: Status) -> bool {
    !matches!(
        s,
        Status::Withdrawn | Status::Cancelled | Status::OfferExpired
    )
}

/// Whether an enrolment in `s` holds one of the cohort's seats.
pub fn holds_seat(s: Status) -> bool {
    matches!(s, Status::Confirmed | Status::Offered)
}

/// What cancelling an enrolment in `status` leads to: a confirmed one is
/// cancelled (its seat freed), a waitlisted one withdrawn from the list,
/// an offer declined (its seat offered to the next).
pub fn cancelled(status: Status) -> Result<Status, Error> {
    match status {
        Status::Confirmed => Ok(Status::Cancelled),
        Status::Waitlisted | Status::Offered => Ok(Status::Withdrawn),
        other => Err(Error::FailedPrecondition {
            reason: Reason::InvalidTransition.as_str(),
            message: format!(
                "only a CONFIRMED, OFFERED or WAITLISTED enrolment can be cancelled; this one \
                 is {}",
                other.as_str_name()
            ),
            subject: "status".into(),
            allowed: Vec::new(),
        }),
    }
}

/// A waitlisted enrolment's place in line: young people first under
/// YOUNG_FIRST, then by arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InLine {
    pub id: String,
    pub young: bool,
    pub seq: i64,
}

/// `line` in the order seats go to it under `policy`.
pub fn order(mut line: Vec<InLine>, policy: pb::WaitlistPolicy) -> Vec<InLine> {
    match policy {
        pb::WaitlistPolicy::YoungFirst => line.sort_by_key(|e| (!e.young, e.seq)),
        _ => line.sort_by_key(|e| e.seq),
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Vec<InLine> {
        [(1, false), (2, true), (3, false), (4, true)]
            .into_iter()
            .map(|(seq, young)| InLine {
                id: format!("e{seq}"),
                young,
                seq,
            })
            .collect()
    }

    fn ids(l: Vec<InLine>) -> Vec<String> {
        l.into_iter().map(|e| e.id).collect()
    }

    #[test]
    fn waitlists_order_by_policy() {
        assert_eq!(
            ids(order(line(), pb::WaitlistPolicy::FirstCome)),
            ["e1", "e2", "e3", "e4"]
        );
        assert_eq!(
            ids(order(line(), pb::WaitlistPolicy::YoungFirst)),
            ["e2", "e4", "e1", "e3"]
        );
    }

    #[test]
    fn cancelling_frees_a_seat_or_leaves_the_list() {
        assert_eq!(cancelled(Status::Confirmed).ok(), Some(Status::Cancelled));
        assert_eq!(cancelled(Status::Waitlisted).ok(), Some(Status::Withdrawn));
        assert_eq!(cancelled(Status::Offered).ok(), Some(Status::Withdrawn));
        assert!(!is_active(Status::OfferExpired));
        assert!(holds_seat(Status::Offered) && holds_seat(Status::Confirmed));
        assert!(!holds_seat(Status::Waitlisted));
        for s in [
            Status::Withdrawn,
            Status::Cancelled,
            Status::Completed,
            Status::Incomplete,
            Status::NoShow,
            Status::OfferExpired,
        ] {
            assert!(cancelled(s).is_err(), "{s:?}");
        }
    }
}
