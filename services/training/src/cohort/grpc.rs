//! The cohorts' gRPC handlers: scheduled by operators or the teaching
//! institute; moved through their statuses; resized.

use gearshift_platform::error::Reason as _;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, etag, ids, outbox, pagination, time};
use gearshift_proto::training::v1 as pb;
use pb::cohort::Status;
use tonic::Request;

use super::rules;
use super::store::{self, Stored};
use crate::TrainingService;
use crate::course::grpc::{course_id, manages};
use crate::course::store as courses;
use crate::reason::Reason;

pub fn to_proto(c: &Stored) -> pb::Cohort {
    pb::Cohort {
        id: c.id.clone(),
        status: c.status as i32,
        seats_taken: i32::try_from(c.seats_taken).unwrap_or(i32::MAX),
        waitlisted: i32::try_from(c.waitlisted).unwrap_or(i32::MAX),
        create_time: Some(time::to_timestamp(c.create_time)),
        update_time: Some(time::to_timestamp(c.update_time)),
        etag: etag::from_revision(c.revision),
        ..c.body.clone()
    }
}

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "cohort",
        id: id.to_string(),
    }
}

pub fn cohort_id(field: &str, id: &str) -> Result<(), Error> {
    gearshift_platform::check::require_id(field, id, "coh", "a cohort")
}

fn snapshot(c: &Stored) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "courseId": c.body.course_id,
        "status": c.status.as_str_name(),
        "capacity": c.body.capacity,
        "seatsTaken": c.seats_taken,
        "waitlisted": c.waitlisted,
    })
}

/// Operators, and the institute that teaches the cohort's course.
pub fn require_manager(p: &Principal, c: &pb::Cohort) -> Result<(), Error> {
    let course = pb::Course {
        institute: c.institute.clone(),
        ..Default::default()
    };
    if manages(p, &course) {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "only operators and the teaching institute ({}) manage this cohort; the key has \
             role {}",
            c.institute, p.role
        )))
    }
}

pub async fn create(
    svc: &TrainingService,
    request: Request<pb::CreateCohortRequest>,
) -> Result<pb::Cohort, Error> {
    let principal = Principal::from_request(&request)?;
    let input = request
        .get_ref()
        .cohort
        .as_ref()
        .ok_or_else(|| Error::invalid("cohort", "is required"))?;
    course_id("cohort.courseId", &input.course_id)?;
    let mut body = rules::check(input)?;
    let course = {
        let mut conn = svc.db.conn().await?;
        courses::get(&mut conn, &body.course_id).await?
    };
    let course = course
        .filter(|c| crate::course::grpc::visible(&principal, c).is_ok())
        .ok_or_else(|| Error::invalid("cohort.courseId", "there is no such course"))?;
    if !manages(&principal, &course.body) {
        return Err(Error::PermissionDenied(format!(
            "only operators and the course's institute ({}) schedule its cohorts",
            course.body.institute
        )));
    }
    if course.status != pb::course::Status::Published {
        return Err(Error::precondition(
            Reason::CourseNotPublished,
            "cohort.courseId",
            format!(
                "the course is {}; only a PUBLISHED course gets new cohorts",
                course.status.as_str_name()
            ),
        ));
    }
    body.institute = course.body.institute.clone();
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, body) = (&principal, &body);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let cohort = Stored {
            id: ids::new_id("coh"),
            status: Status::Scheduled,
            body: body.clone(),
            seats_taken: 0,
            waitlisted: 0,
            create_time: now,
            update_time: now,
            revision: 1,
        };
        store::insert(&mut tx, &cohort).await?;
        tx.append(outbox::NewEvent {
            aggregate_type: "cohort",
            aggregate_id: &cohort.id,
            event_type: "cohort.created",
            actor: principal,
            before: None,
            after: Some(snapshot(&cohort)),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&cohort)))
    })
    .await?;
    Ok(written.response)
}

/// An institute sees only the cohorts it teaches; everyone else every
/// cohort (companies choose among them).
fn own_institute(p: &Principal) -> Option<&str> {
    match &p.role {
        gearshift_platform::Role::Institute(code) => Some(code.as_str()),
        _ => None,
    }
}

pub async fn get(
    svc: &TrainingService,
    request: Request<pb::GetCohortRequest>,
) -> Result<pb::Cohort, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    cohort_id("id", id)?;
    let mut conn = svc.db.conn().await?;
    let cohort = store::get(&mut conn, id)
        .await?
        .filter(|c| own_institute(&principal).is_none_or(|code| code == c.body.institute))
        .ok_or_else(|| not_found(id))?;
    Ok(to_proto(&cohort))
}

