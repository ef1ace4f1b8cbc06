//! The trainees' gRPC handlers. Personal data is for operators, the
//! trainee's company, and an institute teaching a cohort the trainee is in.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, Role, etag, ids, outbox, pagination, time};
use gearshift_proto::training::v1 as pb;
use sqlx::AnyConnection;
use tonic::Request;

use super::rules;
use super::store::{self, Scope, Stored};
use crate::TrainingService;

pub fn to_proto(t: &Stored) -> pb::Trainee {
    pb::Trainee {
        id: t.id.clone(),
        create_time: Some(time::to_timestamp(t.create_time)),
        update_time: Some(time::to_timestamp(t.update_time)),
        etag: etag::from_revision(t.revision),
        ..t.body.clone()
    }
}

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "trainee",
        id: id.to_string(),
    }
}

pub fn trainee_id(field: &str, id: &str) -> Result<(), Error> {
    gearshift_platform::check::require_id(field, id, "trn", "a trainee")
}

/// Whether `p` may see trainee `t`'s personal data; anyone else is told
/// there is no such trainee.
pub async fn readable(conn: &mut AnyConnection, p: &Principal, t: &Stored) -> Result<(), Error> {
    let ok = match &p.role {
        Role::Operator => true,
        Role::Supplier(own) => own == &t.body.supplier_id,
        Role::Institute(code) => store::taught_by(conn, &t.id, code).await?,
        _ => false,
    };
    if ok { Ok(()) } else { Err(not_found(&t.id)) }
}

pub async fn create(
    svc: &TrainingService,
    request: Request<pb::CreateTraineeRequest>,
) -> Result<pb::Trainee, Error> {
    let principal = Principal::from_request(&request)?;
    let input = request
        .get_ref()
        .trainee
        .as_ref()
        .ok_or_else(|| Error::invalid("trainee", "is required"))?;
    let body = rules::check(input, svc.db.clock().today())?;
    match &principal.role {
        Role::Operator => {}
        Role::Supplier(own) if own == &body.supplier_id => {}
        Role::Supplier(_) => {
            return Err(Error::PermissionDenied(
                "a company registers its own employees (trainee.supplierId is its own id)".into(),
            ));
        }
        _ => {
            return Err(Error::PermissionDenied(
                "operators and companies register trainees".into(),
            ));
        }
    }
    if !body.supplier_id.is_empty()
        && svc
            .registry
            .supplier(&request, &body.supplier_id)
            .await?
            .is_none()
    {
        return Err(Error::invalid(
            "trainee.supplierId",
            format!("there is no supplier {}", body.supplier_id),
        ));
    }
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, body) = (&principal, &body);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let trainee = Stored {
            id: ids::new_id("trn"),
            body: body.clone(),
            create_time: now,
            update_time: now,
            revision: 1,
        };
        store::insert(&mut tx, &trainee).await?;
        // The event names the trainee, never their personal data.
        tx.append(outbox::NewEvent {
            aggregate_type: "trainee",
            aggregate_id: &trainee.id,
            event_type: "trainee.registered",
            actor: principal,
            before: None,
            after: Some(serde_json::json!({
                "id": trainee.id, "supplierId": trainee.body.supplier_id,
            })),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&trainee)))
    })
    .await?;
    Ok(written.response)
}

pub async fn get(
    svc: &TrainingService,
    request: Request<pb::GetTraineeRequest>,
) -> Result<pb::Trainee, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    trainee_id("id", id)?;
    let mut conn = svc.db.conn().await?;
    let trainee = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    readable(&mut conn, &principal, &trainee).await?;
    Ok(to_proto(&trainee))
}

pub async fn list(
    svc: &TrainingService,
    request: Request<pb::ListTraineesRequest>,
) -> Result<pb::ListTraineesResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    if !req.supplier_id.is_empty() {
        gearshift_platform::check::require_id("supplierId", &req.supplier_id, "sup", "a supplier")?;
    }
    let scope = match &principal.role {
        Role::Operator => Scope::All,
        Role::Supplier(own) => Scope::Company(own),
        Role::Institute(code) => Scope::Institute(code),
        _ => {
            return Err(Error::PermissionDenied(format!(
                "role {} sees no trainees",
                principal.role
            )));
        }
    };
    let scope_key = match &scope {
        Scope::All => "all".to_string(),
        Scope::Company(s) => format!("company:{s}"),
        Scope::Institute(c) => format!("institute:{c}"),
    };
    let supplier = (!req.supplier_id.is_empty()).then_some(req.supplier_id.as_str());
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["trainees", &scope_key, supplier.unwrap_or("")]);
    let after: Option<(i64, String)> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut conn = svc.db.conn().await?;
    let mut rows = store::list(&mut conn, scope, supplier, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |t| {
        serde_json::json!([t.create_time, t.id])
    });
    Ok(pb::ListTraineesResponse {
        trainees: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}
