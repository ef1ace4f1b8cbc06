//! The applications' gRPC handlers: a company drafts and submits; the
//! registry is asked about eligibility before anything is written.

use gearshift_platform::error::Reason as _;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, Role, etag, ids, outbox, pagination, time};
use gearshift_proto::financing::v1 as pb;
use pb::application::Status;
use tonic::Request;

use super::rules;
use super::store::{self, Stored};
use crate::FinancingService;
use crate::programme::grpc::{programme_id, visible};
use crate::programme::store as programmes;
use crate::reason::Reason;

pub fn to_proto(a: &Stored) -> pb::Application {
    pb::Application {
        id: a.id.clone(),
        status: a.status as i32,
        create_time: Some(time::to_timestamp(a.create_time)),
        update_time: Some(time::to_timestamp(a.update_time)),
        submit_time: a.submit_time.map(time::to_timestamp),
        etag: etag::from_revision(a.revision),
        ..a.body.clone()
    }
}

/// A company's own applications; operators every one; an institute those
/// of the programmes it advises on (checked in `list`).
fn list_scope(p: &Principal) -> Result<Option<&str>, Error> {
    match &p.role {
        Role::Operator | Role::Institute(_) => Ok(None),
        Role::Supplier(own) => Ok(Some(own.as_str())),
        Role::Reviewer => Err(refused(p)),
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "application",
        id: id.to_string(),
    }
}

fn application_id(id: &str) -> Result<(), Error> {
    if ids::is_valid("fap", id) {
        Ok(())
    } else {
        Err(Error::invalid(
            "id",
            "is not an application id (fap_ followed by 26 characters)",
        ))
    }
}

/// Operators, the company itself, and an institute the programme names as
/// an advisor (read-only); anyone else's is NOT_FOUND to a company, and
/// reviewers and other institutes are refused.
async fn read(conn: &mut sqlx::AnyConnection, p: &Principal, a: &Stored) -> Result<(), Error> {
    match &p.role {
        Role::Operator => Ok(()),
        Role::Supplier(own) if own == &a.body.supplier_id => Ok(()),
        Role::Supplier(_) => Err(not_found(&a.id)),
        Role::Institute(code)
            if programmes::get(conn, &a.body.programme_id)
                .await?
                .is_some_and(|prog| prog.body.advisor_institutes.contains(code)) =>
        {
            Ok(())
        }
        Role::Reviewer | Role::Institute(_) => Err(refused(p)),
    }
}

fn refused(p: &Principal) -> Error {
    Error::PermissionDenied(format!(
        "role {} sees only the applications it is given to review or advise on",
        p.role
    ))
}

/// What an event keeps of an application (never reviewers or scores).
fn snapshot(a: &Stored) -> serde_json::Value {
    serde_json::json!({
        "id": a.id,
        "programmeId": a.body.programme_id,
        "supplierId": a.body.supplier_id,
        "status": a.status.as_str_name(),
        "requestedAmountWon": a.body.requested_amount_won,
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
        aggregate_type: "application",
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

pub async fn create(
    svc: &FinancingService,
    request: Request<pb::CreateApplicationRequest>,
) -> Result<pb::Application, Error> {
    let principal = Principal::from_request(&request)?;
    let input = request
        .get_ref()
        .application
        .as_ref()
        .ok_or_else(|| Error::invalid("application", "is required"))?;
    programme_id("application.programmeId", &input.programme_id)?;
    if !ids::is_valid("sup", &input.supplier_id) {
        return Err(Error::invalid(
            "application.supplierId",
            "is not a supplier id (sup_ followed by 26 characters)",
        ));
    }
    match &principal.role {
        Role::Operator => {}
        Role::Supplier(own) if own == &input.supplier_id => {}
        _ => {
            return Err(Error::PermissionDenied(
                "a company applies for itself; operators may apply on its behalf".into(),
            ));
        }
    }
    let body = rules::check_draft(input)?;
    {
        let mut conn = svc.db.conn().await?;
        let programme = programmes::get(&mut conn, &body.programme_id)
            .await?
            .ok_or_else(|| {
                Error::invalid("application.programmeId", "there is no such programme")
            })?;
        visible(&principal, &programme)
            .map_err(|_| Error::invalid("application.programmeId", "there is no such programme"))?;
        if programme.status != pb::programme::Status::Open {
            return Err(Error::precondition(
                Reason::ProgrammeNotOpen,
                "application.programmeId",
                format!(
                    "the programme is {} and takes no applications",
                    programme.status.as_str_name()
                ),
            ));
        }
    }
    if svc
        .registry
        .supplier(&request, &body.supplier_id)
        .await?
        .is_none()
    {
        return Err(Error::invalid(
            "application.supplierId",
            format!("there is no supplier {}", body.supplier_id),
        ));
    }
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, body) = (&principal, &body);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let application = Stored {
            id: ids::new_id("fap"),
            status: Status::Draft,
            body: body.clone(),
            create_time: now,
            update_time: now,
            submit_time: None,
            revision: 1,
        };
        if !store::insert(&mut tx, &application).await? {
            return Err(Error::AlreadyExists {
                resource: "application",
                field: "application.programmeId".into(),
                message: "the company already has an active application to this programme".into(),
            });
        }
        event(
            &mut tx,
            principal,
            "application.created",
            None,
            &application,
            None,
        )
        .await?;
        Ok((tx, to_proto(&application)))
    })
    .await?;
    Ok(written.response)
}

