//! The desks' gRPC handlers, and what tickets ask of a desk: the calendar
//! their clocks count in and the person the next ticket goes to.

use gearshift_platform::calendar::BusinessCalendar;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, Role, etag, outbox, time};
use gearshift_proto::support::v1 as pb;
use sqlx::AnyConnection;
use tonic::Request;

use super::rules::{self, Desk, MAX_PEOPLE, Person};
use super::store;
use crate::SupportService;
use crate::ticket::rules as ticket_rules;

/// The calendar the tickets of `institute` count business time in.
pub async fn calendar(
    conn: &mut AnyConnection,
    platform: &BusinessCalendar,
    institute: &str,
) -> Result<BusinessCalendar, Error> {
    if institute.is_empty() {
        return Ok(platform.clone());
    }
    Ok(store::get(conn, institute).await?.calendar(platform))
}

/// The person a ticket newly routed to `institute` goes to, if its desk
/// assigns automatically and has someone; the turn is recorded in `tx`.
pub async fn next_person(tx: &mut Tx, institute: &str) -> Result<Option<String>, Error> {
    let mut desk = store::get(tx, institute).await?;
    let open = store::open_counts(tx, institute).await?;
    let Some(person) = desk.pick(&open) else {
        return Ok(None);
    };
    let expected = desk.revision;
    desk.last_person = person.clone();
    desk.revision += 1;
    if !store::save(tx, &desk, expected).await? {
        return Err(Error::Conflict);
    }
    Ok(Some(person))
}

/// Refuses a person the institute's desk does not list.
pub async fn check_person(
    conn: &mut AnyConnection,
    institute: &str,
    person: &str,
) -> Result<(), Error> {
    if person.is_empty() {
        return Ok(());
    }
    let desk = store::get(conn, institute).await?;
    if desk.knows(person) {
        Ok(())
    } else {
        let ids: Vec<&str> = desk.people.iter().map(|p| p.id.as_str()).collect();
        Err(Error::invalid(
            "person",
            format!("is not one of {institute}'s people: {}", ids.join(", ")),
        ))
    }
}

fn to_proto(d: &Desk, open: &std::collections::HashMap<String, i64>) -> pb::SupportDesk {
    pb::SupportDesk {
        institute: d.institute.clone(),
        auto_assign: Some(d.auto_assign),
        business_hours: d.business_hours.clone(),
        people: d
            .people
            .iter()
            .map(|p| pb::DeskPerson {
                id: p.id.clone(),
                name: p.name.clone(),
                active: Some(p.active),
                open_tickets: open.get(&p.id).copied().unwrap_or(0) as i32,
            })
            .collect(),
        update_time: (d.revision > 0).then(|| time::to_timestamp(d.update_time)),
        etag: etag::from_revision(d.revision),
    }
}

/// Operators any desk, an institute its own.
fn access(p: &Principal, institute: &str) -> Result<(), Error> {
    match &p.role {
        Role::Operator => Ok(()),
        Role::Institute(own) if own == institute => Ok(()),
        _ => Err(Error::PermissionDenied(format!(
            "only operators and {institute} itself manage {institute}'s desk"
        ))),
    }
}

fn institute(field: &str, raw: &str) -> Result<String, Error> {
    ticket_rules::institute_code(raw).map_err(|e| Error::invalid(field, e))
}

pub async fn get(
    svc: &SupportService,
    request: Request<pb::GetSupportDeskRequest>,
) -> Result<pb::SupportDesk, Error> {
    let principal = Principal::from_request(&request)?;
    let code = institute("institute", &request.get_ref().institute)?;
    access(&principal, &code)?;
    let mut conn = svc.db.conn().await?;
    let desk = store::get(&mut conn, &code).await?;
    let open = store::open_counts(&mut conn, &code).await?;
    Ok(to_proto(&desk, &open))
}

fn people(input: &[pb::DeskPerson]) -> Result<Vec<Person>, Error> {
    if input.len() > MAX_PEOPLE {
        return Err(Error::invalid(
            "supportDesk.people",
            format!("must be at most {MAX_PEOPLE} people"),
        ));
    }
    let mut v = gearshift_platform::error::Violations::new();
    let mut out: Vec<Person> = Vec::new();
    for (i, p) in input.iter().enumerate() {
        let id = v.check(
            &format!("supportDesk.people[{i}].id"),
            rules::person_id(&p.id),
        );
        let name = v.check(
            &format!("supportDesk.people[{i}].name"),
            ticket_rules::required(&p.name, ticket_rules::NAME_MAX_CHARS, false),
        );
        if let (Some(id), Some(name)) = (id, name) {
            if out.iter().any(|o| o.id == id) {
                v.add(
                    format!("supportDesk.people[{i}].id"),
                    format!("{id} is listed twice"),
                );
            }
            out.push(Person {
                id,
                name,
                active: p.active.unwrap_or(true),
            });
        }
    }
    v.into_result()?;
    Ok(out)
}

pub async fn update(
    svc: &SupportService,
    request: Request<pb::UpdateSupportDeskRequest>,
) -> Result<pb::SupportDesk, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let input = req
        .support_desk
        .clone()
        .ok_or_else(|| Error::invalid("supportDesk", "is required"))?;
    let code = institute("supportDesk.institute", &input.institute)?;
    access(&principal, &code)?;
    let mask = gearshift_platform::mask::fields(
        req.update_mask.as_ref(),
        &["autoAssign", "businessHours", "people"],
    )?;
    let wants = |f: &str| gearshift_platform::mask::wants(&mask, f);
    let new_people = if wants("people") {
        Some(people(&input.people)?)
    } else {
        None
    };
    let hours = if wants("businessHours") {
        let h = input.business_hours.trim().to_string();
        if !h.is_empty() {
            svc.calendar
                .with_hours(&h)
                .map_err(|e| Error::invalid("supportDesk.businessHours", e))?;
        }
        Some(h)
    } else {
        None
    };
    let auto_assign = if wants("autoAssign") {
        input.auto_assign
    } else {
        None
    };
    if !svc.registry.institute_exists(&request, &code).await? {
        return Err(Error::NotFound {
            resource: "institute",
            id: code,
        });
    }
    let expected = etag::expected(&request, &input.etag);
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, code, expected) = (&principal, &code, &expected);
    let (new_people, hours) = (&new_people, &hours);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, code).await?;
        if current.revision > 0 {
            etag::check(expected.as_deref(), current.revision)?;
        }
        let mut next = current.clone();
        if let Some(p) = new_people {
            next.people = p.clone();
        }
        if let Some(h) = hours {
            next.business_hours = h.clone();
        }
        if let Some(a) = auto_assign {
            next.auto_assign = a;
        }
        let open = store::open_counts(&mut tx, code).await?;
        if next == current && current.revision > 0 {
            tx.unchanged();
            return Ok((tx, to_proto(&current, &open)));
        }
        next.revision = current.revision + 1;
        next.update_time = tx.now();
        if !store::save(&mut tx, &next, current.revision).await? {
            return Err(Error::Conflict);
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "support_desk",
            aggregate_id: code,
            event_type: "support_desk.updated",
            actor: principal,
            before: serde_json::to_value(&current).ok(),
            after: serde_json::to_value(&next).ok(),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&next, &open)))
    })
    .await?;
    Ok(written.response)
}
