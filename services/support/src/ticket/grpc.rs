//! The tickets' gRPC handlers: opening, reading, listing and the verbs that
//! move a ticket. Every write goes through the platform's write path with
//! its audit event in the same transaction.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, etag, ids, outbox, pagination, time};
use gearshift_proto::registry::v1 as registry;
use gearshift_proto::support::v1 as pb;
use tonic::Request;

use super::rules::{self, Category, Channel, Priority, Requester, Status, Ticket, Verb};
use super::sla::{self, Levels};
use super::{access, store};
use crate::SupportService;
use crate::reason::Reason;

// ---- conversions -----------------------------------------------------------

macro_rules! enum_from_proto {
    ($fn:ident, $pb:ty, $domain:ty, $what:literal) => {
        /// From the wire: `None` for unspecified, an error for unknown.
        pub fn $fn(field: &str, value: i32) -> Result<Option<$domain>, Error> {
            match <$pb>::try_from(value) {
                Ok(v) if v as i32 == 0 => Ok(None),
                Ok(v) => Ok(<$domain>::parse(v.as_str_name())),
                Err(_) => Err(Error::invalid(field, concat!("is not a ", $what))),
            }
        }
    };
}

enum_from_proto!(category_from_proto, pb::Category, Category, "category");
enum_from_proto!(priority_from_proto, pb::Priority, Priority, "priority");
enum_from_proto!(channel_from_proto, pb::Channel, Channel, "channel");
enum_from_proto!(status_from_proto, pb::TicketStatus, Status, "ticket status");

/// A registry parts group from the wire, as its name ("" for unspecified).
pub fn parts_group_from_proto(field: &str, value: i32) -> Result<String, Error> {
    match registry::PartsGroup::try_from(value) {
        Ok(registry::PartsGroup::Unspecified) => Ok(String::new()),
        Ok(g) => Ok(g.as_str_name().to_string()),
        Err(_) => Err(Error::invalid(field, "is not a parts group")),
    }
}

pub fn parts_group_to_proto(name: &str) -> i32 {
    registry::PartsGroup::from_str_name(name).map_or(0, |g| g as i32)
}

fn enum_to_proto(name: &str, parse: fn(&str) -> Option<i32>) -> i32 {
    parse(name).unwrap_or(0)
}

fn level_to_proto(clock: &sla::Clock, now: i64) -> Option<pb::ServiceLevel> {
    let state = clock.state(now)?;
    Some(pb::ServiceLevel {
        target_minutes: clock.target_minutes as i32,
        due_time: clock.due.map(time::to_timestamp),
        stop_time: clock.stop.map(time::to_timestamp),
        state: pb::ServiceLevelState::from_str_name(state.as_str()).map_or(0, |s| s as i32),
    })
}

/// The ticket as the API shows it at `now` (service-level states are
/// worked out for that instant).
pub fn to_proto(t: &Ticket, now: i64) -> pb::Ticket {
    let l = &t.levels;
    pb::Ticket {
        id: t.id.clone(),
        number: t.number.clone(),
        supplier_id: t.supplier_id.clone(),
        requester: Some(pb::Requester {
            name: t.requester.name.clone(),
            email: t.requester.email.clone(),
            phone: t.requester.phone.clone(),
        }),
        category: enum_to_proto(t.category.as_str(), |s| {
            pb::Category::from_str_name(s).map(|v| v as i32)
        }),
        parts_group: parts_group_to_proto(&t.parts_group),
        subject: t.subject.clone(),
        description: t.description.clone(),
        priority: enum_to_proto(t.priority.as_str(), |s| {
            pb::Priority::from_str_name(s).map(|v| v as i32)
        }),
        tags: t.tags.clone(),
        channel: enum_to_proto(t.channel.as_str(), |s| {
            pb::Channel::from_str_name(s).map(|v| v as i32)
        }),
        assignee_institute: t.institute.clone(),
        assignee_person: t.person.clone(),
        status: enum_to_proto(t.status.as_str(), |s| {
            pb::TicketStatus::from_str_name(s).map(|v| v as i32)
        }),
        create_time: Some(time::to_timestamp(t.create_time)),
        update_time: Some(time::to_timestamp(t.update_time)),
        etag: etag::from_revision(t.revision),
        service_levels: Some(pb::ServiceLevels {
            first_response: level_to_proto(&l.first_response, now),
            next_response: level_to_proto(&l.next_response, now),
            resolution: level_to_proto(&l.resolution, now),
        }),
        resolution: t.resolution.clone(),
        resolve_time: t.resolve_time.map(time::to_timestamp),
        close_time: t.close_time.map(time::to_timestamp),
        cancel_reason: t.cancel_reason.clone(),
        reroute_count: t.reroute_count,
        satisfaction: t.satisfaction.as_ref().map(|s| pb::Satisfaction {
            rating: s.rating,
            comment: s.comment.clone(),
            rate_time: Some(time::to_timestamp(s.rate_time)),
        }),
        merged_into: t.merged_into.clone(),
    }
}