pub async fn get(
    svc: &FinancingService,
    request: Request<pb::GetApplicationRequest>,
) -> Result<pb::Application, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    application_id(id)?;
    let mut conn = svc.db.conn().await?;
    let application = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    read(&mut conn, &principal, &application).await?;
    Ok(to_proto(&application))
}

pub async fn submit(
    svc: &FinancingService,
    request: Request<pb::SubmitApplicationRequest>,
) -> Result<pb::Application, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    application_id(&req.id)?;
    let expected = etag::expected(&request, &req.etag);
    // Everything that can refuse is checked before the registry is asked,
    // and the registry before anything is written.
    let (current, programme) = {
        let mut conn = svc.db.conn().await?;
        let current = store::get(&mut conn, &req.id)
            .await?
            .ok_or_else(|| not_found(&req.id))?;
        read(&mut conn, &principal, &current).await?;
        let programme = programmes::get(&mut conn, &current.body.programme_id)
            .await?
            .ok_or_else(|| not_found(&current.body.programme_id))?;
        (current, programme)
    };
    if !(principal.is_operator()
        || matches!(&principal.role, Role::Supplier(own) if own == &current.body.supplier_id))
    {
        return Err(Error::PermissionDenied(
            "only the company or an operator submits".into(),
        ));
    }
    etag::check(expected.as_deref(), current.revision)?;
    if current.status != Status::Draft {
        return Err(Error::FailedPrecondition {
            reason: Reason::InvalidTransition.as_str(),
            message: format!(
                "only a DRAFT application can be submitted; this one is {}",
                current.status.as_str_name()
            ),
            subject: "status".into(),
            allowed: Vec::new(),
        });
    }
    let now = svc.db.clock().now_micros();
    rules::check_submit(&current.body, &programme.body, programme.status, now)?;
    let answer = svc
        .registry
        .eligibility(
            &request,
            &current.body.supplier_id,
            &programme.body.eligibility,
        )
        .await?;
    if !answer.eligible {
        let failed: Vec<String> = answer
            .results
            .iter()
            .filter(|r| !r.passed)
            .map(|r| format!("{}: {}", r.rule, r.reason))
            .collect();
        return Err(Error::precondition(
            Reason::NotEligible,
            "eligibility",
            format!(
                "the company does not meet the programme's conditions: {}",
                failed.join("; ")
            ),
        ));
    }
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, answer, id, revision) =
        (&principal, &answer, req.id.as_str(), current.revision);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if current.revision != revision || current.status != Status::Draft {
            // Changed while the registry was asked: the caller reads again.
            return Err(Error::EtagMismatch {
                current: etag::from_revision(current.revision),
            });
        }
        let now = tx.now();
        let mut next = current.clone();
        next.status = Status::Submitted;
        next.submit_time = Some(now);
        next.update_time = now.max(current.update_time);
        next.revision = current.revision + 1;
        next.body.eligibility = Some(pb::Eligibility {
            eligible: answer.eligible,
            results: answer.results.clone(),
            check_time: Some(time::to_timestamp(now)),
        });
        if !store::update(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        event(
            &mut tx,
            principal,
            "application.submitted",
            Some(&current),
            &next,
            Some(serde_json::json!({
                "eligible": answer.eligible,
                "results": answer.results.iter().map(|r| serde_json::json!({
                    "rule": r.rule, "passed": r.passed, "reason": r.reason,
                })).collect::<Vec<_>>(),
            })),
        )
        .await?;
        Ok((tx, to_proto(&next)))
    })
    .await?;
    Ok(written.response)
}

