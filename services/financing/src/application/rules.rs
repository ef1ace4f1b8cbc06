//! An application's checks, with no I/O.

use gearshift_platform::Error;
use gearshift_platform::error::{Reason as _, Violations};
use gearshift_proto::financing::v1 as pb;
use pb::application::Status;

use crate::programme::rules::{text, won};
use crate::reason::Reason;

/// Not rejected, withdrawn or cancelled: counts against "one per company
/// per programme".
pub fn is_active(s: Status) -> bool {
    !matches!(s, Status::Rejected | Status::Withdrawn | Status::Cancelled)
}

/// A draft's fields, checked; output-only fields cleared.
pub fn check_draft(input: &pb::Application) -> Result<pb::Application, Error> {
    let mut v = Violations::new();
    let mut out = pb::Application {
        programme_id: input.programme_id.clone(),
        supplier_id: input.supplier_id.clone(),
        ..Default::default()
    };
    out.requested_amount_won = v
        .check(
            "application.requestedAmountWon",
            won(input.requested_amount_won, true),
        )
        .unwrap_or_default();
    match pb::Purpose::try_from(input.purpose) {
        Ok(pb::Purpose::Unspecified) => v.add("application.purpose", "is required"),
        Ok(p) => out.purpose = p as i32,
        Err(_) => v.add("application.purpose", "is not a purpose"),
    }
    out.transition_plan_summary = v
        .check(
            "application.transitionPlanSummary",
            text(&input.transition_plan_summary, 5_000, true),
        )
        .unwrap_or_default();
    if !(0..=100_000).contains(&input.planned_hires) {
        v.add("application.plannedHires", "must be 0 to 100,000");
    }
    if input.planned_young_hires < 0 || input.planned_young_hires > input.planned_hires {
        v.add("application.plannedYoungHires", "must be 0 to plannedHires");
    }
    out.planned_hires = input.planned_hires;
    out.planned_young_hires = input.planned_young_hires;
    for (i, d) in input.documents.iter().enumerate() {
        let field = |f: &str| format!("application.documents[{i}].{f}");
        let name = v.check(&field("name"), text(&d.name, 200, true));
        let file_ref = v.check(&field("fileRef"), text(&d.file_ref, 500, false));
        let checksum = d.checksum.trim().to_ascii_lowercase();
        if !checksum.is_empty()
            && (checksum.len() != 64 || !checksum.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            v.add(field("checksum"), "must be a SHA-256: 64 hex characters");
        }
        if d.provided && (d.file_ref.trim().is_empty() || checksum.is_empty()) {
            v.add(
                field("provided"),
                "a provided document needs its fileRef and checksum",
            );
        }
        if let (Some(name), Some(file_ref)) = (name, file_ref) {
            if out.documents.iter().any(|o| o.name == name) {
                v.add(field("name"), "is listed twice");
            }
            out.documents.push(pb::Document {
                name,
                provided: d.provided,
                file_ref,
                checksum,
            });
        }
    }
    v.into_result()?;
    Ok(out)
}

/// Whether a draft may be submitted to `programme` at `now`: the programme
/// is open and inside its window, the purpose is one it funds, the amount
/// within its minimum and cap, every required document provided.
pub fn check_submit(
    app: &pb::Application,
    programme: &pb::Programme,
    status: pb::programme::Status,
    now: i64,
) -> Result<(), Error> {
    use gearshift_platform::time::from_timestamp;
    let opens = programme
        .opens_time
        .as_ref()
        .map_or(i64::MAX, from_timestamp);
    let closes = programme
        .closes_time
        .as_ref()
        .map_or(i64::MIN, from_timestamp);
    if status != pb::programme::Status::Open || now < opens || now >= closes {
        return Err(Error::precondition(
            Reason::ProgrammeNotOpen,
            "programmeId",
            format!(
                "the programme takes applications only while OPEN, from {} until {}",
                programme
                    .opens_time
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                programme
                    .closes_time
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            ),
        ));
    }
    let mut v = Violations::new();
    if !programme.purposes.contains(&app.purpose) {
        v.add("purpose", "is not one of the purposes this programme funds");
    }
    if app.requested_amount_won > programme.per_company_cap_won {
        v.add(
            "requestedAmountWon",
            format!(
                "is over the programme's cap of {} won",
                programme.per_company_cap_won
            ),
        );
    }
    if app.requested_amount_won < programme.per_company_min_won {
        v.add(
            "requestedAmountWon",
            format!(
                "is under the programme's minimum of {} won",
                programme.per_company_min_won
            ),
        );
    }
    v.into_result()?;
    let missing: Vec<&str> = programme
        .required_documents
        .iter()
        .filter(|name| !app.documents.iter().any(|d| &d.name == *name && d.provided))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::FailedPrecondition {
            reason: Reason::DocumentsMissing.as_str(),
            message: format!("required documents not provided: {}", missing.join(", ")),
            subject: "documents".into(),
            allowed: Vec::new(),
        });
    }
    Ok(())
}

