//! Recording (by the training centre) and listing a company's training
//! evidence.

use gearshift_platform::error::Violations;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::sql::{Conditions, Value, decode_message, encode_message};
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, outbox, pagination, time};
use gearshift_proto::registry::v1 as pb;
use tonic::Request;

use crate::RegistryService;
use crate::supplier::access;

fn check(input: &pb::TrainingEvidence) -> Result<pb::TrainingEvidence, Error> {
    use gearshift_platform::check::{date, id, text};
    let mut v = Violations::new();
    if !input.certificate_id.starts_with("crt_") || input.certificate_id.len() != 36 {
        v.add(
            "evidence.certificateId",
            "is not a certificate id (crt_ and 32 characters)",
        );
    }
    let out = pb::TrainingEvidence {
        certificate_id: input.certificate_id.clone(),
        supplier_id: v
            .check(
                "evidence.supplierId",
                id(&input.supplier_id, "sup", "a supplier"),
            )
            .unwrap_or_default(),
        course_code: v
            .check("evidence.courseCode", text(&input.course_code, 20, true))
            .unwrap_or_default(),
        course_title: v
            .check("evidence.courseTitle", text(&input.course_title, 200, true))
            .unwrap_or_default(),
        hours: input.hours,
        completion_date: v
            .check("evidence.completionDate", date(&input.completion_date))
            .map(|d| d.to_string())
            .unwrap_or_default(),
        revoked: input.revoked,
        record_time: None,
    };
    if !(1..=1_000).contains(&input.hours) {
        v.add("evidence.hours", "must be 1 to 1,000");
    }
    v.into_result()?;
    Ok(out)
}

pub async fn record(
    svc: &RegistryService,
    request: Request<pb::RecordTrainingEvidenceRequest>,
) -> Result<pb::TrainingEvidence, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let input = request
        .get_ref()
        .evidence
        .as_ref()
        .ok_or_else(|| Error::invalid("evidence", "is required"))?;
    let evidence = check(input)?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, evidence) = (&principal, &evidence);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        if crate::supplier::store::get(&mut tx, &evidence.supplier_id)
            .await?
            .is_none()
        {
            return Err(access::not_found(&evidence.supplier_id));
        }
        let kept = pb::TrainingEvidence {
            record_time: Some(time::to_timestamp(now)),
            ..evidence.clone()
        };
        let before: Option<(String, i64)> = sqlx::query_as(
            "SELECT content, revoked FROM training_evidence WHERE certificate_id = $1",
        )
        .bind(&kept.certificate_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((content, revoked)) = &before
            && (*revoked != 0) == kept.revoked
        {
            // Reported again as it stands: the first record is the answer.
            tx.unchanged();
            return Ok((tx, decode_message(content)?));
        }
        sqlx::query(
            "INSERT INTO training_evidence (certificate_id, supplier_id, content, revoked, \
             record_time) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (certificate_id) DO UPDATE \
             SET content = $3, revoked = $4, record_time = $5",
        )
        .bind(&kept.certificate_id)
        .bind(&kept.supplier_id)
        .bind(encode_message(&kept))
        .bind(i64::from(kept.revoked))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.append(outbox::NewEvent {
            aggregate_type: "supplier",
            aggregate_id: &kept.supplier_id,
            event_type: if kept.revoked {
                "supplier.training_evidence_revoked"
            } else {
                "supplier.training_evidence_recorded"
            },
            actor: principal,
            before: None,
            after: None,
            changed_fields: Vec::new(),
            detail: Some(serde_json::json!({
                "certificateId": kept.certificate_id,
                "courseCode": kept.course_code,
                "hours": kept.hours,
                "completionDate": kept.completion_date,
            })),
        })
        .await?;
        Ok((tx, kept))
    })
    .await?;
    Ok(written.response)
}

pub async fn list(
    svc: &RegistryService,
    request: Request<pb::ListTrainingEvidenceRequest>,
) -> Result<pb::ListTrainingEvidenceResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    gearshift_platform::check::id(&req.supplier_id, "sup", "a supplier")
        .map_err(|e| Error::invalid("supplierId", e))?;
    access::read(&principal, &req.supplier_id)?;
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["training_evidence", &req.supplier_id]);
    let after: Option<(i64, String)> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut c = Conditions::new();
    c.push("supplier_id = {}", [req.supplier_id.as_str()]);
    if let Some((t, id)) = after {
        c.push(
            "(record_time < {} OR (record_time = {} AND certificate_id < {}))",
            [Value::Int(t), Value::Int(t), Value::Text(id)],
        );
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        certificate_id: String,
        content: String,
        record_time: i64,
    }
    let mut conn = svc.db.conn().await?;
    let mut rows: Vec<Row> = c
        .fetch(
            &mut conn,
            "certificate_id, content, record_time",
            "training_evidence",
            "record_time DESC, certificate_id DESC",
            size + 1,
        )
        .await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |r| {
        serde_json::json!([r.record_time, r.certificate_id])
    });
    Ok(pb::ListTrainingEvidenceResponse {
        evidence: rows
            .iter()
            .map(|r| decode_message(&r.content))
            .collect::<Result<_, _>>()?,
        next_page_token,
    })
}
