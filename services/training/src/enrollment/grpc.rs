//! Enrolment's gRPC handlers: a seat if one is free, else a place on the
//! waitlist, else a refusal with the reason; seats freed go to the next in
//! line in the same transaction.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, Role, etag, ids, outbox, pagination, time};
use gearshift_proto::training::v1 as pb;
use pb::enrollment::Status;
use sqlx::AnyConnection;
use tonic::Request;

use super::rules;
use super::store::{self, Scope, Stored};
use crate::TrainingService;
use crate::cohort::grpc::cohort_id;
use crate::cohort::store as cohorts;
use crate::course::store as courses;
use crate::reason::Reason;
use crate::trainee::grpc::trainee_id;
use crate::trainee::store as trainees;

/// The enrolment as shown, with its place in line when waitlisted.
pub fn to_proto(e: &Stored, position: i32) -> pb::Enrollment {
    pb::Enrollment {
        id: e.id.clone(),
        trainee_id: e.trainee_id.clone(),
        cohort_id: e.cohort_id.clone(),
        status: e.status as i32,
        waitlist_position: if e.status == Status::Waitlisted {
            position
        } else {
            0
        },
        young: e.young,
        supplier_id: e.supplier_id.clone().unwrap_or_default(),
        status_reason: e.status_reason.clone(),
        create_time: Some(time::to_timestamp(e.create_time)),
        update_time: Some(time::to_timestamp(e.update_time)),
        etag: etag::from_revision(e.revision),
        attendance_percent: i32::try_from(e.attendance_percent).unwrap_or(0),
        certificate_id: e.certificate_id.clone().unwrap_or_default(),
        offer_expire_time: e
            .offer_expire_time
            .filter(|_| e.status == Status::Offered)
            .map(time::to_timestamp),
    }
}

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "enrollment",
        id: id.to_string(),
    }
}

fn enrollment_id(field: &str, id: &str) -> Result<(), Error> {
    gearshift_platform::check::require_id(field, id, "enr", "an enrollment")
}

/// Operators, the trainee's company, and the teaching institute read an
/// enrolment; anyone else is told there is none.
fn readable(p: &Principal, e: &Stored) -> Result<(), Error> {
    let ok = match &p.role {
        Role::Operator => true,
        Role::Supplier(own) => e.supplier_id.as_deref() == Some(own.as_str()),
        Role::Institute(code) => code == &e.institute,
        _ => false,
    };
    if ok { Ok(()) } else { Err(not_found(&e.id)) }
}

fn snapshot(e: &Stored) -> serde_json::Value {
    serde_json::json!({
        "id": e.id,
        "cohortId": e.cohort_id,
        "traineeId": e.trainee_id,
        "status": e.status.as_str_name(),
    })
}

async fn event(
    tx: &mut Tx,
    principal: &Principal,
    event_type: &str,
    before: Option<&Stored>,
    after: &Stored,
    detail: Option<serde_json::Value>,
) -> Result<(), Error> {
    tx.append(outbox::NewEvent {
        aggregate_type: "enrollment",
        aggregate_id: &after.id,
        event_type,
        actor: principal,
        before: before.map(snapshot),
        after: Some(snapshot(after)),
        changed_fields: Vec::new(),
        detail,
    })
    .await?;
    Ok(())
}

/// Places in line of a cohort's waitlist, by enrolment id.
async fn positions(
    conn: &mut AnyConnection,
    cohort: &pb::Cohort,
    cohort_id: &str,
) -> Result<std::collections::HashMap<String, i32>, Error> {
    let policy = pb::WaitlistPolicy::try_from(cohort.waitlist_policy)
        .unwrap_or(pb::WaitlistPolicy::FirstCome);
    let line = rules::order(store::waitlist(conn, cohort_id).await?, policy);
    Ok(line
        .into_iter()
        .enumerate()
        .map(|(i, e)| (e.id, i32::try_from(i + 1).unwrap_or(i32::MAX)))
        .collect())
}

