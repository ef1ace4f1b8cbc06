//! The stage-change half of the registry's gRPC API: recording, proposing,
//! confirming and rejecting moves on the transition ladder.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, ids, outbox, pagination, time};
use gearshift_proto::registry::v1 as pb;
use tonic::Request;

use super::access;
use super::rules::{self as stage, Stage, StageChange, State};
use super::store;
use crate::RegistryService;
use crate::supplier::{self, grpc::snapshot, grpc::supplier_id, rules as domain};

pub fn stage_to_proto(s: Stage) -> pb::TransitionStage {
    match s {
        Stage::IceDependent => pb::TransitionStage::IceDependent,
        Stage::Exploring => pb::TransitionStage::Exploring,
        Stage::Planning => pb::TransitionStage::Planning,
        Stage::Converting => pb::TransitionStage::Converting,
        Stage::FutureCarSupplier => pb::TransitionStage::FutureCarSupplier,
    }
}

/// A stage from the wire: `None` for unspecified, an error for unknown.
pub fn stage_from_proto(field: &str, value: i32) -> Result<Option<Stage>, Error> {
    match pb::TransitionStage::try_from(value) {
        Ok(pb::TransitionStage::Unspecified) => Ok(None),
        Ok(s) => Ok(Stage::parse(s.as_str_name())),
        Err(_) => Err(Error::invalid(field, "is not a transition stage")),
    }
}

pub fn change_to_proto(c: &StageChange) -> pb::StageChange {
    pb::StageChange {
        id: c.id.clone(),
        supplier_id: c.supplier_id.clone(),
        from_stage: stage_to_proto(c.from_stage) as i32,
        to_stage: stage_to_proto(c.to_stage) as i32,
        evidence: c.evidence.clone(),
        evidence_documents: c.evidence_documents.clone(),
        reason: c.reason.clone(),
        state: match c.state {
            State::Proposed => pb::StageChangeState::Proposed,
            State::Confirmed => pb::StageChangeState::Confirmed,
            State::Rejected => pb::StageChangeState::Rejected,
        } as i32,
        recorded_by: c.recorded_by.clone(),
        recorded_by_role: c.recorded_by_role.clone(),
        create_time: Some(time::to_timestamp(c.create_time)),
        decided_by: c.decided_by.clone(),
        decide_time: c.decide_time.map(time::to_timestamp),
        decision_note: c.decision_note.clone(),
    }
}

fn change_id(id: &str) -> Result<(), Error> {
    if ids::is_valid("stc", id) {
        Ok(())
    } else {
        Err(Error::invalid(
            "id",
            "is not a stage change id (stc_ followed by 26 characters)",
        ))
    }
}

fn change_not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "stage change",
        id: id.to_string(),
    }
}

/// A confirmed or rejected proposal, or a note, bounded.
fn note(raw: &str, required: bool) -> Result<String, Error> {
    let note = crate::supplier::profile::text(raw, stage::NOTE_MAX_CHARS)
        .map_err(|e| Error::invalid("note", e))?;
    if required && note.is_empty() {
        return Err(Error::invalid(
            "note",
            "is required: say why the proposal is turned down",
        ));
    }
    Ok(note)
}

/// Appends a supplier event about `change`; `moved` is the supplier before
/// and after, when the stage moved.
async fn stage_event(
    tx: &mut Tx,
    principal: &Principal,
    event_type: &str,
    change: &StageChange,
    moved: Option<(&domain::Supplier, &domain::Supplier)>,
) -> Result<(), Error> {
    tx.append(outbox::NewEvent {
        aggregate_type: "supplier",
        aggregate_id: &change.supplier_id,
        event_type,
        actor: principal,
        before: moved.and_then(|(before, _)| snapshot(before)),
        after: moved.and_then(|(_, after)| snapshot(after)),
        changed_fields: if moved.is_some() {
            vec!["stage".into()]
        } else {
            Vec::new()
        },
        detail: serde_json::to_value(change).ok(),
    })
    .await?;
    Ok(())
}

