//! The policies' gRPC handlers: everyone reads, operators change.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, etag, outbox, time};
use gearshift_proto::support::v1 as pb;
use tonic::Request;

use super::store::{self, Stored};
use crate::SupportService;
use crate::ticket::grpc::priority_from_proto;
use crate::ticket::rules::Priority;

fn to_proto(p: &Stored) -> pb::ServiceLevelPolicy {
    pb::ServiceLevelPolicy {
        priority: pb::Priority::from_str_name(p.priority.as_str()).map_or(0, |v| v as i32),
        first_response_minutes: p.first_response_minutes as i32,
        resolution_minutes: p.resolution_minutes as i32,
        update_time: (p.update_time > 0).then(|| time::to_timestamp(p.update_time)),
        etag: etag::from_revision(p.revision),
    }
}

pub async fn list(
    svc: &SupportService,
    request: Request<pb::ListServiceLevelPoliciesRequest>,
) -> Result<pb::ListServiceLevelPoliciesResponse, Error> {
    Principal::from_request(&request)?;
    let mut conn = svc.db.conn().await?;
    let mut policies = Vec::new();
    for priority in Priority::ALL.iter().rev() {
        policies.push(to_proto(&store::get(&mut conn, *priority).await?));
    }
    Ok(pb::ListServiceLevelPoliciesResponse { policies })
}

pub async fn update(
    svc: &SupportService,
    request: Request<pb::UpdateServiceLevelPolicyRequest>,
) -> Result<pb::ServiceLevelPolicy, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let req = request.get_ref();
    let input = req
        .service_level_policy
        .clone()
        .ok_or_else(|| Error::invalid("serviceLevelPolicy", "is required"))?;
    let priority = priority_from_proto("serviceLevelPolicy.priority", input.priority)?
        .ok_or_else(|| Error::invalid("serviceLevelPolicy.priority", "is required"))?;
    let mask = gearshift_platform::mask::fields(
        req.update_mask.as_ref(),
        &["firstResponseMinutes", "resolutionMinutes"],
    )?;
    let wants = |f: &str| gearshift_platform::mask::wants(&mask, f);
    let first = wants("firstResponseMinutes").then_some(i64::from(input.first_response_minutes));
    let resolution = wants("resolutionMinutes").then_some(i64::from(input.resolution_minutes));
    let expected = etag::expected(&request, &input.etag);
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, expected) = (&principal, &expected);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, priority).await?;
        etag::check(expected.as_deref(), current.revision)?;
        let mut next = current.clone();
        if let Some(m) = first {
            next.first_response_minutes = m;
        }
        if let Some(m) = resolution {
            next.resolution_minutes = m;
        }
        let mut v = gearshift_platform::error::Violations::new();
        if !(1..=100_000).contains(&next.first_response_minutes) {
            v.add(
                "serviceLevelPolicy.firstResponseMinutes",
                "must be 1 to 100,000 business minutes",
            );
        }
        if !(1..=100_000).contains(&next.resolution_minutes) {
            v.add(
                "serviceLevelPolicy.resolutionMinutes",
                "must be 1 to 100,000 business minutes (about 185 business days)",
            );
        } else if next.resolution_minutes < next.first_response_minutes {
            v.add(
                "serviceLevelPolicy.resolutionMinutes",
                "must not be under firstResponseMinutes",
            );
        }
        v.into_result()?;
        if next == current {
            tx.unchanged();
            return Ok((tx, to_proto(&current)));
        }
        next.revision = current.revision + 1;
        next.update_time = tx.now();
        if !store::update(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "service_level_policy",
            aggregate_id: priority.as_str(),
            event_type: "service_level_policy.updated",
            actor: principal,
            before: serde_json::to_value(&current).ok(),
            after: serde_json::to_value(&next).ok(),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&next)))
    })
    .await?;
    Ok(written.response)
}