async fn shown(conn: &mut AnyConnection, e: &Stored) -> Result<pb::Enrollment, Error> {
    if e.status != Status::Waitlisted {
        return Ok(to_proto(e, 0));
    }
    let cohort = cohorts::get(conn, &e.cohort_id)
        .await?
        .ok_or_else(|| crate::cohort::grpc::not_found(&e.cohort_id))?;
    let line = positions(conn, &cohort.body, &e.cohort_id).await?;
    Ok(to_proto(e, line.get(&e.id).copied().unwrap_or(0)))
}

fn closed(message: String) -> Error {
    Error::precondition(Reason::EnrollmentClosed, "enrollment.cohortId", message)
}

/// Whether `cohort` takes enrolments at `now`: ENROLLING and inside its
/// window.
fn open_at(cohort: &cohorts::Stored, now: i64) -> Result<(), Error> {
    use gearshift_platform::time::from_timestamp;
    let b = &cohort.body;
    if cohort.status != pb::cohort::Status::Enrolling {
        return Err(closed(format!(
            "the cohort is {} and takes no enrolments",
            cohort.status.as_str_name()
        )));
    }
    let opens = b
        .enrollment_opens_time
        .as_ref()
        .map_or(i64::MAX, from_timestamp);
    let closes = b
        .enrollment_closes_time
        .as_ref()
        .map_or(i64::MIN, from_timestamp);
    if now < opens || now >= closes {
        return Err(closed(format!(
            "the cohort takes enrolments from {} until {}",
            b.enrollment_opens_time
                .map(|t| t.to_string())
                .unwrap_or_default(),
            b.enrollment_closes_time
                .map(|t| t.to_string())
                .unwrap_or_default()
        )));
    }
    Ok(())
}

