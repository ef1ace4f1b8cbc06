//! The applications' gRPC handlers: a company drafts and submits; the
//! registry is asked about eligibility before anything is written.

use gearshift_platform::check::require_id;
use gearshift_platform::error::Reason as _;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, Role, etag, ids, outbox, pagination, time};
use gearshift_proto::financing::v1 as pb;
use pb::application::Status;
use tonic::Request;

use super::rules::{self, Verb};
use super::store::{self, Stored};
use super::view::{self, View};
use crate::FinancingService;
use crate::budget::store as budget;
use crate::programme::grpc::{programme_id, visible};
use crate::programme::store as programmes;
use crate::reason::Reason;
use crate::review::store as reviews;

/// A company's own applications; operators every one; an institute those
/// of the programmes it advises on, a reviewer those it is assigned that
/// are under review (both narrowed in `list`).
fn list_scope(p: &Principal) -> Result<Option<&str>, Error> {
    match &p.role {
        Role::Operator | Role::Institute(_) | Role::Reviewer => Ok(None),
        Role::Supplier(own) => Ok(Some(own.as_str())),
        Role::Public => Err(refused(p)),
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "application",
        id: id.to_string(),
    }
}

fn application_id(id: &str) -> Result<(), Error> {
    require_id("id", id, "fap", "an application")
}

/// An application with what reading it needs: its programme and reviews.
pub struct Loaded {
    pub application: Stored,
    pub programme: programmes::Stored,
    pub reviews: Vec<pb::Review>,
}