/// `2026-11`: the month of `micros` in `zone`.
pub fn month_of(micros: i64, zone: &jiff::tz::TimeZone) -> String {
    let at = jiff::Timestamp::from_microsecond(micros).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let date = zone.to_datetime(at).date();
    format!("{:04}-{:02}", date.year(), date.month())
}

pub fn ticket_id(field: &str, id: &str) -> Result<(), Error> {
    if ids::is_valid("tkt", id) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "is not a ticket id (tkt_ followed by 26 characters)",
        ))
    }
}

fn supplier_id(field: &str, id: &str) -> Result<(), Error> {
    if ids::is_valid("sup", id) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "is not a supplier id (sup_ followed by 26 characters)",
        ))
    }
}

/// Appends a ticket event: the record before and after, and a note.
async fn event(
    tx: &mut Tx,
    principal: &Principal,
    event_type: &str,
    before: Option<&Ticket>,
    after: &Ticket,
    changed: &[&str],
    note: Option<serde_json::Value>,
) -> Result<(), Error> {
    tx.append(outbox::NewEvent {
        aggregate_type: "ticket",
        aggregate_id: &after.id,
        event_type,
        actor: principal,
        before: before.and_then(|b| serde_json::to_value(b).ok()),
        after: serde_json::to_value(after).ok(),
        changed_fields: changed.iter().map(|s| s.to_string()).collect(),
        detail: note,
    })
    .await?;
    Ok(())
}

/// Writes `next` over `current` (a lost race if another write got there
/// first) and records the event, in the caller's transaction.
pub async fn save(
    tx: &mut Tx,
    principal: &Principal,
    event_type: &str,
    current: &Ticket,
    next: &Ticket,
    changed: &[&str],
    note: Option<serde_json::Value>,
) -> Result<(), Error> {
    if !store::update(tx, next, current.revision).await? {
        return Err(Error::Conflict);
    }
    event(
        tx,
        principal,
        event_type,
        Some(current),
        next,
        changed,
        note,
    )
    .await
}

// ---- create ----------------------------------------------------------------

fn draft(input: &pb::Ticket) -> Result<rules::Draft, Error> {
    let mut v = gearshift_platform::error::Violations::new();
    if let Err(Error::InvalidArgument(e)) = supplier_id("ticket.supplierId", &input.supplier_id) {
        for f in e {
            v.add(f.field, f.description);
        }
    }
    let requester = input.requester.clone().unwrap_or_default();
    let name = v.check(
        "ticket.requester.name",
        rules::required(&requester.name, rules::NAME_MAX_CHARS, false),
    );
    let email = v.check("ticket.requester.email", rules::email(&requester.email));
    let phone = v.check("ticket.requester.phone", rules::phone(&requester.phone));
    let category = match category_from_proto("ticket.category", input.category) {
        Ok(Some(c)) => Some(c),
        Ok(None) => {
            v.add("ticket.category", "is required");
            None
        }
        Err(_) => {
            v.add("ticket.category", "is not a category");
            None
        }
    };
    let parts_group = match parts_group_from_proto("ticket.partsGroup", input.parts_group) {
        Ok(g) => Some(g),
        Err(_) => {
            v.add("ticket.partsGroup", "is not a parts group");
            None
        }
    };
    let subject = v.check(
        "ticket.subject",
        rules::required(&input.subject, rules::SUBJECT_MAX_CHARS, false),
    );
    let description = v.check(
        "ticket.description",
        rules::required(&input.description, rules::DESCRIPTION_MAX_CHARS, true),
    );
    let priority = match priority_from_proto("ticket.priority", input.priority) {
        Ok(p) => Some(p.unwrap_or(Priority::Normal)),
        Err(_) => {
            v.add("ticket.priority", "is not a priority");
            None
        }
    };
    let channel = match channel_from_proto("ticket.channel", input.channel) {
        Ok(c) => Some(c.unwrap_or(Channel::Portal)),
        Err(_) => {
            v.add("ticket.channel", "is not a channel");
            None
        }
    };
    let tags = v.check("ticket.tags", rules::tags(&input.tags));
    v.into_result()?;
    match (
        name,
        email,
        phone,
        category,
        parts_group,
        subject,
        description,
        priority,
        channel,
        tags,
    ) {
        (
            Some(name),
            Some(email),
            Some(phone),
            Some(category),
            Some(parts_group),
            Some(subject),
            Some(description),
            Some(priority),
            Some(channel),
            Some(tags),
        ) => Ok(rules::Draft {
            supplier_id: input.supplier_id.clone(),
            requester: Requester { name, email, phone },
            category,
            parts_group,
            subject,
            description,
            priority,
            tags,
            channel,
        }),
        _ => Err(Error::internal(anyhow::anyhow!(
            "a checked ticket draft lost a field"
        ))),
    }
}

