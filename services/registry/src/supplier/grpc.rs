//! The supplier's gRPC handlers: each maps a request to the rules and the
//! store, working as the principal on the call, and its record to the API's
//! message. `api` hands each method of `SupplierRegistry` here.

use gearshift_platform::clock::Clock;
use gearshift_platform::error::Violations;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, etag, ids, outbox, pagination, time};
use gearshift_proto::registry::v1 as pb;
use tonic::Request;

use super::rules::{
    self as domain, Action, BusinessNumber, OUTPUT_ONLY, Patch, Status as SupplierStatus, Supplier,
    UPDATABLE,
};
use super::{access, profile, store};
use crate::RegistryService;

/// The supplier as the API shows it; contact data only when
/// `show_contacts`; certificates past their date (today by `clock`) expired.
pub fn to_proto(s: &Supplier, show_contacts: bool, clock: &Clock) -> pb::Supplier {
    let mut out = pb::Supplier {
        id: s.id.clone(),
        business_number: s.business_number.formatted(),
        legal_name: s.legal_name.clone(),
        status: match s.status {
            SupplierStatus::PendingVerification => pb::SupplierStatus::PendingVerification,
            SupplierStatus::Active => pb::SupplierStatus::Active,
            SupplierStatus::Suspended => pb::SupplierStatus::Suspended,
            SupplierStatus::Withdrawn => pb::SupplierStatus::Withdrawn,
        } as i32,
        create_time: Some(time::to_timestamp(s.create_time)),
        update_time: Some(time::to_timestamp(s.update_time)),
        etag: etag::from_revision(s.revision),
        status_reason: s.status_reason.clone(),
        stage: crate::stage_change::grpc::stage_to_proto(s.stage) as i32,
        ..Default::default()
    };
    profile::fill_proto(
        &s.profile,
        &mut out,
        show_contacts,
        &clock.today().to_string(),
    );
    out
}

pub(crate) fn snapshot(s: &Supplier) -> Option<serde_json::Value> {
    serde_json::to_value(s).ok()
}

fn event_to_proto(e: outbox::Event, clock: &Clock) -> pb::SupplierEvent {
    let (before, after) = e.snapshots::<Supplier>();
    let show = |s: Supplier| to_proto(&s, true, clock);
    pb::SupplierEvent {
        id: e.id,
        supplier_id: e.aggregate_id,
        r#type: e.event_type,
        actor: e.actor,
        actor_role: e.actor_role,
        occur_time: Some(time::to_timestamp(e.occur_time)),
        before: before.map(show),
        after: after.map(show),
        changed_fields: e.changed_fields,
        stage_change: e
            .detail
            .and_then(|v| serde_json::from_value::<crate::stage_change::rules::StageChange>(v).ok())
            .map(|c| crate::stage_change::grpc::change_to_proto(&c)),
    }
}

/// A syntactically valid supplier id, or a 400 naming `field`.
pub(crate) fn supplier_id(field: &str, id: &str) -> Result<(), Error> {
    if ids::is_valid("sup", id) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "is not a supplier id (sup_ followed by 26 characters)",
        ))
    }
}

impl RegistryService {
    async fn create_once(
        &self,
        principal: &Principal,
        idempotency: Option<&Idempotency>,
        new: &Supplier,
    ) -> Result<pb::Supplier, Error> {
        let written = write(&self.db, idempotency, |mut tx| async move {
            store::insert(&mut tx, new).await?;
            tx.append(outbox::NewEvent {
                aggregate_type: "supplier",
                aggregate_id: &new.id,
                event_type: "supplier.created",
                actor: principal,
                before: None,
                after: snapshot(new),
                changed_fields: vec!["businessNumber".into(), "legalName".into(), "status".into()],
                detail: None,
            })
            .await?;
            Ok((tx, to_proto(new, true, self.db.clock())))
        })
        .await?;
        Ok(written.response)
    }

