//! Training evidence for the registry: every completion of a company's
//! staff member (and every revocation of its certificate) is written to
//! `evidence_outbox` in the transaction that makes it, and delivered to the
//! registry by the sweep, with retries, as the service's own principal.
//! The registry keeps one record per certificate, so a delivery repeated
//! after a crash changes nothing.

pub mod store;

use gearshift_platform::Error;
use gearshift_platform::principal::METADATA_KEY;
use gearshift_proto::registry::v1 as registry;
use gearshift_proto::training::v1 as pb;

use crate::TrainingService;

/// What the registry is told of a certificate.
pub fn evidence(
    supplier_id: &str,
    certificate: &pb::Certificate,
    revoked: bool,
) -> registry::TrainingEvidence {
    registry::TrainingEvidence {
        certificate_id: certificate.id.clone(),
        supplier_id: supplier_id.to_string(),
        course_code: certificate.course_code.clone(),
        course_title: certificate.course_title_ko.clone(),
        hours: certificate.hours,
        completion_date: certificate.end_date.clone(),
        revoked,
        record_time: None,
    }
}

/// The longest wait between two attempts at one delivery.
const MAX_BACKOFF_MICROS: i64 = 3_600_000_000;

/// Delivers what is due; returns how many were delivered. A delivery that
/// fails is tried again later, sooner at first.
pub async fn deliver(svc: &TrainingService) -> Result<u32, Error> {
    let mut incoming = tonic::Request::new(());
    let token = svc.principal_key.sign(&crate::worker::system());
    if let Ok(v) = token.parse() {
        incoming.metadata_mut().insert(METADATA_KEY, v);
    }
    let mut delivered = 0;
    let mut conn = svc.db.conn().await?;
    let now = svc.db.clock().now_micros();
    for item in store::due(&mut conn, now, 50).await? {
        match svc
            .registry
            .record_training_evidence(&incoming, item.evidence.clone())
            .await
        {
            Ok(_) => {
                store::delivered(&mut conn, &item.evidence, now).await?;
                delivered += 1;
            }
            Err(e) => {
                let wait = (30_000_000_i64 << item.attempts.min(10)).min(MAX_BACKOFF_MICROS);
                tracing::warn!(certificate = %item.certificate_id, error = %e, "training evidence not delivered; retried later");
                store::failed(&mut conn, &item.certificate_id, now + wait, &e.to_string()).await?;
            }
        }
    }
    Ok(delivered)
}
