//! The directory's gRPC handlers: list and read for every caller, create
//! and edit for operators, and each entry's audit trail.

use gearshift_platform::error::Violations;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, etag, outbox, pagination, time};
use gearshift_proto::registry::v1 as pb;
use tonic::Request;

use super::access;
use super::rules::{FIELDS, Institute, code, not_found, read, to_proto};
use super::store::{self, created_event};
use crate::RegistryService;

impl RegistryService {
    async fn create_institute_once(
        &self,
        p: &Principal,
        idempotency: Option<&Idempotency>,
        new: &Institute,
    ) -> Result<pb::Institute, Error> {
        let written = write(&self.db, idempotency, |mut tx| async move {
            if !store::insert(&mut tx, new).await? {
                return Err(Error::AlreadyExists {
                    resource: "institute",
                    field: "institute.code".into(),
                    message: format!("an institute with code {} already exists", new.code),
                });
            }
            created_event(&mut tx, p, new).await?;
            Ok((tx, to_proto(new)))
        })
        .await?;
        Ok(written.response)
    }

    async fn update_institute_once(
        &self,
        p: &Principal,
        input: &Institute,
        fields: &[&str],
        expected: Option<&str>,
    ) -> Result<pb::Institute, Error> {
        let written = write(&self.db, None, |mut tx| async move {
            let current = store::get(&mut tx, &input.code)
                .await?
                .ok_or_else(|| not_found(&input.code))?;
            etag::check(expected, current.revision)?;
            let mut next = current.clone();
            let mut changed = Vec::new();
            macro_rules! copy {
                ($name:literal, $field:ident) => {
                    if fields.contains(&$name) && next.$field != input.$field {
                        next.$field = input.$field.clone();
                        changed.push($name.to_string());
                    }
                };
            }
            copy!("kind", kind);
            copy!("nameKo", name_ko);
            copy!("nameEn", name_en);
            copy!("partsGroups", parts_groups);
            copy!("ticketCategories", ticket_categories);
            copy!("contact", contact);
            if changed.is_empty() {
                tx.unchanged();
                return Ok((tx, to_proto(&current)));
            }
            next.revision += 1;
            next.update_time = tx.now().max(current.update_time);
            if !store::update(&mut tx, &next, current.revision).await? {
                return Err(Error::Conflict);
            }
            tx.append(outbox::NewEvent {
                aggregate_type: "institute",
                aggregate_id: &next.code,
                event_type: "institute.updated",
                actor: p,
                before: serde_json::to_value(&current).ok(),
                after: serde_json::to_value(&next).ok(),
                changed_fields: changed,
                detail: None,
            })
            .await?;
            Ok((tx, to_proto(&next)))
        })
        .await?;
        Ok(written.response)
    }
}