/// A move on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Edit,
    Submit,
    Screen,
    AssignReviewers,
    Review,
    RecordConsensus,
    Decide,
    Disburse,
    Withdraw,
    Cancel,
}

impl Verb {
    /// The statuses the move starts from.
    pub fn from(self) -> &'static [Status] {
        use Status::*;
        match self {
            Verb::Edit | Verb::Submit => &[Draft],
            Verb::Screen => &[Submitted],
            Verb::AssignReviewers => &[Screening, UnderReview],
            Verb::Review | Verb::RecordConsensus | Verb::Decide => &[UnderReview],
            Verb::Disburse => &[Approved, ConditionallyApproved, Disbursing],
            Verb::Withdraw => &[Draft, Submitted, Screening, UnderReview],
            Verb::Cancel => &[
                Draft,
                Submitted,
                Screening,
                UnderReview,
                Approved,
                ConditionallyApproved,
                Disbursing,
            ],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Verb::Edit => "edit",
            Verb::Submit => "submit",
            Verb::Screen => "screen",
            Verb::AssignReviewers => "assign reviewers to",
            Verb::Review => "review",
            Verb::RecordConsensus => "record a consensus on",
            Verb::Decide => "decide on",
            Verb::Disburse => "disburse",
            Verb::Withdraw => "withdraw",
            Verb::Cancel => "cancel",
        }
    }
}

/// Refuses `verb` from `status` unless the machine allows it, naming the
/// statuses it needs.
pub fn allowed(verb: Verb, status: Status) -> Result<(), Error> {
    if verb.from().contains(&status) {
        return Ok(());
    }
    let from: Vec<&str> = verb.from().iter().map(|s| s.as_str_name()).collect();
    Err(Error::FailedPrecondition {
        reason: Reason::InvalidTransition.as_str(),
        message: format!(
            "cannot {} an application that is {}: only one that is {}",
            verb.name(),
            status.as_str_name(),
            from.join(", ")
        ),
        subject: "status".into(),
        allowed: Vec::new(),
    })
}