impl Loaded {
    pub async fn get(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Loaded, Error> {
        let application = store::get(conn, id).await?.ok_or_else(|| not_found(id))?;
        let programme = programmes::get(conn, &application.body.programme_id)
            .await?
            .ok_or_else(|| Error::internal(anyhow::anyhow!("application {id} has no programme")))?;
        let reviews = reviews::of(conn, id).await?;
        Ok(Loaded {
            application,
            programme,
            reviews,
        })
    }

    /// Who may read it: operators, the company itself, an institute the
    /// programme names as an advisor (read-only), an assigned reviewer
    /// while it is under review; anyone else's is NOT_FOUND to a company,
    /// and other reviewers and institutes are refused.
    pub fn view(&self, p: &Principal) -> Result<View, Error> {
        view::of(p, &self.application, &self.programme.body, &self.reviews).ok_or_else(|| {
            if matches!(p.role, Role::Supplier(_)) {
                not_found(&self.application.id)
            } else {
                refused(p)
            }
        })
    }

    pub fn shown(&self, v: &View) -> pb::Application {
        view::shown(v, &self.application, &self.programme.body, &self.reviews)
    }
}

fn refused(p: &Principal) -> Error {
    Error::PermissionDenied(format!(
        "role {} sees only the applications it is given to review (while under review) or \
         advise on",
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
    require_id(
        "application.supplierId",
        &input.supplier_id,
        "sup",
        "a supplier",
    )?;
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
            submitted_by: None,
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
        let v = if principal.is_operator() {
            View::Full
        } else {
            View::Company
        };
        Ok((
            tx,
            view::shown(&v, &application, &pb::Programme::default(), &[]),
        ))
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
    let loaded = Loaded::get(&mut conn, id).await?;
    let v = loaded.view(&principal)?;
    Ok(loaded.shown(&v))
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
    let Loaded {
        application: current,
        programme,
        ..
    } = {
        let mut conn = svc.db.conn().await?;
        let loaded = Loaded::get(&mut conn, &req.id).await?;
        loaded.view(&principal)?;
        loaded
    };
    if !(principal.is_operator() || is_company(&principal, &current)) {
        return Err(Error::PermissionDenied(
            "only the company or an operator submits".into(),
        ));
    }
    etag::check(expected.as_deref(), current.revision)?;
    rules::allowed(Verb::Submit, current.status)?;
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
    // What the figures group by: the company as it was when it applied.
    let applicant = svc
        .registry
        .supplier(&request, &current.body.supplier_id)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "supplierId",
                format!("there is no supplier {}", current.body.supplier_id),
            )
        })?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, answer, id, revision, applicant, programme_body) = (
        &principal,
        &answer,
        req.id.as_str(),
        current.revision,
        &applicant,
        &programme.body,
    );
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
        next.body.applicant_parts_group = applicant.primary_parts_group;
        next.body.applicant_stage = applicant.stage;
        next.submitted_by = Some(principal.subject.clone());
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
        let v = if principal.is_operator() {
            View::Full
        } else {
            View::Company
        };
        Ok((tx, view::shown(&v, &next, programme_body, &[])))
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
    if !req.supplier_id.is_empty() {
        require_id("supplierId", &req.supplier_id, "sup", "a supplier")?;
    }
    let status = match Status::try_from(req.status) {
        Ok(Status::Unspecified) => None,
        Ok(s) => Some(s),
        Err(_) => return Err(Error::invalid("status", "is not an application status")),
    };
    let reviewer = (principal.role == Role::Reviewer).then_some(principal.subject.as_str());
    if reviewer.is_some() && status.is_some_and(|s| s != Status::UnderReview) {
        return Ok(pb::ListApplicationsResponse::default());
    }
    let status = if reviewer.is_some() {
        Some(Status::UnderReview)
    } else {
        status
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
        reviewer.unwrap_or(""),
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
    let filter = store::Filter {
        programme_id: programme,
        programme_in: advised.as_deref(),
        supplier_id: supplier,
        reviewer,
        status,
    };
    let mut rows = store::list(&mut conn, filter, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |a| {
        serde_json::json!([a.create_time, a.id])
    });
    // Each programme of the page read once, the page's reviews in one query.
    let ids: Vec<String> = rows.iter().map(|a| a.id.clone()).collect();
    let mut by_application = reviews::of_many(&mut conn, &ids).await?;
    let mut programmes_seen: std::collections::HashMap<String, programmes::Stored> =
        Default::default();
    let mut applications = Vec::with_capacity(rows.len());
    for application in rows {
        let pid = application.body.programme_id.clone();
        if !programmes_seen.contains_key(&pid) {
            let programme = programmes::get(&mut conn, &pid)
                .await?
                .ok_or_else(|| Error::internal(anyhow::anyhow!("no programme {pid}")))?;
            programmes_seen.insert(pid.clone(), programme);
        }
        let loaded = Loaded {
            reviews: by_application.remove(&application.id).unwrap_or_default(),
            programme: programmes_seen[&pid].clone(),
            application,
        };
        if let Ok(v) = loaded.view(&principal) {
            applications.push(loaded.shown(&v));
        }
    }
    Ok(pb::ListApplicationsResponse {
        applications,
        next_page_token,
    })
}

/// What a move sees: who asks, the programme, the reviews, the instant.
pub struct Ctx<'a> {
    pub principal: &'a Principal,
    pub programme: &'a pb::Programme,
    pub reviews: &'a [pb::Review],
    pub now: i64,
}

/// What a move does besides changing the application: its event's
/// detail, money moved on the programme's budget, reviewers assigned, a
/// review recorded.
#[derive(Default)]
pub struct Effects {
    pub detail: Option<serde_json::Value>,
    pub money: Option<(pb::ledger_entry::Kind, i64)>,
    pub assign: Vec<pb::Review>,
    pub review: Option<pb::Review>,
}

impl Effects {
    pub fn detail(detail: serde_json::Value) -> Self {
        Self {
            detail: Some(detail),
            ..Default::default()
        }
    }
}