pub async fn list(
    svc: &TrainingService,
    request: Request<pb::ListCohortsRequest>,
) -> Result<pb::ListCohortsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    if !req.course_id.is_empty() {
        course_id("courseId", &req.course_id)?;
    }
    let institute = own_institute(&principal);
    let status = match Status::try_from(req.status) {
        Ok(Status::Unspecified) => None,
        Ok(s) => Some(s),
        Err(_) => return Err(Error::invalid("status", "is not a cohort status")),
    };
    let course = (!req.course_id.is_empty()).then_some(req.course_id.as_str());
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&[
        "cohorts",
        course.unwrap_or(""),
        institute.unwrap_or(""),
        status.map_or("", |s| s.as_str_name()),
    ]);
    let after: Option<(String, String)> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut conn = svc.db.conn().await?;
    let mut rows = store::list(&mut conn, course, institute, status, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |c| {
        serde_json::json!([c.body.start_date, c.id])
    });
    Ok(pb::ListCohortsResponse {
        cohorts: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// Runs a change on cohort `id` once: who may (its managers), the etag,
/// then `change`, the conditional update, `after` (more writes in the same
/// transaction) and the event.
async fn apply<T, F>(
    svc: &TrainingService,
    request: &Request<T>,
    (id, body_etag): (&str, &str),
    event_type: &'static str,
    change: F,
) -> Result<pb::Cohort, Error>
where
    T: prost::Message,
    F: Fn(&mut Stored) -> Result<(), Error>,
{
    let principal = Principal::from_request(request)?;
    cohort_id("id", id)?;
    let expected = etag::expected(request, body_etag);
    let idempotency = Idempotency::from_request(request, &principal)?;
    let (principal, expected, change) = (&principal, &expected, &change);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        require_manager(principal, &current.body)?;
        etag::check(expected.as_deref(), current.revision)?;
        let mut next = current.clone();
        change(&mut next)?;
        next.revision = current.revision + 1;
        next.update_time = tx.now().max(current.update_time);
        if !store::update(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "cohort",
            aggregate_id: id,
            event_type,
            actor: principal,
            before: Some(snapshot(&current)),
            after: Some(snapshot(&next)),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        if next.status != current.status {
            match next.status {
                Status::Finished => {
                    crate::enrollment::grpc::settle_cohort(&mut tx, principal, &next).await?;
                }
                Status::Cancelled => {
                    crate::enrollment::grpc::cancel_cohort(&mut tx, principal, &next).await?;
                }
                _ => {}
            }
        }
        crate::enrollment::grpc::fill_seats(&mut tx, principal, &next).await?;
        // The counters as the moves above left them.
        let after = store::get(&mut tx, id).await?.unwrap_or(next);
        Ok((tx, to_proto(&after)))
    })
    .await?;
    Ok(written.response)
}

pub async fn transition(
    svc: &TrainingService,
    request: Request<pb::TransitionCohortRequest>,
) -> Result<pb::Cohort, Error> {
    let req = request.get_ref();
    let to = match Status::try_from(req.status) {
        Ok(Status::Unspecified) | Err(_) => {
            return Err(Error::invalid(
                "status",
                "is required: ENROLLING, RUNNING, FINISHED or CANCELLED",
            ));
        }
        Ok(s) => s,
    };
    apply(
        svc,
        &request,
        (&req.id, &req.etag),
        "cohort.status_changed",
        |c| {
            if !rules::next(c.status).contains(&to) {
                let allowed: Vec<&str> = rules::next(c.status)
                    .iter()
                    .map(|s| s.as_str_name())
                    .collect();
                return Err(Error::FailedPrecondition {
                    reason: Reason::InvalidTransition.as_str(),
                    message: format!(
                        "a {} cohort cannot become {}; it can become: {}",
                        c.status.as_str_name(),
                        to.as_str_name(),
                        if allowed.is_empty() {
                            "nothing (it is over)".to_string()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                    subject: "status".into(),
                    allowed: Vec::new(),
                });
            }
            c.status = to;
            Ok(())
        },
    )
    .await
}

pub async fn resize(
    svc: &TrainingService,
    request: Request<pb::ResizeCohortRequest>,
) -> Result<pb::Cohort, Error> {
    let req = request.get_ref();
    if !(1..=rules::MAX_CAPACITY).contains(&req.capacity) {
        return Err(Error::invalid("capacity", "must be 1 to 10,000 seats"));
    }
    let capacity = req.capacity;
    apply(svc, &request, (&req.id, &req.etag), "cohort.resized", |c| {
        if matches!(c.status, Status::Finished | Status::Cancelled) {
            return Err(Error::precondition(
                Reason::InvalidTransition,
                "status",
                format!("a {} cohort keeps its size", c.status.as_str_name()),
            ));
        }
        if i64::from(capacity) < c.seats_taken {
            return Err(Error::precondition(
                Reason::CapacityBelowSeatsTaken,
                "capacity",
                format!(
                    "{} seats are taken; the capacity cannot go under that",
                    c.seats_taken
                ),
            ));
        }
        c.body.capacity = capacity;
        Ok(())
    })
    .await
}

/// The cohort as the transaction sees it (for enrolment's checks).
pub async fn load(tx: &mut Tx, id: &str) -> Result<Stored, Error> {
    store::get(tx, id).await?.ok_or_else(|| not_found(id))
}