    async fn update_once(
        &self,
        principal: &Principal,
        id: &str,
        patch: &Patch,
        expected_etag: Option<&str>,
    ) -> Result<pb::Supplier, Error> {
        let sees_contacts = access::sees_contacts(principal, id);
        let written = write(&self.db, None, |mut tx| async move {
            let current = store::get(&mut tx, id)
                .await?
                .ok_or_else(|| access::not_found(id))?;
            etag::check(expected_etag, current.revision)?;
            domain::ensure_editable(&current)?;
            let mut next = current.clone();
            let changed = patch.apply(&mut next);
            if changed.is_empty() {
                // Nothing to change: no write, no event, same etag.
                tx.unchanged();
                return Ok((tx, to_proto(&current, sees_contacts, self.db.clock())));
            }
            profile::check_consistency(&next.profile)?;
            next.revision += 1;
            next.update_time = tx.now().max(current.update_time);
            if !store::update(&mut tx, &next, current.revision).await? {
                // Someone wrote between our read and our write: run again, so
                // an etag, if given, is checked against the newer revision.
                return Err(Error::Conflict);
            }
            tx.append(outbox::NewEvent {
                aggregate_type: "supplier",
                aggregate_id: id,
                event_type: "supplier.updated",
                actor: principal,
                before: snapshot(&current),
                after: snapshot(&next),
                changed_fields: changed,
                detail: None,
            })
            .await?;
            Ok((tx, to_proto(&next, sees_contacts, self.db.clock())))
        })
        .await?;
        Ok(written.response)
    }
}

/// A lifecycle request, whichever verb it came as.
struct TransitionRequest<'a> {
    action: Action,
    id: &'a str,
    reason: &'a str,
    etag: &'a str,
}

/// The fields every lifecycle verb's request has.
pub(crate) trait TransitionFields {
    fn fields(&self) -> (&str, &str, &str);
}

macro_rules! transition_fields {
    ($($t:ty),*) => {
        $(impl TransitionFields for $t {
            fn fields(&self) -> (&str, &str, &str) {
                (&self.id, &self.reason, &self.etag)
            }
        })*
    };
}

transition_fields!(
    pb::VerifySupplierRequest,
    pb::SuspendSupplierRequest,
    pb::ReinstateSupplierRequest,
    pb::WithdrawSupplierRequest
);

impl RegistryService {
    async fn transition_once(
        &self,
        principal: &Principal,
        idempotency: Option<&Idempotency>,
        req: &TransitionRequest<'_>,
        reason: &str,
        expected_etag: Option<&str>,
    ) -> Result<pb::Supplier, Error> {
        let sees_contacts = access::sees_contacts(principal, req.id);
        let written = write(&self.db, idempotency, |mut tx| async move {
            let current = store::get(&mut tx, req.id)
                .await?
                .ok_or_else(|| access::not_found(req.id))?;
            etag::check(expected_etag, current.revision)?;
            let mut next = current.clone();
            next.status = domain::transition(current.status, req.action)?;
            next.status_reason = reason.to_string();
            next.revision += 1;
            next.update_time = tx.now().max(current.update_time);
            if !store::update(&mut tx, &next, current.revision).await? {
                return Err(Error::Conflict);
            }
            tx.append(outbox::NewEvent {
                aggregate_type: "supplier",
                aggregate_id: req.id,
                event_type: req.action.event_type(),
                actor: principal,
                before: snapshot(&current),
                after: snapshot(&next),
                changed_fields: vec!["status".into(), "statusReason".into()],
                detail: None,
            })
            .await?;
            Ok((tx, to_proto(&next, sees_contacts, self.db.clock())))
        })
        .await?;
        Ok(written.response)
    }