/// Ends a stage-change write: a CONFIRMED change moves the supplier
/// (`supplier.stage_changed`); any other is recorded as `event_type`.
async fn settle(
    tx: &mut Tx,
    principal: &Principal,
    current: &domain::Supplier,
    change: &StageChange,
    event_type: &str,
) -> Result<pb::StageChange, Error> {
    if change.state == State::Confirmed {
        let mut next = current.clone();
        next.stage = change.to_stage;
        next.revision += 1;
        next.update_time = tx.now().max(current.update_time);
        if !supplier::store::update(tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        stage_event(
            tx,
            principal,
            "supplier.stage_changed",
            change,
            Some((current, &next)),
        )
        .await?;
    } else {
        stage_event(tx, principal, event_type, change, None).await?;
    }
    Ok(change_to_proto(change))
}

impl RegistryService {
    async fn create_stage_change_once(
        &self,
        principal: &Principal,
        idempotency: Option<&Idempotency>,
        supplier: &str,
        req: &stage::Request,
    ) -> Result<pb::StageChange, Error> {
        let written = write(&self.db, idempotency, |mut tx| async move {
            let current = supplier::store::get(&mut tx, supplier)
                .await?
                .ok_or_else(|| supplier::access::not_found(supplier))?;
            domain::ensure_editable(&current)?;
            let state = stage::decide(principal, supplier, current.stage, req)?;
            if state == State::Proposed
                && let Some(open) = store::pending_proposal(&mut tx, supplier).await?
            {
                return Err(stage::proposal_pending(&open));
            }
            let now = tx.now();
            let confirmed = state == State::Confirmed;
            let change = StageChange {
                id: ids::new_id("stc"),
                supplier_id: supplier.to_string(),
                from_stage: current.stage,
                to_stage: req.to_stage,
                evidence: req.evidence.clone(),
                evidence_documents: req.evidence_documents.clone(),
                reason: req.reason.clone(),
                state,
                recorded_by: principal.subject.clone(),
                recorded_by_role: principal.role.to_string(),
                create_time: now,
                decided_by: if confirmed {
                    principal.subject.clone()
                } else {
                    String::new()
                },
                decide_time: confirmed.then_some(now),
                decision_note: String::new(),
            };
            store::insert(&mut tx, &change).await?;
            let response = settle(
                &mut tx,
                principal,
                &current,
                &change,
                "supplier.stage_change_proposed",
            )
            .await?;
            Ok((tx, response))
        })
        .await?;
        Ok(written.response)
    }

    async fn decide_once(
        &self,
        principal: &Principal,
        idempotency: Option<&Idempotency>,
        supplier: &str,
        id: &str,
        verdict: State,
        note: &str,
    ) -> Result<pb::StageChange, Error> {
        let written = write(&self.db, idempotency, |mut tx| async move {
            let current = supplier::store::get(&mut tx, supplier)
                .await?
                .ok_or_else(|| supplier::access::not_found(supplier))?;
            let mut change = store::get(&mut tx, supplier, id)
                .await?
                .ok_or_else(|| change_not_found(id))?;
            if verdict == State::Confirmed {
                domain::ensure_editable(&current)?;
                stage::check_decidable(&change, current.stage)?;
            } else {
                // A stale proposal can always be turned down.
                stage::check_decidable(&change, change.from_stage)?;
            }
            change.state = verdict;
            change.decided_by = principal.subject.clone();
            change.decide_time = Some(tx.now());
            change.decision_note = note.to_string();
            if !store::decide(&mut tx, &change).await? {
                return Err(Error::Conflict);
            }
            let response = settle(
                &mut tx,
                principal,
                &current,
                &change,
                "supplier.stage_change_rejected",
            )
            .await?;
            Ok((tx, response))
        })
        .await?;
        Ok(written.response)
    }
}

/// Records an operator's move, or a company's proposal of its next step.
pub async fn create(
    svc: &RegistryService,
    request: Request<pb::CreateStageChangeRequest>,
) -> Result<pb::StageChange, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    supplier_id("supplierId", &req.supplier_id)?;
    access::read(&principal, &req.supplier_id)?;
    let input = req
        .stage_change
        .as_ref()
        .ok_or_else(|| Error::invalid("stageChange", "is required"))?;
    let to = stage_from_proto("stageChange.toStage", input.to_stage)?;
    let change = stage::validate(
        to,
        &input.evidence,
        &input.evidence_documents,
        &input.reason,
    )?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    svc.create_stage_change_once(&principal, idempotency.as_ref(), &req.supplier_id, &change)
        .await
}

/// The fields of `:confirm` and `:reject`.
pub struct Decision<'a> {
    pub supplier_id: &'a str,
    pub id: &'a str,
    pub note: &'a str,
    pub verdict: State,
}

/// Confirms or rejects a proposal, once.
pub async fn decide<T: prost::Message>(
    svc: &RegistryService,
    request: &Request<T>,
    decision: Decision<'_>,
) -> Result<pb::StageChange, Error> {
    let principal = Principal::from_request(request)?;
    supplier_id("supplierId", decision.supplier_id)?;
    change_id(decision.id)?;
    access::decide(&principal)?;
    let note = note(decision.note, decision.verdict == State::Rejected)?;
    let idempotency = Idempotency::from_request(request, &principal)?;
    svc.decide_once(
        &principal,
        idempotency.as_ref(),
        decision.supplier_id,
        decision.id,
        decision.verdict,
        &note,
    )
    .await
}

/// A supplier's ladder history, oldest first.
pub async fn list(
    svc: &RegistryService,
    request: Request<pb::ListStageChangesRequest>,
) -> Result<pb::ListStageChangesResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    supplier_id("supplierId", &req.supplier_id)?;
    access::read(&principal, &req.supplier_id)?;
    let state = match pb::StageChangeState::try_from(req.state) {
        Ok(pb::StageChangeState::Unspecified) => "",
        Ok(s) => s.as_str_name(),
        Err(_) => return Err(Error::invalid("state", "is not a stage change state")),
    };
    let mut conn = svc.db.conn().await?;
    supplier::store::ensure_exists(&mut conn, &req.supplier_id).await?;
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["stage-changes", &req.supplier_id, state]);
    let after = pagination::decode_after_id(&req.page_token, &fingerprint)?;
    let mut rows = store::list(
        &mut conn,
        &req.supplier_id,
        after.as_deref().unwrap_or(""),
        state,
        size + 1,
    )
    .await?;
    let next_page_token = pagination::finish(&mut rows, size, &fingerprint, |c| c.id.clone());
    Ok(pb::ListStageChangesResponse {
        stage_changes: rows.iter().map(change_to_proto).collect(),
        next_page_token,
    })
}