pub async fn list(
    svc: &RegistryService,
    request: Request<pb::ListInstitutesRequest>,
) -> Result<pb::ListInstitutesResponse, Error> {
    access::read(&Principal::from_request(&request)?)?;
    let req = request.get_ref();
    let group = match pb::PartsGroup::try_from(req.parts_group) {
        Ok(pb::PartsGroup::Unspecified) => "",
        Ok(g) => g.as_str_name(),
        Err(_) => return Err(Error::invalid("partsGroup", "is not a parts group")),
    };
    let category = match pb::TicketCategory::try_from(req.ticket_category) {
        Ok(pb::TicketCategory::Unspecified) => "",
        Ok(c) => c.as_str_name(),
        Err(_) => {
            return Err(Error::invalid("ticketCategory", "is not a ticket category"));
        }
    };
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["institutes", group, category]);
    let after = pagination::decode_after_id(&req.page_token, &fingerprint)?;
    let mut rows = store::list(
        &mut *svc.db.conn().await?,
        after.as_deref().unwrap_or(""),
        group,
        category,
        size + 1,
    )
    .await?;
    let next_page_token = pagination::finish(&mut rows, size, &fingerprint, |i| i.code.clone());
    Ok(pb::ListInstitutesResponse {
        institutes: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

pub async fn get(
    svc: &RegistryService,
    request: Request<pb::GetInstituteRequest>,
) -> Result<pb::Institute, Error> {
    access::read(&Principal::from_request(&request)?)?;
    let code = code(&request.get_ref().code).map_err(|e| Error::invalid("code", e))?;
    let mut conn = svc.db.conn().await?;
    let i = store::get(&mut conn, &code)
        .await?
        .ok_or_else(|| not_found(&code))?;
    Ok(to_proto(&i))
}

pub async fn create(
    svc: &RegistryService,
    request: Request<pb::CreateInstituteRequest>,
) -> Result<pb::Institute, Error> {
    let p = Principal::from_request(&request)?;
    access::write(&p)?;
    let idempotency = Idempotency::from_request(&request, &p)?;
    let input = request
        .get_ref()
        .institute
        .as_ref()
        .ok_or_else(|| Error::invalid("institute", "is required"))?;
    let mut v = Violations::new();
    let code = v.check("institute.code", code(&input.code));
    let now = svc.db.clock().now_micros();
    let mut new = Institute {
        code: code.unwrap_or_default(),
        create_time: now,
        update_time: now,
        revision: 1,
        ..Institute::default()
    };
    let all: Vec<&str> = FIELDS.iter().map(|(_, c)| *c).collect();
    read(input, &all, &mut new, &mut v);
    v.into_result()?;
    svc.create_institute_once(&p, idempotency.as_ref(), &new)
        .await
}

pub async fn update(
    svc: &RegistryService,
    request: Request<pb::UpdateInstituteRequest>,
) -> Result<pb::Institute, Error> {
    let p = Principal::from_request(&request)?;
    access::write(&p)?;
    let req = request.get_ref();
    let input = req
        .institute
        .as_ref()
        .ok_or_else(|| Error::invalid("institute", "is required"))?;
    let code = code(&input.code).map_err(|e| Error::invalid("institute.code", e))?;
    let paths = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    let mut v = Violations::new();
    let mut fields = Vec::new();
    if paths.is_empty() {
        v.add("updateMask", "must name at least one field to change");
    }
    for path in &paths {
        match FIELDS.iter().find(|(s, c)| path == s || path == c) {
            Some((_, camel)) => fields.push(*camel),
            None => v.add(
                "updateMask",
                format!(
                    "{path:?} cannot be changed; updatable fields are {}",
                    FIELDS
                        .iter()
                        .map(|(_, c)| *c)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    let mut wanted = Institute {
        code,
        ..Institute::default()
    };
    read(input, &fields, &mut wanted, &mut v);
    v.into_result()?;
    let expected = etag::expected(&request, &input.etag);
    svc.update_institute_once(&p, &wanted, &fields, expected.as_deref())
        .await
}

/// An entry's audit trail, oldest first (operators).
pub async fn list_events(
    svc: &RegistryService,
    request: Request<pb::ListInstituteEventsRequest>,
) -> Result<pb::ListInstituteEventsResponse, Error> {
    let p = Principal::from_request(&request)?;
    access::write(&p)?;
    let req = request.get_ref();
    let code = code(&req.code).map_err(|e| Error::invalid("code", e))?;
    let mut conn = svc.db.conn().await?;
    store::get(&mut conn, &code)
        .await?
        .ok_or_else(|| not_found(&code))?;
    let page = outbox::page(
        &mut conn,
        "institute",
        &code,
        (req.page_size, &req.page_token),
        |e| {
            let (before, after) = e.snapshots::<Institute>();
            pb::InstituteEvent {
                before: before.as_ref().map(to_proto),
                after: after.as_ref().map(to_proto),
                id: e.id,
                code: e.aggregate_id,
                r#type: e.event_type,
                actor: e.actor,
                actor_role: e.actor_role,
                occur_time: Some(time::to_timestamp(e.occur_time)),
                changed_fields: e.changed_fields,
            }
        },
    )
    .await?;
    Ok(pb::ListInstituteEventsResponse {
        events: page.items,
        next_page_token: page.next_page_token,
    })
}