/// A decision's fields against the application and its reviews: the
/// status it leads to, and the decision to keep (output-only fields not
/// yet set). Who decides and the budget are checked by the caller.
pub fn check_decision(
    input: &pb::Decision,
    requested: i64,
    summary: &pb::ReviewSummary,
    consensus: bool,
) -> Result<(Status, pb::Decision), Error> {
    use pb::decision::Outcome;
    if let Err(missing) = crate::review::rules::ready(summary) {
        return Err(Error::precondition(
            Reason::ReviewsIncomplete,
            "reviews",
            missing,
        ));
    }
    if summary.consensus_required && !consensus {
        return Err(Error::precondition(
            Reason::ConsensusRequired,
            "consensus",
            format!(
                "the reviewers' weighted scores are {} points apart, more than the programme \
                 allows; record a consensus note first",
                summary.spread
            ),
        ));
    }
    let mut v = Violations::new();
    let outcome = Outcome::try_from(input.outcome).unwrap_or(Outcome::Unspecified);
    let list = |v: &mut Violations, field: &str, items: &[String]| -> Vec<String> {
        let mut out = Vec::new();
        if items.len() > 20 {
            v.add(format!("decision.{field}"), "must be at most 20 items");
        }
        for (i, item) in items.iter().enumerate() {
            if let Some(t) = v.check(&format!("decision.{field}[{i}]"), text(item, 1_000, true)) {
                out.push(t);
            }
        }
        out
    };
    let decision = pb::Decision {
        outcome: outcome as i32,
        approved_amount_won: input.approved_amount_won,
        conditions: list(&mut v, "conditions", &input.conditions),
        reasons: list(&mut v, "reasons", &input.reasons),
        rationale: v
            .check("decision.rationale", text(&input.rationale, 5_000, true))
            .unwrap_or_default(),
        mean_score: summary.mean_score,
        ..Default::default()
    };
    let status = match outcome {
        Outcome::Approved | Outcome::ConditionallyApproved => {
            match won(input.approved_amount_won, true) {
                Err(e) => v.add("decision.approvedAmountWon", e),
                Ok(amount) if amount > requested => v.add(
                    "decision.approvedAmountWon",
                    format!("must not be over the requested {requested} won"),
                ),
                Ok(_) => {}
            }
            if outcome == Outcome::ConditionallyApproved && decision.conditions.is_empty() {
                v.add(
                    "decision.conditions",
                    "a conditional approval lists its conditions",
                );
            }
            if outcome == Outcome::Approved && !decision.conditions.is_empty() {
                v.add(
                    "decision.conditions",
                    "an approval with conditions is CONDITIONALLY_APPROVED",
                );
            }
            if outcome == Outcome::Approved {
                Status::Approved
            } else {
                Status::ConditionallyApproved
            }
        }
        Outcome::Rejected => {
            if input.approved_amount_won != 0 {
                v.add("decision.approvedAmountWon", "must be 0 on a rejection");
            }
            if decision.reasons.is_empty() {
                v.add(
                    "decision.reasons",
                    "a rejection gives the company at least one reason",
                );
            }
            if !decision.conditions.is_empty() {
                v.add("decision.conditions", "a rejection has no conditions");
            }
            Status::Rejected
        }
        Outcome::Unspecified => {
            v.add(
                "decision.outcome",
                "is required: APPROVED, CONDITIONALLY_APPROVED or REJECTED",
            );
            Status::Unspecified
        }
    };
    v.into_result()?;
    if status != Status::Rejected && !summary.passes {
        return Err(Error::precondition(
            Reason::BelowPassMark,
            "decision.outcome",
            format!(
                "the reviewers' mean score {} is under the programme's pass mark; it can only \
                 be rejected",
                summary.mean_score
            ),
        ));
    }
    Ok((status, decision))
}