/// Runs a move on application `id` once, in one transaction: who may read
/// it, the etag, then `change` (the rules, no I/O), the application's
/// conditional update, the budget's movement with its ledger line, the
/// reviews, and the event. `shape` makes the response from the result.
pub async fn apply<T, R, F, S>(
    svc: &FinancingService,
    request: &Request<T>,
    id: &str,
    body_etag: &str,
    event_type: &'static str,
    change: F,
    shape: S,
) -> Result<R, Error>
where
    T: prost::Message,
    R: prost::Message + Default,
    F: Fn(&Ctx<'_>, &mut Stored) -> Result<Effects, Error>,
    S: Fn(&View, &Loaded, &Effects) -> R,
{
    let principal = Principal::from_request(request)?;
    application_id(id)?;
    let expected = etag::expected(request, body_etag);
    let idempotency = Idempotency::from_request(request, &principal)?;
    let (principal, expected, change, shape) = (&principal, &expected, &change, &shape);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let loaded = Loaded::get(&mut tx, id).await?;
        loaded.view(principal)?;
        let current = &loaded.application;
        etag::check(expected.as_deref(), current.revision)?;
        let mut next = current.clone();
        let now = tx.now();
        let effects = change(
            &Ctx {
                principal,
                programme: &loaded.programme.body,
                reviews: &loaded.reviews,
                now,
            },
            &mut next,
        )?;
        next.revision = current.revision + 1;
        next.update_time = now.max(current.update_time);
        if !store::update(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        if let Some((kind, amount)) = effects.money {
            move_money(&mut tx, &loaded.programme, &next, kind, amount, now).await?;
        }
        let mut all_reviews = loaded.reviews.clone();
        for r in &effects.assign {
            if !reviews::insert(&mut tx, id, r, now).await? {
                return Err(Error::Conflict);
            }
            all_reviews.push(r.clone());
        }
        if let Some(r) = &effects.review {
            if !reviews::submit(&mut tx, id, r).await? {
                return Err(Error::Conflict);
            }
            if let Some(slot) = all_reviews.iter_mut().find(|o| o.reviewer == r.reviewer) {
                *slot = r.clone();
            }
        }
        event(
            &mut tx,
            principal,
            event_type,
            Some(current),
            &next,
            effects.detail.clone(),
        )
        .await?;
        let after = Loaded {
            application: next,
            programme: loaded.programme,
            reviews: all_reviews,
        };
        // The caller read it before the move; after it, a reviewer may no
        // longer (the review is over), and sees the company's view of it.
        let v = after.view(principal).unwrap_or(View::Company);
        Ok((tx, shape(&v, &after, &effects)))
    })
    .await?;
    Ok(written.response)
}

/// The application as the caller sees it after a move.
fn shown(v: &View, loaded: &Loaded, _: &Effects) -> pb::Application {
    loaded.shown(v)
}

/// Moves money on the programme's budget with its ledger line; a
/// reservation the remainder cannot take is refused, naming the remainder.
async fn move_money(
    tx: &mut Tx,
    programme: &programmes::Stored,
    application: &Stored,
    kind: pb::ledger_entry::Kind,
    amount: i64,
    now: i64,
) -> Result<(), Error> {
    // A programme from before the ledger gets its row here.
    budget::open(tx, &programme.id, programme.body.total_budget_won).await?;
    let moved = budget::record(
        tx,
        budget::Movement {
            programme_id: &programme.id,
            application_id: &application.id,
            kind,
            amount_won: amount,
            now,
        },
    )
    .await?;
    if moved.is_some() {
        return Ok(());
    }
    let figures = budget::figures(tx, &programme.id)
        .await?
        .unwrap_or_default();
    match kind {
        pb::ledger_entry::Kind::Reserve => Err(Error::FailedPrecondition {
            reason: Reason::BudgetExhausted.as_str(),
            message: format!(
                "the programme's remaining budget is {} won (of {} won, {} won committed); \
                 approving {amount} won would exceed it",
                figures.remaining_won(),
                figures.total_won,
                figures.committed_won
            ),
            subject: "decision.approvedAmountWon".into(),
            allowed: Vec::new(),
        }),
        // The application's own amounts keep these within what was
        // committed; a refusal here means the ledger and the application
        // disagree.
        _ => Err(Error::internal(anyhow::anyhow!(
            "budget of {} refused a {} of {amount} won: {figures:?}",
            programme.id,
            kind.as_str_name()
        ))),
    }
}

