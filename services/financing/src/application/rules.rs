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