/// Asks the registry about the requesting company: it must exist, not be
/// withdrawn, and make the parts group the ticket names (when it declared
/// any).
async fn check_supplier<T>(
    svc: &SupportService,
    request: &Request<T>,
    draft: &rules::Draft,
) -> Result<(), Error> {
    let supplier = svc
        .registry
        .supplier(request, &draft.supplier_id)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "ticket.supplierId",
                format!("there is no supplier {}", draft.supplier_id),
            )
        })?;
    if supplier.status == registry::SupplierStatus::Withdrawn as i32 {
        return Err(Error::precondition(
            Reason::SupplierWithdrawn,
            "ticket.supplierId",
            format!(
                "supplier {} has withdrawn from the programme and cannot open tickets",
                draft.supplier_id
            ),
        ));
    }
    if !draft.parts_group.is_empty() && !supplier.parts_groups.is_empty() {
        let group = parts_group_to_proto(&draft.parts_group);
        if !supplier.parts_groups.contains(&group) {
            let declared: Vec<&str> = supplier
                .parts_groups
                .iter()
                .filter_map(|g| registry::PartsGroup::try_from(*g).ok())
                .map(|g| g.as_str_name())
                .collect();
            return Err(Error::invalid(
                "ticket.partsGroup",
                format!(
                    "must be one of the company's parts groups: {}",
                    declared.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

pub async fn create(
    svc: &SupportService,
    request: Request<pb::CreateTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let principal = Principal::from_request(&request)?;
    let input = request
        .get_ref()
        .ticket
        .as_ref()
        .ok_or_else(|| Error::invalid("ticket", "is required"))?;
    let draft = draft(input)?;
    access::create(&principal, &draft.supplier_id)?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    // Asked before anything is written: a registry that is down leaves
    // nothing behind.
    check_supplier(svc, &request, &draft).await?;
    let (principal, draft) = (&principal, &draft);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let now = tx.now();
        let institute =
            crate::routing::store::route(&mut tx, draft.category.as_str(), &draft.parts_group)
                .await?;
        let policy = crate::policy::store::policy(&mut tx, draft.priority).await?;
        let (person, calendar) = match &institute {
            Some(code) => (
                crate::desk::grpc::next_person(&mut tx, code).await?,
                crate::desk::grpc::calendar(&mut tx, &svc.calendar, code).await?,
            ),
            None => (None, (*svc.calendar).clone()),
        };
        // The number last: its counter row is the one every new ticket
        // writes, so it is held for as short a time as possible.
        let year = time::quarter(now, svc.db.clock().zone()).0;
        let number = store::next_number(&mut tx, year).await?;
        let ticket = Ticket {
            id: ids::new_id("tkt"),
            number,
            supplier_id: draft.supplier_id.clone(),
            requester: draft.requester.clone(),
            category: draft.category,
            parts_group: draft.parts_group.clone(),
            subject: draft.subject.clone(),
            description: draft.description.clone(),
            priority: draft.priority,
            tags: draft.tags.clone(),
            channel: draft.channel,
            status: if institute.is_some() {
                Status::Assigned
            } else {
                Status::New
            },
            institute: institute.unwrap_or_default(),
            person: person.unwrap_or_default(),
            create_time: now,
            update_time: now,
            revision: 1,
            levels: Levels::start(now, policy, &calendar),
            resolution: String::new(),
            resolve_time: None,
            close_time: None,
            cancel_reason: String::new(),
            reroute_count: 0,
            satisfaction: None,
            merged_into: String::new(),
            month: month_of(now, svc.db.clock().zone()),
        };
        store::insert(&mut tx, &ticket).await?;
        event(
            &mut tx,
            principal,
            "ticket.created",
            None,
            &ticket,
            &[],
            None,
        )
        .await?;
        if !ticket.institute.is_empty() {
            event(
                &mut tx,
                principal,
                "ticket.assigned",
                None,
                &ticket,
                &["assigneeInstitute", "assigneePerson", "status"],
                Some(serde_json::json!({"note": "routed by rule"})),
            )
            .await?;
        }
        Ok((tx, to_proto(&ticket, now)))
    })
    .await?;
    Ok(written.response)
}

// ---- reads -----------------------------------------------------------------

/// The ticket `id` if `principal` may see it.
pub async fn load(svc: &SupportService, principal: &Principal, id: &str) -> Result<Ticket, Error> {
    let mut conn = svc.db.conn().await?;
    let ticket = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| access::not_found(id))?;
    access::read(principal, &ticket)?;
    Ok(ticket)
}

pub async fn get(
    svc: &SupportService,
    request: Request<pb::GetTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let principal = Principal::from_request(&request)?;
    let id = &request.get_ref().id;
    ticket_id("id", id)?;
    let ticket = load(svc, &principal, id).await?;
    Ok(to_proto(&ticket, svc.db.clock().now_micros()))
}

fn filter(req: &pb::ListTicketsRequest) -> Result<store::Filter, Error> {
    let mut f = store::Filter {
        status: status_from_proto("status", req.status)?,
        open: req.open,
        category: category_from_proto("category", req.category)?,
        priority: priority_from_proto("priority", req.priority)?,
        ..store::Filter::default()
    };
    if !req.institute.is_empty() {
        f.institute = Some(
            rules::institute_code(&req.institute).map_err(|e| Error::invalid("institute", e))?,
        );
    }
    if !req.supplier_id.is_empty() {
        supplier_id("supplierId", &req.supplier_id)?;
        f.supplier_id = Some(req.supplier_id.clone());
    }
    f.service_level = match pb::ServiceLevelState::try_from(req.service_level_state) {
        Ok(pb::ServiceLevelState::Unspecified) => None,
        Ok(pb::ServiceLevelState::OnTrack) => Some(sla::State::OnTrack),
        Ok(pb::ServiceLevelState::AtRisk) => Some(sla::State::AtRisk),
        Ok(pb::ServiceLevelState::Breached) => Some(sla::State::Breached),
        Ok(pb::ServiceLevelState::Met) => Some(sla::State::Met),
        Ok(pb::ServiceLevelState::Paused) => Some(sla::State::Paused),
        Err(_) => {
            return Err(Error::invalid(
                "serviceLevelState",
                "is not a service level state",
            ));
        }
    };
    f.create_from = req.create_time_from.as_ref().map(time::from_timestamp);
    f.create_to = req.create_time_to.as_ref().map(time::from_timestamp);
    f.update_from = req.update_time_from.as_ref().map(time::from_timestamp);
    f.update_to = req.update_time_to.as_ref().map(time::from_timestamp);
    f.query = rules::text(&req.query, 200, false).map_err(|e| Error::invalid("query", e))?;
    f.by_due = match req.order_by.trim() {
        "" | "createTime desc" | "create_time desc" => false,
        "dueTime" | "due_time" | "dueTime asc" | "due_time asc" => true,
        other => {
            return Err(Error::invalid(
                "orderBy",
                format!("{other:?} is not an order: use `createTime desc` or `dueTime`"),
            ));
        }
    };
    Ok(f)
}

pub async fn list(
    svc: &SupportService,
    request: Request<pb::ListTicketsRequest>,
) -> Result<pb::ListTicketsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let mut f = filter(req)?;
    let (own_supplier, own_institute) = access::list_scope(&principal)?;
    let mut nothing = false;
    if let Some(own) = own_supplier {
        nothing |= f.supplier_id.as_deref().is_some_and(|s| s != own);
        f.supplier_id = Some(own.to_string());
    }
    if let Some(own) = own_institute {
        nothing |= f.institute.as_deref().is_some_and(|s| s != own);
        f.institute = Some(own.to_string());
    }
    let size = pagination::page_size(req.page_size)?;
    let fingerprint =
        pagination::fingerprint(&["tickets", &format!("{f:?}"), &principal.role.to_string()]);
    let after: Option<store::After> = pagination::decode(&req.page_token, &fingerprint)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::invalid("pageToken", "is not a page token of this list"))?;
    if nothing {
        return Ok(pb::ListTicketsResponse::default());
    }
    let now = svc.db.clock().now_micros();
    let mut conn = svc.db.conn().await?;
    let mut rows = store::list(&mut conn, &f, now, after.as_ref(), size + 1).await?;
    let by_due = f.by_due;
    let next_page_token = pagination::finish_with(&mut rows, size, &fingerprint, |t| {
        serde_json::to_value(store::After {
            key: store::sort_key(t, by_due),
            id: t.id.clone(),
        })
        .unwrap_or_default()
    });
    Ok(pb::ListTicketsResponse {
        tickets: rows.iter().map(|t| to_proto(t, now)).collect(),
        next_page_token,
    })
}