pub async fn create(
    svc: &TrainingService,
    request: Request<pb::CreateEnrollmentRequest>,
) -> Result<pb::Enrollment, Error> {
    let principal = Principal::from_request(&request)?;
    let input = request
        .get_ref()
        .enrollment
        .as_ref()
        .ok_or_else(|| Error::invalid("enrollment", "is required"))?;
    trainee_id("enrollment.traineeId", &input.trainee_id)?;
    cohort_id("enrollment.cohortId", &input.cohort_id)?;
    if !matches!(principal.role, Role::Operator | Role::Supplier(_)) {
        return Err(Error::PermissionDenied(
            "operators and the trainee's company enrol trainees".into(),
        ));
    }
    // Everything that can refuse early, then the registry, then the write.
    let (trainee, cohort, course) = {
        let mut conn = svc.db.conn().await?;
        let trainee = trainees::get(&mut conn, &input.trainee_id)
            .await?
            .filter(|t| match &principal.role {
                Role::Supplier(own) => own == &t.body.supplier_id,
                _ => true,
            })
            .ok_or_else(|| {
                Error::invalid("enrollment.traineeId", "there is no such trainee of yours")
            })?;
        let cohort = cohorts::get(&mut conn, &input.cohort_id)
            .await?
            .ok_or_else(|| Error::invalid("enrollment.cohortId", "there is no such cohort"))?;
        let course = courses::get(&mut conn, &cohort.body.course_id)
            .await?
            .ok_or_else(|| crate::course::grpc::not_found(&cohort.body.course_id))?;
        (trainee, cohort, course)
    };
    open_at(&cohort, svc.db.clock().now_micros())?;
    if !trainee.body.supplier_id.is_empty() {
        let company = svc
            .registry
            .supplier(&request, &trainee.body.supplier_id)
            .await?;
        let active = company.as_ref().is_some_and(|s| {
            s.status == gearshift_proto::registry::v1::SupplierStatus::Active as i32
        });
        if !active {
            return Err(Error::precondition(
                Reason::CompanyNotActive,
                "enrollment.traineeId",
                format!(
                    "the trainee's company {} is not ACTIVE in the registry",
                    trainee.body.supplier_id
                ),
            ));
        }
    }
    let young =
        crate::trainee::rules::young(&trainee.body, svc.db.clock().today(), svc.young_under);
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, trainee, prerequisites) =
        (&principal, &trainee, &course.body.prerequisite_course_ids);
    let cohort_key = input.cohort_id.as_str();
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        // One enrolment of this trainee at a time: the checks below see
        // any other that committed.
        trainees::lock(&mut tx, &trainee.id).await?;
        let cohort = cohorts::get(&mut tx, cohort_key)
            .await?
            .ok_or_else(|| crate::cohort::grpc::not_found(cohort_key))?;
        open_at(&cohort, now)?;
        if store::of_trainee_in(&mut tx, &trainee.id, &cohort.id)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists {
                resource: "enrollment",
                field: "enrollment.traineeId".into(),
                message: "the trainee is already in this cohort".into(),
            });
        }
        if let Some(other) = store::overlapping(
            &mut tx,
            &trainee.id,
            &cohort.body.start_date,
            &cohort.body.end_date,
        )
        .await?
        {
            return Err(Error::precondition(
                Reason::ScheduleConflict,
                "enrollment.cohortId",
                format!("the trainee is in cohort {other}, whose dates overlap this one's"),
            ));
        }
        let done = store::completed_courses(&mut tx, &trainee.id).await?;
        let missing: Vec<&str> = prerequisites
            .iter()
            .filter(|p| !done.contains(p))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Error::precondition(
                Reason::PrerequisitesMissing,
                "enrollment.traineeId",
                format!(
                    "the trainee has not completed the prerequisite course(s) {}",
                    missing.join(", ")
                ),
            ));
        }
        let supplier =
            (!trainee.body.supplier_id.is_empty()).then(|| trainee.body.supplier_id.clone());
        let quota = i64::from(cohort.body.company_quota);
        if let Some(s) = &supplier
            && quota > 0
            && !cohorts::take_company_place(&mut tx, &cohort.id, s, quota).await?
        {
            return Err(Error::precondition(
                Reason::QuotaExceeded,
                "enrollment.traineeId",
                format!("the company has placed {quota} trainee(s) in this cohort, its quota"),
            ));
        }
        let (status, seq) = if cohorts::take_seat(&mut tx, &cohort.id, now).await? {
            (Status::Confirmed, None)
        } else if cohort.body.waitlist {
            match cohorts::join_waitlist(&mut tx, &cohort.id, now).await? {
                Some(seq) => (Status::Waitlisted, Some(seq)),
                None => return Err(closed("the cohort stopped enrolling".into())),
            }
        } else {
            return Err(Error::precondition(
                Reason::CohortFull,
                "enrollment.cohortId",
                format!(
                    "all {} seats are taken and the cohort keeps no waitlist",
                    cohort.body.capacity
                ),
            ));
        };
        let enrollment = Stored {
            id: ids::new_id("enr"),
            cohort_id: cohort.id.clone(),
            trainee_id: trainee.id.clone(),
            supplier_id: supplier,
            institute: cohort.body.institute.clone(),
            status,
            young,
            waitlist_seq: seq,
            status_reason: String::new(),
            create_time: now,
            update_time: now,
            revision: 1,
            attendance_percent: 0,
            certificate_id: None,
            offer_expire_time: None,
        };
        if !store::insert(&mut tx, &enrollment).await? {
            return Err(Error::Conflict);
        }
        let event_type = if status == Status::Confirmed {
            "enrollment.confirmed"
        } else {
            "enrollment.waitlisted"
        };
        event(&mut tx, principal, event_type, None, &enrollment, None).await?;
        let shown = shown(&mut tx, &enrollment).await?;
        Ok((tx, shown))
    })
    .await?;
    Ok(written.response)
}

pub async fn get(
    svc: &TrainingService,
    request: Request<pb::GetEnrollmentRequest>,
) -> Result<pb::Enrollment, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    enrollment_id("id", id)?;
    let mut conn = svc.db.conn().await?;
    let e = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    readable(&principal, &e)?;
    shown(&mut conn, &e).await
}

