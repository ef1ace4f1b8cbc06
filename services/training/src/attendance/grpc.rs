//! Attendance's gRPC handlers: the teaching institute records, the
//! trainee's company reads.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, ids, pagination};
use gearshift_proto::training::v1 as pb;
use pb::enrollment::Status;
use tonic::Request;

use super::store;
use crate::TrainingService;
use crate::cohort::grpc::require_manager;
use crate::cohort::store as cohorts;
use crate::enrollment::grpc::{load_readable, record_event, settle};
use crate::enrollment::store as enrollments;
use crate::reason::Reason;

pub async fn record(
    svc: &TrainingService,
    request: Request<pb::RecordAttendanceRequest>,
) -> Result<pb::AttendanceRecord, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let input = req
        .record
        .as_ref()
        .ok_or_else(|| Error::invalid("record", "is required"))?;
    let note = gearshift_platform::check::text(&input.note, 500, false)
        .map_err(|e| Error::invalid("record.note", e))?;
    let day = gearshift_platform::check::date(&input.session_day)
        .map_err(|e| Error::invalid("record.sessionDay", e))?
        .to_string();
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, note, day, present, id) = (
        &principal,
        &note,
        &day,
        input.present,
        req.enrollment_id.as_str(),
    );
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let current = load_readable(&mut tx, principal, id).await?;
        let cohort = cohorts::get(&mut tx, &current.cohort_id)
            .await?
            .ok_or_else(|| crate::cohort::grpc::not_found(&current.cohort_id))?;
        require_manager(principal, &cohort.body)?;
        if !matches!(
            cohort.status,
            pb::cohort::Status::Running | pb::cohort::Status::Finished
        ) {
            return Err(Error::precondition(
                Reason::InvalidTransition,
                "status",
                format!(
                    "attendance is taken once the cohort is RUNNING; it is {}",
                    cohort.status.as_str_name()
                ),
            ));
        }
        if !matches!(
            current.status,
            Status::Confirmed | Status::Completed | Status::Incomplete | Status::NoShow
        ) {
            return Err(Error::precondition(
                Reason::InvalidTransition,
                "status",
                format!(
                    "attendance is for trainees with a seat; this enrolment is {}",
                    current.status.as_str_name()
                ),
            ));
        }
        if !cohort.body.session_days.contains(day) {
            return Err(Error::invalid(
                "record.sessionDay",
                format!(
                    "{day} is not one of the cohort's session days ({} to {})",
                    cohort.body.start_date, cohort.body.end_date
                ),
            ));
        }
        // The enrolment's revision moves first: records of one enrolment
        // are numbered one after the other.
        let mut touched = current.clone();
        touched.revision += 1;
        touched.update_time = now.max(current.update_time);
        if !enrollments::update(&mut tx, &touched, current.revision).await? {
            return Err(Error::Conflict);
        }
        let record = pb::AttendanceRecord {
            id: ids::new_id("att"),
            enrollment_id: current.id.clone(),
            session_day: day.clone(),
            present,
            note: note.clone(),
            recorded_by: principal.subject.clone(),
            record_time: Some(gearshift_platform::time::to_timestamp(now)),
        };
        store::insert(&mut tx, &record, now).await?;
        record_event(
            &mut tx,
            principal,
            "enrollment.attendance_recorded",
            &current,
            &touched,
            serde_json::json!({"attendanceId": record.id, "sessionDay": day, "present": present}),
        )
        .await?;
        // After the end, a correction settles the course again.
        if cohort.status == pb::cohort::Status::Finished {
            settle(&mut tx, principal, &touched, &cohort).await?;
        }
        Ok((tx, record))
    })
    .await?;
    Ok(written.response)
}

pub async fn list(
    svc: &TrainingService,
    request: Request<pb::ListAttendanceRequest>,
) -> Result<pb::ListAttendanceResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let mut conn = svc.db.conn().await?;
    let e = load_readable(&mut conn, &principal, &req.enrollment_id).await?;
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["attendance", &e.id]);
    let after: Option<i64> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut rows = store::list(&mut conn, &e.id, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |(_, seq)| {
        serde_json::json!(seq)
    });
    Ok(pb::ListAttendanceResponse {
        records: rows.into_iter().map(|(r, _)| r).collect(),
        next_page_token,
    })
}
