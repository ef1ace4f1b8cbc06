//! The programmes' gRPC handlers: operators create and open them; every
//! authenticated caller reads them once open.

use gearshift_platform::error::Reason as _;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, etag, ids, outbox, pagination, time};
use gearshift_proto::financing::v1 as pb;
use pb::programme::Status;
use tonic::Request;

use super::rules;
use super::store::{self, Stored};
use crate::FinancingService;
use crate::budget::store::{self as budget, Figures};
use crate::reason::Reason;

/// The programme with its budget's figures (`None`: nothing has moved).
pub fn to_proto(p: &Stored, figures: Option<Figures>) -> pb::Programme {
    let f = figures.unwrap_or(Figures {
        total_won: p.body.total_budget_won,
        ..Default::default()
    });
    pb::Programme {
        id: p.id.clone(),
        committed_won: f.committed_won,
        disbursed_won: f.disbursed_won,
        remaining_won: f.remaining_won(),
        status: p.status as i32,
        create_time: Some(time::to_timestamp(p.create_time)),
        update_time: Some(time::to_timestamp(p.update_time)),
        etag: etag::from_revision(p.revision),
        ..p.body.clone()
    }
}

/// What an event keeps of a programme.
fn snapshot(p: &Stored) -> serde_json::Value {
    serde_json::json!({
        "id": p.id,
        "status": p.status.as_str_name(),
        "nameKo": p.body.name_ko,
        "totalBudgetWon": p.body.total_budget_won,
        "perCompanyCapWon": p.body.per_company_cap_won,
        "perCompanyMinWon": p.body.per_company_min_won,
    })
}

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "programme",
        id: id.to_string(),
    }
}

pub fn programme_id(field: &str, id: &str) -> Result<(), Error> {
    gearshift_platform::check::require_id(field, id, "fpg", "a programme")
}

/// A draft is the operators' business: to anyone else it does not exist.
pub fn visible(p: &Principal, programme: &Stored) -> Result<(), Error> {
    if p.is_operator() || programme.status != Status::Draft {
        Ok(())
    } else {
        Err(not_found(&programme.id))
    }
}

pub async fn create(
    svc: &FinancingService,
    request: Request<pb::CreateProgrammeRequest>,
) -> Result<pb::Programme, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let input = request
        .get_ref()
        .programme
        .as_ref()
        .ok_or_else(|| Error::invalid("programme", "is required"))?;
    let body = rules::check(input)?;
    for (i, code) in body.advisor_institutes.iter().enumerate() {
        if !svc.registry.institute_exists(&request, code).await? {
            return Err(Error::invalid(
                format!("programme.advisorInstitutes[{i}]"),
                format!("there is no institute {code} in the directory"),
            ));
        }
    }
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, body) = (&principal, &body);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let programme = Stored {
            id: ids::new_id("fpg"),
            status: Status::Draft,
            body: body.clone(),
            create_time: now,
            update_time: now,
            revision: 1,
        };
        store::insert(&mut tx, &programme).await?;
        budget::open(&mut tx, &programme.id, programme.body.total_budget_won).await?;
        let shown = to_proto(&programme, None);
        tx.append(outbox::NewEvent {
            aggregate_type: "programme",
            aggregate_id: &programme.id,
            event_type: "programme.created",
            actor: principal,
            before: None,
            after: Some(snapshot(&programme)),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, shown))
    })
    .await?;
    Ok(written.response)
}

pub async fn get(
    svc: &FinancingService,
    request: Request<pb::GetProgrammeRequest>,
) -> Result<pb::Programme, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    programme_id("id", id)?;
    let mut conn = svc.db.conn().await?;
    let programme = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    visible(&principal, &programme)?;
    let figures = budget::figures(&mut conn, id).await?;
    Ok(to_proto(&programme, figures))
}

pub async fn list(
    svc: &FinancingService,
    request: Request<pb::ListProgrammesRequest>,
) -> Result<pb::ListProgrammesResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let wanted = match Status::try_from(req.status) {
        Ok(Status::Unspecified) => None,
        Ok(s) => Some(s),
        Err(_) => return Err(Error::invalid("status", "is not a programme status")),
    };
    let shown: Vec<Status> = [
        Status::Draft,
        Status::Open,
        Status::Closed,
        Status::Archived,
    ]
    .into_iter()
    .filter(|s| principal.is_operator() || *s != Status::Draft)
    .filter(|s| wanted.is_none_or(|w| w == *s))
    .collect();
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["programmes", &format!("{shown:?}")]);
    let after: Option<(i64, String)> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    if shown.is_empty() {
        return Ok(pb::ListProgrammesResponse::default());
    }
    let names: Vec<&str> = shown.iter().map(|s| s.as_str_name()).collect();
    let mut conn = svc.db.conn().await?;
    let mut rows = store::list(&mut conn, &names, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |p| {
        serde_json::json!([p.create_time, p.id])
    });
    let ids: Vec<String> = rows.iter().map(|p| p.id.clone()).collect();
    let figures = budget::figures_of(&mut conn, &ids).await?;
    Ok(pb::ListProgrammesResponse {
        programmes: rows
            .iter()
            .map(|p| to_proto(p, figures.get(&p.id).copied()))
            .collect(),
        next_page_token,
    })
}

/// Moves a programme from `from` to `to`, once. Operators only.
async fn transition<T: prost::Message>(
    svc: &FinancingService,
    request: &Request<T>,
    id: &str,
    body_etag: &str,
    (from, to): (Status, Status),
    event_type: &'static str,
) -> Result<pb::Programme, Error> {
    let principal = Principal::from_request(request)?;
    principal.require_operator()?;
    programme_id("id", id)?;
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
                    "only a {} programme can move to {}; this one is {}",
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
        next.revision = current.revision + 1;
        next.update_time = tx.now().max(current.update_time);
        if !store::update(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "programme",
            aggregate_id: id,
            event_type,
            actor: principal,
            before: Some(snapshot(&current)),
            after: Some(snapshot(&next)),
            changed_fields: vec!["status".into()],
            detail: None,
        })
        .await?;
        let figures = budget::figures(&mut tx, id).await?;
        Ok((tx, to_proto(&next, figures)))
    })
    .await?;
    Ok(written.response)
}

pub async fn open(
    svc: &FinancingService,
    request: Request<pb::OpenProgrammeRequest>,
) -> Result<pb::Programme, Error> {
    let req = request.get_ref();
    let moves = (Status::Draft, Status::Open);
    transition(svc, &request, &req.id, &req.etag, moves, "programme.opened").await
}

pub async fn close(
    svc: &FinancingService,
    request: Request<pb::CloseProgrammeRequest>,
) -> Result<pb::Programme, Error> {
    let req = request.get_ref();
    let moves = (Status::Open, Status::Closed);
    transition(svc, &request, &req.id, &req.etag, moves, "programme.closed").await
}

pub async fn archive(
    svc: &FinancingService,
    request: Request<pb::ArchiveProgrammeRequest>,
) -> Result<pb::Programme, Error> {
    let req = request.get_ref();
    let moves = (Status::Closed, Status::Archived);
    transition(
        svc,
        &request,
        &req.id,
        &req.etag,
        moves,
        "programme.archived",
    )
    .await
}
