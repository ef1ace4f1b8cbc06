//! The directory's SQL, and its seed: the partners named when season 2 was
//! announced (`seed.json`), written on every start where missing.

use std::sync::atomic::{AtomicUsize, Ordering};

use gearshift_platform::sql::Conditions;
use gearshift_platform::write::{Tx, write};
use gearshift_platform::{Error, Principal, Role, db, outbox};
use sqlx::AnyConnection;

use super::rules::{FIELDS, Institute, marks};

/// An entry as its row reads: the record as JSON, and its revision.
#[derive(sqlx::FromRow)]
struct Row {
    record: String,
    revision: i64,
}

impl TryFrom<Row> for Institute {
    type Error = Error;

    fn try_from(row: Row) -> Result<Institute, Error> {
        let mut i: Institute = serde_json::from_str(&row.record).map_err(Error::internal)?;
        i.revision = row.revision;
        Ok(i)
    }
}

/// Inserts `i` unless its code exists; returns whether it did.
pub async fn insert(conn: &mut AnyConnection, i: &Institute) -> Result<bool, Error> {
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

pub async fn update(conn: &mut AnyConnection, i: &Institute, expected: i64) -> Result<bool, Error> {
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

pub async fn get(conn: &mut AnyConnection, code: &str) -> Result<Option<Institute>, Error> {
    let row: Option<Row> =
        sqlx::query_as("SELECT record, revision FROM institutes WHERE code = $1")
            .bind(code)
            .fetch_optional(conn)
            .await?;
    row.map(Institute::try_from).transpose()
}

pub async fn list(
    conn: &mut AnyConnection,
    after: &str,
    parts_group: &str,
    category: &str,
    limit: i64,
) -> Result<Vec<Institute>, Error> {
    let mut c = Conditions::new();
    if !after.is_empty() {
        c.push("code > {}", [after]);
    }
    if !parts_group.is_empty() {
        c.push("parts_groups LIKE {}", [format!("%,{parts_group},%")]);
    }
    if !category.is_empty() {
        c.push("ticket_categories LIKE {}", [format!("%,{category},%")]);
    }
    let rows: Vec<Row> = c
        .fetch(conn, "record, revision", "institutes", "code", limit)
        .await?;
    rows.into_iter().map(Institute::try_from).collect()
}

/// The partners named when season 2 was announced (see shared/domain.md).
/// Groups and categories are a starting point for operators to correct.
pub fn seed_entries() -> Result<Vec<Institute>, Error> {
    serde_json::from_str(include_str!("seed.json")).map_err(Error::internal)
}

/// Writes the seed entries that are not there yet, each with an
/// `institute.created` event by the system. Entries operators changed are
/// left as they are.
pub async fn seed(db: &db::Db) -> Result<usize, Error> {
    let system = &Principal {
        subject: "system:seed".into(),
        role: Role::Operator,
    };
    let entries = &seed_entries()?;
    let added = &AtomicUsize::new(0);
    write(db, None, |mut tx| async move {
        let now = tx.now();
        added.store(0, Ordering::SeqCst);
        for entry in entries {
            let i = Institute {
                create_time: now,
                update_time: now,
                revision: 1,
                ..entry.clone()
            };
            if insert(&mut tx, &i).await? {
                added.fetch_add(1, Ordering::SeqCst);
                created_event(&mut tx, system, &i).await?;
            }
        }
        if added.load(Ordering::SeqCst) == 0 {
            tx.unchanged();
        }
        Ok((tx, ()))
    })
    .await?;
    Ok(added.load(Ordering::SeqCst))
}

pub async fn created_event(tx: &mut Tx, p: &Principal, i: &Institute) -> Result<(), Error> {
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

#[cfg(test)]
mod tests {
    use gearshift_proto::registry::v1 as pb;

    use super::*;
    use crate::institute::rules::code;

    #[test]
    fn the_seed_file_uses_known_names_only() {
        let entries = seed_entries().unwrap();
        for e in &entries {
            assert_eq!(code(&e.code).as_deref(), Ok(e.code.as_str()));
            assert!(
                pb::InstituteKind::from_str_name(&e.kind).is_some(),
                "{}",
                e.kind
            );
            for g in &e.parts_groups {
                assert!(pb::PartsGroup::from_str_name(g).is_some(), "{g}");
            }
            for c in &e.ticket_categories {
                assert!(pb::TicketCategory::from_str_name(c).is_some(), "{c}");
            }
        }
        let institutes = entries.iter().filter(|e| e.kind == "RESEARCH_INSTITUTE");
        assert_eq!(institutes.count(), 8);
    }
}
