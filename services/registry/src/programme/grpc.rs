//! The programme's gRPC handlers: figures, eligibility, parts groups.

use gearshift_platform::{Error, Principal};
use gearshift_proto::registry::v1 as pb;
use tonic::Request;

use super::{access, eligibility, figures};
use crate::RegistryService;
use crate::supplier::{self, grpc::supplier_id};

/// The programme's figures (operators and institutes).
pub async fn stats(
    svc: &RegistryService,
    request: Request<pb::GetRegistryStatsRequest>,
) -> Result<pb::RegistryStats, Error> {
    let principal = Principal::from_request(&request)?;
    access::read_stats(&principal)?;
    let counts = super::store::counts(&svc.db).await?;
    Ok(figures::figures(&counts, svc.target, svc.db.clock()))
}

/// Whether a supplier meets a programme's rules, each with its reason.
pub async fn check_eligibility(
    svc: &RegistryService,
    request: Request<pb::CheckEligibilityRequest>,
) -> Result<pb::CheckEligibilityResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    supplier_id("supplierId", &req.supplier_id)?;
    supplier::access::read(&principal, &req.supplier_id)?;
    eligibility::validate_rules(&req.rules)?;
    let mut conn = svc.db.conn().await?;
    let supplier = supplier::store::get(&mut conn, &req.supplier_id)
        .await?
        .ok_or_else(|| supplier::access::not_found(&req.supplier_id))?;
    let results: Vec<pb::RuleResult> = req
        .rules
        .iter()
        .filter_map(|r| r.rule.as_ref())
        .map(|r| eligibility::evaluate(&supplier, r))
        .collect();
    Ok(pb::CheckEligibilityResponse {
        supplier_id: supplier.id.clone(),
        eligible: results.iter().all(|r| r.passed),
        results,
    })
}

/// The parts groups (every authenticated caller).
pub fn parts_groups(
    request: Request<pb::ListPartsGroupsRequest>,
) -> Result<pb::ListPartsGroupsResponse, Error> {
    Principal::from_request(&request)?;
    Ok(super::parts_groups::parts_groups())
}