fn is_company(p: &Principal, a: &Stored) -> bool {
    matches!(&p.role, Role::Supplier(own) if own == &a.body.supplier_id)
}

fn company_or_operator(p: &Principal, a: &Stored, verb: &str) -> Result<(), Error> {
    if p.is_operator() || is_company(p, a) {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "only the company or an operator {verb} an application"
        )))
    }
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
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        company_or_operator(c.principal, a, "edits")?;
        rules::allowed(Verb::Edit, a.status)?;
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
        Ok(Effects::default())
    };
    apply(
        svc,
        &request,
        &id,
        &etag,
        "application.updated",
        change,
        shown,
    )
    .await
}

pub async fn withdraw(
    svc: &FinancingService,
    request: Request<pb::WithdrawApplicationRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let reason = crate::programme::rules::text(&req.reason, 1_000, false)
        .map_err(|e| Error::invalid("reason", e))?;
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        if !is_company(c.principal, a) {
            return Err(Error::PermissionDenied(
                "only the company withdraws its application; operators cancel".into(),
            ));
        }
        rules::allowed(Verb::Withdraw, a.status)?;
        a.status = Status::Withdrawn;
        a.body.status_reason = reason.clone();
        Ok(Effects::detail(serde_json::json!({"reason": reason})))
    };
    let (id, etag) = (&req.id, &req.etag);
    apply(
        svc,
        &request,
        id,
        etag,
        "application.withdrawn",
        change,
        shown,
    )
    .await
}

/// What an approval committed and no tranche has paid yet.
fn undisbursed(a: &Stored) -> i64 {
    let approved = a
        .body
        .decision
        .as_ref()
        .map_or(0, |d| d.approved_amount_won);
    approved - a.body.disbursed_won
}

pub async fn cancel(
    svc: &FinancingService,
    request: Request<pb::CancelApplicationRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let reason = crate::programme::rules::text(&req.reason, 1_000, true)
        .map_err(|e| Error::invalid("reason", e))?;
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        c.principal.require_operator()?;
        rules::allowed(Verb::Cancel, a.status)?;
        // Only what this application committed goes back: the approved
        // amount less its tranches; before a decision, nothing.
        let committed = matches!(
            a.status,
            Status::Approved | Status::ConditionallyApproved | Status::Disbursing
        );
        let release = if committed { undisbursed(a) } else { 0 };
        a.status = Status::Cancelled;
        a.body.status_reason = reason.clone();
        Ok(Effects {
            detail: Some(serde_json::json!({"reason": reason, "releasedWon": release})),
            money: (release > 0).then_some((pb::ledger_entry::Kind::Release, release)),
            ..Default::default()
        })
    };
    let (id, etag) = (&req.id, &req.etag);
    apply(
        svc,
        &request,
        id,
        etag,
        "application.cancelled",
        change,
        shown,
    )
    .await
}

pub async fn screen(
    svc: &FinancingService,
    request: Request<pb::ScreenApplicationRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        c.principal.require_operator()?;
        rules::allowed(Verb::Screen, a.status)?;
        a.status = Status::Screening;
        Ok(Effects::default())
    };
    let (id, etag) = (&req.id, &req.etag);
    apply(
        svc,
        &request,
        id,
        etag,
        "application.screened",
        change,
        shown,
    )
    .await
}