pub async fn events(
    svc: &SupportService,
    request: Request<pb::ListTicketEventsRequest>,
) -> Result<pb::ListTicketEventsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    ticket_id("ticketId", &req.ticket_id)?;
    let ticket = load(svc, &principal, &req.ticket_id).await?;
    access::events(&principal, &ticket)?;
    let mut conn = svc.db.conn().await?;
    let page = outbox::page(
        &mut conn,
        "ticket",
        &req.ticket_id,
        (req.page_size, &req.page_token),
        |e| {
            let (before, after) = e.snapshots::<Ticket>();
            let at = e.occur_time;
            pb::TicketEvent {
                id: e.id,
                ticket_id: e.aggregate_id,
                r#type: e.event_type,
                actor: e.actor,
                actor_role: e.actor_role,
                occur_time: Some(time::to_timestamp(at)),
                before: before.map(|t| to_proto(&t, at)),
                after: after.map(|t| to_proto(&t, at)),
                changed_fields: e.changed_fields,
                note: e
                    .detail
                    .as_ref()
                    .map(|d| match d.get("note") {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        _ => d.to_string(),
                    })
                    .unwrap_or_default(),
            }
        },
    )
    .await?;
    Ok(pb::ListTicketEventsResponse {
        events: page.items,
        next_page_token: page.next_page_token,
    })
}