    pub(crate) async fn transition<T: prost::Message + TransitionFields>(
        &self,
        request: &Request<T>,
        action: Action,
    ) -> Result<pb::Supplier, Error> {
        let (id, reason, etag) = request.get_ref().fields();
        let req = TransitionRequest {
            action,
            id,
            reason,
            etag,
        };
        let principal = Principal::from_request(request)?;
        supplier_id("id", req.id)?;
        access::transition(&principal, req.id, req.action)?;
        let idempotency = Idempotency::from_request(request, &principal)?;
        let reason =
            domain::reason(req.action, req.reason).map_err(|e| Error::invalid("reason", e))?;
        let expected = etag::expected(request, req.etag);
        self.transition_once(
            &principal,
            idempotency.as_ref(),
            &req,
            &reason,
            expected.as_deref(),
        )
        .await
    }
}

/// A list filter's enum value by name: empty when unspecified (0), a
/// violation naming `field` when unknown.
fn filter_name<E: TryFrom<i32>>(
    v: &mut Violations,
    field: &str,
    what: &str,
    value: i32,
    name: fn(&E) -> &'static str,
) -> String {
    if value == 0 {
        return String::new();
    }
    match E::try_from(value) {
        Ok(e) => name(&e).to_string(),
        Err(_) => {
            v.add(field, format!("is not a {what}"));
            String::new()
        }
    }
}

/// The list request's filters, validated.
fn list_filter(req: &pb::ListSuppliersRequest, only: Option<&str>) -> Result<store::Filter, Error> {
    let mut v = Violations::new();
    let status = filter_name(
        &mut v,
        "status",
        "supplier status",
        req.status,
        pb::SupplierStatus::as_str_name,
    );
    let region = filter_name(
        &mut v,
        "region",
        "region",
        req.region,
        pb::Region::as_str_name,
    );
    let parts_group = filter_name(
        &mut v,
        "partsGroup",
        "parts group",
        req.parts_group,
        pb::PartsGroup::as_str_name,
    );
    if req.query.chars().count() > 100 {
        v.add("query", "must be at most 100 characters");
    }
    let stage = match crate::stage_change::grpc::stage_from_proto("stage", req.stage) {
        Ok(s) => s.map(|s| s.as_str().to_string()).unwrap_or_default(),
        Err(_) => {
            v.add("stage", "is not a transition stage");
            String::new()
        }
    };
    let certification_standard = filter_name(
        &mut v,
        "certificationStandard",
        "certification standard",
        req.certification_standard,
        pb::CertificationStandard::as_str_name,
    );
    let days = req.certification_expiring_within_days;
    if !(0..=3650).contains(&days) {
        v.add(
            "certificationExpiringWithinDays",
            "must be between 1 and 3650 days",
        );
    }
    let mut range = |from_field: &str,
                     to_field: &str,
                     from: &Option<prost_types::Timestamp>,
                     to: &Option<prost_types::Timestamp>| {
        let from = from.as_ref().map(time::from_timestamp).unwrap_or(i64::MIN);
        let to = to.as_ref().map(time::from_timestamp).unwrap_or(i64::MAX);
        if from > to {
            v.add(to_field, format!("must not be before {from_field}"));
        }
        (from, to)
    };
    let create_time = range(
        "createTimeFrom",
        "createTimeTo",
        &req.create_time_from,
        &req.create_time_to,
    );
    let update_time = range(
        "updateTimeFrom",
        "updateTimeTo",
        &req.update_time_from,
        &req.update_time_to,
    );
    v.into_result()?;
    Ok(store::Filter {
        only_id: only.unwrap_or_default().to_string(),
        status,
        region,
        parts_group,
        sme: req.sme,
        council_member: req.council_member,
        query: req.query.trim().to_string(),
        stage,
        certification_standard,
        certification_expiring_within_days: days,
        create_time,
        update_time,
    })
}

