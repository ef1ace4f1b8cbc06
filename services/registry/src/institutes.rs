//! The partner directory: the eight research institutes and the industry
//! partners, seeded on first start, kept up to date by operators, readable
//! by every authenticated caller. Rules, SQL and the gRPC service together:
//! the resource is small and has no other callers.

use gearshift_platform::error::{Violations, respond};
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, Role, db, etag, outbox, pagination, time};
use gearshift_proto::registry::v1 as pb;
use pb::institute_directory_server::InstituteDirectory;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use crate::profile::{Contact, enum_names, parts_group_name, required_text};

/// An institute as stored and as carried in audit events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Institute {
    pub code: String,
    /// `InstituteKind` name.
    pub kind: String,
    pub name_ko: String,
    pub name_en: String,
    /// `PartsGroup` names.
    pub parts_groups: Vec<String>,
    /// `TicketCategory` names.
    pub ticket_categories: Vec<String>,
    pub contact: Contact,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

/// Fields an update mask may name, (snake, camel).
const FIELDS: &[(&str, &str)] = &[
    ("kind", "kind"),
    ("name_ko", "nameKo"),
    ("name_en", "nameEn"),
    ("parts_groups", "partsGroups"),
    ("ticket_categories", "ticketCategories"),
    ("contact", "contact"),
];

/// `KATECH`: 2 to 16 upper-case letters or digits, starting with a letter
/// (the same rule as `institute:<CODE>` roles).
pub fn code(raw: &str) -> Result<String, String> {
    match Role::parse(&format!("institute:{}", raw.trim())) {
        Ok(Role::Institute(code)) => Ok(code),
        _ => Err("must be 2-16 upper-case letters or digits, starting with a letter".into()),
    }
}

/// Reads the named fields (lowerCamelCase) of `input` into `into`.
fn read(input: &pb::Institute, fields: &[&str], into: &mut Institute, v: &mut Violations) {
    for field in fields {
        match *field {
            "kind" => match pb::InstituteKind::try_from(input.kind) {
                Ok(pb::InstituteKind::Unspecified) => v.add("institute.kind", "is required"),
                Ok(k) => into.kind = k.as_str_name().to_string(),
                Err(_) => v.add("institute.kind", "is not an institute kind"),
            },
            "nameKo" | "nameEn" => {
                let (raw, at) = if *field == "nameKo" {
                    (&input.name_ko, "institute.nameKo")
                } else {
                    (&input.name_en, "institute.nameEn")
                };
                let name = v.check(at, required_text(raw, 200)).unwrap_or_default();
                if *field == "nameKo" {
                    into.name_ko = name;
                } else {
                    into.name_en = name;
                }
            }
            "partsGroups" => {
                into.parts_groups = enum_names(
                    "institute.partsGroups",
                    &input.parts_groups,
                    parts_group_name,
                    "parts group",
                    v,
                )
            }
            "ticketCategories" => {
                into.ticket_categories = enum_names(
                    "institute.ticketCategories",
                    &input.ticket_categories,
                    |c| match pb::TicketCategory::try_from(c) {
                        Ok(pb::TicketCategory::Unspecified) | Err(_) => None,
                        Ok(c) => Some(c.as_str_name()),
                    },
                    "ticket category",
                    v,
                )
            }
            "contact" => {
                into.contact = match &input.contact {
                    Some(c) if *c != pb::Contact::default() => {
                        crate::profile::contact(c, "institute.contact", v)
                    }
                    _ => Contact::default(),
                };
            }
            _ => {}
        }
    }
}

