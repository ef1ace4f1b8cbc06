//! The evidence outbox's SQL.

use gearshift_platform::Error;
use gearshift_platform::sql::{decode_message, encode_message};
use gearshift_proto::registry::v1 as registry;
use sqlx::AnyConnection;

/// A delivery to make.
pub struct Due {
    pub certificate_id: String,
    pub evidence: registry::TrainingEvidence,
    pub attempts: u32,
}

/// Queues `evidence` (again, when it changed: a revocation after the
/// completion), due now.
pub async fn queue(
    conn: &mut AnyConnection,
    evidence: &registry::TrainingEvidence,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO evidence_outbox (certificate_id, supplier_id, content, due_time, attempts, \
         delivered_time, last_error) VALUES ($1, $2, $3, $4, 0, NULL, '') \
         ON CONFLICT (certificate_id) DO UPDATE SET content = $3, due_time = $4, attempts = 0, \
         delivered_time = NULL, last_error = ''",
    )
    .bind(&evidence.certificate_id)
    .bind(&evidence.supplier_id)
    .bind(encode_message(evidence))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` undelivered items due by `now`.
pub async fn due(conn: &mut AnyConnection, now: i64, limit: i64) -> Result<Vec<Due>, Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT certificate_id, content, attempts FROM evidence_outbox \
         WHERE delivered_time IS NULL AND due_time <= $1 ORDER BY due_time LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(certificate_id, content, attempts)| {
            Ok(Due {
                certificate_id,
                evidence: decode_message(&content)?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Marks `evidence` delivered, unless it changed meanwhile (a revocation
/// queued while its completion was on the way is still to deliver).
pub async fn delivered(
    conn: &mut AnyConnection,
    evidence: &registry::TrainingEvidence,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE evidence_outbox SET delivered_time = $2 WHERE certificate_id = $1 AND content = $3",
    )
    .bind(&evidence.certificate_id)
    .bind(now)
    .bind(encode_message(evidence))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn failed(
    conn: &mut AnyConnection,
    certificate: &str,
    next: i64,
    error: &str,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE evidence_outbox SET attempts = attempts + 1, due_time = $2, last_error = $3 \
         WHERE certificate_id = $1",
    )
    .bind(certificate)
    .bind(next)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}