/// Reads an update mask into a validated patch of `input`'s values.
fn patch_from_mask(input: &pb::Supplier, paths: &[String]) -> Result<Patch, Error> {
    let mut v = Violations::new();
    let mut patch = Patch::default();
    if paths.is_empty() {
        v.add("updateMask", "must name at least one field to change");
    }
    for path in paths {
        let field = UPDATABLE
            .iter()
            .find(|(snake, camel)| path == snake || path == camel)
            .map(|(_, camel)| *camel);
        match field {
            Some("legalName") => {
                patch.legal_name =
                    v.check("supplier.legalName", domain::legal_name(&input.legal_name));
            }
            Some("businessNumber") => {
                patch.business_number = v.check(
                    "supplier.businessNumber",
                    BusinessNumber::parse(&input.business_number),
                );
            }
            _ if let Some((_, camel)) =
                profile::FIELDS.iter().find(|(s, c)| path == s || path == c) =>
            {
                patch.profile_fields.push(camel);
            }
            _ if OUTPUT_ONLY.iter().any(|(s, c)| path == s || path == c) => {
                v.add(
                    "updateMask",
                    format!("{path} is output only and cannot be changed"),
                );
            }
            _ => v.add(
                "updateMask",
                format!(
                    "unknown field {path:?}; updatable fields are {}",
                    UPDATABLE
                        .iter()
                        .chain(profile::FIELDS)
                        .map(|(_, c)| *c)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    patch.profile = profile::read(input, &patch.profile_fields, &mut v);
    v.into_result().map(|()| patch)
}

pub async fn create(
    svc: &RegistryService,
    request: Request<pb::CreateSupplierRequest>,
) -> Result<pb::Supplier, Error> {
    let principal = Principal::from_request(&request)?;
    access::create(&principal)?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let input = request
        .get_ref()
        .supplier
        .as_ref()
        .ok_or_else(|| Error::invalid("supplier", "is required"))?;
    let mut v = Violations::new();
    let number = v.check(
        "supplier.businessNumber",
        BusinessNumber::parse(&input.business_number),
    );
    let name = v.check("supplier.legalName", domain::legal_name(&input.legal_name));
    let all: Vec<&str> = profile::FIELDS.iter().map(|(_, camel)| *camel).collect();
    let profile = profile::read(input, &all, &mut v);
    v.into_result()?;
    profile::check_consistency(&profile)?;
    let (Some(business_number), Some(legal_name)) = (number, name) else {
        return Err(Error::invalid("supplier", "is invalid"));
    };
    let now = svc.db.clock().now_micros();
    let new = Supplier {
        id: ids::new_id("sup"),
        business_number,
        legal_name,
        status: SupplierStatus::PendingVerification,
        status_reason: String::new(),
        create_time: now,
        update_time: now,
        revision: 1,
        profile,
        stage: crate::stage_change::rules::Stage::IceDependent,
    };
    tracing::Span::current().record("supplier.id", new.id.as_str());
    svc.create_once(&principal, idempotency.as_ref(), &new)
        .await
}

pub async fn get(
    svc: &RegistryService,
    request: Request<pb::GetSupplierRequest>,
) -> Result<pb::Supplier, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    supplier_id("id", id)?;
    access::read(&principal, id)?;
    let mut conn = svc.db.conn().await?;
    let supplier = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| access::not_found(id))?;
    Ok(to_proto(
        &supplier,
        access::sees_contacts(&principal, id),
        svc.db.clock(),
    ))
}

pub async fn lookup(
    svc: &RegistryService,
    request: Request<pb::LookupSupplierRequest>,
) -> Result<pb::Supplier, Error> {
    let principal = Principal::from_request(&request)?;
    let number = BusinessNumber::parse(&request.get_ref().business_number)
        .map_err(|e| Error::invalid("businessNumber", e))?;
    let mut conn = svc.db.conn().await?;
    let not_found = || Error::NotFound {
        resource: "supplier",
        id: number.formatted(),
    };
    let supplier = store::get_by_number(&mut conn, number.digits())
        .await?
        .ok_or_else(not_found)?;
    // A company learns nothing about other companies' numbers.
    access::read(&principal, &supplier.id).map_err(|_| not_found())?;
    Ok(to_proto(
        &supplier,
        access::sees_contacts(&principal, &supplier.id),
        svc.db.clock(),
    ))
}

pub async fn batch_get(
    svc: &RegistryService,
    request: Request<pb::BatchGetSuppliersRequest>,
) -> Result<pb::BatchGetSuppliersResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let ids = &request.get_ref().ids;
    if ids.len() > 500 {
        return Err(Error::invalid("ids", "at most 500 ids per call"));
    }
    let mut v = Violations::new();
    for (i, id) in ids.iter().enumerate() {
        if !ids::is_valid("sup", id) {
            v.add(
                format!("ids[{i}]"),
                "is not a supplier id (sup_ followed by 26 characters)",
            );
        }
    }
    v.into_result()?;
    for id in ids {
        access::read(&principal, id)?;
    }
    let found = store::get_many(&mut *svc.db.conn().await?, ids).await?;
    let mut suppliers = Vec::with_capacity(ids.len());
    for id in ids {
        let s = found
            .iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| access::not_found(id))?;
        suppliers.push(to_proto(
            s,
            access::sees_contacts(&principal, id),
            svc.db.clock(),
        ));
    }
    Ok(pb::BatchGetSuppliersResponse { suppliers })
}