// ---- moves -----------------------------------------------------------------

/// What a verb does to a ticket, given the ticket as it is now.
pub struct Move {
    pub event_type: &'static str,
    pub changed: Vec<&'static str>,
    pub note: Option<serde_json::Value>,
}

/// Runs `verb` on ticket `id` once: checks who may, the etag and the
/// status, applies `change` and records the event, in one transaction.
async fn apply<T, F>(
    svc: &SupportService,
    request: &Request<T>,
    id: &str,
    body_etag: &str,
    verb: Verb,
    change: F,
) -> Result<pb::Ticket, Error>
where
    T: prost::Message,
    F: Fn(&mut Ticket, i64) -> Result<Move, Error>,
{
    let principal = Principal::from_request(request)?;
    ticket_id("id", id)?;
    let expected = etag::expected(request, body_etag);
    let idempotency = Idempotency::from_request(request, &principal)?;
    let (principal, expected, change) = (&principal, &expected, &change);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| access::not_found(id))?;
        access::verb(principal, &current, verb)?;
        etag::check(expected.as_deref(), current.revision)?;
        rules::check_move(verb, current.status)?;
        let now = tx.now();
        let mut next = current.clone();
        let mut m = change(&mut next, now)?;
        if next.institute != current.institute && next.person.is_empty() {
            if let Some(person) = crate::desk::grpc::next_person(&mut tx, &next.institute).await? {
                next.person = person;
                if !m.changed.contains(&"assigneePerson") {
                    m.changed.push("assigneePerson");
                }
            }
        } else if next.person != current.person {
            crate::desk::grpc::check_person(&mut tx, &next.institute, &next.person).await?;
        }
        next.revision = current.revision + 1;
        next.update_time = now.max(current.update_time);
        let calendar = crate::desk::grpc::calendar(&mut tx, &svc.calendar, &next.institute).await?;
        next.levels.derive(&calendar);
        save(
            &mut tx,
            principal,
            m.event_type,
            &current,
            &next,
            &m.changed,
            m.note,
        )
        .await?;
        Ok((tx, to_proto(&next, now)))
    })
    .await?;
    Ok(written.response)
}