fn to_proto(i: &Institute) -> pb::Institute {
    let contact = &i.contact;
    pb::Institute {
        code: i.code.clone(),
        kind: pb::InstituteKind::from_str_name(&i.kind).unwrap_or_default() as i32,
        name_ko: i.name_ko.clone(),
        name_en: i.name_en.clone(),
        parts_groups: i
            .parts_groups
            .iter()
            .filter_map(|g| pb::PartsGroup::from_str_name(g))
            .map(|g| g as i32)
            .collect(),
        ticket_categories: i
            .ticket_categories
            .iter()
            .filter_map(|c| pb::TicketCategory::from_str_name(c))
            .map(|c| c as i32)
            .collect(),
        contact: (*contact != Contact::default()).then(|| pb::Contact {
            name: contact.name.clone(),
            role: contact.role.clone(),
            email: contact.email.clone(),
            phone: contact.phone.clone(),
        }),
        create_time: Some(time::to_timestamp(i.create_time)),
        update_time: Some(time::to_timestamp(i.update_time)),
        etag: etag::from_revision(i.revision),
    }
}

fn not_found(code: &str) -> Error {
    Error::NotFound {
        resource: "institute",
        id: code.to_string(),
    }
}

fn marks(values: &[String]) -> String {
    if values.is_empty() {
        String::new()
    } else {
        format!(",{},", values.join(","))
    }
}

// ---- storage ---------------------------------------------------------------

type Row = (String, i64);

fn from_row((record, revision): Row) -> Result<Institute, Error> {
    let mut i: Institute = serde_json::from_str(&record).map_err(Error::internal)?;
    i.revision = revision;
    Ok(i)
}

/// Inserts `i` unless its code exists; returns whether it did.
async fn insert(conn: &mut AnyConnection, i: &Institute) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO institutes (code, kind, record, parts_groups, ticket_categories, create_time, \
         update_time, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING",
    )
    .bind(&i.code)
    .bind(&i.kind)
    .bind(serde_json::to_string(i).map_err(Error::internal)?)
    .bind(marks(&i.parts_groups))
    .bind(marks(&i.ticket_categories))
    .bind(i.create_time)
    .bind(i.update_time)
    .bind(i.revision)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn update(conn: &mut AnyConnection, i: &Institute, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE institutes SET kind = $1, record = $2, parts_groups = $3, ticket_categories = $4, \
         update_time = $5, revision = $6 WHERE code = $7 AND revision = $8",
    )
    .bind(&i.kind)
    .bind(serde_json::to_string(i).map_err(Error::internal)?)
    .bind(marks(&i.parts_groups))
    .bind(marks(&i.ticket_categories))
    .bind(i.update_time)
    .bind(i.revision)
    .bind(&i.code)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn get(conn: &mut AnyConnection, code: &str) -> Result<Option<Institute>, Error> {
    let row: Option<Row> =
        sqlx::query_as("SELECT record, revision FROM institutes WHERE code = $1")
            .bind(code)
            .fetch_optional(conn)
            .await?;
    row.map(from_row).transpose()
}

async fn list(
    conn: &mut AnyConnection,
    after: &str,
    parts_group: &str,
    category: &str,
    limit: i64,
) -> Result<Vec<Institute>, Error> {
    let like = |v: &str| {
        if v.is_empty() {
            String::new()
        } else {
            format!("%,{v},%")
        }
    };
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT record, revision FROM institutes WHERE code > $1 \
         AND ($2 = '' OR parts_groups LIKE $2) AND ($3 = '' OR ticket_categories LIKE $3) \
         ORDER BY code LIMIT $4",
    )
    .bind(after)
    .bind(like(parts_group))
    .bind(like(category))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(from_row).collect()
}

// ---- the seed --------------------------------------------------------------