pub async fn assign_reviewers(
    svc: &FinancingService,
    request: Request<pb::AssignReviewersRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    if req.reviewers.is_empty() || req.reviewers.len() > 10 {
        return Err(Error::invalid("reviewers", "must name 1 to 10 reviewers"));
    }
    for (i, r) in req.reviewers.iter().enumerate() {
        if !ids::is_valid("key", r) {
            return Err(Error::invalid(
                format!("reviewers[{i}]"),
                "is not an API key id (key_ followed by 26 characters)",
            ));
        }
        if req.reviewers[..i].contains(r) {
            return Err(Error::invalid(format!("reviewers[{i}]"), "is named twice"));
        }
    }
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        c.principal.require_operator()?;
        rules::allowed(Verb::AssignReviewers, a.status)?;
        for (i, r) in req.reviewers.iter().enumerate() {
            if c.reviews.iter().any(|o| &o.reviewer == r) {
                return Err(Error::invalid(
                    format!("reviewers[{i}]"),
                    "is already assigned to this application",
                ));
            }
            if a.submitted_by.as_deref() == Some(r.as_str()) {
                return Err(Error::invalid(
                    format!("reviewers[{i}]"),
                    "submitted this application and cannot review it",
                ));
            }
        }
        let counting = c
            .reviews
            .iter()
            .filter(|r| r.state != pb::review::State::Recused as i32)
            .count()
            + req.reviewers.len();
        let needed = crate::review::rules::required(c.programme);
        if (counting as i32) < needed {
            return Err(Error::invalid(
                "reviewers",
                format!(
                    "the programme needs {needed} reviewers who have not recused; this makes \
                     {counting}"
                ),
            ));
        }
        a.status = Status::UnderReview;
        let assign: Vec<pb::Review> = req
            .reviewers
            .iter()
            .map(|r| pb::Review {
                reviewer: r.clone(),
                state: pb::review::State::Pending as i32,
                assign_time: Some(time::to_timestamp(c.now)),
                ..Default::default()
            })
            .collect();
        Ok(Effects {
            detail: Some(serde_json::json!({"reviewers": req.reviewers})),
            assign,
            ..Default::default()
        })
    };
    let (id, etag) = (&req.id, &req.etag);
    apply(
        svc,
        &request,
        id,
        etag,
        "application.reviewers_assigned",
        change,
        shown,
    )
    .await
}

pub async fn record_consensus(
    svc: &FinancingService,
    request: Request<pb::RecordConsensusRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let note = crate::programme::rules::text(&req.note, 5_000, true)
        .map_err(|e| Error::invalid("note", e))?;
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        c.principal.require_operator()?;
        rules::allowed(Verb::RecordConsensus, a.status)?;
        let summary = crate::review::rules::summary(c.programme, c.reviews);
        if !summary.consensus_required {
            return Err(Error::precondition(
                Reason::ConsensusNotNeeded,
                "note",
                format!(
                    "the reviewers' scores are {} points apart, within the programme's {}; no \
                     consensus note is needed",
                    summary.spread, c.programme.max_score_spread
                ),
            ));
        }
        a.body.consensus = Some(pb::ConsensusNote {
            note: note.clone(),
            author: c.principal.subject.clone(),
            record_time: Some(time::to_timestamp(c.now)),
        });
        Ok(Effects::detail(
            serde_json::json!({"note": note, "spread": summary.spread}),
        ))
    };
    let (id, etag) = (&req.id, &req.etag);
    apply(
        svc,
        &request,
        id,
        etag,
        "application.consensus_recorded",
        change,
        shown,
    )
    .await
}

/// Four eyes: the decider is an operator who neither reviewed the
/// application (nor was assigned to, recused or not) nor submitted it.
/// There is no override.
fn second_pair_of_eyes(c: &Ctx<'_>, a: &Stored) -> Result<(), Error> {
    c.principal.require_operator()?;
    if c.reviews.iter().any(|r| r.reviewer == c.principal.subject) {
        return Err(Error::PermissionDenied(
            "four eyes: a reviewer of this application cannot decide on it".into(),
        ));
    }
    if a.submitted_by.as_deref() == Some(c.principal.subject.as_str()) {
        return Err(Error::PermissionDenied(
            "four eyes: whoever submitted this application cannot decide on it".into(),
        ));
    }
    Ok(())
}