fn reason_text(field: &str, raw: &str) -> Result<String, Error> {
    rules::required(raw, rules::REASON_MAX_CHARS, true).map_err(|e| Error::invalid(field, e))
}

pub async fn triage(
    svc: &SupportService,
    request: Request<pb::TriageTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let req = request.get_ref();
    let category = category_from_proto("category", req.category)?;
    let parts_group = parts_group_from_proto("partsGroup", req.parts_group)?;
    let priority = priority_from_proto("priority", req.priority)?;
    let targets = match priority {
        Some(p) => Some(crate::policy::store::policy(&mut *svc.db.conn().await?, p).await?),
        None => None,
    };
    let calendar = svc.calendar.clone();
    apply(svc, &request, &req.id, &req.etag, Verb::Triage, |t, _| {
        let mut changed = vec!["status"];
        if let Some(c) = category.filter(|c| *c != t.category) {
            t.category = c;
            changed.push("category");
        }
        if !parts_group.is_empty() && parts_group != t.parts_group {
            t.parts_group = parts_group.clone();
            changed.push("partsGroup");
        }
        if let (Some(p), Some(targets)) = (priority.filter(|p| *p != t.priority), targets) {
            t.priority = p;
            t.levels.reprioritise(targets, &calendar);
            changed.push("priority");
        }
        t.status = Status::Triaged;
        Ok(Move {
            event_type: "ticket.triaged",
            changed,
            note: None,
        })
    })
    .await
}

pub async fn assign(
    svc: &SupportService,
    request: Request<pb::AssignTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    let institute = if req.institute.trim().is_empty() {
        None
    } else {
        Some(rules::institute_code(&req.institute).map_err(|e| Error::invalid("institute", e))?)
    };
    let person = rules::text(&req.person, rules::NAME_MAX_CHARS, false)
        .map_err(|e| Error::invalid("person", e))?;
    let reason = rules::text(&req.reason, rules::REASON_MAX_CHARS, true)
        .map_err(|e| Error::invalid("reason", e))?;
    let reset = match pb::ServiceLevelCarry::try_from(req.carry) {
        Ok(pb::ServiceLevelCarry::Reset) => true,
        Ok(_) => false,
        Err(_) => return Err(Error::invalid("carry", "must be CARRY_OVER or RESET")),
    };
    if let Some(code) = &institute {
        match &principal.role {
            gearshift_platform::Role::Operator => {}
            gearshift_platform::Role::Institute(own) if own == code => {}
            _ => {
                return Err(Error::PermissionDenied(
                    "only an operator routes a ticket to an institute; an institute names a \
                     person for its own tickets"
                        .into(),
                ));
            }
        }
        ticket_id("id", &req.id)?;
        if !svc.registry.institute_exists(&request, code).await? {
            return Err(Error::invalid(
                "institute",
                format!("there is no institute {code} in the directory"),
            ));
        }
    }
    let calendar = svc.calendar.clone();
    apply(svc, &request, &req.id, &req.etag, Verb::Assign, |t, now| {
        let target = match (&institute, t.institute.is_empty()) {
            (Some(code), _) => code.clone(),
            (None, false) => t.institute.clone(),
            (None, true) => {
                return Err(Error::precondition(
                    Reason::NoInstitute,
                    "institute",
                    "the ticket has no institute yet: name one",
                ));
            }
        };
        let reroute = !t.institute.is_empty() && target != t.institute;
        if reroute {
            if reason.is_empty() {
                return Err(Error::invalid(
                    "reason",
                    "is required to move a ticket to another institute",
                ));
            }
            let from = std::mem::replace(&mut t.institute, target);
            t.person = person.clone();
            t.reroute_count += 1;
            if t.status == Status::WaitingOnRequester {
                t.levels.resume(now, &calendar);
            }
            t.status = Status::Assigned;
            if reset {
                t.levels.reset(now, &calendar);
            }
            return Ok(Move {
                event_type: "ticket.rerouted",
                changed: vec!["assigneeInstitute", "assigneePerson", "status"],
                note: Some(serde_json::json!({
                    "note": format!(
                        "from {from} to {}; service levels {}; {reason}",
                        t.institute,
                        if reset { "reset" } else { "carried over" }
                    ),
                    "from": from,
                    "to": t.institute,
                    "carry": if reset { "RESET" } else { "CARRY_OVER" },
                    "reason": reason,
                })),
            });
        }
        let mut changed = Vec::new();
        if t.institute != target {
            t.institute = target;
            changed.push("assigneeInstitute");
        }
        if t.person != person {
            t.person = person.clone();
            changed.push("assigneePerson");
        }
        if matches!(t.status, Status::New | Status::Triaged) {
            t.status = Status::Assigned;
            changed.push("status");
        }
        Ok(Move {
            event_type: "ticket.assigned",
            changed,
            note: (!reason.is_empty()).then(|| serde_json::json!({"note": reason})),
        })
    })
    .await
}

