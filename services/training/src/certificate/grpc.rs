//! Certificates: verified by anyone who has the id, revoked by operators.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, time};
use gearshift_proto::training::v1 as pb;
use tonic::Request;

use super::store;
use crate::TrainingService;
use crate::enrollment::grpc::record_event;
use crate::enrollment::store as enrollments;

fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "certificate",
        id: id.to_string(),
    }
}

/// `crt_` and 32 URL-safe characters; anything else is no certificate.
fn well_formed(id: &str) -> bool {
    id.strip_prefix("crt_").is_some_and(|rest| {
        rest.len() == 32
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

pub async fn get(
    svc: &TrainingService,
    request: Request<pb::GetCertificateRequest>,
) -> Result<pb::Certificate, Error> {
    Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    if !well_formed(id) {
        return Err(not_found(id));
    }
    let mut conn = svc.db.conn().await?;
    let (_, certificate) = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(certificate)
}

pub async fn revoke(
    svc: &TrainingService,
    request: Request<pb::RevokeCertificateRequest>,
) -> Result<pb::Certificate, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let req = request.get_ref();
    let reason = gearshift_platform::check::text(&req.reason, 1_000, true)
        .map_err(|e| Error::invalid("reason", e))?;
    if !well_formed(&req.id) {
        return Err(not_found(&req.id));
    }
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, reason, id) = (&principal, &reason, req.id.as_str());
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let (enrollment_id, mut certificate) = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if certificate.revoked {
            return Err(Error::precondition(
                crate::reason::Reason::InvalidTransition,
                "id",
                format!(
                    "the certificate was revoked already: {}",
                    certificate.revoke_reason
                ),
            ));
        }
        certificate.revoked = true;
        certificate.revoke_reason = reason.clone();
        certificate.revoke_time = Some(time::to_timestamp(now));
        if !store::revoke(&mut tx, &certificate).await? {
            return Err(Error::Conflict);
        }
        let enrollment = enrollments::get(&mut tx, &enrollment_id)
            .await?
            .ok_or_else(|| crate::enrollment::grpc::not_found(&enrollment_id))?;
        if let Some(s) = &enrollment.supplier_id {
            let revoked = crate::evidence::evidence(s, &certificate, true);
            crate::evidence::store::queue(&mut tx, &revoked, now).await?;
        }
        let mut after = enrollment.clone();
        after.revision += 1;
        after.update_time = now.max(enrollment.update_time);
        if !enrollments::update(&mut tx, &after, enrollment.revision).await? {
            return Err(Error::Conflict);
        }
        record_event(
            &mut tx,
            principal,
            "enrollment.certificate_revoked",
            &enrollment,
            &after,
            serde_json::json!({"certificateId": id, "reason": reason}),
        )
        .await?;
        Ok((tx, certificate))
    })
    .await?;
    Ok(written.response)
}