pub async fn list(
    svc: &TrainingService,
    request: Request<pb::ListEnrollmentsRequest>,
) -> Result<pb::ListEnrollmentsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    if !req.cohort_id.is_empty() {
        cohort_id("cohortId", &req.cohort_id)?;
    }
    if !req.trainee_id.is_empty() {
        trainee_id("traineeId", &req.trainee_id)?;
    }
    let status = match Status::try_from(req.status) {
        Ok(Status::Unspecified) => None,
        Ok(s) => Some(s),
        Err(_) => return Err(Error::invalid("status", "is not an enrollment status")),
    };
    let scope = match &principal.role {
        Role::Operator => Scope::All,
        Role::Supplier(own) => Scope::Company(own),
        Role::Institute(code) => Scope::Institute(code),
        Role::Reviewer | Role::Public => {
            return Err(Error::PermissionDenied(format!(
                "role {} sees no enrolments",
                principal.role
            )));
        }
    };
    let scope_key = match &scope {
        Scope::All => "all".to_string(),
        Scope::Company(s) => format!("company:{s}"),
        Scope::Institute(c) => format!("institute:{c}"),
    };
    let filter = store::Filter {
        cohort_id: (!req.cohort_id.is_empty()).then_some(req.cohort_id.as_str()),
        trainee_id: (!req.trainee_id.is_empty()).then_some(req.trainee_id.as_str()),
        status,
    };
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&[
        "enrollments",
        &scope_key,
        &req.cohort_id,
        &req.trainee_id,
        status.map_or("", |s| s.as_str_name()),
    ]);
    let after: Option<(i64, String)> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut conn = svc.db.conn().await?;
    let mut rows = store::list(&mut conn, scope, filter, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |e| {
        serde_json::json!([e.create_time, e.id])
    });
    // Each cohort's waitlist ordered once for the page.
    let mut lines: std::collections::HashMap<String, std::collections::HashMap<String, i32>> =
        Default::default();
    let mut enrollments = Vec::with_capacity(rows.len());
    for e in &rows {
        let mut position = 0;
        if e.status == Status::Waitlisted {
            if !lines.contains_key(&e.cohort_id) {
                let cohort = cohorts::get(&mut conn, &e.cohort_id)
                    .await?
                    .ok_or_else(|| crate::cohort::grpc::not_found(&e.cohort_id))?;
                let line = positions(&mut conn, &cohort.body, &e.cohort_id).await?;
                lines.insert(e.cohort_id.clone(), line);
            }
            position = lines[&e.cohort_id].get(&e.id).copied().unwrap_or(0);
        }
        enrollments.push(to_proto(e, position));
    }
    Ok(pb::ListEnrollmentsResponse {
        enrollments,
        next_page_token,
    })
}

/// Gives the cohort's free seats to its waitlist, first in line first,
/// each promotion an event; how many were promoted.
pub async fn fill_seats(
    tx: &mut Tx,
    principal: &Principal,
    cohort: &cohorts::Stored,
) -> Result<usize, Error> {
    let now = tx.now();
    let policy = pb::WaitlistPolicy::try_from(cohort.body.waitlist_policy)
        .unwrap_or(pb::WaitlistPolicy::FirstCome);
    let line = rules::order(store::waitlist(tx, &cohort.id).await?, policy);
    let mut promoted = 0;
    for next in line {
        if !cohorts::promote_seat(tx, &cohort.id, now).await? {
            break;
        }
        let current = store::get(tx, &next.id)
            .await?
            .ok_or_else(|| not_found(&next.id))?;
        let mut after = current.clone();
        let offer_hours = i64::from(cohort.body.offer_hours);
        let event_type = if offer_hours > 0 {
            after.status = Status::Offered;
            after.offer_expire_time = Some(now + offer_hours * 3_600_000_000);
            "enrollment.offered"
        } else {
            after.status = Status::Confirmed;
            "enrollment.promoted"
        };
        after.revision += 1;
        after.update_time = now.max(current.update_time);
        if !store::update(tx, &after, current.revision).await? {
            return Err(Error::Conflict);
        }
        event(
            tx,
            principal,
            event_type,
            Some(&current),
            &after,
            Some(serde_json::json!({
                "policy": policy.as_str_name(),
                "offerExpireTime": after.offer_expire_time.map(|t| time::to_timestamp(t).to_string()),
            })),
        )
        .await?;
        promoted += 1;
    }
    Ok(promoted)
}