pub async fn decide(
    svc: &FinancingService,
    request: Request<pb::DecideApplicationRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let input = req
        .decision
        .clone()
        .ok_or_else(|| Error::invalid("decision", "is required"))?;
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        second_pair_of_eyes(c, a)?;
        rules::allowed(Verb::Decide, a.status)?;
        let summary = crate::review::rules::summary(c.programme, c.reviews);
        let (status, mut decision) = rules::check_decision(
            &input,
            a.body.requested_amount_won,
            &summary,
            a.body.consensus.is_some(),
        )?;
        decision.decided_by = c.principal.subject.clone();
        decision.decide_time = Some(time::to_timestamp(c.now));
        let detail = serde_json::json!({
            "outcome": pb::decision::Outcome::try_from(decision.outcome)
                .map(|o| o.as_str_name())
                .unwrap_or_default(),
            "approvedAmountWon": decision.approved_amount_won,
            "conditions": decision.conditions,
            "reasons": decision.reasons,
            "rationale": decision.rationale,
            "meanScore": summary.mean_score,
            "spread": summary.spread,
            "reviews": c.reviews.iter().map(|r| serde_json::json!({
                "reviewer": r.reviewer,
                "state": pb::review::State::try_from(r.state)
                    .map(|s| s.as_str_name())
                    .unwrap_or_default(),
                "weightedScore": r.weighted_score,
            })).collect::<Vec<_>>(),
            "consensus": a.body.consensus.as_ref().map(|n| n.note.clone()),
        });
        let amount = decision.approved_amount_won;
        a.status = status;
        a.body.decision = Some(decision);
        Ok(Effects {
            detail: Some(detail),
            money: (status != Status::Rejected)
                .then_some((pb::ledger_entry::Kind::Reserve, amount)),
            ..Default::default()
        })
    };
    let (id, etag) = (&req.id, &req.etag);
    apply(
        svc,
        &request,
        id,
        etag,
        "application.decided",
        change,
        shown,
    )
    .await
}

pub async fn disburse(
    svc: &FinancingService,
    request: Request<pb::DisburseTrancheRequest>,
) -> Result<pb::Application, Error> {
    let req = request.get_ref();
    let input = req
        .tranche
        .clone()
        .ok_or_else(|| Error::invalid("tranche", "is required"))?;
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        c.principal.require_operator()?;
        rules::allowed(Verb::Disburse, a.status)?;
        let approved = a
            .body
            .decision
            .as_ref()
            .map_or(0, |d| d.approved_amount_won);
        let today = jiff::Timestamp::from_microsecond(c.now)
            .map(|t| {
                gearshift_platform::clock::seoul()
                    .to_datetime(t)
                    .date()
                    .to_string()
            })
            .map_err(Error::internal)?;
        let mut tranche = rules::check_tranche(&input, approved, a.body.disbursed_won, &today)?;
        tranche.recorded_by = c.principal.subject.clone();
        tranche.record_time = Some(time::to_timestamp(c.now));
        a.body.disbursed_won += tranche.amount_won;
        a.status = if a.body.disbursed_won == approved {
            Status::Disbursed
        } else {
            Status::Disbursing
        };
        let detail = serde_json::json!({
            "amountWon": tranche.amount_won,
            "valueDate": tranche.value_date,
            "reference": tranche.reference,
            "disbursedWon": a.body.disbursed_won,
            "approvedAmountWon": approved,
            "recordedBy": tranche.recorded_by,
        });
        let amount = tranche.amount_won;
        a.body.tranches.push(tranche);
        Ok(Effects {
            detail: Some(detail),
            money: Some((pb::ledger_entry::Kind::Consume, amount)),
            ..Default::default()
        })
    };
    let (id, etag) = (&req.id, &req.etag);
    apply(
        svc,
        &request,
        id,
        etag,
        "application.disbursed",
        change,
        shown,
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
    let loaded = Loaded::get(&mut conn, &req.application_id).await?;
    let v = loaded.view(&principal)?;
    if let View::Reviewer(_) = v {
        return Err(Error::PermissionDenied(
            "a reviewer reads the application and its own review, not the trail".into(),
        ));
    }
    let page = gearshift_platform::outbox::page(
        &mut conn,
        "application",
        &req.application_id,
        (req.page_size, &req.page_token),
        |e| {
            view::event(
                &v,
                pb::ApplicationEvent {
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
        },
    )
    .await?;
    Ok(pb::ListApplicationEventsResponse {
        events: page.items,
        next_page_token: page.next_page_token,
    })
}
