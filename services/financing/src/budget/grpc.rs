//! The budget ledger, for operators and the programme's advisors.

use gearshift_platform::{Error, Principal, Role, pagination, time};
use gearshift_proto::financing::v1 as pb;
use tonic::Request;

use super::store;
use crate::FinancingService;
use crate::programme::grpc::{not_found, programme_id};
use crate::programme::store as programmes;

pub async fn entries(
    svc: &FinancingService,
    request: Request<pb::ListLedgerEntriesRequest>,
) -> Result<pb::ListLedgerEntriesResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    programme_id("programmeId", &req.programme_id)?;
    let mut conn = svc.db.conn().await?;
    let programme = programmes::get(&mut conn, &req.programme_id)
        .await?
        .ok_or_else(|| not_found(&req.programme_id))?;
    match &principal.role {
        Role::Operator => {}
        Role::Institute(code) if programme.body.advisor_institutes.contains(code) => {}
        _ => {
            return Err(Error::PermissionDenied(format!(
                "the budget ledger is for operators and the programme's advisors; the key has \
                 role {}",
                principal.role
            )));
        }
    }
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["ledger", &req.programme_id]);
    let after: Option<(i64, String)> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    let mut rows = store::entries(&mut conn, &req.programme_id, after, size + 1).await?;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |e| {
        serde_json::json!([e.occur_time, e.id])
    });
    Ok(pb::ListLedgerEntriesResponse {
        entries: rows
            .into_iter()
            .map(|e| pb::LedgerEntry {
                kind: pb::ledger_entry::Kind::from_str_name(&e.kind).map_or(0, |k| k as i32),
                id: e.id,
                programme_id: e.programme_id,
                application_id: e.application_id,
                amount_won: e.amount_won,
                occur_time: Some(time::to_timestamp(e.occur_time)),
                committed_won: e.committed_won,
                disbursed_won: e.disbursed_won,
            })
            .collect(),
        next_page_token,
    })
}