pub async fn cancel(
    svc: &TrainingService,
    request: Request<pb::CancelEnrollmentRequest>,
) -> Result<pb::Enrollment, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    enrollment_id("id", &req.id)?;
    let reason = gearshift_platform::check::text(&req.reason, 1_000, false)
        .map_err(|e| Error::invalid("reason", e))?;
    let expected = etag::expected(&request, &req.etag);
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, expected, reason, id) = (&principal, &expected, &reason, req.id.as_str());
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        readable(principal, &current)?;
        if !matches!(principal.role, Role::Operator | Role::Supplier(_)) {
            return Err(Error::PermissionDenied(
                "operators and the trainee's company cancel enrolments".into(),
            ));
        }
        etag::check(expected.as_deref(), current.revision)?;
        let mut after = current.clone();
        after.status = rules::cancelled(current.status)?;
        after.status_reason = reason.clone();
        after.revision += 1;
        after.update_time = now.max(current.update_time);
        if !store::update(&mut tx, &after, current.revision).await? {
            return Err(Error::Conflict);
        }
        let cohort = cohorts::get(&mut tx, &current.cohort_id)
            .await?
            .ok_or_else(|| crate::cohort::grpc::not_found(&current.cohort_id))?;
        if let Some(s) = &current.supplier_id
            && cohort.body.company_quota > 0
        {
            cohorts::free_company_place(&mut tx, &cohort.id, s).await?;
        }
        let event_type = match current.status {
            Status::Confirmed => {
                cohorts::free_seat(&mut tx, &cohort.id, now).await?;
                "enrollment.cancelled"
            }
            Status::Offered => {
                cohorts::free_seat(&mut tx, &cohort.id, now).await?;
                "enrollment.offer_declined"
            }
            _ => {
                cohorts::leave_waitlist(&mut tx, &cohort.id, now).await?;
                "enrollment.withdrawn"
            }
        };
        event(
            &mut tx,
            principal,
            event_type,
            Some(&current),
            &after,
            Some(serde_json::json!({"reason": reason})),
        )
        .await?;
        if rules::holds_seat(current.status) {
            fill_seats(&mut tx, principal, &cohort).await?;
        }
        Ok((tx, to_proto(&after, 0)))
    })
    .await?;
    Ok(written.response)
}

pub async fn events(
    svc: &TrainingService,
    request: Request<pb::ListEnrollmentEventsRequest>,
) -> Result<pb::ListEnrollmentEventsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    enrollment_id("enrollmentId", &req.enrollment_id)?;
    let mut conn = svc.db.conn().await?;
    let e = store::get(&mut conn, &req.enrollment_id)
        .await?
        .ok_or_else(|| not_found(&req.enrollment_id))?;
    readable(&principal, &e)?;
    let page = gearshift_platform::outbox::page(
        &mut conn,
        "enrollment",
        &req.enrollment_id,
        (req.page_size, &req.page_token),
        |ev| pb::EnrollmentEvent {
            status: ev
                .after
                .as_ref()
                .and_then(|a| a.get("status"))
                .and_then(|s| s.as_str())
                .and_then(Status::from_str_name)
                .map_or(0, |s| s as i32),
            detail: ev
                .detail
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            id: ev.id,
            enrollment_id: ev.aggregate_id,
            r#type: ev.event_type,
            actor: ev.actor,
            actor_role: ev.actor_role,
            occur_time: Some(time::to_timestamp(ev.occur_time)),
        },
    )
    .await?;
    Ok(pb::ListEnrollmentEventsResponse {
        events: page.items,
        next_page_token: page.next_page_token,
    })
}