/// (code, kind, Korean name, English name, parts groups, ticket categories)
type Seed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// The partners named when season 2 was announced (see shared/domain.md).
/// Groups and categories are a starting point for operators to correct.
pub const SEED: &[Seed] = &[
    (
        "KATECH",
        "RESEARCH_INSTITUTE",
        "한국자동차연구원",
        "Korea Automotive Technology Institute",
        &[
            "POWERTRAIN_ENGINE",
            "TRANSMISSION_DRIVELINE",
            "CHASSIS_SUSPENSION_BRAKES",
            "BODY_EXTERIOR",
            "BATTERY_ENERGY_STORAGE",
            "EMOTOR_INVERTER_POWER_ELECTRONICS",
            "THERMAL_MANAGEMENT",
            "HYDROGEN_FUEL_CELL",
        ],
        &[
            "TECHNOLOGY_DEVELOPMENT",
            "PARTS_GROUP_CONSULTING",
            "TESTING_CERTIFICATION",
        ],
    ),
    (
        "KETI",
        "RESEARCH_INSTITUTE",
        "한국전자기술연구원",
        "Korea Electronics Technology Institute",
        &[
            "ELECTRICAL_ELECTRONICS",
            "BATTERY_ENERGY_STORAGE",
            "EMOTOR_INVERTER_POWER_ELECTRONICS",
            "INFOTAINMENT_CONNECTIVITY",
        ],
        &[
            "TECHNOLOGY_DEVELOPMENT",
            "TESTING_CERTIFICATION",
            "AI_DIGITAL_TRANSFORMATION",
        ],
    ),
    (
        "ETRI",
        "RESEARCH_INSTITUTE",
        "한국전자통신연구원",
        "Electronics and Telecommunications Research Institute",
        &[
            "ADAS_SENSORS_LIDAR",
            "INFOTAINMENT_CONNECTIVITY",
            "ELECTRICAL_ELECTRONICS",
        ],
        &["TECHNOLOGY_DEVELOPMENT", "AI_DIGITAL_TRANSFORMATION"],
    ),
    (
        "KITECH",
        "RESEARCH_INSTITUTE",
        "한국생산기술연구원",
        "Korea Institute of Industrial Technology",
        &[
            "LIGHTWEIGHT_MATERIALS",
            "BODY_EXTERIOR",
            "INTERIOR_SEATS",
            "CHASSIS_SUSPENSION_BRAKES",
        ],
        &[
            "TECHNOLOGY_DEVELOPMENT",
            "PARTS_GROUP_CONSULTING",
            "BUSINESS_RESTRUCTURING",
        ],
    ),
    (
        "KOPTI",
        "RESEARCH_INSTITUTE",
        "한국광기술원",
        "Korea Photonics Technology Institute",
        &["ADAS_SENSORS_LIDAR", "ELECTRICAL_ELECTRONICS"],
        &["TECHNOLOGY_DEVELOPMENT", "TESTING_CERTIFICATION"],
    ),
    (
        "AICA",
        "RESEARCH_INSTITUTE",
        "인공지능산업융합사업단",
        "Artificial Intelligence Industry Cluster Agency",
        &["ADAS_SENSORS_LIDAR", "INFOTAINMENT_CONNECTIVITY"],
        &["AI_DIGITAL_TRANSFORMATION", "INFRASTRUCTURE_SHARING"],
    ),
    (
        "GGCPA",
        "RESEARCH_INSTITUTE",
        "광주그린카진흥원",
        "Gwangju Green Car Promotion Agency",
        &[
            "BATTERY_ENERGY_STORAGE",
            "EMOTOR_INVERTER_POWER_ELECTRONICS",
            "HYDROGEN_FUEL_CELL",
            "THERMAL_MANAGEMENT",
        ],
        &[
            "PARTS_GROUP_CONSULTING",
            "TESTING_CERTIFICATION",
            "INFRASTRUCTURE_SHARING",
            "BUSINESS_RESTRUCTURING",
        ],
    ),
    (
        "GJTP",
        "RESEARCH_INSTITUTE",
        "광주테크노파크",
        "Gwangju Technopark",
        &[],
        &[
            "BUSINESS_RESTRUCTURING",
            "FINANCING_ADVICE",
            "WORKFORCE_TRAINING",
            "SUPPLY_CHAIN_MARKET",
        ],
    ),
    (
        "HMCRND",
        "INDUSTRY_PARTNER",
        "현대자동차 연구개발본부",
        "Hyundai Motor Company R&D Division",
        &[],
        &[
            "TECHNOLOGY_DEVELOPMENT",
            "SUPPLY_CHAIN_MARKET",
            "INFRASTRUCTURE_SHARING",
        ],
    ),
    (
        "EPIC",
        "INDUSTRY_PARTNER",
        "이픽",
        "EPIC (engineering)",
        &[],
        &["TECHNOLOGY_DEVELOPMENT", "PARTS_GROUP_CONSULTING"],
    ),
];