pub async fn start(
    svc: &SupportService,
    request: Request<pb::StartTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let req = request.get_ref();
    let calendar = svc.calendar.clone();
    apply(svc, &request, &req.id, &req.etag, Verb::Start, |t, now| {
        let resumed = t.status == Status::WaitingOnRequester;
        if resumed {
            t.levels.resume(now, &calendar);
        }
        t.status = Status::InProgress;
        Ok(Move {
            event_type: if resumed {
                "ticket.resumed"
            } else {
                "ticket.started"
            },
            changed: vec!["status"],
            note: None,
        })
    })
    .await
}

pub async fn wait(
    svc: &SupportService,
    request: Request<pb::WaitTicketOnRequesterRequest>,
) -> Result<pb::Ticket, Error> {
    let req = request.get_ref();
    let calendar = svc.calendar.clone();
    apply(
        svc,
        &request,
        &req.id,
        &req.etag,
        Verb::WaitOnRequester,
        |t, now| {
            t.levels.pause(now, &calendar);
            t.status = Status::WaitingOnRequester;
            Ok(Move {
                event_type: "ticket.waiting",
                changed: vec!["status"],
                note: None,
            })
        },
    )
    .await
}

pub async fn resolve(
    svc: &SupportService,
    request: Request<pb::ResolveTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let req = request.get_ref();
    let resolution = rules::required(&req.resolution, rules::NOTE_MAX_CHARS, true)
        .map_err(|e| Error::invalid("resolution", e))?;
    let calendar = svc.calendar.clone();
    apply(
        svc,
        &request,
        &req.id,
        &req.etag,
        Verb::Resolve,
        |t, now| {
            t.levels.resolved(now, &calendar);
            t.status = Status::Resolved;
            t.resolution = resolution.clone();
            t.resolve_time = Some(now);
            Ok(Move {
                event_type: "ticket.resolved",
                changed: vec!["status", "resolution", "resolveTime"],
                note: None,
            })
        },
    )
    .await
}

pub async fn reopen(
    svc: &SupportService,
    request: Request<pb::ReopenTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let req = request.get_ref();
    let reason = reason_text("reason", &req.reason)?;
    let calendar = svc.calendar.clone();
    let reopen_days = svc.settings.reopen_days;
    apply(svc, &request, &req.id, &req.etag, Verb::Reopen, |t, now| {
        rules::check_reopen(t, now, reopen_days)?;
        t.levels.reopened(now, &calendar);
        t.status = Status::InProgress;
        t.resolve_time = None;
        Ok(Move {
            event_type: "ticket.reopened",
            changed: vec!["status", "resolveTime"],
            note: Some(serde_json::json!({"note": reason})),
        })
    })
    .await
}