/// Evaluates a seat holder's completion from its attendance: COMPLETED
/// (with a certificate, issued once), INCOMPLETE or NO_SHOW; a
/// certificate the attendance no longer supports is revoked. Writes
/// nothing when nothing changes.
pub async fn settle(
    tx: &mut Tx,
    principal: &Principal,
    current: &Stored,
    cohort: &cohorts::Stored,
) -> Result<Stored, Error> {
    use crate::attendance::{rules as attendance_rules, store as attendance};
    use crate::certificate::store as certificates;
    let now = tx.now();
    let marks = attendance::marks(tx, &current.id).await?;
    let (status, percent) = attendance_rules::outcome(
        &cohort.body.session_days,
        &marks,
        cohort.body.completion_percent,
    );
    let mut next = current.clone();
    next.status = status;
    next.attendance_percent = i64::from(percent);
    let mut events: Vec<(&str, serde_json::Value)> = Vec::new();
    if status == Status::Completed && current.certificate_id.is_none() {
        let trainee = trainees::get(tx, &current.trainee_id)
            .await?
            .ok_or_else(|| crate::trainee::grpc::not_found(&current.trainee_id))?;
        let course = courses::get(tx, &cohort.body.course_id)
            .await?
            .ok_or_else(|| crate::course::grpc::not_found(&cohort.body.course_id))?;
        let certificate = pb::Certificate {
            id: format!("crt_{}", ids::random_token(24)),
            trainee_name: trainee.body.name.clone(),
            course_code: course.body.code.clone(),
            course_title_ko: course.body.title_ko.clone(),
            course_title_en: course.body.title_en.clone(),
            start_date: cohort.body.start_date.clone(),
            end_date: cohort.body.end_date.clone(),
            hours: course.body.hours,
            institute: cohort.body.institute.clone(),
            issue_time: Some(time::to_timestamp(now)),
            ..Default::default()
        };
        certificates::insert(tx, &current.id, &certificate, now).await?;
        if let Some(s) = &current.supplier_id {
            crate::evidence::store::queue(
                tx,
                &crate::evidence::evidence(s, &certificate, false),
                now,
            )
            .await?;
        }
        next.certificate_id = Some(certificate.id.clone());
        events.push((
            "enrollment.completed",
            serde_json::json!({"attendancePercent": percent, "certificateId": certificate.id}),
        ));
    } else if status != Status::Completed
        && let Some(id) = &current.certificate_id
    {
        let reason = format!(
            "attendance corrected to {percent} %, under the cohort's {} %",
            cohort.body.completion_percent
        );
        if let Some((_, mut certificate)) = certificates::get(tx, id).await? {
            certificate.revoked = true;
            certificate.revoke_reason = reason.clone();
            certificate.revoke_time = Some(time::to_timestamp(now));
            certificates::revoke(tx, &certificate).await?;
            if let Some(s) = &current.supplier_id {
                let revoked = crate::evidence::evidence(s, &certificate, true);
                crate::evidence::store::queue(tx, &revoked, now).await?;
            }
        }
        next.certificate_id = None;
        events.push((
            "enrollment.certificate_revoked",
            serde_json::json!({"certificateId": id, "reason": reason}),
        ));
    }
    if status != current.status && status != Status::Completed {
        let event_type = if status == Status::NoShow {
            "enrollment.no_show"
        } else {
            "enrollment.incomplete"
        };
        events.push((
            event_type,
            serde_json::json!({"attendancePercent": percent}),
        ));
    }
    if next == *current {
        return Ok(next);
    }
    next.revision += 1;
    next.update_time = now.max(current.update_time);
    if !store::update(tx, &next, current.revision).await? {
        return Err(Error::Conflict);
    }
    if events.is_empty() {
        events.push((
            "enrollment.attendance_evaluated",
            serde_json::json!({"attendancePercent": percent}),
        ));
    }
    for (event_type, detail) in events {
        event(
            tx,
            principal,
            event_type,
            Some(current),
            &next,
            Some(detail),
        )
        .await?;
    }
    Ok(next)
}

/// A cohort has finished: every seat holder's course ends by its
/// attendance; an offer still open lapses.
pub async fn settle_cohort(
    tx: &mut Tx,
    principal: &Principal,
    cohort: &cohorts::Stored,
) -> Result<(), Error> {
    for e in store::in_cohort(tx, &cohort.id, &[Status::Offered]).await? {
        lapse(tx, principal, &e).await?;
    }
    for e in store::in_cohort(tx, &cohort.id, &[Status::Confirmed]).await? {
        settle(tx, principal, &e, cohort).await?;
    }
    Ok(())
}