/// Writes the seed entries that are not there yet, each with an
/// `institute.created` event by the system. Entries operators changed are
/// left as they are.
pub async fn seed(db: &db::Db) -> Result<usize, Error> {
    let system = &Principal {
        subject: "system:seed".into(),
        role: Role::Operator,
    };
    let added = &std::sync::atomic::AtomicUsize::new(0);
    write(db, None, |mut tx| async move {
        let now = tx.now();
        added.store(0, std::sync::atomic::Ordering::SeqCst);
        for (code, kind, ko, en, groups, categories) in SEED {
            let i = Institute {
                code: code.to_string(),
                kind: kind.to_string(),
                name_ko: ko.to_string(),
                name_en: en.to_string(),
                parts_groups: groups.iter().map(|s| s.to_string()).collect(),
                ticket_categories: categories.iter().map(|s| s.to_string()).collect(),
                contact: Contact::default(),
                create_time: now,
                update_time: now,
                revision: 1,
            };
            if insert(&mut tx, &i).await? {
                added.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                created_event(&mut tx, system, &i).await?;
            }
        }
        if added.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tx.unchanged();
        }
        Ok((tx, ()))
    })
    .await?;
    Ok(added.load(std::sync::atomic::Ordering::SeqCst))
}

async fn created_event(tx: &mut Tx, p: &Principal, i: &Institute) -> Result<(), Error> {
    tx.append(outbox::NewEvent {
        aggregate_type: "institute",
        aggregate_id: &i.code,
        event_type: "institute.created",
        actor: p,
        before: None,
        after: serde_json::to_value(i).ok(),
        changed_fields: FIELDS.iter().map(|(_, c)| c.to_string()).collect(),
        detail: None,
    })
    .await?;
    Ok(())
}

// ---- the API ---------------------------------------------------------------

/// The `InstituteDirectory` service.
#[derive(Clone, Debug)]
pub struct DirectoryService {
    db: db::Db,
}

impl DirectoryService {
    pub fn new(db: db::Db) -> Self {
        Self { db }
    }