/// A tranche's fields against what is left of the approved amount;
/// `today` fills an empty value date.
pub fn check_tranche(
    input: &pb::Tranche,
    approved: i64,
    disbursed: i64,
    today: &str,
) -> Result<pb::Tranche, Error> {
    let mut v = Violations::new();
    let amount = v.check("tranche.amountWon", won(input.amount_won, true));
    let value_date = if input.value_date.trim().is_empty() {
        today.to_string()
    } else {
        match input.value_date.trim().parse::<jiff::civil::Date>() {
            Ok(d) => d.to_string(),
            Err(_) => {
                v.add("tranche.valueDate", "must be a date, YYYY-MM-DD");
                String::new()
            }
        }
    };
    let reference = v
        .check("tranche.reference", text(&input.reference, 200, false))
        .unwrap_or_default();
    v.into_result()?;
    let amount = amount.unwrap_or_default();
    let left = approved - disbursed;
    if amount > left {
        return Err(Error::precondition(
            Reason::OverApprovedAmount,
            "tranche.amountWon",
            format!(
                "{amount} won is more than what is left of the approved amount: {left} of \
                 {approved} won"
            ),
        ));
    }
    Ok(pb::Tranche {
        amount_won: amount,
        value_date,
        reference,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programme() -> pb::Programme {
        pb::Programme {
            purposes: vec![pb::Purpose::FacilityConversion as i32],
            per_company_cap_won: 500,
            per_company_min_won: 100,
            opens_time: Some(prost_types::Timestamp {
                seconds: 100,
                nanos: 0,
            }),
            closes_time: Some(prost_types::Timestamp {
                seconds: 200,
                nanos: 0,
            }),
            required_documents: vec!["business plan".into()],
            ..Default::default()
        }
    }

    fn application() -> pb::Application {
        pb::Application {
            requested_amount_won: 300,
            purpose: pb::Purpose::FacilityConversion as i32,
            documents: vec![pb::Document {
                name: "business plan".into(),
                provided: true,
                file_ref: "s3://plans/1.pdf".into(),
                checksum: "a".repeat(64),
            }],
            ..Default::default()
        }
    }

    const OPEN: pb::programme::Status = pb::programme::Status::Open;
    const INSIDE: i64 = 150_000_000;

    fn reason(r: Result<(), Error>) -> String {
        match r {
            Ok(()) => "ok".into(),
            Err(e) => e.reason().to_string(),
        }
    }

    #[test]
    fn submission_rules_table() {
        type Case = (&'static str, fn(&mut pb::Application), i64, &'static str);
        let cases: &[Case] = &[
            ("all good", |_| {}, INSIDE, "ok"),
            (
                "before the window",
                |_| {},
                99_000_000,
                "PROGRAMME_NOT_OPEN",
            ),
            ("at the close", |_| {}, 200_000_000, "PROGRAMME_NOT_OPEN"),
            (
                "over the cap",
                |a| a.requested_amount_won = 501,
                INSIDE,
                "INVALID_ARGUMENT",
            ),
            (
                "under the minimum",
                |a| a.requested_amount_won = 99,
                INSIDE,
                "INVALID_ARGUMENT",
            ),
            (
                "another purpose",
                |a| a.purpose = pb::Purpose::Restructuring as i32,
                INSIDE,
                "INVALID_ARGUMENT",
            ),
            (
                "document not provided",
                |a| a.documents[0].provided = false,
                INSIDE,
                "DOCUMENTS_MISSING",
            ),
            (
                "document absent",
                |a| a.documents.clear(),
                INSIDE,
                "DOCUMENTS_MISSING",
            ),
        ];
        for (name, change, now, expected) in cases {
            let mut a = application();
            change(&mut a);
            assert_eq!(
                reason(check_submit(&a, &programme(), OPEN, *now)),
                *expected,
                "{name}"
            );
        }
        assert_eq!(
            reason(check_submit(
                &application(),
                &programme(),
                pb::programme::Status::Draft,
                INSIDE
            )),
            "PROGRAMME_NOT_OPEN"
        );
    }

    #[test]
    fn the_status_machine_table() {
        use Status::*;
        let all = [
            Draft,
            Submitted,
            Screening,
            UnderReview,
            Approved,
            ConditionallyApproved,
            Rejected,
            Disbursing,
            Disbursed,
            Withdrawn,
            Cancelled,
        ];
        // Each verb, and every status it may start from; all others refuse.
        let table: &[(Verb, &[Status])] = &[
            (Verb::Edit, &[Draft]),
            (Verb::Submit, &[Draft]),
            (Verb::Screen, &[Submitted]),
            (Verb::AssignReviewers, &[Screening, UnderReview]),
            (Verb::Review, &[UnderReview]),
            (Verb::RecordConsensus, &[UnderReview]),
            (Verb::Decide, &[UnderReview]),
            (
                Verb::Disburse,
                &[Approved, ConditionallyApproved, Disbursing],
            ),
            (Verb::Withdraw, &[Draft, Submitted, Screening, UnderReview]),
            (
                Verb::Cancel,
                &[
                    Draft,
                    Submitted,
                    Screening,
                    UnderReview,
                    Approved,
                    ConditionallyApproved,
                    Disbursing,
                ],
            ),
        ];
        for (verb, from) in table {
            for s in all {
                assert_eq!(
                    allowed(*verb, s).is_ok(),
                    from.contains(&s),
                    "{verb:?} from {s:?}"
                );
            }
        }
        // Nothing leaves the ends.
        for end in [Rejected, Disbursed, Withdrawn, Cancelled] {
            assert!(
                table.iter().all(|(_, from)| !from.contains(&end)),
                "{end:?}"
            );
        }
        let refusal = allowed(Verb::Decide, Draft).expect_err("refused");
        assert!(refusal.to_string().contains("UNDER_REVIEW"), "{refusal}");
    }

    fn ready_summary(mean: f64, passes: bool, consensus_required: bool) -> pb::ReviewSummary {
        pb::ReviewSummary {
            submitted: 2,
            required: 2,
            mean_score: mean,
            spread: 5.0,
            consensus_required,
            passes,
            ..Default::default()
        }
    }

    #[test]
    fn the_decision_table() {
        use pb::decision::Outcome;
        let d =
            |outcome: Outcome, amount: i64, conditions: &[&str], reasons: &[&str]| pb::Decision {
                outcome: outcome as i32,
                approved_amount_won: amount,
                conditions: conditions.iter().map(|c| c.to_string()).collect(),
                reasons: reasons.iter().map(|c| c.to_string()).collect(),
                rationale: "the committee met on 2026-12-02".into(),
                ..Default::default()
            };
        let pass = ready_summary(75.0, true, false);
        let fail = ready_summary(40.0, false, false);
        let apart = ready_summary(75.0, true, true);
        let pending = pb::ReviewSummary {
            pending: 1,
            ..ready_summary(75.0, true, false)
        };
        // (name, decision, summary, consensus recorded, expected)
        type Case = (
            &'static str,
            pb::Decision,
            pb::ReviewSummary,
            bool,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                "approve in full",
                d(Outcome::Approved, 300, &[], &[]),
                pass,
                false,
                "APPROVED",
            ),
            (
                "approve less",
                d(Outcome::Approved, 1, &[], &[]),
                pass,
                false,
                "APPROVED",
            ),
            (
                "approve more",
                d(Outcome::Approved, 301, &[], &[]),
                pass,
                false,
                "INVALID_ARGUMENT",
            ),
            (
                "approve nothing",
                d(Outcome::Approved, 0, &[], &[]),
                pass,
                false,
                "INVALID_ARGUMENT",
            ),
            (
                "approve negative",
                d(Outcome::Approved, -5, &[], &[]),
                pass,
                false,
                "INVALID_ARGUMENT",
            ),
            (
                "conditional with conditions",
                d(
                    Outcome::ConditionallyApproved,
                    200,
                    &["hire 3 young engineers"],
                    &[],
                ),
                pass,
                false,
                "CONDITIONALLY_APPROVED",
            ),
            (
                "conditional without",
                d(Outcome::ConditionallyApproved, 200, &[], &[]),
                pass,
                false,
                "INVALID_ARGUMENT",
            ),
            (
                "reject with reasons",
                d(Outcome::Rejected, 0, &[], &["plan too vague"]),
                fail,
                false,
                "REJECTED",
            ),
            (
                "reject without",
                d(Outcome::Rejected, 0, &[], &[]),
                fail,
                false,
                "INVALID_ARGUMENT",
            ),
            (
                "reject with an amount",
                d(Outcome::Rejected, 10, &[], &["x"]),
                fail,
                false,
                "INVALID_ARGUMENT",
            ),
            (
                "approve under the pass mark",
                d(Outcome::Approved, 300, &[], &[]),
                fail,
                false,
                "BELOW_PASS_MARK",
            ),
            (
                "no outcome",
                d(Outcome::Unspecified, 0, &[], &[]),
                pass,
                false,
                "INVALID_ARGUMENT",
            ),
            (
                "reviews pending",
                d(Outcome::Approved, 300, &[], &[]),
                pending,
                false,
                "REVIEWS_INCOMPLETE",
            ),
            (
                "apart, no note",
                d(Outcome::Approved, 300, &[], &[]),
                apart,
                false,
                "CONSENSUS_REQUIRED",
            ),
            (
                "apart, noted",
                d(Outcome::Approved, 300, &[], &[]),
                apart,
                true,
                "APPROVED",
            ),
        ];
        for (name, decision, summary, consensus, expected) in cases {
            let got = match check_decision(&decision, 300, &summary, consensus) {
                Ok((status, _)) => status.as_str_name().to_string(),
                Err(e) => e.reason().to_string(),
            };
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn tranches_never_pass_the_approved_amount() {
        let t = |amount: i64, date: &str| pb::Tranche {
            amount_won: amount,
            value_date: date.into(),
            ..Default::default()
        };
        let ok = check_tranche(&t(40, ""), 100, 60, "2026-12-01").expect("fits exactly");
        assert_eq!(ok.value_date, "2026-12-01", "today by default");
        assert_eq!(
            reason(check_tranche(&t(41, ""), 100, 60, "2026-12-01").map(|_| ())),
            "OVER_APPROVED_AMOUNT"
        );
        assert_eq!(
            reason(check_tranche(&t(0, ""), 100, 0, "2026-12-01").map(|_| ())),
            "INVALID_ARGUMENT"
        );
        assert_eq!(
            reason(check_tranche(&t(10, "2026-13-01"), 100, 0, "2026-12-01").map(|_| ())),
            "INVALID_ARGUMENT"
        );
    }

    #[test]
    fn drafts_check_money_hires_and_documents() {
        let mut a = application();
        a.requested_amount_won = -5;
        a.planned_hires = 2;
        a.planned_young_hires = 3;
        a.documents[0].checksum = "xyz".into();
        let Err(Error::InvalidArgument(v)) = check_draft(&a) else {
            panic!("refused");
        };
        let fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "application.requestedAmountWon",
                "application.transitionPlanSummary",
                "application.plannedYoungHires",
                "application.documents[0].checksum",
            ]
        );
    }
}