pub async fn list(
    svc: &FinancingService,
    request: Request<pb::ListApplicationsRequest>,
) -> Result<pb::ListApplicationsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let own = list_scope(&principal)?;
    if !req.programme_id.is_empty() {
        programme_id("programmeId", &req.programme_id)?;
    }
    if !req.supplier_id.is_empty() && !ids::is_valid("sup", &req.supplier_id) {
        return Err(Error::invalid(
            "supplierId",
            "is not a supplier id (sup_ followed by 26 characters)",
        ));
    }
    let status = match Status::try_from(req.status) {
        Ok(Status::Unspecified) => None,
        Ok(s) => Some(s),
        Err(_) => return Err(Error::invalid("status", "is not an application status")),
    };
    let wanted = (!req.supplier_id.is_empty()).then_some(req.supplier_id.as_str());
    if let (Some(own), Some(w)) = (own, wanted)
        && own != w
    {
        return Ok(pb::ListApplicationsResponse::default());
    }
    let supplier = own.or(wanted);
    let programme = (!req.programme_id.is_empty()).then_some(req.programme_id.as_str());
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&[
        "applications",
        programme.unwrap_or(""),
        supplier.unwrap_or(""),
        status.map_or("", |s| s.as_str_name()),
    ]);
    let after: Option<(i64, String)> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut conn = svc.db.conn().await?;
    let advised = match &principal.role {
        Role::Institute(code) => Some(programmes::advised_by(&mut conn, code).await?),
        _ => None,
    };
    if let Some(advised) = &advised
        && (advised.is_empty() || programme.is_some_and(|p| !advised.iter().any(|a| a == p)))
    {
        return Ok(pb::ListApplicationsResponse::default());
    }
    let mut rows = store::list(
        &mut conn,
        programme,
        advised.as_deref(),
        supplier,
        status,
        after,
        size + 1,
    )
    .await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |a| {
        serde_json::json!([a.create_time, a.id])
    });
    Ok(pb::ListApplicationsResponse {
        applications: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// Runs a move on application `id` once: who may, the etag, the status,
/// then `change` and its event, in one transaction.
async fn apply<T, F>(
    svc: &FinancingService,
    request: &Request<T>,
    id: &str,
    body_etag: &str,
    event_type: &'static str,
    change: F,
) -> Result<pb::Application, Error>
where
    T: prost::Message,
    F: Fn(&Principal, &mut Stored) -> Result<Option<serde_json::Value>, Error>,
{
    let principal = Principal::from_request(request)?;
    application_id(id)?;
    let expected = etag::expected(request, body_etag);
    let idempotency = Idempotency::from_request(request, &principal)?;
    let (principal, expected, change) = (&principal, &expected, &change);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        read(&mut tx, principal, &current).await?;
        etag::check(expected.as_deref(), current.revision)?;
        let mut next = current.clone();
        let detail = change(principal, &mut next)?;
        let now = tx.now();
        next.revision = current.revision + 1;
        next.update_time = now.max(current.update_time);
        if !store::update(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        event(
            &mut tx,
            principal,
            event_type,
            Some(&current),
            &next,
            detail,
        )
        .await?;
        Ok((tx, to_proto(&next)))
    })
    .await?;
    Ok(written.response)
}

fn refuse(verb: &str, status: Status, from: &str) -> Error {
    Error::FailedPrecondition {
        reason: Reason::InvalidTransition.as_str(),
        message: format!(
            "cannot {verb} an application that is {}: only one that is {from}",
            status.as_str_name()
        ),
        subject: "status".into(),
        allowed: Vec::new(),
    }
}

fn is_company(p: &Principal, a: &Stored) -> bool {
    matches!(&p.role, Role::Supplier(own) if own == &a.body.supplier_id)
}

pub async fn update(
    svc: &FinancingService,
    request: Request<pb::UpdateApplicationRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let input = req
        .application
        .clone()
        .ok_or_else(|| Error::invalid("application", "is required"))?;
    let mask = gearshift_platform::mask::fields(
        req.update_mask.as_ref(),
        &[
            "requestedAmountWon",
            "purpose",
            "transitionPlanSummary",
            "plannedHires",
            "plannedYoungHires",
            "documents",
        ],
    )?;
    let wants = |f: &str| gearshift_platform::mask::wants(&mask, f);
    let id = input.id.clone();
    let etag = input.etag.clone();
    apply(svc, &request, &id, &etag, "application.updated", |p, a| {
        if !(p.is_operator() || is_company(p, a)) {
            return Err(Error::PermissionDenied(
                "only the company or an operator edits an application".into(),
            ));
        }
        if a.status != Status::Draft {
            return Err(refuse("edit", a.status, "DRAFT"));
        }
        let mut merged = a.body.clone();
        if wants("requestedAmountWon") {
            merged.requested_amount_won = input.requested_amount_won;
        }
        if wants("purpose") {
            merged.purpose = input.purpose;
        }
        if wants("transitionPlanSummary") {
            merged.transition_plan_summary = input.transition_plan_summary.clone();
        }
        if wants("plannedHires") {
            merged.planned_hires = input.planned_hires;
        }
        if wants("plannedYoungHires") {
            merged.planned_young_hires = input.planned_young_hires;
        }
        if wants("documents") {
            merged.documents = input.documents.clone();
        }
        a.body = rules::check_draft(&merged)?;
        Ok(None)
    })
    .await
}

pub async fn withdraw(
    svc: &FinancingService,
    request: Request<pb::WithdrawApplicationRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let reason = crate::programme::rules::text(&req.reason, 1_000, false)
        .map_err(|e| Error::invalid("reason", e))?;
    apply(
        svc,
        &request,
        &req.id,
        &req.etag,
        "application.withdrawn",
        |p, a| {
            if !is_company(p, a) {
                return Err(Error::PermissionDenied(
                    "only the company withdraws its application; operators cancel".into(),
                ));
            }
            if !matches!(
                a.status,
                Status::Draft | Status::Submitted | Status::Screening | Status::UnderReview
            ) {
                return Err(refuse(
                    "withdraw",
                    a.status,
                    "DRAFT, SUBMITTED, SCREENING or UNDER_REVIEW (before a decision)",
                ));
            }
            a.status = Status::Withdrawn;
            a.body.status_reason = reason.clone();
            Ok(Some(serde_json::json!({"reason": reason})))
        },
    )
    .await
}

pub async fn cancel(
    svc: &FinancingService,
    request: Request<pb::CancelApplicationRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let reason = crate::programme::rules::text(&req.reason, 1_000, true)
        .map_err(|e| Error::invalid("reason", e))?;
    apply(
        svc,
        &request,
        &req.id,
        &req.etag,
        "application.cancelled",
        |p, a| {
            p.require_operator()?;
            if !rules::is_active(a.status) || a.status == Status::Disbursed {
                return Err(refuse(
                    "cancel",
                    a.status,
                    "neither decided against nor finished",
                ));
            }
            a.status = Status::Cancelled;
            a.body.status_reason = reason.clone();
            Ok(Some(serde_json::json!({"reason": reason})))
        },
    )
    .await
}

pub async fn events(
    svc: &FinancingService,
    request: Request<pb::ListApplicationEventsRequest>,
) -> Result<pb::ListApplicationEventsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    application_id(&req.application_id)?;
    let mut conn = svc.db.conn().await?;
    let application = store::get(&mut conn, &req.application_id)
        .await?
        .ok_or_else(|| not_found(&req.application_id))?;
    read(&mut conn, &principal, &application).await?;
    let page = gearshift_platform::outbox::page(
        &mut conn,
        "application",
        &req.application_id,
        (req.page_size, &req.page_token),
        |e| pb::ApplicationEvent {
            status: e
                .after
                .as_ref()
                .and_then(|a| a.get("status"))
                .and_then(|s| s.as_str())
                .and_then(Status::from_str_name)
                .map_or(0, |s| s as i32),
            detail: e.detail.as_ref().map(|d| d.to_string()).unwrap_or_default(),
            id: e.id,
            application_id: e.aggregate_id,
            r#type: e.event_type,
            actor: e.actor,
            actor_role: e.actor_role,
            occur_time: Some(time::to_timestamp(e.occur_time)),
        },
    )
    .await?;
    Ok(pb::ListApplicationEventsResponse {
        events: page.items,
        next_page_token: page.next_page_token,
    })
}