/// A cohort was cancelled: every seat, offer and place in line with it is
/// cancelled, each an event, and its counters and company places go to
/// zero.
pub async fn cancel_cohort(
    tx: &mut Tx,
    principal: &Principal,
    cohort: &cohorts::Stored,
) -> Result<(), Error> {
    let now = tx.now();
    let holding = [Status::Confirmed, Status::Offered, Status::Waitlisted];
    for current in store::in_cohort(tx, &cohort.id, &holding).await? {
        let mut after = current.clone();
        after.status = Status::Cancelled;
        after.status_reason = "the cohort was cancelled".into();
        after.offer_expire_time = None;
        after.revision += 1;
        after.update_time = now.max(current.update_time);
        if !store::update(tx, &after, current.revision).await? {
            return Err(Error::Conflict);
        }
        event(
            tx,
            principal,
            "enrollment.cancelled",
            Some(&current),
            &after,
            Some(serde_json::json!({"reason": after.status_reason})),
        )
        .await?;
    }
    cohorts::empty(tx, &cohort.id, now).await
}

/// Reads an enrolment for a handler of another module, as `p` may see it.
pub async fn load_readable(
    conn: &mut AnyConnection,
    p: &Principal,
    id: &str,
) -> Result<Stored, Error> {
    enrollment_id("enrollmentId", id)?;
    let e = store::get(conn, id).await?.ok_or_else(|| not_found(id))?;
    readable(p, &e)?;
    Ok(e)
}

/// Appends an event to an enrolment's trail (for other modules' steps).
pub async fn record_event(
    tx: &mut Tx,
    principal: &Principal,
    event_type: &str,
    before: &Stored,
    after: &Stored,
    detail: serde_json::Value,
) -> Result<(), Error> {
    event(tx, principal, event_type, Some(before), after, Some(detail)).await
}

pub async fn accept(
    svc: &TrainingService,
    request: Request<pb::AcceptOfferRequest>,
) -> Result<pb::Enrollment, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    enrollment_id("id", &req.id)?;
    let expected = etag::expected(&request, &req.etag);
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, expected, id) = (&principal, &expected, req.id.as_str());
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        readable(principal, &current)?;
        if !matches!(principal.role, Role::Operator | Role::Supplier(_)) {
            return Err(Error::PermissionDenied(
                "the trainee's company or an operator accepts an offer".into(),
            ));
        }
        etag::check(expected.as_deref(), current.revision)?;
        // An offer past its time is gone even before the sweep records it.
        let lapsed = current.offer_expire_time.is_some_and(|t| t <= now);
        if current.status != Status::Offered || lapsed {
            return Err(Error::precondition(
                Reason::InvalidTransition,
                "status",
                if lapsed {
                    "the offer has expired".to_string()
                } else {
                    format!(
                        "only an OFFERED enrolment can be accepted; this one is {}",
                        current.status.as_str_name()
                    )
                },
            ));
        }
        let mut after = current.clone();
        after.status = Status::Confirmed;
        after.offer_expire_time = None;
        after.revision += 1;
        after.update_time = now.max(current.update_time);
        if !store::update(&mut tx, &after, current.revision).await? {
            return Err(Error::Conflict);
        }
        event(
            &mut tx,
            principal,
            "enrollment.offer_accepted",
            Some(&current),
            &after,
            None,
        )
        .await?;
        Ok((tx, to_proto(&after, 0)))
    })
    .await?;
    Ok(written.response)
}

/// Lapses one offer: OFFER_EXPIRED, its seat (and company place) freed
/// and offered to the next in line, in the caller's transaction.
pub async fn lapse(tx: &mut Tx, principal: &Principal, current: &Stored) -> Result<(), Error> {
    let now = tx.now();
    let mut after = current.clone();
    after.status = Status::OfferExpired;
    after.revision += 1;
    after.update_time = now.max(current.update_time);
    if !store::update(tx, &after, current.revision).await? {
        return Err(Error::Conflict);
    }
    let cohort = cohorts::get(tx, &current.cohort_id)
        .await?
        .ok_or_else(|| crate::cohort::grpc::not_found(&current.cohort_id))?;
    cohorts::free_seat(tx, &cohort.id, now).await?;
    if let Some(s) = &current.supplier_id
        && cohort.body.company_quota > 0
    {
        cohorts::free_company_place(tx, &cohort.id, s).await?;
    }
    event(
        tx,
        principal,
        "enrollment.offer_expired",
        Some(current),
        &after,
        Some(serde_json::json!({
            "offerExpireTime": current.offer_expire_time.map(|t| time::to_timestamp(t).to_string()),
        })),
    )
    .await?;
    fill_seats(tx, principal, &cohort).await?;
    Ok(())
}