    async fn create_once(
        &self,
        p: &Principal,
        idempotency: Option<&Idempotency>,
        new: &Institute,
    ) -> Result<pb::Institute, Error> {
        let written = write(&self.db, idempotency, |mut tx| async move {
            if !insert(&mut tx, new).await? {
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

    async fn update_once(
        &self,
        p: &Principal,
        input: &Institute,
        fields: &[&str],
        expected: Option<&str>,
    ) -> Result<pb::Institute, Error> {
        let written = write(&self.db, None, |mut tx| async move {
            let current = get(&mut tx, &input.code)
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
            if !update(&mut tx, &next, current.revision).await? {
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

#[tonic::async_trait]
impl InstituteDirectory for DirectoryService {
    #[tracing::instrument(skip_all, fields(institute.code = %request.get_ref().code))]
    async fn list_institute_events(
        &self,
        request: Request<pb::ListInstituteEventsRequest>,
    ) -> Result<Response<pb::ListInstituteEventsResponse>, Status> {
        respond(self.list_events(&request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_institutes(
        &self,
        request: Request<pb::ListInstitutesRequest>,
    ) -> Result<Response<pb::ListInstitutesResponse>, Status> {
        respond(
            async {
                Principal::from_request(&request)?;
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
                let mut rows = list(
                    &mut *self.db.conn().await?,
                    after.as_deref().unwrap_or(""),
                    group,
                    category,
                    size + 1,
                )
                .await?;
                let next_page_token =
                    pagination::finish(&mut rows, size, &fingerprint, |i| i.code.clone());
                Ok(pb::ListInstitutesResponse {
                    institutes: rows.iter().map(to_proto).collect(),
                    next_page_token,
                })
            }
            .await,
        )
    }

    #[tracing::instrument(skip_all, fields(institute.code = %request.get_ref().code))]
    async fn get_institute(
        &self,
        request: Request<pb::GetInstituteRequest>,
    ) -> Result<Response<pb::Institute>, Status> {
        respond(
            async {
                Principal::from_request(&request)?;
                let code = code(&request.get_ref().code).map_err(|e| Error::invalid("code", e))?;
                let mut conn = self.db.conn().await?;
                let i = get(&mut conn, &code)
                    .await?
                    .ok_or_else(|| not_found(&code))?;
                Ok(to_proto(&i))
            }
            .await,
        )
    }

    #[tracing::instrument(skip_all)]
    async fn create_institute(
        &self,
        request: Request<pb::CreateInstituteRequest>,
    ) -> Result<Response<pb::Institute>, Status> {
        respond(
            async {
                let p = Principal::from_request(&request)?;
                p.require_operator()?;
                let idempotency = Idempotency::from_request(&request, &p)?;
                let input = request
                    .get_ref()
                    .institute
                    .as_ref()
                    .ok_or_else(|| Error::invalid("institute", "is required"))?;
                let mut v = Violations::new();
                let code = v.check("institute.code", code(&input.code));
                let now = self.db.clock().now_micros();
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
                self.create_once(&p, idempotency.as_ref(), &new).await
            }
            .await,
        )
    }

    #[tracing::instrument(skip_all)]
    async fn update_institute(
        &self,
        request: Request<pb::UpdateInstituteRequest>,
    ) -> Result<Response<pb::Institute>, Status> {
        respond(
            async {
                let p = Principal::from_request(&request)?;
                p.require_operator()?;
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
                self.update_once(&p, &wanted, &fields, expected.as_deref())
                    .await
            }
            .await,
        )
    }
}

/// Restores an event's snapshot of an entry.
fn snapshot_to_proto(v: Option<serde_json::Value>) -> Option<pb::Institute> {
    v.and_then(|v| serde_json::from_value::<Institute>(v).ok())
        .map(|i| to_proto(&i))
}

impl DirectoryService {
    async fn list_events(
        &self,
        request: &Request<pb::ListInstituteEventsRequest>,
    ) -> Result<pb::ListInstituteEventsResponse, Error> {
        let p = Principal::from_request(request)?;
        p.require_operator()?;
        let req = request.get_ref();
        let code = code(&req.code).map_err(|e| Error::invalid("code", e))?;
        let mut conn = self.db.conn().await?;
        if get(&mut conn, &code).await?.is_none() {
            return Err(not_found(&code));
        }
        drop(conn);
        let (events, next_page_token) =
            outbox::page(&self.db, "institute", &code, req.page_size, &req.page_token).await?;
        Ok(pb::ListInstituteEventsResponse {
            events: events
                .into_iter()
                .map(|e| pb::InstituteEvent {
                    id: e.id,
                    code: e.aggregate_id,
                    r#type: e.event_type,
                    actor: e.actor,
                    actor_role: e.actor_role,
                    occur_time: Some(time::to_timestamp(e.occur_time)),
                    before: snapshot_to_proto(e.before),
                    after: snapshot_to_proto(e.after),
                    changed_fields: e.changed_fields,
                })
                .collect(),
            next_page_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_uses_known_names_only() {
        for (code_, kind, _, _, groups, categories) in SEED {
            assert_eq!(code(code_).as_deref(), Ok(*code_));
            assert!(pb::InstituteKind::from_str_name(kind).is_some(), "{kind}");
            for g in *groups {
                assert!(pb::PartsGroup::from_str_name(g).is_some(), "{g}");
            }
            for c in *categories {
                assert!(pb::TicketCategory::from_str_name(c).is_some(), "{c}");
            }
        }
        assert_eq!(
            SEED.iter().filter(|s| s.1 == "RESEARCH_INSTITUTE").count(),
            8
        );
    }

    #[test]
    fn codes_follow_the_role_rule() {
        assert_eq!(code(" KATECH ").unwrap(), "KATECH");
        for bad in ["katech", "K", "KAT-ECH", "1KATECH", "ABCDEFGHIJKLMNOPQ"] {
            assert!(code(bad).is_err(), "{bad}");
        }
    }
}