pub async fn list(
    svc: &RegistryService,
    request: Request<pb::ListSuppliersRequest>,
) -> Result<pb::ListSuppliersResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let size = pagination::page_size(req.page_size)?;
    let filter = list_filter(req, access::list_scope(&principal))?;
    let order = store::Order::parse(&req.order_by).map_err(|e| Error::invalid("orderBy", e))?;
    let parts = filter.fingerprint_parts();
    let order_part = format!("{order:?}");
    let mut fp: Vec<&str> = vec!["suppliers", &order_part];
    fp.extend(parts.iter().map(String::as_str));
    let fingerprint = pagination::fingerprint(&fp);
    let key = pagination::decode(&req.page_token, &fingerprint)?;
    let after = store::After::from_key(order, key)
        .ok_or_else(|| Error::invalid("pageToken", "is not a token this API issued"))?;
    // One extra row tells whether another page exists.
    let mut rows = store::list(&svc.db, &after, &filter, order, size + 1).await?;
    let next_page_token =
        pagination::finish_with(&mut rows, size, &fingerprint, |s| order.key_of(s));
    Ok(pb::ListSuppliersResponse {
        suppliers: rows
            .iter()
            .map(|s| to_proto(s, access::sees_contacts(&principal, &s.id), svc.db.clock()))
            .collect(),
        next_page_token,
    })
}

pub async fn update(
    svc: &RegistryService,
    request: Request<pb::UpdateSupplierRequest>,
) -> Result<pb::Supplier, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let input = req
        .supplier
        .as_ref()
        .ok_or_else(|| Error::invalid("supplier", "is required"))?;
    supplier_id("supplier.id", &input.id)?;
    tracing::Span::current().record("supplier.id", input.id.as_str());
    let paths = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    let patch = patch_from_mask(input, &paths)?;
    access::update(&principal, &input.id, &patch)?;
    let expected = etag::expected(&request, &input.etag);
    svc.update_once(&principal, &input.id, &patch, expected.as_deref())
        .await
}

pub async fn list_events(
    svc: &RegistryService,
    request: Request<pb::ListSupplierEventsRequest>,
) -> Result<pb::ListSupplierEventsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    supplier_id("supplierId", &req.supplier_id)?;
    access::read_events(&principal)?;
    let mut conn = svc.db.conn().await?;
    store::ensure_exists(&mut conn, &req.supplier_id).await?;
    let clock = svc.db.clock();
    let page = outbox::page(
        &mut conn,
        "supplier",
        &req.supplier_id,
        (req.page_size, &req.page_token),
        |e| event_to_proto(e, clock),
    )
    .await?;
    Ok(pb::ListSupplierEventsResponse {
        events: page.items,
        next_page_token: page.next_page_token,
    })
}