pub async fn close(
    svc: &SupportService,
    request: Request<pb::CloseTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let req = request.get_ref();
    apply(svc, &request, &req.id, &req.etag, Verb::Close, |t, now| {
        t.status = Status::Closed;
        t.close_time = Some(now);
        Ok(Move {
            event_type: "ticket.closed",
            changed: vec!["status", "closeTime"],
            note: None,
        })
    })
    .await
}

pub async fn cancel(
    svc: &SupportService,
    request: Request<pb::CancelTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let req = request.get_ref();
    let reason = reason_text("reason", &req.reason)?;
    apply(svc, &request, &req.id, &req.etag, Verb::Cancel, |t, now| {
        t.status = Status::Cancelled;
        t.close_time = Some(now);
        t.cancel_reason = reason.clone();
        Ok(Move {
            event_type: "ticket.cancelled",
            changed: vec!["status", "closeTime", "cancelReason"],
            note: Some(serde_json::json!({"note": reason})),
        })
    })
    .await
}

pub async fn rate(
    svc: &SupportService,
    request: Request<pb::RateTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    ticket_id("id", &req.id)?;
    let comment = rules::text(&req.comment, rules::RATING_COMMENT_MAX_CHARS, true)
        .map_err(|e| Error::invalid("comment", e))?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, comment, id, rating) = (&principal, &comment, req.id.as_str(), req.rating);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| access::not_found(id))?;
        access::read(principal, &current)?;
        if !access::is_requester(principal, &current) {
            return Err(Error::PermissionDenied(
                "only the company that asked rates the handling of its request".into(),
            ));
        }
        rules::check_rating(&current, rating)?;
        let now = tx.now();
        let mut next = current.clone();
        next.satisfaction = Some(rules::Satisfaction {
            rating,
            comment: comment.clone(),
            rate_time: now,
        });
        next.revision = current.revision + 1;
        next.update_time = now.max(current.update_time);
        save(
            &mut tx,
            principal,
            "ticket.rated",
            &current,
            &next,
            &["satisfaction"],
            Some(serde_json::json!({"note": format!("rated {rating} of 5")})),
        )
        .await?;
        Ok((tx, to_proto(&next, now)))
    })
    .await?;
    Ok(written.response)
}

pub async fn merge(
    svc: &SupportService,
    request: Request<pb::MergeTicketRequest>,
) -> Result<pb::Ticket, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    ticket_id("id", &req.id)?;
    ticket_id("intoTicketId", &req.into_ticket_id)?;
    let reason = rules::text(&req.reason, rules::REASON_MAX_CHARS, true)
        .map_err(|e| Error::invalid("reason", e))?;
    let expected = etag::expected(&request, &req.etag);
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, reason, expected) = (&principal, &reason, &expected);
    let (id, into) = (req.id.as_str(), req.into_ticket_id.as_str());
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let source = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| access::not_found(id))?;
        access::verb(principal, &source, Verb::Merge)?;
        etag::check(expected.as_deref(), source.revision)?;
        rules::check_move(Verb::Merge, source.status)?;
        let target = store::get(&mut tx, into)
            .await?
            .ok_or_else(|| Error::invalid("intoTicketId", format!("there is no ticket {into}")))?;
        rules::check_merge(&source, &target)?;
        let now = tx.now();
        let mut merged = source.clone();
        merged.status = Status::Closed;
        merged.close_time = Some(now);
        merged.merged_into = target.id.clone();
        merged.revision = source.revision + 1;
        merged.update_time = now.max(source.update_time);
        let note = format!(
            "{} merged into {}{}",
            source.number,
            target.number,
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            }
        );
        save(
            &mut tx,
            principal,
            "ticket.merged",
            &source,
            &merged,
            &["status", "closeTime", "mergedInto"],
            Some(serde_json::json!({"note": note, "into": target.id})),
        )
        .await?;
        // The surviving ticket records what joined it.
        let mut kept = target.clone();
        kept.revision = target.revision + 1;
        kept.update_time = now.max(target.update_time);
        save(
            &mut tx,
            principal,
            "ticket.merge_received",
            &target,
            &kept,
            &[],
            Some(serde_json::json!({"note": note, "from": source.id})),
        )
        .await?;
        Ok((tx, to_proto(&merged, now)))
    })
    .await?;
    Ok(written.response)
}
