//! The catalogue's gRPC handlers: operators write it; the published part
//! is everyone's to read.

use gearshift_platform::error::Reason as _;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, Role, etag, ids, outbox, pagination, time};
use gearshift_proto::training::v1 as pb;
use pb::course::Status;
use tonic::Request;

use super::rules;
use super::store::{self, Stored};
use crate::TrainingService;
use crate::reason::Reason;

pub fn to_proto(c: &Stored) -> pb::Course {
    pb::Course {
        id: c.id.clone(),
        status: c.status as i32,
        create_time: Some(time::to_timestamp(c.create_time)),
        update_time: Some(time::to_timestamp(c.update_time)),
        etag: etag::from_revision(c.revision),
        ..c.body.clone()
    }
}

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "course",
        id: id.to_string(),
    }
}

pub fn course_id(field: &str, id: &str) -> Result<(), Error> {
    gearshift_platform::check::require_id(field, id, "crs", "a course")
}

/// Whether `p` teaches `course` (its institute) or runs the programme.
pub fn manages(p: &Principal, course: &pb::Course) -> bool {
    match &p.role {
        Role::Operator => true,
        Role::Institute(code) => code == &course.institute,
        _ => false,
    }
}

/// A published course is everyone's; a draft or retired one is NOT_FOUND
/// but to operators and its institute.
pub fn visible(p: &Principal, c: &Stored) -> Result<(), Error> {
    if c.status == Status::Published || manages(p, &c.body) {
        Ok(())
    } else {
        Err(not_found(&c.id))
    }
}

fn snapshot(c: &Stored) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "code": c.body.code,
        "status": c.status.as_str_name(),
        "institute": c.body.institute,
        "hours": c.body.hours,
    })
}

pub async fn create(
    svc: &TrainingService,
    request: Request<pb::CreateCourseRequest>,
) -> Result<pb::Course, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let input = request
        .get_ref()
        .course
        .as_ref()
        .ok_or_else(|| Error::invalid("course", "is required"))?;
    let body = rules::check(input)?;
    {
        let mut conn = svc.db.conn().await?;
        let found = store::existing(&mut conn, &body.prerequisite_course_ids).await?;
        if let Some((i, _)) = body
            .prerequisite_course_ids
            .iter()
            .enumerate()
            .find(|(_, p)| !found.contains(p))
        {
            return Err(Error::invalid(
                format!("course.prerequisiteCourseIds[{i}]"),
                "there is no such course",
            ));
        }
    }
    if !svc
        .registry
        .institute_exists(&request, &body.institute)
        .await?
    {
        return Err(Error::invalid(
            "course.institute",
            format!("there is no institute {} in the directory", body.institute),
        ));
    }
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, body) = (&principal, &body);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let course = Stored {
            id: ids::new_id("crs"),
            status: Status::Draft,
            body: body.clone(),
            create_time: now,
            update_time: now,
            revision: 1,
        };
        if !store::insert(&mut tx, &course).await? {
            return Err(Error::AlreadyExists {
                resource: "course",
                field: "course.code".into(),
                message: format!("there is already a course {}", course.body.code),
            });
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "course",
            aggregate_id: &course.id,
            event_type: "course.created",
            actor: principal,
            before: None,
            after: Some(snapshot(&course)),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&course)))
    })
    .await?;
    Ok(written.response)
}

pub async fn get(
    svc: &TrainingService,
    request: Request<pb::GetCourseRequest>,
) -> Result<pb::Course, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    course_id("id", id)?;
    let mut conn = svc.db.conn().await?;
    let course = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    visible(&principal, &course)?;
    Ok(to_proto(&course))
}

pub async fn list(
    svc: &TrainingService,
    request: Request<pb::ListCoursesRequest>,
) -> Result<pb::ListCoursesResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let track = match pb::Track::try_from(req.track) {
        Ok(pb::Track::Unspecified) => None,
        Ok(t) => Some(t),
        Err(_) => return Err(Error::invalid("track", "is not a track")),
    };
    let wanted = match Status::try_from(req.status) {
        Ok(Status::Unspecified) => None,
        Ok(s) => Some(s),
        Err(_) => return Err(Error::invalid("status", "is not a course status")),
    };
    let visible = match &principal.role {
        Role::Operator => store::Visible::All,
        Role::Institute(code) => store::Visible::Published {
            own_institute: Some(code.as_str()),
        },
        _ => store::Visible::Published {
            own_institute: None,
        },
    };
    let scope = match &visible {
        store::Visible::All => "all".to_string(),
        store::Visible::Published { own_institute } => own_institute.unwrap_or("").to_string(),
    };
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&[
        "courses",
        &scope,
        wanted.map_or("", |s| s.as_str_name()),
        track.map_or("", |t| t.as_str_name()),
    ]);
    let after: Option<String> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut conn = svc.db.conn().await?;
    let mut rows = store::list(&mut conn, visible, wanted, track, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |c| {
        serde_json::json!(c.body.code)
    });
    Ok(pb::ListCoursesResponse {
        courses: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

async fn transition<T: prost::Message>(
    svc: &TrainingService,
    request: &Request<T>,
    (id, body_etag): (&str, &str),
    (from, to): (Status, Status),
    event_type: &'static str,
) -> Result<pb::Course, Error> {
    let principal = Principal::from_request(request)?;
    principal.require_operator()?;
    course_id("id", id)?;
    let expected = etag::expected(request, body_etag);
    let idempotency = Idempotency::from_request(request, &principal)?;
    let (principal, expected) = (&principal, &expected);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        etag::check(expected.as_deref(), current.revision)?;
        if current.status != from {
            return Err(Error::FailedPrecondition {
                reason: Reason::InvalidTransition.as_str(),
                message: format!(
                    "only a {} course can become {}; this one is {}",
                    from.as_str_name(),
                    to.as_str_name(),
                    current.status.as_str_name()
                ),
                subject: "status".into(),
                allowed: Vec::new(),
            });
        }
        let mut next = current.clone();
        next.status = to;
        next.revision += 1;
        next.update_time = tx.now().max(current.update_time);
        if !store::update(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "course",
            aggregate_id: id,
            event_type,
            actor: principal,
            before: Some(snapshot(&current)),
            after: Some(snapshot(&next)),
            changed_fields: vec!["status".into()],
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&next)))
    })
    .await?;
    Ok(written.response)
}

pub async fn publish(
    svc: &TrainingService,
    request: Request<pb::PublishCourseRequest>,
) -> Result<pb::Course, Error> {
    let req = request.get_ref();
    let moves = (Status::Draft, Status::Published);
    transition(
        svc,
        &request,
        (&req.id, &req.etag),
        moves,
        "course.published",
    )
    .await
}

pub async fn retire(
    svc: &TrainingService,
    request: Request<pb::RetireCourseRequest>,
) -> Result<pb::Course, Error> {
    let req = request.get_ref();
    let moves = (Status::Published, Status::Retired);
    transition(svc, &request, (&req.id, &req.etag), moves, "course.retired").await
}
